-- Why: the five value tiers per customer and month, with what decided them. A month's row is the
-- tier as of the latest batch date in that month; the next month starts from it (hysteresis), so
-- re-running a date recomputes its month from the month before and gives the same result.

create table tier_month (
    customer_id bigint not null references customer (id),
    month text not null,
    as_of text not null,
    tier integer not null check (tier between 1 and 5),
    tier_name text not null,
    months_below integer not null,
    on_watch integer not null check (on_watch in (0, 1)),
    move text not null,
    measured_tier integer not null,
    rule_id text not null,
    rule_version integer not null,
    indicator text not null,
    value_int bigint,
    bars text not null,
    primary key (customer_id, month)
);
