//! A small hand-built bank whose visibility answers are known by heart.
//!
//! ```text
//! 001 总行 (head office)
//! ├── 0100 一分行 (tier-1) ── 0110 二级分行 ── 0111 支行A, 0112 支行B
//! └── 0200 二分行 (tier-1) ── 0210 二级分行 ── 0211 支行C
//! ```

use chrono::NaiveDate;
use kam_core::{
    assignment::AssignmentRole,
    customer::{AccountType, CifNo, CustomerKind, IdNumber, NewCustomer},
    group::NewGroup,
    id::{CustomerId, GroupId},
    org::{Line, NewOrgUnit, OrgKind},
    password::{HashCost, hash_password},
    user::{NewUser, Role, User},
};
use kam_store::{Actor, Store, UserStore};

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

pub fn system() -> Actor {
    Actor::system("test")
}

pub struct Fixture {
    pub c_corp_a: CustomerId,
    pub c_corp_b: CustomerId,
    pub c_retail_a: CustomerId,
    pub c_group_c: CustomerId,
    pub c_plain_c: CustomerId,
    pub group: GroupId,
}

pub async fn user(store: &Store, username: &str) -> User {
    store.user_by_username(username).await.unwrap()
}

/// `username`'s handle on the store today.
pub async fn scope(store: &Store, username: &str) -> UserStore {
    let user = user(store, username).await;
    store.for_user(&user, today()).await.unwrap()
}

async fn customer(store: &Store, cif: &str, kind: CustomerKind, unit: &str) -> CustomerId {
    let (line, industry, id_number) = match kind {
        CustomerKind::Corporate => (Line::Corporate, Some(kam_core::customer::Industry::C), None),
        CustomerKind::Individual => (
            Line::Retail,
            None,
            Some(IdNumber::parse("11010519491231002X").unwrap()),
        ),
    };
    let new = NewCustomer {
        cif_no: CifNo::parse(cif).unwrap(),
        kind,
        name: format!("客户{cif}"),
        line,
        org_unit_code: unit.into(),
        industry,
        account_type: AccountType::Ordinary,
        risk_tolerance: None,
        id_number,
        phone: None,
        since: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        birth_date: None,
        sex: None,
    }
    .check()
    .unwrap();
    store.create_customer(&system(), &new).await.unwrap()
}

pub async fn build(store: &Store) -> Fixture {
    let actor = system();
    for (code, name, kind, parent) in [
        ("001", "总行", OrgKind::HeadOffice, None),
        ("0100", "一分行", OrgKind::Tier1Branch, Some("001")),
        ("0110", "一分行二级分行", OrgKind::Tier2Branch, Some("0100")),
        ("0111", "支行A", OrgKind::SubBranch, Some("0110")),
        ("0112", "支行B", OrgKind::SubBranch, Some("0110")),
        ("0200", "二分行", OrgKind::Tier1Branch, Some("001")),
        ("0210", "二分行二级分行", OrgKind::Tier2Branch, Some("0200")),
        ("0211", "支行C", OrgKind::SubBranch, Some("0210")),
    ] {
        let unit = NewOrgUnit::parse(code, name, kind, parent).unwrap();
        store.create_org_unit(&actor, &unit).await.unwrap();
    }
    let hash = hash_password("Kam-2026-test", &[1; 16], HashCost::Cheap);
    for (username, role, unit, line) in [
        ("admin", Role::Administrator, "001", None),
        ("auditor", Role::Auditor, "001", None),
        ("ho.kam", Role::HeadOfficeKeyAccountManager, "001", None),
        ("risk.b1", Role::RiskOfficer, "0100", None),
        ("manager.b1", Role::BranchManager, "0100", None),
        (
            "manager.b1.retail",
            Role::BranchManager,
            "0100",
            Some(Line::Retail),
        ),
        ("president.a", Role::SubBranchPresident, "0111", None),
        (
            "rm.corp.a",
            Role::RelationshipManager,
            "0111",
            Some(Line::Corporate),
        ),
        (
            "rm.retail.a",
            Role::RelationshipManager,
            "0111",
            Some(Line::Retail),
        ),
        (
            "rm.corp.c",
            Role::RelationshipManager,
            "0211",
            Some(Line::Corporate),
        ),
        ("teller.a", Role::Teller, "0111", Some(Line::Retail)),
    ] {
        let new = NewUser::parse(username, username, role, unit, line).unwrap();
        store.create_user(&actor, &new, &hash).await.unwrap();
    }
    let c_corp_a = customer(store, "C0001", CustomerKind::Corporate, "0111").await;
    let c_corp_b = customer(store, "C0002", CustomerKind::Corporate, "0112").await;
    let c_retail_a = customer(store, "P0001", CustomerKind::Individual, "0111").await;
    let c_group_c = customer(store, "C0003", CustomerKind::Corporate, "0211").await;
    let c_plain_c = customer(store, "C0004", CustomerKind::Corporate, "0211").await;

    let ho = scope(store, "ho.kam").await;
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    for (customer, rm) in [
        (c_corp_a, "rm.corp.a"),
        (c_retail_a, "rm.retail.a"),
        (c_group_c, "rm.corp.c"),
        (c_plain_c, "rm.corp.c"),
    ] {
        ho.assign_rm(customer, rm, AssignmentRole::Lead, start)
            .await
            .unwrap();
    }
    // rm.corp.a is also on the team of a customer of sub-branch B.
    ho.assign_rm(c_corp_b, "rm.corp.a", AssignmentRole::Member, start)
        .await
        .unwrap();

    // A group led by rm.corp.a whose second member is booked in the other branch.
    let group = store
        .create_group(
            &actor,
            &NewGroup::parse("G001", "测试集团", "0111", &["0211"], Some("rm.corp.a")).unwrap(),
        )
        .await
        .unwrap();
    store
        .add_group_member(&actor, group.id, c_corp_a, None)
        .await
        .unwrap();
    store
        .add_group_member(&actor, group.id, c_group_c, Some(c_corp_a))
        .await
        .unwrap();

    Fixture {
        c_corp_a,
        c_corp_b,
        c_retail_a,
        c_group_c,
        c_plain_c,
        group: group.id,
    }
}
