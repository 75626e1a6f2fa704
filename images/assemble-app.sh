#!/usr/bin/env bash
# usage: images/assemble-app.sh SRC DEST
#
# Builds the agent from the source tree SRC (a copy: it gets node_modules and
# dist) and copies what runs in production into DEST, which becomes
# /opt/farm-agent in the image. The Containerfile's build stage and
# build-offline.sh both run this script, so the two images get the same app
# layout byte for byte.
set -euo pipefail

src="$(cd "$1" && pwd)"
mkdir -p "$2"
dest="$(cd "$2" && pwd)"

cd "$src"
# Dev dependencies (TypeScript, vitest with its native rolldown binding) are
# installed for the build platform only and pruned below, so the build runs
# natively even when the image is for another arch.
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
npm prune --omit=dev --no-audit --no-fund --loglevel=error

# The image is assembled on x86 for arm too, so a compiled Node addon built
# here would be the wrong arch. The runtime dependencies are pure JS today;
# fail loudly if one ever brings an addon. (tar-fs's bare-* packages ship
# *.bare prebuilds for the Bare runtime only, which Node never loads.)
addons="$(find node_modules -name '*.node' -o -name binding.gyp | head -20)"
if [ -n "$addons" ]; then
  printf 'error: native addons in the runtime dependencies; they need a per-arch build:\n%s\n' "$addons" >&2
  exit 1
fi

# The production layout: workspace symlinks in node_modules
# (@farm-agent/bot-config -> ../../bot-config) are relative and stay valid.
cp -a package.json package-lock.json node_modules "$dest/"
for ws in agent bot-config; do
  mkdir -p "$dest/$ws"
  cp -a "$ws/package.json" "$ws/dist" "$dest/$ws/"
done
# The agent runs its bundle (agent/bundle, built from agent/dist by npm run build); dist stays for
# bot-config's paths module, which the bundle imports from where the Python and sudo shims are.
cp -a agent/bin agent/bundle "$dest/agent/"
cp -a bot-config/python bot-config/shims "$dest/bot-config/"
# Build leftovers that are no use at run time.
find "$dest" \( -name '.tsbuildinfo' -o -name '__pycache__' \) -prune -exec rm -rf {} +
