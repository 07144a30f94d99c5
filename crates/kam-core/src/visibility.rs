//! Who may see which customer: the one place this is decided.
//!
//! `scope_for` turns a user into a `Scope`; `Scope::admits` is the rule itself over a customer's
//! placement. kam-store translates the same `Scope` into a WHERE clause inside every query that
//! returns customer data, and its tests check the SQL against `admits` row by row, so the rule
//! cannot drift between the two.

use chrono::NaiveDate;

use crate::{
    id::UserId,
    org::{Line, OrgPath},
    user::{Role, User},
};

/// How far a user reaches into the customer base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// No customer data at all (administrators under separation of duties, tellers, the disabled).
    Nothing,
    /// Every customer of the bank (head-office roles, auditors).
    Everything,
    /// Customers owned by this unit or any unit below it.
    Subtree(OrgPath),
    /// An RM's book: customers the RM is on the team of today (lead or member), plus every member
    /// of a group the RM leads.
    Book(UserId),
}

/// Whether a user may change what they see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    ReadWrite,
}

/// What a signed-in user may see and do; computed once per request by `scope_for`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    // Private: a user's scope is made only by `scope_for` (the rule), the operator's by
    // `Scope::system`; everything else reads it through the methods below.
    user_id: UserId,
    reach: Reach,
    /// `None`: every business line; `Some(line)`: only customers booked in that line.
    line: Option<Line>,
    access: Access,
    /// The day the scope applies to: RM assignments count when active on it.
    on: NaiveDate,
}

/// Where a customer sits, as far as visibility cares.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    /// Path of the customer's owning org unit.
    pub org_path: &'a OrgPath,
    pub line: Line,
    /// Users with an assignment (lead or member) active today.
    pub team: &'a [UserId],
    /// The lead RM of the customer's group, if the customer belongs to one.
    pub group_lead_rm: Option<UserId>,
    /// The path of the group's lead unit (主办行), if the customer belongs to a group.
    pub group_lead_unit: Option<&'a OrgPath>,
}

/// Decides a user's scope from their role, place in the org tree and line.
///
/// Separation of duties (等保 三权分立): the administrator manages users and the org tree but sees
/// no customer data; the auditor sees everything and changes nothing.
pub fn scope_for(user: &User, unit_path: &OrgPath, on: NaiveDate) -> Scope {
    let scope = |reach, line, access| Scope {
        user_id: user.id,
        reach,
        line,
        access,
        on,
    };
    if user.disabled {
        return scope(Reach::Nothing, None, Access::Read);
    }
    match user.role {
        Role::Administrator | Role::Teller => scope(Reach::Nothing, None, Access::Read),
        Role::Auditor => scope(Reach::Everything, None, Access::Read),
        Role::HeadOfficeKeyAccountManager => scope(Reach::Everything, user.line, Access::ReadWrite),
        Role::RiskOfficer => scope(Reach::Subtree(unit_path.clone()), None, Access::Read),
        Role::BranchManager | Role::SubBranchPresident => scope(
            Reach::Subtree(unit_path.clone()),
            user.line,
            Access::ReadWrite,
        ),
        Role::RelationshipManager => scope(Reach::Book(user.id), user.line, Access::ReadWrite),
    }
}

impl Scope {
    /// The command line's own scope for an operator's whole-bank export (`kam export` without
    /// `--as-user`): everything, read only, recorded as a system actor. Never a web request's.
    pub fn system(on: NaiveDate) -> Self {
        Scope {
            user_id: UserId(0),
            reach: Reach::Everything,
            line: None,
            access: Access::Read,
            on,
        }
    }

    /// The rule: may this scope see a customer placed like this?
    pub fn admits(&self, placement: &Placement<'_>) -> bool {
        if self.line.is_some_and(|line| line != placement.line) {
            return false;
        }
        match &self.reach {
            Reach::Nothing => false,
            Reach::Everything => true,
            // The subtree's own customers, and every member of a group the subtree leads: the
            // lead unit (主办行) runs the whole relationship, wherever a member is booked.
            Reach::Subtree(path) => {
                path.contains(placement.org_path)
                    || placement
                        .group_lead_unit
                        .is_some_and(|lead| path.contains(lead))
            }
            Reach::Book(rm) => placement.team.contains(rm) || placement.group_lead_rm == Some(*rm),
        }
    }

