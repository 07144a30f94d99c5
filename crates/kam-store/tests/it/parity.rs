//! The two migration sets describe one schema: after migrating both databases, every table has
//! the same columns with the same type class and nullability, the same unique keys (primary keys
//! and unique indexes, partial ones included), and no column that references another table is an
//! identity column. A migration written for one database and forgotten (or written differently)
//! for the other fails here.

use std::collections::{BTreeMap, BTreeSet};

use kam_store::Store;
use sqlx::Row;

/// One table as both databases can describe it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// column → (type class, nullable)
    columns: BTreeMap<String, (&'static str, bool)>,
    /// Each unique key's columns, sorted.
    unique: BTreeSet<Vec<String>>,
}

/// The class of a declared type: what the portable SQL relies on.
fn class(declared: &str) -> &'static str {
    let declared = declared.to_ascii_lowercase();
    if declared.contains("int") {
        "integer"
    } else if declared.contains("char") || declared.contains("text") {
        "text"
    } else if declared.contains("real") || declared.contains("double") || declared.contains("float")
    {
        "real"
    } else if declared.contains("bool") {
        "boolean"
    } else {
        "other"
    }
}

async fn sqlite_schema(store: &Store) -> BTreeMap<String, Table> {
    let pool = store.pool_for_tests();
    let mut schema = BTreeMap::new();
    let tables = sqlx::query(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for row in tables {
        let name: String = row.get(0);
        let mut table = Table::default();
        let mut primary = Vec::new();
        for column in sqlx::query("select name, type, \"notnull\", pk from pragma_table_info($1)")
            .bind(&name)
            .fetch_all(pool)
            .await
            .unwrap()
        {
            let column_name: String = column.get(0);
            let declared: String = column.get(1);
            let not_null: i64 = column.get(2);
            let pk: i64 = column.get(3);
            // A primary key column is never null on PostgreSQL; SQLite only says so when asked.
            table.columns.insert(
                column_name.clone(),
                (class(&declared), not_null == 0 && pk == 0),
            );
            if pk > 0 {
                primary.push(column_name);
            }
        }
        primary.sort();
        if !primary.is_empty() {
            table.unique.insert(primary);
        }
        for index in sqlx::query("select name from pragma_index_list($1) where \"unique\" = 1")
            .bind(&name)
            .fetch_all(pool)
            .await
            .unwrap()
        {
            let index: String = index.get(0);
            let mut columns: Vec<String> = sqlx::query("select name from pragma_index_info($1)")
                .bind(&index)
                .fetch_all(pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            columns.sort();
            table.unique.insert(columns);
        }
        schema.insert(name, table);
    }
    schema
}

async fn postgres_schema(store: &Store) -> (BTreeMap<String, Table>, Vec<String>) {
    let pool = store.pool_for_tests();
    let mut schema: BTreeMap<String, Table> = BTreeMap::new();
    for row in sqlx::query(
        "select table_name::text, column_name::text, data_type::text, is_nullable::text from information_schema.columns \
         where table_schema = current_schema() and table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        let table: String = row.get(0);
        let column: String = row.get(1);
        let declared: String = row.get(2);
        let nullable: String = row.get(3);
        schema
            .entry(table)
            .or_default()
            .columns
            .insert(column, (class(&declared), nullable == "YES"));
    }
    for row in sqlx::query(
        "select t.relname::text, string_agg(a.attname::text, ',' order by a.attname::text) \
         from pg_index i join pg_class t on t.oid = i.indrelid join pg_namespace n on n.oid = t.relnamespace \
         join pg_attribute a on a.attrelid = t.oid and a.attnum = any(i.indkey) \
         where i.indisunique and n.nspname = current_schema() and t.relname <> '_sqlx_migrations' \
         group by t.relname, i.indexrelid",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        let table: String = row.get(0);
        let columns: String = row.get(1);
        schema
            .entry(table)
            .or_default()
            .unique
            .insert(columns.split(',').map(str::to_owned).collect());
    }
    // Identity columns that also reference another table: an id given by the sequence where it
    // must come from the referenced row.
    let identity_references: Vec<String> = sqlx::query(
        "select c.table_name::text || '.' || c.column_name::text from information_schema.columns c \
         join information_schema.key_column_usage k on k.table_schema = c.table_schema \
           and k.table_name = c.table_name and k.column_name = c.column_name \
         join information_schema.table_constraints t on t.constraint_name = k.constraint_name \
           and t.table_schema = k.table_schema and t.constraint_type = 'FOREIGN KEY' \
         where c.table_schema = current_schema() and c.is_identity = 'YES'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect();
    (schema, identity_references)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migration_sets_describe_one_schema() {
    let sqlite = kam_store::testing::sqlite().await;
    let Some(postgres) = kam_store::testing::postgres().await else {
        eprintln!("SKIPPED on PostgreSQL: both_migration_sets_describe_one_schema");
        return;
    };
    let lite = sqlite_schema(&sqlite.store).await;
    let (pg, identity_references) = postgres_schema(&postgres.store).await;
    assert!(lite.len() > 20, "{} tables", lite.len());
    assert_eq!(
        lite.keys().collect::<Vec<_>>(),
        pg.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    let mut differences = Vec::new();
    for (name, table) in &lite {
        let other = &pg[name];
        for (column, shape) in &table.columns {
            match other.columns.get(column) {
                Some(pg_shape) if pg_shape == shape => {}
                found => differences.push(format!(
                    "{name}.{column}: SQLite {shape:?}, PostgreSQL {found:?}"
                )),
            }
        }
        for column in other.columns.keys() {
            if !table.columns.contains_key(column) {
                differences.push(format!("{name}.{column}: only on PostgreSQL"));
            }
        }
        if table.unique != other.unique {
            differences.push(format!(
                "{name}: unique keys SQLite {:?}, PostgreSQL {:?}",
                table.unique, other.unique
            ));
        }
    }
    assert!(differences.is_empty(), "{differences:#?}");
    assert!(
        identity_references.is_empty(),
        "identity columns that reference another table: {identity_references:?}"
    );
}
