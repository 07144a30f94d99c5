#!/usr/bin/env bash
# Indicator batch speed of kam against a peer on the same Parquet facts in the same run: kam's
# indicator stage (DataFusion, every indicator of docs/indicators.md for every customer over the
# 30/90/365-day windows) versus DuckDB running SQL for the same aggregates on the same files.
# Usage: scripts/bench-batch-vs-duckdb.sh [SCALE [RUNS]] (default demo, 3). Both sides: the median of
# RUNS runs (at the large scale, ≈140M transactions, one run each takes long enough).
# kam's side is its full run (no rollups of earlier nights); `kam bench batch` also prints the
# nightly run (the night before's rollups at hand) and its share of the full run.
# DuckDB comes from PyPI into a throwaway venv; nothing is installed system-wide.
set -euo pipefail
cd "$(dirname "$0")/.."
scale="${1:-demo}"
runs="${2:-3}"
work="${KAM_BENCH_DIR:-/tmp/kam-bench-batch}"
venv="${KAM_PEERS_VENV:-/tmp/kam-peers}"

cargo build --release -q -p kam
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q duckdb==2.0.1
fi

out=$(./target/release/kam bench batch --scale "$scale" --runs "$runs" --out "$work")
echo "$out"
kam_secs=$(echo "$out" | sed -n 's/^kam-batch-indicator-seconds: //p')
facts=$(echo "$out" | sed -n 's/^kam-facts-dir: //p')
as_of=$(echo "$out" | sed -n 's/^kam-as-of: //p')

"$venv/bin/python" - "$facts" "$as_of" "$kam_secs" "$runs" <<'PY'
import datetime, statistics, sys, time
import duckdb
facts, as_of, kam_secs, runs = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
d = datetime.date.fromisoformat(as_of)
windows = [30, 90, 365]
def start(w, extra=0):
    return (d - datetime.timedelta(days=w - 1 + extra)).isoformat()
def table(kind):
    return f"read_parquet('{facts}/{kind}/*/*.parquet', hive_partitioning = false)"
day = "(business_date - DATE '1970-01-01')"
dn = (d - datetime.date(1970, 1, 1)).days
txn_cols = "".join(
    f", SUM(CASE WHEN day >= {dn - w + 1} THEN n END), SUM(CASE WHEN day >= {dn - w + 1} THEN amount END)"
    f", MAX(CASE WHEN day >= {dn - w + 1} THEN max_amount END), SUM(CASE WHEN day >= {dn - w + 1} THEN rev_n END)"
    f", SUM(CASE WHEN day >= {dn - w + 1} THEN rev_amount END), COUNT(CASE WHEN day >= {dn - w + 1} AND n > 0 THEN 1 END)"
    f", MIN(CASE WHEN day >= {dn - w + 1} AND n > 0 THEN day END), MAX(CASE WHEN day >= {dn - w + 1} AND n > 0 THEN day END)"
    f", SUM(CASE WHEN day >= {dn - w + 1} THEN in_n END), SUM(CASE WHEN day >= {dn - w + 1} THEN in_amount END)"
    f", MAX(CASE WHEN day >= {dn - w + 1} THEN in_max END), COUNT(CASE WHEN day >= {dn - w + 1} AND in_n > 0 THEN 1 END)"
    f", MIN(CASE WHEN day >= {dn - w + 1} AND in_n > 0 THEN day END), MAX(CASE WHEN day >= {dn - w + 1} AND in_n > 0 THEN day END)"
    for w in windows)
