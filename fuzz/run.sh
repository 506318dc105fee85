#!/usr/bin/env bash
# Runs the fuzz targets one after another, each for a bounded time, on the
# stable toolchain (libFuzzer coverage without a sanitizer; see README.md).
#
#   fuzz/run.sh [--keep-going] SECONDS [TARGET...]
#
# Builds every target, writes the seed corpora from the test data, then runs
# each TARGET (default: all) for SECONDS. Without --keep-going the first
# crash stops everything with exit status 1 (what CI wants); with it a
# crashed target is restarted for the rest of its time, so a long run goes
# on looking. Prints executions, executions per second and corpus size per
# target. Crashes are saved in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"

keep_going=0
if [[ "${1:-}" == "--keep-going" ]]; then
    keep_going=1
    shift
fi
seconds="${1:?usage: fuzz/run.sh [--keep-going] SECONDS [TARGET...]}"
shift
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=(parse compile_eval roundtrip cert_env session)
fi

cargo fuzz build --sanitizer none >&2
# Seeds: expressions, certificates and sessions from tests/ (idempotent).
(cd .. && cargo run --quiet --example fuzz_seeds >&2)

bin_dir="target/x86_64-unknown-linux-gnu/release"
logs="$(mktemp -d)"
summary=()
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    extra=()
    case "$t" in
        parse | compile_eval) extra=(-dict=sslrequire.dict) ;;
    esac
    total=0
    crashes=0
    start=$SECONDS
    left=$seconds
    while ((left > 0)); do
        log="$logs/$t.$((crashes)).log"
        set +e
        "$bin_dir/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" \
            -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 "${extra[@]}" >"$log" 2>&1
        rc=$?
        set -e
        runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
        total=$((total + ${runs:-0}))
        if ((rc != 0)); then
            crashes=$((crashes + 1))
            echo "fuzz: $t crashed (exit $rc):" >&2
            grep -E -A12 "panicked at|ERROR: libFuzzer|SUMMARY" "$log" | head -40 >&2 || tail -40 "$log" >&2
            grep -o "Test unit written to .*" "$log" >&2 || true
            status=1
            if ((!keep_going)); then
                break
            fi
        fi
        left=$((seconds - (SECONDS - start)))
    done
    elapsed=$((SECONDS - start))
    files=$(find "corpus/$t" -type f | wc -l)
    rate=$((total / (elapsed > 0 ? elapsed : 1)))
    line=$(printf '%-13s %5ds %12d execs %8d/s %6d corpus files %3d crash(es)' \
        "$t" "$elapsed" "$total" "$rate" "$files" "$crashes")
    echo "fuzz: $line" >&2
    summary+=("$line")
    if ((status != 0 && !keep_going)); then
        break
    fi
done
echo "fuzz summary:"
printf '  %s\n' "${summary[@]}"
rm -rf "$logs"
exit $status
