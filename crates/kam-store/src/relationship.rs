//! The people around a customer: key people and RM assignments (the team). Reads and writes are
//! on the user handle and answer `NotFound` for a customer out of reach. Products, holdings and payroll are
//! in `product.rs`.

use std::collections::HashMap;

use chrono::NaiveDate;
use kam_core::{
    ParseError,
    assignment::{AssignmentRole, History, RmAssignment},
    contact::{ContactRole, KeyPerson, NewKeyPerson, PersonDetails, Rating, RelationshipStage},
    customer::Phone,
    id::{AssignmentId, CustomerId, KeyPersonId, UserId},
    org::OrgPath,
};
use sqlx::{Row, any::AnyRow};

use crate::{
    Error, Result, Store, UserStore, audit,
    bulk::{insert_one, insert_values},
    customer::parse_date,
    handle::WriteTx,
    org::corrupt,
    rows,
    sql::Sql,
    user::user_by_username_on,
};

/// The columns of a `KeyPerson`.
const KEY_PERSON_COLUMNS: &str = "id, customer_id, name, role, title, closeness, trust, favour, \
    stage, stage_since, phone, birthday, owner, notes, version";

fn key_person_from_row(row: &AnyRow) -> Result<KeyPerson> {
    let rating = |column: &'static str| -> Result<Rating> {
        Rating::new(column, row.try_get(column)?).map_err(corrupt)
    };
    let date = |column: &'static str| -> Result<Option<NaiveDate>> {
        row.try_get::<Option<String>, _>(column)?
            .map(|d| parse_date(column, &d))
            .transpose()
    };
    Ok(KeyPerson {
        stage_since: date("stage_since")?,
        details: PersonDetails {
            phone: row
                .try_get::<Option<String>, _>("phone")?
                .map(|p| Phone::parse(&p).map_err(corrupt))
                .transpose()?,
            birthday: date("birthday")?,
            owner: row.try_get("owner")?,
            notes: row.try_get("notes")?,
        },
        version: row.try_get("version")?,
        id: KeyPersonId(row.try_get("id")?),
        customer_id: CustomerId(row.try_get("customer_id")?),
        name: row.try_get("name")?,
        role: ContactRole::parse(&row.try_get::<String, _>("role")?).map_err(corrupt)?,
        title: row.try_get("title")?,
        closeness: rating("closeness")?,
        trust: rating("trust")?,
        favour: rating("favour")?,
        stage: RelationshipStage::parse(&row.try_get::<String, _>("stage")?).map_err(corrupt)?,
    })
}

fn assignment_from_row(row: &AnyRow) -> Result<RmAssignment> {
    Ok(RmAssignment {
        id: AssignmentId(row.try_get("id")?),
        customer_id: CustomerId(row.try_get("customer_id")?),
        user_id: UserId(row.try_get("user_id")?),
        role: AssignmentRole::parse(&row.try_get::<String, _>("role")?).map_err(corrupt)?,
        effective_from: parse_date(
            "effective_from",
            &row.try_get::<String, _>("effective_from")?,
        )?,
        effective_to: row
            .try_get::<Option<String>, _>("effective_to")?
            .map(|d| parse_date("effective_to", &d))
            .transpose()?,
    })
}

