-- Checkout links, Stripe's fees, and the donors who chose to be named.

-- The campaign's Payment Link: created at Stripe when the campaign opens, so a burst of donors
-- needs no API call of ours. Its address is what coordinators share.
alter table campaigns
    add column stripe_payment_link_url text check (length(stripe_payment_link_url) <= 2000),
    add check ((stripe_payment_link_id is null) = (stripe_payment_link_url is null));

-- Stripe's fee per payment, from the charge's balance transaction. A charge event names the
-- balance transaction; its fee is fetched from Stripe's API afterwards (the event does not carry
-- it), and booked against the donation once both are known, in whichever order they arrive.
create table charge_fees (
    stripe_payment_intent text primary key,
    balance_transaction   text not null check (balance_transaction ~ '^txn_[A-Za-z0-9_]+$'),
    currency              char(3) references ledger_currencies (code),
    -- null until fetched from Stripe
    fee                   numeric check (fee >= 0 and fee < 1e30),
    fetch_attempts        integer not null default 0,
    next_fetch_at         timestamptz not null default now(),
    last_error            text,
    created_at            timestamptz not null default now(),
    check ((fee is null) = (currency is null))
);
create index charge_fees_to_fetch on charge_fees (next_fetch_at) where fee is null;

alter table donations
    -- the ledger transaction that charged Stripe's fee to the campaign
    add column fee_transaction_id uuid references ledger_transactions (id),
    -- what the donor chose at checkout; null when they came through a Payment Link (anonymous)
    add column anonymous boolean,
    -- name and email of a donor who chose not to be anonymous, AES-256-GCM sealed by the app
    -- (zbor-vault) for this donation's row; never stored in clear, never for anonymous donors
    add column donor_sealed bytea,
    add check (donor_sealed is null or anonymous = false),
    add check (fee = 0 or fee_transaction_id is not null);
