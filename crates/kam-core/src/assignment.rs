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

/// One assignment as `History` keeps it: a stored row (`id`) or one to be written, and whether
/// it changed (a new row, or a stored one whose end was set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub id: Option<AssignmentId>,
    pub user_id: UserId,
    pub role: AssignmentRole,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    pub changed: bool,
}

/// One customer's assignments as changes arrive — one RM assigned from a form, or an extract's
/// rows merged in order — with the rules that keep the history true: an end after the start; a
/// row already stored (same RM, role and start) only takes the row's end; a new open lead hands
/// over (`lead_handover`: the open lead's row ends the day the new one starts); and no two leads'
/// periods overlap, so a customer has at most one lead on any day. A refused change leaves the
/// history as it was.
#[derive(Debug, Clone, Default)]
pub struct History {
    entries: Vec<HistoryEntry>,
}

impl History {
    pub fn new(stored: impl IntoIterator<Item = RmAssignment>) -> Self {
        Self {
            entries: stored
                .into_iter()
                .map(|a| HistoryEntry {
                    id: Some(a.id),
                    user_id: a.user_id,
                    role: a.role,
                    effective_from: a.effective_from,
                    effective_to: a.effective_to,
                    changed: false,
                })
                .collect(),
        }
    }

    pub fn entries(&self) -> &[HistoryEntry] {
        &self.entries
    }

    /// Records one assignment row (see the type's rules).
    pub fn record(
        &mut self,
        user_id: UserId,
        role: AssignmentRole,
        from: NaiveDate,
        to: Option<NaiveDate>,
    ) -> Result<(), ParseError> {
        if let Some(to) = to
            && to <= from
        {
            return Err(ParseError::new(
                "effective_to",
                to.to_string(),
                "an assignment ends after it starts (effective_to is exclusive)",
                "分管结束日期应晚于开始日期（结束日不含）",
            ));
        }
        let mut next = self.entries.clone();
        let same = next
            .iter()
            .position(|e| e.user_id == user_id && e.role == role && e.effective_from == from);
        let at = match same {
            Some(at) => {
                if next[at].effective_to != to {
                    next[at].effective_to = to;
                    next[at].changed = true;
                }
                at
            }
            None => {
                if role == AssignmentRole::Lead && to.is_none() {
                    // `lead_handover` names the row to close by id; positions stand in for ids
                    // here, as rows to be written have none yet.
                    let open: Vec<RmAssignment> = next
                        .iter()
                        .enumerate()
                        .filter(|(_, e)| e.role == AssignmentRole::Lead && e.effective_to.is_none())
                        .map(|(index, e)| RmAssignment {
                            id: AssignmentId(index as i64),
                            customer_id: CustomerId(0),
                            user_id: e.user_id,
                            role: e.role,
                            effective_from: e.effective_from,
                            effective_to: None,
                        })
                        .collect();
                    if let Some(AssignmentId(index)) = lead_handover(&open, from)? {
                        let closing = &mut next[index as usize];
                        closing.effective_to = Some(from);
                        closing.changed = true;
                    }
                }
                next.push(HistoryEntry {
                    id: None,
                    user_id,
                    role,
                    effective_from: from,
                    effective_to: to,
                    changed: true,
                });
                next.len() - 1
            }
        };
        if role == AssignmentRole::Lead {
            let this = &next[at];
            let ends = |e: &HistoryEntry| e.effective_to.unwrap_or(NaiveDate::MAX);
            if let Some(other) = next.iter().enumerate().find(|(index, e)| {
                *index != at
                    && e.role == AssignmentRole::Lead
                    && e.effective_from < ends(this)
                    && this.effective_from < ends(e)
            }) {
                let other = other.1;
                return Err(ParseError::new(
                    "effective_from",
                    from.to_string(),
                    format!(
                        "this lead RM's period overlaps another lead's (from {})",
                        other.effective_from
                    ),
                    format!(
                        "该客户领导的任期与另一任客户领导的任期（自 {} 起）重叠",
                        other.effective_from
                    ),
                ));
            }
        }
        self.entries = next;
        Ok(())
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
    fn a_history_hands_over_leads_and_refuses_what_would_overlap() {
        let (a, b, c) = (UserId(1), UserId(2), UserId(3));
        let lead = AssignmentRole::Lead;
        let mut history = History::new([]);
        history.record(a, lead, day("2025-01-01"), None).unwrap();
        history.record(b, lead, day("2025-06-01"), None).unwrap();
        let ends: Vec<_> = history.entries().iter().map(|e| e.effective_to).collect();
        assert_eq!(ends, [Some(day("2025-06-01")), None], "a handed over to b");
        // The same row again changes nothing; its end may be set.
        history.record(b, lead, day("2025-06-01"), None).unwrap();
        assert_eq!(history.entries().len(), 2);
        // A lead starting before the open one, or a closed period across another lead's: refused,
        // and the history is as it was.
        let before = history.entries().to_vec();
        assert!(history.record(c, lead, day("2025-03-01"), None).is_err());
        assert!(
            history
                .record(c, lead, day("2025-03-01"), Some(day("2025-04-01")))
                .is_err()
        );
        assert!(
            history
                .record(c, lead, day("2025-07-01"), Some(day("2025-07-01")))
                .is_err()
        );
        assert_eq!(history.entries(), before.as_slice());
        // A team member overlaps whoever they like.
        history
            .record(c, AssignmentRole::Member, day("2025-03-01"), None)
            .unwrap();
    }

    #[test]
    fn the_end_date_is_exclusive() {
        let row = lead(1, "2024-01-01", Some("2025-01-01"));
        assert!(row.is_active_on(day("2024-12-31")));
        assert!(!row.is_active_on(day("2025-01-01")));
    }
}
