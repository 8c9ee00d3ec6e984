-- Four eyes that cannot be bypassed: a rail pays only the destination that was approved, and a
-- destination needs a second person before it can be paid at all.
--
-- The attack this closes: two treasurers approve EUR 1,000 to an IBAN; the batch's creator alone
-- changes the beneficiary's IBAN and makes the SEPA file, which then paid the new IBAN while the
-- batch still showed both approvals. Now:
-- 1. a destination (IBAN and BIC, Stripe account, or method) cannot change while the beneficiary
--    has a payout that is approved, sending, sent or failed (cancel those first);
-- 2. a new or changed destination is unconfirmed until a treasurer other than the one who set it
--    confirms it with a fresh one-time code; an unconfirmed beneficiary is not released for
--    payment;
-- 3. a payout moves towards its rail (approved, sending, sent, paid) only while its beneficiary's
--    payee fingerprint is the one the approvals signed (`payouts.payee_fingerprint`), and that
--    snapshot never changes after approval.
-- The application checks each of these first and answers with a clear reason; these triggers are
-- the backstop no code path can skip.

alter table beneficiaries
    -- who set the current destination (null: the host's command line, the break-glass path)
    add column destination_set_by       bigint references users (id),
    add column destination_set_at       timestamptz not null default now(),
    -- the second person who confirmed this destination; null: not confirmed (not payable)
    add column destination_confirmed_by bigint references users (id),
    add column destination_confirmed_at timestamptz,
    add constraint beneficiary_destination_four_eyes
        check (destination_confirmed_by is null or destination_confirmed_by is distinct from destination_set_by),
    add check ((destination_confirmed_by is null) = (destination_confirmed_at is null));

-- Beneficiaries created before this migration were never confirmed by a second person: they
-- stay unconfirmed (the safe default) until a treasurer confirms them.

create function beneficiary_destination_guard() returns trigger language plpgsql as $$
declare
    locked bigint[];
begin
    if new.payee_fingerprint is distinct from old.payee_fingerprint or new.method is distinct from old.method then
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
create trigger beneficiaries_destination_guard before update on beneficiaries
    for each row execute function beneficiary_destination_guard();

create function payout_pays_approved_destination() returns trigger language plpgsql as $$
begin
    if old.status <> 'awaiting_approval' and (new.payee_fingerprint is distinct from old.payee_fingerprint
                                              or new.amount is distinct from old.amount
                                              or new.beneficiary_id is distinct from old.beneficiary_id) then
        raise exception 'payout %: what was approved (beneficiary, amount, destination) never changes', new.id
            using errcode = 'check_violation', constraint = 'payout_approved_destination';
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
create trigger payouts_pay_approved_destination before update on payouts
    for each row execute function payout_pays_approved_destination();
