-- Why: RMs sell through kam now. An opportunity (商机) belongs to a customer (or is sold to its
-- whole group through it), names products and an amount in fen, an owner and the team (the
-- owner's unit when it was opened, so the funnel of a unit does not change when an RM moves),
-- and moves through the rules file's stages; every move is kept (who, when, from, to). The
-- progress checklist's ticks are kept per stage; obstacles carry exactly one action, which is a
-- task; buying influences are the customer's key people with their part and attitude.
create table opportunity (
    id integer primary key,
    customer_id integer not null references customer (id),
    title text not null,
    -- Product codes of the catalogue, comma-separated, in the order named.
    products text not null,
    amount_minor integer not null check (amount_minor > 0),
    currency text not null check (length(currency) = 3),
    owner_id integer not null references app_user (id),
    unit_id integer not null references org_unit (id),
    stage text not null,
    -- The day the opportunity entered its stage: what "stuck" and days-in-stage count from.
    stage_since text not null,
    probability integer check (probability between 0 and 100),
    expected_close text not null,
    competitor text,
    position text not null check (position in ('leading', 'even', 'behind', 'unknown')),
    for_group integer not null default 0 check (for_group in (0, 1)),
    notes text,
    -- Set when won or lost: the day, and for a loss the reason.
    closed_on text,
    lost_reason text,
    version integer not null default 1,
    created_by text not null,
    created_at text not null,
    updated_by text,
    updated_at text,
    deleted_on text,
    deleted_reason text
);
create index opportunity_customer on opportunity (customer_id);
create index opportunity_owner on opportunity (owner_id, stage);
create index opportunity_stage on opportunity (stage, stage_since);

create table opportunity_move (
    id integer primary key,
    opportunity_id integer not null references opportunity (id),
    from_stage text,
    to_stage text not null,
    moved_on text not null,
    moved_by text not null,
    moved_at text not null,
    reason text
);
create index opportunity_move_opportunity on opportunity_move (opportunity_id, moved_on);
create index opportunity_move_day on opportunity_move (moved_on);

create table opportunity_tick (
    opportunity_id integer not null references opportunity (id),
    stage text not null,
    item text not null,
    ticked_by text not null,
    ticked_on text not null,
    primary key (opportunity_id, stage, item)
);

create table obstacle (
    id integer primary key,
    opportunity_id integer not null references opportunity (id),
    text text not null,
    action text not null,
    status text not null check (status in ('open', 'cleared')),
    cleared_on text,
    created_by text not null,
    created_at text not null
);
create index obstacle_opportunity on obstacle (opportunity_id);

create table buying_influence (
    opportunity_id integer not null references opportunity (id),
    key_person_id integer not null references key_person (id),
    role text not null check (role in ('economic', 'user', 'technical', 'coach')),
    attitude text not null check (attitude in ('supportive', 'neutral', 'opposed')),
    created_by text not null,
    created_at text not null,
    primary key (opportunity_id, key_person_id)
);

-- A task made from an obstacle's action names both; one from an opportunity by hand, the
-- opportunity.
alter table task add column opportunity_id integer references opportunity (id);
alter table task add column obstacle_id integer references obstacle (id);
create index task_opportunity on task (opportunity_id);

-- The batch's last visit and visit coverage read logged visits by customer and day.
create index activity_customer_status on activity (customer_id, status, kind, starts_at);