impl UserStore {
    /// Adds a key person to a customer in reach, in their stage from today (`ReadOnly` for a
    /// read-only scope; kam-core's check of the details and an owner who is a user, `Invalid`
    /// naming the field; a person of the same name and role already there, `Conflict`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_key_person(
        &self,
        customer_id: CustomerId,
        person: &NewKeyPerson,
    ) -> Result<KeyPersonId> {
        let (mut tx, cif_no) = self
            .begin_customer_change(customer_id, "add", "key_person")
            .await?;
        check_person(&mut tx, person, self.scope().on()).await?;
        let now = audit::now();
        let row = rows::key_person(
            customer_id.0,
            person,
            Some(self.scope().on()),
            (self.actor().name.as_str(), &now),
        );
        let key = format!("{cif_no}/{}", person.name);
        let id = insert_one(&mut tx, rows::KEY_PERSON.name, row, ("key_person", &key)).await?;
        let detail = format!("{} ({})", person.name, person.role);
        audit::record(&mut tx, self.actor(), "add", "key_person", &cif_no, &detail).await?;
        tx.commit().await?;
        Ok(KeyPersonId(id))
    }

    /// Changes a current key person of a customer in reach to `person`. `seen` is the version
    /// the form started from: someone's save since is `Conflict` and nothing is written. A change
    /// of stage dates the new stage today. Returns the new version.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn edit_key_person(
        &self,
        customer_id: CustomerId,
        id: KeyPersonId,
        person: &NewKeyPerson,
        seen: i64,
    ) -> Result<i64> {
        let (mut tx, cif_no) = self
            .begin_customer_change(customer_id, "edit", "key_person")
            .await?;
        let stored = current_person(&mut tx, customer_id, id, (seen, &cif_no)).await?;
        check_person(&mut tx, person, self.scope().on()).await?;
        let d = &person.details;
        let version = seen + 1;
        Sql::new("update key_person set name = ")
            .bind(person.name.as_str())
            .push(", role = ")
            .bind(person.role.as_str())
            .push(", title = ")
            .bind(person.title.as_deref())
            .push(", closeness = ")
            .bind(i64::from(person.closeness.get()))
            .push(", trust = ")
            .bind(i64::from(person.trust.get()))
            .push(", favour = ")
            .bind(i64::from(person.favour.get()))
            .push(", stage = ")
            .bind(person.stage.as_str())
            .push(", stage_since = ")
            .bind(
                stored
                    .stage_since_after(person.stage, self.scope().on())
                    .map(|d| d.to_string()),
            )
            .push(", phone = ")
            .bind(d.phone.as_ref().map(|p| p.reveal().to_owned()))
            .push(", birthday = ")
            .bind(d.birthday.map(|d| d.to_string()))
            .push(", owner = ")
            .bind(d.owner.clone())
            .push(", notes = ")
            .bind(d.notes.clone())
            .push(", version = ")
            .bind(version)
            .push(", updated_by = ")
            .bind(self.actor().name.as_str())
            .push(", updated_at = ")
            .bind(audit::now())
            .push(" where id = ")
            .bind(id.0)
            .query()
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::from_write(e, "key_person", &cif_no))?;
        let detail = format!("{} ({}) version {version}", person.name, person.role);
        audit::record(
            &mut tx,
            self.actor(),
            "edit",
            "key_person",
            &cif_no,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Retires a current key person of a customer in reach (left the company, no longer a
    /// contact): the row stays with the day and the reason, audited, and the 360 lists them no
    /// more. `seen` as for an edit.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn retire_key_person(
        &self,
        customer_id: CustomerId,
        id: KeyPersonId,
        reason: &str,
        seen: i64,
    ) -> Result<()> {
        let (mut tx, cif_no) = self
            .begin_customer_change(customer_id, "retire", "key_person")
            .await?;
        let stored = current_person(&mut tx, customer_id, id, (seen, &cif_no)).await?;
        let reason = reason.trim();
        if reason.chars().count() < 2 || reason.chars().count() > 200 {
            return Err(Error::Invalid(ParseError::new(
                "reason",
                reason.chars().take(20).collect::<String>(),
                "say why, in 2 to 200 characters",
                "请说明原因（2 至 200 字）",
            )));
        }
        Sql::new("update key_person set retired_on = ")
            .bind(self.scope().on().to_string())
            .push(", retired_reason = ")
            .bind(reason)
            .push(", version = ")
            .bind(seen + 1)
            .push(", updated_by = ")
            .bind(self.actor().name.as_str())
            .push(", updated_at = ")
            .bind(audit::now())
            .push(" where id = ")
            .bind(id.0)
            .query()
            .execute(&mut *tx)
            .await?;
        let detail = format!("{} ({}): {reason}", stored.name, stored.role);
        audit::record(
            &mut tx,
            self.actor(),
            "retire",
            "key_person",
            &cif_no,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A visible customer's key people.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn key_people(&self, customer_id: CustomerId) -> Result<Vec<KeyPerson>> {
        self.customer(customer_id).await?;
        self.store().key_people_unchecked(customer_id).await
    }

    /// Assigns an RM to a customer in reach from `starts`. A new lead closes the current lead's
    /// row on that date (history kept); a team member is simply added.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn assign_rm(
        &self,
        customer_id: CustomerId,
        username: &str,
        role: AssignmentRole,
        starts: NaiveDate,
    ) -> Result<AssignmentId> {
        let (mut tx, cif_no) = self
            .begin_customer_change(customer_id, "assign", "rm_assignment")
            .await?;
        // kam-core decides who appoints whom: a manager, an RM or president within reach and
        // line. An unknown name gets the same answer as one out of reach.
        let rm = user_by_username_on(&mut *tx, username).await.ok();
        let unit: Option<String> = match &rm {
            Some(rm) => Sql::new("select path from org_unit where id = ")
                .bind(rm.org_unit_id.0)
                .query()
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.try_get(0))
                .transpose()?,
            None => None,
        };
        let permitted = match (&rm, unit) {
            (Some(rm), Some(path)) => self
                .scope()
                .may_appoint(rm, &OrgPath::parse(&path).map_err(corrupt)?),
            _ => false,
        };
        let Some(rm) = rm.filter(|_| permitted) else {
            let refused = Error::NotPermitted(
                "a manager appoints an RM or president within their reach and line",
            );
            return Err(self
                .refuse(tx, "assign", "rm_assignment", &cif_no, refused)
                .await);
        };
        let row = NewAssignment {
            customer: customer_id,
            user: rm.id,
            role,
            from: starts,
            to: None,
        };
        let max_binds = self.store().backend().max_binds();
        if let Some((_, error)) = write_assignments(&mut tx, max_binds, &[row]).await?.0.pop() {
            return Err(Error::Invalid(error));
        }
        let id: i64 = Sql::new("select id from rm_assignment where customer_id = ")
            .bind(customer_id.0)
            .push(" and user_id = ")
            .bind(rm.id.0)
            .push(" and role = ")
            .bind(role.as_str())
            .push(" and effective_from = ")
            .bind(starts.to_string())
            .query()
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
        let id = AssignmentId(id);
        let detail = format!("{} {} from {starts}", rm.username, role);
        audit::record(
            &mut tx,
            self.actor(),
            "assign",
            "rm_assignment",
            &cif_no,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Ends one assignment of a customer in reach on `ends` (a team member leaves, or a lead is
    /// taken off without a successor). The same rules as appointing: a manager within reach
    /// (`NotPermitted` otherwise, audited); `NotFound` for an assignment of another customer;
    /// kam-core's `History` refuses an end before the start (`Invalid`). History is kept: the
    /// row stays, with its end.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn end_assignment(
        &self,
        customer_id: CustomerId,
        assignment: AssignmentId,
        ends: NaiveDate,
    ) -> Result<()> {
        let (mut tx, cif_no) = self
            .begin_customer_change(customer_id, "end", "rm_assignment")
            .await?;
        if !self.scope().appoints_relationship_managers() {
            let refused = Error::NotPermitted("a manager ends an RM's assignment");
            return Err(self
                .refuse(tx, "end", "rm_assignment", &cif_no, refused)
                .await);
        }
        let stored = assignments_on(&mut *tx, customer_id)
            .await?
            .into_iter()
            .find(|a| a.id == assignment)
            .ok_or_else(|| Error::NotFound {
                entity: "rm_assignment",
                key: assignment.0.to_string(),
            })?;
        let row = NewAssignment {
            customer: customer_id,
            user: stored.user_id,
            role: stored.role,
            from: stored.effective_from,
            to: Some(ends),
        };
        let max_binds = self.store().backend().max_binds();
        if let Some((_, error)) = write_assignments(&mut tx, max_binds, &[row]).await?.0.pop() {
            return Err(Error::Invalid(error));
        }
        audit::record(
            &mut tx,
            self.actor(),
            "end",
            "rm_assignment",
            &cif_no,
            &format!("{} {} until {ends}", stored.user_id.0, stored.role),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every assignment of a visible customer, oldest first, closed ones included.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn assignment_history(&self, customer_id: CustomerId) -> Result<Vec<RmAssignment>> {
        self.customer(customer_id).await?;
        assignments_on(self.pool(), customer_id).await
    }
}

impl Store {
    /// `key_people` once the caller has checked that the customer is in reach.
    pub(crate) async fn key_people_unchecked(
        &self,
        customer_id: CustomerId,
    ) -> Result<Vec<KeyPerson>> {
        let rows = Sql::new(&format!(
            "select {KEY_PERSON_COLUMNS} from key_person where retired_on is null and customer_id = "
        ))
        .bind(customer_id.0)
        .push(" order by id")
            .query()
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(key_person_from_row).collect()
    }
}

/// A current (not retired) key person of the customer at the version a form started from, in
/// the writing transaction; another customer's person, or a retired one, is `NotFound`; one
/// saved since `seen` is `Conflict` (keyed by the customer number `cif`).
async fn current_person(
    tx: &mut WriteTx,
    customer_id: CustomerId,
    id: KeyPersonId,
    (seen, cif): (i64, &str),
) -> Result<KeyPerson> {
    let row = Sql::new(&format!(
        "select {KEY_PERSON_COLUMNS} from key_person where retired_on is null and id = "
    ))
    .bind(id.0)
    .push(" and customer_id = ")
    .bind(customer_id.0)
    .query()
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "key_person",
        key: id.0.to_string(),
    })?;
    let person = key_person_from_row(&row)?;
    if person.version != seen {
        return Err(Error::Conflict {
            entity: "key_person",
            key: format!("{cif}/{}", person.name),
        });
    }
    Ok(person)
}

/// kam-core's check of what an RM keeps, and an owner who is a user of kam.
async fn check_person(tx: &mut WriteTx, person: &NewKeyPerson, today: NaiveDate) -> Result<()> {
    person.details.check(today)?;
    if let Some(owner) = &person.details.owner
        && user_by_username_on(&mut **tx, owner).await.is_err()
    {
        return Err(Error::Invalid(ParseError::new(
            "owner",
            owner.as_str(),
            "no user with this name",
            "没有此登录名的用户",
        )));
    }
    Ok(())
}

/// Every assignment of a customer, oldest first, closed ones included.
async fn assignments_on<'e, E>(on: E, customer_id: CustomerId) -> Result<Vec<RmAssignment>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = Sql::new("select id, customer_id, user_id, role, effective_from, effective_to from rm_assignment where customer_id = ")
        .bind(customer_id.0)
        .push(" order by effective_from, id")
        .query()
        .fetch_all(on)
        .await?;
    rows.iter().map(assignment_from_row).collect()
}

