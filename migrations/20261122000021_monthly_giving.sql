-- Monthly giving and receipt references.
--
-- A monthly donor's Stripe Subscription is kept here without who the donor is: no customer id,
-- no email, no name. Each paid invoice of it is a donation (keyed by the invoice id, so it books
-- once, like a Checkout Session's payment); refunds and disputes find it by its PaymentIntent.

create type subscription_status as enum ('active', 'past_due', 'canceled');

create table subscriptions (
    stripe_subscription_id text primary key check (stripe_subscription_id ~ '^sub_[A-Za-z0-9_]+$'),
    campaign_id            bigint not null references campaigns (id),
    currency               char(3) not null references ledger_currencies (code),
    -- what the donor gives each interval
    amount                 numeric not null check (amount > 0 and amount < 1e30),
    "interval"             text not null check ("interval" in ('month')),
    status                 subscription_status not null,
    -- Stripe's time of the event that set the status: an older event never overwrites a newer
    -- one (Stripe does not promise order); `canceled` is final
    status_at              timestamptz not null,
    -- SHA-256 of the cancel token the donor got at checkout; the token itself is never stored
    cancel_token_hash      bytea unique check (octet_length(cancel_token_hash) = 32),
    -- the receipt reference of the Checkout Session that started it (null until that event)
    receipt_reference      text check (length(receipt_reference) <= 32),
    started_at             timestamptz not null,
    canceled_at            timestamptz,
    check ((status = 'canceled') = (canceled_at is not null))
);
create index subscriptions_campaign_active on subscriptions (campaign_id) where status = 'active';

-- A donation is paid through a Checkout Session (`cs_…`, one-off) or an Invoice (`in_…`, a
-- subscription's payment). The column keeps its name: it is the key Stripe's events book under.
alter table donations drop constraint donations_stripe_session_id_check;
alter table donations
    add constraint donations_paid_through check (stripe_session_id ~ '^(cs|in)_[A-Za-z0-9_]+$'),
    add column stripe_subscription_id text references subscriptions (stripe_subscription_id),
    add check ((stripe_subscription_id is not null) = (stripe_session_id like 'in\_%')),
    -- `zbor_intake::receipt::reference` of the Checkout Session the donor came back from, so an
    -- organisation finds a donation from the reference a donor quotes; a subscription's invoices
    -- all carry its first session's reference (null while that session's event has not arrived)
    add column receipt_reference text check (length(receipt_reference) <= 32);
create index donations_receipt_reference on donations (receipt_reference) where receipt_reference is not null;
create index donations_subscription on donations (stripe_subscription_id) where stripe_subscription_id is not null;
