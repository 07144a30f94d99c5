-- Why: the corporate archive (大客户信息档案) is what an RM keeps about a company beyond the core
-- system's master data. One row per corporate customer, edited by people: `version` counts the
-- saves so that two people never silently overwrite each other (a save names the version it
-- started from), and who saved last and when are kept with the row (every save is also audited).
-- main_banks holds the other banks the company works with as lines of "name<TAB>percent": a short
-- list always read and written whole with its row.
create table corporate_profile (
    customer_id integer primary key references customer (id),
    legal_representative text,
    registered_capital_minor integer,
    registered_capital_currency text,
    established_on text,
    business_scope text,
    credit_code text,
    listing text,
    employees integer,
    revenue_band text,
    our_share_percent integer,
    main_banks text not null,
    version integer not null,
    updated_by text not null,
    updated_at text not null
);
