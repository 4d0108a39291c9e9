#!/usr/bin/env bash
# The library watcher of `clipsearch serve`, end to end: a library of SEED photos indexed with MODEL (default the
# tiny random-weight CLIP), a real server on a loopback port watching its folder (default debounce and settle, no
# periodic rescan), and a Node.js client that measures
#   add_s / remove_s    seconds from copying a photo into the folder (or deleting it) until POST /api/search
#                       lists it (no longer lists it), polled every 100 ms; ROUNDS rounds, median and worst
#   burst_*             BURST distinct photos copied in at once: seconds until all are indexed and the watcher is
#                       idle, the embeddings made (the server log's "Watching: …" lines added up, rescans after lost
#                       events included: each file embedded once means embedded = BURST, reused 0), the runs, and GET /health latency (p50, p99, max) polled
#                       every 50 ms during the burst
#   idle_cpu_s          the server's CPU time (utime + stime from /proc/PID/stat) over IDLE seconds with nothing changing,
#                       and idle_cpu_nowatch_s the same for the same server started with --no-watch
# Prints one JSON line.
#   bench/watch.sh [MODEL_DIR] [BURST] [ROUNDS] [IDLE]   (defaults: ../shared/fixtures/tiny-clip, 2000, 5, 60)
# Environment: CLIPSEARCH (the command, default ./clipsearch), SEED (photos indexed first, default 200).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
model="${1:-$here/../shared/fixtures/tiny-clip}"
burst="${2:-2000}"; rounds="${3:-5}"; idle="${4:-60}"; seed="${SEED:-200}"
cli="${CLIPSEARCH:-$here/clipsearch}"
work="$(mktemp -d)"; log="$work/server.log"
port=$((20000 + RANDOM % 20000)); url="http://127.0.0.1:$port"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/photos" "$work/staging"
# Distinct small BMPs (random pixels per seed), written by Node: SEED in the folder, BURST + ROUNDS staged outside it.
WORK="$work" SEED="$seed" BURST="$burst" ROUNDS="$rounds" node - <<'JS'
const fs = require('node:fs'); const path = require('node:path');
const { WORK, SEED, BURST, ROUNDS } = process.env;
let state = 12345;
const bmp = (size) => {
  const row = (size * 3 + 3) & ~3; const b = Buffer.alloc(54 + row * size);
  b.write('BM', 0); b.writeInt32LE(b.length, 2); b.writeInt32LE(54, 10); b.writeInt32LE(40, 14);
  b.writeInt32LE(size, 18); b.writeInt32LE(size, 22); b.writeInt16LE(1, 26); b.writeInt16LE(24, 28);
  for (let i = 54; i < b.length; i++) { state = (Math.imul(state, 1103515245) + 12345) >>> 0; b[i] = state >>> 24; }   // 32-bit LCG, exact
  return b;
};
for (let i = 0; i < +SEED; i++) fs.writeFileSync(path.join(WORK, 'photos', `seed-${i}.bmp`), bmp(64));
for (let i = 0; i < +BURST; i++) fs.writeFileSync(path.join(WORK, 'staging', `burst-${i}.bmp`), bmp(64));
for (let i = 0; i < +ROUNDS; i++) fs.writeFileSync(path.join(WORK, 'staging', `probe-${i}.bmp`), bmp(64));
JS
$cli index --model "$model" --library "$work/library.db" "$work/photos" >/dev/null 2>&1
$cli serve --model "$model" --library "$work/library.db" --urls "$url" --rescan-interval 0 >"$log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  curl -fs "$url/api/library" 2>/dev/null | grep -q '"status":"watching"' && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 1
done
line=$(URL="$url" WORK="$work" LOG="$log" PID="$server" BURST="$burst" ROUNDS="$rounds" IDLE="$idle" SEED="$seed" MODEL="$model" node - <<'JS'
const fs = require('node:fs'); const path = require('node:path');
const { URL: base, WORK, LOG, PID, BURST, ROUNDS, IDLE, SEED, MODEL } = process.env;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e9;
const library = async () => JSON.parse(await (await fetch(`${base}/api/library`)).text());
const names = async () => {   // every result of a search, page by page (200 a page, the API's most)
  const all = new Set();
  for (let offset = 0, total = 1; offset < total && offset < 100000; offset += 200) {
    const response = await fetch(`${base}/api/search`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'a photo', k: 200, offset }) });
    if (!response.ok) throw new Error(`search: ${response.status} ${await response.text()}`);
    const page = JSON.parse(await response.text());
    total = page.total;
    for (const r of page.results) all.add(r.fileName);
  }
  return all;
};
const until = async (condition, what, limit = 600) => {
  const start = now();
  while (!(await condition())) { if (now() - start > limit) throw new Error(`${what}: not within ${limit} s`); await sleep(100); }
  return now() - start;
};
const idleWatcher = async () => { const w = (await library()).watch; return w.status === 'watching' && w.pending === 0; };
const embeddedInLog = () => [...fs.readFileSync(LOG, 'utf8').matchAll(/Watching: (changes|rescan) \((\d+) paths\): (\d+) embedded, (\d+) recognised/g)]
  .reduce((a, m) => ({ runs: a.runs + 1, rescans: a.rescans + (m[1] === 'rescan' ? 1 : 0), embedded: a.embedded + +m[3], reused: a.reused + +m[4] }),
    { runs: 0, rescans: 0, embedded: 0, reused: 0 });
