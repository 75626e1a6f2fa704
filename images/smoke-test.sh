#!/usr/bin/env bash
# usage: images/smoke-test.sh [--platforms linux/arm/v7,linux/arm64]
#
# Proves the built image runs on the Pis' architectures, here on x86 under
# qemu-user-static. For each platform it unpacks that platform's image from
# the exported OCI index (images/out/farm-agent-oci, from build-offline.sh),
# chroots into it with /proc, /dev and /tmp mounted, and:
#
#   - starts the agent with the image's own entrypoint, cmd, env and workdir
#     (FARM_HTTP_PORT/FARM_HOOK_PORT on free ports) and times process start to
#     /healthz answering;
#   - calls every hook through the image's real bot_config.py with the
#     image's own python3 (images/smoke/hooks_driver.py), requiring the
#     agent's answers, not the shim's `quarantined` fallback;
#   - runs the image's /usr/bin/sudo shim from a child process as the bot
#     does and sees it kill that process, and the agent count it in
#     farm_reboot_requests_total;
#   - runs the CLI (`farm-agent status`, `farm-agent config`);
#   - stops the agent with SIGTERM, the pod's stop signal, and expects exit 0.
#
# Prints each image's size and the agent's start-up time under emulation.
# Exits non-zero on the first failure, with the agent's log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

platforms=(linux/arm/v7 linux/arm64)
while [ $# -gt 0 ]; do
  case "$1" in
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
ensure_tools buildah:buildah jq:jq curl:curl
command -v node >/dev/null || die "node is needed on this machine (to pick free ports)"
ensure_binfmt

LAYOUT="$OUT_DIR/farm-agent-oci"
SMOKE_DIR="$OUT_DIR/smoke"
[ -f "$LAYOUT/index.json" ] || die "no image at $LAYOUT; build it first: images/build-offline.sh (or npm run image:test)"
ref="$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$LAYOUT/index.json")"
index="$(jq -r '.manifests[0].digest' "$LAYOUT/index.json")"
blob() { echo "$LAYOUT/blobs/${1%%:*}/${1#*:}"; }

