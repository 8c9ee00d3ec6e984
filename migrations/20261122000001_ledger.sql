-- The double-entry ledger. PostgreSQL is the system of record for money, so every invariant the
-- Rust code checks is also enforced here: a raw SQL session cannot commit an unbalanced
-- transaction, extend or rewrite history, or overdraw an account flagged non-negative.
--
-- Sign convention: a posting's amount is signed, debit positive and credit negative, so a
-- transaction balances when its postings sum to zero per currency.
--
-- Amounts: numeric, exact. Every amount column refuses NaN and infinities (`< 1e30` is false for
-- both) and, through the triggers, any scale finer than its currency's.

-- ISO 4217 codes with the minor units zbor uses (Stripe's). Must match zbor-ledger's Currency;
-- a test compares the two.
create table ledger_currencies (
    code        char(3) primary key check (code ~ '^[A-Z]{3}$'),
    minor_units smallint not null check (minor_units between 0 and 3)
);
insert into ledger_currencies (code, minor_units) values
    ('AED', 2), ('AFN', 2), ('ALL', 2), ('AMD', 2), ('ANG', 2), ('AOA', 2), ('ARS', 2), ('AUD', 2),
    ('AWG', 2), ('AZN', 2), ('BAM', 2), ('BBD', 2), ('BDT', 2), ('BGN', 2), ('BHD', 3), ('BIF', 0),
    ('BMD', 2), ('BND', 2), ('BOB', 2), ('BRL', 2), ('BSD', 2), ('BTN', 2), ('BWP', 2), ('BYN', 2),
    ('BZD', 2), ('CAD', 2), ('CDF', 2), ('CHF', 2), ('CLP', 0), ('CNY', 2), ('COP', 2), ('CRC', 2),
    ('CUP', 2), ('CVE', 2), ('CZK', 2), ('DJF', 0), ('DKK', 2), ('DOP', 2), ('DZD', 2), ('EGP', 2),
    ('ERN', 2), ('ETB', 2), ('EUR', 2), ('FJD', 2), ('FKP', 2), ('GBP', 2), ('GEL', 2), ('GHS', 2),
    ('GIP', 2), ('GMD', 2), ('GNF', 0), ('GTQ', 2), ('GYD', 2), ('HKD', 2), ('HNL', 2), ('HTG', 2),
    ('HUF', 2), ('IDR', 2), ('ILS', 2), ('INR', 2), ('ISK', 2), ('JMD', 2), ('JOD', 3), ('JPY', 0),
    ('KES', 2), ('KGS', 2), ('KHR', 2), ('KMF', 0), ('KRW', 0), ('KWD', 3), ('KYD', 2), ('KZT', 2),
    ('LAK', 2), ('LBP', 2), ('LKR', 2), ('LRD', 2), ('LSL', 2), ('MAD', 2), ('MDL', 2), ('MGA', 0),
    ('MKD', 2), ('MMK', 2), ('MNT', 2), ('MOP', 2), ('MRU', 2), ('MUR', 2), ('MVR', 2), ('MWK', 2),
    ('MXN', 2), ('MYR', 2), ('MZN', 2), ('NAD', 2), ('NGN', 2), ('NIO', 2), ('NOK', 2), ('NPR', 2),
    ('NZD', 2), ('OMR', 3), ('PAB', 2), ('PEN', 2), ('PGK', 2), ('PHP', 2), ('PKR', 2), ('PLN', 2),
    ('PYG', 0), ('QAR', 2), ('RON', 2), ('RSD', 2), ('RUB', 2), ('RWF', 0), ('SAR', 2), ('SBD', 2),
    ('SCR', 2), ('SEK', 2), ('SGD', 2), ('SHP', 2), ('SLE', 2), ('SOS', 2), ('SRD', 2), ('STN', 2),
    ('SZL', 2), ('THB', 2), ('TJS', 2), ('TMT', 2), ('TND', 3), ('TOP', 2), ('TRY', 2), ('TTD', 2),
    ('TWD', 2), ('TZS', 2), ('UAH', 2), ('UGX', 0), ('USD', 2), ('UYU', 2), ('UZS', 2), ('VND', 0),
    ('VUV', 0), ('WST', 2), ('XAF', 0), ('XCD', 2), ('XOF', 0), ('XPF', 0), ('YER', 2), ('ZAR', 2),
    ('ZMW', 2);

create type ledger_account_kind as enum ('asset', 'liability', 'income', 'expense');

create table ledger_accounts (
    id           bigint generated always as identity primary key,
    code         text not null unique check (code ~ '^[a-z0-9][a-z0-9:._-]{0,127}$'),
    kind         ledger_account_kind not null,
    currency     char(3) not null references ledger_currencies (code),
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
    created_at   timestamptz not null default now(),
    -- the database transaction that wrote it: only that one may add its postings
    created_xid  xid8 not null default pg_current_xact_id()
);

create table ledger_postings (
    id             bigint generated always as identity primary key,
    transaction_id uuid not null references ledger_transactions (id),
    -- The account and its currency are checked by the insert trigger, not a foreign key: a
    -- foreign key takes a key-share lock on the account row, and thousands of concurrent credits
    -- sharing one hot row's lock turn into multixact traffic. Accounts can never be deleted or
    -- changed (triggers below), so a lock-free check is just as safe.
    account_id     bigint not null,
    currency       char(3) not null,
    amount         numeric not null check (amount <> 0 and amount > -1e30 and amount < 1e30)
);
create index ledger_postings_transaction on ledger_postings (transaction_id);
create index ledger_postings_account on ledger_postings (account_id, id);

-- Rolled-up balances, split into shards so that thousands of concurrent credits to one campaign
-- account do not queue on a single row lock: each database session writes the shard chosen by
-- its backend pid. Written only by the posting trigger (a guard refuses anything else);
-- `zbor ledger verify` recomputes it from the postings.
create table ledger_balance_shards (
    account_id bigint not null,  -- no foreign key, for the same reason as ledger_postings
    shard      smallint not null check (shard between 0 and 63),
    debits     numeric not null default 0 check (debits >= 0 and debits < 1e30),
    credits    numeric not null default 0 check (credits >= 0 and credits < 1e30),
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
    amount                  numeric not null check (amount > 0 and amount < 1e30),
    expires_at              timestamptz,
    metadata                jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
    content_hash            bytea not null check (length(content_hash) = 32),
    status                  ledger_hold_status not null default 'pending',
    posted_amount           numeric check (posted_amount > 0 and posted_amount <= amount),
    -- one transaction resolves at most one hold; checked at commit to move exactly posted_amount
    resolved_transaction_id uuid unique references ledger_transactions (id) deferrable initially deferred,
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
-- that move money out of it. The one definition, used by the Rust funds check and the triggers.
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

-- Before an outflow from a non-negative account is written, lock the account row (no key
-- update: it does not conflict with anything a credit does, so only outflows wait for each
-- other). The funds check after the write then sees every committed outflow, because under read
-- committed each statement takes a new snapshot. Under repeatable read it would not (the
-- snapshot predates the lock), so outflows refuse to run there.
create function ledger_lock_outflow(p_account bigint) returns void
language plpgsql as $$
begin
    if current_setting('transaction_isolation') = 'repeatable read' then
        raise exception 'ledger: outflows from non-negative accounts need read committed or serializable isolation'
            using errcode = 'feature_not_supported', constraint = 'ledger_isolation';
    end if;
    perform 1 from ledger_accounts where id = p_account for no key update;
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
    select acc.currency, acc.kind, acc.non_negative, cur.minor_units into a
    from ledger_accounts acc join ledger_currencies cur on cur.code = acc.currency
    where acc.id = new.account_id;
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
    if scale(new.amount) > a.minor_units then
        raise exception 'ledger: % is finer than % allows (% decimal places)',
            new.amount, new.currency, a.minor_units
            using errcode = 'check_violation', constraint = 'ledger_currency_scale';
    end if;
    if a.non_negative and ledger_lowers_balance(a.kind, new.amount) then
        perform ledger_lock_outflow(new.account_id);
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

-- Once per insert statement, over the rows it inserted. Every touched ledger transaction was
-- created by this database transaction (history is never extended later) and, with all its
-- postings so far, balances: so a transaction's postings are written by one statement, and no
-- statement can unbalance it, not even after `set constraints all immediate` ran the commit-time
-- check early. Then no non-negative account lowered is overdrawn; each outflow's account row was
-- locked by the row trigger, so no concurrent outflow can slip in before the commit.
create function ledger_postings_check_statement() returns trigger
language plpgsql as $$
declare
    bad record;
    outflow_account bigint;
begin
    select t.id, t.created_xid = pg_current_xact_id() as open, s.currency, s.total into bad
    from (select distinct transaction_id from new_postings) touched
    join ledger_transactions t on t.id = touched.transaction_id
    left join lateral (
        select currency, sum(amount) as total from ledger_postings p
        where p.transaction_id = t.id group by currency having sum(amount) <> 0 limit 1
    ) s on true
    where t.created_xid <> pg_current_xact_id() or s.total is not null
    limit 1;
    if found and not bad.open then
        raise exception 'ledger: transaction % was written by an earlier database transaction; its postings are final', bad.id
            using errcode = 'check_violation', constraint = 'ledger_append_only';
    elsif found then
        raise exception 'ledger: transaction % does not balance in % (sum %)', bad.id, bad.currency, bad.total
            using errcode = 'check_violation', constraint = 'ledger_balanced';
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

-- At commit, once per ledger transaction: at least two postings, balanced in every currency
-- (the statement trigger checked balance already; this also catches a transaction with none).
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

-- Balance shards change only inside the posting trigger (trigger depth 2: this guard runs in a
-- statement issued by ledger_postings_after_insert). A direct write could fake available funds.
create function ledger_shards_guard() returns trigger
language plpgsql as $$
begin
    if pg_trigger_depth() < 2 then
        raise exception 'ledger: % on ledger_balance_shards is not allowed; balances follow postings', tg_op
            using errcode = 'insufficient_privilege', constraint = 'ledger_append_only';
    end if;
    return case when tg_op = 'DELETE' then old else new end;
end
$$;

create function ledger_holds_before_insert() returns trigger
language plpgsql as $$
declare
    minor_units smallint;
    account bigint;
    signed numeric;
    a record;
begin
    new.status := 'pending';
    new.posted_amount := null;
    new.resolved_transaction_id := null;
    new.resolved_at := null;
    select c.minor_units into minor_units from ledger_currencies c where c.code = new.currency;
    if scale(new.amount) > minor_units then
        raise exception 'ledger: % is finer than % allows (% decimal places)',
            new.amount, new.currency, minor_units
            using errcode = 'check_violation', constraint = 'ledger_currency_scale';
    end if;
    if new.expires_at <= now() then
        raise exception 'ledger: hold % would expire in the past', new.id
            using errcode = 'check_violation', constraint = 'ledger_hold_expiry';
    end if;
    -- The debit side is debited, the credit side credited; lock whichever non-negative side is
    -- lowered, in account-id order so two holds between the same accounts cannot deadlock.
    for account, signed in
        select * from (values (new.debit_account_id, new.amount), (new.credit_account_id, -new.amount)) v
        order by 1
    loop
        select kind, non_negative into a from ledger_accounts where id = account;
        if a.non_negative and ledger_lowers_balance(a.kind, signed) then
            perform ledger_lock_outflow(account);
        end if;
    end loop;
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

-- At commit of a post: the resolving transaction moves exactly posted_amount from the hold's
-- debit account to its credit account, and nothing else.
create function ledger_holds_check_posted() returns trigger
language plpgsql as $$
begin
    if new.status = 'posted' and not (
        select count(*) = 2
           and bool_and((account_id = new.debit_account_id and amount = new.posted_amount)
                     or (account_id = new.credit_account_id and amount = -new.posted_amount))
        from ledger_postings where transaction_id = new.resolved_transaction_id
    ) then
        raise exception 'ledger: hold % is marked posted but transaction % does not move % from % to %',
            new.id, new.resolved_transaction_id, new.posted_amount, new.debit_account_id, new.credit_account_id
            using errcode = 'check_violation', constraint = 'ledger_hold_posted';
    end if;
    return null;
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

create trigger shards_guard before insert or update or delete on ledger_balance_shards
    for each row execute function ledger_shards_guard();
create trigger shards_no_truncate before truncate on ledger_balance_shards
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

create trigger currencies_append_only before update or delete on ledger_currencies
    for each row execute function ledger_refuse_change();

create trigger holds_before_insert before insert on ledger_holds
    for each row execute function ledger_holds_before_insert();
create constraint trigger holds_check_at_commit after insert on ledger_holds
    deferrable initially deferred
    for each row execute function ledger_holds_check_at_commit();
create trigger holds_before_update before update on ledger_holds
    for each row execute function ledger_holds_before_update();
create constraint trigger holds_check_posted after update on ledger_holds
    deferrable initially deferred
    for each row execute function ledger_holds_check_posted();
create trigger holds_no_delete before delete on ledger_holds
    for each row execute function ledger_refuse_change();
create trigger holds_no_truncate before truncate on ledger_holds
    for each statement execute function ledger_refuse_change();

create trigger chain_append_only before update or delete on ledger_chain
    for each row execute function ledger_refuse_change();
create trigger chain_no_truncate before truncate on ledger_chain
    for each statement execute function ledger_refuse_change();