/// One assignment row to write (`write_assignments`).
#[derive(Debug, Clone)]
pub(crate) struct NewAssignment {
    pub customer: CustomerId,
    pub user: UserId,
    pub role: AssignmentRole,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// The one writer of `rm_assignment`, for the bulk load, the import's merge and the user handle
/// alike: each customer's stored history, then the rows in order through kam-core's `History`
/// (an end after the start; a new open lead hands over — the open lead's row ends the day the
/// new one starts —; no two leads' periods overlap), so a customer never has two leads on a day
/// (the partial unique index `one_open_lead` holds the same in the database). Returns each
/// refused row's index with the reason, and the number of rows written: inserted, or stored rows
/// whose end changed.
pub(crate) async fn write_assignments(
    tx: &mut WriteTx,
    max_binds: usize,
    rows: &[NewAssignment],
) -> Result<(Vec<(usize, ParseError)>, usize)> {
    let mut customers: Vec<CustomerId> = rows.iter().map(|r| r.customer).collect();
    customers.sort_unstable();
    customers.dedup();
    let mut histories: HashMap<CustomerId, History> = HashMap::new();
    for ids in customers.chunks(max_binds.clamp(1, 500)) {
        let mut sql = Sql::new(
            "select id, customer_id, user_id, role, effective_from, effective_to from rm_assignment where customer_id in (",
        );
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(id.0);
        }
        sql.push(") order by effective_from, id");
        let mut stored: HashMap<CustomerId, Vec<RmAssignment>> = HashMap::new();
        for row in sql.query().fetch_all(&mut **tx).await? {
            let assignment = assignment_from_row(&row)?;
            stored
                .entry(assignment.customer_id)
                .or_default()
                .push(assignment);
        }
        for id in ids {
            histories.insert(*id, History::new(stored.remove(id).unwrap_or_default()));
        }
    }
    let mut refused = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let history = histories.entry(row.customer).or_default();
        if let Err(error) = history.record(row.user, row.role, row.from, row.to) {
            refused.push((index, error));
        }
    }
    // Ends first (a handed-over lead closes before its successor opens), then the new rows.
    let mut written = 0;
    let mut inserts = Vec::new();
    let now = audit::now();
    for (customer, history) in &histories {
        for entry in history.entries().iter().filter(|e| e.changed) {
            match entry.id {
                Some(id) => {
                    Sql::new("update rm_assignment set effective_to = ")
                        .bind(entry.effective_to.map(|d| d.to_string()))
                        .push(" where id = ")
                        .bind(id.0)
                        .query()
                        .execute(&mut **tx)
                        .await?;
                    written += 1;
                }
                None => inserts.push(rows::assignment(
                    customer.0,
                    entry.user_id.0,
                    entry.role,
                    entry.effective_from,
                    entry.effective_to,
                    &now,
                )),
            }
        }
    }
    written += insert_values(tx, max_binds, rows::ASSIGNMENT, inserts, None).await?;
    Ok((refused, written))
}

