//! `kam board` and `kam score`: wiring only — the scoring board of a date printed as the
//! key-account scoring matrix (大客户综合评分表, kam-core `Board::matrix`) for candidates the user may see, and manual scores entered
//! one at a time or imported from a CSV file (checked against the rules, audited by the store).

use std::{collections::HashMap, path::Path};

use chrono::NaiveDate;
use kam_core::{codec::BoardScores, rules::Rules, scoring::Candidate};
use kam_store::{ScoreEntry, Seen, Store, UserStore};

pub use crate::export::reader;
use crate::export::{not_run, visible_customers};

/// The board of `as_of` for the candidates `cifs` (or the `top` visible candidates by total),
/// as the key-account scoring matrix (大客户综合评分表); the average and ★ are those of the candidates shown.
pub async fn print(
    store: &Store,
    facts_dir: &Path,
    rules: &Rules,
    as_of: NaiveDate,
    as_user: Option<&str>,
    cifs: &[String],
    top: usize,
) -> anyhow::Result<String> {
    let Some((header, rows)) =
        kam_facts::read_text_snapshot(facts_dir, "classification", as_of, "customers")?
    else {
        return Err(not_run(as_of));
    };
    let reader = reader(store, "board", as_of, as_user).await?;
    let names = visible_customers(&reader).await?;
    let at = |name: &str| header.iter().position(|h| h == name);
    let (Some(scores_at), Some(total_at)) = (at("board_scores"), at("board_total")) else {
        anyhow::bail!("{as_of}: 快照缺少评分列 / the snapshot has no board columns");
    };
    let mut candidates: Vec<(i64, Candidate)> = Vec::new();
    for row in rows
        .iter()
        .filter(|row| !row[scores_at].is_empty() && names.contains_key(&row[0]))
        .filter(|row| cifs.is_empty() || cifs.contains(&row[0]))
    {
        // The snapshot's scores in their one text form; a cell that does not read is an error,
        // not a candidate with missing scores.
        let given = BoardScores::parse(&row[scores_at])
            .map_err(|e| anyhow::anyhow!("{as_of}: {}: {e}", row[0]))?;
        let given: HashMap<&str, Option<u8>> = given
            .scores()
            .iter()
            .map(|(code, score)| (code.as_str(), *score))
            .collect();
        let scores = rules
            .scoring
            .criteria
            .iter()
            .map(|c| given.get(c.code.as_str()).copied().flatten())
            .collect();
        let total = row[total_at]
            .parse()
            .map_err(|_| anyhow::anyhow!("{as_of}: {}: board_total “{}”", row[0], row[total_at]))?;
        candidates.push((
            total,
            Candidate {
                cif_no: row[0].clone(),
                name: names[&row[0]].clone(),
                scores,
            },
        ));
    }
    if let Some(missing) = cifs
        .iter()
        .find(|cif| !candidates.iter().any(|(_, c)| &c.cif_no == *cif))
    {
        anyhow::bail!(
            "{missing} 不是 {as_of} 评分板的候选客户（或不可见）/ {missing} is not a candidate of the board on {as_of} (or not visible)"
        );
    }
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cif_no.cmp(&b.1.cif_no)));
    if cifs.is_empty() {
        candidates.truncate(top);
    }
    let candidates: Vec<Candidate> = candidates.into_iter().map(|(_, c)| c).collect();
    Ok(format!(
        "{} — {as_of}\n{}",
        rules.scoring.zh,
        rules.scoring.matrix(&candidates)
    ))
}

/// Checks one manual score against the rules and the user's scope, then stores it.
pub async fn set(
    user: &UserStore,
    rules: &Rules,
    cif_no: &str,
    criterion: &str,
    score: u8,
) -> anyhow::Result<()> {
    check(user, rules, cif_no, criterion, score).await?;
    user.set_manual_scores(
        cif_no,
        &rules.scoring.id,
        &[ScoreEntry::new(criterion, score, Seen::Unchecked)],
    )
    .await?;
    Ok(())
}

/// A manual criterion of the board, a score of the scale, a customer the user may see.
async fn check(
    user: &UserStore,
    rules: &Rules,
    cif_no: &str,
    criterion: &str,
    score: u8,
) -> anyhow::Result<()> {
    rules.scoring.check_manual(criterion, score)?;
    // A customer the user may not see is "not found", exactly like one that does not exist; a
    // user who may only look is told so before anything of a file is stored (the store checks
    // both again in the transaction that writes).
    user.customer_by_cif(cif_no).await?;
    if !user.scope().may_write() {
        anyhow::bail!(
            "该用户的角色只能查看、不能评分 / this user's role may look but not enter scores"
        );
    }
    Ok(())
}

/// Imports manual scores from a CSV file with the header `cif_no,criterion,score`. Every line is
/// checked before any is stored; the message names the file, line and field.
pub async fn import(user: &UserStore, rules: &Rules, path: &Path) -> anyhow::Result<usize> {
    let mut reader = csv::Reader::from_path(path)?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    if header != ["cif_no", "criterion", "score"] {
        anyhow::bail!(
            "{}: 第 1 行应为 cif_no,criterion,score / line 1 must be cif_no,criterion,score (found {})",
            path.display(),
            header.join(",")
        );
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record?;
        let field = |n: usize| record.get(n).unwrap_or("").trim().to_owned();
        let score: u8 = field(2).parse().map_err(|_| {
            anyhow::anyhow!(
                "{}: 第 {line} 行 score 列：“{}” 不是 1、3、5、7、9 / line {line}, field score: “{}” is not 1, 3, 5, 7 or 9",
                path.display(),
                field(2),
                field(2)
            )
        })?;
        rows.push((line, field(0), field(1), score));
    }
    for (line, cif, criterion, score) in &rows {
        check(user, rules, cif, criterion, *score)
            .await
            .map_err(|e| anyhow::anyhow!("{}: 第 {line} 行 / line {line}: {e}", path.display()))?;
    }
    for (_, cif, criterion, score) in &rows {
        user.set_manual_scores(
            cif,
            &rules.scoring.id,
            &[ScoreEntry::new(criterion, *score, Seen::Unchecked)],
        )
        .await?;
    }
    Ok(rows.len())
}