const cpu = () => { const f = fs.readFileSync(`/proc/${PID}/stat`, 'utf8').split(') ')[1].split(' '); return (+f[11] + +f[12]) / 100; };
const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]; };
(async () => {
  const photos = path.join(WORK, 'photos');
  const add = []; const remove = [];
  for (let i = 0; i < +ROUNDS; i++) {
    const name = `probe-${i}.bmp`;
    const start = now();
    fs.copyFileSync(path.join(WORK, 'staging', name), path.join(photos, name));
    await until(async () => (await names()).has(name), 'add');
    add.push(now() - start);
    await until(idleWatcher, 'idle');
    const gone = now();
    fs.unlinkSync(path.join(photos, name));
    await until(async () => !(await names()).has(name), 'remove');
    remove.push(now() - gone);
    await until(idleWatcher, 'idle');
  }
  const before = embeddedInLog();
  const health = []; let bursting = true;
  const poller = (async () => { while (bursting) { const s = now(); await (await fetch(`${base}/health`)).text(); health.push((now() - s) * 1000); await sleep(50); } })();
  const start = now();
  fs.mkdirSync(path.join(photos, 'burst'));
  for (let i = 0; i < +BURST; i++) fs.copyFileSync(path.join(WORK, 'staging', `burst-${i}.bmp`), path.join(photos, 'burst', `burst-${i}.bmp`));
  const copied = now() - start;
  await until(async () => (await library()).stats.indexed === +SEED + +BURST, 'burst', 1800);
  await until(idleWatcher, 'idle');
  const burstSeconds = now() - start;
  bursting = false; await poller;
  const after = embeddedInLog();
  const stats = (await library()).stats;
  await sleep(5000);
  const c0 = cpu(); await sleep(+IDLE * 1000); const c1 = cpu();
  const r = (x) => +x.toFixed(3);
  console.log(JSON.stringify({
    date: new Date().toISOString(), model: MODEL, cores: require('node:os').cpus().length, seed: +SEED, rounds: +ROUNDS,
    add_s_median: r(q(add, 0.5)), add_s_max: r(Math.max(...add)), remove_s_median: r(q(remove, 0.5)), remove_s_max: r(Math.max(...remove)),
    burst: +BURST, burst_copy_s: r(copied), burst_indexed_s: r(burstSeconds), burst_embedded: after.embedded - before.embedded,
    burst_reused: after.reused - before.reused, burst_runs: after.runs - before.runs, burst_rescans: after.rescans - before.rescans, contents_after: stats.contents, indexed_after: stats.indexed,
    health_requests: health.length, health_p50_ms: r(q(health, 0.5)), health_p99_ms: r(q(health, 0.99)), health_max_ms: r(Math.max(...health)),
    idle_s: +IDLE, idle_cpu_s: r(c1 - c0),
  }));
})().catch((e) => { console.error(e); process.exit(1); });
JS
)
# The same server with --no-watch, idle as long: what the watcher itself adds to idle CPU.
kill "$server"; wait "$server" 2>/dev/null || true
$cli serve --model "$model" --library "$work/library.db" --urls "$url" --no-watch >"$log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  curl -fs "$url/health" 2>/dev/null | grep -q '"loaded"' && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 1
done
sleep 5
ticks() { awk '{ sub(/^.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$server/stat"; }
t0=$(ticks); sleep "$idle"; t1=$(ticks)
echo "$line" | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { const o = JSON.parse(s); o.idle_cpu_nowatch_s = +process.argv[1]; console.log(JSON.stringify(o)); });' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 100 }')"
