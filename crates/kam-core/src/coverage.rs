//! Visit coverage (拜访覆盖): how many of a unit's corporate customers of each tier the rules'
//! `[contact]` visits a month require, how many were visited that often in the period by an RM
//! and by a sub-branch president, and how many are overdue.

use crate::rules::ContactRule;

/// One role's column of a tier's row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoverageCell {
    /// Visits a month the rule requires of the role for a customer of the tier (0: none).
    pub required: u32,
    /// Customers of the tier (when `required` > 0: each owes the visits).
    pub due: u32,
    /// Customers visited at least `required` times in the period.
    pub visited: u32,
    /// Customers visited fewer times than required (`due − visited`); not at all among them.
    pub overdue: u32,
    pub never: u32,
}

/// A tier's row: its customers and the two roles' columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoverageRow {
    /// 1 (best) … 5.
    pub tier: u8,
    pub customers: u32,
    pub rm: CoverageCell,
    pub president: CoverageCell,
}

/// A customer's visits in the period: its tier and how many logged visits an RM and a sub-branch
/// president took part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitTally {
    pub tier: u8,
    pub rm_visits: u32,
    pub president_visits: u32,
}

/// Whether a customer is overdue for a role: fewer visits than required.
pub fn overdue(required: u32, visits: u32) -> bool {
    required > 0 && visits < required
}

/// The coverage matrix (tiers 1 … 5) of `tallies` under `rule`. A tier whose role requires no
/// visit has nobody due for that role.
pub fn coverage(rule: &ContactRule, tallies: &[VisitTally]) -> [CoverageRow; 5] {
    let mut rows: [CoverageRow; 5] = std::array::from_fn(|i| CoverageRow {
        tier: i as u8 + 1,
        rm: CoverageCell {
            required: rule.rm_visits_per_month[i],
            ..CoverageCell::default()
        },
        president: CoverageCell {
            required: rule.president_visits_per_month[i],
            ..CoverageCell::default()
        },
        ..CoverageRow::default()
    });
    for tally in tallies {
        let Some(row) = rows.get_mut(usize::from(tally.tier.clamp(1, 5)) - 1) else {
            continue;
        };
        row.customers += 1;
        for (cell, visits) in [
            (&mut row.rm, tally.rm_visits),
            (&mut row.president, tally.president_visits),
        ] {
            if cell.required == 0 {
                continue;
            }
            cell.due += 1;
            if overdue(cell.required, visits) {
                cell.overdue += 1;
                if visits == 0 {
                    cell.never += 1;
                }
            } else {
                cell.visited += 1;
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tier_counts_who_was_visited_often_enough_by_each_role() {
        let rule = ContactRule {
            interval_days: [30, 30, 60, 90, 180],
            rm_visits_per_month: [3, 2, 1, 0, 0],
            president_visits_per_month: [1, 1, 0, 0, 0],
        };
        let tally = |tier, rm_visits, president_visits| VisitTally {
            tier,
            rm_visits,
            president_visits,
        };
        let rows = coverage(
            &rule,
            &[
                tally(1, 3, 1),
                tally(1, 2, 0),
                tally(1, 0, 0),
                tally(3, 1, 0),
                tally(5, 0, 0),
            ],
        );
        assert_eq!(rows[0].customers, 3);
        assert_eq!(
            rows[0].rm,
            CoverageCell {
                required: 3,
                due: 3,
                visited: 1,
                overdue: 2,
                never: 1
            }
        );
        assert_eq!(
            (rows[0].president.visited, rows[0].president.overdue),
            (1, 2)
        );
        assert_eq!((rows[2].rm.due, rows[2].rm.visited), (1, 1));
        assert_eq!(rows[2].president.due, 0, "tier 3 owes no president's visit");
        assert_eq!((rows[4].customers, rows[4].rm.due), (1, 0));
        assert!(overdue(3, 2) && !overdue(0, 0) && !overdue(1, 4));
    }
}
