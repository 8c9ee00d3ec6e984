-- A funded campaign can open again (README "A cohort that fills"): when a coordinator raises its
-- goal above what it kept, or removes its overflow, the cap no longer holds. `funded_goal` is the
-- goal it was funded at (so a later raise is seen); `payment_link_restore_due_at` says its
-- Payment Link was switched to the overflow and must be switched back at Stripe (set when it
-- reopens, cleared once Stripe has answered; it also keys that call, so a retry replays it).
alter table campaigns
    add column funded_goal numeric check (funded_goal > 0 and funded_goal < 1e30),
    add column payment_link_restore_due_at timestamptz;

update campaigns set funded_goal = goal where funded_at is not null;

alter table campaigns
    add constraint campaigns_funded_goal check ((funded_goal is null) = (funded_at is null));

-- the watcher's second question every second: which funded campaigns might reopen
create index campaigns_funded on campaigns (id) where funded_at is not null;
