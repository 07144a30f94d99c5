//! The import ledger: which batches exist, in which state. The store records; the import command
//! decides (kam-ingest validates, kam-facts writes files).

use chrono::NaiveDate;
use kam_core::{code_enum, user::Role};
use sqlx::{Any, Row, Transaction, any::AnyRow};

use crate::{
    Actor, Backend, Error, Result, Store, UserStore, audit,
    bulk::insert_rows,
    customer::parse_date,
    org::corrupt,
    sql::{Arg, Sql},
};

code_enum! {
    /// Where a batch is in its life.
    pub enum BatchState as "batch_state" {
        /// Recorded before its files are published; found at start-up, it is undone.
        Pending = "pending",
        /// Its rows count.
        Committed = "committed",
        /// A corrected file for the same slot took its place.
        Replaced = "replaced",
        /// Removed by `kam import revert`.
        Reverted = "reverted",
    }
}

/// One imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportBatch {
    pub batch_id: String,
    pub kind: String,
    pub business_date: NaiveDate,
    pub file_name: String,
    pub content_hash: String,
    pub state: BatchState,
    pub rows_read: i64,
    pub loaded: i64,
    pub rejected: i64,
    pub duplicates: i64,
    /// Rows held until the master data they name arrives (counted apart from the others).
    pub held: i64,
    pub amount_total_minor: i64,
    pub actor: String,
    pub started_at: String,
    pub finished_at: Option<String>,
}

/// A batch about to be written.
#[derive(Debug, Clone)]
pub struct NewImportBatch {
    pub batch_id: String,
    pub kind: String,
    pub business_date: NaiveDate,
    pub file_name: String,
    pub content_hash: String,
    pub rows_read: i64,
    pub loaded: i64,
    pub rejected: i64,
    pub duplicates: i64,
    pub held: i64,
    pub amount_total_minor: i64,
    /// The batch's rejected and warned rows, in file order; at most `MAX_STORED_REJECTS` are kept
    /// (the counts above are always whole).
    pub rejects: Vec<BatchReject>,
}

/// One rejected (or loaded-with-a-warning) row of a batch, as the administrator downloads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReject {
    pub file_name: String,
    pub line: i64,
    pub column: String,
    pub field: String,
    /// Masked already when it is a personal identifier.
    pub value: String,
    /// `reject` or `warning`.
    pub severity: String,
    pub reason_code: String,
    pub message_zh: String,
    pub message_en: String,
}

/// How many rejects a batch keeps in the store: enough to correct a file, bounded so that a
/// runaway extract cannot swell the database (the reject limit normally refuses such a file).
pub const MAX_STORED_REJECTS: usize = 10_000;

const COLUMNS: &str = "select batch_id, kind, business_date, file_name, content_hash, state, rows_read, loaded, rejected, duplicates, held, amount_total_minor, actor, started_at, finished_at from import_batch";

