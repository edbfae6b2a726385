#!/usr/bin/env bash
# End-to-end pipeline benchmark, side by side in one run against one private RabbitMQ:
#   1. broker ceiling        bench_amqp_ceiling (raw rabbitmq-c, 1 KiB persistent, no confirms)
#   2. vigil end to end      1M x 120-byte lines at 10% / 1% / 0.1% errors, --from-beginning,
#                            wall time until every error message is in the queue, vigil CPU-s
#   3. syslog-ng             file() -> keyword filter -> amqp(), same file, same measurement
#   4. flat cost             vigil with 1/100/500 files appended at RATE lines/s each (no broker);
#                            idle: 100 quiet files, and no files at all
# Every figure is the median of --runs runs (min..max shown as the spread).
#
#   bench/pipeline/run_pipeline_bench.sh [--build DIR] [--runs N] [--lines N]
#       [--only e2e|flat|idle]... [--no-syslog-ng] [--flat-seconds S] [--idle-seconds S]
#       [--idle-runs N] [--rate R]
#
# Needs: a Release build (default build/h-bench: vigil, bench_amqp_ceiling, bench_pipeline_tool),
# rabbitmq-server, and for part 3 syslog-ng-core + syslog-ng-mod-amqp. Everything runs as a child
# of this script on 127.0.0.1 under one temporary directory that is removed at the end.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$src/build/h-bench
runs=3
lines=1000000
rate=200
flat_seconds=20
idle_seconds=60
idle_runs=3
with_syslog_ng=1
only=()
while (($#)); do
  case $1 in
  --build) build=$(cd "$2" && pwd); shift 2 ;;
  --runs) runs=$2; shift 2 ;;
  --lines) lines=$2; shift 2 ;;
  --rate) rate=$2; shift 2 ;;
  --flat-seconds) flat_seconds=$2; shift 2 ;;
  --idle-seconds) idle_seconds=$2; shift 2 ;;
  --idle-runs) idle_runs=$2; shift 2 ;;
  --no-syslog-ng) with_syslog_ng=0; shift ;;
  --only) only+=("$2"); shift 2 ;;
  -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
  *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
