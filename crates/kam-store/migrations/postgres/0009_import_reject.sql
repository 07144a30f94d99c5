-- Why: an import batch's rejected rows (and loaded-with-a-warning rows) stay with the batch, so
-- the administrator can download them from the web long after the command-line run is gone. They
-- are written in the transaction that records the batch: a batch and its rejects exist together
-- or not at all. Values of personal identifiers arrive already masked by the reader.

create table import_reject (
    batch_id text not null references import_batch (batch_id),
    -- Order of discovery within the batch (file order).
    seq integer not null,
    file_name text not null,
    line bigint not null,
    column_name text not null,
    field text not null,
    value text not null,
    severity text not null check (severity in ('reject', 'warning')),
    reason_code text not null,
    message_zh text not null,
    message_en text not null,
    primary key (batch_id, seq)
);
