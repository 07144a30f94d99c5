//! What the command line prints: aligned tables (Chinese characters two columns wide), a batch
//! run's summary, and lines to a pipe that may close.

use chrono::NaiveDate;
use kam_app::batch;

/// Prints lines to stdout; a closed pipe (`kam user list | head`) ends the listing quietly
/// instead of panicking.
pub(crate) fn print_lines(lines: impl IntoIterator<Item = String>) {
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
pub(crate) fn table_lines(rows: &[Vec<String>]) -> Vec<String> {
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

pub(crate) fn print_batch(as_of: NaiveDate, summary: &batch::Summary) {
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
