//! RM assignments (客户领导 and account team) with effective dates; history is kept, never overwritten.

use chrono::NaiveDate;

use crate::{
    ParseError, code_enum,
    id::{AssignmentId, CustomerId, UserId},
};

code_enum! {
    pub enum AssignmentRole as "assignment_role" {
        /// 客户领导: the one RM accountable for the customer.
        Lead = "lead",
        /// A member of the account team.
        Member = "member",
    }
}

/// One assignment; `effective_to` is exclusive and `None` while it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RmAssignment {
    pub id: AssignmentId,
    pub customer_id: CustomerId,
    pub user_id: UserId,
    pub role: AssignmentRole,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
}

impl RmAssignment {
    pub fn is_active_on(&self, day: NaiveDate) -> bool {
        self.effective_from <= day && self.effective_to.is_none_or(|end| day < end)
    }
}

/// How assigning a new lead changes the existing rows: the current lead's row is closed on the
/// new lead's start date (never deleted, never rewritten otherwise), and the new row opens.
///
/// Returns the id of the row to close, if any, or an error when the new start date lies before the
/// current lead's start (history would overlap).
pub fn lead_handover(
    current: &[RmAssignment],
    starts: NaiveDate,
) -> Result<Option<AssignmentId>, ParseError> {
    let open_lead = current
        .iter()
        .find(|a| a.role == AssignmentRole::Lead && a.effective_to.is_none());
    match open_lead {
        Some(lead) if starts <= lead.effective_from => Err(ParseError::new(
            "effective_from",
            starts.to_string(),
            format!(
                "the current lead RM started on {}; a new lead must start later",
                lead.effective_from
            ),
            format!(
                "现任客户领导自 {} 起负责，新任命的生效日期必须晚于该日",
                lead.effective_from
            ),
        )),
        Some(lead) => Ok(Some(lead.id)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    fn lead(id: i64, from: &str, to: Option<&str>) -> RmAssignment {
        RmAssignment {
            id: AssignmentId(id),
            customer_id: CustomerId(1),
            user_id: UserId(id),
            role: AssignmentRole::Lead,
            effective_from: day(from),
            effective_to: to.map(day),
        }
    }

    #[test]
    fn a_new_lead_closes_the_open_lead_row() {
        let history = [
            lead(1, "2024-01-01", Some("2025-01-01")),
            lead(2, "2025-01-01", None),
        ];
        assert_eq!(
            lead_handover(&history, day("2026-03-01")).unwrap(),
            Some(AssignmentId(2))
        );
    }

    #[test]
    fn a_new_lead_cannot_start_before_the_current_one() {
        let history = [lead(2, "2025-01-01", None)];
        assert!(lead_handover(&history, day("2024-12-31")).is_err());
    }

    #[test]
    fn the_end_date_is_exclusive() {
        let row = lead(1, "2024-01-01", Some("2025-01-01"));
        assert!(row.is_active_on(day("2024-12-31")));
        assert!(!row.is_active_on(day("2025-01-01")));
    }
}
