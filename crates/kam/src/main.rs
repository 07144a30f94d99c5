//! `kam`: the command line of the key-account management system. Parses arguments, loads the
//! layered settings, and calls the libraries; no business logic lives here.

mod bench;
mod build;
mod cli;
mod import;
mod nightly;
mod report;
mod serve;
mod settings;
mod warmup;

use kam_app::{batch, board, export};

use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use kam_core::{
    org::Line,
    password::{HashCost, check_policy, hash_password},
    user::{NewUser, Role},
};
use kam_store::{Actor, Store};
use kam_synth::{DEMO_PASSWORD, SynthConfig};
use rand::RngCore;

use crate::{
    cli::{
        BenchCommand, Cli, Command, ConfigCommand, DemoArgs, ExportCommand, ImportCommand,
        InitArgs, LogFormat, OrgCommand, ScoreCommand, UserCommand,
    },
    report::{print_batch, print_lines, table_lines},
    serve::serve,
    settings::{FlagOverrides, Settings},
};

// An import allocates a few strings per field on one thread and frees them on another; glibc's
// allocator spent a quarter of the import's time on that, mimalloc a fraction of it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs the command; a failure is printed as `错误 error: …` with its causes on one line and exit
/// status 1 — never as a Rust debug dump or backtrace, whatever `RUST_BACKTRACE` says.
fn main() -> std::process::ExitCode {
    match run_cli() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => match error.downcast_ref::<Exit>() {
            Some(exit) => {
                eprintln!("{}", exit.message);
                std::process::ExitCode::from(exit.code)
            }
            None => {
                eprintln!("错误 error: {error:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}

/// A command that ran to its end in a state a scheduler tells apart by the exit status (the
/// codes are documented with the command, e.g. docs/extracts.md for `kam import`).
#[derive(Debug)]
pub(crate) struct Exit {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

fn run_cli() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Warnings and errors, and the web's one line per request; `KAM_LOG` overrides.
    let filter = tracing_subscriber::EnvFilter::try_from_env("KAM_LOG")
        .unwrap_or_else(|_| "warn,kam_web=info,sqlx::query=error".into());
    // kam-store's calls are debug-level spans inside the request's span: with
    // `KAM_LOG=…,kam_store=debug` what a store call logs (sqlx's slow statements) names the call.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().with_current_span(true).init(),
    }
    if let Command::Config(ConfigCommand::Default) = cli.command {
        print!("{}", settings::EXAMPLE);
        return Ok(());
    }
    let flags = FlagOverrides {
        data_dir: cli.data_dir.clone(),
        database: cli.database.clone(),
        facts: cli.facts.clone(),
    };
    let settings = Settings::load(cli.config.as_deref(), &flags)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(run(cli.command, settings));
    // For `kam bench import`, which runs the import as a child process and needs its peak memory.
    if std::env::var_os("KAM_REPORT_PEAK_RSS").is_some()
        && let Some(mib) = build::peak_rss_mib()
    {
        eprintln!("kam-peak-rss-mib: {mib:.1}");
    }
    result
}

fn actor() -> Actor {
    Actor::system("cli")
}

fn one_time_password() -> String {
    let mut random = [0u8; 12];
    rand::rng().fill_bytes(&mut random);
    kam_core::password::one_time_password(random)
}

fn salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    salt
}

/// The database URL, with the SQLite file's directory created if it does not exist yet.
fn prepared_url(settings: &Settings) -> anyhow::Result<kam_store::DatabaseUrl> {
    let url = settings.database_url()?;
    if let kam_store::DatabaseUrl::Sqlite(path) = &url
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(url)
}

pub(crate) async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = prepared_url(settings)?;
    Store::open(&url)
        .await
        .with_context(|| format!("opening the store at {url}"))
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Config(ConfigCommand::Default) => {
            unreachable!("handled before settings are loaded")
        }
        Command::Config(ConfigCommand::Show) => println!("{settings:#?}"),
        Command::Migrate => {
            let url = prepared_url(&settings)?;
            let store = Store::connect(&url).await?;
            let report = store.migrate().await?;
            if report.applied_now == 0 {
                println!(
                    "数据库结构已是最新（版本 {}），无需升级 / schema already up to date (version {})",
                    report.schema_version, report.schema_version
                );
            } else {
                println!(
                    "已应用 {} 个迁移，当前版本 {} / applied {} migration(s), now at version {}",
                    report.applied_now,
                    report.schema_version,
                    report.applied_now,
                    report.schema_version
                );
            }
        }
        Command::Init(args) => init(&settings, &args).await?,
        Command::Demo(args) => demo(&settings, &args).await?,
        Command::Serve(args) => {
            let store = open_store(&settings).await?;
            let bind = args
                .bind
                .clone()
                .unwrap_or_else(|| settings.web.bind.clone());
            serve(&settings, store, &bind).await?;
        }
        Command::Synth(args) => {
            let mut config = SynthConfig::new(args.scale.into(), args.seed);
            if let Some(end) = args.end {
                config = config.with_end(end);
            }
            if let Some(days) = args.days {
                config = config.with_days(days.into());
            }
            let started = Instant::now();
            let (files, rows, bytes) =
                build::write_extracts(&args.out, config, args.format.into(), args.parquet)?;
            println!(
                "已生成 {} 个参考数据文件与 {} 天的每日文件：{} 行事实，{:.1} MB，用时 {:.1} 秒 → {}",
                files,
                config.days,
                rows,
                bytes as f64 / 1e6,
                started.elapsed().as_secs_f64(),
                args.out.display()
            );
            println!(
                "wrote {files} reference files and {} days of daily files: {rows} fact rows, {:.1} MB",
                config.days,
                bytes as f64 / 1e6
            );
        }
        Command::Batch(args) => {
            let facts = settings.facts_dir()?;
            let store = open_store(&settings).await?;
            let windows = check_windows(&args.windows)?;
            let rules = load_rules(args.rules.as_deref().or(settings.rules.as_deref()))?;
            let engine = kam_query::Engine::parse(&args.engine)?;
            let (first, last) = match (args.as_of, args.from, args.to) {
                (Some(day), _, _) => (day, day),
                (None, Some(from), Some(to)) if from <= to => (from, to),
                _ => bail!("--from 应不晚于 --to / --from must not be after --to"),
            };
            for as_of in first.iter_days().take_while(|day| *day <= last) {
                let summary = batch::run(
                    &store,
                    &facts,
                    &Actor::system("batch"),
                    as_of,
                    &windows,
                    &rules,
                    &engine,
                )
                .await?;
                print_batch(as_of, &summary);
            }
        }
        Command::Nightly(args) => {
            let Some(inbox) = args.inbox.clone().or_else(|| settings.inbox.clone()) else {
                bail!(
                    "请用 --inbox 或 inbox 设置给出收件目录 / give the inbox with --inbox or the inbox setting"
                );
            };
            let store = open_store(&settings).await?;
            let night = nightly::run(
                &store,
                nightly::NightArgs {
                    inbox,
                    facts_dir: settings.facts_dir()?,
                    mapping: args.mapping.clone().or_else(|| settings.mapping.clone()),
                    max_rejects: args.max_rejects,
                    windows: check_windows(&args.windows)?,
                    rules: load_rules(args.rules.as_deref().or(settings.rules.as_deref()))?,
                    engine: kam_query::Engine::parse(&args.engine)?,
                    watch: None,
                },
            )
            .await?;
            let code = night.exit_code();
            if code != 0 {
                return Err(Exit {
                    code,
                    message: format!(
                        "夜间作业未全部完成 / the night did not end cleanly (exit {code})"
                    ),
                }
                .into());
            }
        }
        Command::Board(args) => {
            let store = open_store(&settings).await?;
            let rules = load_rules(args.rules.as_deref().or(settings.rules.as_deref()))?;
            let matrix = board::print(
                &store,
                &settings.facts_dir()?,
                &rules,
                args.as_of,
                args.as_user.as_deref(),
                &args.cif,
                args.top,
            )
            .await?;
            print!("{matrix}");
        }
        Command::Score(command) => {
            let (as_user, rules) = match &command {
                ScoreCommand::Set { as_user, rules, .. }
                | ScoreCommand::Import { as_user, rules, .. } => (as_user, rules),
            };
            let store = open_store(&settings).await?;
            let rules = load_rules(rules.as_deref().or(settings.rules.as_deref()))?;
            let today = settings.today()?;
            let user = board::reader(&store, "score", today, Some(as_user)).await?;
            match &command {
                ScoreCommand::Set {
                    cif,
                    criterion,
                    score,
                    ..
                } => {
                    board::set(&user, &rules, cif, criterion, *score).await?;
                    println!("已录入 {cif} {criterion} = {score} / scored");
                }
                ScoreCommand::Import { file, .. } => {
                    let n = board::import(&user, &rules, file).await?;
                    println!("已导入 {n} 项评分 / imported {n} scores");
                }
            }
        }
        Command::Export(ExportCommand::Pareto { indicator, export }) => {
            let store = open_store(&settings).await?;
            let format = export::Format::resolve(export.format.map(Into::into), &export.out);
            let summary = export::pareto(
                &store,
                &settings.facts_dir()?,
                export.as_of,
                export.as_user.as_deref(),
                &indicator,
                format,
                &export.out,
            )
            .await?;
            let percent = |share: Option<f64>| {
                share.map_or("—".to_owned(), |s| format!("{:.1}%", s * 100.0))
            };
            println!(
                "{indicator} {}: {} 个客户 customers, 合计 total {}, A/B/C = {}/{}/{}, 前 20% 客户占 top 20% hold {}, 基尼系数 Gini {} → {}",
                export.as_of,
                summary.customers,
                summary.total,
                summary.class_counts[0],
                summary.class_counts[1],
                summary.class_counts[2],
                percent(summary.top20_share),
                summary.gini.map_or("—".to_owned(), |g| format!("{g:.3}")),
                export.out.display()
            );
        }
        Command::Export(command) => {
            let store = open_store(&settings).await?;
            let facts = settings.facts_dir()?;
            let (what, zh, args) = match &command {
                ExportCommand::Indicators(args) => ("indicators", "指标", args),
                ExportCommand::Tiers(args) => ("tiers", "分类结果", args),
                ExportCommand::Alerts(args) => ("alerts", "预警", args),
                ExportCommand::Pareto { .. } => unreachable!("handled above"),
            };
            let format = export::Format::resolve(args.format.map(Into::into), &args.out);
            let (as_of, as_user, out) = (args.as_of, args.as_user.as_deref(), &args.out);
            let written = match command {
                ExportCommand::Indicators(_) => {
                    export::indicators(&store, &facts, as_of, as_user, format, out).await?
                }
                ExportCommand::Tiers(_) => {
                    export::tiers(&store, &facts, as_of, as_user, format, out).await?
                }
                ExportCommand::Alerts(_) => {
                    export::alerts(&store, as_of, as_user, format, out).await?
                }
                ExportCommand::Pareto { .. } => unreachable!("handled above"),
            };
            println!(
                "已导出{zh} {} 行 → {} / exported {what}: {} rows ({:?})",
                written.rows,
                out.display(),
                written.rows,
                written.format
            );
        }
        Command::Import(args) => match args.command {
            Some(ImportCommand::Check {
                mapping,
                business_date,
                rejects,
                files,
            }) => {
                let code = import::check(
                    mapping.as_deref(),
                    &files,
                    business_date,
                    rejects.as_deref(),
                )
                .await?;
                if code != 0 {
                    return Err(Exit {
                        code,
                        message: "校验未通过：见上方的拒绝记录或错误 / the check found rejects or errors (listed above)".to_owned(),
                    }
                    .into());
                }
            }
            Some(ImportCommand::Status) => import::status(&open_store(&settings).await?).await?,
            Some(ImportCommand::Revert { batch }) => {
                let store = open_store(&settings).await?;
                let facts = kam_facts::FactWriter::new(settings.facts_dir()?);
                let reverted =
                    kam_ingest::import::revert(&store, &facts, &Actor::system("import"), &batch)
                        .await?;
                println!(
                    "已撤销批次 {} / reverted batch {} ({} rows)",
                    reverted.batch_id, reverted.batch_id, reverted.loaded
                );
            }
            None => {
                if args.files.is_empty() {
                    bail!(
                        "请给出要导入的文件或目录（give the files or directory to import）; see kam import --help"
                    );
                }
                let store = open_store(&settings).await?;
                let run = import::RunArgs {
                    mapping: args.mapping.as_deref(),
                    inputs: &args.files,
                    options: kam_ingest::import::ImportOptions {
                        business_date: args.business_date,
                        replace: args.replace,
                        max_rejects: args.max_rejects,
                        keys_in_memory: kam_ingest::reader::KEYS_IN_MEMORY,
                        references: Default::default(),
                    },
                    rejects_path: args.rejects.as_deref(),
                    staging_date: None,
                    watch: None,
                };
                let outcome = import::run(&store, &settings.facts_dir()?, run).await?;
                let code = outcome.exit_code();
                if code != 0 {
                    return Err(Exit {
                        code,
                        message: format!("{} (exit {code})", outcome.verdict()),
                    }
                    .into());
                }
            }
        },
        Command::User(UserCommand::Add(args)) => {
            let store = open_store(&settings).await?;
            let new = NewUser::parse(&args.username, &args.name, args.role, &args.org, args.line)?;
            let password = one_time_password();
            check_policy(&password, settings.password_min_length)?;
            let user = store
                .create_user(
                    &actor(),
                    &new,
                    &hash_password(&password, &salt(), HashCost::Production),
                )
                .await?;
            println!(
                "已创建用户 {}（{}），一次性密码：{password}",
                user.username,
                user.role.label_zh()
            );
            println!(
                "created user {} ({}); one-time password: {password}",
                user.username, user.role
            );
        }
        Command::User(UserCommand::ResetPassword { username }) => {
            let store = open_store(&settings).await?;
            let password = one_time_password();
            check_policy(&password, settings.password_min_length)?;
            let user = store
                .set_password_hash(
                    &actor(),
                    &username,
                    &hash_password(&password, &salt(), HashCost::Production),
                )
                .await
                .map_err(|e| match e {
                    kam_store::Error::NotFound { .. } => {
                        anyhow::anyhow!("没有用户 {username} / no user {username}")
                    }
                    other => other.into(),
                })?;
            println!(
                "已为用户 {} 设置一次性密码：{password}\nnew one-time password for {}: {password}",
                user.username, user.username
            );
        }
        Command::User(UserCommand::List) => {
            let store = open_store(&settings).await?;
            let units = store.list_org_units().await?;
            let header = [
                "用户名 username",
                "姓名 name",
                "角色 role",
                "条线 line",
                "状态 state",
                "机构 unit",
            ];
            let mut rows = vec![header.map(str::to_owned).to_vec()];
            for user in store.list_users().await? {
                let unit = units
                    .iter()
                    .find(|u| u.id == user.org_unit_id)
                    .map(|u| format!("{} {}", u.code, u.name))
                    .unwrap_or_default();
                rows.push(vec![
                    user.username.to_string(),
                    user.display_name,
                    user.role.label_zh().to_owned(),
                    user.line.map(Line::label_zh).unwrap_or("全部").to_owned(),
                    if user.disabled { "停用" } else { "启用" }.to_owned(),
                    unit,
                ]);
            }
            print_lines(table_lines(&rows));
        }
        Command::User(UserCommand::Disable { username }) => {
            let store = open_store(&settings).await?;
            let user = store.set_user_disabled(&actor(), &username, true).await?;
            println!("已停用用户 {} / disabled {}", user.username, user.username);
        }
        Command::Org(OrgCommand::List) => {
            let store = open_store(&settings).await?;
            let lines = store.list_org_units().await?.into_iter().map(|unit| {
                let indent = "  ".repeat(unit.path.depth().saturating_sub(1));
                format!(
                    "{indent}{} {}（{}）",
                    unit.code,
                    unit.name,
                    unit.kind.label_zh()
                )
            });
            print_lines(lines);
        }
        Command::Bench(BenchCommand::Import { rows, out, seed }) => {
            bench::bench_import(rows, &out, seed)?;
        }
        Command::Bench(BenchCommand::Staging { rows, out, seed }) => {
            bench::bench_staging(rows, &out, seed)?;
        }
        Command::Bench(BenchCommand::Batch {
            scale,
            seed,
            out,
            runs,
        }) => {
            bench::bench_batch(scale.into(), seed, &out, runs)?;
        }
        Command::Bench(BenchCommand::Synth { scale, seed, days }) => {
            bench::bench_synth(scale.into(), seed, days)?;
        }
    }
    Ok(())
}

