#!/usr/bin/env bash
# Idle cost of the real vigil binary with every telemetry collector at 1 s:
#   bench/telemetry/run_telemetry_bench.sh [--build DIR] [--interval D] [--slow-interval D]
#                                          [SECONDS]   (default 300; intervals default 1s)
# Starts vigil with a temporary config and state dir (no log files, no journal, no broker,
# API on free ports), lets it settle for 5 s, then measures it with bench_telemetry --pid.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$src/build/h-bench
seconds=300
interval=1s
slow_interval=1s
while (($#)); do
  case $1 in
  --build) build=$(cd "$2" && pwd); shift 2 ;;
  --interval) interval=$2; shift 2 ;;
  --slow-interval) slow_interval=$2; shift 2 ;;
  *) seconds=$1; shift ;;
  esac
done
vigil=$build/runtime/vigil
tool=$build/bench/telemetry/bench_telemetry
for b in "$vigil" "$tool"; do [[ -x $b ]] || { echo "missing $b" >&2; exit 1; }; done
work=$(mktemp -d /tmp/vigil-telemetry-bench-XXXXXX)
pid=
cleanup() { [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cat >"$work/vigil.json" <<JSON
{
  "state_dir": "$work/state",
  "secrets_file": "$work/secrets.json",
  "log": { "level": "warn" },
  "api": { "control_port": 0, "ws_port": 0, "telemetry_ws_port": 0 },
  "sources": { "files": [], "journal": { "enabled": false } },
  "telemetry": { "interval": "$interval", "slow_interval": "$slow_interval",
                 "services": { "interval": "$slow_interval" },
                 "containers": { "interval": "$slow_interval" } }
}
JSON
"$vigil" run --config "$work/vigil.json" 2>"$work/vigil.log" &
pid=$!
sleep 5
kill -0 "$pid" || { cat "$work/vigil.log" >&2; exit 1; }
echo "# $("$vigil" version 2>/dev/null | head -1), telemetry.interval $interval, slow_interval $slow_interval"
"$tool" --pid "$pid" "$seconds"
