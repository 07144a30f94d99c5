-- Why: an account has its owner (the account's customer) and may have more parties: joint
-- owners and authorised users (授权人), as a core system's disposition table lists them. The 360
-- shows a customer the accounts it is a party to, and a fact row of a joint account may name any
-- of its owners.
create table account_party (
    account_id integer not null references account (id),
    customer_id integer not null references customer (id),
    role text not null check (role in ('owner', 'authorised')),
    since text,
    primary key (account_id, customer_id)
);
create index account_party_customer on account_party (customer_id);
