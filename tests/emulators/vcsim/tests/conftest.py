"""vcsim-gpu's own tests: ``sim`` (one cluster of two hosts) and ``sim_factory`` (simulators with other options),
started through ``tests/emulators/vcsim/vcsim-gpu up|down``."""
from tests.integration.worlds.vsphere import sim, sim_factory  # noqa: F401  pylint: disable=unused-import
