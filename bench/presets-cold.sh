#!/usr/bin/env bash
# The first POST /api/classify with a preset on a fresh server with an empty cache, per preset: starts
# `clipsearch serve` with MODEL on a loopback port and an empty CLIPSEARCH_HOME, classifies one image with the
# preset once (its prompts go through the text encoder), stops the server; one JSON line per preset.
#   bench/presets-cold.sh [MODEL_DIR] [THREADS] [PRESET[:all]]...
# Defaults: ../shared/models/vit-b-32 (/work/models/vit-b-32 here), 2 threads, every preset with its default
# templates. PRESET:all uses all its templates (imagenet:all embeds 79,840 prompts: about 11 minutes here).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
model="${1:-/work/models/vit-b-32}"; threads="${2:-2}"; shift 2 || shift $#
presets=("$@")
[ "${#presets[@]}" -gt 0 ] || presets=(eurosat oxford-pets food101 flowers102 cifar10 textures cifar100 stanford-cars imagenet)
image="$here/../shared/fixtures/images/horse.png"
"$here/clipsearch" --help >/dev/null   # builds it when stale, outside the timing
for entry in "${presets[@]}"; do
  preset="${entry%%:*}"; set_name=default; [ "$entry" != "$preset" ] && set_name="${entry#*:}"
  home="$(mktemp -d)"; port=$((20000 + RANDOM % 20000)); url="http://127.0.0.1:$port"
  CLIPSEARCH_HOME="$home" "$here/clipsearch" serve --model "$model" --threads "$threads" --urls "$url" >"$home/server.log" 2>&1 &
  server=$!
  trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
  for _ in $(seq 1 120); do curl -fs "$url/health" 2>/dev/null | grep -q loaded && break; sleep 0.5; done
  load="$(cut -d' ' -f1 /proc/loadavg)"
  start=$(date +%s.%N)
  body="$(curl -fsS -F image=@"$image" -F preset="$preset" -F templateSet="$set_name" -F k=1 "$url/api/classify")"
  end=$(date +%s.%N)
  kill "$server"; wait "$server" 2>/dev/null || true; trap - EXIT
  python3 - "$preset" "$set_name" "$start" "$end" "$load" "$threads" "$body" <<'PY'
import json, sys, datetime
preset, set_name, start, end, load, threads, body = sys.argv[1:]
r = json.loads(body); s = float(end) - float(start)
prompts = r["labelCount"] * r["templateCount"]
print(json.dumps({"bench": "preset-cold", "date": datetime.date.today().isoformat(), "load_average": float(load),
  "threads": int(threads), "preset": preset, "template_set": set_name, "classes": r["labelCount"], "templates": r["templateCount"],
  "prompts": prompts, "label_embeddings": r["labelEmbeddings"], "wall_s": round(s, 2), "server_ms": r["milliseconds"],
  "prompts_per_s": round(prompts / (r["milliseconds"] / 1000), 1)}))
PY
  rm -rf "$home"
done
