//! Typed row identifiers, so that a `CustomerId` can never be passed where a `UserId` is meant.

macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

id_type!(
    /// An org unit (head office, branch, sub-branch).
    OrgUnitId,
    /// A user of kam (staff member).
    UserId,
    /// A customer, corporate or individual.
    CustomerId,
    /// A group customer (集团客户).
    GroupId,
    /// A key person at a corporate customer.
    KeyPersonId,
    /// An RM assignment row.
    AssignmentId,
    /// A product in the bank's catalogue.
    ProductId,
    /// A visit, call, meeting or event with a customer (拜访与活动).
    ActivityId,
    /// A need found at a customer (隐含/明确需求).
    NeedId,
    /// A task of a colleague (任务).
    TaskId,
    /// An opportunity (商机).
    OpportunityId,
    /// An obstacle on an opportunity (障碍点).
    ObstacleId,
);
