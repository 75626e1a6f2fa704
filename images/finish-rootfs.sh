#!/bin/sh
# usage: images/finish-rootfs.sh ROOT
#
# The last touches of the image's root filesystem, once the app is at
# ROOT/opt/farm-agent. The Containerfile runs it inside the runtime stage
# (ROOT=/) and build-offline.sh from the host on the debootstrap root, so both
# images end up alike. POSIX sh with coreutils only: the runtime stage has no
# bash guarantee and runs this under qemu.
set -eu

root="${1%/}"
app=/opt/farm-agent

[ -f "$root$app/agent/bin/farm-agent.js" ] || {
  echo "error: $root$app has no agent; assemble the app first" >&2
  exit 1
}

# The Swarming bot reboots its host with `sudo shutdown`; in a pod that must
# restart the bot instead (see bot-config/shims/sudo). A copy, not a symlink,
# so nothing outside /usr/bin has to stay in place for it to work.
install -m 0755 "$root$app/bot-config/shims/sudo" "$root/usr/bin/sudo"

# `farm-agent` on PATH for `kubectl exec`. Node resolves the symlink, so the
# bin's relative import of ../bundle/main.js still works.
mkdir -p "$root/usr/local/bin"
ln -sfn "$app/agent/bin/farm-agent.js" "$root/usr/local/bin/farm-agent"
chmod 0755 "$root$app/agent/bin/farm-agent.js"

# The Swarming bot checks /.dockerenv to know it runs in a container (and so
# does not manage the host), whatever the container runtime is.
: >"$root/.dockerenv"

# The user the Swarming bots and their tasks run as (FARM_BOT_USER, set in the
# image's environment): the agent stays root, and root's files (the pod's
# service-account token, the operator credential) stay out of the tasks' reach.
# Written directly: the offline build runs this from the host on a debootstrap
# root, where useradd would edit the host's files. uid 2000 stays clear of the
# base image's `node` (1000).
if ! grep -q '^swarming:' "$root/etc/passwd"; then
  echo 'swarming:x:2000:2000:Swarming bot:/home/swarming:/usr/sbin/nologin' >>"$root/etc/passwd"
  echo 'swarming:x:2000:' >>"$root/etc/group"
fi

# gsutil, which tasks run through the bot, wants a boto config; it holds no
# credentials (the bot authenticates through bot_config.py's
# get_authentication_headers), only a state dir the bot user can write.
mkdir -p "$root/home/swarming"
cat >"$root/home/swarming/.boto" <<'BOTO'
# Read by gsutil inside Swarming tasks. No credentials here: the bot's tasks
# authenticate through LUCI, not through this file.
[GSUtil]
state_dir = /home/swarming/.gsutil
BOTO
chown -R 2000:2000 "$root/home/swarming"

# FARM_STATE_DIR; in a pod a hostPath volume is mounted here.
mkdir -p "$root/var/lib/farm-agent"
