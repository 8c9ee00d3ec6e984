-- Beneficiaries: the people a campaign pays. Their identities are the most dangerous data zbor
-- holds (the regime watching these groups would like a list of them), so every personal field is
-- sealed by the application (zbor-vault, AES-256-GCM under ZBOR_DATA_KEY) and never stored in
-- clear. A database dump or backup alone reveals nothing about who they are.
--
-- `sealed` is the JSON {name, contact, iban, bic, account, note}, sealed for the record
-- `beneficiary:{record_key}`. `record_key` is a random uuid chosen by the application before the
-- insert (the id is known only after it), and it never changes: a sealed value copied onto
-- another row does not open there.
--
-- What is in clear, and why:
-- - `method`: which rail pays (SEPA transfer, Stripe connected account, by hand); not personal.
-- - `masked`: the last four characters of the IBAN (`DE89 **** **** **** 3000`) or of the
--   Stripe account id (`acct_****2C3D`), null for manual payouts. Treasurers need it to tell
--   beneficiaries apart in lists and approvals without revealing anything; four characters of
--   an account number identify nobody (banks print them on receipts for the same reason).
-- - `iban_index`: a keyed blind index of the IBAN (HMAC under a key derived from ZBOR_DATA_KEY).
--   Equal IBANs have equal indexes, so zbor can flag the same account on two beneficiaries
--   without decrypting anything; without the key no list of IBANs can be hashed against it.
-- - `payee_fingerprint`: a keyed blind index of the payout destination (IBAN and BIC, Stripe
--   account, or this record for manual payouts). Approvals of payout batches sign it, so a
--   destination changed after approval is noticed. Same keyed construction as the IBAN index.
create table beneficiaries (
    id                bigint generated always as identity primary key,
    campaign_id       bigint not null references campaigns (id),
    method            text not null check (method in ('sepa', 'stripe_connect', 'manual')),
    record_key        uuid not null unique,
    sealed            bytea not null check (length(sealed) between 29 and 65536),
    iban_index        bytea check (length(iban_index) = 32),
    masked            text check (length(masked) <= 40),
    payee_fingerprint bytea not null check (length(payee_fingerprint) = 32),
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    -- an IBAN index exactly for SEPA; a masked account for every method but manual
    check ((method = 'sepa') = (iban_index is not null)),
    check ((method = 'manual') = (masked is null))
);

create index beneficiaries_campaign on beneficiaries (campaign_id, id);

-- Not unique, on purpose: the same IBAN on two beneficiaries is flagged for the treasurers, not
-- refused. Members of one family are often paid into one account (a prisoner's spouse receives
-- for both), and a refusal would push coordinators to work around zbor. Duplicates are listed
-- with the beneficiary and in `duplicates`, so paying one account twice is a visible decision.
create index beneficiaries_iban_index on beneficiaries (iban_index) where iban_index is not null;
