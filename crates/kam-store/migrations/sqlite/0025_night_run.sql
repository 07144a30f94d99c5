-- Why: `kam nightly` runs unattended; the administrator reads each night on the administration
-- page — the day, how it ended (done, quarantined, failed), the files and rows, the batch's time
-- and what failed — without a shell on the server.
create table night_run (
    id integer primary key,
    business_date text not null,
    outcome text not null check (outcome in ('done', 'quarantined', 'failed')),
    files_imported integer not null,
    files_already integer not null,
    files_refused integer not null,
    rows_rejected integer not null,
    batch_millis integer,
    reason text,
    started_at text not null,
    finished_at text not null
);
create index night_run_date on night_run (business_date);
