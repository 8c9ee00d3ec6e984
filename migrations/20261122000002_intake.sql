-- Intake: campaigns, the Stripe events received for them, and the donations booked from those
-- events. Money itself lives only in the ledger; these tables say what a booking came from.

create type campaign_status as enum ('open', 'closed');

create table campaigns (
    id                     bigint generated always as identity primary key,
    slug                   text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    title                  text not null check (length(title) between 1 and 200),
    description            text not null default '' check (length(description) <= 5000),
    currency               char(3) not null references ledger_currencies (code),
    goal                   numeric not null check (goal > 0 and goal < 1e30),
    -- e.g. EUR 1,000 per released prisoner: beneficiaries funded = floor(net / this)
    amount_per_beneficiary numeric check (amount_per_beneficiary > 0 and amount_per_beneficiary < 1e30),
    suggested_amounts      numeric[] not null default '{}' check (cardinality(suggested_amounts) <= 8),
    status                 campaign_status not null default 'open',
    -- the campaign's funds: a liability (owed to beneficiaries) that may never go below zero
    ledger_account_id      bigint not null unique references ledger_accounts (id),
    stripe_payment_link_id text unique,
    created_at             timestamptz not null default now(),
    updated_at             timestamptz not null default now()
);

-- Every verified Stripe event, stored once (a 2xx to Stripe means it is in here, committed),
-- whatever happens to it afterwards. `payload` is Stripe's JSON as received; personal fields
-- inside it are removed before storing (see zbor-intake's redaction).
create type stripe_event_outcome as enum ('booked', 'ignored', 'waiting', 'failed', 'needs_review');

create table stripe_events (
    id          text primary key check (id ~ '^evt_[A-Za-z0-9_]+$'),
    type        text not null check (length(type) <= 100),
    created     timestamptz not null,            -- Stripe's own event time
    received_at timestamptz not null default now(),
    payload     jsonb not null,
    outcome     stripe_event_outcome not null,
    -- why an event needs a person to look at it (unknown campaign, amount mismatch, ...)
    review_reason text
);
create index stripe_events_needs_review on stripe_events (received_at) where outcome = 'needs_review';

create type donation_status as enum ('pending', 'paid', 'failed');

-- One row per Checkout Session: the key that makes a payment book exactly once, however many
-- events (and in whatever order) Stripe delivers for it.
create table donations (
    stripe_session_id      text primary key check (stripe_session_id ~ '^cs_[A-Za-z0-9_]+$'),
    campaign_id            bigint not null references campaigns (id),
    currency               char(3) not null references ledger_currencies (code),
    amount                 numeric not null check (amount > 0 and amount < 1e30),
    -- filled by refund and fee bookings; totals read them
    -- money taken back from the campaign: refunds (Stripe's running total) and disputes
    -- withdrawn and not won back
    refunded               numeric not null default 0 check (refunded >= 0),
    disputed               numeric not null default 0 check (disputed >= 0),
    fee                    numeric not null default 0 check (fee >= 0 and fee < 1e30),
    status                 donation_status not null,
    stripe_payment_intent  text,
    ledger_transaction_id  uuid references ledger_transactions (id),
    created_at             timestamptz not null default now(),
    paid_at                timestamptz,
    check ((status = 'paid') = (ledger_transaction_id is not null and paid_at is not null)),
    check (refunded + disputed <= amount)
);
create index donations_campaign_paid on donations (campaign_id, paid_at) where status = 'paid';

-- The highest cumulative refund Stripe has reported per payment (charge.refunded carries the
-- running total). Kept apart from donations so a refund that arrives before its donation's
-- checkout event is applied when the donation is booked: any order gives the same ledger.
create table charge_refunds (
    stripe_payment_intent text primary key,
    currency              char(3) not null references ledger_currencies (code),
    refunded              numeric not null check (refunded >= 0 and refunded < 1e30),
    updated_at            timestamptz not null default now()
);

-- one payment per session: a refund or dispute maps to exactly one donation
create unique index donations_payment_intent on donations (stripe_payment_intent);
