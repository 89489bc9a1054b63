#!/usr/bin/env bash
# ansible-test sanity, with no ignore file, from a path ending in ansible_collections/gpuvirt/core.
# Usage: scripts/sanity.sh [ansible-test sanity arguments, e.g. --test pylint plugins/modules/foo.py]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
build=$repo/.build
venv=$build/sanity-venv
# A copy of its own per run, removed at exit: two runs at once (two shells, two sessions) must not share one.
mkdir -p "$build"
copy=$(mktemp -d "$build/sanity.XXXXXX")
trap 'rm -rf "$copy"' EXIT
root=$copy/ansible_collections/gpuvirt/core

# A copy of the tracked and new (not ignored) files, in a git repository of its own (ansible-test lists
# files with git and would otherwise find the enclosing checkout).
mkdir -p "$root"
git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ "$root/"
if ls "$root"/tests/sanity/ignore-*.txt >/dev/null 2>&1; then
  echo "sanity: ignore files are not allowed: fix the finding instead" >&2
  exit 1
fi
git -C "$root" init -q .

# ansible-test in a virtual environment of its own (its pinned linters must not disturb .venv), the same
# ansible-core version as .venv.
core=$("$repo/.venv/bin/python" -m pip freeze | grep -i '^ansible-core==')
test -x "$venv/bin/python" || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q "$core"

# Offline pip bootstrap for the per-test virtual environments (see scripts/ansible-test-get-pip.py).
pip_version=$("$venv/bin/python" - <<'PY'
import re, ansible_test._internal.python_requirements as m
print(re.search(r"pip='([0-9.]+)'", open(m.__file__).read()).group(1))
PY
)
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
install -m 0644 scripts/ansible-test-get-pip.py "$cache/get_pip_${pip_version//./_}.py"

cd "$root"
PATH=$venv/bin:$PATH ansible-test sanity --local --requirements --python 3.11 --color no "$@"