async fn init(settings: &Settings, args: &InitArgs) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    if !store.list_org_units().await?.is_empty() {
        bail!(
            "数据目录已初始化，未做任何修改 / this store is already initialised; nothing changed"
        );
    }
    let head = kam_core::org::NewOrgUnit::parse(
        &args.head_office_code,
        &args.head_office_name,
        kam_core::org::OrgKind::HeadOffice,
        None,
    )?;
    store.create_org_unit(&actor(), &head).await?;
    let admin = NewUser::parse(
        "admin",
        "系统管理员",
        Role::Administrator,
        &args.head_office_code,
        None,
    )?;
    let password = one_time_password();
    store
        .create_user(
            &actor(),
            &admin,
            &hash_password(&password, &salt(), HashCost::Production),
        )
        .await?;
    println!(
        "已初始化：{}（{}），数据库 {}",
        args.head_office_name,
        args.head_office_code,
        settings.database_url()?
    );
    println!("initialised; administrator 'admin', one-time password: {password}");
    Ok(())
}

async fn demo(settings: &Settings, args: &DemoArgs) -> anyhow::Result<()> {
    let scale = match args.scale {
        Some(scale) => scale.into(),
        None => settings.demo_scale()?,
    };
    let config = SynthConfig::new(scale, args.seed.unwrap_or(settings.demo.seed));
    let started = Instant::now();
    // The port answers at once: a page that says what is being built and how far it is, until
    // the bank is ready and the application takes the port over (`--no-serve`: no port).
    let progress = warmup::Progress::new();
    let bind = format!("127.0.0.1:{}", args.port.unwrap_or(8080));
    let warm = if args.no_serve {
        None
    } else {
        let listener = std::net::TcpListener::bind(&bind)
            .with_context(|| format!("无法监听 / cannot listen on {bind}"))?;
        listener.set_nonblocking(true)?;
        let page = tokio::net::TcpListener::from_std(listener.try_clone()?)?;
        println!(
            "演示银行准备中，可先在浏览器打开 / preparing the demo; open http://{}/ meanwhile",
            listener.local_addr()?
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(warmup::serve(page, progress.clone(), async {
            let _ = stopped.await;
        }));
        Some((listener, stop, task))
    };
    let store = open_store(settings).await?;
    if store.list_users().await?.is_empty() {
        println!(
            "正在生成合成银行（规模 {scale}，种子 {}）… / building the synthetic bank…",
            config.seed
        );
        let (counts, figures) = build::build_bank(
            &store,
            &settings.facts_dir()?,
            config,
            settings.today()?,
            &progress,
        )
        .await?;
        println!(
            "已生成：{} 个机构，{} 名用户，{} 个产品，{} 个客户（{} 个集团，{} 名成员），{} 位关键人，{} 条客户经理分配，{} 个账户，{} 条持有，{} 条代发工资关系",
            counts.org_units,
            counts.users,
            counts.products,
            counts.customers,
            counts.groups,
            counts.group_members,
            counts.key_people,
            counts.assignments,
            counts.accounts,
            counts.holdings,
            counts.payroll_links
        );
        println!(
            "客户经理工作记录：{} 次拜访与活动，{} 条需求，{} 条任务，{} 份周报 / the RMs' work: {} activities, {} needs, {} tasks, {} weekly reports",
            figures.work.activities,
            figures.work.needs,
            figures.work.tasks,
            figures.reports,
            figures.work.activities,
            figures.work.needs,
            figures.work.tasks,
            figures.reports
        );
        println!(
            "商机：{} 笔，{} 次阶段变更，{} 个障碍点 / opportunities: {}, {} stage moves, {} obstacles",
            figures.opportunities.opportunities,
            figures.opportunities.moves,
            figures.opportunities.obstacles,
            figures.opportunities.opportunities,
            figures.opportunities.moves,
            figures.opportunities.obstacles
        );
        println!(
            "事实数据 facts: {} 行 rows, {:.1} MB Parquet, {} → {}",
            figures.fact_rows,
            figures.fact_bytes as f64 / 1e6,
            config.start(),
            config.end
        );
        println!(
            "用时 took {:.1} s (reference {:.1} s, facts {:.1} s, store {:.1} s)",
            started.elapsed().as_secs_f64(),
            figures.generate_reference_secs,
            figures.facts_secs,
            figures.load_secs
        );
    } else {
        println!(
            "数据目录中已有数据，直接使用 / the data directory already holds a bank; using it as it is"
        );
    }
    // The demo shows the bank as of its last date: the batch for it, once per data directory.
    progress.stage(2);
    let as_of = config.end;
    if store
        .batch_runs()
        .await?
        .iter()
        .all(|run| run.as_of != as_of)
    {
        let windows = kam_query::indicators::DEFAULT_WINDOWS;
        let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let summary = batch::run(
            &store,
            &settings.facts_dir()?,
            &Actor::system("demo"),
            as_of,
            windows,
            &kam_core::rules::Rules::builtin(),
            &kam_query::Engine::Embedded,
        )
        .await?;
        print_batch(as_of, &summary);
        // The demo's build is its first night: the administration page shows it among the
        // nights, with the fact batches it committed and its batch's time.
        let committed = store
            .import_batches()
            .await?
            .iter()
            .filter(|b| b.state == kam_store::BatchState::Committed && b.business_date == as_of)
            .count();
        store
            .record_night(
                &Actor::system("demo"),
                &kam_store::NightRun {
                    business_date: as_of,
                    outcome: kam_store::NightOutcome::Done,
                    files_imported: i64::try_from(committed).unwrap_or(0),
                    files_already: 0,
                    files_refused: 0,
                    rows_rejected: 0,
                    batch_millis: Some((summary.seconds * 1000.0).round() as i64),
                    reason: None,
                    started_at,
                    finished_at: chrono::Utc::now()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                },
            )
            .await?;
    }
    println!(
        "\n数据库 database: {}\n事实数据 facts: {}",
        settings.database_url()?,
        settings.facts_dir()?.display()
    );
    println!(
        "\n登录账号（密码均为 {DEMO_PASSWORD}）/ sign-in for each role (password {DEMO_PASSWORD}):"
    );
    let users = store.list_users().await?;
    let mut accounts = Vec::new();
    for role in Role::ALL {
        if let Some(user) = users.iter().find(|u| u.role == *role && !u.disabled) {
            println!(
                "  {:<16} {:<22} {}",
                role.label_zh(),
                user.username.as_str(),
                role.as_str()
            );
            accounts.push((*role, user.username.to_string()));
        }
    }
    let Some((listener, stop, task)) = warm else {
        return Ok(());
    };
    progress.stage(3);
    // The warm-up page lets go of the port; the application serves on the same one.
    let _ = stop.send(());
    if tokio::time::timeout(warmup::HAND_OVER, task).await.is_err() {
        eprintln!(
            "提示：预热页面未及时释放连接，继续启动 / the warm-up page kept a connection open; serving anyway"
        );
    }
    let ready = started.elapsed().as_secs_f64();
    println!("演示银行已就绪，用时 {ready:.1} 秒 / the demo bank is ready after {ready:.1} s");
    let demo = kam_web::DemoAccounts {
        password: DEMO_PASSWORD.to_owned(),
        accounts,
    };
    serve::serve_on(
        settings,
        store,
        tokio::net::TcpListener::from_std(listener)?,
        Some(demo),
    )
    .await
}

/// The rules file given, or the built-in rules.
pub(crate) fn load_rules(path: Option<&std::path::Path>) -> anyhow::Result<kam_core::rules::Rules> {
    match path {
        Some(path) => kam_core::rules::Rules::parse(
            &path.display().to_string(),
            &std::fs::read_to_string(path)
                .with_context(|| format!("读取规则文件 / reading {}", path.display()))?,
        )
        .map_err(anyhow::Error::msg),
        None => Ok(kam_core::rules::Rules::builtin()),
    }
}

/// Window lengths of one or more days, each once, in order.
fn check_windows(windows: &[u32]) -> anyhow::Result<Vec<u32>> {
    let mut windows = windows.to_vec();
    windows.sort_unstable();
    windows.dedup();
    if windows.is_empty() || windows[0] == 0 || windows[windows.len() - 1] > 3_660 {
        bail!("--windows：每个窗口应为 1 至 3660 天 / each window is 1 to 3660 days");
    }
    Ok(windows)
}
