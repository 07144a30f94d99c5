//! `kam`: the command line of the key-account management system. Parses arguments, loads the
//! layered settings, and calls the libraries; no business logic lives here.

mod batch;
mod board;
mod build;
mod export;
mod import;
mod settings;

use std::{path::PathBuf, time::Instant};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use kam_core::{
    org::Line,
    password::{HashCost, check_policy, hash_password},
    user::{NewUser, Role},
};
use kam_store::{Actor, Store};
use kam_synth::{DEMO_PASSWORD, Scale, SynthConfig};
use rand::RngCore;

use crate::settings::{FlagOverrides, Settings};

// An import allocates a few strings per field on one thread and frees them on another; glibc's
// allocator spent a quarter of the import's time on that, mimalloc a fraction of it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "kam",
    version,
    about = "kam — 银行大客户营销与管理系统 / key-account marketing and management for banks",
    long_about = None
)]
struct Cli {
    /// Settings file (default: ./kam.toml if present). 配置文件。
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory holding kam.db and facts/. 数据目录。
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://FILE or postgres://… (then also --facts). 数据库地址。
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    /// Directory of the Parquet facts. 事实数据目录。
    #[arg(long, global = true, value_name = "DIR")]
    facts: Option<PathBuf>,
    /// Log lines as text or as JSON (one object per line, for a log collector); `kam serve`
    /// writes one line per request. 日志格式。
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new, empty kam data directory with its head office and an administrator. 初始化。
    Init(InitArgs),
    /// Bring the database schema up to date (a no-op when it is). 升级数据库结构。
    Migrate,
    /// Build the synthetic demo bank into the data directory (when empty), run its batch, print a
    /// sign-in for each role and serve the web application. 演示。
    Demo(DemoArgs),
    /// Serve the web application. 启动网页服务。
    Serve(ServeArgs),
    /// Write a synthetic bank as core-banking extract files. 生成合成银行的数据文件。
    Synth(SynthArgs),
    /// Core-banking extracts in (formats: docs/extracts.md; mapping files: docs/mapping.md). 数据导入。
    Import(ImportArgs),
    /// The diagnosis batch: every indicator (docs/indicators.md) for every customer as of a date. 批处理。
    Batch(BatchArgs),
    /// Batch results out, one row per customer. 导出。
    #[command(subcommand)]
    Export(ExportCommand),
    /// The scoring board of a date as the seed's matrix: criteria down, candidates across, totals
    /// and ★. 综合评分表。
    Board(BoardArgs),
    /// Manual scores on the scoring board (客户关系, 政策支持 …). 人工评分。
    #[command(subcommand)]
    Score(ScoreCommand),
    /// Manage users. 用户管理。
    #[command(subcommand)]
    User(UserCommand),
    /// The org tree. 机构。
    #[command(subcommand)]
    Org(OrgCommand),
    /// Settings. 配置。
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Benchmarks that print figures. 性能基准。
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    /// Every indicator of a date: the customer number, then one column per indicator code
    /// (windows suffixed, e.g. txn_count_30d), money in fen. 导出指标。
    Indicators(ExportArgs),
    /// Each customer's tier, retail tier, account types, customer value and scoring board of a
    /// date, with the rule, indicator, value and bars that decided them. 导出分类结果。
    Tiers(ExportArgs),
    /// The alerts active on a date with their status, evidence and thresholds. 导出预警。
    Alerts(ExportArgs),
    /// The 80/20 rule on one indicator of a date (e.g. contribution_365d): rank, share, cumulative
    /// share and ABC class per customer; Gini and the top 20%'s share printed. 帕累托分析。
    Pareto {
        /// An indicator column of the export, windows suffixed. 指标列。
        #[arg(long, default_value = "contribution_365d")]
        indicator: String,
        #[command(flatten)]
        export: ExportArgs,
    },
}

