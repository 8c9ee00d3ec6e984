-- The outbox: work decided in a database transaction is written here in that same transaction,
-- then relayed into a Redis Stream. Redis may lose it (flush, restart); this table may not, so a
-- sweeper can always publish again what is not finished. Consumers are idempotent by job key.
create table outbox (
    id           bigint generated always as identity primary key,
    stream       text not null check (stream ~ '^[a-z][a-z0-9_-]{0,62}$'),
    -- the job's identity, e.g. `payout:42`: what a consumer deduplicates on
    job_key      text not null check (length(job_key) between 1 and 200),
    payload      jsonb not null default '{}',
    created_at   timestamptz not null default now(),
    published_at timestamptz
);
create index outbox_unpublished on outbox (id) where published_at is null;
