-- Why: the customer 360 draws each customer's last months next to the contribution chart — the
-- average daily deposit, the average loan outstanding and the fee income of every month of the
-- customer-value series. The batch computes them from the same month sums as the contribution,
-- so they are kept beside `value_months`, in the same `YYYY-MM=fen` comma-separated form.

alter table customer_class add column deposit_months text not null default '';
alter table customer_class add column loan_months text not null default '';
alter table customer_class add column fee_months text not null default '';
