#!/usr/bin/env bash
# CI checks of the Jetson deployment (deploy/jetson), on an x86-64 machine without systemd
# running, without a GPU and without an arm64 runtime. What each step proves:
#  1. publish: the inference-only publish (profile jetson-inference, for linux-x64 here because
#     arm64 cannot run on this machine) contains no libtorch natives (libtorch*.so, libc10*.so).
#  2. info: that published agent, with no NuGet cache to fall back on (a device has none), starts,
#     reports "training: unavailable" and exits 3 (TorchRuntime's probe, not a crash).
#  3. install: install.sh into a temporary root as an unprivileged user lays out every file and
#     folder with its mode, never overwrites an existing agent.json, and runs again cleanly;
#     as root, into a root with its own etc/passwd, it creates the edgetl user and i2c group
#     there and gives /var/lib/edgetl to that user.
#  4. verify: systemd-analyze verify accepts the installed unit (directives, sections, values).
#     It also insists that ExecStart exists: it is checked with ExecStart pointing at the
#     agent installed into the temporary root in step 3, the only line changed.
# Not covered here: the unit under a running systemd (notify, watchdog, sandbox), arm64, CUDA,
# TensorRT: see deploy/jetson/README.md for the on-device checks.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
began=$(date +%s)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

work=$(mktemp -d)
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT
checks=0
ok() { checks=$((checks + 1)); echo "check-deploy: ok: $*"; }
fail() { echo "check-deploy: FAIL: $*" >&2; exit 1; }
mode_is() { # mode_is PATH MODE
  [ -e "$1" ] || fail "$1 is missing"
  local m
  m=$(stat -c %a "$1")
  [ "$m" = "$2" ] || fail "$1 has mode $m, expected $2"
}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# --- 1. the inference-only publish -----------------------------------------------------------
# Built under its own artifacts path: the working tree's obj/ (restored with libtorch for the
# tests) is left as it is.
publish="$work/publish"
dotnet publish src/Edge.Agent -p:PublishProfile=jetson-inference -r linux-x64 -p:EdgeTLLibTorchNatives=none --artifacts-path "$work/artifacts" \
  -p:PublishDir="$publish/" -nologo -v q >"$work/publish.log" 2>&1 || { cat "$work/publish.log"; fail "dotnet publish"; }
[ -x "$publish/edgetl-agent" ] || fail "the publish has no edgetl-agent"
[ -f "$publish/libcoreclr.so" ] || fail "the publish is not self-contained (no libcoreclr.so)"
torch_natives=$(find "$publish" \( -name 'libtorch*.so*' -o -name 'libc10*.so*' \) -printf '%P\n')
[ -z "$torch_natives" ] || fail "libtorch natives in the inference-only publish: $torch_natives"
# TorchSharp's own libLibTorchSharp.so (a thin wrapper) may be there; alone it cannot load.
ok "inference-only publish: self-contained, $(du -sh "$publish" | cut -f1), no libtorch*/libc10* natives"

# --- 2. the published agent reports training unavailable --------------------------------------
# TorchSharp, when it cannot load, copies libtorch from the NuGet cache beside the binary and
# retries: point it at an empty cache, as on a device (and see that nothing was copied).
mkdir -p "$work/home" "$work/no-nuget"
set +e
HOME="$work/home" NUGET_PACKAGES="$work/no-nuget" "$publish/edgetl-agent" info >"$work/info.txt" 2>&1
info_rc=$?
set -e
grep -q '^training: unavailable' "$work/info.txt" || { cat "$work/info.txt"; fail "'edgetl-agent info' does not report 'training: unavailable'"; }
[ "$info_rc" -eq 3 ] || { cat "$work/info.txt"; fail "'edgetl-agent info' exited $info_rc, expected 3"; }
[ -z "$(find "$publish" \( -name 'libtorch*.so*' -o -name 'libc10*.so*' \) -print -quit)" ] || fail "libtorch natives appeared in the publish while 'info' ran"
ok "'edgetl-agent info': training: unavailable, exit 3"

# --- 3. install.sh into a temporary root -------------------------------------------------------
root="$work/root"
mkdir -p "$root"
installer=(bash "$repo/deploy/jetson/install.sh")
if [ "$(id -u)" -eq 0 ]; then
  # CI runs as root: run the unprivileged path for real, as nobody.
  chown 65534:65534 "$root"
  chmod -R a+rX "$publish"
  installer=(setpriv --reuid=65534 --regid=65534 --clear-groups "${installer[@]}")
