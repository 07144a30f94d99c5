//! kam-web: the web application — server-rendered pages for relationship managers and their
//! managers, over kam-store (which applies visibility in every query) and kam-core (which decides).
//!
//! One `App` (the store, the settings, the message bundles) behind an axum `Router`. Every request
//! passes `security::headers` (CSP, frame-ancestors none, nosniff, no-store) and, for pages,
//! `session::load` (the signed-in session, idle and absolute timeouts, and the CSRF check of every
//! state-changing request), so no handler can forget either.

mod api;
mod api_opportunity;
mod api_work;
mod api_write;
mod assets;
mod chart;
mod desk;
mod error;
mod evidence;
mod excel;
mod format;
mod i18n;
mod observe;
mod pages;
mod security;
mod session;
mod tls;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    http::Method,
    middleware,
    routing::{MethodRouter, get, post, put},
};
use kam_core::password::HashCost;
use kam_store::Sessions;
use tokio::net::TcpListener;

pub use api::{HistoryFuture, IndicatorHistory};
pub use desk::{FileEnd, FileEnded, NightDesk, NightProgress, NightStep, READY, WaitingDay};
pub use error::WebError;
pub use tls::tls_config;

/// The web application's settings.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// A session unused this long ends (等保: 30 minutes).
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, used or not.
    pub absolute_timeout: Duration,
    /// Failed sign-ins in a row that lock an account, and for how long.
    pub lockout_failures: i64,
    pub lockout: Duration,
    pub password_min_length: usize,
    /// Cookies marked `Secure` and HSTS sent (set when serving over TLS).
    pub secure_cookies: bool,
    /// Cost of hashing a changed password (tests use the cheap one).
    pub hash_cost: HashCost,
    /// The bank's time zone: every "today" of the web is its date.
    pub zone: kam_core::clock::BankZone,
    /// The unit every page writes amounts in (one per column, named in the header).
    pub amount_unit: kam_core::money::AmountUnit,
    /// Where the current instant comes from (tests pass a fixed one).
    pub clock: Arc<dyn kam_core::clock::Clock>,
    /// `kam demo` only (never `kam serve`): the demo bank's accounts and their shared password,
    /// listed on the sign-in page so a newcomer can try each role.
    pub demo: Option<DemoAccounts>,
    /// The classification rules the batch runs with (the bank's rules file, or the built-in
    /// one): the pages name tiers and board criteria, and check entered scores, by the same.
    pub rules: Arc<kam_core::rules::Rules>,
}

/// The synthetic bank's sign-in accounts, one per role, for the demo's sign-in page.
#[derive(Debug, Clone)]
pub struct DemoAccounts {
    pub password: String,
    /// (role, login), in the order of `Role::ALL`.
    pub accounts: Vec<(kam_core::user::Role, String)>,
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl kam_core::clock::Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 3600),
            lockout_failures: 5,
            lockout: Duration::from_secs(15 * 60),
            password_min_length: 10,
            secure_cookies: false,
            hash_cost: HashCost::Production,
            zone: kam_core::clock::BankZone::default(),
            amount_unit: kam_core::money::AmountUnit::default(),
            demo: None,
            rules: Arc::new(kam_core::rules::Rules::builtin()),
            clock: Arc::new(SystemClock),
        }
    }
}

/// What every handler shares. Cheap to clone.
#[derive(Debug, Clone)]
pub struct App(Arc<AppInner>);

#[derive(Debug)]
struct AppInner {
    sessions: Sessions,
    config: WebConfig,
    i18n: i18n::I18n,
    /// A hash of nothing anyone knows, verified against when the name is unknown, so a wrong
    /// name costs as much time as a wrong password (no user enumeration by timing).
    dummy_hash: String,
    /// Indicators of earlier as-of dates, when the binary provides them.
    history: Option<Arc<dyn IndicatorHistory>>,
    /// The nights: uploads and progress, when the binary provides them.
    desk: Option<Arc<dyn NightDesk>>,
}

impl App {
    pub fn new(sessions: Sessions, config: WebConfig) -> Self {
        Self(Arc::new(AppInner {
            sessions,
            i18n: i18n::I18n::load(),
            dummy_hash: kam_core::password::hash_password(
                &session::new_token(),
                &[0; 16],
                config.hash_cost,
            ),
            config,
            history: None,
            desk: None,
        }))
    }

    /// The same app with `change` made (before it serves: then nothing else holds it).
    fn changed(self, change: impl FnOnce(&mut AppInner)) -> Self {
        let mut inner = Arc::try_unwrap(self.0).unwrap_or_else(|shared| AppInner {
            sessions: shared.sessions.clone(),
            config: shared.config.clone(),
            i18n: i18n::I18n::load(),
            dummy_hash: shared.dummy_hash.clone(),
            history: shared.history.clone(),
            desk: shared.desk.clone(),
        });
        change(&mut inner);
        Self(Arc::new(inner))
    }

