//! The pages as users meet them: sign-in, my day, the customer list with pinyin search, the 360
//! with masked identifiers, the language switch and the password change.

use kam_core::{codec::MonthSeries, search::name_initials, user::Role};
use reqwest::StatusCode;

use crate::fixture::{PASSWORD, Server};

crate::on_both_backends!(
    a_head_office_manager_signs_in_and_reads_the_main_pages,
    pinyin_initials_find_a_customer,
    the_360_masks_personal_identifiers,
    english_is_one_click_away_and_stays,
    a_password_change_checks_the_policy_and_the_old_password,
    sign_out_ends_the_session,
    a_reveal_needs_the_role_and_a_reason_and_the_auditor_sees_it,
    a_manager_gives_an_alert_and_the_rm_handles_it,
    the_portfolio_and_a_group_page_show_only_what_is_in_reach,
    the_administrator_disables_and_resets_users,
    the_list_exports_what_is_shown_to_excel_and_is_audited,
    the_administrator_downloads_a_batchs_rejects,
    a_manager_narrows_home_and_list_to_a_unit_and_filters_the_list,
    the_360_draws_the_months_the_batch_kept,
    a_page_out_of_reach_is_one_404_inside_the_navigation,
    the_360_shows_intervals_in_days_classes_by_name_and_counts_grouped,
    home_and_the_portfolio_show_balances_on_the_date_and_their_changes,
    a_key_account_manager_scores_the_board_on_the_page,
    a_president_appoints_the_lead_rm_and_gives_several_alerts_at_once,
    the_list_finds_any_digits_of_a_number_and_filters_by_retail_tier,
    the_administrator_adds_searches_and_edits_users,
    an_employers_360_lists_its_employees_in_reach_and_an_employee_names_its_employer,
    an_rm_keeps_the_corporate_archive,
    an_rm_keeps_the_key_people_of_a_company,
);

async fn a_head_office_manager_signs_in_and_reads_the_main_pages(server: Server) {
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    let home = client.get("/").await;
    assert!(
        home.body.contains(&user.display_name),
        "home names the user"
    );
    let visible = server.visible_cifs(&user).await;
    assert!(
        home.body.contains(&format!(
            "id=\"customer-count\">{}<",
            grouped(visible.len())
        )),
        "home counts the {} visible customers",
        visible.len()
    );
    // What changed since the last batch: the fixture moved every eleventh customer up.
    assert!(home.body.contains("id=\"moves\""));
    assert!(
        home.body.contains("升级") && home.body.contains("降级"),
        "tier moves both ways are listed"
    );
    let list = client.get("/customers").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body
            .contains(&format!("共 {} 户", grouped(visible.len())))
    );
    let first = &visible[0];
    assert!(list.body.contains(&format!("/customers/{first}")));
    let page = client.get(&format!("/customers/{first}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(first.as_str()));
    assert!(
        page.body.contains("基本信息"),
        "the 360 is in Chinese by default"
    );
}

async fn pinyin_initials_find_a_customer(server: Server) {
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let customer = server
        .bank
        .reference
        .customers
        .iter()
        .find(|c| c.name.chars().count() >= 4 && !c.name.is_ascii())
        .expect("a customer with a Chinese name");
    let initials = name_initials(&customer.name);
    let first_spelling = initials.split(' ').next().unwrap();
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    let found = client
        .get(&format!("/customers?q={}", first_spelling.to_uppercase()))
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(
        found.body.contains(customer.cif_no.as_str()),
        "typing {first_spelling} finds {} ({})",
        customer.name,
        customer.cif_no
    );
    let nothing = client.get("/customers?q=qqqqqqqqqqqqqqqq").await;
    assert!(nothing.body.contains("共 0 户"));
}

async fn the_360_masks_personal_identifiers(server: Server) {
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let person = server
        .bank
        .reference
        .customers
        .iter()
        .find(|c| c.id_number.is_some() && c.phone.is_some())
        .expect("an individual with an ID number and a phone");
    let id_number = person.id_number.as_ref().unwrap();
    let phone = person.phone.as_ref().unwrap();
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    let page = client.get(&format!("/customers/{}", person.cif_no)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains(id_number.reveal()),
        "no whole ID number"
    );
    assert!(!page.body.contains(phone.reveal()), "no whole phone number");
    assert!(page.body.contains(&id_number.masked()));
    assert!(page.body.contains(&phone.masked()));
}

async fn english_is_one_click_away_and_stays(server: Server) {
    let user = server.user_of(Role::SubBranchPresident).await;
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    let switched = client
        .post("/me/locale", &[("locale", "en"), ("back", "/customers")])
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    assert_eq!(switched.location.as_deref(), Some("/customers"));
    // Switched on a page shown after a form (its POST address), it returns to that form's page,
    // not to an address a GET would answer with 405.
    let after_form = client
        .post("/me/locale", &[("locale", "en"), ("back", "/me/tokens")])
        .await;
    assert_eq!(after_form.location.as_deref(), Some("/me"));
    assert_eq!(client.get("/me").await.status, StatusCode::OK);
    let list = client.get("/customers").await;
    assert!(list.body.contains("<html lang=\"en\">"));
    let count_at = list
        .body
        .find("id=\"result-count\">")
        .expect("the count line");
    assert!(
        list.body[count_at..]
            .split("</p>")
            .next()
            .unwrap()
            .contains(" customers ·"),
        "the count is in English"
    );
    // Rule-defined names in English too: the rules file carries both.
    let tiers = ["strategic", "core", "key", "basic", "general"];
    assert!(
        tiers.iter().any(|name| list.body.contains(name)),
        "tiers by their English names"
    );
    for zh in [
        "战略",
        "核心",
        "重点",
        "基础",
        "一般",
        "高价值",
        "较高价值",
        "中等价值",
        "一般价值",
        "低价值",
    ] {
        assert!(
            !list.body.contains(zh),
            "no Chinese tier name ({zh}) in English"
        );
    }
    // Kept with the user: a new session is in English too.
    let mut again = server.client();
    again.sign_in(user.username.as_str()).await;
    assert!(again.get("/").await.body.contains("My day"));
}

async fn a_password_change_checks_the_policy_and_the_old_password(server: Server) {
    let user = server.user_of(Role::RelationshipManager).await;
    let name = user.username.as_str();
    let mut client = server.client();
    client.sign_in(name).await;
    let mut other = server.client();
    other.sign_in(name).await;
    client.get("/me").await;
    let wrong = client
        .post(
            "/me/password",
            &[
                ("current", "nope"),
                ("new", "New-Pass-2026"),
                ("repeat", "New-Pass-2026"),
            ],
        )
        .await;
    assert!(wrong.body.contains("当前密码不正确"), "{}", wrong.body);
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains("id=\"password-current-error\"")
            && wrong.body.contains("aria-invalid=\"true\""),
        "the message stands next to the field at fault"
    );
    assert!(
        !wrong.body.contains("New-Pass-2026"),
        "a refused password form never sends a password back"
    );
    let weak = client
        .post(
            "/me/password",
            &[("current", PASSWORD), ("new", "short"), ("repeat", "short")],
        )
        .await;
    assert!(weak.body.contains("密码至少"), "the policy is explained");
    assert!(weak.body.contains("id=\"password-new-error\""));
    let unnamed = client
        .post("/me/tokens", &[("name", &"长".repeat(61))])
        .await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unnamed
            .body
            .contains(&format!("value=\"{}\"", "长".repeat(61)))
            && unnamed.body.contains("id=\"token-name-error\""),
        "the token name is kept, the message beside it"
    );
    let changed = client
        .post(
            "/me/password",
            &[
                ("current", PASSWORD),
                ("new", "New-Pass-2026"),
                ("repeat", "New-Pass-2026"),
            ],
        )
        .await;
    assert_eq!(
        changed.location.as_deref(),
        Some("/me"),
        "post/redirect/get"
    );
    assert!(client.get("/me").await.body.contains("密码已修改"));
    assert_eq!(
        client.get("/").await.status,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        other.get("/").await.status,
        StatusCode::SEE_OTHER,
        "the other session was ended"
    );
    let mut fresh = server.client();
    let old = fresh.sign_in_with(name, PASSWORD).await;
    assert_eq!(
        old.status,
        StatusCode::OK,
        "the old password no longer works"
    );
    let new = fresh.sign_in_with(name, "New-Pass-2026").await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
}

