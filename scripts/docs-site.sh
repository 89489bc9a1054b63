#!/usr/bin/env bash
# `make docs`: the collection's documentation site, rendered by antsibull-docs as Ansible's own collection docs
# are, into .build/docs-site/html (never committed). antsibull-docs sphinx-init writes the Sphinx project, antsibull-docs
# collection the RST of every module, plugin and role from the working tree, sphinx-build the HTML with warnings as
# errors (a broken reference fails the build). No network: intersphinx is off, so references to Ansible's own docs
# render as plain text. The guides in docs/ link to the module pages here.
set -euo pipefail
cd "$(dirname "$0")/.."
site=${GPUVIRT_DOCS_SITE:-$PWD/.build/docs-site}
export ANSIBLE_COLLECTIONS_PATH=$PWD/.build/collections
rm -rf "$site"
mkdir -p "$site"
chmod 755 "$site"  # antsibull-docs wants a directory only its owner can write
antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error --dest-dir "$site" \
  --project gpuvirt.core --copyright "gpuvirt.core contributors" --title "gpuvirt.core documentation" \
  gpuvirt.core >/dev/null
echo 'intersphinx_mapping = {}  # offline: no inventories of other projects' >> "$site/conf.py"
mkdir -p "$site/rst"
chmod og-w "$site/rst"
antsibull-docs --config-file "$site/antsibull-docs.cfg" collection --use-current --squash-hierarchy --fail-on-error \
  --cleanup everything --dest-dir "$site/rst" gpuvirt.core >/dev/null
# The targets in Ansible's own documentation that the generated pages refer to (offline, intersphinx cannot resolve
# them): one page that links out to them, so every other reference must resolve inside the site.
cat > "$site/rst/ansible-references.rst" <<'RST'
:orphan:

.. _common_return_values:
.. _ansible_configuration_settings:

References to Ansible's documentation
=====================================

- Return values common to all modules: https://docs.ansible.com/projects/ansible/latest/reference_appendices/common_return_values.html
- ansible-core's configuration settings: https://docs.ansible.com/projects/ansible/latest/reference_appendices/config.html

.. envvar:: ANSIBLE_CACHE_PLUGIN
.. envvar:: ANSIBLE_CACHE_PLUGIN_CONNECTION
.. envvar:: ANSIBLE_CACHE_PLUGIN_PREFIX
.. envvar:: ANSIBLE_CACHE_PLUGIN_TIMEOUT

   ansible-core's inventory cache settings (see its configuration settings above).
RST
sphinx-build -q -b html -c "$site" -W --keep-going "$site/rst" "$site/html"
echo "documentation site: $site/html/index.html"
