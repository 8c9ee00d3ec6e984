-- Payout batches and their approvals: no one moves money alone.
--
-- A treasurer creates a batch (e.g. 123 × EUR 1,000). Each item snapshots its beneficiary's
-- payee fingerprint; the batch's content hash covers the campaign, currency, and every item's
-- beneficiary, amount and fingerprint. An approval signs that hash. Changing the items, or a
-- beneficiary's payout destination, changes the hash and voids every approval given so far.
-- When the campaign's required number of distinct treasurers (never the creator) have approved,
-- one database transaction holds each payout's amount in the ledger, marks the payouts approved
-- and writes their jobs to the outbox.

alter table campaigns
    add column payout_approvals_required integer not null default 2 check (payout_approvals_required between 2 and 10);

create type payout_batch_status as enum ('awaiting_approval', 'approved', 'cancelled');
create type payout_status as enum ('awaiting_approval', 'approved', 'sending', 'paid', 'failed', 'cancelled');

create table payout_batches (
    id           bigint generated always as identity primary key,
    campaign_id  bigint not null references campaigns (id),
    currency     char(3) not null references ledger_currencies (code),
    created_by   bigint not null references users (id),
    content_hash bytea not null check (length(content_hash) = 32),
    status       payout_batch_status not null default 'awaiting_approval',
    created_at   timestamptz not null default now(),
    approved_at  timestamptz,
    check ((status = 'approved') = (approved_at is not null) or status = 'cancelled')
);

create table payouts (
    id                bigint generated always as identity primary key,
    batch_id          bigint not null references payout_batches (id),
    beneficiary_id    bigint not null references beneficiaries (id),
    amount            numeric not null check (amount > 0 and amount < 1e30),
    payee_fingerprint bytea not null check (length(payee_fingerprint) = 32),
    status            payout_status not null default 'awaiting_approval',
    -- the ledger hold from approval until paid (posted) or failed/cancelled (voided)
    hold_id           uuid unique references ledger_holds (id),
    attempts          integer not null default 0,
    next_attempt_at   timestamptz,
    last_error        text,
    rail_reference    text,
    paid_at           timestamptz,
    unique (batch_id, beneficiary_id),
    check ((status in ('awaiting_approval', 'cancelled')) or hold_id is not null)
);
create index payouts_unfinished on payouts (next_attempt_at) where status in ('approved', 'sending');

create table payout_approvals (
    batch_id     bigint not null references payout_batches (id),
    user_id      bigint not null references users (id),
    -- the content hash this approval signed
    content_hash bytea not null check (length(content_hash) = 32),
    approved_at  timestamptz not null default now(),
    primary key (batch_id, user_id)
);

-- The creator of a batch never approves it, whatever the application does.
create function payout_approval_not_by_creator() returns trigger language plpgsql as $$
begin
    if exists (select 1 from payout_batches b where b.id = new.batch_id and b.created_by = new.user_id) then
        raise exception 'the creator of payout batch % cannot approve it', new.batch_id
            using errcode = 'check_violation', constraint = 'payout_four_eyes';
    end if;
    return new;
end $$;
create trigger payout_approvals_not_by_creator before insert or update on payout_approvals
    for each row execute function payout_approval_not_by_creator();
