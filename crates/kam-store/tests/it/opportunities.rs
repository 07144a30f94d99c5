//! Opportunities on both databases: opened in the funnel's first stage with its history; moved
//! only past a ticked checklist (the refusal names the items), lost only with a reason, final once
//! closed; versions refuse a stale save; obstacles write their one action as a task and clearing
//! one does it; buying influences come from the customer's current key people; a deletion is soft
//! and audited; the batch's figures read the stage each had on the day.

use chrono::Days;
use kam_core::{
    contact::{ContactRole, NewKeyPerson, RelationshipStage},
    opportunity::{
        Attitude, InfluenceRole, NewObstacle, NewOpportunity, ObstacleStatus, Pipeline, Position,
    },
    org::Line,
    product::{NeedCategory, NewProduct, ProductRisk},
    task::{TaskSource, TaskStatus},
};
use kam_store::{Advance, Error, OpportunityFilter, Store, TaskFilter};

use crate::fixture::{self, scope, today};

crate::on_both_backends!(
    an_opportunity_moves_only_past_its_checklist_and_keeps_its_history,
    obstacles_become_tasks_and_influences_are_key_people,
    a_refused_or_stale_change_writes_nothing,
    the_batch_reads_each_opportunitys_stage_on_the_day,
    a_banks_opportunities_load_whole,
);

async fn products(store: &Store) {
    for (code, name) in [("LN-WC", "流动资金贷款"), ("CASH-MGMT", "现金管理")] {
        store
            .create_product(
                &fixture::system(),
                &NewProduct::parse(
                    code,
                    name,
                    Line::Corporate,
                    NeedCategory::Financing,
                    ProductRisk::R2,
                )
                .unwrap(),
            )
            .await
            .unwrap();
    }
}

fn deal(owner: &str) -> NewOpportunity {
    NewOpportunity::parse(
        "流动资金贷款续作",
        &["LN-WC".to_owned()],
        "12000000",
        owner,
        today() + Days::new(60),
        "工商银行",
        Position::Even,
        "",
        false,
        "",
    )
    .unwrap()
}

