-- Why: home and the portfolio show a unit's balances on the date with their averages and the changes
-- 较上日 / 较上月末 / 较年初 / 同比, summed over the customers the user sees. One row per customer with the
-- figures as columns (written with the indicators, by the batch) lets the database sum them over the
-- visible set in one query; the indicator lines of indicator_latest would have to be read and parsed.
-- An empty column is a figure the facts cannot give (a comparison before the first extract).
create table figure_latest (
    customer_id integer primary key references customer (id),
    as_of text not null,
    deposit_balance bigint,
    deposit_avg bigint,
    deposit_day bigint,
    deposit_month bigint,
    deposit_ytd bigint,
    deposit_yoy bigint,
    loan_balance bigint,
    loan_avg bigint,
    loan_day bigint,
    loan_month bigint,
    loan_ytd bigint,
    loan_yoy bigint,
    aum_balance bigint,
    aum_avg bigint,
    aum_day bigint,
    aum_month bigint,
    aum_ytd bigint,
    aum_yoy bigint
);
