#!/usr/bin/env bash
# Runs the unit tests (already built in dist/, with `npm test` or `npm run build`) on the
# current Node.js LTS releases besides the Node on PATH: 22 and 24 by default, or the major
# versions given as arguments. Each Node comes from the npm registry (the `node-linux-<arch>`
# package holds the official binary), so only the registry needs to be reachable. The compiled
# JavaScript and the batched-UDP addon (Node-API, one build for every version) are shared.
set -euo pipefail
cd "$(dirname "$0")/.."

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "test-node-lts: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
[ -d dist/test/unit ] || { echo "test-node-lts: dist/ is not built (run npm run build first)" >&2; exit 1; }

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22 24)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for major in "${versions[@]}"; do
  (cd "$work" && npm pack --silent "node-linux-$arch@$major" >/dev/null)
  mkdir -p "$work/$major"
  tar xzf "$work"/node-linux-"$arch"-"$major".*.tgz -C "$work/$major"
  node_bin="$work/$major/package/bin/node"
  echo "== unit tests on Node $("$node_bin" --version)"
  "$node_bin" scripts/run-tests.mjs unit
done
