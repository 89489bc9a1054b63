#!/usr/bin/env bash
# Runs `molecule test` for every scenario of every role (roles/<role>/molecule/<scenario>/molecule.yml).
# Scenarios that play a Linux machine use a copy of a debootstrapped Debian tree (scripts/debian-root.sh):
# GPUVIRT_DEBIAN_BASE is the read-only base, GPUVIRT_GUEST_ROOT a fresh path for the scenario's copy.
set -euo pipefail
export PY_COLORS=0 NO_COLOR=1 ANSIBLE_FORCE_COLOR=0
cd "$(dirname "$0")/.."
shopt -s nullglob
GPUVIRT_DEBIAN_BASE=$(bash scripts/debian-root.sh)
export GPUVIRT_DEBIAN_BASE
work=$(mktemp -d -t gpuvirt-molecule.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT
ran=0
for scenario in roles/*/molecule/*/molecule.yml; do
  role_dir=${scenario%%/molecule/*}
  name=$(basename "$(dirname "$scenario")")
  export GPUVIRT_GUEST_ROOT=$work/${role_dir#roles/}-$name
  echo "=== molecule: ${role_dir#roles/} / $name ==="
  (cd "$role_dir" && molecule test -s "$name")
  ran=$((ran + 1))
done
if [ "$ran" = 0 ]; then
  echo "molecule: no scenarios found" >&2
  exit 1
fi
echo "molecule: $ran scenario(s) passed"