queries = {
"transactions": f"""
WITH daily AS (
  SELECT cif_no, {day} AS day,
    SUM(CASE WHEN reversal THEN 0 ELSE 1 END) AS n,
    SUM(CASE WHEN reversal THEN 0 ELSE amount_minor END) AS amount,
    MAX(CASE WHEN reversal THEN NULL ELSE amount_minor END) AS max_amount,
    SUM(CASE WHEN reversal THEN 1 ELSE 0 END) AS rev_n,
    SUM(CASE WHEN reversal THEN amount_minor ELSE 0 END) AS rev_amount,
    SUM(CASE WHEN NOT reversal AND direction = 'credit' THEN 1 ELSE 0 END) AS in_n,
    SUM(CASE WHEN NOT reversal AND direction = 'credit' THEN amount_minor ELSE 0 END) AS in_amount,
    MAX(CASE WHEN NOT reversal AND direction = 'credit' THEN amount_minor END) AS in_max
  FROM {table('transaction')}
  WHERE business_date BETWEEN DATE '{start(365)}' AND DATE '{as_of}' AND currency = 'CNY'
  GROUP BY cif_no, business_date)
SELECT cif_no{txn_cols} FROM daily GROUP BY cif_no""",
"first transactions": f"""
SELECT cif_no, MIN({day}) FROM {table('transaction')}
WHERE business_date <= DATE '{as_of}' AND NOT reversal GROUP BY cif_no""",
}
end = dn + 1
for kind, item, values in [("balance", "account_no", ["balance_minor"]),
                           ("loan", "loan_no", ["outstanding_minor", "overdue_principal_minor"])]:
    cols = ""
    for v in values:
        for w in windows:
            s = dn - w + 1
            # A snapshot holds until the item's next one, for at most 31 days after its own day.
            cols += f", SUM({v} * GREATEST(0, LEAST(COALESCE(next_day, {end}), day + 32, {end}) - GREATEST(day, {s})))"
        cols += f", SUM(CASE WHEN COALESCE(next_day, {end}) > {dn} AND day >= {dn - 31} THEN {v} ELSE 0 END)"
    queries[kind] = f"""
WITH s AS (
  SELECT {item}, cif_no, {', '.join(values)}, {day} AS day,
    LEAD(business_date) OVER (PARTITION BY {item} ORDER BY business_date) - DATE '1970-01-01' AS next_day
  FROM {table(kind)}
  WHERE business_date BETWEEN DATE '{start(365, 31)}' AND DATE '{as_of}' AND currency = 'CNY')
SELECT cif_no{cols} FROM s GROUP BY cif_no"""
queries["loans today"] = f"""
WITH s AS (
  SELECT cif_no, credit_limit_minor, loan_class,
    ROW_NUMBER() OVER (PARTITION BY loan_no ORDER BY business_date DESC) AS latest
  FROM {table('loan')}
  WHERE business_date BETWEEN DATE '{start(1, 31)}' AND DATE '{as_of}' AND currency = 'CNY')
SELECT cif_no, SUM(credit_limit_minor),
  MAX(CASE loan_class WHEN 'pass' THEN 1 WHEN 'special_mention' THEN 2 WHEN 'substandard' THEN 3
    WHEN 'doubtful' THEN 4 WHEN 'loss' THEN 5 ELSE 0 END)
FROM s WHERE latest = 1 GROUP BY cif_no"""
fee_cols = "".join(f", SUM(CASE WHEN business_date >= DATE '{start(w)}' THEN amount_minor END)" for w in windows)
queries["fees"] = f"""
SELECT cif_no{fee_cols} FROM {table('fee')}
WHERE business_date BETWEEN DATE '{start(365)}' AND DATE '{as_of}' AND currency = 'CNY' GROUP BY cif_no"""

rows = {}
times = []
for _ in range(runs):
    con = duckdb.connect()
    begin = time.perf_counter()
    for name, sql in queries.items():
        rows[name] = len(con.execute(sql).fetchall())
    times.append(time.perf_counter() - begin)
    con.close()
duck = statistics.median(times)
print(f"duckdb {duckdb.__version__} same aggregates: " + ", ".join(f"{k} {v} rows" for k, v in rows.items()))
print(f"duckdb median of {runs} = {duck:.2f} s; kam indicators stage = {kam_secs:.2f} s")
print(f"ratio kam / duckdb = {kam_secs / duck:.2f} (goal ≤ 0.8)")
PY
