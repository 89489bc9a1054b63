"""The sysfs emulator's own tests: ``emulator`` mounts a host root through the emulator's stable command line."""
from tests.integration.worlds.sysfs import emulator  # noqa: F401  pylint: disable=unused-import
