-- The PostgreSQL cluster and WAL timeline zbor last started on. A restore from a backup (any
-- point-in-time recovery ends on a new timeline) or a failover to a replica changes them, and
-- then payouts made after the restored moment are missing here: a restored database believes
-- them approved and unpaid and would pay them again. `zbor serve` and `zbor worker` compare on
-- start and, on a change, pause payouts until two treasurers resume (docs/BACKUPS.md).
create table database_identity (
    only_row boolean primary key default true check (only_row),
    system_identifier text not null,
    timeline bigint not null check (timeline > 0),
    seen_at timestamptz not null default now()
);