fn batch_from_row(row: &AnyRow) -> Result<ImportBatch> {
    Ok(ImportBatch {
        batch_id: row.try_get("batch_id")?,
        kind: row.try_get("kind")?,
        business_date: parse_date("business_date", &row.try_get::<String, _>("business_date")?)?,
        file_name: row.try_get("file_name")?,
        content_hash: row.try_get("content_hash")?,
        state: BatchState::parse(&row.try_get::<String, _>("state")?).map_err(corrupt)?,
        rows_read: row.try_get("rows_read")?,
        loaded: row.try_get("loaded")?,
        rejected: row.try_get("rejected")?,
        duplicates: row.try_get("duplicates")?,
        held: row.try_get("held")?,
        amount_total_minor: row.try_get("amount_total_minor")?,
        actor: row.try_get("actor")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

impl Store {
    /// Hands every customer number to `each`, in number order, so that the import can check the
    /// references of fact rows against the master data with bounded memory on a bank of any size.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn each_customer_number(&self, mut each: impl FnMut(&str)) -> Result<()> {
        self.each_by_key(
            "select cif_no as k from customer where cif_no > ",
            "cif_no",
            |row| {
                let cif: String = row.try_get("k")?;
                each(&cif);
                Ok(cif)
            },
        )
        .await
    }

    /// Hands every account number with its owner's customer number to `each`, in account order:
    /// a fact row's account must be its customer's.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn each_account_owner(&self, mut each: impl FnMut(&str, &str)) -> Result<()> {
        self.each_by_key(
            "select a.account_no as k, c.cif_no from account a join customer c on c.id = a.customer_id \
             where a.account_no > ",
            "a.account_no",
            |row| {
                let account: String = row.try_get("k")?;
                each(&account, &row.try_get::<String, _>("cif_no")?);
                Ok(account)
            },
        )
        .await
    }

    /// Hands every joint owner of an account (an owner party other than the account's customer)
    /// to `each` as (account number, customer number): a fact row of a joint account may name
    /// any of its owners.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn each_joint_owner(&self, mut each: impl FnMut(&str, &str)) -> Result<()> {
        // The page key is the pair, written once: an account may have several joint owners.
        const PAIR: &str = "a.account_no || '/' || c.cif_no";
        self.each_by_key(
            &format!(
                "select {PAIR} as k, a.account_no, c.cif_no from account_party p \
                 join account a on a.id = p.account_id join customer c on c.id = p.customer_id \
                 where p.role = 'owner' and p.customer_id <> a.customer_id and {PAIR} > "
            ),
            PAIR,
            |row| {
                let account: String = row.try_get("account_no")?;
                each(&account, &row.try_get::<String, _>("cif_no")?);
                row.try_get("k").map_err(Into::into)
            },
        )
        .await
    }

    /// The rows of `select` (ending in `where KEY > `) a page at a time in `key` order, each handed
    /// to `each`, which returns the row's key: memory stays one page whatever the table's size.
    async fn each_by_key(
        &self,
        select: &str,
        key: &str,
        mut each: impl FnMut(&AnyRow) -> Result<String>,
    ) -> Result<()> {
        const PAGE: usize = 50_000;
        let mut after = String::new();
        loop {
            let rows = Sql::new(select)
                .bind(after.as_str())
                .push(&format!(" order by {key} limit {PAGE}"))
                .query()
                .fetch_all(self.pool())
                .await?;
            for row in &rows {
                after = each(row)?;
            }
            if rows.len() < PAGE {
                return Ok(());
            }
        }
    }
    async fn batches_where(&self, mut sql: Sql) -> Result<Vec<ImportBatch>> {
        sql.push(" order by id");
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter().map(batch_from_row).collect()
    }

    /// The committed batch with exactly this content, if the same file was imported before.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn committed_batch_with_content(
        &self,
        kind: &str,
        date: NaiveDate,
        content_hash: &str,
    ) -> Result<Option<ImportBatch>> {
        self.committed_batch_matching(kind, date, "content_hash", content_hash)
            .await
    }

    /// The committed batch occupying a file slot (kind, date, file name), if any.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn committed_batch_in_slot(
        &self,
        kind: &str,
        date: NaiveDate,
        file_name: &str,
    ) -> Result<Option<ImportBatch>> {
        self.committed_batch_matching(kind, date, "file_name", file_name)
            .await
    }

    /// The committed batch of `kind` on `date` whose `column` (a constant of this file) equals `value`.
    async fn committed_batch_matching(
        &self,
        kind: &str,
        date: NaiveDate,
        column: &'static str,
        value: &str,
    ) -> Result<Option<ImportBatch>> {
        let mut sql = Sql::new(&format!("{COLUMNS} where state = 'committed' and kind = "));
        sql.bind(kind)
            .push(" and business_date = ")
            .bind(date.to_string())
            .push(&format!(" and {column} = "))
            .bind(value);
        Ok(self.batches_where(sql).await?.pop())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn pending_batches(&self) -> Result<Vec<ImportBatch>> {
        self.batches_where(Sql::new(&format!("{COLUMNS} where state = 'pending'")))
            .await
    }

    /// Every batch, oldest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_batches(&self) -> Result<Vec<ImportBatch>> {
        self.batches_where(Sql::new(COLUMNS)).await
    }

    /// The ids of the committed batches of a kind: the only fact files that count.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn committed_batch_ids(&self, kind: &str) -> Result<Vec<String>> {
        let mut sql = Sql::new(&format!("{COLUMNS} where state = 'committed' and kind = "));
        sql.bind(kind);
        Ok(self
            .batches_where(sql)
            .await?
            .into_iter()
            .map(|b| b.batch_id)
            .collect())
    }

    /// Records a batch as pending, before any of its files become visible.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn begin_import_batch(&self, actor: &Actor, batch: &NewImportBatch) -> Result<()> {
        let mut tx = self.begin_write().await?;
        insert_batch(&mut tx, actor, batch, BatchState::Pending).await?;
        let detail = format!("{} {} {}", batch.kind, batch.business_date, batch.file_name);
        audit::record(
            &mut tx,
            actor,
            "begin",
            "import_batch",
            &batch.batch_id,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The stored rejects of a batch in file order; `NotFound` when the batch does not exist.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_rejects(&self, batch_id: &str) -> Result<Vec<BatchReject>> {
        self.import_batch(batch_id).await?;
        let rows = Sql::new("select file_name, line, column_name, field, value, severity, reason_code, message_zh, message_en from import_reject where batch_id = ")
            .bind(batch_id)
            .push(" order by seq")
            .query()
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(BatchReject {
                    file_name: row.try_get("file_name")?,
                    line: row.try_get("line")?,
                    column: row.try_get("column_name")?,
                    field: row.try_get("field")?,
                    value: row.try_get("value")?,
                    severity: row.try_get("severity")?,
                    reason_code: row.try_get("reason_code")?,
                    message_zh: row.try_get("message_zh")?,
                    message_en: row.try_get("message_en")?,
                })
            })
            .collect()
    }

    /// True when a batch with this id exists in any state.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn batch_id_taken(&self, batch_id: &str) -> Result<bool> {
        let mut sql = Sql::new("select count(*) as n from import_batch where batch_id = ");
        sql.bind(batch_id);
        Ok(sql
            .query()
            .fetch_one(self.pool())
            .await?
            .try_get::<i64, _>("n")?
            > 0)
    }

    /// Commits a pending batch; with `replaces`, the old committed batch of the slot becomes
    /// `replaced` in the same transaction — the swap readers see is atomic.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn commit_import_batch(
        &self,
        actor: &Actor,
        batch_id: &str,
        replaces: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if let Some(old) = replaces {
            mark_replaced(&mut tx, actor, old, batch_id).await?;
        }
        let changed = Sql::new("update import_batch set state = 'committed', finished_at = ")
            .bind(audit::now())
            .push(" where state = 'pending' and batch_id = ")
            .bind(batch_id)
            .query()
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::from_write(e, "import_batch", batch_id.to_owned()))?
            .rows_affected();
        if changed != 1 {
            return Err(Error::NotFound {
                entity: "import_batch",
                key: batch_id.to_owned(),
            });
        }
        audit::record(&mut tx, actor, "commit", "import_batch", batch_id, "").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a committed batch of facts kam generated itself (the demo bank), which has no file
    /// to re-read: an earlier row with the same id is replaced, in one transaction.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_generated_batch(
        &self,
        actor: &Actor,
        batch: &NewImportBatch,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Sql::new("delete from import_reject where batch_id = ")
            .bind(batch.batch_id.as_str())
            .query()
            .execute(&mut *tx)
            .await?;
        Sql::new("delete from import_batch where batch_id = ")
            .bind(batch.batch_id.as_str())
            .query()
            .execute(&mut *tx)
            .await?;
        insert_batch(&mut tx, actor, batch, BatchState::Committed).await?;
        audit::record(
            &mut tx,
            actor,
            "generated",
            "import_batch",
            &batch.batch_id,
            &batch.file_name,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets a pending batch whose files have been removed (undoing an interrupted run).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn forget_pending_batch(&self, actor: &Actor, batch_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Sql::new("delete from import_reject where batch_id in (select batch_id from import_batch where state = 'pending' and batch_id = ")
            .bind(batch_id)
            .push(")")
            .query()
            .execute(&mut *tx)
            .await?;
        Sql::new("delete from import_batch where state = 'pending' and batch_id = ")
            .bind(batch_id)
            .query()
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "undo_pending",
            "import_batch",
            batch_id,
            "interrupted run undone",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks a committed batch reverted; the caller then removes its files.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revert_import_batch(&self, actor: &Actor, batch_id: &str) -> Result<ImportBatch> {
        let mut tx = self.begin_write().await?;
        let changed = Sql::new("update import_batch set state = 'reverted', finished_at = ")
            .bind(audit::now())
            .push(" where state = 'committed' and batch_id = ")
            .bind(batch_id)
            .query()
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed != 1 {
            return Err(Error::NotFound {
                entity: "import_batch",
                key: batch_id.to_owned(),
            });
        }
        audit::record(&mut tx, actor, "revert", "import_batch", batch_id, "").await?;
        tx.commit().await?;
        self.import_batch(batch_id).await
    }

    /// One batch of the ledger, in whatever state.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_batch(&self, batch_id: &str) -> Result<ImportBatch> {
        let mut sql = Sql::new(&format!("{COLUMNS} where batch_id = "));
        sql.bind(batch_id);
        self.batches_where(sql)
            .await?
            .pop()
            .ok_or_else(|| Error::NotFound {
                entity: "import_batch",
                key: batch_id.to_owned(),
            })
    }
}

