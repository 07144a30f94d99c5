-- Why: the foundation of the operational store — org tree, users, customers, groups, key people,
-- RM assignments, products, accounts, holdings, payroll links, and the audit trail.
-- Dates are ISO-8601 text (YYYY-MM-DD), timestamps RFC 3339 UTC text: the same in both dialects,
-- they sort correctly as text and decode through sqlx's Any driver. Money is integer fen + currency.

create table org_unit (
    id integer primary key,
    code text not null unique,
    name text not null,
    kind text not null check (kind in ('head_office', 'tier1_branch', 'tier2_branch', 'sub_branch')),
    parent_id integer references org_unit (id),
    -- Materialised path '/1/4/13/': subtree visibility is one prefix match.
    path text not null unique,
    created_at text not null
);

create table app_user (
    id integer primary key,
    username text not null unique,
    display_name text not null,
    role text not null check (role in ('administrator', 'head_office_kam', 'branch_manager',
        'sub_branch_president', 'relationship_manager', 'teller', 'risk_officer', 'auditor')),
    org_unit_id integer not null references org_unit (id),
    line text check (line in ('corporate', 'retail', 'international', 'small_business',
        'investment_banking', 'treasury')),
    password_hash text not null,
    disabled integer not null default 0 check (disabled in (0, 1)),
    created_at text not null
);

create table customer (
    id integer primary key,
    cif_no text not null unique,
    kind text not null check (kind in ('corporate', 'individual')),
    name text not null,
    line text not null check (line in ('corporate', 'retail', 'international', 'small_business',
        'investment_banking', 'treasury')),
    org_unit_id integer not null references org_unit (id),
    industry text,
    account_type text not null check (account_type in ('ordinary', 'economic', 'important', 'group', 'strategic')),
    risk_tolerance text check (risk_tolerance in ('C1', 'C2', 'C3', 'C4', 'C5')),
    id_number text,
    phone text,
    since text not null,
    created_at text not null,
    check (kind = 'individual' or risk_tolerance is null)
);
create index customer_org_unit on customer (org_unit_id);
create index customer_name on customer (name);

create table customer_group (
    id integer primary key,
    code text not null unique,
    name text not null,
    lead_unit_id integer not null references org_unit (id),
    lead_rm_id integer references app_user (id),
    created_at text not null
);
create index customer_group_lead_rm on customer_group (lead_rm_id);

create table group_co_unit (
    group_id integer not null references customer_group (id),
    org_unit_id integer not null references org_unit (id),
    primary key (group_id, org_unit_id)
);

-- A customer belongs to at most one group; the root member has no parent.
create table group_member (
    customer_id integer primary key references customer (id),
    group_id integer not null references customer_group (id),
    parent_customer_id integer references customer (id)
);
create index group_member_group on group_member (group_id);

create table key_person (
    id integer primary key,
    customer_id integer not null references customer (id),
    name text not null,
    role text not null check (role in ('decision_maker', 'finance_head', 'accountant', 'cashier', 'influencer', 'other')),
    title text,
    closeness integer not null check (closeness between 1 and 5),
    trust integer not null check (trust between 1 and 5),
    favour integer not null check (favour between 1 and 5),
    stage text not null check (stage in ('build', 'deepen', 'extend', 'leverage')),
    created_at text not null
);
create index key_person_customer on key_person (customer_id);

-- History is kept: a handover closes the old row (effective_to, exclusive) and adds a new one.
create table rm_assignment (
    id integer primary key,
    customer_id integer not null references customer (id),
    user_id integer not null references app_user (id),
    role text not null check (role in ('lead', 'member')),
    effective_from text not null,
    effective_to text,
    created_at text not null,
    check (effective_to is null or effective_to > effective_from)
);
create index rm_assignment_user on rm_assignment (user_id, customer_id);
create index rm_assignment_customer on rm_assignment (customer_id);

create table product (
    id integer primary key,
    code text not null unique,
    name text not null,
    line text not null,
    need_category text not null,
    risk_level text not null check (risk_level in ('R1', 'R2', 'R3', 'R4', 'R5')),
    created_at text not null
);

create table account (
    id integer primary key,
    account_no text not null unique,
    customer_id integer not null references customer (id),
    product_id integer not null references product (id),
    currency text not null check (length(currency) = 3),
    org_unit_id integer not null references org_unit (id),
    opened_on text not null,
    closed_on text
);
create index account_customer on account (customer_id);

create table holding (
    customer_id integer not null references customer (id),
    product_id integer not null references product (id),
    amount_minor integer not null,
    currency text not null check (length(currency) = 3),
    as_of text not null,
    primary key (customer_id, product_id, currency, as_of)
);

create table payroll_link (
    employer_id integer not null references customer (id),
    employee_id integer not null references customer (id),
    monthly_amount_minor integer not null check (monthly_amount_minor >= 0),
    currency text not null check (length(currency) = 3),
    since text not null,
    primary key (employer_id, employee_id),
    check (employer_id <> employee_id)
);
create index payroll_link_employee on payroll_link (employee_id);

-- Written by the store inside the transaction of every change; never updated or deleted.
create table audit_event (
    id integer primary key,
    at text not null,
    actor_user_id integer references app_user (id),
    actor text not null,
    action text not null,
    entity text not null,
    entity_key text not null,
    detail text not null
);
create index audit_event_at on audit_event (at);
