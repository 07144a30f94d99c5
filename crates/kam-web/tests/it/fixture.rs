//! A tiny synthetic bank in a fresh store, the real server in front of it on port 0, and a
//! cookie-keeping HTTP client that signs in the way a browser does (form, CSRF field, cookies).

use std::time::Duration;

use kam_core::{codec::Bars, tier::Movement};
use kam_core::{
    password::{HashCost, hash_password},
    user::{Role, User},
};
use kam_store::{
    Actor, AlertFilter, CustomerFilter, Store, StoredAlert, StoredFinding, StoredTier, UserStore,
    testing::TestDb,
};
use kam_synth::{Bank, Scale, SynthConfig};
use kam_web::{App, WebConfig};
use reqwest::{StatusCode, redirect::Policy};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "Kam-2026-test";

/// Timeouts the tests may shorten.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub idle_timeout: Option<Duration>,
    pub absolute_timeout: Option<Duration>,
    /// A clock to serve with instead of the system's.
    pub clock: Option<std::sync::Arc<dyn kam_core::clock::Clock>>,
    /// Serve as `kam demo` does: the demo accounts on the sign-in page.
    pub demo: bool,
    /// The nights page's desk (kam serve gives the binary's).
    pub desk: Option<std::sync::Arc<dyn kam_web::NightDesk>>,
}

pub struct Server {
    pub base: String,
    pub store: Store,
    pub bank: Bank,
    _db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Server {
    pub async fn start(db: TestDb, options: Options) -> Self {
        let bank = Bank::generate(SynthConfig::new(Scale::Tiny, 7));
        let hash = hash_password(PASSWORD, &[5; 16], HashCost::Cheap);
        db.store
            .bulk_load(
                &Actor::system("test"),
                &bank.reference,
                &vec![hash; bank.reference.users.len()],
            )
            .await
            .expect("load the tiny bank");
        // Alerts for every seventh customer, as a batch would raise them.
        let findings: Vec<StoredFinding> = bank
            .reference
            .customers
            .iter()
            .step_by(7)
            .map(|c| {
                // Stored as the batch stores it (kam-core's encoding), so pages read it back.
                let (evidence, thresholds) = kam_core::alert::Evidence::Dormant {
                    idle_days: 95,
                    days: 90,
                }
                .encode(3);
                StoredFinding {
                    cif_no: c.cif_no.to_string(),
                    kind: kam_core::alert::AlertKind::Dormant,
                    tier: 3,
                    evidence,
                    thresholds,
                }
            })
            .collect();
        db.store
            .sync_alerts(
                &Actor::system("test"),
                kam_web_today(),
                "kam-default",
                2,
                &findings,
            )
            .await
            .expect("raise the alerts");
        // A tier for every customer this month, as the batch would write it (with its why).
        let month = kam_web_today().format("%Y-%m").to_string();
        // Each kind its own ladder, as the built-in rules name them.
        let ladder = |kind: kam_core::customer::CustomerKind| match kind {
            kam_core::customer::CustomerKind::Corporate => (
                ["战略", "核心", "重点", "基础", "一般"],
                ["strategic", "core", "key", "basic", "general"],
            ),
            kam_core::customer::CustomerKind::Individual => (
                ["高价值", "较高价值", "中等价值", "一般价值", "低价值"],
                [
                    "highest value",
                    "high value",
                    "medium value",
                    "modest value",
                    "low value",
                ],
            ),
        };
        let tiers: Vec<StoredTier> = bank
            .reference
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let tier = (i % 5) as i64 + 1;
                let (names, names_en) = ladder(c.kind);
                StoredTier {
                    cif_no: c.cif_no.to_string(),
                    month: month.clone(),
                    as_of: kam_web_today(),
                    tier,
                    tier_name: names[(tier - 1) as usize].into(),
                    tier_name_en: names_en[(tier - 1) as usize].into(),
                    months_below: 0,
                    on_watch: false,
                    movement: match i % 11 {
                        0 => Movement::Upgraded,
                        5 => Movement::Downgraded,
                        _ => Movement::Held,
                    },
                    measured_tier: tier,
                    rule_id: "kam-default".into(),
                    rule_version: 2,
                    indicator: "avg_daily_deposit_90d".into(),
                    value_int: Some(1_000_000 * (6 - tier)),
                    bars: Bars(vec![5_000_000_000, 1_000_000_000, 100_000_000, 10_000_000]),
                }
            })
            .collect();
        db.store
            .save_tiers(&Actor::system("test"), &month, &tiers)
            .await
            .expect("write the tiers");
        let config = WebConfig {
            hash_cost: HashCost::Cheap,
            idle_timeout: options
                .idle_timeout
                .unwrap_or(WebConfig::default().idle_timeout),
            absolute_timeout: options
                .absolute_timeout
                .unwrap_or(WebConfig::default().absolute_timeout),
            clock: options.clock.unwrap_or_else(|| WebConfig::default().clock),
            demo: options.demo.then(|| kam_web::DemoAccounts {
                password: PASSWORD.to_owned(),
                accounts: Role::ALL
                    .iter()
                    .filter_map(|role| {
                        let user = bank.reference.users.iter().find(|u| u.role == *role)?;
                        Some((*role, user.username.to_string()))
                    })
                    .collect(),
            }),
            ..WebConfig::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let app = App::new(db.store.sessions(), config);
        let app = match options.desk {
            Some(desk) => app.with_desk(desk),
            None => app,
        };
        tokio::spawn(async move {
            kam_web::serve(listener, app, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        Self {
            base,
            store: db.store.clone(),
            bank,
            _db: db,
            shutdown: Some(tx),
        }
    }

    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: self.base.clone(),
            csrf: String::new(),
        }
    }

    /// The first enabled user of a role.
    pub async fn user_of(&self, role: Role) -> User {
        self.store
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.role == role && !u.disabled)
            .unwrap_or_else(|| panic!("the tiny bank has a {role:?}"))
    }

