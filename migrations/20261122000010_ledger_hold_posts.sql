-- Posting a hold no longer waits for the account's outflow lock.
--
-- A pending hold already reserved its amount: the available balance counted it. Posting it (all
-- or less) marks the hold posted and writes the transaction in one database transaction, so the
-- available balance cannot drop: the reservation is replaced by a posting of at most its size.
-- Yet the posting trigger locked the account row and recomputed the available balance for every
-- such posting, so paying a batch of 10,000 payouts from one campaign went one payout at a time
-- behind that lock (and behind any approval holding it). Now an outflow posting is exempt from
-- the lock and the funds check exactly when it is covered by a hold of the same transaction that
-- this transaction marked posted. That cannot be forged to skip the guard: a hold becomes posted
-- only from pending (ledger_holds_before_update), and at commit its transaction must consist of
-- exactly the hold's two postings (ledger_holds_check_posted).
--
-- The available balance also reads pending holds through their partial indexes now, one side at
-- a time, instead of scanning every hold.

create function ledger_posting_covered_by_hold(p_transaction uuid, p_account bigint, p_amount numeric)
returns boolean language sql stable as $$
    select exists (
        select 1 from ledger_holds h
        where h.resolved_transaction_id = p_transaction
          and h.status = 'posted'
          and abs(p_amount) <= h.posted_amount
          and (h.expires_at is null or h.expires_at > now())
          and p_account in (h.debit_account_id, h.credit_account_id)
    )
$$;

create or replace function ledger_available(p_account bigint) returns numeric
language sql stable as $$
    with account as (
        select kind in ('asset', 'expense') as debit_normal from ledger_accounts where id = p_account
    ), posted as (
        select coalesce(sum(debits - credits), 0) as net
        from ledger_balance_shards where account_id = p_account
    ), pending as (
        select case when a.debit_normal then
                   (select coalesce(sum(h.amount), 0) from ledger_holds h
                    where h.status = 'pending' and h.credit_account_id = p_account
                      and (h.expires_at is null or h.expires_at > now()))
               else
                   (select coalesce(sum(h.amount), 0) from ledger_holds h
                    where h.status = 'pending' and h.debit_account_id = p_account
                      and (h.expires_at is null or h.expires_at > now()))
               end as outflow
        from account a
    )
    select case when a.debit_normal then p.net else -p.net end - pending.outflow
    from account a, posted p, pending
$$;

create or replace function ledger_postings_before_insert() returns trigger
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
    if a.non_negative and ledger_lowers_balance(a.kind, new.amount)
       and not ledger_posting_covered_by_hold(new.transaction_id, new.account_id, new.amount) then
        perform ledger_lock_outflow(new.account_id);
    end if;
    return new;
end
$$;

create or replace function ledger_postings_check_statement() returns trigger
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
          and not ledger_posting_covered_by_hold(p.transaction_id, p.account_id, p.amount)
        order by p.account_id
    loop
        perform ledger_check_not_overdrawn(outflow_account);
    end loop;
    return null;
end
$$;
