-- Why: relationship managers work in kam now. An activity (拜访与活动: a visit, call, meeting or
-- event) is planned in the calendar or logged after it took place, with structured SPIN notes,
-- its participants (our people and the customer's key people) and its outcome; a planned one is
-- moved or cancelled with a reason, never deleted. A key person's last contact is the latest
-- logged activity they took part in (no copy kept on the person, so it cannot drift).
create table activity (
    id integer primary key,
    customer_id integer not null references customer (id),
    kind text not null check (kind in ('visit', 'call', 'meeting', 'event')),
    status text not null check (status in ('planned', 'done', 'cancelled')),
    -- The bank's local time, 'YYYY-MM-DD HH:MM': the calendar's day is its first ten characters.
    starts_at text not null,
    minutes integer,
    place text,
    purpose text not null,
    situation text,
    problem text,
    implication text,
    need_payoff text,
    outcome text,
    -- Why it was last moved, or why it was cancelled.
    reason text,
    version integer not null default 1,
    created_by text not null,
    created_at text not null,
    updated_by text,
    updated_at text
);
create index activity_customer on activity (customer_id, starts_at);
create index activity_day on activity (starts_at);

create table activity_user (
    activity_id integer not null references activity (id),
    user_id integer not null references app_user (id),
    primary key (activity_id, user_id)
);
create index activity_user_user on activity_user (user_id, activity_id);

create table activity_person (
    activity_id integer not null references activity (id),
    key_person_id integer not null references key_person (id),
    primary key (activity_id, key_person_id)
);
create index activity_person_person on activity_person (key_person_id, activity_id);

-- The needs found at a customer, each implied (隐含) or explicit (明确), kept as the customer's
-- needs list: open until met.
create table customer_need (
    id integer primary key,
    customer_id integer not null references customer (id),
    activity_id integer references activity (id),
    text text not null,
    kind text not null check (kind in ('implied', 'explicit')),
    status text not null check (status in ('open', 'met')),
    found_on text not null,
    met_on text,
    created_by text not null,
    created_at text not null
);
create index customer_need_customer on customer_need (customer_id, status);

-- Tasks (待办) on a customer: by hand, from an activity's next steps, or from an obstacle's
-- action. Done and reopened by version; deleted softly with a reason.
create table task (
    id integer primary key,
    customer_id integer not null references customer (id),
    activity_id integer references activity (id),
    title text not null,
    due_on text not null,
    owner_id integer not null references app_user (id),
    priority text not null check (priority in ('high', 'normal', 'low')),
    status text not null check (status in ('open', 'done')),
    done_on text,
    notes text,
    source text not null check (source in ('hand', 'next_step', 'obstacle')),
    version integer not null default 1,
    created_by text not null,
    created_at text not null,
    updated_by text,
    updated_at text,
    deleted_on text,
    deleted_reason text
);
create index task_owner_due on task (owner_id, due_on);
create index task_customer on task (customer_id);
create index task_due on task (due_on);
