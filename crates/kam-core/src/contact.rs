//! Key people at corporate customers (四大金刚 and influencers) and the state of the relationship:
//! who they are, the ratings and the 建/做/拉/用 stage with the day it changed, and what an RM
//! keeps beyond that (phone, birthday, the colleague who owns the relationship, notes).

use chrono::NaiveDate;

use crate::{
    ParseError, code_enum,
    customer::Phone,
    id::{CustomerId, KeyPersonId},
};

code_enum! {
    /// A company's four key people (认识企业的4大金刚: decision maker, finance head, accountant,
    /// cashier) plus influencers and others.
    pub enum ContactRole as "contact_role" {
        DecisionMaker = "decision_maker",
        FinanceHead = "finance_head",
        Accountant = "accountant",
        Cashier = "cashier",
        Influencer = "influencer",
        Other = "other",
    }
}

impl ContactRole {
    pub fn label_zh(self) -> &'static str {
        match self {
            ContactRole::DecisionMaker => "决策人",
            ContactRole::FinanceHead => "财务负责人",
            ContactRole::Accountant => "会计",
            ContactRole::Cashier => "出纳",
            ContactRole::Influencer => "影响者",
            ContactRole::Other => "其他",
        }
    }
}

code_enum! {
    /// 建 → 做 → 拉 → 用: build, deepen, extend, leverage.
    pub enum RelationshipStage as "relationship_stage" {
        Build = "build",
        Deepen = "deepen",
        Extend = "extend",
        Leverage = "leverage",
    }
}

impl RelationshipStage {
    pub fn next(self) -> Option<Self> {
        match self {
            Self::Build => Some(Self::Deepen),
            Self::Deepen => Some(Self::Extend),
            Self::Extend => Some(Self::Leverage),
            Self::Leverage => None,
        }
    }
}

/// A 1–5 rating of closeness (亲近度), trust (信任度) or favour (人情).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rating(u8);

impl Rating {
    pub fn new(field: &'static str, value: i64) -> Result<Self, ParseError> {
        match u8::try_from(value) {
            Ok(v @ 1..=5) => Ok(Self(v)),
            _ => Err(ParseError::new(
                field,
                value.to_string(),
                "a rating is a whole number from 1 to 5",
                "评分应为 1 到 5 的整数",
            )),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// What an RM keeps about a key person beyond who they are. Every field may be unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonDetails {
    /// A mobile number: masked wherever shown, like a customer's.
    pub phone: Option<Phone>,
    pub birthday: Option<NaiveDate>,
    /// The colleague who owns the relationship with this person (a user name), when not the RM.
    pub owner: Option<String>,
    pub notes: Option<String>,
}

/// Longest note kept on a key person.
pub const NOTES_LIMIT: usize = 2_000;

impl PersonDetails {
    /// A birthday between 1900 and `today`, notes within bounds; the first refusal names its
    /// field.
    pub fn check(&self, today: NaiveDate) -> Result<(), ParseError> {
        if let Some(day) = self.birthday {
            let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date");
            if day > today || day < earliest {
                return Err(ParseError::new(
                    "birthday",
                    day.to_string(),
                    "a birthday is between 1900 and today",
                    "生日应在 1900 年至今天之间",
                ));
            }
        }
        if let Some(notes) = &self.notes
            && notes.chars().count() > NOTES_LIMIT
        {
            return Err(ParseError::new(
                "notes",
                notes.chars().take(20).collect::<String>(),
                format!("at most {NOTES_LIMIT} characters"),
                format!("最多 {NOTES_LIMIT} 个字"),
            ));
        }
        if let Some(owner) = &self.owner
            && (owner.is_empty() || owner.chars().count() > 64)
        {
            return Err(ParseError::new(
                "owner",
                owner.clone(),
                "name a colleague by their user name",
                "请填写同事的登录名",
            ));
        }
        Ok(())
    }
}

/// A key person as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPerson {
    pub id: KeyPersonId,
    pub customer_id: CustomerId,
    pub name: String,
    pub role: ContactRole,
    pub title: Option<String>,
    pub closeness: Rating,
    pub trust: Rating,
    pub favour: Rating,
    pub stage: RelationshipStage,
    /// The day the stage was entered (unknown for people loaded before it was kept).
    pub stage_since: Option<NaiveDate>,
    pub details: PersonDetails,
    /// The number of saves: an edit names the version it started from.
    pub version: i64,
}

impl KeyPerson {
    /// The day the stage began after an edit on `today` to `stage`: today when it changed,
    /// else as it was (unknown stays unknown: an edit of the phone does not date the stage).
    pub fn stage_since_after(
        &self,
        stage: RelationshipStage,
        today: NaiveDate,
    ) -> Option<NaiveDate> {
        if stage == self.stage {
            self.stage_since
        } else {
            Some(today)
        }
    }
}

/// A key person to be added (or a person's values as an edit gives them).
#[derive(Debug, Clone)]
pub struct NewKeyPerson {
    pub name: String,
    pub role: ContactRole,
    pub title: Option<String>,
    pub closeness: Rating,
    pub trust: Rating,
    pub favour: Rating,
    pub stage: RelationshipStage,
    pub details: PersonDetails,
}

impl NewKeyPerson {
    pub fn parse(
        name: &str,
        role: ContactRole,
        title: Option<&str>,
        ratings: [i64; 3],
        stage: RelationshipStage,
    ) -> Result<Self, ParseError> {
        Ok(Self {
            name: crate::org::parse_name("name", name)?,
            role,
            title: title
                .map(|t| crate::org::parse_name("title", t))
                .transpose()?,
            closeness: Rating::new("closeness", ratings[0])?,
            trust: Rating::new("trust", ratings[1])?,
            favour: Rating::new("favour", ratings[2])?,
            stage,
            details: PersonDetails::default(),
        })
    }

