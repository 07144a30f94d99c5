-- Why: the diagnosis batch's latest results for the pages. One row per customer, indicator code and
-- window (0 for an indicator of the date alone); the full history per as-of date stays in Parquet.
-- A value is an integer (fen, count, days) or a real (a ratio), or neither ("over nothing").

create table indicator_value (
    customer_id integer not null references customer (id),
    code text not null,
    window_days integer not null,
    as_of text not null,
    value_int integer,
    value_real real,
    primary key (customer_id, code, window_days)
);

-- One row per batch run: what date it was for, when, and how much it wrote.
create table batch_run (
    id integer primary key,
    as_of text not null,
    actor text not null,
    started_at text not null,
    finished_at text not null,
    customers integer not null,
    indicator_values integer not null
);
create index batch_run_as_of on batch_run (as_of);
