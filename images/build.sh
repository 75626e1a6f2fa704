#!/usr/bin/env bash
# usage: images/build.sh [--push REF] [--tag REF] [--platforms LIST]
#
# Builds the production image (images/Containerfile) for linux/arm/v7,
# linux/arm64 and linux/amd64 as one multi-arch manifest:
#
#   - with `docker buildx` when a Docker engine answers;
#   - else with buildah, daemonless (--isolation chroot, vfs storage under
#     images/out/containers), which needs root.
#
# Foreign-arch RUN steps run under qemu-user-static; the binfmt handlers are
# registered when missing. Without --push the result is written to
# images/out/farm-agent-containerfile-oci.tar (an OCI archive); with
# --push REF it goes to the registry, e.g.
#   images/build.sh --push registry.lab:5000/farm-agent:0.1.0
#
# The base image node:<version>-bookworm-slim comes from Docker Hub (a pull
# mirror configured in the builder, buildkitd.toml or registries.conf, is used
# as usual; set SKIP_REGISTRY_CHECK=1 then, since the reachability check
# below asks Docker Hub itself). Where no registry is reachable, use
# images/build-offline.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

push=""
version="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$REPO_DIR/agent/package.json" | head -1)"
revision="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
ref="localhost/farm-agent:$version-$revision"
platforms=("${PLATFORMS[@]}")
while [ $# -gt 0 ]; do
  case "$1" in
    --push)
      push="${2:?--push needs an image reference}"
      ref="$push"
      shift 2
      ;;
    --tag)
      ref="${2:?--tag needs an image reference}"
      shift 2
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
platform_list="$(
  IFS=,
  echo "${platforms[*]}"
)"
archive="$OUT_DIR/farm-agent-containerfile-oci.tar"
base="docker.io/library/node:$NODE_VERSION-$DEBIAN_SUITE-slim"
# lib.sh's versions, so this build and the offline one use the same Node.
build_args=(--build-arg "NODE_VERSION=$NODE_VERSION" --build-arg "DEBIAN_SUITE=$DEBIAN_SUITE")
mkdir -p "$OUT_DIR"

# Fails fast, and says what to do, when the base image's registry cannot be
# reached: otherwise the build dies minutes later inside a pull.
check_registry() {
  local host url code
  [ "${SKIP_REGISTRY_CHECK:-}" != 1 ] || return 0
  host="registry-1.docker.io"
  url="https://$host/v2/"
  # Any HTTP answer (401 is normal without credentials) means it is reachable.
  code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$url" 2>/dev/null || true)"
  if [ -z "$code" ] || [ "$code" = 000 ]; then
    die "cannot reach $host to pull $base: this machine has no container registry access.
  The production build needs the node:*-slim base image. Either run this where
  Docker Hub (or a mirror configured in the builder) is reachable, or build the
  same image offline from Debian's mirror and the npm registry:
      sudo images/build-offline.sh     # three-arch OCI index in images/out/farm-agent-oci
      npm run image:test               # offline build + smoke test under qemu"
  fi
}

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  log "building $ref for $platform_list with docker buildx"
  docker buildx version >/dev/null 2>&1 || die "docker buildx is missing (install the docker-buildx plugin)"
  check_registry
  # Foreign RUN steps need binfmt handlers in the engine's kernel; registering
  # them from a privileged container works whether or not we are root here.
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-arm ] || [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    if [ "$(id -u)" -eq 0 ]; then
      ensure_binfmt
    else
      docker run --privileged --rm tonistiigi/binfmt --install arm,arm64
    fi
  fi
  # Multi-platform builds and OCI export need a docker-container builder; the
  # engine's default `docker` driver can do neither.
  if ! docker buildx inspect farm-agent >/dev/null 2>&1; then
    docker buildx create --name farm-agent --driver docker-container >/dev/null
  fi
  if [ -n "$push" ]; then
    output=(--push)
  else
    output=(--output "type=oci,dest=$archive")
  fi
  docker buildx build --builder farm-agent --platform "$platform_list" \
    -f "$IMAGES_DIR/Containerfile" "${build_args[@]}" --tag "$ref" "${output[@]}" "$REPO_DIR"
else
  log "no Docker engine answers; building $ref for $platform_list with buildah (chroot isolation, vfs)"
  need_root
  ensure_tools buildah:buildah curl:curl
  check_registry
  ensure_binfmt
  # A fresh list each time, so platforms from an older build never linger.
  bah manifest rm "$ref" >/dev/null 2>&1 || true
  bah build --isolation chroot --layers --platform "$platform_list" --manifest "$ref" \
    -f "$IMAGES_DIR/Containerfile" --ignorefile "$IMAGES_DIR/Containerfile.dockerignore" \
    "${build_args[@]}" "$REPO_DIR"
  if [ -n "$push" ]; then
    bah manifest push --all --format oci "$ref" "docker://$push"
  else
    rm -f "$archive"
    bah manifest push --all --format oci "$ref" "oci-archive:$archive:$ref"
  fi
fi

if [ -n "$push" ]; then
  log "pushed $push ($platform_list)"
else
  log "built $ref ($platform_list) into $archive"
fi
