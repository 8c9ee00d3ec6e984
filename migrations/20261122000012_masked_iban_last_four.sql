-- IBAN masks show the last four characters only (security review, issue 9, section 7).
--
-- `beneficiaries.masked` of a SEPA beneficiary held the country and check digits as well
-- (`DE89 **** **** **** 3000`). Treasurers tell beneficiaries apart by the last four characters;
-- the country says where a beneficiary banks, and the rest of the mask adds nothing but a hint
-- for guessing the account. The application (Iban::masked) now writes `**** 3000`; this rewrites
-- the masks stored before, from their own last four characters (the IBAN's last four), so old
-- and new rows look alike and no list keeps showing the old form. The sealed IBAN is not needed
-- and not touched. Stripe account masks (`acct_****2C3D`) stay as they are.
update beneficiaries
set masked = '**** ' || right(masked, 4)
where method = 'sepa'
  and masked is not null
  and masked is distinct from '**** ' || right(masked, 4);
