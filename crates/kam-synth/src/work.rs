//! The RMs' work in the synthetic bank: four months of visits, calls and meetings with the
//! companies they lead (SPIN notes in Chinese, the key people met, needs found — some met since),
//! next steps as tasks (most done, some overdue), visits planned for the coming days (some
//! today), a few cancelled, and tasks added by hand. Derived from each customer's number and the
//! day the demo is built, not from the random stream, so every extract stays byte-identical. Most
//! companies are visited within their tier's interval, as in a bank that works its accounts; one
//! in ten has no visit logged and one in seven is visited only every six weeks or more, so the
//! pages and the 未按期拜访 alert show relationships going cold too.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate, NaiveTime, Weekday};
use kam_core::{
    activity::{ActivityKind, ActivityStatus, FoundNeed, NeedKind, NewActivity, Spin},
    assignment::AssignmentRole,
    customer::{AccountType, CustomerKind},
    opportunity::{Outcome, Pipeline},
    reference::{ActivityRecord, OpportunityRecord, ReferenceData, ReportRecord, TaskRecord},
    report::{Language, ReportActivity, ReportMove, ReportTask, WeekWork, draft, week_of},
    task::{NewTask, Priority, TaskSource},
    user::Role,
};

const PURPOSES: [&str; 8] = [
    "季度走访，了解经营情况",
    "介绍现金管理方案",
    "沟通续授信安排",
    "了解代发工资需求",
    "回访网银使用问题",
    "商谈供应链融资",
    "节前拜访，维护关系",
    "了解年度资金预算",
];
const SITUATIONS: [&str; 6] = [
    "主要结算行为他行，在我行仅开一般户",
    "年销售收入约三亿元，回款集中在月底",
    "员工约八百人，代发在他行",
    "新厂区明年投产，资本开支增加",
    "财务部五人，使用两家银行网银",
    "上下游供应商约两百家，账期 60 天",
];
const PROBLEMS: [&str; 6] = [
    "跨行付款到账慢，月底资金紧张",
    "两套网银对账费时",
    "短期流动资金缺口约两千万元",
    "代发工资手续繁琐，常有退票",
    "供应商催款，希望缩短账期",
    "现有授信额度到期，续作条件未谈妥",
];
const IMPLICATIONS: [&str; 6] = [
    "影响对供应商按时付款，可能丢失折扣",
    "财务人员加班，月结推迟两三天",
    "若资金不到位，新订单只能推迟",
    "员工投诉增加，人事部压力大",
    "供应商可能要求预付，占用更多资金",
    "续作不顺会影响明年扩产计划",
];
const PAYOFFS: [&str; 6] = [
    "当日到账可减少约三百万元垫资",
    "一套网银对账每月可省两个工作日",
    "循环额度能按订单随借随还",
    "代发由我行办理可一并解决员工开卡",
    "供应链融资可把账期转为我行融资",
    "提前续作可锁定明年的融资成本",
];
const OUTCOMES: [&str; 6] = [
    "同意下周看方案",
    "财务总监愿意试用我行网银",
    "需内部上报，月底前答复",
    "暂不考虑，保持联系",
    "约定与董事长面谈",
    "提供了近三年财务报表",
];
const NEEDS: [(&str, NeedKind); 6] = [
    ("付款当日到账", NeedKind::Explicit),
    ("对账太费时间", NeedKind::Implied),
    ("增加流动资金贷款额度", NeedKind::Explicit),
    ("代发工资退票多", NeedKind::Implied),
    ("希望开展供应链融资", NeedKind::Explicit),
    ("担心明年融资成本上升", NeedKind::Implied),
];
const STEPS: [&str; 6] = [
    "发送现金管理方案",
    "约财务总监面谈",
    "准备续授信材料",
    "安排网银上门培训",
    "报送供应链融资方案",
    "反馈利率审批结果",
];
const PLACES: [&str; 4] = ["客户办公室", "客户财务部", "我行支行会议室", "客户厂区"];
const TIMES: [(u32, u32); 4] = [(9, 30), (10, 0), (14, 30), (15, 30)];

