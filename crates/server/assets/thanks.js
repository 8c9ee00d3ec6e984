// The thank-you page: after a monthly checkout, the donor's cancel link once more, from this
// tab's storage (give.js put it there), and only on the thank-you page of that very checkout:
// a link kept from a monthly checkout abandoned for a one-off gift belongs to no gift.
//
// It is left in storage rather than cleared once shown: reloading this page or switching its
// language would otherwise lose it before the donor copied it. sessionStorage is this tab's
// alone and is gone when the tab closes.
"use strict";
(function () {
  const { t, copy } = window.zborPage;
  const session = new URLSearchParams(window.location.search).get("session_id");
  let kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem("zbor-monthly-link"));
  } catch (e) {
    return; // no storage, or not ours: nothing to show
  }
  if (!session || !kept || kept.session !== session || typeof kept.link !== "string") return;
  document.getElementById("cancel-link").value = kept.link;
  const copied = document.getElementById("cancel-link-copied");
  document.getElementById("copy-cancel-link").addEventListener("click", () => copy(kept.link, copied, t("give-monthly-link-copied")));
  document.getElementById("monthly-link").hidden = false;
})();