    /// The same app, answering indicators of earlier dates from `history`.
    pub fn with_history(self, history: Arc<dyn IndicatorHistory>) -> Self {
        self.changed(|inner| inner.history = Some(history))
    }

    /// The same app, taking a day's files and starting the night through `desk`.
    pub fn with_desk(self, desk: Arc<dyn NightDesk>) -> Self {
        self.changed(|inner| inner.desk = Some(desk))
    }

    pub(crate) fn desk(&self) -> Option<&dyn NightDesk> {
        self.0.desk.as_deref()
    }

    pub(crate) fn history(&self) -> Option<&dyn IndicatorHistory> {
        self.0.history.as_deref()
    }

    /// The store's door for the web: sessions, tokens, and from them the user's handle. The web
    /// holds nothing else of the store.
    pub(crate) fn sessions(&self) -> &Sessions {
        &self.0.sessions
    }

    /// The current instant, from the configured clock.
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.config.clock.now()
    }

    /// Today in the bank's time zone: the date of every scope and every "today" of a page.
    pub(crate) fn today(&self) -> chrono::NaiveDate {
        self.0.config.zone.date_of(self.now())
    }

    pub(crate) fn config(&self) -> &WebConfig {
        &self.0.config
    }

    /// The classification rules the pages read (`WebConfig::rules`).
    pub(crate) fn rules(&self) -> &kam_core::rules::Rules {
        &self.0.config.rules
    }

    pub(crate) fn dummy_hash(&self) -> &str {
        &self.0.dummy_hash
    }

    pub(crate) fn i18n(&self) -> &i18n::I18n {
        &self.0.i18n
    }
}

/// One route as the tests see it: its path pattern, method and who may call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub path: &'static str,
    pub method: Method,
    pub access: Access,
}

/// How a route knows its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A page or form behind the session layer (cookie, CSRF on state changes).
    Session,
    /// The JSON API: a personal bearer token.
    Token,
    /// Anyone: health, assets, the OpenAPI document.
    Public,
}

/// Routes registered together with their table, so that `route_table()` can never miss one: the
/// IDOR matrix test walks the table, and a new route is covered without anyone remembering it.
/// Each page module adds its own (`pages::<module>::routes`).
pub(crate) struct Routes {
    router: Router<App>,
    table: Vec<RouteSpec>,
    access: Access,
}

impl Routes {
    fn new(access: Access) -> Self {
        Self {
            router: Router::new(),
            table: Vec::new(),
            access,
        }
    }

    pub(crate) fn get<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: axum::handler::Handler<T, App>,
        T: 'static,
    {
        self.add(path, Method::GET, get(handler))
    }

    pub(crate) fn post<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: axum::handler::Handler<T, App>,
        T: 'static,
    {
        self.add(path, Method::POST, post(handler))
    }

    pub(crate) fn put<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: axum::handler::Handler<T, App>,
        T: 'static,
    {
        self.add(path, Method::PUT, put(handler))
    }

    fn add(mut self, path: &'static str, method: Method, route: MethodRouter<App>) -> Self {
        self.router = self.router.route(path, route);
        self.table.push(RouteSpec {
            path,
            method,
            access: self.access,
        });
        self
    }
}

/// The pages and forms: every one passes the session layer. Each page module registers its own.
fn signed_routes() -> Routes {
    let routes = Routes::new(Access::Session);
    let routes = pages::home::routes(routes);
    let routes = pages::auth::routes(routes);
    let routes = pages::me::routes(routes);
    let routes = pages::customers::routes(routes);
    let routes = pages::groups::routes(routes);
    let routes = pages::portfolio::routes(routes);
    let routes = pages::alerts::routes(routes);
    let routes = pages::board::routes(routes);
    let routes = pages::profile::routes(routes);
    let routes = pages::people::routes(routes);
    let routes = pages::activities::routes(routes);
    let routes = pages::visit_brief::routes(routes);
    let routes = pages::tasks::routes(routes);
    let routes = pages::opportunities::routes(routes);
    let routes = pages::week::routes(routes);
    let routes = pages::coverage::routes(routes);
    let routes = pages::reports::routes(routes);
    let routes = pages::audit::routes(routes);
    let routes = pages::nights::routes(routes);
    pages::admin::routes(routes)
}

/// The upload of a day's files: a page form like the others, but its body streams to the
/// handler (no body limit or short time limit around it; see `observe::upload_limits`).
fn upload_routes() -> Routes {
    pages::nights::upload_routes(Routes::new(Access::Session))
}

