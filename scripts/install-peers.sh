#!/usr/bin/env bash
# Installs the Debian peers that the interop tests and benchmarks compare against.
# Services are installed but never started by the package manager: tests start their own
# instances on loopback high ports, so nothing is left listening on port 53.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
PEERS=(
  nsd knot knot-dnsutils bind9 bind9-utils bind9-dnsutils
  unbound pdns-server pdns-backend-bind pdns-tools pdns-recursor knot-resolver
  ldnsutils dnsperf nmap dnsmasq-base fstrm-bin chromium iproute2 procps util-linux
)
missing=()
for p in "${PEERS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "install-peers: all peers present"; exit 0; fi
echo "install-peers: installing ${missing[*]}"
# Keep maintainer scripts from starting daemons on port 53.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  created_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
[ "$created_policy" -eq 1 ] && $SUDO rm -f "$policy"
# Packaged daemons that started anyway (no init system here) are stopped again.
for d in named nsd knotd unbound pdns_server pdns_recursor kresd dnsmasq; do
  $SUDO pkill -x "$d" 2>/dev/null || true
done
echo "install-peers: done"