want() { ((${#only[@]} == 0)) && return 0; local x; for x in "${only[@]}"; do [[ $x == "$1" ]] && return 0; done; return 1; }

vigil=$build/runtime/vigil
tool=$build/bench/pipeline/bench_pipeline_tool
ceiling=$build/bench/delivery/bench_amqp_ceiling
for b in "$vigil" "$tool" "$ceiling"; do
  [[ -x $b ]] || { echo "missing $b (build the Release tree first)" >&2; exit 1; }
done
if ((with_syslog_ng)) && ! command -v syslog-ng >/dev/null; then
  echo "syslog-ng not installed: apt-get install -y syslog-ng-core syslog-ng-mod-amqp" >&2
  with_syslog_ng=0
fi

work=$(mktemp -d /tmp/vigil-pipeline-XXXXXX)
chmod 755 "$work" # the broker runs as the rabbitmq user and must reach its directory
children=()
broker_started=0
cleanup() {
  local p
  for p in "${children[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${children[@]}"; do wait "$p" 2>/dev/null || true; done
  ((broker_started)) && "$src/scripts/test-broker" stop "$work/broker" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- small helpers -----------------------------------------------------------------------------
# stats: reads numbers, prints "median min max" (median of an even count = mean of the middle two)
stats() { sort -g | awk '{v[NR]=$1} END{if(NR==0){print "n/a n/a n/a";exit}
  m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%s %s %s\n", m, v[1], v[NR]}'; }
fmt() { awk -v m="$1" -v lo="$2" -v hi="$3" -v d="${4:-0}" 'BEGIN{
  if (m=="n/a") {print "n/a"; exit}
  printf "%." d "f (%." d "f..%." d "f)", m, lo, hi}'; }
proc_field() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
now_ns() { date +%s%N; }
vigil_args=(--secrets-file "" --control-port 0 --ws-port 0 --telemetry-ws-port 0)
stop_pid() { # TERM, wait up to 30 s, then KILL (only our own child)
  local p=$1 i
  kill -TERM "$p" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  local c=() x
  for x in "${children[@]}"; do [[ $x == "$p" ]] || c+=("$x"); done
  children=("${c[@]+"${c[@]}"}")
}

echo "# vigil pipeline benchmark — $(date -u +%FT%TZ)"
echo "# machine: $(nproc) cores, $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)," \
  "$(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# vigil: $vigil ($("$vigil" version 2>/dev/null | head -1))"
echo "# runs per figure: $runs; work dir $work"

# --- broker --------------------------------------------------------------------------------------
url=""
if want e2e; then
  out=$("$src/scripts/test-broker" start "$work/broker")
  broker_started=1
  url=$(sed -n 's/^VIGIL_TEST_AMQP_URL=//p' <<<"$out")
  port=$(cat "$work/broker/port")
  echo "# broker: private RabbitMQ $(dpkg-query -W -f '${Version}' rabbitmq-server 2>/dev/null) on 127.0.0.1:$port"
fi

declare -A R # results: key -> "median min max"

# --- 1. broker ceiling ---------------------------------------------------------------------------
if want e2e; then
  echo
  echo "## 1. broker ceiling (bench_amqp_ceiling 20000 msgs x $runs runs)"
  VIGIL_TEST_AMQP_URL=$url "$ceiling" 20000 "$runs" | tee "$work/ceiling.out"
  R[ceiling]=$(sed -n 's/^run [0-9]*: \([0-9.]*\) msgs\/s/\1/p' "$work/ceiling.out" | stats)
fi

# --- 2 + 3. end to end ---------------------------------------------------------------------------
queue=bench-q
run_vigil_e2e() { # $1 input dir, $2 expected errors, $3 tag -> "seconds cpu rss_kb threads"
  local in=$1 n=$2 tag=$3 state=$work/state-$3 cfg=$work/vigil-e2e.json
  echo '{"rabbitmq": {"queue": "'$queue'"}, "log": {"level": "warn"}}' >"$cfg"
  "$tool" delete "$url" "$queue" >/dev/null 2>&1 || true
  "$tool" declare "$url" "$queue"
  rm -rf "$state"
  local t0 p res rss thr
  t0=$(now_ns)
  "$vigil" run --config "$cfg" "${vigil_args[@]}" --state-dir "$state" \
    --log-file "$in/*.log" --from-beginning --rabbitmq-url "$url" >"$work/vigil-$tag.out" 2>&1 &
  p=$!
  children+=("$p")
  res=$("$tool" wait "$url" "$queue" "$n" "$t0" 600 "$p" || true)
  rss=$(proc_field "$p" VmHWM)
  thr=$(proc_field "$p" Threads)
  stop_pid "$p"
  rm -rf "$state"
  set -- $res
  if [[ ${1:-} != ok ]]; then
    echo "   vigil $tag: TIMEOUT ($res); log:" >&2
    tail -5 "$work/vigil-$tag.out" >&2
    return 1
  fi
  echo "$2 $3 $rss $thr"
}

write_syslog_ng_conf() { # $1 input file, $2 config path
  cat >"$2" <<EOF
@version: 3.38
# Equivalent of vigil's pipeline: read the file from its beginning, keep lines with one of vigil's
# default keywords (whole word, any case), publish persistent JSON to the same queue through the
# default exchange, headers off, flow control on (the source waits for the destination).
options { stats-freq(0); };
source s_in { file("$1" flags(no-parse)); };
filter f_err { message('\\b(emerg|alert|critical|error|fail|failed|panic|fatal)\\b' flags(ignore-case)); };
destination d_amqp {
  amqp(host("127.0.0.1") port($port) vhost("/") username("guest") password("guest")
       exchange("") exchange-declare(no) routing-key("$queue") persistent(yes)
       value-pairs(scope(none))
       body("\$(format-json timestamp=\$ISODATE system_ip=192.0.2.2 log_path=\$FILE_NAME application=system log_line=\$MESSAGE severity=error id=\$(uuid) node_id=8f4579e6-dd2e-4978-9eb1-2d06331fac13 hostname=\$HOST)"));
};
log { source(s_in); filter(f_err); destination(d_amqp); flags(flow-control); };
EOF
}

run_syslog_ng_e2e() { # $1 input file, $2 expected errors, $3 tag -> "seconds cpu rss_kb threads"
  local file=$1 n=$2 tag=$3 d=$work/sng-$3
  rm -rf "$d"
  mkdir -p "$d"
  write_syslog_ng_conf "$file" "$d/syslog-ng.conf"
  "$tool" delete "$url" "$queue" >/dev/null 2>&1 || true
  "$tool" declare "$url" "$queue"
  local t0 p res rss thr
  t0=$(now_ns)
  syslog-ng -F --no-caps -f "$d/syslog-ng.conf" -R "$d/persist" -p "$d/pid" -c "$d/ctl" \
    >"$d/out" 2>&1 &
  p=$!
  children+=("$p")
  res=$("$tool" wait "$url" "$queue" "$n" "$t0" 900 "$p" || true)
  rss=$(proc_field "$p" VmHWM)
  thr=$(proc_field "$p" Threads)
  stop_pid "$p"
  set -- $res
  if [[ ${1:-} != ok ]]; then
    echo "   syslog-ng $tag: TIMEOUT ($res); output:" >&2
    tail -5 "$d/out" >&2
    rm -rf "$d"
    return 1
  fi
  rm -rf "$d"
  echo "$2 $3 $rss $thr"
}

ratios=(0.10 0.01 0.001)
declare -A errors
if want e2e; then
  echo
  echo "## 2+3. end to end: $lines x 120-byte lines, until every error message is in the queue"
  for r in "${ratios[@]}"; do
    mkdir -p "$work/in-$r"
    errors[$r]=$("$tool" gen "$work/in-$r/app.log" "$lines" "$r")
    cat "$work/in-$r/app.log" >/dev/null # warm page cache for both contenders
    echo "# input $r: ${errors[$r]} error lines of $lines"
  done
  for r in "${ratios[@]}"; do
    : >"$work/v-$r" >"$work/s-$r"
    for ((i = 1; i <= runs; i++)); do
      # alternate who goes first so machine noise spreads evenly
      order=(vigil syslog-ng)
      ((i % 2 == 0)) && order=(syslog-ng vigil)
      for who in "${order[@]}"; do
        if [[ $who == vigil ]]; then
          if res=$(run_vigil_e2e "$work/in-$r" "${errors[$r]}" "$r-$i"); then
            echo "$res" >>"$work/v-$r"
            set -- $res
            echo "   $r run $i vigil:     ${1}s wall, ${2} CPU-s, peak RSS $(($3 / 1024)) MB, $4 threads"
          fi
        elif ((with_syslog_ng)); then
          if res=$(run_syslog_ng_e2e "$work/in-$r/app.log" "${errors[$r]}" "$r-$i"); then
            echo "$res" >>"$work/s-$r"
            set -- $res
            echo "   $r run $i syslog-ng: ${1}s wall, ${2} CPU-s, peak RSS $(($3 / 1024)) MB, $4 threads"
          fi
        fi
      done
    done
    for who in v s; do
      f=$work/$who-$r
      R[$who-$r-wall]=$(awk '{print $1}' "$f" | stats)
      R[$who-$r-cpu]=$(awk -v l="$lines" '{print $2/(l/1e6)}' "$f" | stats)
      R[$who-$r-lps]=$(awk -v l="$lines" '{print l/$1}' "$f" | stats)
      R[$who-$r-mps]=$(awk -v n="${errors[$r]}" '{print n/$1}' "$f" | stats)
      R[$who-$r-rss]=$(awk '{print $3/1024}' "$f" | stats)
    done
  done
fi

# --- 4. flat cost --------------------------------------------------------------------------------
# sample PID for S seconds: prints "cpu_percent max_threads max_rss_mb end_rss_mb"
sample() {
  local p=$1 s=$2 c0 c1 t0 t1 thr=0 rss=0 x i
  c0=$("$tool" cpu "$p")
  t0=$(now_ns)
  for ((i = 0; i < s; i++)); do
    sleep 1
    x=$(proc_field "$p" Threads); ((x > thr)) && thr=$x
    x=$(proc_field "$p" VmRSS); ((x > rss)) && rss=$x
  done
  c1=$("$tool" cpu "$p")
  t1=$(now_ns)
  awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v thr="$thr" -v rss="$rss" \
    -v end="$(proc_field "$p" VmRSS)" \
    'BEGIN{printf "%.3f %d %.1f %.1f\n", 100*(c1-c0)/((t1-t0)/1e9), thr, rss/1024, end/1024}'
}

start_local_vigil() { # $1 tag, $2 config json, rest: extra args; sets vpid
  local tag=$1 cfg=$work/vigil-$1.json
  shift
  echo "$1" >"$cfg"
  shift
  rm -rf "$work/state-$tag"
  env -u VIGIL_RABBITMQ_URL "$vigil" run --config "$cfg" "${vigil_args[@]}" \
    --state-dir "$work/state-$tag" "$@" >"$work/vigil-$tag.out" 2>&1 &
  vpid=$!
  children+=("$vpid")
}

if want flat; then
  echo
  echo "## 4a. flat cost: N files x $rate lines/s (1% errors) for ${flat_seconds}s, no broker"
  for n in 1 100 500; do
    : >"$work/flat-$n"
    for ((i = 1; i <= runs; i++)); do
      d=$work/flat-$n-$i
      rm -rf "$d"
      mkdir -p "$d"
      for ((f = 0; f < n; f++)); do : >"$d/f$f.log"; done
      start_local_vigil "flat-$n-$i" '{"log": {"level": "warn"}}' --log-file "$d/*.log"
      p=$vpid
      sleep 3 # startup: discovery of N files, SQLite open
      "$tool" write "$d" "$n" "$rate" "$flat_seconds" 0.01 >"$d/written" &
      w=$!
      children+=("$w")
      res=$(sample "$p" "$flat_seconds")
      wait "$w" || true
      stop_pid "$w"
      stop_pid "$p"
      echo "$res" >>"$work/flat-$n"
      set -- $res
      echo "   $n files run $i: CPU $1 % of a core, $2 threads, RSS max $3 MB, $(cat "$d/written") lines written"
      rm -rf "$d" "$work/state-flat-$n-$i"
    done
    R[flat-$n-cpu]=$(awk '{print $1}' "$work/flat-$n" | stats)
    R[flat-$n-thr]=$(awk '{print $2}' "$work/flat-$n" | stats)
    R[flat-$n-rss]=$(awk '{print $3}' "$work/flat-$n" | stats)
  done
fi

if want idle; then
  echo
  echo "## 4b. idle: 100 quiet files, and no files, ${idle_seconds}s each (after 5 s settling), no broker"
  for kind in quiet100 nofiles; do
    : >"$work/idle-$kind"
    for ((i = 1; i <= idle_runs; i++)); do
      d=$work/idle-$kind-$i
      mkdir -p "$d"
      if [[ $kind == quiet100 ]]; then
        for ((f = 0; f < 100; f++)); do
          printf '2024-01-15T10:30:45Z web-01 app: info started\n' >"$d/f$f.log"
        done
        start_local_vigil "idle-$kind-$i" '{"log": {"level": "warn"}}' --log-file "$d/*.log"
      else
        start_local_vigil "idle-$kind-$i" '{"log": {"level": "warn"}, "sources": {"files": []}}'
      fi
      p=$vpid
      sleep 5
      res=$(sample "$p" "$idle_seconds")
      stop_pid "$p"
      echo "$res" >>"$work/idle-$kind"
      set -- $res
      echo "   $kind run $i: CPU $1 % of a core, $2 threads, RSS max $3 MB"
      rm -rf "$d" "$work/state-idle-$kind-$i"
    done
    R[idle-$kind-cpu]=$(awk '{print $1}' "$work/idle-$kind" | stats)
    R[idle-$kind-rss]=$(awk '{print $3}' "$work/idle-$kind" | stats)
    R[idle-$kind-thr]=$(awk '{print $2}' "$work/idle-$kind" | stats)
  done
fi

# --- summary -------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a=="n/a"||b=="n/a"||b==0) print "n/a"; else printf "%.2f", a/b }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN{ if (v=="n/a") {print "n/a"; exit}
  ok = (op=="ge") ? (v+0 >= t+0) : (v+0 <= t+0); print ok ? "PASS" : "FAIL" }'; }
m() { local s=${R[$1]:-n/a n/a n/a}; echo "${s%% *}"; }
f() { local s=${R[$1]:-n/a n/a n/a}; fmt $s "${2:-0}"; }

echo
echo "## summary (median (min..max) over $runs runs)"
if want e2e; then
  echo "broker ceiling (1 KiB, no confirms): $(f ceiling) msgs/s"
  printf '%-7s %-10s %-28s %-30s %-28s %-22s %s\n' errors who "wall s" "input lines/s" "delivered msgs/s" "CPU-s per M lines" "peak RSS MB"
  for r in "${ratios[@]}"; do
    for who in v s; do
      name=vigil
      [[ $who == s ]] && name=syslog-ng
      [[ $who == s ]] && ((!with_syslog_ng)) && continue
      printf '%-7s %-10s %-28s %-30s %-28s %-22s %s\n' "$r" "$name" "$(f $who-$r-wall 2)" \
        "$(f $who-$r-lps)" "$(f $who-$r-mps)" "$(f $who-$r-cpu 2)" "$(f $who-$r-rss 1)"
    done
  done
  echo
  echo "targets:"
  x=$(ratio "$(m v-0.10-mps)" "$(m ceiling)")
  echo "  10%: vigil delivered / broker ceiling = $x (target >= 0.90): $(verdict "$x" ge 0.90)"
  x=$(ratio "$(m v-0.10-cpu)" "$(m s-0.10-cpu)")
  echo "  10%: vigil CPU / syslog-ng CPU per M lines = $x (target <= 0.25): $(verdict "$x" le 0.25)"
  echo "  10%: vigil CPU-s per M lines = $(m v-0.10-cpu) (target <= 1.7): $(verdict "$(m v-0.10-cpu)" le 1.7)"
  x=$(ratio "$(m v-0.01-lps)" "$(m s-0.01-lps)")
  echo "  1%:  vigil / syslog-ng input lines/s = $x (target >= 3): $(verdict "$x" ge 3)"
  echo "  0.1%: vigil input lines/s = $(m v-0.001-lps) (target >= 1500000): $(verdict "$(m v-0.001-lps)" ge 1500000)"
fi
if want flat; then
  for n in 1 100 500; do
    echo "flat $n files x $rate lines/s: CPU $(f flat-$n-cpu 2) % of a core, threads $(f flat-$n-thr), RSS max $(f flat-$n-rss 1) MB"
  done
  echo "  threads 500 files == 1 file: $([[ $(m flat-500-thr) == "$(m flat-1-thr)" ]] && echo PASS || echo FAIL)"
  echo "  500 files RSS < 40 MB: $(verdict "$(m flat-500-rss)" le 40)"
fi
if want idle; then
  for kind in quiet100 nofiles; do
    echo "idle $kind: CPU $(f idle-$kind-cpu 3) % of a core, RSS max $(f idle-$kind-rss 1) MB, threads $(f idle-$kind-thr)"
  done
  echo "  100 quiet files CPU < 0.1 %: $(verdict "$(m idle-quiet100-cpu)" le 0.1)"
  echo "  idle (no files) CPU < 1 %: $(verdict "$(m idle-nofiles-cpu)" le 1)"
  echo "  idle RSS < 20 MB: quiet100 $(verdict "$(m idle-quiet100-rss)" le 20), no files $(verdict "$(m idle-nofiles-rss)" le 20)"
fi
