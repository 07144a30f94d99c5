-- Why: indexes the pages' reads want (the speed work of issue 20).
-- The latest tier month, `max(month)`, read by every list that shows a tier: without this it
-- walks the whole (customer_id, month) key.
create index tier_month_month on tier_month (month);
-- An obstacle's action task, read with each obstacle.
create index task_obstacle on task (obstacle_id);
