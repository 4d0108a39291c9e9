#!/usr/bin/env bash
# Memory and load figures for issue 9 (bounded in count and time): starts `clipsearch serve` on a loopback port
# with MODEL, then
#   match:    8 concurrent POST /api/match, each with four copies of a 10000×10000 PNG (~300 KB, 100 megapixels:
#             the limit) and one text, sampling the server's VmRSS/VmHWM (/proc/PID/status) every 100 ms and
#             GET /health latency every 200 ms during the run and for 30 s after;
#   classify: N POST /api/classify with L labels and a template of their own each (unique: nothing is reused),
#             the server's resident memory before, after and 30 s after.
#   bench/memory-load.sh [REPO] [MODEL_DIR]      (REPO: a checkout whose ./clipsearch to run; default this one)
# Environment: PHASES="match classify", CLASSIFY_REQUESTS=1000, CLASSIFY_LABELS=8, CLASSIFY_CLIENTS=2,
# MATCH_CLIENTS=8, IMAGES_PER_REQUEST=4, AFTER_SECONDS=30, MEMORY_LIMIT (e.g. 16G: runs the server in a cgroup v1
# memory group of that size, so that an unbounded server cannot take the machine), SERVE_ARGS (extra options).
# Output: a summary on stdout and the raw samples in bench/results/memory-load-*/.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
repo="$(cd "${1:-$here}" && pwd)"
model="${2:-/work/models/vit-b-32}"
phases="${PHASES:-match classify}"
match_clients="${MATCH_CLIENTS:-8}"; per_request="${IMAGES_PER_REQUEST:-4}"; after="${AFTER_SECONDS:-30}"
classify_requests="${CLASSIFY_REQUESTS:-1000}"; classify_labels="${CLASSIFY_LABELS:-8}"; classify_clients="${CLASSIFY_CLIENTS:-2}"
port=$((20000 + RANDOM % 20000)); url="http://127.0.0.1:$port"
out="$here/bench/results/memory-load-$(basename "$repo")-$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$out"; scratch="$(mktemp -d)"
cleanup() {
  [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null || true
  [ -n "${prober:-}" ] && kill "$prober" 2>/dev/null || true
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [ -n "${cgroup:-}" ] && rmdir "$cgroup" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# A 10000×10000 RGB PNG of one colour, written row by row (never decoded here).
python3 - "$scratch/big.png" <<'PY'
import struct, sys, zlib
w = h = 10000
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
row = b"\0" + bytes((200, 120, 40)) * w
z = zlib.compressobj(9)
idat = b"".join(z.compress(row) for _ in range(h)) + z.flush()
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
PY

{
  echo "repo=$repo ($(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "no git"))"
  echo "model=$model png=$(stat -c %s "$scratch/big.png") bytes cores=$(nproc) date=$(date -u +%FT%TZ)"
  echo "load: $(uptime)"
  top -bn1 | sed -n '7,12p'
} | tee "$out/machine.txt"

"$repo/clipsearch" --help >/dev/null   # builds first when needed, before anything is timed
mkdir -p "$scratch/home"
# shellcheck disable=SC2086
CLIPSEARCH_HOME="$scratch/home" "$repo/clipsearch" serve --model "$model" --urls "$url" ${SERVE_ARGS:-} >"$out/server.log" 2>&1 &
server=$!
if [ -n "${MEMORY_LIMIT:-}" ] && [ -d /sys/fs/cgroup/memory ]; then
  cgroup="/sys/fs/cgroup/memory/clipsearch-bench-$$"
  mkdir "$cgroup" && echo "$MEMORY_LIMIT" >"$cgroup/memory.limit_in_bytes" && echo "$server" >"$cgroup/cgroup.procs"
  echo "server in cgroup $cgroup, memory limit $MEMORY_LIMIT" | tee -a "$out/machine.txt"
fi
for _ in $(seq 1 180); do
  curl -fs "$url/health" 2>/dev/null | grep -q loaded && break
  sleep 1
done
curl -fs "$url/health" | grep -q loaded || { echo "the server did not load the model" >&2; cat "$out/server.log" >&2; exit 1; }

rss() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }
start_sampling() {   # $1: file prefix
  ( while kill -0 "$server" 2>/dev/null; do
      printf '%s %s\n' "$(date +%s.%N)" "$(awk '/^VmRSS/ {r = $2} /^VmHWM/ {h = $2} END {print r, h}' "/proc/$server/status" 2>/dev/null)"
      sleep 0.1
    done ) >"$out/$1-rss.txt" &
  sampler=$!
  ( while kill -0 "$server" 2>/dev/null; do
      printf '%s %s\n' "$(date +%s.%N)" "$(curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}' "$url/health")"
      sleep 0.2
    done ) >"$out/$1-health.txt" &
  prober=$!
}
stop_sampling() { kill "$sampler" "$prober" 2>/dev/null || true; wait "$sampler" "$prober" 2>/dev/null || true; sampler=; prober=; }
# Summary of a window [from, to] of the samples: resident memory (max, last) and /health latency.
window() {   # $1 prefix, $2 from, $3 to, $4 label
  python3 - "$out/$1-rss.txt" "$out/$1-health.txt" "$2" "$3" "$4" <<'PY'
import sys
rss_file, health_file, a, b, label = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
rows = [l.split() for l in open(rss_file)]
rows = [r for r in rows if len(r) >= 3 and a <= float(r[0]) <= b]
if rows:
    print(f"{label}: resident max {max(int(r[1]) for r in rows) / 1024:.0f} MB, last {int(rows[-1][1]) / 1024:.0f} MB (VmHWM {int(rows[-1][2]) / 1024:.0f} MB), {len(rows)} samples")
probes = [l.split() for l in open(health_file)]
probes = [p for p in probes if len(p) >= 3 and a <= float(p[0]) <= b]
if probes:
    times = sorted(float(p[2]) * 1000 for p in probes)
    bad = sum(1 for p in probes if p[1] != "200")
    pick = lambda q: times[min(len(times) - 1, int(len(times) * q))]
    print(f"  /health: {len(times)} probes, p50 {pick(0.5):.0f} ms, p99 {pick(0.99):.0f} ms, max {times[-1]:.0f} ms, {bad} not 200")
PY
}

if [[ " $phases " == *" match "* ]]; then
  echo "idle: resident $(( $(rss) / 1024 )) MB"
  start_sampling match
  sleep 2
  t0=$(date +%s.%N)
  files=(); for _ in $(seq 1 "$per_request"); do files+=(-F "images=@$scratch/big.png;type=image/png"); done
  clients=()
  for i in $(seq 1 "$match_clients"); do
    curl -s -o "$out/match-$i.json" --max-time 600 -w "%{http_code} %{time_total}\n" "${files[@]}" -F "texts=an orange wall" "$url/api/match" >"$out/match-$i.status" &
    clients+=($!)
  done
  wait "${clients[@]}" || true
  t1=$(date +%s.%N)
  sleep "$after"
  t2=$(date +%s.%N)
  stop_sampling
  echo "match: $match_clients concurrent × $per_request × 10000×10000 PNG: $(cat "$out"/match-*.status | awk '{n++; if ($1 == 200) ok++; if ($2 > m) m = $2} END {printf "%d/%d answered 200, slowest %.1f s", ok, n, m}')"
  window match 0 "$t0" "  before (2 s idle)"
  window match "$t0" "$t1" "  during"
  window match "$t1" "$t2" "  $after s after"
fi

if [[ " $phases " == *" classify "* ]]; then
  before=$(rss)
  labels=$(for j in $(seq 1 "$classify_labels"); do printf 'object kind %d\n' "$j"; done)
  cp "$repo/../shared/fixtures/images/horse.png" "$scratch/horse.png" 2>/dev/null || cp "$here/../shared/fixtures/images/horse.png" "$scratch/horse.png"
  export url scratch labels
  start_sampling classify
  t0=$(date +%s.%N)
  seq 1 "$classify_requests" | xargs -P "$classify_clients" -I@@ sh -c \
    'curl -s -o /dev/null --max-time 120 -w "%{http_code}\n" -F "image=@$scratch/horse.png;type=image/png" -F "labels=$labels" -F "templates=request @@ asks: a photo of a {}." "$url/api/classify"' \
    >"$out/classify-status.txt"
  t1=$(date +%s.%N)
  sleep "$after"
  stop_sampling
  echo "classify: $classify_requests requests × $classify_labels labels, a template of their own each: $(awk '$1 == 200 {ok++} END {print ok + 0}' "$out/classify-status.txt") answered 200 in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", b - a}') s"
  echo "  resident before $(( before / 1024 )) MB, after $(awk -v b="$t1" '$1 <= b {last = $2} END {printf "%.0f", last / 1024}' "$out/classify-rss.txt") MB, $after s after $(( $(rss) / 1024 )) MB"
  curl -fs "$url/api/model" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("  /api/model: workingSet %d MB, managed heap %d MB" % (d["workingSetBytes"] >> 20, d["managedHeapBytes"] >> 20))' || true
fi
echo "raw samples: $out"