async fn sign_out_ends_the_session(server: Server) {
    let user = server.user_of(Role::BranchManager).await;
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    let cookie_before = client.get("/").await;
    assert_eq!(cookie_before.status, StatusCode::OK);
    let out = client.post("/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = client.get("/customers").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(
        after.location.unwrap_or_default().starts_with("/sign-in"),
        "signed out: back to the form"
    );
    let trail = server
        .store
        .audit_events(Some(user.username.as_str()), 20)
        .await
        .unwrap();
    assert!(trail.iter().any(|e| e.action == "sign_out"));
    assert!(trail.iter().any(|e| e.action == "sign_in"));
}

async fn a_reveal_needs_the_role_and_a_reason_and_the_auditor_sees_it(server: Server) {
    let president = server.user_of(Role::SubBranchPresident).await;
    let visible = server.visible_cifs(&president).await;
    let person = server
        .bank
        .reference
        .customers
        .iter()
        .find(|c| c.id_number.is_some() && visible.contains(&c.cif_no.to_string()))
        .expect("the president sees an individual with an ID number");
    let cif = person.cif_no.to_string();
    let whole = person.id_number.as_ref().unwrap().reveal().to_owned();
    let mut client = server.client();
    client.sign_in(president.username.as_str()).await;
    let page = client.get(&format!("/customers/{cif}")).await;
    assert!(
        page.body.contains("reveal-form"),
        "the president may reveal"
    );
    let no_reason = client
        .post(
            &format!("/customers/{cif}/reveal"),
            &[("field", "id_number"), ("reason", " ")],
        )
        .await;
    assert!(no_reason.body.contains("请填写查看原因"));
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_reason.body.contains("id=\"reveal-error\"")
            && no_reason.body.contains("<details class=\"reveal\" open>"),
        "the form stays open with the message beside the reason"
    );
    assert!(!no_reason.body.contains(&whole));
    let shown = client
        .post(
            &format!("/customers/{cif}/reveal"),
            &[("field", "id_number"), ("reason", "客户来电核实身份")],
        )
        .await;
    assert_eq!(shown.status, StatusCode::SEE_OTHER, "post/redirect/get");
    assert_eq!(
        shown.location.as_deref(),
        Some(format!("/customers/{cif}").as_str())
    );
    let shown = client.get(&format!("/customers/{cif}")).await;
    assert!(shown.body.contains(&whole), "shown whole after a reason");
    assert!(
        !client
            .get(&format!("/customers/{cif}"))
            .await
            .body
            .contains(&whole),
        "only in that answer: the next visit is masked again"
    );

    let auditor = server.user_of(Role::Auditor).await;
    let mut audit = server.client();
    audit.sign_in(auditor.username.as_str()).await;
    let page = audit.get(&format!("/customers/{cif}")).await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "the auditor reads every customer"
    );
    assert!(!page.body.contains("reveal-form"), "but may not reveal");
    let refused = audit
        .post(
            &format!("/customers/{cif}/reveal"),
            &[("field", "id_number"), ("reason", "curious")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let trail = audit.get("/audit?q=reveal").await;
    assert_eq!(trail.status, StatusCode::OK);
    // Times in the bank's zone, as a banker reads a clock: no ISO `T…Z` instants.
    let zone = kam_core::clock::BankZone::default();
    // The reveal was written moments ago: its hour now, or a minute ago across the hour.
    let hours: Vec<String> = [0, 1]
        .map(|back| {
            let at = chrono::Utc::now() - chrono::Duration::minutes(back);
            zone.local(at).format("%Y-%m-%d %H:").to_string()
        })
        .to_vec();
    assert!(
        trail.body.contains("(UTC+08:00)") && hours.iter().any(|h| trail.body.contains(h)),
        "Beijing time: {hours:?}"
    );
    assert!(!trail.body.contains("Z</td>"), "no UTC instants");
    assert!(trail.body.contains(&cif) && trail.body.contains("客户来电核实身份"));
    // Opening an individual's 360 is itself a read of personal data, in the trail.
    let views = audit.get(&format!("/audit?q={cif}")).await;
    assert!(
        views.body.contains("<td>查看客户</td><td>客户</td>"),
        "the 360's reads are recorded, in words"
    );
    // The filters: by action and by date (today in the bank), and the export (itself audited).
    let today = zone.date_of(chrono::Utc::now()).to_string();
    let reveals = audit
        .get(&format!("/audit?action=reveal&from={today}&to={today}"))
        .await;
    assert!(
        reveals.body.contains("客户来电核实身份") && !reveals.body.contains("<td>查看客户</td>")
    );
    let yesterday_only = audit.get("/audit?action=reveal&to=2000-01-01").await;
    assert!(!yesterday_only.body.contains("客户来电核实身份"));
    let bad = audit.get("/audit?from=2026-13-45").await;
    assert!(bad.body.contains("id=\"audit-date-error\""));
    let (status, bytes) = audit.get_bytes("/audit/export.xlsx?action=reveal").await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes.starts_with(b"PK"), "an xlsx workbook");
    let exported = server
        .store
        .audit_events(Some("audit_event"), 5)
        .await
        .unwrap();
    assert!(
        exported.iter().any(|e| e.action == "export"),
        "the export is audited"
    );
    assert!(
        !trail.body.contains(&whole),
        "the trail names the field, not the value"
    );
    assert_eq!(
        client.get("/audit").await.status,
        StatusCode::NOT_FOUND,
        "only auditors read the trail"
    );
}

async fn a_manager_gives_an_alert_and_the_rm_handles_it(server: Server) {
    let alerts = server.all_alerts().await;
    // An RM with an alert on a customer of their own book, and that RM's sub-branch president.
    let mut found = None;
    for user in server.store.list_users().await.unwrap() {
        if user.role != Role::RelationshipManager {
            continue;
        }
        let book = server.visible_cifs(&user).await;
        if let Some(alert) = alerts.iter().find(|a| book.contains(&a.cif_no)) {
            found = Some((user, alert.clone()));
            break;
        }
    }
    let (rm, alert) = found.expect("an RM with an alert in their book");
    let units = server.store.list_org_units().await.unwrap();
    let rm_path = units
        .iter()
        .find(|u| u.id == rm.org_unit_id)
        .unwrap()
        .path
        .clone();
    let users = server.store.list_users().await.unwrap();
    let manager = users
        .iter()
        .filter(|u| u.role == Role::BranchManager || u.role == Role::SubBranchPresident)
        .find(|u| {
            let path = &units.iter().find(|x| x.id == u.org_unit_id).unwrap().path;
            rm_path.as_str().starts_with(path.as_str())
                && u.line.is_none_or(|line| Some(line) == rm.line)
        })
        .expect("a manager above the RM")
        .clone();

    let mut boss = server.client();
    boss.sign_in(manager.username.as_str()).await;
    let inbox = boss.get("/alerts").await;
    assert!(inbox.body.contains(&format!("id=\"alert-{}\"", alert.id)));
    // The people one may give an alert to come once per page, not once per row, and an
    // unassigned row shows nobody (nothing preselected that looks like an assignment).
    assert_eq!(inbox.body.matches("<datalist id=\"assignees\">").count(), 1);
    // The evidence in words, with the bar and what to do, never the stored codes.
    for shown in ["已连续 95 天无交易", "90 天及以上", "安排电话或拜访"] {
        assert!(inbox.body.contains(shown), "{shown} on the inbox");
    }
    assert!(!inbox.body.contains("idle_days"));
    assert!(!inbox.body.contains("<select name=\"assignee\""));
    assert!(
        inbox
            .body
            .contains("name=\"assignee\" list=\"assignees\" value=\"\"")
    );
    let given = boss
        .post(
            &format!("/alerts/{}/assign", alert.id),
            &[("assignee", rm.username.as_str()), ("back", "/alerts")],
        )
        .await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.body);

    let mut client = server.client();
    client.sign_in(rm.username.as_str()).await;
    let mine = client.get("/alerts?mine=1").await;
    assert!(
        mine.body.contains(&format!("id=\"alert-{}\"", alert.id)),
        "given to the RM"
    );
    for (giver, receiver, why) in [
        (
            &mut client,
            manager.username.as_str(),
            "an RM gives only to themself",
        ),
        (
            &mut boss,
            "no.such.user",
            "an unknown name is refused like one out of reach",
        ),
    ] {
        let refused = giver
            .post(
                &format!("/alerts/{}/assign", alert.id),
                &[("assignee", receiver), ("back", "/alerts")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{why}");
    }
    let manager_path = &units
        .iter()
        .find(|x| x.id == manager.org_unit_id)
        .unwrap()
        .path;
    let far = users
        .iter()
        .find(|u| {
            let path = &units.iter().find(|x| x.id == u.org_unit_id).unwrap().path;
            u.role == Role::RelationshipManager && !manager_path.contains(path)
        })
        .expect("an RM out of the manager's reach");
    let refused = boss
        .post(
            &format!("/alerts/{}/assign", alert.id),
            &[("assignee", far.username.as_str()), ("back", "/alerts")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "an RM out of the manager's reach"
    );
    let empty = client
        .post(&format!("/alerts/{}/handle", alert.id), &[("note", " ")])
        .await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a note is needed"
    );
    assert!(
        empty.body.contains("note") && empty.body.contains("请写明处理情况"),
        "the refusal names the field, in the user's language: {}",
        empty.body
    );
    let handled = client
        .post(
            &format!("/alerts/{}/handle", alert.id),
            &[("note", "已电话回访，客户资金周转正常")],
        )
        .await;
    assert_eq!(handled.status, StatusCode::SEE_OTHER);
    let open = client.get("/alerts").await;
    assert!(
        !open.body.contains(&format!("id=\"alert-{}\"", alert.id)),
        "handled alerts leave the inbox"
    );
    let history = client.get("/alerts?status=handled").await;
    assert!(history.body.contains("已电话回访"), "and stay in history");
    assert!(
        history
            .body
            .contains(&format!("{} ({})", rm.display_name, rm.username)),
        "who handled it, by name"
    );

    let auditor = server.user_of(Role::Auditor).await;
    let mut audit = server.client();
    audit.sign_in(auditor.username.as_str()).await;
    let other = alerts.iter().find(|a| a.id != alert.id).unwrap();
    let refused = audit
        .post(&format!("/alerts/{}/handle", other.id), &[("note", "x")])
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "auditors look, they do not handle"
    );
}

