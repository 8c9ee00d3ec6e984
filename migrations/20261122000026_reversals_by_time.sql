-- The public feed publishes refunds and dispute movements in steps, by the time the ledger
-- booked them (crates/intake/src/public_feed.rs). They are a small share of a campaign's
-- transactions, so they get a partial index of their own instead of a walk over every posting
-- of the campaign's account. The predicate is written as the query writes it, so the planner
-- can use it.
create index ledger_transactions_reversals on ledger_transactions (created_at)
    where metadata->>'kind' in ('refund', 'dispute');