/// Inserts a ledger row in `state`; a committed row is finished the moment it is written.
pub(crate) async fn insert_batch(
    tx: &mut Transaction<'_, Any>,
    actor: &Actor,
    batch: &NewImportBatch,
    state: BatchState,
) -> Result<()> {
    let now = audit::now();
    let finished_at = (state != BatchState::Pending).then(|| now.clone());
    Sql::new("insert into import_batch (batch_id, kind, business_date, file_name, content_hash, state, rows_read, loaded, rejected, duplicates, held, amount_total_minor, actor, started_at, finished_at) values (")
        .bind(batch.batch_id.as_str()).push(", ")
        .bind(batch.kind.as_str()).push(", ")
        .bind(batch.business_date.to_string()).push(", ")
        .bind(batch.file_name.as_str()).push(", ")
        .bind(batch.content_hash.as_str()).push(", ")
        .bind(state.as_str()).push(", ")
        .bind(batch.rows_read).push(", ")
        .bind(batch.loaded).push(", ")
        .bind(batch.rejected).push(", ")
        .bind(batch.duplicates).push(", ")
        .bind(batch.held).push(", ")
        .bind(batch.amount_total_minor).push(", ")
        .bind(actor.name.as_str()).push(", ")
        .bind(now).push(", ")
        .bind(finished_at)
        .push(")")
        .query()
        .execute(&mut **tx)
        .await
        .map_err(|e| Error::from_write(e, "import_batch", batch.batch_id.clone()))?;
    let rows = batch
        .rejects
        .iter()
        .take(MAX_STORED_REJECTS)
        .enumerate()
        .map(|(seq, r)| {
            vec![
                Arg::from(batch.batch_id.as_str()),
                Arg::from(seq as i64),
                Arg::from(r.file_name.as_str()),
                Arg::from(r.line),
                Arg::from(r.column.as_str()),
                Arg::from(r.field.as_str()),
                Arg::from(r.value.as_str()),
                Arg::from(r.severity.as_str()),
                Arg::from(r.reason_code.as_str()),
                Arg::from(r.message_zh.as_str()),
                Arg::from(r.message_en.as_str()),
            ]
        })
        .collect();
    // The smaller dialect's bind limit: rejects are few, and the transaction has no store handle.
    insert_rows(
        tx,
        Backend::Sqlite.max_binds(),
        "insert into import_reject (batch_id, seq, file_name, line, column_name, field, value, severity, reason_code, message_zh, message_en)",
        "",
        rows,
    )
    .await?;
    Ok(())
}

/// Marks the committed batch `old` as replaced by `new`, inside the caller's transaction.
pub(crate) async fn mark_replaced(
    tx: &mut Transaction<'_, Any>,
    actor: &Actor,
    old: &str,
    new: &str,
) -> Result<()> {
    let changed = Sql::new("update import_batch set state = 'replaced', finished_at = ")
        .bind(audit::now())
        .push(" where state = 'committed' and batch_id = ")
        .bind(old)
        .query()
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if changed != 1 {
        return Err(Error::NotFound {
            entity: "import_batch",
            key: old.to_owned(),
        });
    }
    audit::record(
        tx,
        actor,
        "replace",
        "import_batch",
        old,
        &format!("replaced by {new}"),
    )
    .await
}

impl UserStore {
    /// Every import batch, for administrators (`Role::may_administer`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_batches(&self) -> Result<Vec<ImportBatch>> {
        self.require(Role::may_administer)?;
        self.store().import_batches().await
    }

    /// One batch's rejected rows, for administrators (`Role::may_administer`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_rejects(&self, batch_id: &str) -> Result<Vec<BatchReject>> {
        self.require(Role::may_administer)?;
        self.store().import_rejects(batch_id).await
    }
}
