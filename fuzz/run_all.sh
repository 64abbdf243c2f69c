#!/usr/bin/env bash
# Runs every fuzz target in turn for SECONDS each (default 600), niced, with the address
# sanitizer, debug assertions and overflow checks, and a 64 MB cap on any single allocation
# (a parser that allocates from an unchecked size field fails that cap on small inputs).
# Usage: fuzz/run_all.sh [SECONDS] [TARGET...]; logs go to fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(onnx safetensors npy idx npz csv onnx_import vnnlib)
fi
mkdir -p logs
export RUSTC_BOOTSTRAP=1 # cargo-fuzz passes nightly flags (-Zsanitizer); stable rustc accepts them this way
cargo fuzz build
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    echo "== $target: ${seconds}s"
    nice -n 10 cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -malloc_limit_mb=64 -rss_limit_mb=2048 -print_final_stats=1 \
        >"logs/$target.log" 2>&1 || echo "   $target FAILED: see logs/$target.log and artifacts/$target/"
    grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)" \
        "logs/$target.log" || true
done
