//! Group customers in SQL: the group, its co-units and its member tree, read through a scope.

use std::collections::HashMap;

use kam_core::{
    ParseError,
    group::{Group, GroupMember, MemberTree, NewGroup},
    id::{CustomerId, GroupId, OrgUnitId, UserId},
};
use sqlx::Row;

use crate::{
    Actor, Error, Result, Store, UserStore, audit,
    bulk::{insert_one, insert_values},
    handle::WriteTx,
    rows,
    sql::Sql,
};

/// A group as one scope sees it: the group itself and only the members it may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    pub group: Group,
    pub visible_members: Vec<GroupMember>,
    /// All members, visible or not — the size of the group is not a secret, its members are.
    pub member_count: i64,
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_group(&self, actor: &Actor, group: &NewGroup) -> Result<Group> {
        let lead_unit = self.org_unit_by_code(&group.lead_unit_code).await?;
        let mut co_units = Vec::new();
        for code in &group.co_unit_codes {
            co_units.push(self.org_unit_by_code(code).await?.id);
        }
        let lead_rm = match &group.lead_rm_username {
            Some(name) => Some(self.user_by_username(name).await?.id),
            None => None,
        };
        let mut tx = self.begin_write().await?;
        let row = rows::group(group, lead_unit.id.0, lead_rm.map(|u| u.0), &audit::now());
        let id = insert_one(&mut tx, rows::GROUP.name, row, ("group", &group.code)).await?;
        let co_rows = co_units
            .iter()
            .map(|unit| rows::group_co_unit(id, unit.0))
            .collect();
        let max_binds = self.backend().max_binds();
        insert_values(&mut tx, max_binds, rows::GROUP_CO_UNIT, co_rows, None).await?;
        audit::record(&mut tx, actor, "create", "group", &group.code, &group.name).await?;
        tx.commit().await?;
        Ok(Group {
            id: GroupId(id),
            code: group.code.clone(),
            name: group.name.clone(),
            lead_unit_id: lead_unit.id,
            co_unit_ids: co_units,
            lead_rm_id: lead_rm,
        })
    }

    /// Adds a customer to a group under `parent` (`None` for the root), keeping it a tree.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_group_member(
        &self,
        actor: &Actor,
        group_id: GroupId,
        customer_id: CustomerId,
        parent: Option<CustomerId>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let max_binds = self.backend().max_binds();
        let placement = (customer_id, group_id, parent);
        if let Some((_, error)) = write_members(&mut tx, max_binds, &[placement])
            .await?
            .0
            .pop()
        {
            return Err(Error::Invalid(error));
        }
        let detail = format!(
            "group={group_id} parent={}",
            parent.map(|p| p.to_string()).unwrap_or_default()
        );
        audit::record(
            &mut tx,
            actor,
            "add",
            "group_member",
            &customer_id.to_string(),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl UserStore {
    /// A group with the members in reach; `NotFound` when none of them is.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn group(&self, id: GroupId) -> Result<GroupView> {
        let not_found = || Error::NotFound {
            entity: "group",
            key: id.to_string(),
        };
        let row = Sql::new(
            "select id, code, name, lead_unit_id, lead_rm_id from customer_group where id = ",
        )
        .bind(id.0)
        .query()
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(not_found)?;
        let mut sql = self.visible(
            "select c.id as customer_id, gm.parent_customer_id from group_member gm join customer c on c.id = gm.customer_id",
        );
        sql.push(" and gm.group_id = ").bind(id.0);
        sql.push(" order by c.cif_no");
        let visible_members = sql
            .query()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(GroupMember {
                    group_id: id,
                    customer_id: CustomerId(r.try_get("customer_id")?),
                    parent_customer_id: r
                        .try_get::<Option<i64>, _>("parent_customer_id")?
                        .map(CustomerId),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if visible_members.is_empty() {
            return Err(not_found());
        }
        let co_unit_ids = Sql::new("select org_unit_id from group_co_unit where group_id = ")
            .bind(id.0)
            .push(" order by org_unit_id")
            .query()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok(OrgUnitId(r.try_get("org_unit_id")?)))
            .collect::<Result<Vec<_>>>()?;
        let member_count: i64 =
            Sql::new("select count(*) as n from group_member where group_id = ")
                .bind(id.0)
                .query()
                .fetch_one(self.pool())
                .await?
                .try_get("n")?;
        Ok(GroupView {
            group: Group {
                id,
                code: row.try_get("code")?,
                name: row.try_get("name")?,
                lead_unit_id: OrgUnitId(row.try_get("lead_unit_id")?),
                co_unit_ids,
                lead_rm_id: row.try_get::<Option<i64>, _>("lead_rm_id")?.map(UserId),
            },
            visible_members,
            member_count,
        })
    }

    /// A group by its code, with the members in reach; `NotFound` as for `group`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn group_by_code(&self, code: &str) -> Result<GroupView> {
        let id: i64 = Sql::new("select id from customer_group where code = ")
            .bind(code)
            .query()
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| Error::NotFound {
                entity: "group",
                key: code.to_owned(),
            })?
            .try_get("id")?;
        self.group(GroupId(id)).await
    }

    /// The group a visible customer belongs to, if any.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn group_of_customer(&self, customer_id: CustomerId) -> Result<Option<GroupView>> {
        self.customer(customer_id).await?;
        let group_id: Option<i64> =
            Sql::new("select group_id from group_member where customer_id = ")
                .bind(customer_id.0)
                .query()
                .fetch_optional(self.pool())
                .await?
                .map(|r| r.try_get("group_id"))
                .transpose()?;
        match group_id {
            Some(id) => Ok(Some(self.group(GroupId(id)).await?)),
            None => Ok(None),
        }
    }
}

