#!/usr/bin/env bash
# Issue 11's targets in one run: a 12-megapixel HEIC (and AVIF) decoded and cropped against a 12-megapixel JPEG of
# the same image, and the resident memory of one 50-megapixel HEIC and TIFF decode against what the decode budget
# charges for it, with the charge checked for every layout of each ImageMagick format. Prints one JSON line; progress
# goes to stderr.
#   bench/formats.sh [--runs 10] [--warmups 2]
# Generated files (~1 GB: sources, JPEG, HEIC, AVIF, TIFF, JPEG XL) go to $CLIPSEARCH_BENCH_DIR (default
# ~/.cache/clipsearch-bench)/formats. heif-enc (Debian's libheif-examples) and cjxl (libjxl-tools) are installed with
# apt when missing, as root or through sudo.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
fixtures="$repo/../shared/fixtures"
work="${CLIPSEARCH_BENCH_DIR:-$HOME/.cache/clipsearch-bench}/formats"
runs=10; warmups=2
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --warmups) warmups="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
say() { echo "formats: $*" >&2; }

# The encoders: Debian packages, installed here rather than by the tests' users.
missing=()
command -v heif-enc >/dev/null || missing+=(libheif-examples)
command -v cjxl >/dev/null || missing+=(libjxl-tools)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    say "needs ${missing[*]} (heif-enc, cjxl) and cannot install them: not root and no password-less sudo." \
        "Install them (apt-get install ${missing[*]}) and run this again."
    exit 1
  fi
  say "installing ${missing[*]} with apt…"
  "${sudo[@]}" apt-get install -y -q "${missing[@]}" >&2 || { "${sudo[@]}" apt-get update -q >&2 && "${sudo[@]}" apt-get install -y -q "${missing[@]}" >&2; } \
    || { say "apt-get could not install ${missing[*]}"; exit 1; }
fi

mkdir -p "$work"
dotnet build "$repo/bench/ClipSearch.Bench" -c Release --nologo -v q >&2
bench=(dotnet "$repo/bench/ClipSearch.Bench/bin/Release/net10.0/linux-x64/ClipSearch.Bench.dll")
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# Sources: a photo-like 4000×3000 (12 MP) and 8160×6120 (50 MP) image, each as PNG, JPEG (quality 90) and TIFF.
photo="$fixtures/images/coffee.png"
w="$work/photo-12mp"; W="$work/photo-50mp"
if [ ! -f "$w-10bit-444.avif" ]; then
  say "making the 12-megapixel sources…"
  "${bench[@]}" formats make --photo "$photo" --width 4000 --height 3000 --out "$w" --tiff --tiff-layouts --png16 --avif10 >/dev/null
fi
if [ ! -f "$W-16bit.png" ]; then
  say "making the 50-megapixel sources…"
  "${bench[@]}" formats make --photo "$photo" --width 8160 --height 6120 --out "$W" --tiff --png16 >/dev/null
fi

# heif-enc / cjxl once per file (quality 90 as the JPEG; x265's default preset for the timed HEIC, "fast" for the
# files only measured for memory, which the preset does not change).
encode() {  # OUTPUT COMMAND…
  local out="$1"; shift
  [ -s "$out" ] && return 0
  say "encoding $(basename "$out")…"
  "$@" >&2 || { rm -f "$out"; say "could not make $(basename "$out")"; exit 1; }
}
encode "$w.heic" heif-enc -q 90 -o "$w.heic" "$w.png"
encode "$w.avif" heif-enc -A -q 90 -o "$w.avif" "$w.png"
encode "$w-q50.heic" heif-enc -q 50 -o "$w-q50.heic" "$w.png"
encode "$w-444.heic" heif-enc -q 90 -p chroma=444 -p preset=fast -o "$w-444.heic" "$w.png"
encode "$w-10bit.heic" heif-enc -b 10 -q 90 -p preset=fast -o "$w-10bit.heic" "$w-16bit.png"
encode "$w-10bit-444.heic" heif-enc -b 10 -q 90 -p chroma=444 -p preset=fast -o "$w-10bit-444.heic" "$w-16bit.png"
encode "$w-444.avif" heif-enc -A -q 90 -p chroma=444 -o "$w-444.avif" "$w.png"
encode "$w.jxl" cjxl -q 90 "$w.png" "$w.jxl"
encode "$w-lossless.jxl" cjxl -d 0 -e 3 "$w.png" "$w-lossless.jxl"
encode "$w-16bit-lossless.jxl" cjxl -d 0 -e 3 "$w-16bit.png" "$w-16bit-lossless.jxl"
encode "$W.heic" heif-enc -q 90 -p preset=fast -o "$W.heic" "$W.png"
encode "$W-10bit-444.heic" heif-enc -b 10 -q 90 -p chroma=444 -p preset=fast -o "$W-10bit-444.heic" "$W-16bit.png"

