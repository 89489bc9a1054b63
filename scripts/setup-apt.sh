#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/apt/*.txt (only the missing ones) and enables
# deb-src entries so `apt-get source` works (vcsim sources). Idempotent; needs root (CI and dev
# machines run as root) or sudo.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi

mapfile -t wanted < <(cat "$here"/apt/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

src=/etc/apt/sources.list.d/gpuvirt-deb-src.sources
need_update=0
if [ ! -f "$src" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | $SUDO tee "$src" >/dev/null
  need_update=1
fi
if [ ${#missing[@]} -gt 0 ]; then need_update=1; fi

if [ "$need_update" = 1 ]; then
  echo "setup-apt: apt-get update" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-apt: installing ${missing[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