/// A number from a text, the same on every machine.
fn hash(text: &str) -> u64 {
    text.bytes().fold(1_469_598_103, |h, b| {
        h.wrapping_mul(1_099_511_628_211).wrapping_add(u64::from(b))
    })
}

/// The working day on or before `day`.
fn weekday_on_or_before(day: NaiveDate) -> NaiveDate {
    match day.weekday() {
        Weekday::Sat => day - Days::new(1),
        Weekday::Sun => day - Days::new(2),
        _ => day,
    }
}

/// The working day on or after `day`.
fn weekday_on_or_after(day: NaiveDate) -> NaiveDate {
    match day.weekday() {
        Weekday::Sat => day + Days::new(2),
        Weekday::Sun => day + Days::new(1),
        _ => day,
    }
}

/// How far back the history goes.
const HISTORY_DAYS: u64 = 120;

/// The RMs' work up to `today` (and the plans after it) for the bank's companies with a lead RM
/// and key people, from `HISTORY_DAYS` before the earlier of `today` and the batch date `as_of`.
pub fn work_history(
    reference: &ReferenceData,
    (as_of, today): (NaiveDate, NaiveDate),
) -> (Vec<ActivityRecord>, Vec<TaskRecord>) {
    // The history runs up to today and starts far enough before the batch date (the facts'
    // last day, which may lie days or months before today) that the batch sees a cadence too.
    let first = as_of.min(today) - Days::new(HISTORY_DAYS);
    let leads: HashMap<&str, &str> = reference
        .assignments
        .iter()
        .filter(|a| a.role == AssignmentRole::Lead && a.effective_to.is_none())
        .map(|a| (a.cif_no.as_str(), a.username.as_str()))
        .collect();
    let presidents: HashMap<&str, &str> = reference
        .users
        .iter()
        .filter(|u| u.role == Role::SubBranchPresident)
        .map(|u| (u.org_unit_code.as_str(), u.username.as_str()))
        .collect();
    let mut people: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in &reference.key_people {
        people
            .entry(p.cif_no.as_str())
            .or_default()
            .push(p.person.name.as_str());
    }
    let mut activities = Vec::new();
    let mut tasks = Vec::new();
    for customer in &reference.customers {
        let cif = customer.cif_no.as_str();
        let (Some(rm), Some(met)) = (leads.get(cif), people.get(cif)) else {
            continue;
        };
        if customer.kind != CustomerKind::Corporate {
            continue;
        }
        let h = hash(cif);
        if h.is_multiple_of(10) {
            continue;
        }
        let important = matches!(
            customer.account_type,
            AccountType::Strategic | AccountType::Important | AccountType::Group
        );
        // Within a 30-day tier interval even with the ±3 days of a real diary, but for the few.
        let interval = if important {
            14 + h % 10
        } else if h % 7 == 3 {
            40 + h % 30
        } else {
            16 + h % 10
        };
        let president = presidents.get(customer.org_unit_code.as_str()).copied();
        let colleagues = |i: u64| -> Vec<String> {
            let mut who = vec![(*rm).to_owned()];
            if i % 4 == 2
                && let Some(p) = president
            {
                who.push(p.to_owned());
            }
            who
        };
        let at = |day: NaiveDate, k: u64| {
            let (hh, mm) = TIMES[(k % 4) as usize];
            day.and_time(NaiveTime::from_hms_opt(hh, mm, 0).expect("a time"))
        };
        let pick = |k: u64| (k % 6) as usize;
        // Logged: back from the last visit, one interval at a time.
        let mut day = weekday_on_or_before(today - Days::new(1 + h % interval));
        let mut i = 0_u64;
        while day > first {
            let k = h / 7 + i;
            let kind = match k % 9 {
                3 | 7 => ActivityKind::Call,
                5 => ActivityKind::Meeting,
                _ => ActivityKind::Visit,
            };
            let cancelled = k % 17 == 11;
            let mut needs = Vec::new();
            let mut met_on = Vec::new();
            if !cancelled && k.is_multiple_of(3) {
                let (text, kind) = NEEDS[pick(k / 3)];
                needs.push(FoundNeed {
                    text: text.to_owned(),
                    kind,
                });
                // Older needs are often met a month later.
                let met = day + Days::new(30);
                met_on.push((k.is_multiple_of(4) && met < today).then_some(met));
            }
            let starts = at(day, k);
            let activity = NewActivity {
                kind,
                starts,
                minutes: Some(if kind == ActivityKind::Call { 15 } else { 60 }),
                place: (kind != ActivityKind::Call).then(|| PLACES[(k % 4) as usize].to_owned()),
                purpose: PURPOSES[(k % 8) as usize].to_owned(),
                colleagues: colleagues(i),
                people: Vec::new(),
                spin: if cancelled {
                    Spin::default()
                } else {
                    Spin {
                        situation: Some(SITUATIONS[pick(k)].to_owned()),
                        problem: Some(PROBLEMS[pick(k + 1)].to_owned()),
                        implication: (k.is_multiple_of(2))
                            .then(|| IMPLICATIONS[pick(k + 1)].to_owned()),
                        need_payoff: (k.is_multiple_of(2)).then(|| PAYOFFS[pick(k + 1)].to_owned()),
                    }
                },
                needs,
                outcome: (!cancelled).then(|| OUTCOMES[pick(k + 2)].to_owned()),
                next_steps: Vec::new(),
            };
            let who: Vec<String> = met
                .iter()
                .cycle()
                .skip((k % met.len() as u64) as usize)
                .take(1 + (k % 2) as usize)
                .map(|n| (*n).to_owned())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            activities.push(ActivityRecord {
                cif_no: cif.to_owned(),
                created_by: (*rm).to_owned(),
                status: if cancelled {
                    ActivityStatus::Cancelled
                } else {
                    ActivityStatus::Done
                },
                activity,
                people: if cancelled { Vec::new() } else { who },
                reason: cancelled.then(|| "客户临时有会，改日再约".to_owned()),
                met: met_on,
            });
            // Every other conversation agreed a next step: a task, mostly done on time.
            if !cancelled && k.is_multiple_of(2) {
                let due = weekday_on_or_after(day + Days::new(7));
                // Left open: a few of the last month's (overdue now), none older.
                let done =
                    due + Days::new(2) < today && !(k % 6 == 2 && due + Days::new(30) > today);
                tasks.push(TaskRecord {
                    cif_no: cif.to_owned(),
                    created_by: (*rm).to_owned(),
                    task: NewTask {
                        title: STEPS[pick(k)].to_owned(),
                        due,
                        owner: (*rm).to_owned(),
                        priority: if k.is_multiple_of(5) {
                            Priority::High
                        } else {
                            Priority::Normal
                        },
                        notes: None,
                    },
                    source: TaskSource::NextStep,
                    activity_starts: Some(starts),
                    done_on: done.then(|| due - Days::new(k % 3)),
                });
            }
            let step = interval + (k % 7) - 3;
            day = weekday_on_or_before(day - Days::new(step.max(5)));
            i += 1;
        }
        // Plans: the coming days for two in three, today for some.
        let plan = |day: NaiveDate, k: u64| ActivityRecord {
            cif_no: cif.to_owned(),
            created_by: (*rm).to_owned(),
            status: ActivityStatus::Planned,
            activity: NewActivity {
                kind: ActivityKind::Visit,
                starts: at(day, k),
                minutes: Some(60),
                place: Some(PLACES[(k % 4) as usize].to_owned()),
                purpose: PURPOSES[(k % 8) as usize].to_owned(),
                colleagues: colleagues(k),
                people: Vec::new(),
                spin: Spin::default(),
                needs: Vec::new(),
                outcome: None,
                next_steps: Vec::new(),
            },
            people: met.iter().take(1).map(|n| (*n).to_owned()).collect(),
            reason: None,
            met: Vec::new(),
        };
        if h.is_multiple_of(11) && today.weekday().num_days_from_monday() < 5 {
            activities.push(plan(today, h / 11 + 1));
        } else if h % 3 != 2 {
            activities.push(plan(
                weekday_on_or_after(today + Days::new(1 + h / 3 % 9)),
                h / 3,
            ));
        }
        // A task by hand for a fifth: due around today, some already overdue.
        if h % 5 == 1 {
            let due = weekday_on_or_after(today + Days::new(h / 5 % 10) - Days::new(4));
            tasks.push(TaskRecord {
                cif_no: cif.to_owned(),
                created_by: (*rm).to_owned(),
                task: NewTask {
                    title: STEPS[pick(h / 5 + 2)].to_owned(),
                    due,
                    owner: (*rm).to_owned(),
                    priority: if h % 4 == 1 {
                        Priority::High
                    } else {
                        Priority::Normal
                    },
                    notes: Some("行长例会布置".to_owned()),
                },
                source: TaskSource::Hand,
                activity_starts: None,
                done_on: None,
            });
        }
    }
    (activities, tasks)
}

