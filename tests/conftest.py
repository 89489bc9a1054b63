"""Suite-wide set-up: the collection on sys.path, and no silent skips.

The collection is imported as ``ansible_collections.gpuvirt.core``; ``make`` links the repository root at
``.build/collections/ansible_collections/gpuvirt/core`` and this file puts ``.build/collections`` first on
``sys.path`` (creating the link when pytest is run by hand).

A skipped test hides a broken set-up (an emulator that did not start, a missing tool), so any skip or xfail
fails the session.
"""
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, '.build', 'collections')


def _link_collection():
    link = os.path.join(COLLECTIONS, 'ansible_collections', 'gpuvirt', 'core')
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)
    paths = [p for p in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) if p]
    if COLLECTIONS not in paths:
        os.environ['ANSIBLE_COLLECTIONS_PATH'] = os.pathsep.join([COLLECTIONS] + paths)


_link_collection()


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin('terminalreporter')
    if reporter is None:
        return
    hidden = len(reporter.stats.get('skipped', [])) + len(reporter.stats.get('xfailed', []))
    if hidden and exitstatus == pytest.ExitCode.OK:
        reporter.write_line('FAILED: %d test(s) skipped or xfailed; skips hide broken set-ups in this suite' % hidden,
                            red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
