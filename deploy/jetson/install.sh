#!/usr/bin/env bash
# Installs the EdgeTL device agent as a systemd service (Jetson, or any systemd Linux).
#
#   sudo deploy/jetson/install.sh --from artifacts/publish/jetson-inference
#   deploy/jetson/install.sh --root "$(mktemp -d)" --from PUBLISH_DIR     # unprivileged, for CI
#
# Lays out (under --root, default /):
#   /opt/edgetl/                    the publish output (edgetl-agent and its libraries), root 0755
#   /etc/edgetl/agent.json          from appsettings.Jetson.json, only when none exists, 0640 root:edgetl
#   /etc/edgetl/keys/               trusted package-signing public keys (*.pem), 0755 root
#   /etc/edgetl/tls/                broker CA, client certificate and key, 0750 root:edgetl
#   /var/lib/edgetl/                the agent's state (StateDirectory), 0750 edgetl:edgetl
#   /var/cache/edgetl/              TensorRT engine cache (CacheDirectory), 0750 edgetl:edgetl
#   /etc/systemd/system/edgetl-agent.service
# and the system user and group edgetl (and the group i2c when missing). Then, only when --root
# is / and systemd runs: daemon-reload, enable, and (unless --no-start) restart the service.
# Running it again upgrades /opt/edgetl and keeps agent.json, keys and state (idempotent).
set -euo pipefail

usage() {
  echo "usage: $0 --from PUBLISH_DIR [--root DIR] [--no-start]" >&2
  exit 2
}

root=/
from=""
start=1
while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || usage; root=$2; shift 2 ;;
    --from) [ $# -ge 2 ] || usage; from=$2; shift 2 ;;
    --no-start) start=0; shift ;;
    -h|--help) usage ;;
    *) echo "error: unknown argument '$1'" >&2; usage ;;
  esac
done
[ -n "$from" ] || usage
[ -d "$from" ] || { echo "error: --from '$from' is not a folder" >&2; exit 2; }
[ -f "$from/edgetl-agent" ] || { echo "error: '$from' has no edgetl-agent: pass a 'dotnet publish' output" >&2; exit 2; }
[ -d "$root" ] || { echo "error: --root '$root' is not a folder" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
from=$(cd "$from" && pwd)
root=$(cd "$root" && pwd)
R=${root%/}            # prefix for paths: "" when installing into /
live=0
[ "$root" = / ] && live=1
privileged=0
[ "$(id -u)" -eq 0 ] && privileged=1
say() { echo "install: $*"; }

if [ "$live" -eq 1 ] && [ "$privileged" -eq 0 ]; then
  echo "error: installing into / needs root (sudo $0 …)" >&2
  exit 1
fi

# --- user and groups -------------------------------------------------------------------------
have_user=0
if [ "$privileged" -eq 1 ] && [ -f "$R/etc/passwd" ] && [ -f "$R/etc/group" ]; then
  rootopt=()
  [ "$live" -eq 1 ] || rootopt=(--root "$root")   # chroots into --root: edits its /etc files
  for group in edgetl i2c; do
    if ! grep -q "^$group:" "$R/etc/group"; then
      groupadd "${rootopt[@]}" --system "$group"
      say "created group $group"
    fi
  done
  if ! grep -q "^edgetl:" "$R/etc/passwd"; then
    useradd "${rootopt[@]}" --system --gid edgetl --home-dir /var/lib/edgetl --no-create-home \
      --shell /usr/sbin/nologin --comment "EdgeTL device agent" edgetl
    say "created system user edgetl"
  fi
  have_user=1
  grep -q "^video:" "$R/etc/group" || say "warning: no group video: the GPU and camera nodes will not be reachable"
else
  say "not creating the user edgetl (not root, or $root has no etc/passwd): on the device run" \
      "'useradd --system --user-group --home-dir /var/lib/edgetl --shell /usr/sbin/nologin edgetl' (and 'groupadd --system i2c' if missing)"
fi

# owner USER:GROUP PATH…: chown only where the user exists in the target and we may.
owner() {
  local who=$1
  shift
  if [ "$have_user" -eq 1 ]; then
    if [ "$live" -eq 1 ]; then
      chown "$who" "$@"
    else
      # Names would resolve against this machine's passwd: use the target's numeric ids.
      local u=${who%%:*} g=${who#*:}
      local uid gid
      uid=$(awk -F: -v n="$u" '$1 == n { print $3 }' "$R/etc/passwd")
      gid=$(awk -F: -v n="$g" '$1 == n { print $3 }' "$R/etc/group")
      chown "$uid:$gid" "$@"
    fi
  fi
}

# --- folders -----------------------------------------------------------------------------------
install -d -m 0755 "$R/etc/edgetl" "$R/etc/edgetl/keys" "$R/etc/systemd/system" "$R/opt"
install -d -m 0750 "$R/etc/edgetl/tls" "$R/var/lib/edgetl" "$R/var/cache/edgetl"
chmod 0755 "$R/etc/edgetl" "$R/etc/edgetl/keys"
chmod 0750 "$R/etc/edgetl/tls" "$R/var/lib/edgetl" "$R/var/cache/edgetl"
owner root:edgetl "$R/etc/edgetl/tls"
owner edgetl:edgetl "$R/var/lib/edgetl" "$R/var/cache/edgetl"

# --- the binaries: copied beside, then swapped in (a running agent keeps its open files) ------
rm -rf "$R/opt/edgetl.new" "$R/opt/edgetl.old"
cp -R "$from" "$R/opt/edgetl.new"
cp "$here/README.md" "$R/opt/edgetl.new/README.md"
chmod -R u=rwX,go=rX "$R/opt/edgetl.new"
chmod 0755 "$R/opt/edgetl.new/edgetl-agent"
[ "$privileged" -eq 1 ] && chown -R 0:0 "$R/opt/edgetl.new"
if [ -e "$R/opt/edgetl" ]; then
  mv "$R/opt/edgetl" "$R/opt/edgetl.old"
fi
mv "$R/opt/edgetl.new" "$R/opt/edgetl"
rm -rf "$R/opt/edgetl.old"
say "installed $(find "$R/opt/edgetl" -type f | wc -l) files to $R/opt/edgetl"

# --- configuration: never overwrite the device's own -------------------------------------------
if [ -e "$R/etc/edgetl/agent.json" ]; then
  say "kept the existing $R/etc/edgetl/agent.json"
else
  install -m 0640 "$here/appsettings.Jetson.json" "$R/etc/edgetl/agent.json"
  owner root:edgetl "$R/etc/edgetl/agent.json"
  say "wrote $R/etc/edgetl/agent.json (edit Agent:Fleet/Device/Broker, then add keys/ and tls/)"
fi

install -m 0644 "$here/edgetl-agent.service" "$R/etc/systemd/system/edgetl-agent.service"
say "installed $R/etc/systemd/system/edgetl-agent.service"

# --- systemd -------------------------------------------------------------------------------------
if [ "$live" -eq 1 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if [ "$start" -eq 1 ]; then
    systemctl enable edgetl-agent
    systemctl restart edgetl-agent
    say "edgetl-agent enabled and (re)started: systemctl status edgetl-agent; journalctl -u edgetl-agent -f"
  else
    systemctl enable edgetl-agent
    say "edgetl-agent enabled, not started (--no-start): systemctl start edgetl-agent"
  fi
else
  say "not starting the service (root is $root, or systemd is not running): on the device run" \
      "'systemctl daemon-reload && systemctl enable --now edgetl-agent'"
fi
