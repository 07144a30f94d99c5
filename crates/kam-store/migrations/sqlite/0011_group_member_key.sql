-- Nothing to change on SQLite: this number keeps the two migration sets in step (PostgreSQL's
-- 0011 drops the identity that its 0001 gave group_member.customer_id by mistake).
select 1;