fi
"${installer[@]}" --root "$root" --from "$publish" >"$work/install1.log" 2>&1 || { cat "$work/install1.log"; fail "install.sh (first run)"; }
grep -q "not creating the user edgetl" "$work/install1.log" || fail "install.sh did not say it skipped the user"
grep -q "not starting the service" "$work/install1.log" || fail "install.sh did not say it skipped systemctl"
mode_is "$root/opt/edgetl/edgetl-agent" 755
mode_is "$root/opt/edgetl/README.md" 644
cmp -s "$publish/edgetl-agent" "$root/opt/edgetl/edgetl-agent" || fail "/opt/edgetl/edgetl-agent differs from the publish"
[ "$(find "$root/opt/edgetl" -type f | wc -l)" -eq $(($(find "$publish" -type f | wc -l) + 1)) ] || fail "/opt/edgetl does not hold the whole publish"
mode_is "$root/etc/edgetl" 755
mode_is "$root/etc/edgetl/keys" 755
mode_is "$root/etc/edgetl/tls" 750
mode_is "$root/etc/edgetl/agent.json" 640
cmp -s deploy/jetson/appsettings.Jetson.json "$root/etc/edgetl/agent.json" || fail "agent.json is not appsettings.Jetson.json"
mode_is "$root/var/lib/edgetl" 750
mode_is "$root/var/cache/edgetl" 750
mode_is "$root/etc/systemd/system/edgetl-agent.service" 644
cmp -s deploy/jetson/edgetl-agent.service "$root/etc/systemd/system/edgetl-agent.service" || fail "the installed unit differs"
echo '{ "Agent": { "Device": "edited-on-device" } }' >"$work/edited.json"
cp "$work/edited.json" "$root/etc/edgetl/agent.json"
"${installer[@]}" --root "$root" --from "$publish" --no-start >"$work/install2.log" 2>&1 || { cat "$work/install2.log"; fail "install.sh (second run)"; }
cmp -s "$work/edited.json" "$root/etc/edgetl/agent.json" || fail "the second run overwrote agent.json"
[ ! -e "$root/opt/edgetl.new" ] && [ ! -e "$root/opt/edgetl.old" ] || fail "the second run left opt/edgetl.new or .old"
mode_is "$root/opt/edgetl/edgetl-agent" 755
ok "install.sh (unprivileged, temporary root): layout and modes; second run keeps agent.json"

if [ "$(id -u)" -eq 0 ]; then
  # A root with its own accounts (an image being prepared): user and groups are made there.
  image="$work/image"
  mkdir -p "$image/etc"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$image/etc/passwd"
  printf 'root:x:0:\nvideo:x:44:\n' >"$image/etc/group"
  printf 'root:*:19000:0:99999:7:::\n' >"$image/etc/shadow"
  printf 'root:*::\nvideo:!::\n' >"$image/etc/gshadow"
  chmod 0600 "$image/etc/shadow" "$image/etc/gshadow"
  bash deploy/jetson/install.sh --root "$image" --from "$publish" >"$work/install3.log" 2>&1 || { cat "$work/install3.log"; fail "install.sh (root, image)"; }
  uid=$(awk -F: '$1 == "edgetl" { print $3 }' "$image/etc/passwd")
  [ -n "$uid" ] || fail "no edgetl user in the image's passwd"
  grep -q '^i2c:' "$image/etc/group" || fail "no i2c group in the image"
  [ "$(stat -c %u "$image/var/lib/edgetl")" = "$uid" ] || fail "/var/lib/edgetl is not owned by the image's edgetl"
  [ "$(stat -c %g "$image/etc/edgetl/agent.json")" = "$(awk -F: '$1 == "edgetl" { print $3 }' "$image/etc/group")" ] || fail "agent.json is not group edgetl"
  ok "install.sh (root, image root): edgetl user ($uid) and i2c group created there; state owned by it"
fi

# --- 4. systemd-analyze verify ------------------------------------------------------------------
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "check-deploy: installing systemd (for systemd-analyze)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi
unit_dir="$work/unit"
mkdir -p "$unit_dir"
sed "s#^ExecStart=/opt/edgetl/edgetl-agent #ExecStart=$root/opt/edgetl/edgetl-agent #" \
  deploy/jetson/edgetl-agent.service >"$unit_dir/edgetl-agent.service"
[ "$(diff deploy/jetson/edgetl-agent.service "$unit_dir/edgetl-agent.service" | grep -c '^[<>]')" -eq 2 ] || fail "the verify copy differs in more than ExecStart"
if ! SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$unit_dir/edgetl-agent.service" >"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
  cat "$work/verify.log"
  fail "systemd-analyze verify"
fi
ok "systemd-analyze verify: no errors or warnings ($(systemd-analyze --version | head -1))"

echo "check-deploy: all $checks checks ok in $(($(date +%s) - began)) s"
