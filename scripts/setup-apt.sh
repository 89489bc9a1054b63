#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/apt/*.txt (only the missing ones). Idempotent; needs root
# (CI and dev machines run as root) or sudo.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi

mapfile -t wanted < <(cat "$here"/apt/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-apt: apt-get update" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  echo "setup-apt: installing ${missing[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
