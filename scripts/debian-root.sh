#!/usr/bin/env bash
# Prints the path of a minimal Debian bookworm tree with python3 (for role tests through a chroot
# connection), creating it with debootstrap on first use (about 40 s). The tree is a read-only base: tests
# copy it (scripts/debian-tree.sh copy) before changing anything. Kept in .cache/ (git-ignored) so later runs
# on this machine reuse it.
#
# Nothing stays mounted under the tree: debootstrap mounts proc, sys and dev entries in its target and its
# own unmount at exit fails while one is busy, so whatever is left is unmounted here on every exit (also
# after a failed debootstrap), lazily as the last resort, and the script fails naming the mount if
# /proc/self/mountinfo still lists one. A cached tree with a mount under it is refused, not used.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$PWD/scripts/debian-tree.sh
base=$PWD/.cache/debian-bookworm

release_mounts() {
  bash "$tree" unmount "$base" || {
    echo "debian-root: ERROR: could not unmount everything under $base (see above)" >&2
    exit 1
  }
}

if [ -f "$base/.complete" ]; then
  bash "$tree" check "$base" || {
    echo "debian-root: ERROR: refusing the cached tree $base while something is mounted under it" >&2
    exit 1
  }
else
  # A tree left half-made by an interrupted run: its mounts go first, then it is removed without crossing
  # into any mount.
  release_mounts
  bash "$tree" remove "$base"
  mkdir -p "$(dirname "$base")"
  trap release_mounts EXIT
  echo "debian-root: debootstrap bookworm into $base" >&2
  debootstrap --variant=minbase --include=python3 bookworm "$base" >"$base.log" 2>&1 || {
    tail -n 20 "$base.log" >&2
    echo "debian-root: ERROR: debootstrap failed (log: $base.log)" >&2
    exit 1
  }
  release_mounts
  trap - EXIT
  touch "$base/.complete"
fi
echo "$base"
