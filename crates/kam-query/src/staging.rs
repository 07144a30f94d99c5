//! SQL staging's engine: one kind's query of a mapping file run by DataFusion over the source
//! tables kam-ingest staged as Parquet, its result written as Parquet with every column text —
//! the shape of an extract, which kam-ingest then reads and checks like any other file.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use datafusion::{
    arrow::datatypes::DataType,
    common::Column,
    execution::context::{SQLOptions, SessionContext},
    logical_expr::{Expr, ExprSchemable as _, cast},
    parquet::{arrow::ArrowWriter, basic::Compression, file::properties::WriterProperties},
    prelude::{ParquetReadOptions, SessionConfig},
};
use futures::StreamExt as _;

/// The tables `query` reads, as DataFusion's parser resolves them (a CTE's name is not a table;
/// names as written, not folded): a source table named like an SQL word (`order`) is read only
/// when the query reads it, not for every `ORDER BY`.
pub fn tables_read(query: &str) -> Result<Vec<String>, String> {
    let statements =
        datafusion::sql::parser::DFParser::parse_sql(query).map_err(|e| e.to_string())?;
    let mut tables = Vec::new();
    for statement in &statements {
        let (read, _ctes) = datafusion::sql::resolve::resolve_table_references(statement, false)
            .map_err(|e| e.to_string())?;
        tables.extend(read.iter().map(|t| t.table().to_owned()));
    }
    Ok(tables)
}

/// Runs `query` over `tables` (name → Parquet file) into `out`; the rows written, or the reason in
/// the engine's words (which name the column or function the query got wrong).
pub async fn run_query(
    tables: &[(String, PathBuf)],
    query: &str,
    out: &Path,
) -> Result<u64, String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    // One partition: the same inputs give the same result in the same order, so a rerun of the
    // night is recognised as the content already imported.
    // Column names are the bank's headers as written (`CUST_NO`, `A3`): unquoted names are not
    // folded to lower case, so a query names them as the file does.
    let config = SessionConfig::new()
        .with_target_partitions(1)
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false);
    let context = SessionContext::new_with_config(config);
    for (name, path) in tables {
        let path = path.to_str().ok_or("a staging path is not UTF-8")?;
        context
            .register_parquet(name, path, ParquetReadOptions::default())
            .await
            .map_err(|e| text(&e))?;
    }
    // A mapping's query reads; it never creates, changes or sets anything.
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let frame = context
        .sql_with_options(query, options)
        .await
        .map_err(|e| text(&e))?;
    let schema = frame.schema().clone();
    let columns: Vec<Expr> = schema
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
            let as_text = if field.data_type() == &DataType::Utf8 {
                column
            } else {
                cast(column, DataType::Utf8)
            };
            as_text.alias(field.name())
        })
        .collect();
    for expr in &columns {
        expr.get_type(&schema).map_err(|e| text(&e))?;
    }
    let frame = frame.select(columns).map_err(|e| text(&e))?;
    let mut stream = frame.execute_stream().await.map_err(|e| text(&e))?;
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(file, Arc::clone(&stream.schema()), Some(properties))
        .map_err(|e| text(&e))?;
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| text(&e))?;
        rows += batch.num_rows() as u64;
        writer.write(&batch).map_err(|e| text(&e))?;
    }
    writer.close().map_err(|e| text(&e))?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::tables_read;

    #[test]
    fn the_tables_a_query_reads_are_its_tables_not_its_words() {
        let query = "WITH owners AS (SELECT account_id, client_id FROM disp WHERE type = 'OWNER') \
                     SELECT o.account_id, c.client_id FROM owners o JOIN client c ON o.client_id = c.client_id \
                     LEFT JOIN standing_order s ON s.account_id = o.account_id ORDER BY o.account_id";
        let mut tables = tables_read(query).unwrap();
        tables.sort();
        assert_eq!(tables, ["client", "disp", "standing_order"]);
        // `order` is a word of ORDER BY, not a table; a subquery's table is read.
        let tables =
            tables_read("SELECT x FROM loan WHERE x IN (SELECT y FROM account) ORDER BY x")
                .unwrap();
        assert!(tables.contains(&"account".to_owned()) && !tables.iter().any(|t| t == "order"));
        assert!(tables_read("SELEC nothing").is_err());
    }
}
