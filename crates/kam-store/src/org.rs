//! The org tree in SQL: units with their materialised paths.

use kam_core::{
    ParseError,
    id::OrgUnitId,
    org::{NewOrgUnit, OrgKind, OrgPath, OrgUnit},
};
use sqlx::{Any, AnyConnection, Row, Transaction, any::AnyRow};

use crate::{Actor, Error, Result, Store, UserStore, audit, sql::Sql};

pub(crate) fn corrupt(error: ParseError) -> Error {
    Error::Corrupt(error)
}

pub(crate) fn org_unit_from_row(row: &AnyRow) -> Result<OrgUnit> {
    Ok(OrgUnit {
        id: OrgUnitId(row.try_get("id")?),
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        kind: OrgKind::parse(&row.try_get::<String, _>("kind")?).map_err(corrupt)?,
        parent_id: row.try_get::<Option<i64>, _>("parent_id")?.map(OrgUnitId),
        path: OrgPath::parse(&row.try_get::<String, _>("path")?).map_err(corrupt)?,
    })
}

const ORG_COLUMNS: &str = "select id, code, name, kind, parent_id, path from org_unit";

impl Store {
    /// Adds a unit under its parent; the parent must exist and be exactly one level up.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_org_unit(&self, actor: &Actor, unit: &NewOrgUnit) -> Result<OrgUnit> {
        let mut tx = self.begin_write().await?;
        let created = insert_org_unit(&mut tx, actor, unit).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Every unit, in tree order (a parent before its children).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_org_units(&self) -> Result<Vec<OrgUnit>> {
        let rows = Sql::new(&format!("{ORG_COLUMNS} order by path"))
            .query()
            .fetch_all(self.pool())
            .await?;
        let mut units = rows
            .iter()
            .map(org_unit_from_row)
            .collect::<Result<Vec<_>>>()?;
        // Text order of paths puts /1/10/ before /1/2/; order by depth-first numeric ids instead.
        units.sort_by_key(|u| {
            u.path
                .as_str()
                .split('/')
                .filter(|p| !p.is_empty())
                .map(|p| p.parse::<i64>().unwrap_or(0))
                .collect::<Vec<_>>()
        });
        Ok(units)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn org_unit_by_code(&self, code: &str) -> Result<OrgUnit> {
        let mut conn = self.pool().acquire().await?;
        org_unit_by_code_on(&mut conn, code).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn org_unit(&self, id: OrgUnitId) -> Result<OrgUnit> {
        let row = Sql::new(&format!("{ORG_COLUMNS} where id = "))
            .bind(id.0)
            .query()
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| Error::NotFound {
                entity: "org_unit",
                key: id.to_string(),
            })?;
        org_unit_from_row(&row)
    }
}

/// Finds a unit by code on `conn` (a pool connection or an open transaction).
pub(crate) async fn org_unit_by_code_on(conn: &mut AnyConnection, code: &str) -> Result<OrgUnit> {
    let row = Sql::new(&format!("{ORG_COLUMNS} where code = "))
        .bind(code)
        .query()
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound {
            entity: "org_unit",
            key: code.to_owned(),
        })?;
    org_unit_from_row(&row)
}

/// Inserts a unit inside `tx`, computing its path from its parent's.
pub(crate) async fn insert_org_unit(
    tx: &mut Transaction<'_, Any>,
    actor: &Actor,
    unit: &NewOrgUnit,
) -> Result<OrgUnit> {
    let parent = match &unit.parent_code {
        Some(code) => Some(org_unit_by_code_on(tx, code).await?),
        None => None,
    };
    if let Some(parent) = &parent
        && Some(parent.kind) != unit.kind.parent_kind()
    {
        return Err(Error::Invalid(ParseError::new(
            "parent_code",
            parent.code.clone(),
            format!(
                "a {} sits under a {}, not under a {}",
                unit.kind.as_str(),
                unit.kind
                    .parent_kind()
                    .map(OrgKind::as_str)
                    .unwrap_or("nothing"),
                parent.kind.as_str()
            ),
            format!(
                "{}的上级不能是{}",
                unit.kind.label_zh(),
                parent.kind.label_zh()
            ),
        )));
    }
    if unit.kind == OrgKind::HeadOffice {
        let root: Option<String> = sqlx::query_scalar(
            "select code from org_unit where parent_id is null order by id limit 1",
        )
        .fetch_optional(&mut **tx)
        .await?;
        kam_core::org::check_one_root(unit, root.as_deref()).map_err(Error::Invalid)?;
    }
    // Insert with a provisional unique path, then set the real one once the id is known.
    let provisional = format!("/pending/{}/", unit.code);
    let id: i64 =
        Sql::new("insert into org_unit (code, name, kind, parent_id, path, created_at) values (")
            .bind(unit.code.as_str())
            .push(", ")
            .bind(unit.name.as_str())
            .push(", ")
            .bind(unit.kind.as_str())
            .push(", ")
            .bind(parent.as_ref().map(|p| p.id.0))
            .push(", ")
            .bind(provisional)
            .push(", ")
            .bind(audit::now())
            .push(") returning id")
            .query()
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| Error::from_write(e, "org_unit", unit.code.clone()))?
            .try_get("id")?;
    let id = OrgUnitId(id);
    let path = match &parent {
        Some(parent) => parent.path.child(id),
        None => OrgPath::root(id),
    };
    Sql::new("update org_unit set path = ")
        .bind(path.as_str())
        .push(" where id = ")
        .bind(id.0)
        .query()
        .execute(&mut **tx)
        .await?;
    audit::record(tx, actor, "create", "org_unit", &unit.code, &unit.name).await?;
    Ok(OrgUnit {
        id,
        code: unit.code.clone(),
        name: unit.name.clone(),
        kind: unit.kind,
        parent_id: parent.map(|p| p.id),
        path,
    })
}

impl UserStore {
    /// The org tree (not customer data: every user may read it, to choose a unit or a colleague).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_org_units(&self) -> Result<Vec<OrgUnit>> {
        self.store().list_org_units().await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn org_unit(&self, id: OrgUnitId) -> Result<OrgUnit> {
        self.store().org_unit(id).await
    }
}
