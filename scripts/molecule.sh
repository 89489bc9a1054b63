#!/usr/bin/env bash
# Runs `molecule test` for every scenario of every role (roles/<role>/molecule/<scenario>/molecule.yml).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
ran=0
for scenario in roles/*/molecule/*/molecule.yml; do
  role_dir=${scenario%%/molecule/*}
  name=$(basename "$(dirname "$scenario")")
  echo "=== molecule: ${role_dir#roles/} / $name ==="
  (cd "$role_dir" && molecule test -s "$name")
  ran=$((ran + 1))
done
echo "molecule: $ran scenario(s) passed"