    /// `user`'s handle on the store today (what the web gives their requests).
    pub async fn handle_of(&self, user: &User) -> UserStore {
        self.store.for_user(user, kam_web_today()).await.unwrap()
    }

    /// A personal API token for `user`, made the way the personal page makes one.
    pub async fn token_for(&self, user: &User) -> String {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let token = format!("kam_test_{}_{n}", user.username);
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()));
        self.handle_of(user)
            .await
            .create_api_token("test", &hash)
            .await
            .unwrap();
        token
    }

    /// Every alert of the bank, whoever may see it.
    pub async fn all_alerts(&self) -> Vec<StoredAlert> {
        let filter = AlertFilter {
            limit: 1_000_000,
            ..AlertFilter::default()
        };
        self.store
            .whole_bank("test", kam_web_today())
            .alert_inbox(&filter)
            .await
            .unwrap()
            .0
    }

    /// Customer numbers the user may see.
    pub async fn visible_cifs(&self, user: &User) -> Vec<String> {
        let filter = CustomerFilter {
            limit: 1_000_000,
            ..CustomerFilter::default()
        };
        self.handle_of(user)
            .await
            .find_customers(&filter)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.cif_no.to_string())
            .collect()
    }

    /// A group and one of its members among `visible` customers: (group code, member's number).
    pub fn group_member_in(&self, visible: &[String]) -> (String, String) {
        self.bank
            .reference
            .group_members
            .iter()
            .find_map(|m| {
                visible
                    .contains(&m.cif_no)
                    .then(|| (m.group_code.clone(), m.cif_no.clone()))
            })
            .expect("a group member in reach")
    }

    /// The number of the first company in the user's reach.
    pub async fn company_in_reach(&self, user: &User) -> String {
        let visible = self.visible_cifs(user).await;
        self.bank
            .reference
            .customers
            .iter()
            .find(|c| {
                c.kind == kam_core::customer::CustomerKind::Corporate
                    && visible.contains(&c.cif_no.to_string())
            })
            .unwrap_or_else(|| panic!("a company in {}'s reach", user.username))
            .cif_no
            .to_string()
    }
}

/// The web's "today" (Asia/Shanghai).
pub fn kam_web_today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// A browser-like client: cookies kept, redirects not followed (tests look at them).
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    /// The CSRF token of the last page read.
    pub csrf: String,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

fn csrf_of(body: &str) -> Option<String> {
    let at = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(body[at..].chars().take_while(|c| *c != '"').collect())
}

impl Client {
    async fn page(&mut self, response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.unwrap();
        if let Some(csrf) = csrf_of(&body) {
            self.csrf = csrf;
        }
        Page {
            status,
            location,
            body,
            headers,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        self.page(response).await
    }

    /// A GET whose body is bytes (a download).
    pub async fn get_bytes(&mut self, path: &str) -> (StatusCode, Vec<u8>) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.bytes().await.unwrap().to_vec())
    }

    /// A GET with a bearer token (the JSON API).
    pub async fn get_api(&mut self, path: &str, token: &str) -> Page {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        self.page(response).await
    }

    /// A write of the JSON API: `method` with a JSON body and a bearer token (no cookie needed,
    /// no CSRF token).
    pub async fn send_api(
        &mut self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> Page {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        self.page(response).await
    }

    /// Posts a form with the current CSRF token added.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        let csrf = self.csrf.clone();
        form.push(("csrf", &csrf));
        self.post_raw(path, &form).await
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap();
        self.page(response).await
    }

    /// Signs in through the form; returns the answer to the POST.
    pub async fn sign_in_with(&mut self, username: &str, password: &str) -> Page {
        let form = self.get("/sign-in").await;
        assert_eq!(form.status, StatusCode::OK);
        self.post(
            "/sign-in",
            &[
                ("username", username),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }

    pub async fn sign_in(&mut self, username: &str) {
        let answer = self.sign_in_with(username, PASSWORD).await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{username} signs in: {}",
            answer.body
        );
        // Read a page so the session's CSRF token is known.
        let home = self.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    }
}
