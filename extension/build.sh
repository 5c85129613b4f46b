#!/usr/bin/env bash
# Builds the Chrome extension: the Rust logic to wasm (release), wasm-bindgen's JS glue, the
# static files and icons into dist/unpacked/ (load it unpacked), and a zip for the Chrome Web
# Store in dist/. No wasm-pack, no bundler. Needs the wasm32-unknown-unknown target,
# wasm-bindgen-cli 0.2.130 (scripts/test installs both when missing) and npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
dist="$here/dist"
out="$dist/unpacked"

command -v npm >/dev/null || { echo "extension/build.sh needs npm (Node.js 18 or later)" >&2; exit 1; }

# A target folder of its own: the size settings below would otherwise rebuild the host
# artifacts other workspace builds share, and the wasm build need not wait for their lock.
export CARGO_TARGET_DIR="$root/target/extension"
# Small over fast: the whole extension should stay under 500 KB.
export CARGO_PROFILE_RELEASE_OPT_LEVEL=z
export CARGO_PROFILE_RELEASE_LTO=true
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_DEBUG=false

cargo build --locked --release --target wasm32-unknown-unknown -p beckon-extension \
  --manifest-path "$root/Cargo.toml"

rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$out/pkg" "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/beckon_extension.wasm"

# Smaller: wasm-opt -Oz (npm's binaryen: Debian's predates the wasm features Rust emits) and
# the JavaScript minified by esbuild. Both from extension/package.json, pinned.
# Installed again whenever the lock file changed since the last install.
if [ ! -x "$here/node_modules/.bin/wasm-opt" ] || [ ! -x "$here/node_modules/.bin/esbuild" ] \
  || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi
wasm="$out/pkg/beckon_extension_bg.wasm"
before_opt=$(stat -c %s "$wasm")
"$here/node_modules/.bin/wasm-opt" -Oz --strip-debug --strip-producers "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"
cp -R "$here/static/." "$out/"
# Minified, not bundled or obfuscated: each file stays the module it is in static/.
for script in "$out/pkg/beckon_extension.js" "$out"/*.js; do
  "$here/node_modules/.bin/esbuild" "$script" --minify --log-level=warning --outfile="$script.min"
  mv "$script.min" "$script"
done

version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$here/static/manifest.json" | head -n 1)
zip_file="$dist/beckon-extension-$version.zip"
rm -f "$zip_file"
python3 - "$out" "$zip_file" <<'PY'
import os, sys, zipfile
src, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
    for folder, _, files in sorted(os.walk(src)):
        for name in sorted(files):
            path = os.path.join(folder, name)
            z.write(path, os.path.relpath(path, src))
PY

wasm_bytes=$(stat -c %s "$out/pkg/beckon_extension_bg.wasm")
total_bytes=$(du -cb $(find "$out" -type f) | tail -n 1 | cut -f 1)
echo "extension built: $out"
echo "  wasm: $before_opt bytes after wasm-bindgen, $wasm_bytes after wasm-opt -Oz; whole unpacked extension: $total_bytes bytes (goal: under 500,000)"
echo "  Chrome Web Store zip: $zip_file ($(stat -c %s "$zip_file") bytes)"
