-- A hold's funds check runs once per insert statement and account, not once per hold at commit.
--
-- holds_check_at_commit was a deferred row trigger: every new hold recomputed, at commit, the
-- available balance of both its accounts, and `ledger_available` sums every pending hold of the
-- account. A release of n payouts from one campaign inserts n holds, so its commit summed n
-- pending holds n times: O(n²), 18-37 s for 5,000 (README, payouts-bench). Now a statement
-- trigger checks each account the statement's holds touch once, after all of its rows, like the
-- postings' statement check: a multi-row insert of 5,000 holds costs one sum per account.
--
-- The guard is as strong as before, and stricter in time: the check runs at the end of the
-- statement instead of at commit. Nothing a later statement of the same transaction can do lowers
-- an account's available balance unchecked (an outflow posting has its own statement check; posting
-- a hold replaces its reservation by at most as much; voiding or expiring one only releases), so
-- checking earlier misses nothing. The row trigger still locks each lowered non-negative account
-- before the row is written (ledger_holds_before_insert, unchanged), so no concurrent outflow slips
-- in between the check and the commit. A hold inserted by raw SQL that overdraws is refused as
-- before, with the same error ('ledger_non_negative', "would be overdrawn").

drop trigger holds_check_at_commit on ledger_holds;
drop function ledger_holds_check_at_commit();

create function ledger_holds_check_statement() returns trigger
language plpgsql as $$
declare
    touched bigint;
begin
    for touched in
        select debit_account_id from new_holds
        union
        select credit_account_id from new_holds
        order by 1
    loop
        perform ledger_check_not_overdrawn(touched);
    end loop;
    return null;
end
$$;

create trigger holds_check_statement after insert on ledger_holds
    referencing new table as new_holds
    for each statement execute function ledger_holds_check_statement();
