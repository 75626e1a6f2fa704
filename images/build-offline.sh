#!/usr/bin/env bash
# usage: images/build-offline.sh [--worktree] [--platforms linux/arm/v7,linux/arm64,linux/amd64]
#
# Builds the farm-agent image for every platform without a container
# registry: the base root filesystem comes from debootstrap (Debian's own
# mirror), Node from the npm packages that ship its official binaries, and the
# app is built once on this machine (its dependencies are pure JS). Each root
# filesystem is committed as a one-layer OCI image with buildah and the
# platforms are assembled into one OCI index:
#
#   images/out/farm-agent-oci/      OCI layout (tag: the version)
#   images/out/farm-agent-oci.tar   the same as an OCI archive, for `k3s ctr images import`
#
# The layout of the image is the production Containerfile's: both run
# images/assemble-app.sh and images/finish-rootfs.sh. The differences are the
# base (debootstrap minbase instead of node:*-slim, so no npm/yarn in the
# image) and one layer instead of several.
#
# The app is built from the committed HEAD (git archive), so the image is
# exactly a commit and half-edited files in the working tree cannot leak in;
# --worktree builds the working tree as it is instead.
#
# Needs root (debootstrap, chroot, binfmt_misc), Debian's package mirror and
# the npm registry; installs debootstrap, buildah, qemu-user-static and jq
# from Debian when missing. images/out/cache keeps the debootstrap roots and
# Node packages, so only the first run pays for them.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

platforms=("${PLATFORMS[@]}")
source_tree="head"
while [ $# -gt 0 ]; do
  case "$1" in
    --worktree)
      source_tree=worktree
      shift
      ;;
    --platforms)
      IFS=, read -r -a platforms <<<"${2:?--platforms needs a list}"
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

need_root
ensure_tools debootstrap:debootstrap buildah:buildah jq:jq curl:curl
command -v npm >/dev/null || die "npm (Node 20) is needed on the build machine to build the app"
ensure_binfmt

version="$(jq -r .version "$REPO_DIR/agent/package.json")"
revision="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ "$source_tree" = head ] || revision="$revision-worktree"
IMAGE_NAME="${IMAGE_NAME:-localhost/farm-agent}"
IMAGE_TAG="${IMAGE_TAG:-$version-$revision}"
CACHE_DIR="$OUT_DIR/cache"
APP_DIR="$OUT_DIR/app"
ROOTFS_DIR="$OUT_DIR/rootfs"
TIMINGS="$OUT_DIR/timings.tsv"
# Bump when the recipe of the cached roots changes, so stale caches are not reused.
ROOTFS_RECIPE=2

cleanup() { unmount_chroot; }
trap cleanup EXIT

# Refuses to delete a tree something is still mounted under: with /dev
# mounted inside a chroot, rm -rf would empty the host's /dev.
safe_rm() {
  local path
  for path in "$@"; do
    [ -e "$path" ] || continue
    if awk -v p="$(realpath "$path")/" '$2 ~ "^"p || $2"/" == p { found=1 } END { exit !found }' /proc/mounts; then
      die "$path still has mounts under it; unmount them first (grep $path /proc/mounts)"
    fi
    rm -rf "$path"
  done
}

# Stage timings, for the summary and the README's figures.
stage_start() {
  STAGE="$1"
  STAGE_T0=$(date +%s)
  log "== $STAGE"
}
stage_end() {
  local secs=$(($(date +%s) - STAGE_T0))
  printf '%s\t%s\n' "$STAGE" "$secs" >>"$TIMINGS"
  log "== $STAGE done in ${secs}s"
}

