#!/usr/bin/env bash
# Issue 2's comparison in one run on this machine: ONNX Runtime alone (the bound), the transformers.js peer, and
# ClipSearch end to end, on the full-size random-weight ViT-B/32 and the 200-JPEG bench corpus. Prints one JSON line.
#   bench/compare.sh [--variant fp32|quantized] [--threads 2]
# Generated files (npm tools, 740 MB model, corpus) go to $CLIPSEARCH_BENCH_DIR (default ~/.cache/clipsearch-bench).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tools="$repo/../shared/tools"
work="${CLIPSEARCH_BENCH_DIR:-$HOME/.cache/clipsearch-bench}"
variant=fp32; threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
quantized=(); [ "$variant" = quantized ] && quantized=(--quantized)
mkdir -p "$work/npm"
if [ ! -d "$work/npm/node_modules/@huggingface/transformers" ]; then
  echo "installing the peer tools (npm: sharp onnxruntime-node @huggingface/transformers)…" >&2
  (cd "$work/npm" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --silent sharp onnxruntime-node @huggingface/transformers >&2)
fi
[ -f "$work/vitb32/onnx/vision_model.onnx" ] || (cd "$work/npm" && node "$tools/make-random-vit-b-32.mjs" "$work/vitb32" >&2)
[ -d "$work/corpus" ] && [ "$(ls "$work/corpus" | wc -l)" -ge 200 ] || (cd "$work/npm" && node "$tools/make-bench-images.mjs" "$work/corpus" 200 >&2)
dotnet build "$repo/bench/ClipSearch.Bench" -c Release --nologo -v q >&2
bench="$repo/bench/ClipSearch.Bench/bin/Release/net10.0/linux-x64/ClipSearch.Bench.dll"

echo "bound (onnxruntime-node alone)…" >&2
bound=$(cd "$work/npm" && node "$tools/ort-raw-bench.mjs" "$work/vitb32" --threads "$threads" "${quantized[@]}" | tail -1)
echo "peer (transformers.js)…" >&2
peer=$(cd "$work/npm" && node "$tools/peer-transformersjs.mjs" "$work/vitb32" "$work/corpus" --threads "$threads" "${quantized[@]}" | tail -1)
echo "clipsearch…" >&2
ours=$(dotnet "$bench" pipeline --model "$work/vitb32" --images "$work/corpus" --variant "$variant" --threads "$threads" | tail -1)
fast=$(dotnet "$bench" fastpath --images "$work/corpus" | tail -1)

node -e '
const [bound, peer, ours, fast] = process.argv.slice(1).map(JSON.parse);
const r = (x) => +x.toFixed(2);
console.log(JSON.stringify({
  machine: `${require("os").cpus().length} cores`, variant: ours.variant,
  clipsearch_images_per_s: ours.images_per_s, bound_images_per_s: bound.vision_images_per_s,
  transformersjs_images_per_s: peer.images_per_s,
  e2e_vs_bound: r(ours.images_per_s / bound.vision_images_per_s), e2e_vs_transformersjs: r(ours.images_per_s / peer.images_per_s),
  clipsearch_text_query_ms: ours.text_query_ms_p50, bound_text_len7_ms: bound.text_query_len7_ms,
  transformersjs_text_query_ms: peer.text_query_ms_p50, text_vs_bound: r(ours.text_query_ms_p50 / bound.text_query_len7_ms),
  clipsearch_model_load_s: ours.model_load_s, transformersjs_model_load_s: peer.model_load_s,
  fast_path_mean_abs_diff_levels: fast.mean_abs_diff_levels, fast_path_worst_image_mean_abs_diff_levels: fast.max_image_mean_abs_diff_levels,
  fast_path_max_pixel_diff_levels: fast.max_pixel_diff_levels }));
' "$bound" "$peer" "$ours" "$fast"
