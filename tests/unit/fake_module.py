"""What plan.run uses of AnsibleModule, for the unit tests of Operations: ``run(Operation, **params)`` returns the
module with ``result`` (exit_json) or ``failed`` (fail_json) set."""
import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils import plan


class Exit(Exception):
    """exit_json / fail_json were called (AnsibleModule exits there)."""


class FakeModule(object):
    def __init__(self, **params):
        self.params = params
        self.check_mode = False
        self._diff = False
        self.result = None
        self.failed = None

    def exit_json(self, **result):
        self.result = result
        raise Exit()

    def fail_json(self, **result):
        self.failed = result
        raise Exit()

    def warn(self, text):
        pass


def run(operation, **params):
    module = FakeModule(**params)
    with pytest.raises(Exit):
        plan.run(module, operation)
    return module