# Sets CACHED_ROOTFS to the cached root filesystem of a platform, building
# it first if needed: debootstrap minbase plus the runtime packages, apt lists
# removed. (Not a $(...) function: its chroot mounts must stay visible to the
# EXIT trap.)
cached_rootfs() {
  local platform="$1" arch key dir tmp packages
  arch="$(deb_arch "$platform")"
  read -r -a packages <<<"${RUNTIME_PACKAGES[*]} $(offline_extra_packages "$platform")"
  key="$(printf '%s\n' "$ROOTFS_RECIPE" "$DEBIAN_SUITE" "${RUNTIME_PACKAGES[@]}" | sha256sum | cut -c1-12)"
  # Extras change the key only of the arch that needs them.
  [ "${#packages[@]}" -eq "${#RUNTIME_PACKAGES[@]}" ] ||
    key="$(printf '%s\n' "$key" "${packages[@]}" | sha256sum | cut -c1-12)"
  dir="$CACHE_DIR/rootfs-$arch-$DEBIAN_SUITE-$key"
  if [ -f "$dir.complete" ]; then
    log "$platform: cached root filesystem $dir"
    CACHED_ROOTFS="$dir"
    return
  fi
  tmp="$dir.partial"
  safe_rm "$tmp"
  mkdir -p "$CACHE_DIR"
  log "$platform: debootstrap $DEBIAN_SUITE ($arch, minbase); a few minutes, once"
  # Foreign arches run debootstrap's second stage under qemu through binfmt.
  debootstrap --arch="$arch" --variant=minbase "$DEBIAN_SUITE" "$tmp" "$DEBIAN_MIRROR" >"$tmp.log" 2>&1 ||
    die "debootstrap failed for $arch; see $tmp.log"
  # Security and point-release updates too: this root is what runs on the Pis.
  rm -f "$tmp/etc/apt/sources.list"
  cat >"$tmp/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $DEBIAN_MIRROR
Suites: $DEBIAN_SUITE $DEBIAN_SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  cat >"$tmp/etc/apt/sources.list.d/debian-security.sources" <<SOURCES
Types: deb
URIs: ${DEBIAN_MIRROR%/debian}/debian-security
Suites: $DEBIAN_SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  # No init runs in a chroot; keep package scripts from trying to start daemons.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 0755 "$tmp/usr/sbin/policy-rc.d"
  mount_chroot "$tmp"
  if ! chroot "$tmp" apt-get update -qq >>"$tmp.log" 2>&1; then
    # Seen here: the security mirror serving an armhf index that does not
    # match its Release file. Build without security updates rather than not
    # at all, and say so; the sources stay in the image.
    log "WARNING: $arch: apt-get update failed with debian-security (see $tmp.log); building without security updates"
    mv "$tmp/etc/apt/sources.list.d/debian-security.sources" "$tmp.security-off"
    chroot "$tmp" apt-get update -qq >>"$tmp.log" 2>&1 || die "apt-get update failed in the $arch root; see $tmp.log"
    mv "$tmp.security-off" "$tmp/etc/apt/sources.list.d/debian-security.sources"
  fi
  log "$platform: apt-get install ${packages[*]}"
  chroot "$tmp" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c '
    apt-get upgrade -y -qq &&
    apt-get install -y -qq --no-install-recommends "$@" &&
    apt-get clean' sh "${packages[@]}" >>"$tmp.log" 2>&1 ||
    die "apt-get failed in the $arch root; see $tmp.log"
  unmount_chroot
  # What a container runtime provides itself, or what only the build needed.
  rm -rf "$tmp/var/lib/apt/lists/"* "$tmp/var/cache/apt/"*.bin "$tmp/var/log/"*.log \
    "$tmp/usr/sbin/policy-rc.d" "$tmp/etc/hostname"
  : >"$tmp/etc/resolv.conf"
  mv "$tmp" "$dir"
  mv "$tmp.log" "$dir.log"
  touch "$dir.complete"
  CACHED_ROOTFS="$dir"
}