    /// Whose scope this is (`UserId(0)` for the operator's system scope).
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    /// How far the scope reaches in the org tree.
    pub fn reach(&self) -> &Reach {
        &self.reach
    }

    /// The one business line the scope is limited to, if any.
    pub fn line(&self) -> Option<Line> {
        self.line
    }

    /// The day the scope applies to: the only date a scoped read uses.
    pub fn on(&self) -> NaiveDate {
        self.on
    }

    /// Whether the user may choose a unit to put in scope (home, portfolio): managers reaching a
    /// subtree or the whole bank may; an RM, whose reach is a book, and a role without customer
    /// data may not.
    pub fn chooses_units(&self) -> bool {
        matches!(self.reach, Reach::Everything | Reach::Subtree(_))
    }

    /// Whether the user may choose to read a team's work — tasks, calendars, opportunities, the
    /// funnel — beside their own: a manager reaching a subtree or the whole bank (a sub-branch
    /// president's team, a branch's, head office's). An RM's book is customers, not colleagues:
    /// an RM reads their own work.
    pub fn reads_team_work(&self) -> bool {
        self.chooses_units()
    }

    /// Whether this scope reaches any customer at all (administrators and tellers do not: their
    /// customer pages are not theirs to open).
    pub fn sees_customers(&self) -> bool {
        self.reach != Reach::Nothing
    }

    pub fn may_write(&self) -> bool {
        self.access == Access::ReadWrite && self.reach != Reach::Nothing
    }

    /// The same scope limited to one unit's subtree: a manager's "unit in scope" on the home and
    /// portfolio pages. Only ever narrower: a unit outside the reach, or an RM's book (which is
    /// not a subtree), leaves the scope as it is.
    pub fn narrowed_to(&self, unit: &OrgPath) -> Scope {
        let reach = match &self.reach {
            Reach::Everything => Reach::Subtree(unit.clone()),
            Reach::Subtree(path) if path.contains(unit) => Reach::Subtree(unit.clone()),
            other => other.clone(),
        };
        Scope {
            reach,
            ..self.clone()
        }
    }

    /// Whether anyone besides the user themself may be given an alert by this scope (a manager
    /// who may write; an RM gives only to themself, a read-only role to nobody) — so a page need
    /// not read the users when there is nobody else to offer.
    pub fn gives_alerts_to_others(&self) -> bool {
        self.may_write() && self.chooses_units()
    }

    /// Whom this scope may give a customer's alert to (`receiver`, working at `receiver_unit`):
    /// itself, when it may write at all; beyond that, a manager reaching a subtree (or the whole
    /// bank) gives to the active RMs and sub-branch presidents working in it, in a compatible
    /// line. An RM's book reaches customers, not colleagues: an RM gives only to themself.
    pub fn may_give_alert_to(&self, receiver: &User, receiver_unit: &OrgPath) -> bool {
        if !self.may_write() {
            return false;
        }
        if receiver.id == self.user_id {
            return true;
        }
        self.serves_within_reach(receiver, receiver_unit)
    }

    /// Whose weekly reports (周报) this scope reads: its own, and those of the RMs and
    /// presidents working within its reach (a president's team, a branch's, the whole bank's for
    /// head office and auditors). An RM reads only their own.
    pub fn reads_reports_of(&self, author: &User, author_unit: &OrgPath) -> bool {
        author.id == self.user_id || self.serves_within_reach(author, author_unit)
    }

    /// Whether this scope appoints customers' relationship managers — the lead RM and the
    /// account team (a sub-branch president, a branch manager, head office): a manager reaching
    /// a subtree or the whole bank who may write. An RM's book is customers, not colleagues.
    pub fn appoints_relationship_managers(&self) -> bool {
        self.gives_alerts_to_others()
    }

    /// Whom it may appoint to a customer's team (`rm`, working at `rm_unit`): an active RM or
    /// sub-branch president working within its reach, in a compatible line.
    pub fn may_appoint(&self, rm: &User, rm_unit: &OrgPath) -> bool {
        self.appoints_relationship_managers() && self.serves_within_reach(rm, rm_unit)
    }

