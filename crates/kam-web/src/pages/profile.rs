//! The corporate archive (大客户信息档案) on its own page: read on the 360, edited here by whoever
//! may change the customer. Validated on the server (kam-core), refused fields named with what
//! was entered kept, a version check so two people never silently overwrite each other, audited
//! by the store.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    response::Response,
};
use kam_core::{
    customer::CustomerKind,
    money::{Currency, Money},
    profile::{CorporateProfile, CreditCode, Listing, MainBank, RevenueBand},
};
use serde::Deserialize;

use crate::{
    App,
    error::WebError,
    i18n::Tr,
    pages::{
        Choice, Chrome, FieldError, back_to_360, code_choices, no_customer_pages, render_form,
    },
    session::Signed,
};

/// This page's routes, into the one route table.
pub(crate) fn routes(routes: crate::Routes) -> crate::Routes {
    routes
        .get("/customers/{cif}/profile", edit_form)
        .post("/customers/{cif}/profile", save)
}

/// Rows of other banks the form offers.
const BANK_ROWS: usize = 4;

/// The archive's fields as the form carries them (text, so a refused value is shown as typed).
#[derive(Debug, Default, Deserialize, Clone)]
pub(crate) struct ProfileForm {
    #[serde(default)]
    legal_representative: String,
    /// In 万元, two decimals at most.
    #[serde(default)]
    registered_capital: String,
    #[serde(default)]
    established_on: String,
    #[serde(default)]
    business_scope: String,
    #[serde(default)]
    credit_code: String,
    #[serde(default)]
    listing: String,
    #[serde(default)]
    employees: String,
    #[serde(default)]
    revenue_band: String,
    #[serde(default)]
    our_share: String,
    #[serde(default)]
    bank_0: String,
    #[serde(default)]
    share_0: String,
    #[serde(default)]
    bank_1: String,
    #[serde(default)]
    share_1: String,
    #[serde(default)]
    bank_2: String,
    #[serde(default)]
    share_2: String,
    #[serde(default)]
    bank_3: String,
    #[serde(default)]
    share_3: String,
    /// The version the form was opened at.
    #[serde(default)]
    version: String,
}

impl ProfileForm {
    fn banks(&self) -> [(&str, &str); BANK_ROWS] {
        [
            (&self.bank_0, &self.share_0),
            (&self.bank_1, &self.share_1),
            (&self.bank_2, &self.share_2),
            (&self.bank_3, &self.share_3),
        ]
        .map(|(b, s)| (b.as_str(), s.as_str()))
    }

    fn of(profile: &CorporateProfile, version: i64) -> Self {
        let mut form = Self {
            legal_representative: profile.legal_representative.clone().unwrap_or_default(),
            registered_capital: profile
                .registered_capital
                .as_ref()
                .map(|m| {
                    crate::format::amount(m.minor(), kam_core::money::AmountUnit::Wan)
                        .replace(',', "")
                })
                .unwrap_or_default(),
            established_on: profile
                .established_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
            business_scope: profile.business_scope.clone().unwrap_or_default(),
            credit_code: profile
                .credit_code
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            listing: profile
                .listing
                .map(|l| l.as_str().to_owned())
                .unwrap_or_default(),
            employees: profile.employees.map(|n| n.to_string()).unwrap_or_default(),
            revenue_band: profile
                .revenue_band
                .map(|b| b.as_str().to_owned())
                .unwrap_or_default(),
            our_share: profile
                .our_share_percent
                .map(|s| s.to_string())
                .unwrap_or_default(),
            version: version.to_string(),
            ..Self::default()
        };
        let slots = [
            (&mut form.bank_0, &mut form.share_0),
            (&mut form.bank_1, &mut form.share_1),
            (&mut form.bank_2, &mut form.share_2),
            (&mut form.bank_3, &mut form.share_3),
        ];
        for ((name, share), bank) in slots.into_iter().zip(&profile.main_banks) {
            *name = bank.name.clone();
            *share = bank.share_percent.to_string();
        }
        form
    }

