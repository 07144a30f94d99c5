-- Why: a fact row naming a customer or account the master data does not define yet may be held
-- (a mapping's `unknown_reference = "hold"`) until the master data arrives on a later night; the
-- batch counts it apart, so rows read = loaded + rejected + duplicates + held still reconciles.
alter table import_batch add column held bigint not null default 0;
