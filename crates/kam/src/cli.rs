//! The command line's arguments (clap): every command, its flags and their parsers. `main.rs`
//! dispatches on them.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use kam_app::export;
use kam_core::{org::Line, user::Role};
use kam_synth::Scale;
#[derive(Debug, Parser)]
#[command(
    name = "kam",
    version,
    about = "kam — 银行大客户营销与管理系统 / key-account marketing and management for banks",
    long_about = None
)]
pub(crate) struct Cli {
    /// Settings file (default: ./kam.toml if present). 配置文件。
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Data directory holding kam.db and facts/. 数据目录。
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Database URL: sqlite://FILE or postgres://… (then also --facts). 数据库地址。
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) database: Option<String>,
    /// Directory of the Parquet facts. 事实数据目录。
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) facts: Option<PathBuf>,
    /// Log lines as text or as JSON (one object per line, for a log collector); `kam serve`
    /// writes one line per request. 日志格式。
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub(crate) log_format: LogFormat,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    /// The unattended night: each complete day folder of the inbox (YYYYMMDD/, complete when its
    /// READY.ok or every file's control file has arrived) imported, batched, reported and
    /// archived, oldest first; safe to run again at any point. Exit 0 done (or nothing to do),
    /// 3 done with rows rejected, 4 a day quarantined, 1 could not run. 夜间作业。
    Nightly(NightlyArgs),
    /// Batch results out, one row per customer. 导出。
    #[command(subcommand)]
    Export(ExportCommand),
    /// The scoring board of a date as the key-account scoring matrix (大客户综合评分表): criteria down, candidates across, totals
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
pub(crate) enum ExportCommand {
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
pub(crate) struct BoardArgs {
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub(crate) as_of: NaiveDate,
    /// These candidates (customer numbers, comma-separated) … 指定候选客户。
    #[arg(long, value_delimiter = ',', value_name = "CIF")]
    pub(crate) cif: Vec<String>,
    /// … or the best N candidates by total. 前 N 名。
    #[arg(long, default_value_t = 10)]
    pub(crate) top: usize,
    /// Only candidates this user may see. 按该用户的可见范围。
    #[arg(long, value_name = "LOGIN")]
    pub(crate) as_user: Option<String>,
    /// The rules file whose board to print (default: the `rules` setting, else the built-in
    /// rules). 规则文件。
    #[arg(long, value_name = "FILE")]
    pub(crate) rules: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ScoreCommand {
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
pub(crate) struct ExportArgs {
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub(crate) as_of: NaiveDate,
    /// Only the customers this user may see (default: everything, as the operator's export).
    /// 按该用户的可见范围导出。
    #[arg(long, value_name = "LOGIN")]
    pub(crate) as_user: Option<String>,
    /// csv, xlsx or parquet (default: from the file's extension, else csv). 文件格式。
    #[arg(long, value_enum)]
    pub(crate) format: Option<ExportFormatArg>,
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct BatchArgs {
    /// The as-of date (YYYY-MM-DD): windows end on it, inclusive. 数据日期。
    #[arg(long, value_name = "DATE", value_parser = parse_date, required_unless_present = "from", conflicts_with_all = ["from", "to"])]
    pub(crate) as_of: Option<NaiveDate>,
    /// Backfill: every date from this one … 补跑起始日期。
    #[arg(long, value_name = "DATE", value_parser = parse_date, requires = "to")]
    pub(crate) from: Option<NaiveDate>,
    /// … to this one, in order (the store keeps the last date's values). 补跑结束日期。
    #[arg(long, value_name = "DATE", value_parser = parse_date, requires = "from")]
    pub(crate) to: Option<NaiveDate>,
    /// Window lengths in days, comma-separated. 统计窗口（天）。
    #[arg(long, value_delimiter = ',', default_value = "30,90,365")]
    pub(crate) windows: Vec<u32>,
    /// A rules file (TOML; docs/rules.md) instead of the `rules` setting or the built-in one.
    /// 分类规则文件。
    #[arg(long, value_name = "FILE")]
    pub(crate) rules: Option<PathBuf>,
    /// Where the plans run: embedded (this process), standalone (Ballista in this process) or
    /// ballista://host:port (a Ballista cluster); the last two need a kam built with the
    /// `distributed` feature. 计算引擎。
    #[arg(long, default_value = "embedded", value_name = "ENGINE")]
    pub(crate) engine: String,
}

#[derive(Debug, Args)]
pub(crate) struct NightlyArgs {
    /// The inbox of day folders (YYYYMMDD/); otherwise the `inbox` setting. 收件目录。
    #[arg(long, value_name = "DIR")]
    pub(crate) inbox: Option<PathBuf>,
    /// Mapping file (TOML); otherwise the `mapping` setting, or kam's own format. 映射文件。
    #[arg(long, value_name = "FILE")]
    pub(crate) mapping: Option<PathBuf>,
    /// As `kam import --max-rejects`: above it a file is refused and its day quarantined. 拒绝上限。
    #[arg(long, value_name = "N|P%", default_value = "0", value_parser = parse_reject_limit)]
    pub(crate) max_rejects: kam_ingest::import::RejectLimit,
    /// Window lengths in days of the batch, comma-separated. 统计窗口（天）。
    #[arg(long, value_delimiter = ',', default_value = "30,90,365")]
    pub(crate) windows: Vec<u32>,
    /// A rules file (TOML; docs/rules.md) instead of the `rules` setting or the built-in one.
    /// 分类规则文件。
    #[arg(long, value_name = "FILE")]
    pub(crate) rules: Option<PathBuf>,
    /// Where the batch's plans run (as `kam batch --engine`). 计算引擎。
    #[arg(long, default_value = "embedded", value_name = "ENGINE")]
    pub(crate) engine: String,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Name of the bank's head office. 总行名称。
    #[arg(long, default_value = "总行")]
    pub(crate) head_office_name: String,
    /// Code of the head office (机构号). 总行机构号。
    #[arg(long, default_value = "100000")]
    pub(crate) head_office_code: String,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Size of the synthetic bank. 规模。
    #[arg(long, value_enum)]
    pub(crate) scale: Option<ScaleArg>,
    /// Random seed: the same seed builds the same bank. 随机种子。
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Port on 127.0.0.1 to serve on (default 8080). 端口。
    #[arg(long)]
    pub(crate) port: Option<u16>,
    /// Build and run the batch, then exit without serving (scripts, tests). 只生成不启动服务。
    #[arg(long)]
    pub(crate) no_serve: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8443 (default: the `web.bind` setting). 监听地址。
    #[arg(long, value_name = "ADDR")]
    pub(crate) bind: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SynthArgs {
    /// Output directory (created). 输出目录。
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    #[arg(long, value_enum, default_value = "demo")]
    pub(crate) scale: ScaleArg,
    #[arg(long, default_value_t = 20_261_129)]
    pub(crate) seed: u64,
    /// Last business date of the facts (YYYY-MM-DD). 最后业务日期。
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub(crate) end: Option<NaiveDate>,
    /// Days of facts up to the end date, instead of the scale's default. 天数。
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) days: Option<u16>,
    /// Also write the facts as Parquet under OUT/facts. 同时输出 Parquet。
    #[arg(long)]
    pub(crate) parquet: bool,
    /// File format of the extracts themselves (the same columns either way). 数据文件格式。
    #[arg(long, value_enum, default_value = "csv")]
    pub(crate) format: FormatArg,
}

/// The file formats of an export (`kam_app::export::Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormatArg {
    Csv,
    Xlsx,
    Parquet,
}

impl From<ExportFormatArg> for export::Format {
    fn from(value: ExportFormatArg) -> Self {
        match value {
            ExportFormatArg::Csv => export::Format::Csv,
            ExportFormatArg::Xlsx => export::Format::Xlsx,
            ExportFormatArg::Parquet => export::Format::Parquet,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum FormatArg {
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
pub(crate) enum ScaleArg {
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
pub(crate) enum UserCommand {
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
pub(crate) struct UserAddArgs {
    /// Login name: lower-case letters, digits, '.', '_', '-'. 用户名。
    #[arg(long)]
    pub(crate) username: String,
    /// Display name. 姓名。
    #[arg(long)]
    pub(crate) name: String,
    /// Role. 角色。
    #[arg(long, value_parser = parse_role)]
    pub(crate) role: Role,
    /// Code of the org unit (机构号). 所属机构。
    #[arg(long)]
    pub(crate) org: String,
    /// Business line (required for relationship managers). 条线。
    #[arg(long, value_parser = parse_line)]
    pub(crate) line: Option<Line>,
}

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "退出码 Exit status: 0 全部导入 every file imported (or imported before); 3 全部导入但有被拒绝的行 \
every file imported, some rows rejected within --max-rejects; 4 部分导入 partly imported: some files refused; \
5 未导入任何文件 nothing imported: every file refused; 1 无法运行 could not run (no files, a bad mapping file, \
the database); 2 参数错误 a usage error. `kam import check`: 0 clean, 3 rows rejected, 4 a file refused. \
See docs/extracts.md."
)]
pub(crate) struct ImportArgs {
    #[command(subcommand)]
    pub(crate) command: Option<ImportCommand>,
    /// Mapping file (TOML); without it, kam's own extract format. 映射文件。
    #[arg(long, value_name = "FILE")]
    pub(crate) mapping: Option<PathBuf>,
    /// Business date of the files (YYYY-MM-DD); otherwise the YYYYMMDD in each file name. 业务日期。
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub(crate) business_date: Option<NaiveDate>,
    /// Replace the committed batch of the same file slot with this corrected file. 以更正文件替换。
    #[arg(long)]
    pub(crate) replace: bool,
    /// Above this many rejected rows (N) or this share (P%), the file's batch is not committed. The
    /// default 0 refuses a file with even one bad row whole: read its rejects (--rejects FILE),
    /// have the file corrected and import it again, or allow some (e.g. 10 or 0.1%) to load the
    /// good rows and keep the rejected ones for follow-up. 拒绝上限：缺省 0，即有一行被拒绝整个文件不导入。
    #[arg(long, value_name = "N|P%", default_value = "0", value_parser = parse_reject_limit)]
    pub(crate) max_rejects: kam_ingest::import::RejectLimit,
    /// Write every reject to this CSV file (UTF-8). 拒绝记录输出文件。
    #[arg(long, value_name = "FILE")]
    pub(crate) rejects: Option<PathBuf>,
    /// Extract files or directories: master data (org units … payroll links) is merged in dependency order, then facts. 数据文件或目录。
    #[arg(value_name = "FILES|DIR")]
    pub(crate) files: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ImportCommand {
    /// Validate a mapping against files without importing: counts, amount sums, rejects. 校验映射与文件（不导入）。
    Check {
        /// Mapping file (TOML); without it, kam's own extract format. 映射文件。
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Business date of the kinds a mapping defines by SQL (YYYY-MM-DD); otherwise the YYYYMMDD in
        /// the source files' names. SQL 定义类型的业务日期。
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        business_date: Option<NaiveDate>,
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
pub(crate) enum OrgCommand {
    /// Print the org tree. 显示机构树。
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print a commented example kam.toml. 输出带注释的示例配置。
    Default,
    /// Print the effective settings (secrets hidden). 显示生效的配置。
    Show,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
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
    /// SQL staging's speed: the transactions extract of N rows split into a transactions table and
    /// an accounts table, imported through a mapping that joins them. SQL 暂存导入性能基准。
    Staging {
        /// Transaction rows. 行数。
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Work directory (kept, with the tables, for a peer to read the same files). 工作目录。
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
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

pub(crate) fn parse_date(value: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| format!("日期应为 YYYY-MM-DD（a date is YYYY-MM-DD）: {value}"))
}

pub(crate) fn parse_reject_limit(value: &str) -> Result<kam_ingest::import::RejectLimit, String> {
    kam_ingest::import::RejectLimit::parse(value)
}

pub(crate) fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse(value).map_err(|e| e.to_string())
}

pub(crate) fn parse_line(value: &str) -> Result<Line, String> {
    Line::parse(value).map_err(|e| e.to_string())
}