agent_pid=""
ctr=""
mnt=""
# Kills whatever still runs inside the image's root (the agent, its adb
# server, a driver): all started by this script, found by their root dir.
kill_chrooted() {
  local proc
  [ -n "$mnt" ] || return 0
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$mnt" ] && kill -KILL "${proc#/proc/}" 2>/dev/null
  done
  return 0
}
cleanup() {
  if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
    kill -KILL "$agent_pid" 2>/dev/null || true
  fi
  kill_chrooted
  unmount_chroot
  if [ -n "$ctr" ]; then bah rm "$ctr" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

AGENT_LOG=""
fail() {
  printf '\nSMOKE TEST FAILED (%s): %s\n' "${platform:-?}" "$*" >&2
  if [ -n "$AGENT_LOG" ] && [ -s "$AGENT_LOG" ]; then
    printf -- '--- last lines of the agent log (%s):\n' "$AGENT_LOG" >&2
    tail -n 30 "$AGENT_LOG" >&2
  fi
  exit 1
}

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# The value of one sample of a Prometheus text page, matched by metric name
# and label pairs in any order; 0 when absent.
metric() {
  local page="$1" name="$2"
  shift 2
  awk -v name="$name" -v want="$*" '
    index($0, name "{") == 1 {
      n = split(want, w, " "); ok = 1
      for (i = 1; i <= n; i++) if (index($0, w[i]) == 0) ok = 0
      if (ok) { v = $NF; found = 1 }
    }
    END { print found ? v : 0 }' <<<"$page"
}

# Runs a command inside the image's root with the image's env plus extras.
in_image() {
  env -i "${image_env[@]}" HOME=/root "$@"
}

rm -rf "$SMOKE_DIR"
mkdir -p "$SMOKE_DIR"
printf 'platform\tnode\tcompressed_MiB\trootfs_MiB\tstartup_s\tstop_s\n' >"$SMOKE_DIR/results.tsv"

for platform in "${platforms[@]}"; do
  tag="$(platform_tag "$platform")"
  AGENT_LOG="$SMOKE_DIR/agent-$tag.log"
  log "== $platform: unpacking $ref from $LAYOUT"
  arch="${platform#linux/}"
  variant=""
  if [[ "$arch" == */* ]]; then
    variant="${arch#*/}"
    arch="${arch%%/*}"
  fi
  ctr="$(bah from --quiet --pull-always --os linux --arch "$arch" ${variant:+--variant "$variant"} "oci:$LAYOUT:$ref")"
  config="$(bah inspect "$ctr" | jq .OCIv1)"
  got="$(jq -r '.os + "/" + .architecture + (if .variant then "/" + .variant else "" end)' <<<"$config")"
  [ "$got" = "$platform" ] || fail "the index gave a $got image for $platform"
  mnt="$(bah mount "$ctr")"

  # What the image must (not) contain, before running anything.
  for f in /.dockerenv /home/swarming/.boto /usr/bin/sudo /usr/local/bin/farm-agent /usr/local/bin/node \
    /usr/bin/python3 /usr/bin/adb /usr/sbin/uhubctl /etc/ssl/certs/ca-certificates.crt /usr/bin/setpriv \
    /opt/farm-agent/bot-config/python/bot_config.py; do
    # -L too: absolute symlinks point into the host from out here.
    [ -e "$mnt$f" ] || [ -L "$mnt$f" ] || fail "$f is missing from the image"
  done
  [ "$(readlink "$mnt/usr/local/bin/farm-agent")" = /opt/farm-agent/agent/bin/farm-agent.js ] ||
    fail "/usr/local/bin/farm-agent does not point at /opt/farm-agent/agent/bin/farm-agent.js"
  cmp -s "$mnt/usr/bin/sudo" "$mnt/opt/farm-agent/bot-config/shims/sudo" || fail "/usr/bin/sudo is not the farm shim"
  for f in cc gcc g++ make; do
    [ ! -e "$mnt/usr/bin/$f" ] || fail "the runtime image contains a build tool: /usr/bin/$f"
  done

  mapfile -t image_env < <(jq -r '.config.Env[]' <<<"$config")
  mapfile -t entrypoint < <(jq -r '(.config.Entrypoint // [])[]' <<<"$config")
  mapfile -t cmd < <(jq -r '(.config.Cmd // [])[]' <<<"$config")
  workdir="$(jq -r '.config.WorkingDir // "/"' <<<"$config")"
  [ "$(jq -r '.config.StopSignal' <<<"$config")" = SIGTERM ] || fail "the image's stop signal is not SIGTERM"
  [ "${entrypoint[*]} ${cmd[*]}" = "farm-agent run" ] || fail "entrypoint+cmd is '${entrypoint[*]} ${cmd[*]}', expected 'farm-agent run'"

  mount_chroot "$mnt"
  cp -r "$IMAGES_DIR/smoke" "$mnt/tmp/smoke"
  node_version="$(in_image chroot "$mnt" node --version)" || fail "node does not run in the image"

  http_port="$(free_port)"
  hook_port="$(free_port)"
  [ "$http_port" != "$hook_port" ] || hook_port="$(free_port)"
  bot="smoke-${tag}"
  pool="smoke-pool"

  log "$platform: starting '${entrypoint[*]} ${cmd[*]}' (http :$http_port, hooks :$hook_port)"
  t0=$(date +%s%N)
  # env, chroot and sh all exec, so $! is the agent's own pid: the signal test
  # below reaches node itself, as the kubelet's would.
  # shellcheck disable=SC2016 # $1 and $@ are the inner sh's
  # FARM_DEVICES=none: no phone here, so the hooks answer for the one host
  # bot FARM_BOT_ID instead of per-phone slots.
  # A plain command, not the in_image function: a function would run in a
  # forked bash and $! would be that bash, not the agent.
  env -i "${image_env[@]}" HOME=/root FARM_DEVICES=none FARM_BOT_ID="$bot" FARM_POOL="$pool" FARM_NODE_NAME="smoke-$tag" \
    FARM_HTTP_PORT="$http_port" FARM_HOOK_PORT="$hook_port" \
    chroot "$mnt" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$workdir" "${entrypoint[@]}" "${cmd[@]}" \
    >"$AGENT_LOG" 2>&1 &
  agent_pid=$!
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$http_port/healthz" 2>/dev/null; do
    kill -0 "$agent_pid" 2>/dev/null || fail "the agent exited before /healthz answered"
    [ $(($(date +%s%N) - t0)) -lt 180000000000 ] || fail "/healthz did not answer within 180 s"
    sleep 0.05
  done
  startup_ms=$((($(date +%s%N) - t0) / 1000000))
  startup="$(awk -v ms="$startup_ms" 'BEGIN { printf "%.1f", ms / 1000 }')"
  log "$platform: /healthz answered ${startup} s after start (under qemu)"

  log "$platform: hooks through bot_config.py and the sudo shim, with the image's python3"
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    SWARMING_BOT_ID="$bot" SMOKE_POOL="$pool" FARM_HOOK_URL="http://127.0.0.1:$hook_port" \
    FARM_READY_TIMEOUT_S=20 \
    chroot "$mnt" python3 /tmp/smoke/hooks_driver.py | tee "$SMOKE_DIR/hooks-$tag.log" ||
    fail "a hook or the sudo shim misbehaved (see above)"

  metrics="$(curl -fsS --max-time 10 "http://127.0.0.1:$http_port/metrics")" || fail "/metrics did not answer"
  reboots="$(metric "$metrics" farm_reboot_requests_total "bot=\"$bot\"")"
  [ "$reboots" = 1 ] || fail "farm_reboot_requests_total{bot=\"$bot\"} is $reboots, expected 1"
  echo "ok   agent counted the reboot request: farm_reboot_requests_total{bot=\"$bot\"} 1"
  for h in get_dimensions get_state get_settings on_before_task on_after_task reboot_requested; do
    n="$(metric "$metrics" farm_hook_requests_total "hook=\"$h\"" 'code="200"')"
    [ "$n" != 0 ] || fail "the agent's farm_hook_requests_total has no 200 for $h"
  done
  echo "ok   agent answered every hook with 200 (farm_hook_requests_total)"

  log "$platform: CLI"
  status="$(in_image FARM_HTTP_PORT="$http_port" chroot "$mnt" farm-agent status)" || fail "farm-agent status failed: $status"
  [ "$(jq -r .node <<<"$status")" = "smoke-$tag" ] || fail "farm-agent status did not show the running agent: $status"
  echo "ok   farm-agent status: node $(jq -r .node <<<"$status"), swarming enabled: $(jq -r .swarming.enabled <<<"$status")"
  cfg="$(in_image FARM_HTTP_PORT="$http_port" chroot "$mnt" farm-agent config)" || fail "farm-agent config failed: $cfg"
  [ "$(jq -r .stateDir <<<"$cfg")" = /var/lib/farm-agent ] || fail "farm-agent config: stateDir is not the image's /var/lib/farm-agent: $cfg"
  [ "$(jq -r .httpPort <<<"$cfg")" = "$http_port" ] || fail "farm-agent config did not read FARM_HTTP_PORT: $cfg"
  echo "ok   farm-agent config: stateDir $(jq -r .stateDir <<<"$cfg"), httpPort $(jq -r .httpPort <<<"$cfg")"

  log "$platform: SIGTERM"
  t1=$(date +%s%N)
  kill -TERM "$agent_pid"
  rc=0
  timeout 60 tail --pid="$agent_pid" -f /dev/null || fail "the agent did not exit within 60 s of SIGTERM"
  wait "$agent_pid" || rc=$?
  agent_pid=""
  [ "$rc" = 0 ] || fail "the agent exited with $rc after SIGTERM, expected 0"
  stop="$(awk -v ns="$(($(date +%s%N) - t1))" 'BEGIN { printf "%.1f", ns / 1e9 }')"
  echo "ok   agent stopped cleanly on SIGTERM in ${stop} s"

  # Sizes: the compressed layers as shipped (from the exported index) and the
  # unpacked root filesystem.
  digest="$(jq -r --arg a "$arch" --arg v "$variant" \
    '.manifests[] | select(.platform.architecture == $a and ((.platform.variant // "") == $v)) | .digest' \
    "$(blob "$index")")"
  compressed="$(jq '[.layers[].size] | add' "$(blob "$digest")")"
  kill_chrooted
  unmount_chroot
  rootfs_mib="$(du -sm "$mnt" | cut -f1)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$platform" "$node_version" \
    "$(awk -v b="$compressed" 'BEGIN { printf "%.1f", b / 1048576 }')" "$rootfs_mib" "$startup" "$stop" \
    >>"$SMOKE_DIR/results.tsv"
  bah rm "$ctr" >/dev/null
  ctr=""
  mnt=""
  log "== $platform: PASS"
done

echo
echo "Smoke test passed for ${platforms[*]} ($ref, index ${index:0:19}):"
column -t -s $'\t' "$SMOKE_DIR/results.tsv"
echo "(startup_s: process start to /healthz answering, under qemu-user-static on this machine)"
