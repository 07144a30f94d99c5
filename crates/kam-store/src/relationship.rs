//! The people around a customer: key people and RM assignments (the team). Reads take a `Scope`
//! and answer `NotFound` for a customer the scope may not see. Products, holdings and payroll are
//! in `product.rs`.

use chrono::NaiveDate;
use kam_core::{
    assignment::{AssignmentRole, RmAssignment, lead_handover},
    contact::{ContactRole, KeyPerson, NewKeyPerson, Rating, RelationshipStage},
    id::{AssignmentId, CustomerId, KeyPersonId, UserId},
    visibility::Scope,
};
use sqlx::{Row, any::AnyRow};

use crate::{Actor, Result, Store, audit, customer::parse_date, org::corrupt, sql::Sql};

fn key_person_from_row(row: &AnyRow) -> Result<KeyPerson> {
    let rating = |column: &'static str| -> Result<Rating> {
        Rating::new(column, row.try_get(column)?).map_err(corrupt)
    };
    Ok(KeyPerson {
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

impl Store {
    pub async fn add_key_person(
        &self,
        actor: &Actor,
        scope: &Scope,
        customer_id: CustomerId,
        person: &NewKeyPerson,
    ) -> Result<KeyPersonId> {
        let customer = self.check_writable(scope, customer_id).await?;
        let mut tx = self.begin_write().await?;
        let id: i64 = Sql::new("insert into key_person (customer_id, name, role, title, closeness, trust, favour, stage, created_at) values (")
            .bind(customer_id.0).push(", ")
            .bind(person.name.as_str()).push(", ")
            .bind(person.role.as_str()).push(", ")
            .bind(person.title.clone()).push(", ")
            .bind(i64::from(person.closeness.get())).push(", ")
            .bind(i64::from(person.trust.get())).push(", ")
            .bind(i64::from(person.favour.get())).push(", ")
            .bind(person.stage.as_str()).push(", ")
            .bind(audit::now())
            .push(") returning id")
            .query()
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
        let detail = format!("{} ({})", person.name, person.role);
        audit::record(
            &mut tx,
            actor,
            "add",
            "key_person",
            customer.cif_no.as_str(),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(KeyPersonId(id))
    }

    pub async fn key_people(
        &self,
        scope: &Scope,
        customer_id: CustomerId,
    ) -> Result<Vec<KeyPerson>> {
        self.customer(scope, customer_id).await?;
        self.key_people_unchecked(customer_id).await
    }

    /// `key_people` once the caller has checked that the customer is in reach.
    pub(crate) async fn key_people_unchecked(
        &self,
        customer_id: CustomerId,
    ) -> Result<Vec<KeyPerson>> {
        let rows = Sql::new("select id, customer_id, name, role, title, closeness, trust, favour, stage from key_person where customer_id = ")
            .bind(customer_id.0)
            .push(" order by id")
            .query()
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(key_person_from_row).collect()
    }

    /// Assigns an RM to a customer from `starts`. A new lead closes the current lead's row on
    /// that date (history kept); a team member is simply added.
    pub async fn assign_rm(
        &self,
        actor: &Actor,
        scope: &Scope,
        customer_id: CustomerId,
        username: &str,
        role: AssignmentRole,
        starts: NaiveDate,
    ) -> Result<AssignmentId> {
        let customer = self.check_writable(scope, customer_id).await?;
        let rm = self.user_by_username(username).await?;
        let history = self.assignment_history(scope, customer_id).await?;
        let mut tx = self.begin_write().await?;
        if role == AssignmentRole::Lead
            && let Some(closing) = lead_handover(&history, starts)?
        {
            Sql::new("update rm_assignment set effective_to = ")
                .bind(starts.to_string())
                .push(" where id = ")
                .bind(closing.0)
                .query()
                .execute(&mut *tx)
                .await?;
        }
        let id: i64 = Sql::new("insert into rm_assignment (customer_id, user_id, role, effective_from, effective_to, created_at) values (")
            .bind(customer_id.0).push(", ")
            .bind(rm.id.0).push(", ")
            .bind(role.as_str()).push(", ")
            .bind(starts.to_string())
            .push(", null, ")
            .bind(audit::now())
            .push(") returning id")
            .query()
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
        let detail = format!("{} {} from {starts}", rm.username, role);
        audit::record(
            &mut tx,
            actor,
            "assign",
            "rm_assignment",
            customer.cif_no.as_str(),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(AssignmentId(id))
    }

    /// Every assignment of a customer, oldest first, closed ones included.
    pub async fn assignment_history(
        &self,
        scope: &Scope,
        customer_id: CustomerId,
    ) -> Result<Vec<RmAssignment>> {
        self.customer(scope, customer_id).await?;
        let rows = Sql::new("select id, customer_id, user_id, role, effective_from, effective_to from rm_assignment where customer_id = ")
            .bind(customer_id.0)
            .push(" order by effective_from, id")
            .query()
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(assignment_from_row).collect()
    }
}

/// A member of a customer's team today, with the user's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMember {
    pub username: String,
    pub display_name: String,
    pub role: AssignmentRole,
    pub since: NaiveDate,
}

impl Store {
    /// The team (lead first) of a visible customer on `on`.
    pub async fn team_of(
        &self,
        scope: &Scope,
        customer_id: CustomerId,
        on: NaiveDate,
    ) -> Result<Vec<TeamMember>> {
        self.customer(scope, customer_id).await?;
        self.team_of_unchecked(customer_id, on).await
    }

    /// `team_of` once the caller has checked that the customer is in reach.
    pub(crate) async fn team_of_unchecked(
        &self,
        customer_id: CustomerId,
        on: NaiveDate,
    ) -> Result<Vec<TeamMember>> {
        let on = on.to_string();
        let rows = Sql::new(
            "select u.username, u.display_name, a.role, a.effective_from from rm_assignment a \
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
