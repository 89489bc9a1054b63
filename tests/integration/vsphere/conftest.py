"""The vSphere tests: vcsim with the GPU add-on started and stopped through its stable command line (``sim``,
``sim_factory``, from tests/integration/worlds/vsphere.py), and ansible-playbook runs of task lists against it:
``playbook(sim, [task, ...])`` registers every task's result under its name (``run['name']``; errors ignored, so
refusals are results too), with --diff."""
import pytest

from tests.integration.worlds.vsphere import sim, sim_factory  # noqa: F401  pylint: disable=unused-import


@pytest.fixture
def playbook_defaults():
    return {'register_all': True, 'diff': True}
