#!/usr/bin/env bash
# SQL staging's speed against a peer on the same tables in the same run: kam importing a
# transactions table joined with an accounts table through a mapping (staging both tables, the
# query on DataFusion, the checks, the ledger, Parquet) versus DuckDB joining the same two CSV
# files into Parquet. Usage: scripts/bench-staging-vs-duckdb.sh [ROWS] (default 1000000).
# Both sides are timed three times and compared by their medians (the machine is shared and noisy).
# DuckDB comes from PyPI into a throwaway venv; nothing is installed system-wide.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
work="${KAM_BENCH_DIR:-/tmp/kam-bench-staging}"
venv="${KAM_PEERS_VENV:-/tmp/kam-peers}"

cargo build --release -q -p kam
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q duckdb==2.0.1
fi

out=$(./target/release/kam bench staging --rows "$rows" --out "$work")
echo "$out"
kam_secs=$(echo "$out" | sed -n 's/^kam-staging-seconds: //p')

"$venv/bin/python" - "$work/tables" "$work/duckdb.parquet" "$kam_secs" "$rows" <<'PY'
import statistics, sys, time
import duckdb
tables, dst, kam_secs, rows = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
times = []
for _ in range(3):
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(f"""COPY (
        SELECT t.*, a.cif_no FROM read_csv('{tables}/txn.csv', header=true) t
        JOIN read_csv('{tables}/acct.csv', header=true) a ON a.account_no = t.account_no
    ) TO '{dst}' (FORMAT parquet)""")
    times.append(time.perf_counter() - start)
    con.close()
duck = statistics.median(times)
print(f"duckdb {duckdb.__version__} join csv→parquet: {rows} rows, median of 3 = {duck:.2f} s = {rows/duck:,.0f} rows/s")
print(f"ratio kam / duckdb = {kam_secs/duck:.2f} (goal ≤ 1.0)")
PY