#[derive(Debug, Args)]
struct BoardArgs {
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    as_of: NaiveDate,
    /// These candidates (customer numbers, comma-separated) … 指定候选客户。
    #[arg(long, value_delimiter = ',', value_name = "CIF")]
    cif: Vec<String>,
    /// … or the best N candidates by total. 前 N 名。
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Only candidates this user may see. 按该用户的可见范围。
    #[arg(long, value_name = "LOGIN")]
    as_user: Option<String>,
    /// The rules file whose board to print (default: the built-in rules). 规则文件。
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum ScoreCommand {
    /// One manual score: a customer, a manual criterion of the board, 1/3/5/7/9. 录入一项评分。
    Set {
        #[arg(long, value_name = "CIF")]
        cif: String,
        #[arg(long)]
        criterion: String,
        #[arg(long)]
        score: u8,
        /// Entered as this user (required: a score is someone's judgment, audited under their
        /// name), for customers the user may see, if their role may write. 以该用户身份录入（必填）。
        #[arg(long, value_name = "LOGIN")]
        as_user: String,
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
    },
    /// Manual scores from a CSV file with the header cif_no,criterion,score; every line is
    /// checked before any is stored. 导入评分。
    Import {
        file: PathBuf,
        /// Entered as this user (required), as for `kam score set`. 以该用户身份录入（必填）。
        #[arg(long, value_name = "LOGIN")]
        as_user: String,
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
    },
}

/// What every export takes. Every export is recorded in the audit trail.
#[derive(Debug, Args)]
struct ExportArgs {
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    as_of: NaiveDate,
    /// Only the customers this user may see (default: everything, as the operator's export).
    /// 按该用户的可见范围导出。
    #[arg(long, value_name = "LOGIN")]
    as_user: Option<String>,
    /// csv, xlsx or parquet (default: from the file's extension, else csv). 文件格式。
    #[arg(long, value_enum)]
    format: Option<export::Format>,
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct BatchArgs {
    /// The as-of date (YYYY-MM-DD): windows end on it, inclusive. 数据日期。
    #[arg(long, value_name = "DATE", value_parser = parse_date, required_unless_present = "from", conflicts_with_all = ["from", "to"])]
    as_of: Option<NaiveDate>,
    /// Backfill: every date from this one … 补跑起始日期。
    #[arg(long, value_name = "DATE", value_parser = parse_date, requires = "to")]
    from: Option<NaiveDate>,
    /// … to this one, in order (the store keeps the last date's values). 补跑结束日期。
    #[arg(long, value_name = "DATE", value_parser = parse_date, requires = "from")]
    to: Option<NaiveDate>,
    /// Window lengths in days, comma-separated. 统计窗口（天）。
    #[arg(long, value_delimiter = ',', default_value = "30,90,365")]
    windows: Vec<u32>,
    /// A rules file (TOML) instead of the built-in one (docs/rules.md). 分类规则文件。
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Where the plans run: embedded (this process), standalone (Ballista in this process) or
    /// ballista://host:port (a Ballista cluster); the last two need a kam built with the
    /// `distributed` feature. 计算引擎。
    #[arg(long, default_value = "embedded", value_name = "ENGINE")]
    engine: String,
}

#[derive(Debug, Args)]
struct InitArgs {
    /// Name of the bank's head office. 总行名称。
    #[arg(long, default_value = "总行")]
    head_office_name: String,
    /// Code of the head office (机构号). 总行机构号。
    #[arg(long, default_value = "100000")]
    head_office_code: String,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Size of the synthetic bank. 规模。
    #[arg(long, value_enum)]
    scale: Option<ScaleArg>,
    /// Random seed: the same seed builds the same bank. 随机种子。
    #[arg(long)]
    seed: Option<u64>,
    /// Port on 127.0.0.1 to serve on (default 8080). 端口。
    #[arg(long)]
    port: Option<u16>,
    /// Build and run the batch, then exit without serving (scripts, tests). 只生成不启动服务。
    #[arg(long)]
    no_serve: bool,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8443 (default: the `web.bind` setting). 监听地址。
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,
}

#[derive(Debug, Args)]
struct SynthArgs {
    /// Output directory (created). 输出目录。
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "demo")]
    scale: ScaleArg,
    #[arg(long, default_value_t = 20_261_129)]
    seed: u64,
    /// Last business date of the facts (YYYY-MM-DD). 最后业务日期。
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    end: Option<NaiveDate>,
    /// Days of facts up to the end date, instead of the scale's default. 天数。
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    days: Option<u16>,
    /// Also write the facts as Parquet under OUT/facts. 同时输出 Parquet。
    #[arg(long)]
    parquet: bool,
    /// File format of the extracts themselves (the same columns either way). 数据文件格式。
    #[arg(long, value_enum, default_value = "csv")]
    format: FormatArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Csv,
    Parquet,
}

