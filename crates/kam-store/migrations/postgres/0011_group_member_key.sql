-- A group member's key is its customer's id, never one drawn from a sequence: 0001 declared the
-- column as an identity column by mistake (SQLite's migrations never did). Found by the
-- migration parity test.
alter table group_member alter column customer_id drop identity if exists;
