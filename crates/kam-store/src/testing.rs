//! Test harness: a fresh SQLite file, or a fresh database on a throwaway PostgreSQL cluster that
//! this process starts from the system's PostgreSQL binaries (initdb + pg_ctl in a temp dir, on a
//! random loopback port, as the `postgres` user when run as root) and that a reaper process stops
//! when this process ends.
//!
//! Where no PostgreSQL binaries exist, `postgres()` prints a loud SKIPPED line and returns `None`;
//! with `KAM_REQUIRE_POSTGRES=1` (set by CI) it panics instead, so a skip can never pass CI.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use sqlx::{AnyConnection, Connection};

use crate::{DatabaseUrl, Store};

/// A store on a fresh database; dropping it removes a SQLite file (the PG cluster is reaped at exit).
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
}

/// A migrated store on a new SQLite file in a temp dir.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = DatabaseUrl::sqlite_file(dir.path().join("kam.db"));
    let store = Store::open(&url).await.expect("open sqlite store");
    TestDb {
        store,
        url,
        _dir: Some(dir),
    }
}

/// A migrated store on a new database of the shared throwaway cluster, or `None` (loudly) when
/// this machine has no PostgreSQL binaries and `KAM_REQUIRE_POSTGRES` is not set.
pub async fn postgres() -> Option<TestDb> {
    let url = postgres_database_url().await?;
    let store = Store::open(&url).await.expect("open postgres store");
    Some(TestDb {
        store,
        url,
        _dir: None,
    })
}

/// The URL of a new, empty database on the shared cluster (for tests that open the store themselves).
pub async fn postgres_database_url() -> Option<DatabaseUrl> {
    let cluster = cluster()?;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "kam_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    sqlx::any::install_default_drivers();
    let mut admin = AnyConnection::connect(&cluster.url("postgres"))
        .await
        .expect("connect to harness postgres");
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    admin.close().await.ok();
    Some(DatabaseUrl::parse(&cluster.url(&name)).expect("harness URL parses"))
}

/// True when CI demands that tests needing PostgreSQL really run.
pub fn postgres_required() -> bool {
    std::env::var("KAM_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

#[derive(Debug)]
struct Cluster {
    port: u16,
}

impl Cluster {
    fn url(&self, database: &str) -> String {
        format!("postgres://kam@127.0.0.1:{}/{database}", self.port)
    }
}

fn cluster() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| match find_bin_dir() {
            Some(bin) => Some(start_cluster(&bin)),
            None => {
                let message = "no PostgreSQL binaries found (looked in $KAM_PG_BIN and /usr/lib/postgresql/*/bin)";
                if postgres_required() {
                    panic!("KAM_REQUIRE_POSTGRES=1 but {message}");
                }
                eprintln!("\n*** SKIPPED: PostgreSQL conformance tests — {message}. Install postgresql or set KAM_PG_BIN. ***\n");
                None
            }
        })
        .as_ref()
}

fn find_bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("KAM_PG_BIN") {
        return Some(PathBuf::from(dir)).filter(|d| d.join("initdb").exists());
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    // Newest major version first ("15" < "16" numerically).
    candidates.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    candidates.pop()
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A command that runs `program` as the `postgres` user when we are root (initdb refuses root).
fn as_postgres(program: &Path, root: bool) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn start_cluster(bin: &Path) -> Cluster {
    let root = running_as_root();
    let dir = tempfile::Builder::new()
        .prefix("kam-pg-")
        .tempdir()
        .expect("temp dir")
        .keep();
    if root {
        run(
            {
                let mut c = Command::new("chown");
                c.args(["postgres:postgres"]).arg(&dir);
                c
            },
            "chown of the PostgreSQL temp dir to postgres",
        );
    }
    let data = dir.join("data");
    let mut initdb = as_postgres(&bin.join("initdb"), root);
    initdb.arg("-D").arg(&data).args([
        "-A",
        "trust",
        "-U",
        "kam",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    ]);
    run(initdb, "initdb");
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        dir.display()
    );
    let mut pg_ctl = as_postgres(&bin.join("pg_ctl"), root);
    pg_ctl
        .arg("-D")
        .arg(&data)
        .args(["-o", &options, "-l"])
        .arg(dir.join("log"))
        .args(["-w", "start"]);
    run(pg_ctl, "pg_ctl start");
    // The reaper: when this test process is gone, stop the cluster and remove its files.
    let stop = format!(
        "{} {} -D {} -m immediate stop",
        if root { "runuser -u postgres --" } else { "" },
        bin.join("pg_ctl").display(),
        data.display()
    );
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = dir.display()
    );
    // Deliberately never waited for: the reaper must outlive this process to clean up after it.
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the PostgreSQL reaper");
    eprintln!(
        "harness: PostgreSQL from {} on 127.0.0.1:{port}",
        bin.display()
    );
    Cluster { port }
}

/// Marks the database as migrated by a newer kam (a version this binary does not know), to test
/// that such a database is refused rather than damaged.
pub async fn pretend_newer_schema(store: &Store) {
    let version = store.known_schema_version() + 1;
    crate::sql::Sql::new("insert into _sqlx_migrations (version, description, success, checksum, execution_time) values (")
        .bind(version)
        .push(", 'from a newer kam', ")
        .bind(crate::sql::Arg::Bool(true))
        .push(", ")
        .bind(crate::sql::Arg::Bytes(vec![0; 48]))
        .push(", 0)")
        .query()
        .execute(store.pool())
        .await
        .expect("insert a newer migration row");
}

impl Store {
    /// The pool itself, for tests that read the database's own catalog (the migration parity
    /// test); never for application SQL, which lives in the store's modules.
    pub fn pool_for_tests(&self) -> &sqlx::AnyPool {
        self.pool()
    }
}
