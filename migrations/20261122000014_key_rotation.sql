-- Rotating ZBOR_DATA_KEY (security review, issue 9, section 7).
--
-- ZBOR_DATA_KEY is now a ring of versioned keys (zbor-vault; docs/KEYS.md). `zbor vault rotate`
-- re-seals every sealed value and re-keys every blind index under the ring's current key, one row
-- per short transaction, while the server runs; a killed run continues where it stopped, because
-- what is done is read from the data itself:
--
-- - A sealed value names its key version in its header (format 1, from before rotation existed:
--   version 1; format 2: 0x02, the version as two big-endian bytes, then nonce and ciphertext).
--   zbor_key_version() reads it; null for anything that is not a sealed value.
-- - A row's blind indexes are always written with the sealed value beside them, under the same key
--   (beneficiaries: sealed with iban_index and payee_fingerprint; users: email_sealed with
--   email_index), so the sealed value's version is the indexes' version too.
-- - payouts.payee_fingerprint is a copy of its beneficiary's fingerprint (made when the batch is
--   made or refreshed) and outlives it: payee_fingerprint_key_version below says under which key
--   version it was computed; null: unknown, treated as older than every key.

create function zbor_key_version(sealed bytea) returns integer
    language sql immutable strict parallel safe as $$
    select case
        when length(sealed) = 0 then null
        when get_byte(sealed, 0) = 1 then 1
        when get_byte(sealed, 0) <> 2 or length(sealed) < 3 then null
        else nullif((get_byte(sealed, 1) << 8) | get_byte(sealed, 2), 0)
    end
$$;