# Prints the path of the official Node binary for a platform, from the npm
# package that ships it (cached).
node_binary() {
  local platform="$1" pkg dir version
  pkg="$(node_package "$platform")"
  version="$(offline_node_version "$platform")"
  dir="$CACHE_DIR/node/$pkg-$version"
  if [ ! -x "$dir/bin/node" ]; then
    mkdir -p "$CACHE_DIR/node"
    log "$platform: npm pack $pkg@$version"
    (cd "$CACHE_DIR/node" && npm pack --silent "$pkg@$version" >/dev/null) ||
      die "npm pack $pkg@$version failed (is the npm registry reachable? npm view $pkg versions)"
    rm -rf "$dir" && mkdir -p "$dir"
    tar -xzf "$CACHE_DIR/node/$pkg-$version.tgz" -C "$dir" --strip-components=1 package/bin/node
  fi
  echo "$dir/bin/node"
}

# The layer keeps the image config honest: these are also the Containerfile's.
image_config() {
  local ctr="$1" platform="$2" arch variant=""
  arch="${platform#linux/}"
  if [[ "$arch" == */* ]]; then
    variant="${arch#*/}"
    arch="${arch%%/*}"
  fi
  bah config \
    --os linux --arch "$arch" ${variant:+--variant "$variant"} \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_ENV=production \
    --env FARM_STATE_DIR=/var/lib/farm-agent \
    --env FARM_BOT_USER=swarming \
    --workingdir /var/lib/farm-agent \
    --user 0:0 \
    --port 8080/tcp \
    --stop-signal SIGTERM \
    --entrypoint '["farm-agent"]' --cmd '["run"]' \
    --label org.opencontainers.image.title=farm-agent \
    --label org.opencontainers.image.version="$version" \
    --label org.opencontainers.image.revision="$revision" \
    --label org.opencontainers.image.base.name="debian:$DEBIAN_SUITE (debootstrap minbase) + node $(offline_node_version "$platform")" \
    "$ctr"
}

mkdir -p "$OUT_DIR"
# A clean slate for everything but the cache, so a run never mixes old parts.
safe_rm "$APP_DIR" "$ROOTFS_DIR" "$OUT_DIR/containers" "$OUT_DIR/farm-agent-oci" \
  "$OUT_DIR/farm-agent-oci.tar" "$OUT_DIR/app-src" "$TIMINGS" "$OUT_DIR/images.tsv"
t_all=$(date +%s)

stage_start "base roots (debootstrap + ${RUNTIME_PACKAGES[*]}, cached)"
declare -A base
for platform in "${platforms[@]}"; do
  cached_rootfs "$platform"
  base[$platform]="$CACHED_ROOTFS"
done
stage_end

stage_start "node binaries (npm packages, cached)"
declare -A nodebin
for platform in "${platforms[@]}"; do
  nodebin[$platform]="$(node_binary "$platform")"
done
stage_end

stage_start "app (npm ci, tsc, prune; once, on the host)"
# A copy of the sources, so the developer's node_modules and dist are untouched.
mkdir -p "$OUT_DIR/app-src"
app_paths=(package.json package-lock.json tsconfig.json tsconfig.base.json agent bot-config)
if [ "$source_tree" = head ] && git -C "$REPO_DIR" rev-parse --git-dir >/dev/null 2>&1; then
  log "app source: git HEAD $revision (--worktree for uncommitted changes)"
  git -C "$REPO_DIR" archive --format=tar HEAD -- "${app_paths[@]}" | tar -C "$OUT_DIR/app-src" -xf -
else
  log "app source: the working tree"
  tar -C "$REPO_DIR" --exclude=node_modules --exclude=dist --exclude=agent/bundle --exclude='*.tsbuildinfo' \
    --exclude=__pycache__ -cf - "${app_paths[@]}" | tar -C "$OUT_DIR/app-src" -xf -
fi
"$IMAGES_DIR/assemble-app.sh" "$OUT_DIR/app-src" "$APP_DIR" >"$OUT_DIR/app.log" 2>&1 ||
  die "building the app failed; see $OUT_DIR/app.log"
stage_end

for platform in "${platforms[@]}"; do
  tag="$(platform_tag "$platform")"
  root="$ROOTFS_DIR/$tag"
  stage_start "$platform root filesystem"
  mkdir -p "$ROOTFS_DIR"
  cp -a "${base[$platform]}" "$root"
  install -m 0755 "${nodebin[$platform]}" "$root/usr/local/bin/node"
  mkdir -p "$root/opt"
  cp -a "$APP_DIR" "$root/opt/farm-agent"
  sh "$IMAGES_DIR/finish-rootfs.sh" "$root"
  # Node's and python's first run under qemu: a wrong binary fails here, not on a Pi.
  got="$(chroot "$root" /usr/local/bin/node --version)" ||
    die "$platform: node does not run in its root filesystem"
  want="v$(offline_node_version "$platform")"
  [ "$got" = "$want" ] || die "$platform: node says $got, expected $want"
  chroot "$root" /usr/bin/python3 -c 'import json, urllib.request' ||
    die "$platform: python3 does not run in its root filesystem"
  stage_end

  stage_start "$platform commit"
  ctr="$(bah from scratch)"
  mnt="$(bah mount "$ctr")"
  cp -a "$root/." "$mnt/"
  bah umount "$ctr" >/dev/null
  image_config "$ctr" "$platform"
  bah commit --quiet --format oci --rm "$ctr" "$IMAGE_NAME:$IMAGE_TAG-$tag" >/dev/null
  stage_end
done

stage_start "OCI index and export"
bah manifest create "$IMAGE_NAME:$IMAGE_TAG" >/dev/null
for platform in "${platforms[@]}"; do
  tag="$(platform_tag "$platform")"
  bah manifest add "$IMAGE_NAME:$IMAGE_TAG" "containers-storage:$IMAGE_NAME:$IMAGE_TAG-$tag" >/dev/null
done
# gzip layers, as a registry would hold them; the archive's reference is the
# full image name so `ctr images import` names the image after it.
bah manifest push --quiet --all --format oci "$IMAGE_NAME:$IMAGE_TAG" \
  "oci:$OUT_DIR/farm-agent-oci:$IMAGE_TAG"
bah manifest push --quiet --all --format oci "$IMAGE_NAME:$IMAGE_TAG" \
  "oci-archive:$OUT_DIR/farm-agent-oci.tar:$IMAGE_NAME:$IMAGE_TAG"
stage_end

# What was built: one line per platform, from the exported index itself.
layout="$OUT_DIR/farm-agent-oci"
index_digest="$(jq -r '.manifests[0].digest' "$layout/index.json")"
blob() { echo "$layout/blobs/${1%%:*}/${1#*:}"; }
printf 'platform\tmanifest\tcompressed_MiB\trootfs_MiB\n' >"$OUT_DIR/images.tsv"
jq -r '.manifests[] | [(.platform.os + "/" + .platform.architecture + (if .platform.variant then "/" + .platform.variant else "" end)), .digest] | @tsv' \
  "$(blob "$index_digest")" | while IFS=$'\t' read -r platform digest; do
  compressed="$(jq '[.layers[].size] | add' "$(blob "$digest")")"
  rootfs="$(du -sm "$ROOTFS_DIR/$(platform_tag "$platform")" | cut -f1)"
  printf '%s\t%s\t%s\t%s\n' "$platform" "${digest:0:19}" "$(awk -v b="$compressed" 'BEGIN { printf "%.1f", b / 1048576 }')" "$rootfs" >>"$OUT_DIR/images.tsv"
done
printf 'total\t%s\n' "$(($(date +%s) - t_all))" >>"$TIMINGS"

echo
echo "Built $IMAGE_NAME:$IMAGE_TAG (index $index_digest):"
column -t -s $'\t' "$OUT_DIR/images.tsv"
echo
echo "  OCI layout:  $layout (tag $IMAGE_TAG)"
echo "  OCI archive: $OUT_DIR/farm-agent-oci.tar ($(du -m "$OUT_DIR/farm-agent-oci.tar" | cut -f1) MiB)"
echo
echo "Stage times (s):"
column -t -s $'\t' "$TIMINGS"
