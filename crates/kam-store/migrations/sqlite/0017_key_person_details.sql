-- Why: relationship managers keep key people in kam now (add, edit, retire from the 360), so a
-- person carries what an RM keeps beyond name and ratings — a mobile number (masked when shown),
-- a birthday, the colleague who owns the relationship, notes — and the day the 建/做/拉/用 stage
-- was entered. `version` counts the saves so that two people never silently overwrite each other
-- (an edit names the version it started from); who saved last and when are kept with the row.
-- A retired person is not deleted: `retired_on` and the reason stay, audited, and the 360 lists
-- only the current people.
alter table key_person add column phone text;
alter table key_person add column birthday text;
alter table key_person add column stage_since text;
alter table key_person add column owner text;
alter table key_person add column notes text;
alter table key_person add column version integer not null default 1;
alter table key_person add column updated_by text;
alter table key_person add column updated_at text;
alter table key_person add column retired_on text;
alter table key_person add column retired_reason text;
