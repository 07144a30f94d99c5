-- The English names of rule-defined tiers (the rules file carries both), for the English interface.
-- Rows written before keep '' / null: the pages then show the Chinese name until the next batch.
alter table tier_month add column tier_name_en text not null default '';
alter table customer_class add column retail_tier_name_en text;
