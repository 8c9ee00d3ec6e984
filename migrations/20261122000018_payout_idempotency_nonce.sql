-- Stripe keeps an Idempotency-Key for 24 hours, and a payout's key was `zbor:payout:{id}`. After a
-- point-in-time restore (docs/BACKUPS.md) the identity sequence hands out again the ids of payouts
-- made after the restored moment: a new payout could then be given the transfer Stripe made for a
-- lost one (same key, different person). Each payout now carries a random nonce, part of its key,
-- kept with the row: a retry of the same payout reuses it (exactly once at Stripe), a new payout
-- with a reused id does not.
--
-- Safe online: a nullable column with no default for existing rows (no table rewrite); rows made
-- before this migration keep their old key (nonce null), so a payout in flight during the upgrade
-- is not sent again under a new key.
alter table payouts add column idempotency_nonce uuid;
alter table payouts alter column idempotency_nonce set default gen_random_uuid();