/// How many past weeks of reports the history holds.
const REPORT_WEEKS: u64 = 4;

/// The RMs' weekly reports of the last four complete weeks before `today`, drafted by kam from
/// the same records (so they agree with the pages), most submitted as drafted with a line of
/// their own, about one in ten never written (the president's "who has not submitted").
pub fn weekly_reports(
    reference: &ReferenceData,
    (activities, tasks): (&[ActivityRecord], &[TaskRecord]),
    opportunities: &[OpportunityRecord],
    today: NaiveDate,
) -> Vec<ReportRecord> {
    let pipeline = Pipeline::default_stages();
    let label = |code: &str| {
        pipeline
            .stage(code)
            .map_or(code, |s| s.zh.as_str())
            .to_owned()
    };
    let names: HashMap<&str, &str> = reference
        .customers
        .iter()
        .map(|c| (c.cif_no.as_str(), c.name.as_str()))
        .collect();
    let this_week = week_of(today);
    let mut out = Vec::new();
    for user in reference
        .users
        .iter()
        .filter(|u| u.role == Role::RelationshipManager)
    {
        let me = user.username.as_str();
        for back in 1..=REPORT_WEEKS {
            let monday = this_week - Days::new(7 * back);
            let sunday = monday + Days::new(6);
            if hash(&format!("{me}{monday}")).is_multiple_of(10) {
                continue;
            }
            let item = |a: &ActivityRecord| ReportActivity {
                day: a.activity.starts.date(),
                customer: names
                    .get(a.cif_no.as_str())
                    .copied()
                    .unwrap_or(&a.cif_no)
                    .to_owned(),
                tier: None,
                kind: a.activity.kind.label_zh().to_owned(),
                purpose: a.activity.purpose.clone(),
                outcome: a.activity.outcome.clone(),
            };
            let within = |d: NaiveDate, from: NaiveDate| d >= from && d <= from + Days::new(6);
            let mine = |a: &&ActivityRecord| a.activity.colleagues.iter().any(|c| c == me);
            let task = |t: &TaskRecord| ReportTask {
                due: t.task.due,
                customer: names
                    .get(t.cif_no.as_str())
                    .copied()
                    .unwrap_or(&t.cif_no)
                    .to_owned(),
                title: t.task.title.clone(),
            };
            let mut moved = Vec::new();
            for o in opportunities.iter().filter(|o| o.opportunity.owner == me) {
                let mut from = pipeline
                    .open_stages()
                    .next()
                    .map(|s| s.code.clone())
                    .unwrap_or_default();
                for (to, on, _, _) in &o.moves {
                    if within(*on, monday) {
                        moved.push(ReportMove {
                            day: *on,
                            customer: names
                                .get(o.cif_no.as_str())
                                .copied()
                                .unwrap_or(&o.cif_no)
                                .to_owned(),
                            title: o.opportunity.title.clone(),
                            from: label(&from),
                            to: label(to),
                            amount: o.opportunity.amount,
                            won: pipeline.stage(to).and_then(|s| s.outcome) == Some(Outcome::Won),
                        });
                    }
                    from.clone_from(to);
                }
            }
            let work = WeekWork {
                moved,
                logged: activities
                    .iter()
                    .filter(mine)
                    .filter(|a| {
                        a.status == ActivityStatus::Done && within(a.activity.starts.date(), monday)
                    })
                    .map(item)
                    .collect(),
                done: tasks
                    .iter()
                    .filter(|t| t.task.owner == me && t.done_on.is_some_and(|d| within(d, monday)))
                    .map(task)
                    .collect(),
                overdue: tasks
                    .iter()
                    .filter(|t| {
                        t.task.owner == me
                            && t.task.due <= sunday
                            && t.done_on.is_none_or(|d| d > sunday)
                    })
                    .map(task)
                    .collect(),
                // What had been planned for the next week: the visits logged then.
                planned: activities
                    .iter()
                    .filter(mine)
                    .filter(|a| {
                        a.activity.kind == ActivityKind::Visit
                            && within(a.activity.starts.date(), monday + Days::new(7))
                    })
                    .map(item)
                    .collect(),
            };
            let mut body = draft(monday, &work, Language::Zh);
            body = body.replace("- （请填写）", "- 无");
            out.push(ReportRecord {
                username: me.to_owned(),
                week: monday,
                body,
                submitted: true,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bank, Scale, SynthConfig};

    #[test]
    fn the_history_is_dated_right_and_has_every_state() {
        let bank = Bank::generate(SynthConfig::new(Scale::Tiny, 7));
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let (activities, tasks) = work_history(&bank.reference, (today, today));
        assert!(!activities.is_empty() && !tasks.is_empty());
        for a in &activities {
            let day = a.activity.starts.date();
            match a.status {
                ActivityStatus::Planned => assert!(day >= today, "{a:?}"),
                _ => assert!(day < today && day > today - Days::new(HISTORY_DAYS)),
            }
            assert!(day.weekday().num_days_from_monday() < 5, "a working day");
            assert!(a.activity.colleagues.contains(&a.created_by));
            assert_eq!(a.met.len(), a.activity.needs.len());
            a.activity.check(a.status, today).unwrap();
        }
        let count = |s: ActivityStatus| activities.iter().filter(|a| a.status == s).count();
        assert!(count(ActivityStatus::Done) > count(ActivityStatus::Planned));
        assert!(count(ActivityStatus::Cancelled) > 0);
        assert!(tasks.iter().any(|t| t.done_on.is_some()));
        assert!(
            tasks
                .iter()
                .any(|t| t.done_on.is_none() && t.task.due < today),
            "overdue"
        );
        // Each customer's activities start at distinct times (the loader keys them so).
        let mut keys: Vec<_> = activities
            .iter()
            .map(|a| (&a.cif_no, a.activity.starts))
            .collect();
        keys.sort();
        let before = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), before);
        // The same inputs give the same history.
        let (again, _) = work_history(&bank.reference, (today, today));
        assert_eq!(again.len(), activities.len());
    }

    #[test]
    fn the_past_weeks_reports_agree_with_the_records() {
        let bank = Bank::generate(SynthConfig::new(Scale::Tiny, 7));
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let (activities, tasks) = work_history(&bank.reference, (today, today));
        let reports = weekly_reports(&bank.reference, (&activities, &tasks), &[], today);
        let rms = bank
            .reference
            .users
            .iter()
            .filter(|u| u.role == Role::RelationshipManager)
            .count();
        assert!(
            reports.len() < rms * REPORT_WEEKS as usize,
            "some never written"
        );
        assert!(reports.len() > rms * REPORT_WEEKS as usize / 2);
        for r in &reports {
            assert!(r.week < week_of(today) && r.week.weekday() == Weekday::Mon);
            assert!(r.body.starts_with(&format!("周报 {}", r.week)));
        }
        // A report counts the visits its author logged that week.
        let r = reports
            .iter()
            .find(|r| !r.body.contains("（0 次"))
            .expect("a busy week");
        let logged = activities
            .iter()
            .filter(|a| {
                a.status == ActivityStatus::Done
                    && a.activity.colleagues.contains(&r.username)
                    && week_of(a.activity.starts.date()) == r.week
            })
            .count();
        assert!(
            r.body.contains(&format!("本周拜访与活动（{logged} 次")),
            "{}",
            r.body
        );
        assert_eq!(
            weekly_reports(&bank.reference, (&activities, &tasks), &[], today).len(),
            reports.len()
        );
    }
}
