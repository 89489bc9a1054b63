#!/usr/bin/env bash
# `make demo`: runs every step in scripts/demo.d/ in order. Each step starts the emulators it needs, runs its
# playbooks (twice where it changes something: the second run must change nothing) and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO_DIR=$(mktemp -d -t gpuvirt-demo.XXXXXX)
export DEMO_DIR
trap 'rm -rf "$DEMO_DIR"' EXIT
export ANSIBLE_NOCOWS=1 ANSIBLE_RETRY_FILES_ENABLED=0
shopt -s nullglob
steps=(scripts/demo.d/*.sh)
for step in "${steps[@]}"; do
  echo
  echo "=== demo: ${step##*/} ==="
  bash "$step"
done
echo
echo "demo: ${#steps[@]} step(s) completed"
