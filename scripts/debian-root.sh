#!/usr/bin/env bash
# Prints the path of a minimal Debian bookworm tree with python3 (for role tests through a chroot
# connection), creating it with debootstrap on first use (about 40 s). The tree is a read-only base: tests
# copy it before changing anything. Kept in .cache/ (git-ignored) so later runs on this machine reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
base=$PWD/.cache/debian-bookworm
if [ ! -f "$base/.complete" ]; then
  rm -rf "$base"
  mkdir -p "$(dirname "$base")"
  echo "debian-root: debootstrap bookworm into $base" >&2
  debootstrap --variant=minbase --include=python3 bookworm "$base" >"$base.log" 2>&1 || {
    tail -n 20 "$base.log" >&2
    exit 1
  }
  touch "$base/.complete"
fi
echo "$base"
