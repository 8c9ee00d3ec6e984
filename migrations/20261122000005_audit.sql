-- The audit log: every privileged action (login, approval, reveal of personal data, pause,
-- beneficiary change, role change), with who did it and when, in a hash chain. zbor-audit appends
-- (under an advisory lock, inside the caller's transaction) and `zbor audit verify` recomputes it.
--
-- `details` never holds personal data: ids, counts, reasons from a fixed list, never names,
-- emails, bank details or free text typed by a person. The log is kept forever and cannot be
-- edited, so anything personal written here could never be erased.
--
-- `hash` = sha256(prev_hash || canonical encoding of at, actor, action, subject, details), computed
-- by zbor-audit; `seq` is not hashed (identity values have gaps after rollbacks), the chain order
-- is given by prev_hash. `at` is set by zbor-audit from clock_timestamp() (microseconds), so it
-- has no default: a row written by hand without it could not be verified anyway.

create table audit_log (
    seq       bigint generated always as identity primary key,
    at        timestamptz not null,
    -- who: `user:42`, `token:7`, `cli`, `system`
    actor     text not null check (length(actor) <= 64 and actor ~ '^[a-z_]+(:[A-Za-z0-9._-]+)?$'),
    -- what: `login`, `payout_batch.approve`, `beneficiary.reveal`, `user.role_change`
    action    text not null check (length(action) <= 64 and action ~ '^[a-z_]+(\.[a-z_]+)*$'),
    -- on what: `payout_batch:12`, `campaign:release-123`
    subject   text check (length(subject) <= 128 and subject ~ '^[a-z_]+(:[A-Za-z0-9._-]+)?$'),
    details   jsonb not null default '{}' check (jsonb_typeof(details) = 'object'),
    -- unique: two entries can never follow the same one, so the chain cannot fork
    prev_hash bytea not null unique check (length(prev_hash) = 32),
    hash      bytea not null unique check (length(hash) = 32)
);

create function audit_refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception 'audit: % on % is not allowed; the audit log is append-only', tg_op, tg_table_name
        using errcode = 'insufficient_privilege', constraint = 'audit_append_only';
end
$$;

create trigger audit_log_append_only before update or delete on audit_log
    for each row execute function audit_refuse_change();
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_refuse_change();