    /// The same person with what the RM keeps about them.
    pub fn with_details(self, details: PersonDetails) -> Self {
        Self { details, ..self }
    }
}

/// How fresh a relationship is: days since the last logged contact against the expected interval
/// of the customer's tier (rules `[contact] interval_days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Freshness {
    /// Contacted within the interval.
    Fresh,
    /// Past the interval, within twice it: time to get in touch.
    Due,
    /// Past twice the interval: the relationship is cooling.
    Lapsed,
    /// No contact logged.
    Never,
}

impl Freshness {
    pub fn code(self) -> &'static str {
        match self {
            Freshness::Fresh => "fresh",
            Freshness::Due => "due",
            Freshness::Lapsed => "lapsed",
            Freshness::Never => "never",
        }
    }
}

/// A key person's contact as of a day: the last contact, how long ago, how fresh, and the
/// closeness shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactState {
    pub last: Option<NaiveDate>,
    pub days: Option<i64>,
    pub interval: u32,
    pub freshness: Freshness,
    /// The closeness as entered, faded by time since contact (the stored rating is unchanged).
    pub shown_closeness: Rating,
}

/// The contact state of a person rated `closeness`, last contacted on `last`, on `today`, for a
/// customer whose tier expects contact every `interval` days.
///
/// The fade (docs/rules.md): within the interval the closeness is as entered; every further
/// started interval without contact costs one point, down to 1 — `faded = max(1, closeness −
/// ⌊(days − 1) / interval⌋)`. Without any logged contact the rating is shown as entered (kam cannot
/// tell how old it is) and the person is marked as never contacted.
pub fn contact_state(
    closeness: Rating,
    last: Option<NaiveDate>,
    today: NaiveDate,
    interval: u32,
) -> ContactState {
    let interval = interval.max(1);
    let Some(last) = last else {
        return ContactState {
            last: None,
            days: None,
            interval,
            freshness: Freshness::Never,
            shown_closeness: closeness,
        };
    };
    let days = (today - last).num_days().max(0);
    let span = i64::from(interval);
    let freshness = if days <= span {
        Freshness::Fresh
    } else if days <= 2 * span {
        Freshness::Due
    } else {
        Freshness::Lapsed
    };
    let lost = (days - 1).max(0) / span;
    let shown = (i64::from(closeness.get()) - lost).max(1);
    ContactState {
        last: Some(last),
        days: Some(days),
        interval,
        freshness,
        shown_closeness: Rating(u8::try_from(shown).unwrap_or(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_outside_one_to_five_are_refused() {
        assert!(Rating::new("trust", 0).is_err());
        assert!(Rating::new("trust", 6).is_err());
        assert_eq!(Rating::new("trust", 5).unwrap().get(), 5);
    }

    #[test]
    fn details_are_checked_and_a_stage_change_restarts_its_day() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let mut details = PersonDetails {
            birthday: NaiveDate::from_ymd_opt(1975, 3, 9),
            notes: Some("喜欢打羽毛球".into()),
            ..PersonDetails::default()
        };
        assert_eq!(details.check(today), Ok(()));
        details.birthday = today.succ_opt();
        assert_eq!(details.check(today).unwrap_err().field, "birthday");
        details.birthday = None;
        details.notes = Some("字".repeat(NOTES_LIMIT + 1));
        assert_eq!(details.check(today).unwrap_err().field, "notes");
        let since = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let person = KeyPerson {
            id: KeyPersonId(1),
            customer_id: CustomerId(1),
            name: "李明".into(),
            role: ContactRole::FinanceHead,
            title: None,
            closeness: Rating::new("closeness", 3).unwrap(),
            trust: Rating::new("trust", 3).unwrap(),
            favour: Rating::new("favour", 3).unwrap(),
            stage: RelationshipStage::Deepen,
            stage_since: Some(since),
            details: PersonDetails::default(),
            version: 1,
        };
        assert_eq!(
            person.stage_since_after(RelationshipStage::Deepen, today),
            Some(since)
        );
        assert_eq!(
            person.stage_since_after(RelationshipStage::Extend, today),
            Some(today)
        );
        let unknown = KeyPerson {
            stage_since: None,
            ..person
        };
        assert_eq!(
            unknown.stage_since_after(RelationshipStage::Deepen, today),
            None
        );
    }

    #[test]
    fn closeness_fades_one_point_per_interval_without_contact() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let five = Rating::new("closeness", 5).unwrap();
        let ago = |days: u64| Some(today - chrono::Days::new(days));
        let state = |days| contact_state(five, ago(days), today, 30);
        assert_eq!(state(0).freshness, Freshness::Fresh);
        assert_eq!(state(30).shown_closeness.get(), 5);
        assert_eq!(state(30).freshness, Freshness::Fresh);
        assert_eq!(state(31).shown_closeness.get(), 4);
        assert_eq!(state(31).freshness, Freshness::Due);
        assert_eq!(state(60).shown_closeness.get(), 4);
        assert_eq!(state(61).shown_closeness.get(), 3);
        assert_eq!(state(61).freshness, Freshness::Lapsed);
        assert_eq!(state(400).shown_closeness.get(), 1);
        assert_eq!(state(45).days, Some(45));
        let never = contact_state(five, None, today, 30);
        assert_eq!(never.freshness, Freshness::Never);
        assert_eq!(never.shown_closeness, five);
    }

    #[test]
    fn the_stages_run_build_deepen_extend_leverage() {
        let mut stage = RelationshipStage::Build;
        let mut seen = vec![stage];
        while let Some(next) = stage.next() {
            seen.push(next);
            stage = next;
        }
        assert_eq!(seen, RelationshipStage::ALL);
    }
}
