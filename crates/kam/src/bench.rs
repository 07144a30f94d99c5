//! `kam bench synth|import|batch`: the benchmark programs. Each prints its figures (medians, rows
//! per second, peak memory) for the notes and for the comparison scripts; `cargo xtask ci` runs
//! each at the tiny scale so a benchmark that breaks fails CI.

use std::{path::PathBuf, time::Instant};

use chrono::NaiveDate;
use kam_synth::{Scale, SynthConfig};

use crate::build;

pub(crate) fn bench_synth(scale: Scale, seed: u64, days: Option<usize>) -> anyhow::Result<()> {
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
    let bar = build::progress_bar(config.days as u64, "parquet");
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

pub(crate) fn bench_import(rows: u64, out: &std::path::Path, seed: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let file = out.join("transactions_20261127.csv");
    let data = out.join("data");
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    println!("kam bench import — {rows} transaction rows, seed {seed}");
    let started = Instant::now();
    let (bytes, parties) = kam_synth::write_transactions_extract(
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
    // The customers and accounts the rows name are master data an import checks against: they
    // are defined once in a template data directory (not timed), copied before each run.
    let template = out.join("template");
    let started = Instant::now();
    define_parties(&exe, &template, &out.join("master"), &parties)?;
    println!(
        "master data      {} accounts and their customers defined in {:.2} s (not timed)",
        parties.len(),
        started.elapsed().as_secs_f64()
    );
    let (secs, peak) = three_imports(&exe, &template, &data, &[file.as_os_str()])?;
    println!(
        "kam import       {rows} rows, median of 3 = {secs:.2} s = {:.0} rows/s, {:.1} MB/s, peak RSS {peak:.1} MiB",
        rows as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    println!("kam-import-seconds: {secs:.3}");
    Ok(())
}

pub(crate) fn bench_batch(
    scale: Scale,
    seed: u64,
    out: &std::path::Path,
    runs: u32,
) -> anyhow::Result<()> {
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

pub(crate) fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("kam-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Runs kam with `args`, failing with what it printed.
fn run_kam(exe: &std::path::Path, args: &[&std::ffi::OsStr]) -> anyhow::Result<()> {
    let out = std::process::Command::new(exe).args(args).output()?;
    anyhow::ensure!(
        out.status.success(),
        "kam {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Three timed runs of `kam import ARGS`, each into a fresh copy of `template`: the machine is
/// shared and noisy, so the median is what is compared. (median seconds, highest peak RSS MiB)
fn three_imports(
    exe: &std::path::Path,
    template: &std::path::Path,
    data: &std::path::Path,
    args: &[&std::ffi::OsStr],
) -> anyhow::Result<(f64, f64)> {
    let mut runs: Vec<(f64, f64)> = Vec::new();
    let mut summary = String::new();
    for _ in 0..3 {
        if data.exists() {
            std::fs::remove_dir_all(data)?;
        }
        copy_dir(template, data)?;
        let started = Instant::now();
        let import = std::process::Command::new(exe)
            .arg("--data-dir")
            .arg(data)
            .arg("import")
            .args(args)
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
    let peak = runs.iter().map(|r| r.1).fold(f64::NAN, f64::max);
    Ok((runs[1].0, peak))
}

/// SQL staging's speed: the transactions extract split as a core system dumps it — a
/// transactions table without the customer, and an accounts table naming each account's
/// customer — imported through a mapping whose transactions kind joins the two (staging both
/// tables, the query on DataFusion, the import of its result). The joined result is the same
/// rows as `bench import`'s file, so the two are comparable.
pub(crate) fn bench_staging(rows: u64, out: &std::path::Path, seed: u64) -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    std::fs::create_dir_all(out)?;
    let joined = out.join("joined.csv");
    let tables = out.join("tables");
    std::fs::create_dir_all(&tables)?;
    let data = out.join("data");
    println!("kam bench staging — {rows} transaction rows joined with their accounts, seed {seed}");
    let started = Instant::now();
    let (_, parties) = kam_synth::write_transactions_extract(
        &joined,
        rows,
        seed,
        NaiveDate::from_ymd_opt(2026, 11, 27).expect("date"),
    )?;
    // The transactions table: every column but the customer (the 4th).
    let mut txn = std::io::BufWriter::new(std::fs::File::create(tables.join("txn.csv"))?);
    for line in std::io::BufReader::new(std::fs::File::open(&joined)?).lines() {
        let line = line?;
        // The generator quotes no field (no name holds a comma or a quote): split as written.
        anyhow::ensure!(!line.contains('"'), "a quoted field in the extract: {line}");
        let mut cells: Vec<&str> = line.split(',').collect();
        cells.remove(3);
        writeln!(txn, "{}", cells.join(","))?;
    }
    txn.flush()?;
    let mut acct = std::io::BufWriter::new(std::fs::File::create(tables.join("acct.csv"))?);
    writeln!(acct, "account_no,cif_no")?;
    for (account, cif) in &parties {
        writeln!(acct, "{account},{cif}")?;
    }
    acct.flush()?;
    std::fs::remove_file(&joined)?;
    let bytes: u64 = ["txn.csv", "acct.csv"]
        .iter()
        .map(|f| std::fs::metadata(tables.join(f)).map_or(0, |m| m.len()))
        .sum();
    let mapping = out.join("staging.toml");
    std::fs::write(
        &mapping,
        "version = 1\n\
         [sources.txn]\nfiles = \"txn.csv\"\n\
         [sources.acct]\nfiles = \"acct.csv\"\n\
         [kinds.transactions]\nsql = \"\"\"\n\
         select t.business_date, t.txn_id, t.account_no, a.cif_no, t.direction, t.amount, t.currency,\n\
                t.channel, t.counterparty_name, t.counterparty_bank, t.reversal, t.reverses_txn_id,\n\
                t._file, t._line\n\
         from txn t join acct a on a.account_no = t.account_no\n\
         \"\"\"\n",
    )?;
    println!(
        "tables built     {:.1} MB (txn.csv, acct.csv of {} accounts) in {:.2} s → {}",
        bytes as f64 / 1e6,
        parties.len(),
        started.elapsed().as_secs_f64(),
        tables.display()
    );
    let exe = std::env::current_exe()?;
    let template = out.join("template");
    define_parties(&exe, &template, &out.join("master"), &parties)?;
    let (secs, peak) = three_imports(
        &exe,
        &template,
        &data,
        &[
            "--mapping".as_ref(),
            mapping.as_os_str(),
            "--business-date".as_ref(),
            "2026-11-27".as_ref(),
            tables.as_os_str(),
        ],
    )?;
    println!(
        "kam import (SQL staging) {rows} rows, median of 3 = {secs:.2} s = {:.0} rows/s, {:.1} MB/s, peak RSS {peak:.1} MiB",
        rows as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    println!("kam-staging-seconds: {secs:.3}");
    Ok(())
}

/// A data directory holding a branch, a product, and each (account, customer) pair as a corporate
/// customer with its account, imported from master files as a bank's first night does.
fn define_parties(
    exe: &std::path::Path,
    data: &std::path::Path,
    master: &std::path::Path,
    parties: &std::collections::BTreeSet<(String, String)>,
) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    for dir in [data, master] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
    }
    std::fs::create_dir_all(master)?;
    std::fs::write(
        master.join("org_units_20261101.csv"),
        "org_code,name,kind,parent_code\nBR1,基准分行,tier1_branch,100000\n",
    )?;
    std::fs::write(
        master.join("products_20261101.csv"),
        "product_code,name,line,need_category,risk_level\nDEP,单位活期存款,corporate,settlement,R1\n",
    )?;
    let mut customers = String::from(
        "cif_no,kind,name,line,org_code,industry,account_type,risk_tolerance,id_number,phone,since\n",
    );
    let mut accounts = String::from("account_no,cif_no,product_code,currency,org_code,opened_on\n");
    let mut seen = std::collections::BTreeSet::new();
    for (account, cif) in parties {
        if seen.insert(cif) {
            writeln!(
                customers,
                "{cif},corporate,基准客户{cif},corporate,BR1,C,,,,,2020-01-01"
            )?;
        }
        writeln!(accounts, "{account},{cif},DEP,CNY,BR1,2020-01-02")?;
    }
    std::fs::write(master.join("customers_20261101.csv"), customers)?;
    std::fs::write(master.join("accounts_20261101.csv"), accounts)?;
    let data_arg = data.as_os_str();
    run_kam(exe, &["--data-dir".as_ref(), data_arg, "init".as_ref()])?;
    run_kam(
        exe,
        &[
            "--data-dir".as_ref(),
            data_arg,
            "import".as_ref(),
            master.as_os_str(),
        ],
    )
}

/// Copies a directory tree (the template data directory: a SQLite file and folders).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
