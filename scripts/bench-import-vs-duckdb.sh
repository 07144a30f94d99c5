#!/usr/bin/env bash
# Import speed of kam against a peer on the same file in the same run: kam's full import (mapping,
# validation, rejects, duplicate keys, ledger, Parquet) versus DuckDB's plain CSV → Parquet
# conversion. Usage: scripts/bench-import-vs-duckdb.sh [ROWS] (default 1000000).
# Both sides are timed three times and compared by their medians (the machine is shared and noisy).
# DuckDB comes from PyPI into a throwaway venv; nothing is installed system-wide.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
work="${KAM_BENCH_DIR:-/tmp/kam-bench-import}"
venv="${KAM_PEERS_VENV:-/tmp/kam-peers}"

cargo build --release -q -p kam
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q duckdb==2.0.1
fi

out=$(./target/release/kam bench import --rows "$rows" --out "$work")
echo "$out"
kam_secs=$(echo "$out" | sed -n 's/^kam-import-seconds: //p')

"$venv/bin/python" - "$work/transactions_20261127.csv" "$work/duckdb.parquet" "$kam_secs" "$rows" <<'PY'
import statistics, sys, time
import duckdb
src, dst, kam_secs, rows = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
times = []
for _ in range(3):
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM read_csv('{src}', header=true)) TO '{dst}' (FORMAT parquet)")
    times.append(time.perf_counter() - start)
    con.close()
duck = statistics.median(times)
print(f"duckdb {duckdb.__version__} COPY csv→parquet: {rows} rows, median of 3 = {duck:.2f} s = {rows/duck:,.0f} rows/s")
print(f"ratio kam / duckdb = {kam_secs/duck:.2f} (goal ≤ 1.0)")
PY
