-- After approval: the rails people run (SEPA files, cash), what treasurers do with a payout that
-- failed (retry or cancel), the pause switch, and what Stripe tells us about transfers later.
--
-- States of a payout (payout_status):
--   awaiting_approval → approved → sending → paid            (Stripe Connect, by workers)
--   awaiting_approval → approved → sent → paid               (SEPA: in a file given to the bank,
--                                                             then confirmed by a treasurer)
--   awaiting_approval → approved → paid                      (manual: a treasurer records it)
--   approved | sending | sent → failed → approved (retry) | cancelled (the hold is voided)
--   paid → reversed                                          (Stripe reversed the whole transfer)
-- The new values are added here and used only by later statements and the application: an enum
-- value added in a transaction cannot be used in that same transaction.
alter type payout_status add value if not exists 'sent' after 'sending';
alter type payout_status add value if not exists 'reversed';

-- A SEPA credit transfer file (pain.001.001.09) made for a batch's SEPA payouts. The XML is not
-- stored (it holds names and IBANs in clear): it is made again, identically, from these rows and
-- the sealed beneficiaries whenever a treasurer downloads it.
create table payout_sepa_files (
    id                       bigint generated always as identity primary key,
    batch_id                 bigint not null references payout_batches (id),
    -- GrpHdr/MsgId and PmtInf/PmtInfId: unique per debtor for the bank's duplicate checks
    message_id               text not null unique check (message_id ~ '^[A-Za-z0-9-]{1,35}$'),
    created_by               bigint not null references users (id),
    created_at               timestamptz not null default now(),
    requested_execution_date date not null,
    transactions             integer not null check (transactions > 0),
    control_sum              numeric not null check (control_sum > 0),
    -- set when a treasurer confirms the bank executed the whole file
    confirmed_at             timestamptz
);

-- Which payouts a file pays: fixed when the file is made, so downloading it again gives the
-- same file even after one of its payouts was returned and went into a later file.
create table payout_sepa_file_items (
    file_id   bigint not null references payout_sepa_files (id),
    payout_id bigint not null references payouts (id),
    primary key (file_id, payout_id)
);

alter table payouts
    -- the latest file the payout is in
    add column sepa_file_id   bigint references payout_sepa_files (id),
    add column sent_at        timestamptz,
    -- a treasurer's note on a manual payout or a confirmation, sealed (zbor-vault, record
    -- "payout:{id}:note"): it may say where and to whom cash was handed
    add column note_sealed    bytea,
    add column finished_by    bigint references users (id),
    -- Stripe's running total of this transfer's reversals, booked back to the campaign
    add column reversed_amount numeric not null default 0 check (reversed_amount >= 0 and reversed_amount <= amount);
create index payouts_by_sepa_file on payouts (sepa_file_id) where sepa_file_id is not null;
create index payouts_by_rail_reference on payouts (rail_reference) where rail_reference is not null;

-- The pause switch: one row. Any treasurer (or admin) stops every payout at once; resuming needs
-- two distinct treasurers (payout_resume_votes), so one person cannot restart money flowing.
create table payout_switch (
    id         boolean primary key default true check (id),
    paused     boolean not null default false,
    changed_by bigint references users (id),
    changed_at timestamptz not null default now(),
    reason     text check (length(reason) <= 500)
);
insert into payout_switch default values;

create table payout_resume_votes (
    user_id  bigint primary key references users (id),
    voted_at timestamptz not null default now()
);
