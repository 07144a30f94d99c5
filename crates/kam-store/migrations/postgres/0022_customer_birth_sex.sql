-- Why: an individual's birth date and sex, as the bank's extract gives them or the resident ID
-- number carries them — the retail segments and the 360 read them. Null for companies and where
-- the bank does not know them.
alter table customer add column birth_date text;
alter table customer add column sex text check (sex in ('female', 'male'));
