-- Free text of third parties and of people on payouts is sealed (security review, issue 9,
-- section 7): Stripe's error messages (they can quote the connected account `acct_…`), a bank's
-- return reason as a treasurer typed it, and the reason a treasurer gave for pausing payouts.
--
-- payouts:
-- - `last_error`: from now on zbor's own words only, in clear ("Stripe refused the transfer",
--   "returned by the bank", "the beneficiary's destination is not the one the treasurers
--   approved…"): they name no one.
-- - `last_error_code`: the machine code in clear: Stripe's HTTP status, error type and code
--   (`http_400:invalid_request_error:account_invalid`), a SEPA return reason (`AC04`), or zbor's
--   (`destination_not_approved`, `unavailable`).
-- - `last_error_sealed`: the rest, as the bank, Stripe or the treasurer worded it, sealed by the
--   application (zbor-vault) for the record `payout:{id}:last_error`. Shown, decrypted, where the
--   API showed `last_error` before; never logged.
-- payout_switch: `reason_sealed`, sealed for the record `payout-switch:reason`.
--
-- What was stored before this migration moves to `last_error_legacy` and `reason_legacy`, still
-- in clear: sealing it needs ZBOR_DATA_KEY, which the database does not have. The application
-- shows it as before until `zbor vault rotate` seals it into the sealed columns and empties the
-- legacy ones (run it once after upgrading; docs/KEYS.md). New errors and reasons clear them too.
alter table payouts rename column last_error to last_error_legacy;
alter table payouts
    add column last_error        text,
    add column last_error_code   text check (last_error_code ~ '^[A-Za-z0-9_.:-]{1,160}$'),
    add column last_error_sealed bytea;

alter table payout_switch rename column reason to reason_legacy;
alter table payout_switch add column reason_sealed bytea;
