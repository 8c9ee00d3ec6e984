-- Staff accounts that survive a stolen password or a seized phone.
--
-- 1. Powers need two people. Granting the treasurer or admin role, changing anyone's role,
--    resetting someone's password or second factor: one admin requests it (a staff request), a
--    second admin or treasurer confirms it with a fresh one-time code. Nobody requests or confirms
--    a change of their own account. A user created with a money role holds it only once it is
--    confirmed (`role_confirmed_at`).
-- 2. Access can be cut off within seconds: disabled users, revoked and expiring API tokens,
--    sessions that end after an idle time and that their owner can list and end.
-- 3. Failed logins are counted per account and window; the audit log gets one entry per account
--    and window, not one per guess.

alter table users add column role_confirmed_at timestamptz;
-- users from before this migration (and `zbor user add` on the host) hold their role
update users set role_confirmed_at = created_at;

create type staff_request_kind as enum ('role', 'password_reset', 'second_factor_reset');

create table staff_requests (
    id           bigint generated always as identity primary key,
    kind         staff_request_kind not null,
    user_id      bigint not null references users (id),
    -- the role to grant (kind 'role' only)
    role         user_role,
    -- null: the bootstrap token, while no admin with a second factor exists
    requested_by bigint references users (id),
    requested_at timestamptz not null default now(),
    confirmed_by bigint references users (id),
    confirmed_at timestamptz,
    cancelled_by bigint references users (id),
    cancelled_at timestamptz,
    check ((kind = 'role') = (role is not null)),
    constraint staff_request_not_own
        check (requested_by is distinct from user_id and confirmed_by is distinct from user_id),
    constraint staff_request_four_eyes
        check (confirmed_by is null or confirmed_by is distinct from requested_by),
    check ((confirmed_by is null) = (confirmed_at is null)),
    check (confirmed_at is null or cancelled_at is null)
);
-- one open request per account and kind: a second one would only confuse the confirmer
create unique index staff_requests_one_open on staff_requests (user_id, kind)
    where confirmed_at is null and cancelled_at is null;

-- A role changes (or a new user's role starts to count) only together with a role request
-- confirmed in the same transaction, or on the host (`zbor user role`, the break-glass path,
-- which sets zbor.break_glass for its transaction).
create function user_role_change_confirmed() returns trigger language plpgsql as $$
begin
    if (new.role is distinct from old.role
        or (old.role_confirmed_at is null and new.role_confirmed_at is not null))
       and coalesce(current_setting('zbor.break_glass', true), '') <> 'on'
       and not exists (select 1 from staff_requests r
                       where r.user_id = new.id and r.kind = 'role' and r.role = new.role
                         and r.confirmed_at = now()) then
        raise exception 'user %: a role changes only with a second person''s confirmation', new.id
            using errcode = 'check_violation', constraint = 'user_role_four_eyes';
    end if;
    return new;
end $$;
create trigger users_role_change_confirmed before update on users
    for each row execute function user_role_change_confirmed();

-- Sessions get an id their owner can see (the token itself is never shown again) and the time
-- they were last used, for the idle timeout.
alter table user_sessions
    add column id           bigint generated always as identity,
    add column last_seen_at timestamptz not null default now();
create unique index user_sessions_id on user_sessions (id);

-- API tokens expire (default 90 days from creation).
alter table api_tokens add column expires_at timestamptz;
update api_tokens set expires_at = created_at + interval '90 days';
alter table api_tokens alter column expires_at set not null;
alter table api_tokens add check (expires_at > created_at);

-- Failed logins per account (`user:42`, or `unknown` for emails without an account) and
-- 15-minute window: the audit log records the first of each window and the lock.
create table login_failure_windows (
    subject      text not null check (length(subject) <= 64),
    window_start timestamptz not null,
    failures     integer not null check (failures > 0),
    primary key (subject, window_start)
);
