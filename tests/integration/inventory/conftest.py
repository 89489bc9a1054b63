"""The inventory plugins' tests: ``ansible-inventory -i <file>.yml --list`` run for real against the vSphere simulator
(``sim``) and the Kubernetes test world (``kube``), as an AWX inventory source runs it.

``inventory(world, config, name)`` writes ``config`` (a dict) to ``<tmp>/<name>`` and runs ansible-inventory with the
world's connection variables in the environment (the caller's own ``VMWARE_*``/``K8S_AUTH_*`` never); it returns an
:class:`InventoryRun`: ``rc``, ``stderr``, ``hostvars`` ({host: vars}, the values unwrapped from the
``__ansible_unsafe`` marks ansible-core puts on what a plugin reads from outside) and ``groups`` ({group: [hosts]}).
"""
import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.integration.worlds.kube import kube, kube_session  # noqa: F401  pylint: disable=unused-import
from tests.integration.worlds.vsphere import sim, sim_factory  # noqa: F401  pylint: disable=unused-import

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
COLLECTIONS = os.path.join(REPO, '.build', 'collections')
VENV_BIN = os.path.dirname(sys.executable)


def plain(value):
    """The value without ansible-inventory's ``{"__ansible_unsafe": ...}`` wrappers."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class InventoryRun(object):
    def __init__(self, completed):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.hostvars = {}
        self.groups = {}
        if self.rc == 0:
            listing = plain(json.loads(completed.stdout))
            self.hostvars = listing['_meta']['hostvars']
            for name, group in listing.items():
                if name != '_meta':
                    self.groups[name] = sorted(group.get('hosts', []))


@pytest.fixture
def inventory(tmp_path):
    def run(world, config, name, env=None):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(config))
        environment = dict((k, v) for k, v in os.environ.items() if not k.startswith(('K8S_AUTH_', 'VMWARE_')))
        environment.update({'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS, 'ANSIBLE_HOME': str(tmp_path / 'ansible-home'),
                            'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'), 'ANSIBLE_NOCOLOR': '1',
                            # what AWX's inventory update does: a source that cannot be parsed fails the update
                            'ANSIBLE_INVENTORY_UNPARSED_FAILED': '1'})
        environment.update(world.connection_env)
        environment.update(env or {})
        completed = subprocess.run([os.path.join(VENV_BIN, 'ansible-inventory'), '-i', str(path), '--list'], cwd=str(tmp_path),
                                   env=environment, capture_output=True, text=True, timeout=300, check=False)
        return InventoryRun(completed)
    return run