/// The JSON API: bearer tokens, JSON errors.
fn api_routes() -> Routes {
    Routes::new(Access::Token)
        .get("/api/v1/customers", api::customers)
        .get("/api/v1/customers/{cif}", api::customer)
        .get("/api/v1/customers/{cif}/indicators", api::indicators)
        .get("/api/v1/groups/{group}", api::group)
        .get("/api/v1/alerts", api::alerts)
        .get("/api/v1/portfolio", api::portfolio)
        .get("/api/v1/nights", api::nights)
        .put("/api/v1/customers/{cif}/profile", api_write::save_profile)
        .post("/api/v1/customers/{cif}/team", api_write::appoint)
        .post(
            "/api/v1/customers/{cif}/team/{assignment}/end",
            api_write::end_assignment,
        )
        .put("/api/v1/board/{cif}/scores", api_write::save_scores)
        .post("/api/v1/alerts/{id}/assign", api_write::assign_alert)
        .post("/api/v1/alerts/{id}/handle", api_write::handle_alert)
        .post("/api/v1/customers/{cif}/people", api_write::add_person)
        .put(
            "/api/v1/customers/{cif}/people/{person}",
            api_write::edit_person,
        )
        .post(
            "/api/v1/customers/{cif}/people/{person}/retire",
            api_write::retire_person,
        )
        .get("/api/v1/customers/{cif}/activities", api_work::activities)
        .post("/api/v1/customers/{cif}/activities", api_work::add_activity)
        .get(
            "/api/v1/customers/{cif}/activities/{activity}",
            api_work::activity,
        )
        .put(
            "/api/v1/customers/{cif}/activities/{activity}",
            api_work::save_activity,
        )
        .post(
            "/api/v1/customers/{cif}/activities/{activity}/cancel",
            api_work::cancel_activity,
        )
        .get("/api/v1/customers/{cif}/needs", api_work::needs)
        .get("/api/v1/tasks", api_work::tasks)
        .post("/api/v1/customers/{cif}/tasks", api_work::add_task)
        .put("/api/v1/tasks/{task}", api_work::edit_task)
        .post("/api/v1/tasks/{task}/done", api_work::done_task)
        .post("/api/v1/tasks/{task}/reopen", api_work::reopen_task)
        .post("/api/v1/tasks/{task}/delete", api_work::delete_task)
        .get("/api/v1/calendar", api_work::calendar)
        .get("/api/v1/reports/{week}", api_work::report)
        .put("/api/v1/reports/{week}", api_work::save_report)
        .get("/api/v1/opportunities", api_opportunity::opportunities)
        .get("/api/v1/funnel", api_opportunity::funnel_stages)
        .post(
            "/api/v1/customers/{cif}/opportunities",
            api_opportunity::add_opportunity,
        )
        .get(
            "/api/v1/opportunities/{opportunity}",
            api_opportunity::opportunity,
        )
        .put(
            "/api/v1/opportunities/{opportunity}",
            api_opportunity::edit_opportunity,
        )
        .post(
            "/api/v1/opportunities/{opportunity}/advance",
            api_opportunity::advance,
        )
        .post(
            "/api/v1/opportunities/{opportunity}/delete",
            api_opportunity::delete_opportunity,
        )
        .post(
            "/api/v1/opportunities/{opportunity}/obstacles",
            api_opportunity::add_obstacle,
        )
        .post(
            "/api/v1/opportunities/{opportunity}/obstacles/{obstacle}/clear",
            api_opportunity::clear_obstacle,
        )
        .put(
            "/api/v1/opportunities/{opportunity}/influences/{person}",
            api_opportunity::set_influence,
        )
        .post(
            "/api/v1/opportunities/{opportunity}/influences/{person}/delete",
            api_opportunity::remove_influence,
        )
}

/// What anyone may fetch: health, the embedded assets, the API's description.
fn public_routes() -> Routes {
    Routes::new(Access::Public)
        .get("/healthz", health)
        .get("/assets/{name}", assets::asset)
        .get("/api/v1/openapi.json", api::openapi)
}

async fn health() -> &'static str {
    "ok"
}

/// Every route of the application, for tests that must cover each one.
pub fn route_table() -> Vec<RouteSpec> {
    let mut table = signed_routes().table;
    table.extend(upload_routes().table);
    table.extend(api_routes().table);
    table.extend(public_routes().table);
    table
}

/// The application's router.
pub fn router(app: App) -> Router {
    let session = middleware::from_fn_with_state(app.clone(), session::load);
    let pages = observe::limits(signed_routes().router.route_layer(session.clone()));
    let uploads = observe::upload_limits(upload_routes().router.route_layer(session.clone()));
    // An address nobody serves: through the session layer too, so that a signed-in user gets
    // the 404 inside the navigation (where to go next), like a record out of reach.
    let unknown = Router::new()
        .fallback(error::not_found)
        .layer(session)
        .with_state(app.clone());
    let router = Router::new()
        .merge(pages)
        .merge(uploads)
        .merge(observe::limits(api_routes().router))
        .merge(observe::limits(public_routes().router))
        .fallback_service(unknown)
        .layer(middleware::from_fn_with_state(
            app.clone(),
            security::headers,
        ))
        .with_state(app);
    observe::layers(router)
}

/// Serves `router(app)` over TLS on `listener` until `shutdown` completes; `app`'s config
/// should have `secure_cookies` set.
pub async fn serve_tls(
    listener: TcpListener,
    app: App,
    config: Arc<tokio_rustls::rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tls::serve_tls(listener, router(app), config, shutdown).await
}

/// Serves `router(app)` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
