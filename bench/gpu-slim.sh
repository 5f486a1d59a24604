#!/bin/sh
# Writes .gpu/node_modules: the production dependencies only, Dawn for linux-x64 only, without source maps
# and type declarations, so that .gpu/ (with ../shared/gpu/prepare.sh's node and Vulkan loader) and dist/
# fit the GPU machines' 64 MiB transfer limit. Run from the project root after `npm ci`.
# On the GPU machine: ln -sfn .gpu/node_modules node_modules (see bench/README.md).
set -e
[ -f package.json ] && [ -d node_modules ] || { echo "run from the project root after npm ci" >&2; exit 1; }
out=.gpu/node_modules
rm -rf "$out"
mkdir -p "$out"
npm ls --omit=dev --all --parseable 2>/dev/null | sed "s|^$PWD/||" | grep '^node_modules/' | sort -u | while read -r p; do
  mkdir -p ".gpu/$(dirname "$p")"
  [ -e ".gpu/$p" ] || cp -R "$p" ".gpu/$p"
done
for d in "$out"/webgpu/dist/*; do [ "$(basename "$d")" = linux-x64 ] || rm -rf "$d"; done
rm -rf "$out"/gpu.js/dist "$out"/@webgpu/types
find "$out" \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete
du -sh "$out" dist 2>/dev/null || true
