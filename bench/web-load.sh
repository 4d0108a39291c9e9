#!/usr/bin/env bash
# Load figures for the web API: starts `clipsearch serve` on a loopback port with MODEL, runs POST /api/match
# (one 640×480 image, two texts) at 1 and 8 concurrent clients (the 8-client run twice, to show memory stays flat),
# each bounded in count and time, then stops the server.
#   bench/web-load.sh [MODEL_DIR] [REQUESTS_AT_1] [REQUESTS_AT_8] [SECONDS_PER_RUN]
# Defaults: ../shared/fixtures/tiny-clip, 500, 2000, 300. Results also go to bench/results/web-load-*.txt.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
model="${1:-$here/../shared/fixtures/tiny-clip}"
n1="${2:-500}"; n8="${3:-2000}"; seconds="${4:-300}"
image="$here/../shared/fixtures/images/gradient_640x480.png"
port=$((20000 + RANDOM % 20000))
url="http://127.0.0.1:$port"
mkdir -p "$here/bench/results"
out="$here/bench/results/web-load-$(basename "$model")-$(date -u +%Y%m%dT%H%M%S).txt"

dotnet build "$here/bench/ClipSearch.WebLoad" -c Release --nologo -v q -o "$here/artifacts/webload" >/dev/null
"$here/clipsearch" serve --model "$model" --urls "$url" >"$out.server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fs "$url/health" 2>/dev/null | grep -q loaded && break
  sleep 1
done
{
  echo "model=$model cpu_cores=$(nproc) date=$(date -u +%FT%TZ)"
  dotnet "$here/artifacts/webload/ClipSearch.WebLoad.dll" --url "$url" --image "$image" --clients 1 --requests "$n1" --seconds "$seconds" --memory-every "$n1"
  dotnet "$here/artifacts/webload/ClipSearch.WebLoad.dll" --url "$url" --image "$image" --clients 8 --requests "$n8" --seconds "$seconds" --memory-every 500
  echo "again (memory should stay flat):"
  dotnet "$here/artifacts/webload/ClipSearch.WebLoad.dll" --url "$url" --image "$image" --clients 8 --requests "$n8" --seconds "$seconds" --memory-every 500 --warmup 0
} | tee "$out"