say "timing ImageLoader.LoadCrop, fast and exact path, median of $runs after $warmups warm-ups…"
times=$("${bench[@]}" formats time --files "$w.jpg,$w.heic,$w-q50.heic,$w.avif,$w.tif" --runs "$runs" --warmups "$warmups" | tail -1)

# One decode per fresh process, after one of a small fixture of the same format.
fmt="$fixtures/formats/images"
memory() {  # FILE WARM
  say "memory of one crop of $(basename "$1")…"
  "${bench[@]}" formats memory --file "$1" --warm "$2" | tail -1
}
mem=()
for f in "$W.heic" "$W-10bit-444.heic" "$w.heic" "$w-444.heic" "$w-10bit.heic" "$w-10bit-444.heic"; do mem+=("$(memory "$f" "$fmt/chelsea.heic")"); done
for f in "$w.avif" "$w-444.avif" "$w-10bit.avif" "$w-10bit-444.avif"; do mem+=("$(memory "$f" "$fmt/coffee.avif")"); done
for f in "$W.tif" "$w.tif" "$w-onestrip.tif" "$w-rgba.tif" "$w-cmyk.tif"; do mem+=("$(memory "$f" "$fmt/astronaut.tif")"); done
mem+=("$(memory "$w-grey.tif" "$fmt/page.tif")")
for f in "$w.jxl" "$w-lossless.jxl" "$w-16bit-lossless.jxl"; do mem+=("$(memory "$f" "$fmt/horse_lossy.jxl")"); done
mem+=("$(memory "$W.jpg" "$fixtures/images/exif_orientation6.jpg")")

node -e '
const [times, loadStart, ...mem] = process.argv.slice(1);
const t = JSON.parse(times).files, m = Object.fromEntries(mem.map(JSON.parse).map((x) => [x.file, x]));
const r = (x) => +x.toFixed(2);
const jpeg = t["photo-12mp.jpg"], heic = t["photo-12mp.heic"], heic50 = t["photo-12mp-q50.heic"], avif = t["photo-12mp.avif"], tiff = t["photo-12mp.tif"];
const big = (name) => ({ peak_rss_mb: m[name].peak_rss_mb, growth_mb: m[name].growth_mb, charged_mb: m[name].charged_mb,
  under_1gb: m[name].peak_rss_mb < 1000, charge_covers_growth: m[name].charged_mb >= m[name].growth_mb });
const layouts = Object.fromEntries(Object.values(m).map((x) => [x.file.replace(/^photo-/, ""),
  { growth_b_per_px: x.growth_bytes_per_pixel, charged_b_per_px: x.charged_bytes_per_pixel }]));
console.log(JSON.stringify({
  machine: `${require("os").cpus().length} cores`, load_average_start: loadStart, load_average_end: require("fs").readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
  runs: JSON.parse(times).runs,
  jpeg_12mp_fast_ms: jpeg.fast_ms, jpeg_12mp_exact_ms: jpeg.exact_ms,
  heic_12mp_fast_ms: heic.fast_ms, heic_12mp_exact_ms: heic.exact_ms,
  avif_12mp_fast_ms: avif.fast_ms, avif_12mp_exact_ms: avif.exact_ms,
  tiff_12mp_fast_ms: tiff.fast_ms, tiff_12mp_exact_ms: tiff.exact_ms,
  cpu_ms_exact: { jpeg: jpeg.exact_cpu_ms, heic: heic.exact_cpu_ms, avif: avif.exact_cpu_ms, tiff: tiff.exact_cpu_ms },
  heic_vs_jpeg_fast: r(heic.fast_ms / jpeg.fast_ms), heic_vs_jpeg_exact: r(heic.exact_ms / jpeg.exact_ms),
  heic_q50_12mp_exact_ms: heic50.exact_ms, heic_q50_vs_jpeg_exact: r(heic50.exact_ms / jpeg.exact_ms),
  avif_vs_jpeg_fast: r(avif.fast_ms / jpeg.fast_ms), avif_vs_jpeg_exact: r(avif.exact_ms / jpeg.exact_ms),
  file_mb: { jpeg: r(jpeg.bytes / 1e6), heic: r(heic.bytes / 1e6), heic_q50: r(heic50.bytes / 1e6), avif: r(avif.bytes / 1e6), tiff: r(tiff.bytes / 1e6) },
  heic_50mp: big("photo-50mp.heic"), heic_50mp_10bit_444: big("photo-50mp-10bit-444.heic"), tiff_50mp: big("photo-50mp.tif"),
  jpeg_50mp: big("photo-50mp.jpg"), layouts }));
' "$times" "$load_start" "${mem[@]}"
