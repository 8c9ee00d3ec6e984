-- The money truth: Stripe's payouts to the organisation's bank, the bank's statements, and the
-- reconciliation runs that compare the ledger with Stripe (crates/reconcile).

-- A bank statement (camt.053) or notification (camt.054) imported once. The XML itself is not
-- kept: it names beneficiaries and their accounts. Importing the same file again finds it by its
-- digest and changes nothing.
create table bank_statements (
    id            bigint generated always as identity primary key,
    kind          text not null check (kind in ('camt.053', 'camt.054')),
    message_id    text not null check (length(message_id) between 1 and 140),
    statement_id  text not null check (length(statement_id) between 1 and 140),
    sha256        bytea not null unique check (length(sha256) = 32),
    -- who imported it: `user:42` or `cli` (the audit log has the rest)
    imported_by   text not null check (length(imported_by) between 1 and 100),
    imported_at   timestamptz not null default now(),
    -- the same message under another file digest (re-encoded, whitespace) is the same statement
    unique (kind, message_id, statement_id)
);

-- Stripe's payouts of the platform balance to the organisation's bank (`payout.paid`,
-- `payout.failed`), booked once each: stripe:balance → bank when paid, back when failed.
create table stripe_payouts (
    id                    text primary key check (id ~ '^po_[A-Za-z0-9_]+$'),
    currency              char(3) not null references ledger_currencies (code),
    amount                numeric not null check (amount > 0 and amount < 1e30),
    status                text not null check (status in ('paid', 'failed')),
    arrival_date          date,
    failure_code          text check (failure_code ~ '^[a-z0-9_]{1,64}$'),
    paid_transaction_id   uuid not null references ledger_transactions (id),
    failed_transaction_id uuid references ledger_transactions (id),
    -- the payout's contents (every balance transaction it settled) reconciled with the ledger
    reconciled_at         timestamptz,
    reconciliation_differences integer check (reconciliation_differences >= 0),
    created_at            timestamptz not null default now(),
    updated_at            timestamptz not null default now(),
    check ((status = 'failed') = (failed_transaction_id is not null)),
    check ((reconciled_at is null) = (reconciliation_differences is null))
);

-- Each line of an imported statement and what became of it. Lines zbor does not recognise are
-- kept for treasurers, but only by amount, date and the bank's reference: a stranger's
-- end-to-end id or remittance text is never stored.
create table bank_statement_lines (
    statement_id        bigint not null references bank_statements (id),
    entry_index         integer not null check (entry_index >= 0),
    transaction_index   integer not null check (transaction_index >= 0),
    direction           text not null check (direction in ('credit', 'debit')),
    reversal            boolean not null,
    currency            char(3) not null check (currency ~ '^[A-Z]{3}$'),
    amount              numeric not null check (amount > 0 and amount < 1e30),
    booking_date        date,
    servicer_reference  text check (length(servicer_reference) <= 140),
    -- only zbor's own ids (ZBOR-P{payout})
    end_to_end_id       text check (end_to_end_id ~ '^ZBOR-P[0-9]{1,18}$'),
    return_reason       text check (return_reason ~ '^[A-Z0-9]{4}$'),
    outcome             text not null check (outcome in
                            ('paid', 'returned', 'already_recorded', 'stripe_payout', 'unmatched')),
    -- zbor's words on why a line matched nothing (never the bank's text)
    reason              text check (length(reason) <= 500),
    payout_id           bigint references payouts (id),
    stripe_payout_id    text references stripe_payouts (id),
    primary key (statement_id, entry_index, transaction_index),
    check ((outcome = 'unmatched') = (reason is not null)),
    check (outcome not in ('paid', 'returned') or payout_id is not null),
    check ((outcome = 'stripe_payout') = (stripe_payout_id is not null))
);
-- A Stripe payout arrives at the bank once.
create unique index bank_statement_lines_stripe_payout on bank_statement_lines (stripe_payout_id)
    where stripe_payout_id is not null;
create index bank_statement_lines_unmatched on bank_statement_lines (statement_id) where outcome = 'unmatched';

-- A reconciliation of the ledger with Stripe's balance transactions for a period: the daily task's
-- and every treasurer's run. The report holds ids and amounts only.
create table reconciliation_runs (
    id            bigint generated always as identity primary key,
    source        text not null check (source in ('stripe')),
    period_from   timestamptz not null,
    period_to     timestamptz not null check (period_to > period_from),
    -- `payout`: the contents of one Stripe payout, reconciled once it was paid
    trigger       text not null check (trigger in ('daily', 'api', 'cli', 'payout')),
    differences   integer not null check (differences >= 0),
    report        jsonb not null check (jsonb_typeof(report) = 'object'),
    ran_at        timestamptz not null default now()
);
create index reconciliation_runs_latest on reconciliation_runs (source, ran_at desc);
-- the daily task runs each day once, whichever instance gets there first
create unique index reconciliation_runs_daily on reconciliation_runs (source, period_from)
    where trigger = 'daily';