    /// The archive the form describes, or the first field it gets wrong.
    fn profile(&self, t: &Tr<'_>) -> Result<CorporateProfile, FieldError> {
        let refused =
            |field: &'static str, e: kam_core::ParseError| FieldError::new(field, t.reason(&e));
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let number = |field: &'static str, s: &str| -> Result<Option<i64>, FieldError> {
            match s.trim() {
                "" => Ok(None),
                s => s.parse().map(Some).map_err(|_| {
                    FieldError::new(
                        field,
                        t.with("profile-not-a-number", &[("value", s.into())]),
                    )
                }),
            }
        };
        let percent = |field: &'static str, s: &str| -> Result<Option<u8>, FieldError> {
            number(field, s)?
                .map(|n| {
                    u8::try_from(n)
                        .ok()
                        .filter(|p| *p <= 100)
                        .ok_or_else(|| FieldError::new(field, t.get("profile-percent")))
                })
                .transpose()
        };
        let capital = match self.registered_capital.trim() {
            "" => None,
            wan => {
                // 万元 with two decimals at most: exact, through yuan, never a float.
                let yuan = Money::parse_yuan(wan, Currency::CNY)
                    .map_err(|e| refused("registered_capital", e))?;
                Some(Money::cny(yuan.minor().checked_mul(10_000).ok_or_else(
                    || FieldError::new("registered_capital", t.get("profile-too-large")),
                )?))
            }
        };
        let mut main_banks = Vec::new();
        for (i, (name, share)) in self.banks().into_iter().enumerate() {
            if name.trim().is_empty() && share.trim().is_empty() {
                continue;
            }
            let field = ["share_0", "share_1", "share_2", "share_3"][i];
            main_banks.push(MainBank {
                name: name.trim().to_owned(),
                share_percent: percent(field, share)?.unwrap_or(0),
            });
        }
        Ok(CorporateProfile {
            legal_representative: text(&self.legal_representative),
            registered_capital: capital,
            established_on: match self.established_on.trim() {
                "" => None,
                d => Some(
                    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                        FieldError::new(
                            "established_on",
                            t.with("profile-not-a-date", &[("value", d.into())]),
                        )
                    })?,
                ),
            },
            business_scope: text(&self.business_scope),
            credit_code: match self.credit_code.trim() {
                "" => None,
                c => Some(CreditCode::parse(c).map_err(|e| refused("credit_code", e))?),
            },
            listing: match self.listing.as_str() {
                "" => None,
                c => Some(Listing::parse(c).map_err(|e| refused("listing", e))?),
            },
            employees: number("employees", &self.employees)?,
            revenue_band: match self.revenue_band.as_str() {
                "" => None,
                c => Some(RevenueBand::parse(c).map_err(|e| refused("revenue_band", e))?),
            },
            our_share_percent: percent("our_share", &self.our_share)?,
            main_banks,
        })
    }
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage<'a> {
    c: Chrome<'a>,
    cif_no: String,
    name: String,
    form: ProfileForm,
    listings: Vec<Choice>,
    bands: Vec<Choice>,
    error: Option<FieldError>,
}

impl ProfilePage<'_> {
    fn error_on(&self, field: &str) -> Option<String> {
        FieldError::on(&self.error, field)
    }

    fn banks(&self) -> Vec<(usize, &str, &str)> {
        self.form
            .banks()
            .into_iter()
            .enumerate()
            .map(|(i, (b, s))| (i, b, s))
            .collect()
    }
}

async fn page(
    app: &App,
    signed: &Signed,
    cif: &str,
    form: ProfileForm,
    error: Option<FieldError>,
) -> Result<Response, WebError> {
    let t = signed.tr(app);
    let customer = signed.store.customer_by_cif(cif).await?;
    let page = ProfilePage {
        c: Chrome::new(app, signed, "customers", t.get("profile-title")),
        cif_no: customer.cif_no.to_string(),
        name: customer.name.clone(),
        form,
        listings: code_choices(&t, "listing", Listing::CODES),
        bands: code_choices(&t, "revenue-band", RevenueBand::CODES),
        error,
    };
    let refused = page.error.clone();
    render_form(&page, refused.as_ref())
}

/// The form, filled with the archive as it is (a corporate customer the user may change).
pub(crate) async fn edit_form(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let customer = signed.store.customer_by_cif(&cif).await?;
    if customer.kind != CustomerKind::Corporate {
        return Err(WebError::NotFound);
    }
    crate::pages::writes(&signed)?;
    let form = match signed.store.corporate_profile(customer.id).await? {
        Some(stored) => ProfileForm::of(&stored.profile, stored.version),
        None => ProfileForm {
            version: "0".into(),
            ..ProfileForm::default()
        },
    };
    page(&app, &signed, &cif, form, None).await
}

pub(crate) async fn save(
    State(app): State<App>,
    signed: Signed,
    Path(cif): Path<String>,
    Form(form): Form<ProfileForm>,
) -> Result<Response, WebError> {
    no_customer_pages(&signed)?;
    let t = signed.tr(&app);
    let customer = signed.store.customer_by_cif(&cif).await?;
    let profile = match form.profile(&t) {
        Ok(profile) => profile,
        Err(error) => return page(&app, &signed, &cif, form, Some(error)).await,
    };
    let seen: i64 = form.version.trim().parse().unwrap_or(-1);
    match signed
        .store
        .save_corporate_profile(customer.id, &profile, seen)
        .await
    {
        Ok(_) => {}
        // kam-core's check of the whole: the field it names.
        Err(kam_store::Error::Invalid(e)) => {
            let field = match e.field {
                "legal_representative"
                | "business_scope"
                | "registered_capital"
                | "established_on"
                | "employees"
                | "credit_code" => e.field,
                _ => "our_share",
            };
            let message = t.reason(&e);
            return page(
                &app,
                &signed,
                &cif,
                form,
                Some(FieldError::new(field, message)),
            )
            .await;
        }
        Err(other) => return Err(other.into()),
    }
    back_to_360(&app, &signed, &cif, "profile", t.get("profile-saved")).await
}
