-- Why: home and the portfolio show a unit's balances on the date with their averages and the changes
-- 较上日 / 较上月末 / 较年初 / 同比, summed over the customers the user sees. One row per customer with the
-- figures as columns (written with the indicators, by the batch) lets the database sum them over the
-- visible set in one query; the indicator lines of indicator_latest would have to be read and parsed.
-- An empty column is a figure the facts cannot give (a comparison before the first extract).
create table figure_latest (
    customer_id integer primary key references customer (id),
    as_of text not null,
    deposit_balance integer,
    deposit_avg integer,
    deposit_day integer,
    deposit_month integer,
    deposit_ytd integer,
    deposit_yoy integer,
    loan_balance integer,
    loan_avg integer,
    loan_day integer,
    loan_month integer,
    loan_ytd integer,
    loan_yoy integer,
    aum_balance integer,
    aum_avg integer,
    aum_day integer,
    aum_month integer,
    aum_ytd integer,
    aum_yoy integer
);
