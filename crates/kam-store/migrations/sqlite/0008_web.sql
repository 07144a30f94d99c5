-- Why: what the web application keeps — sign-in sessions that survive a restart, the lockout
-- counters of the password policy, each user's interface language, personal API tokens, and the
-- customers' pinyin initials for search. Session and API tokens are stored only as SHA-256 hashes,
-- so a copy of the database does not sign anyone in.

alter table app_user add column failed_logins integer not null default 0;
-- RFC 3339 UTC; sign-in is refused until then.
alter table app_user add column locked_until text;
alter table app_user add column locale text not null default 'zh-CN' check (locale in ('zh-CN', 'en'));

-- Space-separated spellings of the name's pinyin initials (招商银行 → 'zsyx zsyh'), written by the
-- store with every customer row; searched with like '%…%'.
alter table customer add column name_initials text not null default '';

create table web_session (
    id integer primary key,
    token_hash text not null unique,
    user_id integer not null references app_user (id),
    -- Sent back with every state-changing form; compared in constant time.
    csrf_token text not null,
    created_at text not null,
    last_seen_at text not null
);
create index web_session_user on web_session (user_id);

create table api_token (
    id integer primary key,
    user_id integer not null references app_user (id),
    name text not null,
    token_hash text not null unique,
    created_at text not null,
    last_used_at text,
    revoked_at text
);
create index api_token_user on api_token (user_id);

-- The alert inbox: who an alert is given to (a username), set by a manager or taken by an RM.
alter table alert add column assigned_to text;
