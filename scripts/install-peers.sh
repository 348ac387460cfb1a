#!/usr/bin/env bash
# Installs the Debian peers that the interop tests and benchmarks compare against, and the
# toolchain `npm ci` uses to build the batched-UDP addon (g++, make, python3 for node-gyp).
# Services are installed but never started by the package manager: tests start their own
# instances on loopback high ports, so nothing is left listening on port 53.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
PEERS=(
  nsd knot knot-dnsutils bind9 bind9-utils bind9-dnsutils
  unbound pdns-server pdns-backend-bind pdns-tools pdns-recursor knot-resolver
  ldnsutils dnsperf nmap dnsmasq-base fstrm-bin chromium iproute2 procps util-linux
  g++ make python3
)
missing=()
for p in "${PEERS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "install-peers: all peers present"; exit 0; fi
echo "install-peers: installing ${missing[*]}"
DAEMONS=(named nsd knotd unbound pdns_server pdns_recursor kresd dnsmasq)
# Daemons already running (someone's tests, a system resolver) are left alone: only the ones
# the package install starts are stopped afterwards.
before=" $(pgrep -d ' ' -x "$(IFS='|'; echo "${DAEMONS[*]}")" || true) "
# Keep maintainer scripts from starting daemons on port 53; the policy file is removed again
# even when the install fails.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# Packaged daemons that started anyway (no init system here) are stopped again, by pid.
for pid in $(pgrep -x "$(IFS='|'; echo "${DAEMONS[*]}")" || true); do
  case "$before" in *" $pid "*) ;; *) $SUDO kill "$pid" 2>/dev/null || true ;; esac
done
# Verify that the binaries the tests start are there now.
for b in nsd knotd kdig named dig unbound pdns_server sdig saxfr; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || { echo "install-peers: $b still missing" >&2; exit 1; }
done
echo "install-peers: done"
