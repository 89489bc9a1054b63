"""Suite-wide set-up: the collection on sys.path, and no silent skips.

The collection is imported as ``ansible_collections.gpuvirt.core``; ``make`` links the repository root at
``.build/collections/ansible_collections/gpuvirt/core`` and this file puts ``.build/collections`` first on
``sys.path`` (creating the link when pytest is run by hand).

A skipped test hides a broken set-up (an emulator that did not start, a missing tool), so any skip or xfail
fails the session.

The test worlds run as processes of their own (a new session each, so a terminal's Ctrl-C does not reach them):
pytest stops them in fixture teardown. A SIGTERM or SIGHUP (a CI job cancelled, ``timeout``, a closed terminal)
is turned into the KeyboardInterrupt pytest tears its fixtures down on, so the worlds are stopped then too.
"""
import os
import signal
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


def _interrupt(signum, _frame):
    raise KeyboardInterrupt('pytest received %s' % signal.Signals(signum).name)


def pytest_configure(config):  # pylint: disable=unused-argument
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) in (signal.SIG_DFL, None):
            signal.signal(signum, _interrupt)


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin('terminalreporter')
    if reporter is None:
        return
    hidden = len(reporter.stats.get('skipped', [])) + len(reporter.stats.get('xfailed', []))
    if hidden and exitstatus == pytest.ExitCode.OK:
        reporter.write_line('FAILED: %d test(s) skipped or xfailed; skips hide broken set-ups in this suite' % hidden,
                            red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