async fn the_portfolio_and_a_group_page_show_only_what_is_in_reach(server: Server) {
    let president = server.user_of(Role::SubBranchPresident).await;
    let visible = server.visible_cifs(&president).await;
    let mut client = server.client();
    client.sign_in(president.username.as_str()).await;
    let page = client.get("/portfolio").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!(
        "id=\"portfolio-count\">{}<",
        grouped(visible.len())
    )));
    assert!(page.body.contains("<svg class=\"chart lorenz\""));
    // Five tiers were written for every customer: the distribution has a bar per tier seen.
    assert!(page.body.matches("<rect x=\"110\"").count() >= 2);
    // Corporate and retail tiers are separate ladders, each with its own names.
    let ladders: Vec<&str> = page
        .body
        .split("<section class=\"panel tier-ladder\">")
        .skip(1)
        .map(|s| s.split("</section>").next().unwrap())
        .collect();
    assert_eq!(ladders.len(), 2, "a chart per ladder");
    assert!(ladders[0].contains("对公客户层级分布") && !ladders[0].contains("高价值"));
    assert!(ladders[1].contains("零售客户层级分布") && !ladders[1].contains("战略"));

    let reference = &server.bank.reference;
    let (group, member) = server.group_member_in(&visible);
    let page = client.get(&format!("/groups/{group}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&member));
    for other in reference
        .group_members
        .iter()
        .filter(|m| m.group_code == group)
    {
        assert_eq!(
            page.body
                .contains(&format!("/customers/{}\"", other.cif_no)),
            visible.contains(&other.cif_no),
            "{} is listed exactly when in reach",
            other.cif_no
        );
    }
    let all = reference
        .group_members
        .iter()
        .filter(|m| m.group_code == group)
        .count();
    assert!(page.body.contains(&format!("集团共 {all} 户")));
    // The members in reach as a workbook, through the one Excel writer; audited.
    use calamine::Reader;
    assert!(page.body.contains("id=\"group-export\""));
    let (status, bytes) = client
        .get_bytes(&format!("/groups/{group}/export.xlsx"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("an xlsx workbook");
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let in_reach = reference
        .group_members
        .iter()
        .filter(|m| m.group_code == group && visible.contains(&m.cif_no))
        .count();
    assert_eq!(
        sheet.height(),
        in_reach + 3,
        "title, about, header, members"
    );
    let listed: Vec<String> = sheet.rows().skip(3).map(|r| r[0].to_string()).collect();
    assert!(listed.contains(&member) && listed.iter().all(|c| visible.contains(c)));
    assert!(
        sheet
            .rows()
            .skip(3)
            .all(|r| matches!(r[3], calamine::Data::Float(_) | calamine::Data::Empty)),
        "deposits as numbers"
    );
    let audit = server.store.audit_events(None, 20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "export" && e.entity == "customer_group" && e.entity_key == group)
    );
}

async fn the_administrator_disables_and_resets_users(server: Server) {
    let admin = server.user_of(Role::Administrator).await;
    let rm = server.user_of(Role::RelationshipManager).await;
    let mut client = server.client();
    client.sign_in(admin.username.as_str()).await;
    let page = client.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("id=\"user-{}\"", rm.username)));
    let path = format!("/admin/users/{}", rm.username);
    client.post(&path, &[("action", "disable")]).await;
    let mut other = server.client();
    let refused = other.sign_in_with(rm.username.as_str(), PASSWORD).await;
    assert_eq!(
        refused.status,
        StatusCode::OK,
        "a disabled user cannot sign in"
    );
    client.post(&path, &[("action", "enable")]).await;
    let posted = client.post(&path, &[("action", "reset")]).await;
    assert_eq!(
        posted.location.as_deref(),
        Some("/admin"),
        "post/redirect/get"
    );
    let reset = client.get("/admin").await;
    assert!(
        !client
            .get("/admin")
            .await
            .body
            .contains("id=\"one-time-password\""),
        "a reload does not reset again, nor show the password again"
    );
    let at = reset
        .body
        .find("id=\"one-time-password\">")
        .expect("shown once")
        + "id=\"one-time-password\">".len();
    let password: String = reset.body[at..].chars().take_while(|c| *c != '<').collect();
    let mut fresh = server.client();
    let signed = fresh.sign_in_with(rm.username.as_str(), &password).await;
    assert_eq!(
        signed.status,
        StatusCode::SEE_OTHER,
        "the one-time password works"
    );
    let mut rm_client = server.client();
    rm_client
        .sign_in_with(rm.username.as_str(), &password)
        .await;
    assert_eq!(rm_client.get("/admin").await.status, StatusCode::NOT_FOUND);
    let trail = server
        .store
        .audit_events(Some(rm.username.as_str()), 50)
        .await
        .unwrap();
    for action in ["disable", "enable", "reset_password"] {
        assert!(trail.iter().any(|e| e.action == action), "{action} audited");
    }
}

async fn the_list_exports_what_is_shown_to_excel_and_is_audited(server: Server) {
    use calamine::Reader;

    let president = server.user_of(Role::SubBranchPresident).await;
    let visible = server.visible_cifs(&president).await;
    let mut client = server.client();
    client.sign_in(president.username.as_str()).await;
    let (status, bytes) = client.get_bytes("/customers/export.xlsx?sort=name").await;
    assert_eq!(status, StatusCode::OK);
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("an xlsx workbook");
    assert_eq!(
        book.sheet_names(),
        ["客户"],
        "a sheet named for what it holds"
    );
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(
        sheet.height(),
        visible.len() + 3,
        "a title, the date/scope/exporter line, a header and every customer in reach"
    );
    let about = sheet.get((1, 0)).unwrap().to_string();
    assert!(
        about.contains("范围：") && about.contains(&format!("导出人：{}", president.display_name)),
        "{about}"
    );
    let header: Vec<String> = sheet
        .rows()
        .nth(2)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert!(header.contains(&"贡献（万元）".to_owned()), "{header:?}");
    assert!(
        header.contains(&"存款时点余额（万元）".to_owned()),
        "{header:?}"
    );
    let cifs: Vec<String> = sheet.rows().skip(3).map(|r| r[0].to_string()).collect();
    assert!(cifs.iter().all(|c| visible.contains(c)));
    // Amounts are numbers in the column's unit, not text.
    let value_at = header.iter().position(|h| h == "贡献（万元）").unwrap();
    assert!(
        sheet.rows().skip(3).all(|r| matches!(
            r[value_at],
            calamine::Data::Float(_) | calamine::Data::Empty
        )),
        "amounts as numbers"
    );
    let (_, tier_one) = client.get_bytes("/customers/export.xlsx?tier=1").await;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(tier_one)).unwrap();
    assert!(
        book.worksheet_range_at(0).unwrap().unwrap().height() < sheet.height(),
        "the filters apply"
    );
    let trail = server
        .store
        .audit_events(Some("customer_list"), 10)
        .await
        .unwrap();
    assert_eq!(trail.iter().filter(|e| e.action == "export").count(), 2);
    assert!(
        trail
            .iter()
            .any(|e| e.detail.contains(&format!("rows={}", visible.len())))
    );
}

