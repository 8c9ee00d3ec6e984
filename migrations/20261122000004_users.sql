-- People who run zbor, their sessions and API tokens. Donors and beneficiaries are not users.
--
-- Staff are exposed to the same adversary as donors, so even their emails are not kept in clear:
-- `email_index` (a keyed blind index, see zbor-vault) finds a user at login, `email_sealed`
-- holds the address for the app to show.

create type user_role as enum ('admin', 'treasurer', 'coordinator');

create table users (
    id               bigint generated always as identity primary key,
    email_index      bytea not null unique check (length(email_index) = 32),
    email_sealed     bytea not null,
    role             user_role not null,
    -- argon2id, PHC string format (parameters and salt inside)
    password_hash    text not null check (password_hash like '$argon2id$%'),
    -- TOTP secret, sealed for this user; confirmed once a first code matched
    totp_sealed      bytea,
    totp_enrolled_at timestamptz,
    -- the last 30-second step a code was accepted for: a code is never accepted twice
    totp_last_step   bigint,
    failed_logins    integer not null default 0 check (failed_logins >= 0),
    locked_until     timestamptz,
    disabled_at      timestamptz,
    created_at       timestamptz not null default now(),
    check (totp_enrolled_at is null or totp_sealed is not null)
);

-- Browser sessions. The cookie holds a random token; only its SHA-256 is stored, so a copy of the
-- database opens no session.
create table user_sessions (
    token_hash        bytea primary key check (length(token_hash) = 32),
    user_id           bigint not null references users (id),
    -- sent back by the console in a header on every change (CSRF); random per session
    csrf_token        text not null check (length(csrf_token) >= 32),
    -- when this session passed the second factor (a TOTP code); null: password only
    second_factor_at  timestamptz,
    created_at        timestamptz not null default now(),
    expires_at        timestamptz not null,
    check (expires_at > created_at)
);
create index user_sessions_user on user_sessions (user_id);

-- Tokens for automation, sent as `Authorization: Bearer zbor_…`. Only the SHA-256 is stored.
create table api_tokens (
    id           bigint generated always as identity primary key,
    user_id      bigint not null references users (id),
    name         text not null check (length(name) between 1 and 100),
    token_hash   bytea not null unique check (length(token_hash) = 32),
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
