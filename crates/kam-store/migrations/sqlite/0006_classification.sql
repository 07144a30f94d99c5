-- Why: the batch's other results per customer for the pages — retail tier, account types, key
-- account, customer value (CAM) and the scoring board — each with what decided it. Latest as-of
-- only; every date's results stay in Parquet.
create table customer_class (
    customer_id integer primary key references customer (id),
    as_of text not null,
    rule_id text not null,
    rule_version integer not null,
    retail_tier text check (retail_tier in ('private_banking', 'wealth', 'vip')),
    retail_tier_name text,
    retail_indicator text not null,
    retail_value integer,
    -- Most important first, comma-separated; empty for an ordinary customer.
    account_types text not null,
    key_account integer not null check (key_account in (0, 1)),
    -- YYYY-MM=fen per month, comma-separated, oldest first.
    value_months text not null,
    value_total integer not null,
    value_slope real,
    value_trend text not null check (value_trend in ('rising', 'steady', 'falling')),
    value_score integer not null check (value_score between 0 and 100),
    -- The scoring board, for its candidates: criterion=score (or -) per row, the total, the
    -- board's average and the star.
    board text,
    board_scores text,
    board_total integer,
    board_average real,
    starred integer not null check (starred in (0, 1))
);

-- Scores people give on the board's manual criteria (客户关系, 政策支持 …), entered or imported.
create table manual_score (
    customer_id integer not null references customer (id),
    board text not null,
    criterion text not null,
    score integer not null check (score in (1, 3, 5, 7, 9)),
    entered_by text not null,
    entered_at text not null,
    primary key (customer_id, board, criterion)
);

-- An alert is raised once: while its condition holds it stays one row (last_seen_on moves);
-- cleared_on ends the episode. At most one episode per customer and kind is active.
create table alert (
    id integer primary key,
    customer_id integer not null references customer (id),
    kind text not null,
    status text not null check (status in ('open', 'handled', 'resolved')),
    tier integer not null,
    raised_on text not null,
    last_seen_on text not null,
    cleared_on text,
    evidence text not null,
    thresholds text not null,
    rule_id text not null,
    rule_version integer not null,
    handled_by text,
    handled_at text,
    note text
);
create unique index alert_active on alert (customer_id, kind) where cleared_on is null;
create index alert_customer on alert (customer_id);
create index alert_status on alert (status, raised_on);