async fn the_administrator_downloads_a_batchs_rejects(server: Server) {
    let reject = |line: i64, value: &str| kam_store::BatchReject {
        file_name: "accounts_20261127.csv".into(),
        line,
        column: "cif_no".into(),
        field: "cif_no".into(),
        value: value.into(),
        severity: "reject".into(),
        reason_code: "unknown_reference".into(),
        message_zh: "不存在此编号的客户".into(),
        message_en: "no customer with this number".into(),
    };
    let batch = kam_store::NewImportBatch {
        batch_id: "accounts-20261127-feedbeef".into(),
        kind: "accounts".into(),
        business_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        file_name: "accounts_20261127.csv".into(),
        content_hash: "feedbeef".into(),
        rows_read: 12_345,
        loaded: 12_343,
        rejected: 2,
        duplicates: 0,
        held: 0,
        amount_total_minor: 123_456_789,
        rejects: vec![reject(3, "C404"), reject(4, "C405")],
    };
    server
        .store
        .record_generated_batch(&kam_store::Actor::system("test"), &batch)
        .await
        .unwrap();
    let path = "/admin/imports/accounts-20261127-feedbeef/rejects.xlsx";
    let admin = server.user_of(Role::Administrator).await;
    let mut client = server.client();
    client.sign_in(admin.username.as_str()).await;
    let page = client.get("/admin").await;
    assert!(page.body.contains(&format!("href=\"{path}\"")), "linked");
    // Kinds and states in words, counts grouped, the amount in the money unit.
    for shown in [
        "<td>账户</td>",
        "<td>已生效</td>",
        "12,345",
        "12,343",
        "金额合计（万元）",
        "<td class=\"num\">123.46</td>",
    ] {
        assert!(page.body.contains(shown), "{shown} on the page");
    }
    assert!(!page.body.contains("<td>committed</td>"));
    // The nights of `kam nightly` have their own page, linked from here and from the navigation.
    assert!(page.body.contains("href=\"/admin/nights\""));
    let page = client.get("/admin/nights").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("尚无夜间作业记录"), "no night yet");
    // This server was given no desk (kam serve and kam demo give one): no upload form, a reason.
    assert!(page.body.contains("本服务不运行夜间作业") && !page.body.contains("upload-form"));
    for (day, outcome, reason) in [
        (26, kam_store::NightOutcome::Done, None),
        (
            27,
            kam_store::NightOutcome::Quarantined,
            Some("拒绝 3 行（共 9 行）"),
        ),
    ] {
        server
            .store
            .record_night(
                &kam_store::Actor::system("nightly"),
                &kam_store::NightRun {
                    business_date: chrono::NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
                    outcome,
                    files_imported: 4,
                    files_already: 0,
                    files_refused: i64::from(reason.is_some()),
                    rows_rejected: if reason.is_some() { 3 } else { 0 },
                    batch_millis: reason.is_none().then_some(12_300),
                    reason: reason.map(str::to_owned),
                    started_at: "2026-11-27T18:30:00Z".into(),
                    finished_at: "2026-11-27T18:31:00Z".into(),
                },
            )
            .await
            .unwrap();
    }
    let page = client.get("/admin/nights").await;
    let nights = &page.body[page.body.find("id=\"nights\"").expect("the nights table")..];
    let quarantined = nights
        .find("已隔离")
        .expect("the quarantined night in words");
    let done = nights.find("<td>完成</td>").expect("the night done");
    assert!(quarantined < done, "newest first");
    assert!(nights.contains("拒绝 3 行（共 9 行）") && nights.contains("12.3 s"));
    assert!(nights.contains("02:30"), "times in the bank's zone");
    let (status, bytes) = client.get_bytes(path).await;
    assert_eq!(status, StatusCode::OK);
    let (sheets, rows) = workbook_rows(bytes);
    let rows: Vec<Vec<String>> = rows.into_iter().skip(2).collect();
    assert_eq!(sheets, ["拒收记录"]);
    assert_eq!(
        rows.len(),
        3,
        "under the title lines, a header and both rejects: {rows:?}"
    );
    assert_eq!(rows[0][1], "行号");
    assert_eq!(&rows[1][1..5], ["3", "cif_no", "cif_no", "C404"]);
    assert_eq!(rows[2][4], "C405");
    assert_eq!(rows[1][7], "不存在此编号的客户");
    let trail = server
        .store
        .audit_events(Some("accounts-20261127-feedbeef"), 10)
        .await
        .unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "export" && e.detail == "rows=2"),
        "the download is audited"
    );
    let missing = client
        .get_bytes("/admin/imports/no-such-batch/rejects.xlsx")
        .await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
    // A night's rejects: every batch of its business date in one workbook, audited.
    let night = "/admin/nights/2026-11-27/rejects.xlsx";
    assert!(nights.contains(&format!("href=\"{night}\"")), "linked");
    assert!(
        !nights.contains("/admin/nights/2026-11-26/"),
        "a night with no rejected row offers nothing: {nights}"
    );
    let (status, bytes) = client.get_bytes(night).await;
    assert_eq!(status, StatusCode::OK);
    let (_, rows) = workbook_rows(bytes);
    assert!(
        rows[0][0].contains("2026-11-27"),
        "titled with the day: {rows:?}"
    );
    assert_eq!(
        rows.len(),
        5,
        "title lines, a header and both rejects: {rows:?}"
    );
    assert_eq!(rows[3][4], "C404");
    assert_eq!(rows[3][0], "accounts_20261127.csv");
    let trail = server
        .store
        .audit_events(Some("2026-11-27"), 10)
        .await
        .unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "export" && e.entity_key == "2026-11-27" && e.detail == "rows=2"),
        "the night's download is audited: {trail:?}"
    );
    let nothing = client
        .get_bytes("/admin/nights/2026-13-01/rejects.xlsx")
        .await;
    assert_eq!(nothing.0, StatusCode::NOT_FOUND, "not a date");
    // Anyone else: the 404 of a page that does not exist.
    let mut manager = server.client();
    manager
        .sign_in(server.user_of(Role::BranchManager).await.username.as_str())
        .await;
    assert!(!manager.get("/").await.body.contains("nav-nights"));
    for path in ["/admin/nights", "/admin/nights/progress", night] {
        assert_eq!(
            manager.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

/// A downloaded workbook's sheet names and its first sheet's cells as text, row by row.
fn workbook_rows(bytes: Vec<u8>) -> (Vec<String>, Vec<Vec<String>>) {
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("an xlsx workbook");
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let rows = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    (book.sheet_names(), rows)
}

async fn a_manager_narrows_home_and_list_to_a_unit_and_filters_the_list(server: Server) {
    use kam_store::CustomerFilter;
    let manager = server.user_of(Role::BranchManager).await;
    let scope = server.handle_of(&manager).await;
    let units = server.store.list_org_units().await.unwrap();
    let home = units.iter().find(|u| u.id == manager.org_unit_id).unwrap();
    let count = |filter: CustomerFilter| {
        let scope = scope.clone();
        async move {
            scope
                .find_customers(&CustomerFilter {
                    limit: 1_000_000,
                    ..filter
                })
                .await
                .unwrap()
                .len()
        }
    };
    let everything = count(CustomerFilter::default()).await;
    let mut sub = None;
    for unit in units
        .iter()
        .filter(|u| u.id != home.id && home.path.contains(&u.path))
    {
        let n = count(CustomerFilter {
            org_unit: Some(unit.id),
            ..CustomerFilter::default()
        })
        .await;
        if n > 0 && n < everything {
            sub = Some((unit, n));
            break;
        }
    }
    let (sub, in_sub) = sub.expect("a unit below the manager's with some of the customers");
    let other = units
        .iter()
        .find(|u| !home.path.contains(&u.path))
        .expect("a unit out of the manager's reach");

    let mut client = server.client();
    client.sign_in(manager.username.as_str()).await;
    let home_page = client.get(&format!("/?unit={}", sub.code)).await;
    // The unit in scope reaches its own customers and the members of the groups it leads
    // (主办行) — at least those booked in it.
    let in_reach = scope
        .narrowed_to(&sub.path)
        .count_customers(&CustomerFilter::default())
        .await
        .unwrap() as usize;
    assert!(in_reach >= in_sub);
    assert!(
        home_page
            .body
            .contains(&format!("id=\"customer-count\">{}<", grouped(in_reach))),
        "home counts the chosen unit's {in_reach} customers"
    );
    let outside = client.get(&format!("/?unit={}", other.code)).await;
    assert!(
        outside
            .body
            .contains(&format!("id=\"customer-count\">{}<", grouped(everything))),
        "a unit out of reach widens nothing: the whole reach"
    );
    assert_eq!(
        exported(&mut client, &format!("unit={}", sub.code)).await,
        in_sub
    );
    let list = client.get("/customers").await;
    assert!(
        list.body.contains("id=\"industry\""),
        "the industry filter is offered"
    );
    assert!(
        list.body.contains(&format!("value=\"{}\"", sub.code)),
        "and the units"
    );
    let industry = kam_core::customer::Industry::ALL
        .iter()
        .copied()
        .find(|i| {
            server
                .bank
                .reference
                .customers
                .iter()
                .any(|c| c.industry == Some(*i))
        })
        .unwrap();
    let by_industry = count(CustomerFilter {
        industry: Some(industry),
        ..CustomerFilter::default()
    })
    .await;
    assert_eq!(
        exported(&mut client, &format!("industry={industry}")).await,
        by_industry
    );
    let rm = server
        .store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| {
            u.role == Role::RelationshipManager
                && units
                    .iter()
                    .any(|x| x.id == u.org_unit_id && home.path.contains(&x.path))
        })
        .expect("an RM under the manager");
    let by_rm = count(CustomerFilter {
        rm: Some((rm.id, crate::fixture::kam_web_today())),
        ..CustomerFilter::default()
    })
    .await;
    assert!(by_rm > 0 && by_rm < everything, "{by_rm}");
    assert_eq!(
        exported(&mut client, &format!("rm={}", rm.username)).await,
        by_rm
    );
}

/// Rows of the list's Excel export for a query (the export applies the list's filters).
async fn exported(client: &mut crate::fixture::Client, query: &str) -> usize {
    use calamine::Reader;
    let (status, bytes) = client
        .get_bytes(&format!("/customers/export.xlsx?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    // A title, a line with the date, scope and exporter, the header, then the rows.
    book.worksheet_range_at(0).unwrap().unwrap().height() - 3
}

async fn the_360_draws_the_months_the_batch_kept(server: Server) {
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let customers = &server.bank.reference.customers;
    let (charted, plain) = (&customers[0], &customers[1]);
    let as_of = crate::fixture::kam_web_today();
    let class = |cif: &str| kam_store::StoredClass {
        value_months: MonthSeries::parse("2026-09=100,2026-10=200").unwrap(),
        deposit_months: MonthSeries::parse("2026-09=100000000,2026-10=123456789").unwrap(),
        loan_months: MonthSeries::parse("2026-09=0,2026-10=0").unwrap(),
        fee_months: MonthSeries::parse("2026-09=5000,2026-10=0").unwrap(),
        value_total: 300,
        value_slope: Some(100.0),
        value_trend: kam_core::value::Trend::Rising,
        value_score: 50,
        ..plain_class(cif, as_of)
    };
    server
        .store
        .save_classes(
            &kam_store::Actor::system("test"),
            as_of,
            &[class(charted.cif_no.as_str())],
        )
        .await
        .unwrap();
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    let page = client.get(&format!("/customers/{}", charted.cif_no)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"trends\""), "the trends panel");
    assert_eq!(
        page.body.matches("<figure class=\"trend\"").count(),
        2,
        "deposit and fees; a series of zeros (no loans) is left out"
    );
    assert!(page.body.contains("日均存款（月）"));
    // The latest month's average deposit, as bankers read it: 1,234,567.89 yuan.
    assert!(
        page.body.contains("123.46 万元"),
        "latest month shown in 万元"
    );
    let other = client.get(&format!("/customers/{}", plain.cif_no)).await;
    assert!(!other.body.contains("id=\"trends\""), "no batch, no trends");
}

async fn the_360_shows_intervals_in_days_classes_by_name_and_counts_grouped(server: Server) {
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let cif = server.bank.reference.customers[2].cif_no.to_string();
    let value = |code: &str, window_days: i64, value_int: Option<i64>, value_real: Option<f64>| {
        kam_store::StoredIndicator {
            cif_no: cif.clone(),
            code: code.into(),
            window_days,
            value_int,
            value_real,
        }
    };
    let values = [
        value("avg_txn_interval_days", 365, None, Some(4.1666)),
        value("worst_loan_class", 0, Some(4), None),
        value("txn_count", 365, Some(2282), None),
        value("tenure_days", 0, Some(5255), None),
    ];
    server
        .store
        .save_indicators(
            &kam_store::Actor::system("test"),
            crate::fixture::kam_web_today(),
            "2026-12-06T00:00:00.000Z",
            1,
            &values,
        )
        .await
        .unwrap();
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    let page = client.get(&format!("/customers/{cif}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("4.2 天"),
        "an interval is days, not 416.7%"
    );
    assert!(!page.body.contains("416.7%"));
    assert!(page.body.contains("可疑"), "class 4 by its name");
    assert!(page.body.contains("2,282"), "a count with separators");
    assert!(page.body.contains("5,255 天"), "days with separators");
}

async fn a_page_out_of_reach_is_one_404_inside_the_navigation(server: Server) {
    // An administrator has no customer data: the customer pages are not an empty list but the
    // same 404 as a page that does not exist, with the navigation to go on from.
    let admin = server.user_of(Role::Administrator).await;
    let mut client = server.client();
    client.sign_in(admin.username.as_str()).await;
    for path in [
        "/customers",
        "/portfolio",
        "/alerts",
        "/customers/export.xlsx",
    ] {
        let page = client.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            page.body.contains("id=\"error\"") && page.body.contains("id=\"nav-admin\""),
            "{path}: the 404 inside the navigation"
        );
        assert!(page.body.contains("KAM-404"));
    }
    // A record out of reach reads exactly like a missing one, inside the navigation too.
    let rm = server.user_of(Role::RelationshipManager).await;
    let visible = server.visible_cifs(&rm).await;
    let hidden = server
        .bank
        .reference
        .customers
        .iter()
        .find(|c| !visible.contains(&c.cif_no.to_string()))
        .expect("a customer out of the RM's reach");
    let mut rm_client = server.client();
    rm_client.sign_in(rm.username.as_str()).await;
    let out_of_reach = rm_client
        .get(&format!("/customers/{}", hidden.cif_no))
        .await;
    let missing = rm_client.get("/customers/NO-SUCH-CIF").await;
    assert_eq!(out_of_reach.status, StatusCode::NOT_FOUND);
    assert_eq!(
        out_of_reach.body,
        missing.body.replace("NO-SUCH-CIF", hidden.cif_no.as_str())
    );
    assert!(
        out_of_reach.body.contains("href=\"/customers\""),
        "with the navigation"
    );
    // An address nobody serves, signed in: the same 404 inside the navigation.
    let unknown = rm_client.get("/no-such-page").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.body.contains("id=\"error\"") && unknown.body.contains("href=\"/customers\""),
        "an unknown address inside the navigation"
    );
    // Signed out, the plain page stays (nothing of a session to show).
    let anonymous = server.client().get("/no-such-page").await;
    assert_eq!(anonymous.status, StatusCode::NOT_FOUND);
    assert!(!anonymous.body.contains("id=\"nav-admin\"") && anonymous.body.contains("KAM-404"));
}

async fn home_and_the_portfolio_show_balances_on_the_date_and_their_changes(server: Server) {
    let president = server.user_of(Role::SubBranchPresident).await;
    let visible = server.visible_cifs(&president).await;
    assert!(!visible.is_empty());
    // Every customer of the bank: 1 万元 on the date, 0.25 万元 more than a year ago, 0.5 万元 less
    // loans than yesterday; one customer outside the president's reach has far more.
    let mut values = Vec::new();
    let outsider = server
        .bank
        .reference
        .customers
        .iter()
        .find(|c| !visible.contains(&c.cif_no.to_string()))
        .expect("a customer out of reach");
    for customer in &server.bank.reference.customers {
        let cif = customer.cif_no.to_string();
        let big = if customer.cif_no == outsider.cif_no {
            1_000
        } else {
            1
        };
        for (code, fen) in [
            ("deposit_balance", 1_000_000 * big),
            ("deposit_change_yoy", 250_000 * big),
            ("loan_change_day", -500_000 * big),
        ] {
            values.push(kam_store::StoredIndicator {
                cif_no: cif.clone(),
                code: code.into(),
                window_days: 0,
                value_int: Some(fen),
                value_real: None,
            });
        }
    }
    server
        .store
        .save_indicators(
            &kam_store::Actor::system("test"),
            crate::fixture::kam_web_today(),
            "2026-12-06T00:00:00.000Z",
            values.len() as i64,
            &values,
        )
        .await
        .unwrap();
    let n = visible.len();
    // n × 1 万元, n × 0.25, n × −0.5, with two decimals in 万元.
    let wan = |hundredths: usize| format!("{}.{:02}", grouped(hundredths / 100), hundredths % 100);
    let mut client = server.client();
    client.sign_in(president.username.as_str()).await;
    for path in ["/", "/portfolio"] {
        let page = client.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        for shown in [
            "id=\"figures\"",
            "时点余额",
            "较上日",
            "较年初",
            "单位：万元",
            &format!("<td class=\"num\">{}</td>", wan(n * 100)),
            &format!("<td class=\"num\">+{}</td>", wan(n * 25)),
            &format!("<td class=\"num down\">-{}</td>", wan(n * 50)),
        ] {
            assert!(page.body.contains(shown), "{path}: {shown}");
        }
    }
}

async fn a_key_account_manager_scores_the_board_on_the_page(server: Server) {
    let kam = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let visible = server.visible_cifs(&kam).await;
    let candidates: Vec<String> = visible.iter().take(3).cloned().collect();
    assert_eq!(candidates.len(), 3);
    let as_of = crate::fixture::kam_web_today();
    // The batch left every candidate at the same total, the manual criteria unscored.
    let class = |cif: &str| kam_store::StoredClass {
        // Every candidate the same: scale 9, contribution 5, credit 9, manual criteria unscored.
        board_scores: Some(kam_core::codec::BoardScores(vec![
            ("relationship".into(), None),
            ("policy".into(), None),
            ("scale".into(), Some(9)),
            ("contribution".into(), Some(5)),
            ("credit".into(), Some(9)),
            ("potential".into(), None),
        ])),
        ..board_class(cif, as_of, 0)
    };
    let classes: Vec<_> = candidates.iter().map(|c| class(c)).collect();
    server
        .store
        .save_classes(&kam_store::Actor::system("test"), as_of, &classes)
        .await
        .unwrap();
    let mut client = server.client();
    client.sign_in(kam.username.as_str()).await;
    let page = client.get("/board").await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in [
        "id=\"nav-board\"",
        "客户关系",
        "政策支持",
        "发展潜力",
        "id=\"board-unscored\"",
        "全体候选总分相同",
        "name=\"score-relationship\"",
    ] {
        assert!(page.body.contains(shown), "{shown} on the board");
    }
    assert!(
        !page.body.contains("relationship=") && !page.body.contains("<td class=\"star\">★</td>")
    );
    let first = &candidates[0];
    let saved = client
        .post(
            &format!("/board/{first}/scores"),
            &[
                ("score-relationship", "9"),
                ("seen-relationship", ""),
                ("shown-relationship", ""),
                ("back", "/board?unit="),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = client.get("/board").await;
    assert!(page.body.contains("id=\"board-note\""), "the one-time note");
    let row = page
        .body
        .split(&format!("id=\"board-{first}\""))
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("the scored row");
    assert!(row.contains(">32<") && row.contains("★"), "{row}");
    assert!(row.contains(&kam.display_name), "who entered it: {row}");
    assert_eq!(page.body.matches("<td class=\"star\">★</td>").count(), 1);
    // A form opened before that score was entered does not overwrite it.
    let stale = client
        .post(
            &format!("/board/{first}/scores"),
            &[
                ("score-relationship", "1"),
                ("seen-relationship", ""),
                ("shown-relationship", ""),
                ("back", "/board"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    // A score off the scale is refused by name.
    let bad = client
        .post(
            &format!("/board/{first}/scores"),
            &[("score-policy", "4"), ("back", "/board")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let scores = server
        .store
        .manual_scores("key-account-board")
        .await
        .unwrap();
    assert_eq!(scores.len(), 1);
    assert_eq!(scores[&(first.clone(), "relationship".to_owned())], 9);
    // An auditor reads the board and enters nothing.
    let auditor = server.user_of(Role::Auditor).await;
    let mut reader = server.client();
    reader.sign_in(auditor.username.as_str()).await;
    let page = reader.get("/board").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<select name=\"score-"));
    let refused = reader
        .post(
            &format!("/board/{first}/scores"),
            &[("score-policy", "7"), ("back", "/board")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        server
            .store
            .manual_scores("key-account-board")
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn a_president_appoints_the_lead_rm_and_gives_several_alerts_at_once(server: Server) {
    let president = server.user_of(Role::SubBranchPresident).await;
    let visible = server.visible_cifs(&president).await;
    let today = crate::fixture::kam_web_today();
    let bank = server.store.whole_bank("test", today);
    // A customer in reach with a lead, and an RM of another customer in reach to take over.
    let mut found = None;
    for cif in &visible {
        let customer = bank.customer_by_cif(cif).await.unwrap();
        let team = bank.team_of(customer.id).await.unwrap();
        if let Some(lead) = team.iter().find(|m| m.role.as_str() == "lead") {
            found = Some((customer, lead.username.clone()));
            break;
        }
    }
    let (customer, old_lead) = found.expect("a customer in reach with a lead");
    let mut successor = None;
    for cif in &visible {
        let other = bank.customer_by_cif(cif).await.unwrap();
        for m in bank.team_of(other.id).await.unwrap() {
            let user = server
                .store
                .list_users()
                .await
                .unwrap()
                .into_iter()
                .find(|u| u.username.as_str() == m.username)
                .unwrap();
            if m.username != old_lead
                && user.role == Role::RelationshipManager
                && (president.line.is_none() || user.line == president.line)
            {
                successor = Some(m.username.clone());
            }
        }
        if successor.is_some() {
            break;
        }
    }
    let successor = successor.expect("another RM in reach");
    let mut boss = server.client();
    boss.sign_in(president.username.as_str()).await;
    let cif = customer.cif_no.to_string();
    let page = boss.get(&format!("/customers/{cif}")).await;
    assert!(
        page.body.contains("id=\"team-appoint\""),
        "the president appoints here"
    );
    assert!(page.body.contains(&format!("value=\"{successor}\"")));
    let appointed = boss
        .post(
            &format!("/customers/{cif}/team"),
            &[("username", successor.as_str()), ("role", "lead")],
        )
        .await;
    assert_eq!(
        appointed.status,
        StatusCode::SEE_OTHER,
        "{}",
        appointed.body
    );
    let page = boss.get(&format!("/customers/{cif}")).await;
    assert!(page.body.contains("id=\"team-note\""));
    // History kept: the old lead's row ends today, the new one starts today; audited.
    let history = bank.assignment_history(customer.id).await.unwrap();
    let leads: Vec<_> = history
        .iter()
        .filter(|a| a.role.as_str() == "lead")
        .collect();
    assert!(
        leads.iter().any(|a| a.effective_to == Some(today)),
        "{leads:?}"
    );
    assert!(
        leads
            .iter()
            .any(|a| a.effective_from == today && a.effective_to.is_none())
    );
    let team = bank.team_of(customer.id).await.unwrap();
    assert_eq!(
        team.iter()
            .filter(|m| m.role.as_str() == "lead")
            .map(|m| m.username.as_str())
            .collect::<Vec<_>>(),
        [successor.as_str()]
    );
    let audit = server.store.audit_events(None, 50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "assign" && e.entity == "rm_assignment" && e.entity_key == cif)
    );
    // An RM appoints nobody: no form, and the address refuses (audited).
    let rm = server
        .store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username.as_str() == successor)
        .unwrap();
    let mut rm_client = server.client();
    rm_client.sign_in(rm.username.as_str()).await;
    let page = rm_client.get(&format!("/customers/{cif}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("id=\"team-appoint\""));
    let refused = rm_client
        .post(
            &format!("/customers/{cif}/team"),
            &[("username", rm.username.as_str()), ("role", "member")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Several alerts at once: the president ticks two and gives them to the new lead.
    let alerts: Vec<i64> = server
        .all_alerts()
        .await
        .into_iter()
        .filter(|a| visible.contains(&a.cif_no) && a.status.as_str() == "open")
        .map(|a| a.id)
        .take(2)
        .collect();
    assert_eq!(alerts.len(), 2, "two open alerts in reach");
    let inbox = boss.get("/alerts").await;
    assert!(inbox.body.contains("id=\"bulk-assign\""));
    let (first, second) = (alerts[0].to_string(), alerts[1].to_string());
    let given = boss
        .post(
            "/alerts/assign",
            &[
                ("id", first.as_str()),
                ("id", second.as_str()),
                ("assignee", successor.as_str()),
                ("back", "/alerts"),
            ],
        )
        .await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.body);
    let now = server.all_alerts().await;
    for id in &alerts {
        let alert = now.iter().find(|a| a.id == *id).unwrap();
        assert_eq!(alert.assigned_to.as_deref(), Some(successor.as_str()));
    }
    let none = boss
        .post("/alerts/assign", &[("assignee", successor.as_str())])
        .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_list_finds_any_digits_of_a_number_and_filters_by_retail_tier(server: Server) {
    let user = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let visible = server.visible_cifs(&user).await;
    let people: Vec<&kam_core::customer::NewCustomer> = server
        .bank
        .reference
        .customers
        .iter()
        .filter(|c| {
            c.kind == kam_core::customer::CustomerKind::Individual
                && visible.contains(&c.cif_no.to_string())
        })
        .take(2)
        .collect();
    assert_eq!(people.len(), 2);
    let as_of = crate::fixture::kam_web_today();
    let rules = kam_core::rules::Rules::builtin();
    let class = |cif: &str, tier: kam_core::classes::RetailTier| kam_store::StoredClass {
        retail_tier: Some(tier),
        retail_tier_name: Some(rules.retail_tiers.name(tier).to_owned()),
        retail_tier_name_en: Some(rules.retail_tiers.name_en(tier).to_owned()),
        retail_value: Some(700_000_000),
        ..plain_class(cif, as_of)
    };
    let (rich, vip) = (people[0].cif_no.to_string(), people[1].cif_no.to_string());
    server
        .store
        .save_classes(
            &kam_store::Actor::system("test"),
            as_of,
            &[
                class(&rich, kam_core::classes::RetailTier::PrivateBanking),
                class(&vip, kam_core::classes::RetailTier::Vip),
            ],
        )
        .await
        .unwrap();
    let mut client = server.client();
    client.sign_in(user.username.as_str()).await;
    let page = client.get("/customers?retail=private_banking").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!(">{rich}<")) && !page.body.contains(&format!(">{vip}<")));
    assert!(page.body.contains("<td>私人银行</td>") && page.body.contains("零售等级"));
    // The last digits of a number find it, wherever they are.
    let tail = &vip[vip.len() - 5..];
    let found = client.get(&format!("/customers?q={tail}")).await;
    assert!(
        found.body.contains(&format!(">{vip}<")),
        "…{tail} finds {vip}"
    );
}

async fn the_administrator_adds_searches_and_edits_users(server: Server) {
    use kam_core::org::OrgKind;
    let admin = server.user_of(Role::Administrator).await;
    let units = server.store.list_org_units().await.unwrap();
    let sub = units.iter().find(|u| u.kind == OrgKind::SubBranch).unwrap();
    let head = units
        .iter()
        .find(|u| u.kind == OrgKind::HeadOffice)
        .unwrap();
    let mut client = server.client();
    client.sign_in(admin.username.as_str()).await;
    // Search: one user found by name among all.
    let rm = server.user_of(Role::RelationshipManager).await;
    let found = client
        .get(&format!("/admin?q={}", rm.username.as_str()))
        .await;
    assert!(found.body.contains(&format!("id=\"user-{}\"", rm.username)));
    assert!(
        !found
            .body
            .contains(&format!("id=\"user-{}\"", admin.username))
    );
    assert!(
        found.body.contains("data-confirm="),
        "disable and reset ask first"
    );
    // Add: refused with the field named and the values kept, then added.
    let form = client.get("/admin/users/new").await;
    assert_eq!(form.status, StatusCode::OK);
    let wrong_level = client
        .post(
            "/admin/users",
            &[
                ("username", "new.rm01"),
                ("display_name", "新来的客户经理"),
                ("role", "relationship_manager"),
                ("unit", head.code.as_str()),
                ("line", "corporate"),
            ],
        )
        .await;
    assert_eq!(wrong_level.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong_level.body.contains("新来的客户经理"),
        "what was entered is kept"
    );
    let added = client
        .post(
            "/admin/users",
            &[
                ("username", "new.rm01"),
                ("display_name", "新来的客户经理"),
                ("role", "relationship_manager"),
                ("unit", sub.code.as_str()),
                ("line", "corporate"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let shown = client.get("/admin").await;
    let at = shown
        .body
        .find("id=\"one-time-password\">")
        .expect("the first password, once")
        + "id=\"one-time-password\">".len();
    let password: String = shown.body[at..].chars().take_while(|c| *c != '<').collect();
    let mut newcomer = server.client();
    let signed = newcomer.sign_in_with("new.rm01", &password).await;
    assert_eq!(
        signed.status,
        StatusCode::SEE_OTHER,
        "the new user signs in"
    );
    let taken = client
        .post(
            "/admin/users",
            &[
                ("username", "new.rm01"),
                ("display_name", "重名"),
                ("role", "relationship_manager"),
                ("unit", sub.code.as_str()),
                ("line", "corporate"),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.body.contains("该用户名已被使用"));
    // Edit: the line changes; a form opened before that change is refused, not applied.
    let edit = client.get("/admin/users/new.rm01/edit").await;
    let at = edit.body.find("name=\"seen\" value=\"").unwrap() + "name=\"seen\" value=\"".len();
    let seen: String = edit.body[at..].chars().take_while(|c| *c != '"').collect();
    let fields = |line: &'static str, seen: &str| {
        vec![
            ("display_name", "新来的客户经理".to_owned()),
            ("role", "relationship_manager".to_owned()),
            ("unit", sub.code.clone()),
            ("line", line.to_owned()),
            ("seen", seen.to_owned()),
        ]
    };
    let first = fields("retail", &seen);
    let first: Vec<(&str, &str)> = first.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = client.post("/admin/users/new.rm01/edit", &first).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let user = server.store.user_by_username("new.rm01").await.unwrap();
    assert_eq!(user.line, Some(kam_core::org::Line::Retail));
    let stale = client.post("/admin/users/new.rm01/edit", &first).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let trail = server
        .store
        .audit_events(Some("new.rm01"), 10)
        .await
        .unwrap();
    assert!(trail.iter().any(|e| e.action == "create"));
    assert!(trail.iter().any(|e| e.action == "edit"));
    // Nobody else reaches these pages.
    let mut rm_client = server.client();
    rm_client.sign_in(rm.username.as_str()).await;
    assert_eq!(
        rm_client.get("/admin/users/new").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn an_employers_360_lists_its_employees_in_reach_and_an_employee_names_its_employer(
    server: Server,
) {
    let links = &server.bank.reference.payroll_links;
    assert!(!links.is_empty(), "the synthetic bank pays salaries");
    // Head office sees the employer and its employees.
    let kam = server.user_of(Role::HeadOfficeKeyAccountManager).await;
    let visible = server.visible_cifs(&kam).await;
    let link = links
        .iter()
        .find(|l| visible.contains(&l.employer_cif_no) && visible.contains(&l.employee_cif_no))
        .expect("a payroll link in reach");
    let mut client = server.client();
    client.sign_in(kam.username.as_str()).await;
    let employer = client
        .get(&format!("/customers/{}", link.employer_cif_no))
        .await;
    assert!(employer.body.contains("id=\"payroll-employees\""));
    assert!(
        employer
            .body
            .contains(&format!("href=\"/customers/{}\"", link.employee_cif_no)),
        "the employee listed, linked"
    );
    let employee = client
        .get(&format!("/customers/{}", link.employee_cif_no))
        .await;
    assert!(employee.body.contains("id=\"payroll-employers\""));
    assert!(
        employee
            .body
            .contains(&format!("href=\"/customers/{}\"", link.employer_cif_no))
    );
    // An RM who has the employee but not the employer still reads the employer's name.
    for user in server.store.list_users().await.unwrap() {
        if user.role != Role::RelationshipManager {
            continue;
        }
        let book = server.visible_cifs(&user).await;
        let Some(link) = links
            .iter()
            .find(|l| book.contains(&l.employee_cif_no) && !book.contains(&l.employer_cif_no))
        else {
            continue;
        };
        let mut rm = server.client();
        rm.sign_in(user.username.as_str()).await;
        let page = rm
            .get(&format!("/customers/{}", link.employee_cif_no))
            .await;
        assert!(page.body.contains("id=\"payroll-employers\""));
        assert!(
            !page
                .body
                .contains(&format!("href=\"/customers/{}\"", link.employer_cif_no)),
            "no link out of reach"
        );
        assert!(page.body.contains("其他机构的客户"));
        return;
    }
}

async fn an_rm_keeps_the_key_people_of_a_company(server: Server) {
    let rm = server.user_of(Role::RelationshipManager).await;
    let company = server.company_in_reach(&rm).await;
    let mut client = server.client();
    client.sign_in(rm.username.as_str()).await;
    let page = client.get(&format!("/customers/{company}")).await;
    assert!(page.body.contains("id=\"person-add\""), "the RM adds here");
    let form = client
        .get(&format!("/customers/{company}/people/new"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    let fields = |phone: &'static str, stage: &'static str, version: &'static str| {
        vec![
            ("name", "周建华"),
            ("role", "finance_head"),
            ("title", "财务总监"),
            ("phone", phone),
            ("birthday", "1976-08-15"),
            ("closeness", "3"),
            ("trust", "4"),
            ("favour", "2"),
            ("stage", stage),
            ("owner", ""),
            ("notes", "周三上午在厂区办公"),
            ("version", version),
        ]
    };
    // A bad number is named, what was typed is kept, nothing is added.
    let refused = client
        .post(
            &format!("/customers/{company}/people"),
            &fields("12345", "build", ""),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("手机号码应为以 1 开头的 11 位数字"));
    assert!(refused.body.contains("value=\"周建华\""));
    let added = client
        .post(
            &format!("/customers/{company}/people"),
            &fields("13912345678", "build", ""),
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let page = client.get(&format!("/customers/{company}")).await;
    assert!(page.body.contains("id=\"people-note\""));
    assert!(page.body.contains("139****5678") && !page.body.contains("13912345678"));
    let bank = server
        .store
        .whole_bank("test", crate::fixture::kam_web_today());
    let customer = bank.customer_by_cif(&company).await.unwrap();
    let person = bank
        .key_people(customer.id)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "周建华")
        .expect("added");
    let edit = format!("/customers/{company}/people/{}", person.id.0);
    let form = client.get(&edit).await;
    assert!(form.body.contains("value=\"139****5678\"") && !form.body.contains("13912345678"));
    // Saved with the masked number unchanged: the number stays; the new stage is dated today.
    let saved = client
        .post(&edit, &fields("139****5678", "deepen", "1"))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let now = bank
        .key_people(customer.id)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.id == person.id)
        .unwrap();
    assert_eq!(now.details.phone.as_ref().unwrap().reveal(), "13912345678");
    assert_eq!(now.stage.as_str(), "deepen");
    assert_eq!(now.stage_since, Some(crate::fixture::kam_web_today()));
    assert_eq!(now.version, 2);
    // A form opened before that save does not overwrite it.
    let stale = client
        .post(&edit, &fields("139****5678", "extend", "1"))
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    // Retired with a reason: off the 360, kept and audited.
    let retire = format!("{edit}/retire");
    let no_reason = client
        .post(&retire, &[("reason", ""), ("version", "2")])
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_reason.body.contains("id=\"reason-error\"")
            && no_reason.body.contains("value=\"周建华\""),
        "the reason named on the person's page"
    );
    let retired = client
        .post(&retire, &[("reason", "已调任集团总部"), ("version", "2")])
        .await;
    assert_eq!(retired.status, StatusCode::SEE_OTHER, "{}", retired.body);
    let page = client.get(&format!("/customers/{company}")).await;
    assert!(
        !page
            .body
            .contains(&format!("id=\"person-{}\"", person.id.0))
    );
    let trail = server
        .store
        .audit_events(Some("key_person"), 20)
        .await
        .unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "retire" && e.detail.contains("已调任集团总部"))
    );
    // An auditor reads the 360 and changes no one.
    let auditor = server.user_of(Role::Auditor).await;
    let mut reader = server.client();
    reader.sign_in(auditor.username.as_str()).await;
    let page = reader.get(&format!("/customers/{company}")).await;
    assert!(!page.body.contains("id=\"person-add\""));
    let refused = reader
        .post(
            &format!("/customers/{company}/people"),
            &fields("13912345678", "build", ""),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn an_rm_keeps_the_corporate_archive(server: Server) {
    let rm = server.user_of(Role::RelationshipManager).await;
    let company = server.company_in_reach(&rm).await;
    let mut client = server.client();
    client.sign_in(rm.username.as_str()).await;
    let page = client.get(&format!("/customers/{company}")).await;
    assert!(page.body.contains("id=\"profile\"") && page.body.contains("尚未建立档案"));
    let form = client.get(&format!("/customers/{company}/profile")).await;
    assert_eq!(form.status, StatusCode::OK);
    let path = format!("/customers/{company}/profile");
    let fields = |code: &'static str, version: &'static str| {
        vec![
            ("legal_representative", "王建国"),
            ("registered_capital", "5000.5"),
            ("established_on", "2008-05-20"),
            ("credit_code", code),
            ("listing", "pre_listing"),
            ("employees", "1200"),
            ("revenue_band", "100m_1b"),
            ("our_share", "40"),
            ("bank_0", "工商银行"),
            ("share_0", "35"),
            ("version", version),
        ]
    };
    // A mistyped credit code: refused by name, everything entered kept.
    let refused = client.post(&path, &fields("91350100M000100Y44", "0")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("校验位不符") && refused.body.contains("王建国"));
    let saved = client.post(&path, &fields("91350100M000100Y43", "0")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = client.get(&format!("/customers/{company}")).await;
    for shown in [
        "王建国",
        "5,000.50 万元",
        "拟上市",
        "1,200",
        "工商银行 35%",
        "第 1 版",
    ] {
        assert!(page.body.contains(shown), "{shown} on the 360");
    }
    // Someone else's form, opened before that save, does not overwrite it.
    let stale = client.post(&path, &fields("91350100M000100Y43", "0")).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    // Shares over 100 % with ours: named.
    let mut over = fields("91350100M000100Y43", "1");
    over[9] = ("share_0", "70");
    let over = client.post(&path, &over).await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(over.body.contains("合计超过 100%"));
    // An auditor reads the archive and cannot open the form.
    let auditor = server.user_of(Role::Auditor).await;
    let mut reader = server.client();
    reader.sign_in(auditor.username.as_str()).await;
    let page = reader.get(&format!("/customers/{company}")).await;
    assert!(page.body.contains("王建国") && !page.body.contains("id=\"profile-edit\""));
    assert_eq!(reader.get(&path).await.status, StatusCode::FORBIDDEN);
}

/// A corporate key account on the scoring board, as the batch stores it: scores vary with `i`.
pub(crate) fn board_class(cif: &str, as_of: chrono::NaiveDate, i: usize) -> kam_store::StoredClass {
    let scale = [9u8, 7, 5, 3, 1];
    kam_store::StoredClass {
        key_account: true,
        board: Some("key-account-board".into()),
        board_scores: Some(kam_core::codec::BoardScores(vec![
            ("relationship".into(), None),
            ("policy".into(), None),
            ("scale".into(), Some(scale[i % 5])),
            ("contribution".into(), Some(scale[(i + 2) % 5])),
            ("credit".into(), Some(9)),
            ("potential".into(), None),
        ])),
        ..plain_class(cif, as_of)
    }
}

/// A customer's classes as the batch stores them, with nothing in particular: no retail tier, no
/// board, empty series. Tests set what they look at.
pub(crate) fn plain_class(cif: &str, as_of: chrono::NaiveDate) -> kam_store::StoredClass {
    kam_store::StoredClass {
        cif_no: cif.into(),
        as_of,
        rule_id: "kam-default".into(),
        rule_version: 3,
        retail_tier: None,
        retail_tier_name: None,
        retail_tier_name_en: None,
        retail_indicator: "avg_aum_30d".into(),
        retail_value: None,
        account_types: Vec::new(),
        key_account: false,
        value_months: MonthSeries::default(),
        deposit_months: MonthSeries::default(),
        loan_months: MonthSeries::default(),
        fee_months: MonthSeries::default(),
        value_total: 0,
        value_slope: None,
        value_trend: kam_core::value::Trend::Steady,
        value_score: 0,
        board: None,
        board_scores: None,
        board_total: None,
        board_average: None,
        starred: false,
    }
}

/// A count as the pages show it, with thousands separators (2,282).
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