/// A member of a customer's team today, with the user's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMember {
    /// The assignment (to end it).
    pub assignment: AssignmentId,
    pub username: String,
    pub display_name: String,
    pub role: AssignmentRole,
    pub since: NaiveDate,
}

impl UserStore {
    /// The team (lead first) of a visible customer on the scope's day.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn team_of(&self, customer_id: CustomerId) -> Result<Vec<TeamMember>> {
        self.customer(customer_id).await?;
        self.store()
            .team_of_unchecked(customer_id, self.scope().on())
            .await
    }
}

impl Store {
    /// `team_of` once the caller has checked that the customer is in reach.
    pub(crate) async fn team_of_unchecked(
        &self,
        customer_id: CustomerId,
        on: NaiveDate,
    ) -> Result<Vec<TeamMember>> {
        let on = on.to_string();
        let rows = Sql::new(
            "select a.id, u.username, u.display_name, a.role, a.effective_from from rm_assignment a \
             join app_user u on u.id = a.user_id where a.customer_id = ",
        )
        .bind(customer_id.0)
        .push(" and a.effective_from <= ")
        .bind(on.as_str())
        .push(" and (a.effective_to is null or a.effective_to > ")
        .bind(on.as_str())
        .push(") order by case when a.role = 'lead' then 0 else 1 end, u.display_name")
        .query()
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TeamMember {
                    assignment: AssignmentId(row.try_get("id")?),
                    username: row.try_get("username")?,
                    display_name: row.try_get("display_name")?,
                    role: AssignmentRole::parse(&row.try_get::<String, _>("role")?)
                        .map_err(corrupt)?,
                    since: parse_date(
                        "effective_from",
                        &row.try_get::<String, _>("effective_from")?,
                    )?,
                })
            })
            .collect()
    }
}
