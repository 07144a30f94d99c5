-- Why: the import ledger. One row per imported file (a batch): what it was, what became of its rows,
-- and its state. Fact files on disk count only while their batch is committed here, so replacing or
-- reverting a batch is one transaction, and a run killed half-way leaves a pending row that the
-- next run undoes before doing anything else.

create table import_batch (
    id integer primary key,
    batch_id text not null unique,
    kind text not null,
    business_date text not null,
    file_name text not null,
    content_hash text not null,
    state text not null check (state in ('pending', 'committed', 'replaced', 'reverted')),
    rows_read integer not null default 0,
    loaded integer not null default 0,
    rejected integer not null default 0,
    duplicates integer not null default 0,
    amount_total_minor integer not null default 0,
    actor text not null,
    started_at text not null,
    finished_at text
);
-- At most one committed batch per file slot: a corrected file must replace the old one explicitly.
create unique index import_batch_slot on import_batch (kind, business_date, file_name) where state = 'committed';
create index import_batch_content on import_batch (kind, business_date, content_hash);
