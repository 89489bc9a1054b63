"""The execution environment as AWX users build it: ``ansible-builder create`` turns
execution-environment/execution-environment.yml into a build context (no container engine needed), and the
context's own introspection step, run on the collection as ``ansible-galaxy`` installs it from the archive of
``make build``, names gpuvirt.core's Python requirements and bindep packages. requirements.txt lists exactly the
third-party libraries the plugins import."""
import ast
import importlib.metadata
import os
import re
import subprocess
import sys

import pytest
import yaml

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
DEFINITION = os.path.join(REPO, 'execution-environment', 'execution-environment.yml')


def run(*command, cwd=REPO):
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, '%s failed (%d): %s%s' % (' '.join(command), done.returncode, done.stdout, done.stderr)
    return done.stdout


def requirement_lines(path):
    with open(path) as handle:
        return [line.split('#', 1)[0].strip() for line in handle if line.split('#', 1)[0].strip()]


def test_builder_context_installs_the_collection_and_its_python_and_system_requirements(tmp_path):
    context = tmp_path / 'context'
    run(os.path.join(BIN, 'ansible-builder'), 'create', '-f', DEFINITION, '--context', str(context), '--output-filename', 'Containerfile')
    containerfile = (context / 'Containerfile').read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/ansible/awx-ee:latest"' in containerfile
    assert 'ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml' in containerfile
    assert 'introspect.py introspect --write-bindep=/tmp/src/bindep.txt --write-pip=/tmp/src/requirements.txt' in containerfile
    galaxy = yaml.safe_load((context / '_build' / 'requirements.yml').read_text())
    assert [c['name'] for c in galaxy['collections']] == ['gpuvirt.core', 'kubernetes.core', 'vmware.vmware']

    # what the build's galaxy and builder stages do, here: install the collection (its archive), then introspect
    run(os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(tmp_path / 'dist'), REPO)
    archive = next((tmp_path / 'dist').iterdir())
    installed = tmp_path / 'collections'
    run(os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--offline', '--no-deps', '--force', '-p', str(installed), str(archive),
        cwd=str(tmp_path))
    pip, bindep = tmp_path / 'pip.txt', tmp_path / 'bindep.txt'
    run(sys.executable, str(context / '_build' / 'scripts' / 'introspect.py'), 'introspect', str(installed),
        '--write-pip', str(pip), '--write-bindep', str(bindep))
    assert pip.read_text().splitlines() == ['%s  # from collection gpuvirt.core' % r for r in requirement_lines(os.path.join(REPO, 'requirements.txt'))]
    assert bindep.read_text().splitlines() == ['%s  # from collection gpuvirt.core' % r for r in requirement_lines(os.path.join(REPO, 'bindep.txt'))]
    assert {'pciutils', 'mdevctl', 'driverctl'} <= set(line.split()[0] for line in requirement_lines(os.path.join(REPO, 'bindep.txt')))


def imported_top_names():
    """Top-level module names imported anywhere under plugins/ (lazy imports inside functions included)."""
    names = set()
    for folder, _dirs, files in os.walk(os.path.join(REPO, 'plugins')):
        for name in files:
            if name.endswith('.py'):
                with open(os.path.join(folder, name)) as handle:
                    tree = ast.parse(handle.read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        names.update(alias.name.split('.')[0] for alias in node.names)
                    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                        names.add(node.module.split('.')[0])
    return names


def canonical(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def test_requirements_txt_is_what_the_plugins_import():
    third_party = sorted(n for n in imported_top_names() if n not in sys.stdlib_module_names and n not in ('ansible', 'ansible_collections'))
    distributions = importlib.metadata.packages_distributions()
    needed = set(canonical(distributions[n][0]) for n in third_party)
    # what ansible-core itself installs (PyYAML, Jinja2, ...) is in every execution environment already
    core = set(canonical(re.split(r'[ <>=!~;\[]', r, maxsplit=1)[0]) for r in importlib.metadata.requires('ansible-core'))
    listed = set(canonical(re.split(r'[ <>=!~;\[]', r, maxsplit=1)[0]) for r in requirement_lines(os.path.join(REPO, 'requirements.txt')))
    assert sorted(needed - core) == sorted(listed) == ['kubernetes', 'pyvmomi']
