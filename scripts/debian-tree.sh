#!/usr/bin/env bash
# The one place that handles a debootstrapped Debian tree (scripts/debian-root.sh) as a directory of files:
# what is mounted under it, unmounting that, and copying it for a test. A tree with something mounted under
# it (debootstrap mounts proc, sys and dev entries in the target while it runs and can fail to unmount them
# when they are busy) must never be copied or removed by descending into the mount: a copy of /proc reads
# files such as /proc/<pid>/task/<tid>/pagemap, hundreds of GB each, and fills the disk.
#
# Usage:
#   debian-tree.sh mounts TREE     print the mount points strictly under TREE, most recent first
#   debian-tree.sh check TREE      fail (exit 1, naming each mount) if anything is mounted under TREE
#   debian-tree.sh unmount TREE    unmount everything under TREE: retries, then a lazy unmount as the last
#                                  resort; fails if /proc/self/mountinfo still lists a mount under TREE
#   debian-tree.sh copy SRC DEST   make DEST an exact copy of SRC (DEST's other files are deleted): refuses a
#                                  SRC with a mount under it or over the size limit, never crosses a file
#                                  system boundary, leaves out the contents of proc/, sys/ and dev's
#                                  subdirectories, and checks the copy's size afterwards
#   debian-tree.sh remove TREE     remove TREE without crossing into a mount under it
#
# Environment: GPUVIRT_TREE_MAX_MB (default 4096) the largest tree copy accepts; GPUVIRT_UNMOUNT_TRIES
# (default 5) and GPUVIRT_UNMOUNT_DELAY (seconds, default 1) for unmount's retries.
set -euo pipefail

me=debian-tree

die() {
  echo "$me: ERROR: $*" >&2
  exit 1
}

absolute() {
  realpath -m -- "$1"
}

# Mount points strictly under $1 (an absolute path), newest first: /proc/self/mountinfo lists mounts in the
# order they were made and writes a space, tab, newline or backslash in a path as \040, \011, \012, \134.
mounts_under() {
  TREE=$1 awk '
    function decode(s,   out, i, c, code) {
      out = ""
      for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "\\" && substr(s, i + 1, 3) ~ /^[0-7][0-7][0-7]$/) {
          code = substr(s, i + 1, 1) * 64 + substr(s, i + 2, 1) * 8 + substr(s, i + 3, 1)
          out = out sprintf("%c", code)
          i += 3
        } else {
          out = out c
        }
      }
      return out
    }
    BEGIN { tree = ENVIRON["TREE"]; sub(/\/+$/, "", tree); n = 0 }
    {
      point = decode($5)
      if (tree != "" && index(point, tree "/") == 1) { found[++n] = point }
    }
    END { for (i = n; i >= 1; i--) print found[i] }
  ' /proc/self/mountinfo
}

check() {
  local tree mounts
  tree=$(absolute "$1")
  mounts=$(mounts_under "$tree")
  if [ -n "$mounts" ]; then
    echo "$me: ERROR: mounted under $tree (copying or removing it would descend into the mount):" >&2
    printf '  %s\n' "$mounts" >&2
    echo "$me: unmount it first, e.g. umount -R '$(head -n 1 <<<"$mounts")'" >&2
    exit 1
  fi
}

unmount() {
  local tree tries delay attempt mounts point
  tree=$(absolute "$1")
  tries=${GPUVIRT_UNMOUNT_TRIES:-5}
  delay=${GPUVIRT_UNMOUNT_DELAY:-1}
  for ((attempt = 1; attempt <= tries; attempt++)); do
    mounts=$(mounts_under "$tree")
    [ -n "$mounts" ] || return 0
    while IFS= read -r point; do
      umount -- "$point" 2>/dev/null || true
    done <<<"$mounts"
    mounts=$(mounts_under "$tree")
    [ -n "$mounts" ] || return 0
    if [ "$attempt" -lt "$tries" ]; then
      sleep "$delay"
    fi
  done
  while IFS= read -r point; do
    [ -n "$point" ] || continue
    echo "$me: $point is still mounted after $tries tries: lazy unmount (umount -l)" >&2
    umount -l -- "$point" 2>/dev/null || true
  done <<<"$(mounts_under "$tree")"
  check "$tree"
}

size_kb() {
  du -skx -- "$1" | cut -f1
}

copy() {
  local src dest max_mb src_kb dest_kb limit_kb
  src=$(absolute "$1")
  dest=$(absolute "$2")
  [ -d "$src" ] || die "copy: $src is not a directory"
  case "$dest/" in
    "$src"/*) die "copy: $dest is inside $src" ;;
  esac
  check "$src"
  if [ -e "$dest" ]; then
    check "$dest"
  fi
  max_mb=${GPUVIRT_TREE_MAX_MB:-4096}
  src_kb=$(size_kb "$src")
  if [ "$src_kb" -gt $((max_mb * 1024)) ]; then
    die "copy: $src holds $((src_kb / 1024)) MB on its own file system, over the $max_mb MB limit (GPUVIRT_TREE_MAX_MB); not copying it"
  fi
  mkdir -p -- "$dest"
  # -x: never cross a file system boundary (a mount under src is an empty directory in the copy); the
  # excludes keep the directories proc, sys and dev/pts, dev/shm but none of their contents (dev's own
  # device nodes and links, which a chroot needs, are kept); --numeric-ids: the tree's owners, not the
  # host's users of the same names; -H and -S: hard links and sparse files stay what they are.
  rsync -aHSx --numeric-ids --delete --exclude='/proc/**' --exclude='/sys/**' --exclude='/dev/*/**' \
    -- "$src/" "$dest/"
  dest_kb=$(size_kb "$dest")
  limit_kb=$((src_kb + src_kb / 10 + 16384))
  if [ "$dest_kb" -gt "$limit_kb" ] || [ "$dest_kb" -gt $((max_mb * 1024)) ]; then
    remove "$dest"
    die "copy: the copy of $src took $((dest_kb / 1024)) MB for a $((src_kb / 1024)) MB tree; removed it"
  fi
}

remove() {
  local tree
  tree=$(absolute "$1")
  [ -e "$tree" ] || return 0
  check "$tree"
  rm -rf --one-file-system -- "$tree"
}

usage() {
  echo "usage: $0 mounts|check|unmount|remove TREE | copy SRC DEST" >&2
  exit 2
}

[ "$#" -ge 2 ] || usage
command=$1
shift
case "$command" in
  mounts) [ "$#" = 1 ] || usage; mounts_under "$(absolute "$1")" ;;
  check) [ "$#" = 1 ] || usage; check "$1" ;;
  unmount) [ "$#" = 1 ] || usage; unmount "$1" ;;
  remove) [ "$#" = 1 ] || usage; remove "$1" ;;
  copy) [ "$#" = 2 ] || usage; copy "$1" "$2" ;;
  *) usage ;;
esac