    /// An active RM or sub-branch president working within this scope's subtree (or anywhere,
    /// for the whole bank) in a compatible line.
    fn serves_within_reach(&self, person: &User, unit: &OrgPath) -> bool {
        let serves_customers = matches!(
            person.role,
            Role::RelationshipManager | Role::SubBranchPresident
        );
        let line_fits = match (self.line, person.line) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => true,
        };
        if person.disabled || !serves_customers || !line_fits {
            return false;
        }
        match &self.reach {
            Reach::Everything => true,
            Reach::Subtree(path) => path.contains(unit),
            Reach::Book(_) | Reach::Nothing => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{OrgUnitId, UserId};
    use crate::user::Username;

    fn user(id: i64, role: Role, line: Option<Line>) -> User {
        User {
            id: UserId(id),
            username: Username::parse("some.user").unwrap(),
            display_name: "某用户".into(),
            role,
            org_unit_id: OrgUnitId(1),
            line,
            disabled: false,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
    }

    fn path(text: &str) -> OrgPath {
        OrgPath::parse(text).unwrap()
    }

    // Tree: /1/ head office, /1/2/ branch, /1/2/5/ sub-branch A, /1/2/6/ sub-branch B, /1/3/ other branch.
    const SUB_A: &str = "/1/2/5/";

    fn corporate_at<'a>(org_path: &'a OrgPath, team: &'a [UserId]) -> Placement<'a> {
        Placement {
            org_path,
            line: Line::Corporate,
            team,
            group_lead_rm: None,
            group_lead_unit: None,
        }
    }

    #[test]
    fn only_managers_reaching_a_subtree_or_the_bank_choose_units() {
        let at = path(SUB_A);
        let chooses = |role, line| scope_for(&user(7, role, line), &at, today()).chooses_units();
        assert!(chooses(Role::SubBranchPresident, None));
        assert!(chooses(Role::BranchManager, Some(Line::Corporate)));
        assert!(chooses(Role::HeadOfficeKeyAccountManager, None));
        assert!(chooses(Role::Auditor, None));
        assert!(!chooses(Role::RelationshipManager, Some(Line::Corporate)));
        assert!(!chooses(Role::Administrator, None));
        assert!(!chooses(Role::Teller, None));
        // The same managers read their team's work (tasks, calendars, the funnel); an RM their own.
        let team = |role| scope_for(&user(7, role, None), &at, today()).reads_team_work();
        assert!(team(Role::SubBranchPresident) && team(Role::Auditor));
        assert!(!team(Role::RelationshipManager) && !team(Role::Teller));
        let rm = scope_for(&user(7, Role::RelationshipManager, None), &at, today());
        assert_eq!(rm.user_id(), UserId(7));
        assert_eq!(rm.on(), today());
    }

    #[test]
    fn an_rm_sees_their_own_book_only() {
        let rm = scope_for(
            &user(7, Role::RelationshipManager, Some(Line::Corporate)),
            &path(SUB_A),
            today(),
        );
        let here = path(SUB_A);
        assert!(rm.admits(&corporate_at(&here, &[UserId(7)])));
        assert!(
            rm.admits(&corporate_at(&here, &[UserId(3), UserId(7)])),
            "team member"
        );
        assert!(
            !rm.admits(&corporate_at(&here, &[UserId(8)])),
            "a colleague's customer in the same sub-branch"
        );
    }

    #[test]
    fn a_corporate_rm_does_not_see_retail_customers_even_when_assigned() {
        let rm = scope_for(
            &user(7, Role::RelationshipManager, Some(Line::Corporate)),
            &path(SUB_A),
            today(),
        );
        let here = path(SUB_A);
        let retail = Placement {
            org_path: &here,
            line: Line::Retail,
            team: &[UserId(7)],
            group_lead_rm: None,
            group_lead_unit: None,
        };
        assert!(!rm.admits(&retail));
    }

    #[test]
    fn a_sub_branch_president_sees_the_sub_branch_and_not_the_next_one() {
        let president = scope_for(
            &user(9, Role::SubBranchPresident, None),
            &path(SUB_A),
            today(),
        );
        assert!(president.admits(&corporate_at(&path(SUB_A), &[])));
        assert!(!president.admits(&corporate_at(&path("/1/2/6/"), &[])));
        assert!(
            !president.admits(&corporate_at(&path("/1/2/"), &[])),
            "the branch's own customers are above"
        );
    }

    #[test]
    fn a_branch_manager_sees_the_subtree_limited_by_line() {
        let manager = scope_for(
            &user(4, Role::BranchManager, Some(Line::Retail)),
            &path("/1/2/"),
            today(),
        );
        let deep = path("/1/2/6/");
        let retail = Placement {
            org_path: &deep,
            line: Line::Retail,
            team: &[],
            group_lead_rm: None,
            group_lead_unit: None,
        };
        assert!(manager.admits(&retail));
        assert!(!manager.admits(&corporate_at(&deep, &[])));
        let elsewhere = path("/1/3/");
        assert!(!manager.admits(&Placement {
            org_path: &elsewhere,
            ..retail
        }));
    }

    #[test]
    fn a_group_lead_rm_sees_every_member_wherever_it_is_booked() {
        let rm = scope_for(
            &user(7, Role::RelationshipManager, Some(Line::Corporate)),
            &path(SUB_A),
            today(),
        );
        let other_branch = path("/1/3/");
        let member = Placement {
            org_path: &other_branch,
            line: Line::Corporate,
            team: &[UserId(99)],
            group_lead_rm: Some(UserId(7)),
            group_lead_unit: None,
        };
        assert!(rm.admits(&member));
    }

    #[test]
    fn the_lead_units_managers_see_every_member_of_its_groups() {
        let lead_unit = path(SUB_A);
        let other_branch = path("/1/3/9/");
        let member = Placement {
            org_path: &other_branch,
            line: Line::Corporate,
            team: &[UserId(99)],
            group_lead_rm: None,
            group_lead_unit: Some(&lead_unit),
        };
        // The president of the lead sub-branch, and the branch manager above it.
        let president = scope_for(
            &user(4, Role::SubBranchPresident, None),
            &lead_unit,
            today(),
        );
        assert!(president.admits(&member));
        let branch = scope_for(
            &user(1, Role::BranchManager, Some(Line::Corporate)),
            &path("/1/2/"),
            today(),
        );
        assert!(branch.admits(&member));
        // Not the manager of another subtree, nor across lines, nor a member of no group.
        let elsewhere = scope_for(
            &user(5, Role::SubBranchPresident, None),
            &path("/1/2/8/"),
            today(),
        );
        assert!(!elsewhere.admits(&member));
        let retail = scope_for(
            &user(6, Role::BranchManager, Some(Line::Retail)),
            &path("/1/2/"),
            today(),
        );
        assert!(!retail.admits(&member));
        assert!(!president.admits(&Placement {
            group_lead_unit: None,
            ..member
        }));
        // An RM's book is not widened by the group's lead unit.
        let rm = scope_for(
            &user(7, Role::RelationshipManager, Some(Line::Corporate)),
            &lead_unit,
            today(),
        );
        assert!(!rm.admits(&member));
    }

    #[test]
    fn an_auditor_reads_everything_and_writes_nothing() {
        let auditor = scope_for(&user(2, Role::Auditor, None), &path("/1/"), today());
        assert!(auditor.admits(&corporate_at(&path("/1/3/"), &[])));
        assert!(!auditor.may_write());
    }

    #[test]
    fn administrators_tellers_and_disabled_users_see_no_customer() {
        let mut disabled = user(5, Role::HeadOfficeKeyAccountManager, None);
        disabled.disabled = true;
        for someone in [
            user(1, Role::Administrator, None),
            user(6, Role::Teller, Some(Line::Retail)),
            disabled,
        ] {
            let scope = scope_for(&someone, &path("/1/"), today());
            assert!(
                !scope.admits(&corporate_at(&path("/1/"), &[someone.id])),
                "{:?}",
                someone.role
            );
            assert!(!scope.may_write());
        }
    }

    #[test]
    fn a_risk_officer_reads_the_subtree_in_every_line() {
        let risk = scope_for(
            &user(3, Role::RiskOfficer, Some(Line::Corporate)),
            &path("/1/2/"),
            today(),
        );
        let deep = path(SUB_A);
        assert!(risk.admits(&Placement {
            org_path: &deep,
            line: Line::Retail,
            team: &[],
            group_lead_rm: None,
            group_lead_unit: None,
        }));
        assert!(!risk.may_write());
    }

    #[test]
    fn narrowing_to_a_unit_never_widens_a_scope() {
        let branch = path("/1/2/");
        let manager = scope_for(
            &user(1, Role::BranchManager, Some(Line::Corporate)),
            &branch,
            today(),
        );
        let sub_a = path(SUB_A);
        assert_eq!(
            manager.narrowed_to(&sub_a).reach,
            Reach::Subtree(sub_a.clone())
        );
        assert_eq!(
            manager.narrowed_to(&sub_a).line,
            Some(Line::Corporate),
            "line kept"
        );
        assert_eq!(
            manager.narrowed_to(&path("/1/3/")),
            manager,
            "another branch: unchanged"
        );
        assert_eq!(
            manager.narrowed_to(&path("/1/")),
            manager,
            "above: unchanged"
        );
        let head = scope_for(
            &user(2, Role::HeadOfficeKeyAccountManager, None),
            &path("/1/"),
            today(),
        );
        assert_eq!(
            head.narrowed_to(&branch).reach,
            Reach::Subtree(branch.clone())
        );
        let rm = scope_for(
            &user(3, Role::RelationshipManager, Some(Line::Corporate)),
            &sub_a,
            today(),
        );
        assert_eq!(rm.narrowed_to(&sub_a), rm, "a book is not a subtree");
        let admin = scope_for(&user(4, Role::Administrator, None), &path("/1/"), today());
        assert_eq!(admin.narrowed_to(&sub_a).reach, Reach::Nothing);
    }

    #[test]
    fn alerts_go_to_colleagues_in_reach_and_line_only() {
        let branch = path("/1/2/");
        let manager = scope_for(
            &user(1, Role::BranchManager, Some(Line::Corporate)),
            &branch,
            today(),
        );
        let corporate_rm = user(2, Role::RelationshipManager, Some(Line::Corporate));
        let retail_rm = user(3, Role::RelationshipManager, Some(Line::Retail));
        let president = user(4, Role::SubBranchPresident, None);
        let teller = user(5, Role::Teller, None);
        let sub_a = path(SUB_A);
        let other_branch = path("/1/3/");
        assert!(manager.may_give_alert_to(&corporate_rm, &sub_a));
        assert!(
            manager.may_give_alert_to(&president, &sub_a),
            "no line: fits"
        );
        assert!(!manager.may_give_alert_to(&retail_rm, &sub_a), "other line");
        assert!(
            !manager.may_give_alert_to(&corporate_rm, &other_branch),
            "other branch"
        );
        assert!(
            !manager.may_give_alert_to(&teller, &sub_a),
            "serves no customer"
        );
        let gone = User {
            disabled: true,
            ..corporate_rm.clone()
        };
        assert!(!manager.may_give_alert_to(&gone, &sub_a), "disabled");

        let rm = scope_for(&corporate_rm, &sub_a, today());
        assert!(
            rm.may_give_alert_to(&corporate_rm, &sub_a),
            "an RM keeps it"
        );
        let colleague = user(6, Role::RelationshipManager, Some(Line::Corporate));
        assert!(
            !rm.may_give_alert_to(&colleague, &sub_a),
            "an RM gives to no one else"
        );

        let head = scope_for(
            &user(7, Role::HeadOfficeKeyAccountManager, None),
            &path("/1/"),
            today(),
        );
        assert!(head.may_give_alert_to(&corporate_rm, &other_branch));
        let auditor = scope_for(&user(8, Role::Auditor, None), &path("/1/"), today());
        assert!(
            !auditor.may_give_alert_to(&user(8, Role::Auditor, None), &path("/1/")),
            "reads only"
        );
    }

    #[test]
    fn managers_appoint_relationship_managers_in_reach_and_line() {
        let sub_a = path(SUB_A);
        let president = user(4, Role::SubBranchPresident, None);
        let boss = scope_for(&president, &sub_a, today());
        let corporate_rm = user(2, Role::RelationshipManager, Some(Line::Corporate));
        assert!(boss.appoints_relationship_managers());
        assert!(boss.may_appoint(&corporate_rm, &sub_a));
        assert!(
            boss.may_appoint(&president, &sub_a),
            "a president may lead an account"
        );
        assert!(
            !boss.may_appoint(&corporate_rm, &path("/1/3/")),
            "another branch"
        );
        assert!(!boss.may_appoint(&user(5, Role::Teller, None), &sub_a));
        // An RM appoints nobody, not even themself: the book is given, not taken.
        let rm = scope_for(&corporate_rm, &sub_a, today());
        assert!(!rm.appoints_relationship_managers());
        assert!(!rm.may_appoint(&corporate_rm, &sub_a));
        let risk = scope_for(&user(9, Role::RiskOfficer, None), &path("/1/"), today());
        assert!(!risk.may_appoint(&corporate_rm, &sub_a), "reads only");
    }
}
