-- Why: the batch writes 80-odd values per customer every night. One row per value made the store
-- write the slowest stage of the batch (index and foreign-key work per value); one row per customer,
-- its values as lines of text, is what the pages read anyway (a customer's cards at once).
-- The values are derived data: the next batch fills the table again, and every date's values stay
-- in the Parquet history.
-- Each line of indicator_values: code, window days (0 for an indicator of the date alone), the
-- integer value, the real value, separated by tabs; an empty field is "no value".

drop table indicator_value;

create table indicator_latest (
    customer_id integer primary key references customer (id),
    as_of text not null,
    indicator_values text not null
);
