-- Why: master data from extracts is merged by business key (INSERT … ON CONFLICT … DO UPDATE),
-- and ON CONFLICT needs a unique index on each key. Org units, users, products, customers,
-- groups, accounts and group members already have theirs; these are the composite ones.
create unique index key_person_identity on key_person (customer_id, name, role);
create unique index rm_assignment_identity on rm_assignment (customer_id, user_id, role, effective_from);
