//! The corporate archive (大客户信息档案) of a customer: read and saved through the user handle
//! (reach, write permission and a version check in the writing transaction, audited), and loaded
//! for the demo bank by the system through the same writer.

use chrono::NaiveDate;
use kam_core::{
    customer::CustomerKind,
    id::CustomerId,
    money::{Currency, Money},
    profile::{CorporateProfile, CreditCode, Listing, MainBank, RevenueBand},
    reference::ProfileRecord,
};
use sqlx::{Row, any::AnyRow};

use crate::{
    Actor, Error, Result, Store, UserStore, audit, customer::parse_date, handle::WriteTx,
    org::corrupt, sql::Sql,
};

/// An archive as stored: the values, the version (the number of saves) and the last save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProfile {
    pub profile: CorporateProfile,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: String,
}

fn banks_text(banks: &[MainBank]) -> String {
    banks
        .iter()
        .map(|b| format!("{}\t{}", b.name.replace(['\t', '\n'], " "), b.share_percent))
        .collect::<Vec<_>>()
        .join("\n")
}

fn banks_of(text: &str) -> Result<Vec<MainBank>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (name, share) = line.split_once('\t').ok_or_else(|| {
                corrupt(kam_core::ParseError::new(
                    "main_banks",
                    line,
                    "not a line of name and percent",
                    "不是“名称、占比”格式的一行",
                ))
            })?;
            Ok(MainBank {
                name: name.to_owned(),
                share_percent: share.parse().map_err(|_| {
                    corrupt(kam_core::ParseError::new(
                        "main_banks",
                        line,
                        "the share is not a whole percent",
                        "占比不是整数百分比",
                    ))
                })?,
            })
        })
        .collect()
}

