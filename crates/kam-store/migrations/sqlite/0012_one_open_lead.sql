-- A customer has at most one open lead RM (客户领导): the store's one writer of rm_assignment hands
-- over (the open lead's row ends the day a new lead starts); this index holds the same rule in the
-- database. Rows written before the writer existed are handed over first: an open lead followed
-- by a later open lead ends the day the next one starts.
update rm_assignment
set effective_to = (
    select min(n.effective_from) from rm_assignment n
    where n.customer_id = rm_assignment.customer_id and n.role = 'lead'
      and n.effective_to is null and n.effective_from > rm_assignment.effective_from
)
where role = 'lead' and effective_to is null and exists (
    select 1 from rm_assignment n
    where n.customer_id = rm_assignment.customer_id and n.role = 'lead'
      and n.effective_to is null and n.effective_from > rm_assignment.effective_from
);

create unique index one_open_lead on rm_assignment (customer_id)
    where role = 'lead' and effective_to is null;