/// A customer's group as its 360 shows it: the group's name, its size, and the members the
/// reader may see as tree nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerGroup {
    pub id: GroupId,
    pub code: String,
    pub name: String,
    /// All members, visible or not (the size of a group is not a secret, its members are).
    pub member_count: i64,
    pub nodes: Vec<GroupNode>,
}

/// A visible member of a group, as a tree node with its name and unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupNode {
    pub customer_id: CustomerId,
    pub parent_customer_id: Option<CustomerId>,
    pub cif_no: String,
    pub name: String,
    pub org_unit_name: String,
}

impl UserStore {
    /// The members of a group in reach, with names, in customer-number order.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn group_nodes(&self, group_id: GroupId) -> Result<Vec<GroupNode>> {
        let mut sql = self.visible(
            "select c.id, m.parent_customer_id, c.cif_no, c.name, o.name as org_name \
             from group_member m join customer c on c.id = m.customer_id \
             join org_unit o on o.id = c.org_unit_id",
        );
        sql.push(" and m.group_id = ").bind(group_id.0);
        sql.push(" order by c.cif_no");
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(GroupNode {
                    customer_id: CustomerId(row.try_get("id")?),
                    parent_customer_id: row
                        .try_get::<Option<i64>, _>("parent_customer_id")?
                        .map(CustomerId),
                    cif_no: row.try_get("cif_no")?,
                    name: row.try_get("name")?,
                    org_unit_name: row.try_get("org_name")?,
                })
            })
            .collect()
    }
}

/// A customer's place in a group: (customer, group, parent; `None` for the root).
pub(crate) type Placement = (CustomerId, GroupId, Option<CustomerId>);

/// The one writer of `group_member`, for the bulk load, the import's merge and
/// `add_group_member` alike: kam-core's `MemberTree` rules each group — one root, every parent a
/// member, no cycle, and a member that moves to another group leaves nothing hanging under it —
/// against what the table holds. A row whose parent comes later among `rows` waits for it.
/// Returns each refused row's index with the reason, and the rows written (a row already as given
/// is neither rewritten nor counted). The table is read whole: group members are a bank's few
/// thousand group customers, not its millions.
pub(crate) async fn write_members(
    tx: &mut WriteTx,
    max_binds: usize,
    rows: &[Placement],
) -> Result<(Vec<(usize, ParseError)>, usize)> {
    let mut members: HashMap<GroupId, Vec<(CustomerId, Option<CustomerId>)>> = HashMap::new();
    let mut group_of: HashMap<CustomerId, GroupId> = HashMap::new();
    for row in sqlx::query("select group_id, customer_id, parent_customer_id from group_member")
        .fetch_all(&mut **tx)
        .await?
    {
        let group = GroupId(row.try_get(0)?);
        let customer = CustomerId(row.try_get(1)?);
        let parent = row.try_get::<Option<i64>, _>(2)?.map(CustomerId);
        members.entry(group).or_default().push((customer, parent));
        group_of.insert(customer, group);
    }
    let mut trees: HashMap<GroupId, MemberTree> = members
        .into_iter()
        .map(|(group, members)| (group, MemberTree::new(members)))
        .collect();
    let mut verdicts: Vec<Option<std::result::Result<(), ParseError>>> = vec![None; rows.len()];
    // Passes until nothing moves: a row waits while its parent is not (yet) in its group.
    let mut last_pass = false;
    loop {
        let mut progress = false;
        for (index, &(customer, group, parent)) in rows.iter().enumerate() {
            if verdicts[index].is_some() {
                continue;
            }
            let tree = trees.entry(group).or_default();
            let waits = parent.is_some_and(|p| p != customer && !tree.contains(p));
            if waits && !last_pass {
                continue;
            }
            let mut verdict = tree.place(customer, parent);
            let leaves = group_of.get(&customer).copied().filter(|old| *old != group);
            if let (Ok(()), Some(old)) = (&verdict, leaves) {
                let left = trees.get_mut(&old).map_or(Ok(()), |t| t.remove(customer));
                if let Err(error) = left {
                    // Undo the placement: the member stays where it was.
                    trees.get_mut(&group).map(|t| t.remove(customer));
                    verdict = Err(error);
                }
            }
            if verdict.is_ok() {
                group_of.insert(customer, group);
            }
            verdicts[index] = Some(verdict);
            progress = true;
        }
        if last_pass {
            break;
        }
        if !progress {
            // What still waits is refused, each with its reason.
            last_pass = true;
        }
    }
    let mut refused = Vec::new();
    let mut placed = Vec::new();
    for (index, verdict) in verdicts.into_iter().enumerate() {
        match verdict {
            Some(Err(error)) => refused.push((index, error)),
            Some(Ok(())) => placed.push(rows[index].0),
            None => {}
        }
    }
    // One row per member placed, as it finally stands (a member placed twice is written once).
    placed.sort_unstable();
    placed.dedup();
    let written_rows = placed
        .into_iter()
        .filter_map(|customer| {
            let group = *group_of.get(&customer)?;
            let parent = trees.get(&group)?.parent_of(customer)?;
            Some(rows::group_member(customer.0, group.0, parent.map(|p| p.0)))
        })
        .collect();
    let table = rows::GROUP_MEMBER;
    let written =
        insert_values(tx, max_binds, table.name, written_rows, Some(table.upsert)).await?;
    Ok((refused, written))
}