fn profile_from_row(row: &AnyRow) -> Result<StoredProfile> {
    let text = |column: &str| -> Result<Option<String>> { Ok(row.try_get(column)?) };
    let capital = match (
        row.try_get::<Option<i64>, _>("registered_capital_minor")?,
        text("registered_capital_currency")?,
    ) {
        (Some(minor), Some(code)) => Some(Money::from_minor(
            minor,
            Currency::parse(&code).map_err(corrupt)?,
        )),
        _ => None,
    };
    Ok(StoredProfile {
        profile: CorporateProfile {
            legal_representative: text("legal_representative")?,
            registered_capital: capital,
            established_on: text("established_on")?
                .map(|d| parse_date("established_on", &d))
                .transpose()?,
            business_scope: text("business_scope")?,
            credit_code: text("credit_code")?
                .map(|c| CreditCode::parse(&c).map_err(corrupt))
                .transpose()?,
            listing: text("listing")?
                .map(|c| Listing::parse(&c).map_err(corrupt))
                .transpose()?,
            employees: row.try_get("employees")?,
            revenue_band: text("revenue_band")?
                .map(|c| RevenueBand::parse(&c).map_err(corrupt))
                .transpose()?,
            our_share_percent: row
                .try_get::<Option<i64>, _>("our_share_percent")?
                .map(|s| u8::try_from(s).unwrap_or(u8::MAX)),
            main_banks: banks_of(&row.try_get::<String, _>("main_banks")?)?,
        },
        version: row.try_get("version")?,
        updated_by: row.try_get("updated_by")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The one writer of `corporate_profile`: replaces a customer's row with `profile` at `version`.
pub(crate) async fn write_profile(
    tx: &mut WriteTx,
    customer: i64,
    profile: &CorporateProfile,
    version: i64,
    by: &str,
) -> Result<()> {
    Sql::new("delete from corporate_profile where customer_id = ")
        .bind(customer)
        .query()
        .execute(&mut **tx)
        .await?;
    let p = profile;
    Sql::new(
        "insert into corporate_profile (customer_id, legal_representative, registered_capital_minor, \
         registered_capital_currency, established_on, business_scope, credit_code, listing, employees, \
         revenue_band, our_share_percent, main_banks, version, updated_by, updated_at) values (",
    )
    .bind(customer)
    .push(", ")
    .bind(p.legal_representative.as_deref())
    .push(", ")
    .bind(p.registered_capital.as_ref().map(Money::minor))
    .push(", ")
    .bind(p.registered_capital.as_ref().map(|m| m.currency().as_str().to_owned()))
    .push(", ")
    .bind(p.established_on.map(|d| d.to_string()))
    .push(", ")
    .bind(p.business_scope.as_deref())
    .push(", ")
    .bind(p.credit_code.as_ref().map(|c| c.as_str().to_owned()))
    .push(", ")
    .bind(p.listing.map(Listing::as_str))
    .push(", ")
    .bind(p.employees)
    .push(", ")
    .bind(p.revenue_band.map(RevenueBand::as_str))
    .push(", ")
    .bind(p.our_share_percent.map(i64::from))
    .push(", ")
    .bind(banks_text(&p.main_banks))
    .push(", ")
    .bind(version)
    .push(", ")
    .bind(by)
    .push(", ")
    .bind(audit::now())
    .push(")")
    .query()
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A customer by number for the import's merge: its id, whether it is a company, and its
/// stored archive. `None` when no customer has the number.
pub(crate) async fn customer_with_profile(
    tx: &mut WriteTx,
    cif: &str,
) -> Result<Option<(i64, bool, Option<StoredProfile>)>> {
    let Some(row) = Sql::new(
        "select c.id as found_id, c.kind as found_kind, p.* from customer c \
         left join corporate_profile p on p.customer_id = c.id where c.cif_no = ",
    )
    .bind(cif)
    .query()
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let stored = match row.try_get::<Option<i64>, _>("customer_id")? {
        Some(_) => Some(profile_from_row(&row)?),
        None => None,
    };
    Ok(Some((
        row.try_get("found_id")?,
        row.try_get::<String, _>("found_kind")? == CustomerKind::Corporate.as_str(),
        stored,
    )))
}

impl UserStore {
    /// The archive of a customer in reach (`NotFound` otherwise); `None` before anyone saved one.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn corporate_profile(
        &self,
        customer_id: CustomerId,
    ) -> Result<Option<StoredProfile>> {
        self.customer(customer_id).await?;
        self.corporate_profile_unchecked(customer_id).await
    }

    /// The archive of a customer already proven in reach (the 360's head).
    pub(crate) async fn corporate_profile_unchecked(
        &self,
        customer_id: CustomerId,
    ) -> Result<Option<StoredProfile>> {
        Sql::new("select * from corporate_profile where customer_id = ")
            .bind(customer_id.0)
            .query()
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(profile_from_row)
            .transpose()
    }

    /// Saves the archive of a corporate customer in reach. `seen` is the version the form
    /// started from (0 when there was none): if someone saved since, `Conflict` and nothing is
    /// written. kam-core checks the values (`Invalid`, naming the field); reach is `NotFound`,
    /// a read-only scope `ReadOnly` (both audited). Returns the new version.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn save_corporate_profile(
        &self,
        customer_id: CustomerId,
        profile: &CorporateProfile,
        seen: i64,
    ) -> Result<i64> {
        let mut find = self.visible("select c.id, c.cif_no, c.kind from customer c");
        find.push(" and c.id = ").bind(customer_id.0);
        let (mut tx, found) = self
            .begin_customer_write(find, "edit", "corporate_profile", &customer_id.to_string())
            .await?;
        let cif: String = found.try_get("cif_no")?;
        if found.try_get::<String, _>("kind")? != CustomerKind::Corporate.as_str() {
            return Err(Error::Invalid(kam_core::ParseError::new(
                "customer",
                cif,
                "the archive is kept for corporate customers",
                "信息档案只用于对公客户",
            )));
        }
        profile.check(self.scope().on())?;
        let now: i64 = Sql::new("select version from corporate_profile where customer_id = ")
            .bind(customer_id.0)
            .query()
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?
            .unwrap_or(0);
        if now != seen {
            return Err(Error::Conflict {
                entity: "corporate_profile",
                key: cif,
            });
        }
        let version = now + 1;
        write_profile(
            &mut tx,
            customer_id.0,
            profile,
            version,
            self.actor().name.as_str(),
        )
        .await?;
        audit::record(
            &mut tx,
            self.actor(),
            "edit",
            "corporate_profile",
            &cif,
            &format!("version {version}"),
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }
}

impl Store {
    /// Loads archives for the demo bank (customer number → archive), as version 1 by `actor`,
    /// through the same writer as a person's save; unknown numbers are skipped. Returns how
    /// many were written.
    pub async fn load_profiles(
        &self,
        actor: &Actor,
        profiles: &[ProfileRecord],
        today: NaiveDate,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let ids = crate::indicator::customer_ids(&mut tx).await?;
        let mut written = 0;
        for ProfileRecord { cif_no, profile } in profiles {
            let Some(id) = ids.get(cif_no) else { continue };
            profile.check(today)?;
            write_profile(&mut tx, *id, profile, 1, actor.name.as_str()).await?;
            written += 1;
        }
        audit::record(
            &mut tx,
            actor,
            "bulk_load",
            "corporate_profile",
            "-",
            &format!("{written} archives"),
        )
        .await?;
        tx.commit().await?;
        Ok(written)
    }
}
