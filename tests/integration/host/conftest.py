"""The KVM host tests: the sysfs emulator mounted through its stable command line (``emulator``, from
tests/integration/worlds/sysfs.py), and ansible-playbook runs read through the json callback (every task's result
by name: ``run['task name']``)."""
import pytest

from tests.integration.worlds.sysfs import emulator  # noqa: F401  pylint: disable=unused-import


@pytest.fixture
def playbook_defaults():
    return {'callback': 'json', 'env': {'ANSIBLE_DEPRECATION_WARNINGS': '0'}}