alter table payouts add column payee_fingerprint_key_version integer;
-- Every fingerprint so far was made by the one key there was: version 1 (or, should the new
-- release have sealed under a newer key before this migration ran, its beneficiary's version).
update payouts p
set payee_fingerprint_key_version = coalesce(
    (select zbor_key_version(b.sealed) from beneficiaries b
     where b.id = p.beneficiary_id and b.payee_fingerprint = p.payee_fingerprint), 1);

-- A fingerprint copied from the beneficiary is under the key version of the beneficiary's row;
-- one that is not the beneficiary's current fingerprint gets null (unknown). The version follows
-- the fingerprint: it changes with it and only with it, except under `zbor vault rotate`
-- (zbor.rekeying), which sets both.
create function payout_fingerprint_key_version() returns trigger language plpgsql as $$
begin
    if tg_op = 'UPDATE' and coalesce(current_setting('zbor.rekeying', true), '') = 'on' then
        return new;
    end if;
    if tg_op = 'INSERT' or new.payee_fingerprint is distinct from old.payee_fingerprint then
        select zbor_key_version(b.sealed) into new.payee_fingerprint_key_version
        from beneficiaries b
        where b.id = new.beneficiary_id and b.payee_fingerprint = new.payee_fingerprint;
    else
        new.payee_fingerprint_key_version := old.payee_fingerprint_key_version;
    end if;
    return new;
end $$;
-- (before update triggers run in name order: this one before payouts_pay_approved_destination,
-- which reads the version it set)
create trigger payouts_fingerprint_key_version before insert or update on payouts
    for each row execute function payout_fingerprint_key_version();

-- The approved destination never changes (20261122000011_four_eyes_destinations.sql), with one
-- exception: `zbor vault rotate` re-keys the fingerprint, inside a transaction that set
-- `zbor.rekeying` locally (set_config('zbor.rekeying', 'on', true)). Even then:
-- - only towards a newer key version (the rotation sets payee_fingerprint_key_version with it);
-- - a payout on its way (approved, sending, sent) gets exactly its beneficiary's fingerprint,
--   re-keyed in the same transaction: it keeps paying the destination that was approved.
-- Amount and beneficiary never change. Historical payouts (paid, failed, cancelled, reversed)
-- whose destination is no longer stored get HMAC(new index key, 'rekeyed:' || old fingerprint),
-- which keeps equal fingerprints equal and different ones different.
-- `zbor.rekeying` is a backstop against application mistakes, like the rest of these triggers:
-- whoever can run SQL as zbor can set it.
create or replace function payout_pays_approved_destination() returns trigger language plpgsql as $$
declare
    rekeying constant boolean := coalesce(current_setting('zbor.rekeying', true), '') = 'on';
begin
    if old.status <> 'awaiting_approval' and (new.amount is distinct from old.amount
                                              or new.beneficiary_id is distinct from old.beneficiary_id
                                              or (new.payee_fingerprint is distinct from old.payee_fingerprint
                                                  and not rekeying)) then
        raise exception 'payout %: what was approved (beneficiary, amount, destination) never changes', new.id
            using errcode = 'check_violation', constraint = 'payout_approved_destination';
    end if;
    if rekeying and new.payee_fingerprint is distinct from old.payee_fingerprint then
        if new.payee_fingerprint_key_version is null
           or new.payee_fingerprint_key_version <= coalesce(old.payee_fingerprint_key_version, 0) then
            raise exception 'payout %: a fingerprint is re-keyed only to a newer key version', new.id
                using errcode = 'check_violation', constraint = 'payout_approved_destination';
        end if;
        if new.status in ('approved', 'sending', 'sent') and not exists (
               select 1 from beneficiaries b
               where b.id = new.beneficiary_id and b.payee_fingerprint = new.payee_fingerprint) then
            raise exception 'payout %: on its way, it is re-keyed only to its beneficiary''s re-keyed destination', new.id
                using errcode = 'check_violation', constraint = 'payout_approved_destination';
        end if;
    end if;
    if new.status is distinct from old.status and new.status in ('approved', 'sending', 'sent', 'paid') then
        if not exists (select 1 from beneficiaries b
                       where b.id = new.beneficiary_id and b.payee_fingerprint = new.payee_fingerprint) then
            raise exception 'payout %: its beneficiary''s destination is not the approved one; nothing is paid', new.id
                using errcode = 'check_violation', constraint = 'payout_approved_destination';
        end if;
        if old.status = 'awaiting_approval' and not exists (
               select 1 from beneficiaries b
               where b.id = new.beneficiary_id and b.destination_confirmed_at is not null) then
            raise exception 'payout %: its beneficiary''s destination is not confirmed by a second treasurer', new.id
                using errcode = 'check_violation', constraint = 'payout_destination_confirmed';
        end if;
    end if;
    return new;
end $$;

-- A beneficiary's re-keyed destination is the same destination: under `zbor vault rotate`
-- (zbor.rekeying), a new fingerprint that comes with the same method and record, its sealed data
-- under a newer key version, and no change of who set or confirmed it, keeps its confirmation
-- and is allowed while payouts are on their way (they are re-keyed in the same transaction).
-- Anything else is a new destination, as before.
create or replace function beneficiary_destination_guard() returns trigger language plpgsql as $$
declare
    locked bigint[];
begin
    if new.payee_fingerprint is distinct from old.payee_fingerprint or new.method is distinct from old.method then
        if coalesce(current_setting('zbor.rekeying', true), '') = 'on'
           and new.method = old.method and new.record_key = old.record_key
           and new.masked is not distinct from old.masked
           and new.destination_set_by is not distinct from old.destination_set_by
           and new.destination_confirmed_by is not distinct from old.destination_confirmed_by
           and zbor_key_version(new.sealed) > zbor_key_version(old.sealed) then
            return new;
        end if;
        select array_agg(id order by id) into locked from payouts
        where beneficiary_id = new.id and status in ('approved', 'sending', 'sent', 'failed');
        if locked is not null then
            raise exception 'beneficiary %: its destination cannot change while payouts % are approved, sending, sent or failed; cancel them first',
                new.id, array_to_string(locked, ', ')
                using errcode = 'check_violation', constraint = 'beneficiary_destination_locked';
        end if;
        -- a new destination waits for a second person, whatever the application sent
        new.destination_confirmed_by := null;
        new.destination_confirmed_at := null;
        new.destination_set_at := now();
    elsif new.destination_confirmed_by is distinct from old.destination_confirmed_by
          and new.destination_set_by is distinct from old.destination_set_by then
        raise exception 'beneficiary %: a destination is set and confirmed by two separate changes', new.id
            using errcode = 'check_violation', constraint = 'beneficiary_destination_four_eyes';
    end if;
    return new;
end $$;
