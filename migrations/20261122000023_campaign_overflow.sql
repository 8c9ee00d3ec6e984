-- A campaign that fills, then overflows (README "A cohort that fills").
--
-- A campaign with an overflow campaign is capped at its goal: once what it kept (raised net of
-- refunds and disputes) reaches the goal, `funded_at` is set once, new donors are sent to the
-- overflow campaign and its Payment Link is switched at Stripe (`payment_link_switched_at` records
-- that the switch was made, so a node that died between the two retries it). Gifts already in
-- flight are booked where they were given and shown as over the cap; a surplus transfer moves
-- money on to the overflow campaign in the ledger, by two people above a threshold.
alter table campaigns
    add column overflow_campaign_id bigint references campaigns (id),
    add column funded_at timestamptz,
    add column payment_link_switched_at timestamptz,
    add constraint campaigns_overflow_not_itself check (overflow_campaign_id <> id),
    add constraint campaigns_switch_after_funded check (payment_link_switched_at is null or funded_at is not null);

-- the watcher's question every second: which capped campaigns are not funded yet
create index campaigns_capped_unfunded on campaigns (id)
    where overflow_campaign_id is not null and funded_at is null;

create type surplus_transfer_state as enum ('awaiting_approval', 'done', 'cancelled');

create table surplus_transfers (
    id                 bigint generated always as identity primary key,
    from_campaign_id   bigint not null references campaigns (id),
    to_campaign_id     bigint not null references campaigns (id),
    amount             numeric not null check (amount > 0 and amount < 1e30),
    currency           char(3) not null references ledger_currencies (code),
    state              surplus_transfer_state not null,
    -- who asked and who approved: users, never the same one (four eyes above the threshold)
    requested_by       bigint references users (id),
    approved_by        bigint references users (id),
    -- the ledger transaction that moved the money, once done
    ledger_transaction_id uuid unique,
    requested_at       timestamptz not null default now(),
    decided_at         timestamptz,
    check (from_campaign_id <> to_campaign_id),
    check (approved_by is null or approved_by is distinct from requested_by),
    check ((state = 'done') = (ledger_transaction_id is not null)),
    check ((state = 'awaiting_approval') = (decided_at is null))
);

create index surplus_transfers_from on surplus_transfers (from_campaign_id, requested_at desc);