impl From<FormatArg> for kam_synth::ExtractFormat {
    fn from(value: FormatArg) -> Self {
        match value {
            FormatArg::Csv => kam_synth::ExtractFormat::Csv,
            FormatArg::Parquet => kam_synth::ExtractFormat::Parquet,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ScaleArg {
    Tiny,
    Small,
    Demo,
    Large,
    Huge,
}

impl From<ScaleArg> for Scale {
    fn from(value: ScaleArg) -> Self {
        match value {
            ScaleArg::Tiny => Scale::Tiny,
            ScaleArg::Small => Scale::Small,
            ScaleArg::Demo => Scale::Demo,
            ScaleArg::Large => Scale::Large,
            ScaleArg::Huge => Scale::Huge,
        }
    }
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; prints a one-time password. 新增用户。
    Add(UserAddArgs),
    /// List users. 用户列表。
    List,
    /// Give a user a new one-time password (also the first password of a user imported from an
    /// HR list, which has none). 重置密码。
    ResetPassword {
        /// Login name. 用户名。
        username: String,
    },
    /// Disable a user (users are never deleted). 停用用户。
    Disable {
        /// Login name. 用户名。
        username: String,
    },
}

#[derive(Debug, Args)]
struct UserAddArgs {
    /// Login name: lower-case letters, digits, '.', '_', '-'. 用户名。
    #[arg(long)]
    username: String,
    /// Display name. 姓名。
    #[arg(long)]
    name: String,
    /// Role. 角色。
    #[arg(long, value_parser = parse_role)]
    role: Role,
    /// Code of the org unit (机构号). 所属机构。
    #[arg(long)]
    org: String,
    /// Business line (required for relationship managers). 条线。
    #[arg(long, value_parser = parse_line)]
    line: Option<Line>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct ImportArgs {
    #[command(subcommand)]
    command: Option<ImportCommand>,
    /// Mapping file (TOML); without it, kam's own extract format. 映射文件。
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// Business date of the files (YYYY-MM-DD); otherwise the YYYYMMDD in each file name. 业务日期。
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    business_date: Option<NaiveDate>,
    /// Replace the committed batch of the same file slot with this corrected file. 以更正文件替换。
    #[arg(long)]
    replace: bool,
    /// Above this many rejected rows (N) or this share (P%), the batch is not committed. 拒绝上限。
    #[arg(long, value_name = "N|P%", default_value = "0", value_parser = parse_reject_limit)]
    max_rejects: kam_ingest::import::RejectLimit,
    /// Write every reject to this CSV file (UTF-8). 拒绝记录输出文件。
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// Extract files or directories: master data (org units … payroll links) is merged in dependency order, then facts. 数据文件或目录。
    #[arg(value_name = "FILES|DIR")]
    files: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Validate a mapping against files without importing: counts, amount sums, rejects. 校验映射与文件（不导入）。
    Check {
        /// Mapping file (TOML); without it, kam's own extract format. 映射文件。
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Write every reject to this CSV file (UTF-8). 拒绝记录输出文件。
        #[arg(long, value_name = "FILE")]
        rejects: Option<PathBuf>,
        /// Extract files or directories. 数据文件或目录。
        #[arg(required = true, value_name = "FILES|DIR")]
        files: Vec<PathBuf>,
    },
    /// List import batches with their counts and states. 导入批次列表。
    Status,
    /// Remove a committed fact batch: its rows stop counting at once (master data is corrected with --replace). 撤销事实批次。
    Revert {
        /// Batch id, as `kam import status` shows it. 批次号。
        batch: String,
    },
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Print the org tree. 显示机构树。
    List,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a commented example kam.toml. 输出带注释的示例配置。
    Default,
    /// Print the effective settings (secrets hidden). 显示生效的配置。
    Show,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Generation and Parquet-writing speed of the synthetic bank, with peak memory. 合成数据基准。
    Synth {
        #[arg(long, value_enum, default_value = "demo")]
        scale: ScaleArg,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Days of facts instead of the scale's default (memory must not grow with it). 天数。
        #[arg(long)]
        days: Option<usize>,
    },
    /// Batch speed: builds the synthetic bank (once per work directory) and runs the batch for its
    /// last date three times, printing each stage's time and peak memory. 批处理性能基准。
    Batch {
        #[arg(long, value_enum, default_value = "demo")]
        scale: ScaleArg,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Full and nightly runs each, the median printed (one at the large scale, where a run
        /// takes minutes). 运行次数。
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
        runs: u32,
        /// Work directory (kept, with the bank's Parquet facts, for a peer to read). 工作目录。
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Import speed: builds a transactions extract of N rows and imports it in a child process,
    /// printing rows/s, MB/s and the import's peak memory. 导入性能基准。
    Import {
        /// Rows in the transactions extract. 行数。
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Work directory (kept, with the extract, for a peer to read the same file). 工作目录。
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn parse_date(value: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| format!("日期应为 YYYY-MM-DD（a date is YYYY-MM-DD）: {value}"))
}

fn parse_reject_limit(value: &str) -> Result<kam_ingest::import::RejectLimit, String> {
    kam_ingest::import::RejectLimit::parse(value)
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse(value).map_err(|e| e.to_string())
}

fn parse_line(value: &str) -> Result<Line, String> {
    Line::parse(value).map_err(|e| e.to_string())
}

/// Runs the command; a failure is printed as `错误 error: …` with its causes on one line and exit
/// status 1 — never as a Rust debug dump or backtrace, whatever `RUST_BACKTRACE` says.
fn main() -> std::process::ExitCode {
    match run_cli() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("错误 error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

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

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
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
            let rules = load_rules(args.rules.as_deref())?;
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
        Command::Board(args) => {
            let store = open_store(&settings).await?;
            let rules = load_rules(args.rules.as_deref())?;
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
            let rules = load_rules(rules.as_deref())?;
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
            let format = export::Format::resolve(export.format, &export.out);
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
            let format = export::Format::resolve(args.format, &args.out);
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
                rejects,
                files,
            }) => {
                if !import::check(mapping.as_deref(), &files, rejects.as_deref())? {
                    bail!(
                        "校验未通过：见上方的拒绝记录或错误 / the check found rejects or errors (listed above)"
                    );
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
                    },
                    rejects_path: args.rejects.as_deref(),
                };
                if !import::run(&store, &settings.facts_dir()?, run).await? {
                    bail!(
                        "部分文件未导入，见上方原因 / some files were not imported; reasons above"
                    );
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
        Command::Bench(BenchCommand::Import { rows, out, seed }) => bench_import(rows, &out, seed)?,
        Command::Bench(BenchCommand::Batch {
            scale,
            seed,
            out,
            runs,
        }) => {
            bench_batch(scale.into(), seed, &out, runs)?;
        }
        Command::Bench(BenchCommand::Synth { scale, seed, days }) => {
            bench_synth(scale.into(), seed, days)?;
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
    let store = open_store(settings).await?;
    let started = Instant::now();
    if store.list_users().await?.is_empty() {
        println!(
            "正在生成合成银行（规模 {scale}，种子 {}）… / building the synthetic bank…",
            config.seed
        );
        let (counts, figures) = build::build_bank(&store, &settings.facts_dir()?, config).await?;
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
    let as_of = config.end;
    if store
        .batch_runs()
        .await?
        .iter()
        .all(|run| run.as_of != as_of)
    {
        let windows = kam_query::indicators::DEFAULT_WINDOWS;
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
    for role in Role::ALL {
        if let Some(user) = users.iter().find(|u| u.role == *role && !u.disabled) {
            println!(
                "  {:<16} {:<22} {}",
                role.label_zh(),
                user.username.as_str(),
                role.as_str()
            );
        }
    }
    if args.no_serve {
        return Ok(());
    }
    let bind = format!("127.0.0.1:{}", args.port.unwrap_or(8080));
    serve(settings, store, &bind).await
}

/// Serves the web application on `bind` until Ctrl-C or SIGTERM.
async fn serve(settings: &Settings, store: Store, bind: &str) -> anyhow::Result<()> {
    let tls = match (&settings.web.tls_cert, &settings.web.tls_key) {
        (Some(cert), Some(key)) => {
            Some(kam_web::tls_config(cert, key).map_err(anyhow::Error::msg)?)
        }
        _ => None,
    };
    let config = kam_web::WebConfig {
        secure_cookies: tls.is_some(),
        idle_timeout: std::time::Duration::from_secs(settings.web.idle_timeout_minutes * 60),
        absolute_timeout: std::time::Duration::from_secs(
            settings.web.absolute_timeout_hours * 3600,
        ),
        password_min_length: settings.password_min_length,
        zone: settings.zone()?,
        ..kam_web::WebConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("无法监听 / cannot listen on {bind}"))?;
    let address = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("\n网页服务已启动 / serving on {scheme}://{address}/  (Ctrl-C 停止 / to stop)");
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("a SIGTERM handler can be installed");
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    };
    let app = kam_web::App::new(store.sessions(), config).with_history(std::sync::Arc::new(
        FactsHistory {
            facts: settings.facts_dir()?,
        },
    ));
    match tls {
        Some(tls) => kam_web::serve_tls(listener, app, tls, shutdown).await?,
        None => kam_web::serve(listener, app, shutdown).await?,
    }
    Ok(())
}

/// Indicators of earlier as-of dates for the web's API, from the batch's Parquet snapshots
/// (kam-web does not link the fact engine; the binary wires it in).
#[derive(Debug)]
struct FactsHistory {
    facts: PathBuf,
}

impl kam_web::IndicatorHistory for FactsHistory {
    fn indicators(&self, as_of: NaiveDate, cif_no: String) -> kam_web::HistoryFuture<'_> {
        let facts = self.facts.clone();
        Box::pin(async move {
            let values = tokio::task::spawn_blocking(move || {
                kam_facts::snapshot::customer_snapshot(&facts, as_of, &cif_no)
                    .map(|found| (found, cif_no))
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
            let (found, cif_no) = values;
            Ok(found.map(|values| {
                values
                    .into_iter()
                    .map(|v| kam_store::StoredIndicator {
                        cif_no: cif_no.clone(),
                        code: v.code,
                        window_days: v.window_days.unwrap_or(0),
                        value_int: v.value_int,
                        value_real: v.value_real,
                    })
                    .collect()
            }))
        })
    }
}

/// The rules file given, or the built-in rules.
fn load_rules(path: Option<&std::path::Path>) -> anyhow::Result<kam_core::rules::Rules> {
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

fn print_batch(as_of: NaiveDate, summary: &batch::Summary) {
    let stages: Vec<String> = summary
        .stages
        .iter()
        .map(|(name, secs)| format!("{name} {secs:.2} s"))
        .collect();
    println!(
        "批处理 {as_of}：{} 个客户，{} 个指标值（写入业务库 {} 个），快照 {:.1} MB，用时 {:.1} 秒",
        summary.customers,
        summary.values,
        summary.stored,
        summary.snapshot_bytes as f64 / 1e6,
        summary.seconds
    );
    println!(
        "batch {as_of}: {} customers, {} indicator values ({} stored), snapshot {:.1} MB, {:.1} s",
        summary.customers,
        summary.values,
        summary.stored,
        summary.snapshot_bytes as f64 / 1e6,
        summary.seconds
    );
    println!(
        "五级分类 tiers 1–5: {} / 关注 on watch: {}",
        summary
            .tiers
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" / "),
        summary.on_watch
    );
    println!(
        "零售等级 retail tiers 私人银行/财富/贵宾: {} / {} / {}；重点客户 key accounts: {}；★: {}",
        summary.retail_tiers[0],
        summary.retail_tiers[1],
        summary.retail_tiers[2],
        summary.key_accounts,
        summary.starred
    );
    if summary.alerts.skipped {
        println!(
            "预警 alerts: 已有更晚日期的预警，本日期不改动 / later nights already synced; left as they are"
        );
    } else {
        println!(
            "预警 alerts: 新增 raised {}，持续 continuing {}，解除 cleared {}",
            summary.alerts.raised, summary.alerts.continuing, summary.alerts.cleared
        );
    }
    if summary.backfill {
        println!(
            "补跑 backfill: 已有更晚日期的批处理，业务库中的最新值保持不变，结果写入 Parquet 历史 / a later date already ran: the store keeps its latest values, this date's results are in the Parquet history"
        );
    }
    let r = &summary.rollups;
    println!(
        "每日汇总 rollups: 计算 computed {} 天 days（读取数据 fact days read {}），复用 reused {} 天 days；用时 time: 交易 transactions {:.2} s, 费用 fees {:.2} s, 持有 held {:.2} s",
        r.computed_days, r.fact_days_read, r.reused_days, r.seconds[0], r.seconds[1], r.seconds[2]
    );
    println!("stages 阶段: {}", stages.join(", "));
}

fn bench_synth(scale: Scale, seed: u64, days: Option<usize>) -> anyhow::Result<()> {
    let mut config = SynthConfig::new(scale, seed);
    if let Some(days) = days {
        config = config.with_days(days);
    }
    println!(
        "kam bench synth — scale {scale}, seed {seed}, {} days",
        config.days
    );
    let started = Instant::now();
    let mut bank = kam_synth::Bank::generate(config);
    let reference_secs = started.elapsed().as_secs_f64();
    let customers = bank.reference.customers.len();
    let started = Instant::now();
    let mut rows = 0u64;
    for day in bank.facts() {
        rows += day.row_count() as u64;
    }
    let generate_secs = started.elapsed().as_secs_f64();
    let rss_generate = build::peak_rss_mib();
    let dir = tempfile_dir()?;
    let writer = kam_facts::FactWriter::new(dir.join("facts"));
    drop(bank); // measure the writing pass with one bank in memory, not two
    let mut bank = kam_synth::Bank::generate(config);
    let bar = build::progress(config.days as u64, "parquet");
    let started = Instant::now();
    let (written_rows, bytes) = build::stream_facts(&mut bank, &bar, |day| {
        build::write_parquet_day(&writer, day, "bench")
    })?;
    bar.finish_and_clear();
    let write_secs = started.elapsed().as_secs_f64();
    std::fs::remove_dir_all(&dir).ok();
    println!(
        "reference data   {customers:>12} customers in {reference_secs:>7.2} s = {:>12.0} customers/s",
        customers as f64 / reference_secs
    );
    println!(
        "fact generation  {rows:>12} rows      in {generate_secs:>7.2} s = {:>12.0} rows/s",
        rows as f64 / generate_secs
    );
    println!(
        "generate + write {written_rows:>12} rows      in {write_secs:>7.2} s = {:>12.0} rows/s, {:.1} MB Parquet ({:.1} MB/s)",
        written_rows as f64 / write_secs,
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / write_secs
    );
    if let (Some(generate), Some(total)) = (rss_generate, build::peak_rss_mib()) {
        println!(
            "peak RSS         {generate:>9.0} MiB after generation, {total:.0} MiB after writing"
        );
    }
    Ok(())
}

/// Prints lines to stdout; a closed pipe (`kam user list | head`) ends the listing quietly
/// instead of panicking.
fn print_lines(lines: impl IntoIterator<Item = String>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
}

/// Lays rows out as aligned columns, measuring Chinese characters as two columns wide (as a
/// terminal shows them) so that tables line up.
fn table_lines(rows: &[Vec<String>]) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|v| v.width())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (cell, width) in row.iter().zip(&widths) {
                line.push_str(cell);
                line.push_str(&" ".repeat(width - cell.width() + 2));
            }
            line.trim_end().to_owned()
        })
        .collect()
}

fn bench_import(rows: u64, out: &std::path::Path, seed: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let file = out.join("transactions_20261127.csv");
    let data = out.join("data");
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    println!("kam bench import — {rows} transaction rows, seed {seed}");
    let started = Instant::now();
    let bytes = kam_synth::write_transactions_extract(
        &file,
        rows,
        seed,
        NaiveDate::from_ymd_opt(2026, 11, 27).expect("date"),
    )?;
    println!(
        "extract built    {:.1} MB in {:.2} s → {}",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        file.display()
    );
    let exe = std::env::current_exe()?;
    // Three runs, each into a fresh data directory: the machine is shared and noisy, so the
    // median is what is compared.
    let mut runs: Vec<(f64, f64)> = Vec::new();
    let mut summary = String::new();
    for _ in 0..3 {
        if data.exists() {
            std::fs::remove_dir_all(&data)?;
        }
        let migrate = std::process::Command::new(&exe)
            .arg("--data-dir")
            .arg(&data)
            .arg("migrate")
            .output()?;
        anyhow::ensure!(
            migrate.status.success(),
            "migrate failed: {}",
            String::from_utf8_lossy(&migrate.stderr)
        );
        let started = Instant::now();
        let import = std::process::Command::new(&exe)
            .arg("--data-dir")
            .arg(&data)
            .arg("import")
            .arg(&file)
            .env("KAM_REPORT_PEAK_RSS", "1")
            .output()?;
        let secs = started.elapsed().as_secs_f64();
        let stdout = String::from_utf8_lossy(&import.stdout);
        let stderr = String::from_utf8_lossy(&import.stderr);
        anyhow::ensure!(
            import.status.success(),
            "import failed:\n{stdout}\n{stderr}"
        );
        let peak: f64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("kam-peak-rss-mib: "))
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(f64::NAN);
        summary = stdout
            .lines()
            .find(|l| l.contains("imported"))
            .unwrap_or_default()
            .to_owned();
        println!("kam import run  {secs:>7.2} s, peak RSS {peak:.1} MiB");
        runs.push((secs, peak));
    }
    println!("{summary}");
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let secs = runs[1].0;
    let peak = runs.iter().map(|r| r.1).fold(f64::NAN, f64::max);
    println!(
        "kam import       {rows} rows, median of 3 = {secs:.2} s = {:.0} rows/s, {:.1} MB/s, peak RSS {peak:.1} MiB",
        rows as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    println!("kam-import-seconds: {secs:.3}");
    Ok(())
}

fn bench_batch(scale: Scale, seed: u64, out: &std::path::Path, runs: u32) -> anyhow::Result<()> {
    let data = out.join(format!("data-{scale}-{seed}"));
    let exe = std::env::current_exe()?;
    let run = |args: &[&str]| -> anyhow::Result<(f64, String, String)> {
        let started = Instant::now();
        let output = std::process::Command::new(&exe)
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .env("KAM_REPORT_PEAK_RSS", "1")
            .output()?;
        let secs = started.elapsed().as_secs_f64();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        anyhow::ensure!(
            output.status.success(),
            "kam {args:?} failed:\n{stdout}\n{stderr}"
        );
        Ok((secs, stdout, stderr))
    };
    println!("kam bench batch — scale {scale}, seed {seed}");
    let seed_text = seed.to_string();
    let scale_text = scale.to_string();
    // The demo builds the bank (and runs the batch once) only into an empty directory.
    // `--no-serve`: the demo serves the web after building, and the benchmark would wait forever.
    let (secs, _, _) = run(&[
        "demo",
        "--no-serve",
        "--scale",
        &scale_text,
        "--seed",
        &seed_text,
    ])?;
    println!("bank ready       {secs:.1} s → {}", data.display());
    let end = SynthConfig::new(scale, seed).end;
    let as_of = end.to_string();
    let night_before = (end - chrono::Duration::days(1)).to_string();
    let rollups = data.join("facts").join(".rollup");
    let forget_rollups = || match std::fs::remove_dir_all(&rollups) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    };
    // One timed run: (seconds, indicators stage seconds, peak RSS MiB).
    let timed = |label: &str, date: &str| -> anyhow::Result<(f64, f64, f64)> {
        let (secs, stdout, stderr) = run(&["batch", "--as-of", date])?;
        let peak: f64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("kam-peak-rss-mib: "))
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(f64::NAN);
        let stages = stdout
            .lines()
            .find_map(|l| l.strip_prefix("stages 阶段: "))
            .unwrap_or_default()
            .to_owned();
        let indicators: f64 = stages
            .split(", ")
            .find_map(|s| s.strip_prefix("indicators "))
            .and_then(|s| s.trim_end_matches(" s").parse().ok())
            .unwrap_or(f64::NAN);
        println!("{label} {secs:>7.2} s, peak RSS {peak:.1} MiB — {stages}");
        for line in stdout
            .lines()
            .filter(|l| l.starts_with("batch ") || l.starts_with("每日汇总 rollups"))
        {
            println!("                 {line}");
        }
        Ok((secs, indicators, peak))
    };
    let mut full = Vec::new();
    let mut nightly = Vec::new();
    for _ in 0..runs {
        // The full run: no rollups, every day computed from the facts.
        forget_rollups()?;
        full.push(timed("kam batch full  ", &as_of)?);
        // The nightly run: the night before ran (from scratch), then the new day.
        forget_rollups()?;
        run(&["batch", "--as-of", &night_before])?;
        nightly.push(timed("kam batch night ", &as_of)?);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let total = median(full.iter().map(|r| r.0).collect());
    let indicators = median(full.iter().map(|r| r.1).collect());
    let peak = full.iter().map(|r| r.2).fold(f64::NAN, f64::max);
    let night_total = median(nightly.iter().map(|r| r.0).collect());
    let night_indicators = median(nightly.iter().map(|r| r.1).collect());
    let night_peak = nightly.iter().map(|r| r.2).fold(f64::NAN, f64::max);
    println!(
        "kam batch full   median of {runs} = {total:.2} s (indicators stage {indicators:.2} s), peak RSS {peak:.1} MiB"
    );
    println!(
        "kam batch night  median of {runs} = {night_total:.2} s (indicators stage {night_indicators:.2} s), peak RSS {night_peak:.1} MiB"
    );
    println!(
        "nightly / full   indicators stage {:.1}%, whole batch {:.1}% (goal for the indicators: ≤ 5%)",
        night_indicators / indicators * 100.0,
        night_total / total * 100.0
    );
    println!("kam-batch-indicator-seconds: {indicators:.3}");
    println!("kam-facts-dir: {}", data.join("facts").display());
    println!("kam-as-of: {as_of}");
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("kam-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
