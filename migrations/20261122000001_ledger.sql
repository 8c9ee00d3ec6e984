-- The double-entry ledger. PostgreSQL is the system of record for money, so every invariant the
-- Rust code checks is also enforced here: a raw SQL session cannot commit an unbalanced
-- transaction, rewrite history, or overdraw an account flagged non-negative.
--
-- Sign convention: a posting's amount is signed, debit positive and credit negative, so a
-- transaction balances when its postings sum to zero per currency.

create type ledger_account_kind as enum ('asset', 'liability', 'income', 'expense');

create table ledger_accounts (
    id           bigint generated always as identity primary key,
    code         text not null unique check (code ~ '^[a-z0-9][a-z0-9:._-]{0,127}$'),
    kind         ledger_account_kind not null,
    currency     char(3) not null check (currency ~ '^[A-Z]{3}$'),
    -- available balance (posted minus pending outflows, in the account's normal direction) may
    -- never go below zero
    non_negative boolean not null default false,
    created_at   timestamptz not null default now(),
    unique (id, currency)
);

create table ledger_transactions (
    id           uuid primary key,          -- chosen by the caller, reused on every retry
    metadata     jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
    -- sha256 of the canonical content (id, postings, metadata), computed by zbor-ledger
    content_hash bytea not null check (length(content_hash) = 32),
    created_at   timestamptz not null default now()
);

create table ledger_postings (
    id             bigint generated always as identity primary key,
    transaction_id uuid not null references ledger_transactions (id),
    account_id     bigint not null,
    currency       char(3) not null,
    -- The account and its currency are checked by the insert trigger, not a foreign key: a
    -- foreign key takes a key-share lock on the account row, and thousands of concurrent credits
    -- sharing one hot row's lock turn into multixact traffic. Accounts can never be deleted or
    -- changed (triggers below), so a lock-free check is just as safe.
    amount         numeric not null check (amount <> 0 and scale(amount) <= 3)
);
create index ledger_postings_transaction on ledger_postings (transaction_id);
create index ledger_postings_account on ledger_postings (account_id, id);

-- Rolled-up balances, split into shards so that thousands of concurrent credits to one campaign
-- account do not queue on a single row lock: each database session writes the shard chosen by
-- its backend pid. Maintained only by the trigger below; `zbor ledger verify` recomputes it.
create table ledger_balance_shards (
    account_id bigint not null,  -- no foreign key, for the same reason as ledger_postings
    shard      smallint not null check (shard between 0 and 63),
    debits     numeric not null default 0 check (debits >= 0),
    credits    numeric not null default 0 check (credits >= 0),
    primary key (account_id, shard)
) with (fillfactor = 10);  -- few rows per page: a hot account's shards do not share one page

create type ledger_hold_status as enum ('pending', 'posted', 'voided', 'expired');

-- Two-phase transfers: a hold reserves `amount` to move from the debit to the credit account;
-- posting it books a transaction of at most that amount, voiding or expiry releases it.
create table ledger_holds (
    id                      uuid primary key,   -- chosen by the caller
    debit_account_id        bigint not null,
    credit_account_id       bigint not null,
    currency                char(3) not null,
    amount                  numeric not null check (amount > 0 and scale(amount) <= 3),
    expires_at              timestamptz,
    metadata                jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
    content_hash            bytea not null check (length(content_hash) = 32),
    status                  ledger_hold_status not null default 'pending',
    posted_amount           numeric check (posted_amount > 0 and posted_amount <= amount),
    resolved_transaction_id uuid references ledger_transactions (id) deferrable initially deferred,
    created_at              timestamptz not null default now(),
    resolved_at             timestamptz,
    check (debit_account_id <> credit_account_id),
    check ((status = 'posted') = (posted_amount is not null and resolved_transaction_id is not null)),
    check ((status = 'pending') = (resolved_at is null)),
    foreign key (debit_account_id, currency) references ledger_accounts (id, currency),
    foreign key (credit_account_id, currency) references ledger_accounts (id, currency)
);
create index ledger_holds_pending_debit on ledger_holds (debit_account_id) where status = 'pending';
create index ledger_holds_pending_credit on ledger_holds (credit_account_id) where status = 'pending';

-- Tamper evidence. Chaining at insert time would serialize every transaction of the ledger on the
-- chain head, so transactions are queued here by a trigger and a single sealer appends them to
-- the chain in the order it sees them committed: hash = sha256(prev_hash || content_hash).
create table ledger_unsealed (
    transaction_id uuid primary key references ledger_transactions (id),
    queued_seq     bigint generated always as identity
);

create table ledger_chain (
    seq            bigint primary key check (seq > 0),
    transaction_id uuid not null unique references ledger_transactions (id),
    prev_hash      bytea not null check (length(prev_hash) = 32),
    hash           bytea not null check (length(hash) = 32),
    sealed_at      timestamptz not null default now()
);

-- Available balance of an account in its normal direction: posted balance minus pending holds
-- that move money out of it. The one definition, used by the Rust funds check and the trigger.
create function ledger_available(p_account bigint) returns numeric
language sql stable as $$
    with account as (
        select kind in ('asset', 'expense') as debit_normal from ledger_accounts where id = p_account
    ), posted as (
        select coalesce(sum(debits - credits), 0) as net
        from ledger_balance_shards where account_id = p_account
    ), pending as (
        select coalesce(sum(h.amount), 0) as outflow
        from ledger_holds h, account a
        where h.status = 'pending'
          and (h.expires_at is null or h.expires_at > now())
          and ((not a.debit_normal and h.debit_account_id = p_account)
            or (a.debit_normal and h.credit_account_id = p_account))
    )
    select case when a.debit_normal then p.net else -p.net end - pending.outflow
    from account a, posted p, pending
$$;

-- Does a movement of `signed_amount` (debit positive) lower the account's normal balance?
create function ledger_lowers_balance(p_kind ledger_account_kind, p_signed_amount numeric)
returns boolean language sql immutable as $$
    select case when p_kind in ('asset', 'expense') then p_signed_amount < 0
                else p_signed_amount > 0 end
$$;

-- Before a posting or hold lowers a non-negative account, lock the account row (no key update:
-- it does not conflict with the key-share locks that credits take through their foreign keys,
-- so only outflows wait for each other).
create function ledger_lock_if_outflow(p_account bigint, p_signed_amount numeric)
returns void language plpgsql as $$
declare
    a record;
begin
    select kind, non_negative into a from ledger_accounts where id = p_account;
    if a.non_negative and ledger_lowers_balance(a.kind, p_signed_amount) then
        perform 1 from ledger_accounts where id = p_account for no key update;
    end if;
end
$$;

create function ledger_check_not_overdrawn(p_account bigint) returns void
language plpgsql as $$
declare
    available numeric;
begin
    if (select non_negative from ledger_accounts where id = p_account) then
        available := ledger_available(p_account);
        if available < 0 then
            raise exception 'ledger: account % would be overdrawn (available %)', p_account, available
                using errcode = 'check_violation', constraint = 'ledger_non_negative',
                      detail = p_account::text || ' ' || available::text;
        end if;
    end if;
end
$$;

create function ledger_postings_before_insert() returns trigger
language plpgsql as $$
declare
    a record;
begin
    select currency, kind, non_negative into a from ledger_accounts where id = new.account_id;
    if not found then
        raise exception 'ledger: account % does not exist', new.account_id
            using errcode = 'foreign_key_violation', constraint = 'ledger_posting_account',
                  detail = new.account_id::text;
    end if;
    if a.currency <> new.currency then
        raise exception 'ledger: account % holds %, not %', new.account_id, a.currency, new.currency
            using errcode = 'foreign_key_violation', constraint = 'ledger_posting_currency',
                  detail = new.account_id::text || ' ' || a.currency || ' ' || new.currency;
    end if;
    if a.non_negative and ledger_lowers_balance(a.kind, new.amount) then
        perform 1 from ledger_accounts where id = new.account_id for no key update;
    end if;
    return new;
end
$$;

create function ledger_postings_after_insert() returns trigger
language plpgsql as $$
begin
    insert into ledger_balance_shards as s (account_id, shard, debits, credits)
    values (new.account_id, (pg_backend_pid() % 64)::smallint,
            greatest(new.amount, 0), greatest(-new.amount, 0))
    on conflict (account_id, shard) do update
        set debits = s.debits + excluded.debits, credits = s.credits + excluded.credits;
    return null;
end
$$;

-- Once per insert statement, over the rows it inserted: postings may only be added by the
-- database transaction that created their ledger transaction (history is not extended later),
-- and no non-negative account they lower may be overdrawn. The outflow's account row was locked
-- by the row trigger, so no concurrent outflow can slip between this check and the commit.
create function ledger_postings_check_statement() returns trigger
language plpgsql as $$
declare
    late uuid;
    outflow_account bigint;
begin
    select t.id into late
    from ledger_transactions t
    where t.id in (select transaction_id from new_postings) and t.created_at <> now()
    limit 1;
    if found then
        raise exception 'ledger: transaction % was committed earlier; its postings are final', late
            using errcode = 'check_violation', constraint = 'ledger_append_only';
    end if;
    for outflow_account in
        select distinct p.account_id
        from new_postings p join ledger_accounts a on a.id = p.account_id
        where a.non_negative and ledger_lowers_balance(a.kind, p.amount)
        order by p.account_id
    loop
        perform ledger_check_not_overdrawn(outflow_account);
    end loop;
    return null;
end
$$;

create function ledger_transactions_after_insert() returns trigger
language plpgsql as $$
begin
    insert into ledger_unsealed (transaction_id) values (new.id);
    return null;
end
$$;

-- At commit, once per ledger transaction: at least two postings, balanced in every currency.
create function ledger_transactions_check_at_commit() returns trigger
language plpgsql as $$
declare
    posting_count bigint;
    unbalanced_currency text;
    unbalanced_sum numeric;
begin
    select coalesce(sum(n), 0), min(currency) filter (where total <> 0), min(total) filter (where total <> 0)
    into posting_count, unbalanced_currency, unbalanced_sum
    from (select currency, sum(amount) as total, count(*) as n
          from ledger_postings where transaction_id = new.id group by currency) per_currency;
    if posting_count < 2 then
        raise exception 'ledger: transaction % has % posting(s), needs at least 2',
            new.id, posting_count
            using errcode = 'check_violation', constraint = 'ledger_balanced';
    end if;
    if unbalanced_currency is not null then
        raise exception 'ledger: transaction % does not balance in % (sum %)',
            new.id, unbalanced_currency, unbalanced_sum
            using errcode = 'check_violation', constraint = 'ledger_balanced';
    end if;
    return null;
end
$$;

create function ledger_holds_before_insert() returns trigger
language plpgsql as $$
begin
    new.status := 'pending';
    new.posted_amount := null;
    new.resolved_transaction_id := null;
    new.resolved_at := null;
    -- the debit side gets a debit, the credit side a credit; lock whichever side is lowered,
    -- in account-id order so two holds between the same accounts cannot deadlock
    if new.debit_account_id < new.credit_account_id then
        perform ledger_lock_if_outflow(new.debit_account_id, new.amount);
        perform ledger_lock_if_outflow(new.credit_account_id, -new.amount);
    else
        perform ledger_lock_if_outflow(new.credit_account_id, -new.amount);
        perform ledger_lock_if_outflow(new.debit_account_id, new.amount);
    end if;
    return new;
end
$$;

create function ledger_holds_check_at_commit() returns trigger
language plpgsql as $$
begin
    perform ledger_check_not_overdrawn(new.debit_account_id);
    perform ledger_check_not_overdrawn(new.credit_account_id);
    return null;
end
$$;

-- A hold changes state once, from pending; what it reserved never changes.
create function ledger_holds_before_update() returns trigger
language plpgsql as $$
begin
    if old.status <> 'pending' then
        raise exception 'ledger: hold % is already %', old.id, old.status
            using errcode = 'check_violation', constraint = 'ledger_hold_final';
    end if;
    if (new.id, new.debit_account_id, new.credit_account_id, new.currency, new.amount,
        new.expires_at, new.metadata, new.content_hash, new.created_at)
       is distinct from
       (old.id, old.debit_account_id, old.credit_account_id, old.currency, old.amount,
        old.expires_at, old.metadata, old.content_hash, old.created_at) then
        raise exception 'ledger: the content of hold % is immutable', old.id
            using errcode = 'check_violation', constraint = 'ledger_hold_final';
    end if;
    return new;
end
$$;

create function ledger_refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception 'ledger: % on % is not allowed; book a reversing transaction instead',
        tg_op, tg_table_name
        using errcode = 'insufficient_privilege', constraint = 'ledger_append_only';
end
$$;

create trigger postings_before_insert before insert on ledger_postings
    for each row execute function ledger_postings_before_insert();
create trigger postings_after_insert after insert on ledger_postings
    for each row execute function ledger_postings_after_insert();
create trigger postings_check_statement after insert on ledger_postings
    referencing new table as new_postings
    for each statement execute function ledger_postings_check_statement();
create trigger postings_append_only before update or delete on ledger_postings
    for each row execute function ledger_refuse_change();
create trigger postings_no_truncate before truncate on ledger_postings
    for each statement execute function ledger_refuse_change();

create trigger transactions_after_insert after insert on ledger_transactions
    for each row execute function ledger_transactions_after_insert();
create constraint trigger transactions_check_at_commit after insert on ledger_transactions
    deferrable initially deferred
    for each row execute function ledger_transactions_check_at_commit();
create trigger transactions_append_only before update or delete on ledger_transactions
    for each row execute function ledger_refuse_change();
create trigger transactions_no_truncate before truncate on ledger_transactions
    for each statement execute function ledger_refuse_change();

create trigger accounts_append_only before update or delete on ledger_accounts
    for each row execute function ledger_refuse_change();
create trigger accounts_no_truncate before truncate on ledger_accounts
    for each statement execute function ledger_refuse_change();

create trigger holds_before_insert before insert on ledger_holds
    for each row execute function ledger_holds_before_insert();
create constraint trigger holds_check_at_commit after insert on ledger_holds
    deferrable initially deferred
    for each row execute function ledger_holds_check_at_commit();
create trigger holds_before_update before update on ledger_holds
    for each row execute function ledger_holds_before_update();
create trigger holds_no_delete before delete on ledger_holds
    for each row execute function ledger_refuse_change();
create trigger holds_no_truncate before truncate on ledger_holds
    for each statement execute function ledger_refuse_change();

create trigger chain_append_only before update or delete on ledger_chain
    for each row execute function ledger_refuse_change();
create trigger chain_no_truncate before truncate on ledger_chain
    for each statement execute function ledger_refuse_change();
