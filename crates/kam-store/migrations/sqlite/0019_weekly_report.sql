-- Why: an RM's weekly report (周报) is written by kam from what was logged in the week, edited
-- by the RM and submitted; the president reads the team's and sees who has not submitted. One
-- report per user and week (its Monday); `version` counts saves so two tabs never silently
-- overwrite each other; a submitted report is kept as it was submitted.
create table weekly_report (
    id integer primary key,
    user_id integer not null references app_user (id),
    week_start text not null,
    body text not null,
    status text not null check (status in ('draft', 'submitted')),
    submitted_at text,
    version integer not null default 1,
    created_at text not null,
    updated_at text not null,
    unique (user_id, week_start)
);
create index weekly_report_week on weekly_report (week_start);
