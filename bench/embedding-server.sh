#!/usr/bin/env bash
# Latency of one embedding through each protocol of the embedding server: starts `clipsearch serve` on a loopback
# port with MODEL (Immich's routes on), then, from one Node.js client with a kept-alive connection (Node's fetch
# and FormData: what Immich's server and the openai package use), times one text ("a photo of a cat") and one
# image (a 640×480 JPEG) through POST /api/embed (multipart), POST /v1/embeddings (JSON; the image as a data: URL)
# and POST /predict (Immich's multipart), RUNS times each after WARMUP, the protocols taking turns. Prints one JSON
# line of medians (and p90s) in milliseconds, measured at the client: the whole request, decoding included.
#   bench/embedding-server.sh [MODEL_DIR] [RUNS] [WARMUP]     (defaults: /work/models/vit-b-32, 20, 5)
# Environment: VARIANT (fp32), THREADS (one per core).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
model="${1:-/work/models/vit-b-32}"
runs="${2:-20}"; warmup="${3:-5}"
variant="${VARIANT:-fp32}"; threads="${THREADS:-$(nproc)}"
image="$here/../shared/fixtures/images/exif_orientation6.jpg"
port=$((20000 + RANDOM % 20000)); url="http://127.0.0.1:$port"
log="$(mktemp)"
"$here/clipsearch" serve --model "$model" --variant "$variant" --threads "$threads" --urls "$url" --immich >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 180); do
  curl -fs "$url/health" 2>/dev/null | grep -q '"loaded"' && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 1
done
URL="$url" IMAGE="$image" RUNS="$runs" WARMUP="$warmup" MODEL="$model" VARIANT="$variant" THREADS="$threads" node - <<'JS'
const fs = require('node:fs');
const { URL: base, IMAGE, RUNS, WARMUP, MODEL, VARIANT, THREADS } = process.env;
const jpeg = fs.readFileSync(IMAGE);
const text = 'a photo of a cat';
const post = async (path, body, headers = {}) => {
  const response = await fetch(base + path, { method: 'POST', body, headers });
  const answer = await response.text();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${answer}`);
  return answer;
};
const form = (fields) => { const f = new FormData(); for (const [k, v] of fields) f.append(k, v); return f; };
const entries = (type) => JSON.stringify({ clip: { [type]: { modelName: 'ViT-B-32__openai', ...(type === 'textual' ? { options: { language: 'en' } } : {}) } } });
(async () => {
  const model = JSON.parse(await (await fetch(`${base}/v1/models`)).text()).data[0].id;
  const json = (input, extra = {}) => [JSON.stringify({ model, input, encoding_format: 'float', ...extra }), { 'Content-Type': 'application/json' }];
  const dataUrl = `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  const cases = {
    api_embed_text: () => post('/api/embed', form([['texts', text]])),
    openai_text: () => post('/v1/embeddings', ...json(text)),
    immich_text: () => post('/predict', form([['entries', entries('textual')], ['text', text]])),
    api_embed_image: () => post('/api/embed', form([['images', new Blob([jpeg]), 'photo.jpg']])),
    openai_image: () => post('/v1/embeddings', ...json([dataUrl], { modality: 'image' })),
    immich_image: () => post('/predict', form([['entries', entries('visual')], ['image', new Blob([jpeg])]])),
  };
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let round = 0; round < +WARMUP + +RUNS; round++) {
    for (const [name, run] of Object.entries(cases)) {
      const start = process.hrtime.bigint();
      await run();
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (round >= +WARMUP) times[name].push(ms);
    }
  }
  const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); const i = (s.length - 1) * q; const lo = Math.floor(i); return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo); };
  const out = { date: new Date().toISOString(), model: MODEL, model_id: model, variant: VARIANT, threads: +THREADS, cores: require('node:os').cpus().length, runs: +RUNS, warmup: +WARMUP, image: '640x480 JPEG' };
  for (const [name, xs] of Object.entries(times)) {
    out[`${name}_ms`] = +quantile(xs, 0.5).toFixed(2);
    out[`${name}_p90_ms`] = +quantile(xs, 0.9).toFixed(2);
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
JS