fn ticks(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

async fn an_opportunity_moves_only_past_its_checklist_and_keeps_its_history(store: Store) {
    let fixture = fixture::build(&store).await;
    products(&store).await;
    let pipeline = Pipeline::default_stages();
    let rm = scope(&store, "rm.corp.a").await;
    let id = rm
        .add_opportunity(fixture.c_corp_a, &deal("rm.corp.a"), &pipeline)
        .await
        .unwrap();
    let view = rm.opportunity(id).await.unwrap();
    assert_eq!(view.row.stage, "lead");
    assert_eq!(view.row.amount, 1_200_000_000, "fen");
    assert_eq!(view.row.stage_since, today());
    assert_eq!(view.moves.len(), 1);
    assert_eq!(view.moves[0].from, None);
    // Forward with one item of two: refused, naming the missing one, nothing saved.
    let half = Advance {
        ticked: ticks(&["need_seen"]),
        to: "contact".into(),
        reason: None,
    };
    match rm.advance_opportunity(id, &half, &pipeline, 1).await {
        Err(Error::Invalid(e)) => {
            assert_eq!(e.field, "checklist");
            assert_eq!(e.value, "contact_named");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rm.opportunity(id).await.unwrap().row.version, 1);
    // Ticks saved alone, then the move with both.
    let saved = Advance {
        to: "lead".into(),
        ..half.clone()
    };
    let v = rm
        .advance_opportunity(id, &saved, &pipeline, 1)
        .await
        .unwrap();
    assert_eq!(
        rm.opportunity(id).await.unwrap().ticked("lead"),
        ["need_seen"]
    );
    let both = Advance {
        ticked: ticks(&["need_seen", "contact_named"]),
        to: "contact".into(),
        reason: None,
    };
    let v = rm
        .advance_opportunity(id, &both, &pipeline, v)
        .await
        .unwrap();
    let view = rm.opportunity(id).await.unwrap();
    assert_eq!(view.row.stage, "contact");
    assert_eq!(view.moves.last().unwrap().from.as_deref(), Some("lead"));
    assert_eq!(view.moves.last().unwrap().by, "rm.corp.a");
    // An item of another stage is not this stage's.
    let foreign = Advance {
        ticked: ticks(&["approved"]),
        to: "contact".into(),
        reason: None,
    };
    assert!(matches!(
        rm.advance_opportunity(id, &foreign, &pipeline, v).await,
        Err(Error::Invalid(e)) if e.field == "checklist"
    ));
    // Lost needs a reason; then it is final.
    let lost = Advance {
        ticked: Vec::new(),
        to: "lost".into(),
        reason: None,
    };
    assert!(matches!(
        rm.advance_opportunity(id, &lost, &pipeline, v).await,
        Err(Error::Invalid(e)) if e.field == "reason"
    ));
    let lost = Advance {
        reason: Some("他行利率更低".into()),
        ..lost
    };
    let v = rm
        .advance_opportunity(id, &lost, &pipeline, v)
        .await
        .unwrap();
    let view = rm.opportunity(id).await.unwrap();
    assert_eq!(
        (view.row.closed_on, view.row.lost_reason.as_deref()),
        (Some(today()), Some("他行利率更低"))
    );
    assert!(matches!(
        rm.advance_opportunity(id, &both, &pipeline, v).await,
        Err(Error::Invalid(e)) if e.field == "stage"
    ));
    assert!(matches!(
        rm.edit_opportunity(id, &deal("rm.corp.a"), v).await,
        Err(Error::Invalid(e)) if e.field == "stage"
    ));
    // The funnel's inputs: the history lead, contact, lost; no open one; one lost with its
    // reason, amount and day.
    let facts = rm.funnel(None, &Pipeline::default_stages()).await.unwrap();
    let stages: Vec<&str> = facts.history.iter().map(|e| e.stage.as_str()).collect();
    assert_eq!(stages, ["lead", "contact", "lost"]);
    assert!(facts.open.is_empty());
    assert_eq!(facts.closed.len(), 1);
    assert_eq!(
        facts.closed[0].outcome,
        kam_core::opportunity::Outcome::Lost
    );
    assert!(facts.closed[0].reason.is_some());
    // Someone without the customer in reach reads nothing of it.
    let other = scope(&store, "rm.corp.c").await;
    assert!(matches!(
        other.opportunity(id).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        other
            .funnel(None, &Pipeline::default_stages())
            .await
            .unwrap(),
        kam_store::FunnelFacts::default()
    );
    assert!(
        other
            .opportunities(&OpportunityFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn obstacles_become_tasks_and_influences_are_key_people(store: Store) {
    let fixture = fixture::build(&store).await;
    products(&store).await;
    let pipeline = Pipeline::default_stages();
    let rm = scope(&store, "rm.corp.a").await;
    let id = rm
        .add_opportunity(fixture.c_corp_a, &deal("rm.corp.a"), &pipeline)
        .await
        .unwrap();
    let due = today() + Days::new(5);
    let obstacle = NewObstacle::parse(
        "财务总监倾向他行",
        "约财务总监面谈利率方案",
        "rm.corp.a",
        due,
    )
    .unwrap();
    let obstacle_id = rm.add_obstacle(id, &obstacle).await.unwrap();
    let view = rm.opportunity(id).await.unwrap();
    assert_eq!(view.row.open_obstacles, 1);
    let task_id = view.obstacles[0].task_id.unwrap();
    let task = rm.task(task_id).await.unwrap();
    assert_eq!(
        (task.title.as_str(), task.source, task.due, task.status),
        (
            "约财务总监面谈利率方案",
            TaskSource::Obstacle,
            due,
            TaskStatus::Open
        )
    );
    // An obstacle's action for someone the RM may not give work to is refused whole.
    let elsewhere = NewObstacle {
        owner: "rm.corp.c".into(),
        ..obstacle.clone()
    };
    assert!(matches!(
        rm.add_obstacle(id, &elsewhere).await,
        Err(Error::Invalid(e)) if e.field == "owner"
    ));
    assert_eq!(rm.opportunity(id).await.unwrap().obstacles.len(), 1);
    // Clearing it does its task.
    rm.clear_obstacle(id, obstacle_id).await.unwrap();
    let view = rm.opportunity(id).await.unwrap();
    assert_eq!(view.obstacles[0].status, ObstacleStatus::Cleared);
    assert_eq!(rm.task(task_id).await.unwrap().status, TaskStatus::Done);
    assert!(matches!(
        rm.clear_obstacle(id, obstacle_id).await,
        Err(Error::NotFound { .. })
    ));
    // Buying influences: the customer's current key people only.
    let person = NewKeyPerson::parse(
        "王总",
        ContactRole::DecisionMaker,
        None,
        [4, 4, 3],
        RelationshipStage::Deepen,
    )
    .unwrap();
    let wang = rm.add_key_person(fixture.c_corp_a, &person).await.unwrap();
    rm.set_influence(id, wang, InfluenceRole::Economic, Attitude::Neutral)
        .await
        .unwrap();
    rm.set_influence(id, wang, InfluenceRole::Economic, Attitude::Supportive)
        .await
        .unwrap();
    let view = rm.opportunity(id).await.unwrap();
    assert_eq!(view.influences.len(), 1, "set again: changed, not doubled");
    assert_eq!(view.influences[0].attitude, Attitude::Supportive);
    let ho = scope(&store, "ho.kam").await;
    let stranger = ho.add_key_person(fixture.c_corp_b, &person).await.unwrap();
    assert!(matches!(
        rm.set_influence(id, stranger, InfluenceRole::Coach, Attitude::Supportive).await,
        Err(Error::Invalid(e)) if e.field == "person"
    ));
    rm.remove_influence(id, wang).await.unwrap();
    assert!(rm.opportunity(id).await.unwrap().influences.is_empty());
}

async fn a_refused_or_stale_change_writes_nothing(store: Store) {
    let fixture = fixture::build(&store).await;
    products(&store).await;
    let pipeline = Pipeline::default_stages();
    let rm = scope(&store, "rm.corp.a").await;
    // A product outside the catalogue; an owner the RM may not give work to.
    let unknown = NewOpportunity {
        products: vec!["NOPE".into()],
        ..deal("rm.corp.a")
    };
    assert!(matches!(
        rm.add_opportunity(fixture.c_corp_a, &unknown, &pipeline).await,
        Err(Error::Invalid(e)) if e.field == "products" && e.value == "NOPE"
    ));
    assert!(matches!(
        rm.add_opportunity(fixture.c_corp_a, &deal("rm.corp.c"), &pipeline).await,
        Err(Error::Invalid(e)) if e.field == "owner"
    ));
    // Out of reach: not found; a read-only role: refused.
    assert!(matches!(
        rm.add_opportunity(fixture.c_plain_c, &deal("rm.corp.a"), &pipeline)
            .await,
        Err(Error::NotFound { .. })
    ));
    let auditor = scope(&store, "auditor").await;
    assert!(matches!(
        auditor
            .add_opportunity(fixture.c_corp_a, &deal("rm.corp.a"), &pipeline)
            .await,
        Err(Error::ReadOnly | Error::NotFound { .. } | Error::NotPermitted(_))
    ));
    assert!(
        rm.opportunities(&OpportunityFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    // Two people on one opportunity: the second save from the same version is a conflict.
    let id = rm
        .add_opportunity(fixture.c_corp_a, &deal("rm.corp.a"), &pipeline)
        .await
        .unwrap();
    let president = scope(&store, "president.a").await;
    let bigger = NewOpportunity {
        amount: 2_000_000_000,
        ..deal("rm.corp.a")
    };
    president.edit_opportunity(id, &bigger, 1).await.unwrap();
    assert!(matches!(
        rm.edit_opportunity(id, &deal("rm.corp.a"), 1).await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(rm.opportunity(id).await.unwrap().row.amount, 2_000_000_000);
    // Deleted softly: gone from every read, the reason audited.
    assert!(matches!(
        rm.delete_opportunity(id, "x", 2).await,
        Err(Error::Invalid(e)) if e.field == "reason"
    ));
    rm.delete_opportunity(id, "重复录入", 2).await.unwrap();
    assert!(matches!(
        rm.opportunity(id).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        rm.funnel(None, &Pipeline::default_stages()).await.unwrap(),
        kam_store::FunnelFacts::default()
    );
    let trail = store.audit_events(Some("opportunity"), 20).await.unwrap();
    assert!(trail.iter().any(|e| e.action == "delete"
        && e.entity == "opportunity"
        && e.detail.contains("重复录入")));
}

async fn the_batch_reads_each_opportunitys_stage_on_the_day(store: Store) {
    let fixture = fixture::build(&store).await;
    products(&store).await;
    let pipeline = Pipeline::default_stages();
    let rm = scope(&store, "rm.corp.a").await;
    let id = rm
        .add_opportunity(fixture.c_corp_a, &deal("rm.corp.a"), &pipeline)
        .await
        .unwrap();
    let own = NewOpportunity {
        probability: Some(55),
        amount: 3,
        ..deal("rm.corp.a")
    };
    rm.add_opportunity(fixture.c_corp_a, &own, &pipeline)
        .await
        .unwrap();
    let move_on = Advance {
        ticked: ticks(&["need_seen", "contact_named"]),
        to: "contact".into(),
        reason: None,
    };
    rm.advance_opportunity(id, &move_on, &pipeline, 1)
        .await
        .unwrap();
    let figures = store
        .opportunity_figures(today(), &[7, 30], &pipeline)
        .await
        .unwrap();
    let c = &figures["C0001"];
    // 12,000,000 yuan at contact (20%) + 3 fen at 55%: 240,000,000.00 + 1.65 → rounded once.
    assert_eq!(c.expected_sales, 1_200_000_000 * 20 / 100 + 2);
    assert_eq!(c.stalled_days, Some(0));
    assert_eq!(c.moved[&7], 2);
    // The day before anything was opened: none.
    let before = store
        .opportunity_figures(today() - Days::new(1), &[7], &pipeline)
        .await
        .unwrap();
    assert!(before.is_empty());
    // Thirty-one days on, nothing moved: stalled past the shipped bar, not moved in 30 days.
    let later = store
        .opportunity_figures(today() + Days::new(31), &[30], &pipeline)
        .await
        .unwrap();
    assert_eq!(later["C0001"].stalled_days, Some(31));
    assert_eq!(later["C0001"].moved.get(&30), None);
}

async fn a_banks_opportunities_load_whole(store: Store) {
    use kam_core::password::{HashCost, hash_password};
    // Seed 1's bank has a company with two key people of one name (named once as an influence).
    let bank = kam_synth::Bank::generate(kam_synth::SynthConfig::new(kam_synth::Scale::Tiny, 1));
    let data = &bank.reference;
    let hash = hash_password("Kam-2026-test", &[3; 16], HashCost::Cheap);
    store
        .bulk_load(&fixture::system(), data, &vec![hash; data.users.len()])
        .await
        .unwrap();
    let records = kam_synth::opportunity_history(data, today());
    let pipeline = Pipeline::default_stages();
    let counts = store
        .load_opportunities(&fixture::system(), &records, &pipeline)
        .await
        .unwrap();
    assert_eq!(counts.opportunities, records.len());
    let moves: usize = records.iter().map(|r| r.moves.len() + 1).sum();
    assert_eq!(counts.moves, moves, "the opening and every move");
    let bank_wide = store.whole_bank("test", today());
    let rows = bank_wide
        .opportunities(&OpportunityFilter::default())
        .await
        .unwrap();
    assert_eq!(rows.len(), records.len());
    for r in &records {
        let row = rows
            .iter()
            .find(|o| o.cif_no == r.cif_no && o.title == r.opportunity.title)
            .unwrap();
        let last = r.moves.last().map_or("lead", |m| m.0.as_str());
        assert_eq!(row.stage, last);
        assert_eq!(row.is_open(), !matches!(last, "won" | "lost"));
    }
    let obstacle_tasks = bank_wide
        .tasks(&TaskFilter::default())
        .await
        .unwrap()
        .iter()
        .filter(|t| t.source == TaskSource::Obstacle)
        .count();
    assert_eq!(obstacle_tasks, counts.obstacles);
}
