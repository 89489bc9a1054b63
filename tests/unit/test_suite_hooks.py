"""The suite-wide hooks of tests/conftest.py, run in a pytest of their own: a skip fails the session, and a SIGTERM
still runs the fixture teardowns that stop the test worlds."""
import os
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WORLD_TEST = '''
import os, subprocess, sys, time
import pytest

@pytest.fixture
def world():
    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)
    with open(os.environ['WORLD_PID_FILE'], 'w') as stream:
        stream.write(str(child.pid))
    yield child
    child.terminate()
    child.wait(30)
    with open(os.environ['WORLD_PID_FILE'] + '.stopped', 'w') as stream:
        stream.write('stopped')

def test_waits(world):
    time.sleep(600)
'''


def _pytest(tmp_path, source, env=None):
    test = tmp_path / 'test_inner.py'
    test.write_text(source)
    return subprocess.Popen([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-p', 'tests.conftest',
                             '--rootdir', str(tmp_path), str(test)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=dict(os.environ, **(env or {})))


def test_a_skip_fails_the_session(tmp_path):
    inner = _pytest(tmp_path, 'import pytest\n\ndef test_skipped():\n    pytest.skip("no emulator")\n')  # ok-skip: the skip under test
    output = inner.communicate(timeout=120)[0]
    assert inner.returncode == 1, output
    assert '1 test(s) skipped or xfailed' in output


def test_sigterm_tears_the_fixtures_down(tmp_path):
    pid_file = tmp_path / 'world.pid'
    child = None
    inner = _pytest(tmp_path, WORLD_TEST, env={'WORLD_PID_FILE': str(pid_file)})
    try:
        deadline = time.monotonic() + 120
        while not pid_file.exists() or not pid_file.read_text():
            assert inner.poll() is None and time.monotonic() < deadline, inner.communicate()[0]
            time.sleep(0.1)
        child = int(pid_file.read_text())
        time.sleep(0.5)  # inside the test now
        inner.send_signal(signal.SIGTERM)
        output = inner.communicate(timeout=60)[0]
    finally:
        if inner.poll() is None:
            inner.kill()
            inner.wait()
    if not (tmp_path / 'world.pid.stopped').exists():
        os.kill(child, signal.SIGKILL)  # the process this test started, by PID, before failing
        raise AssertionError('the fixture was not torn down:\n%s' % output)
    assert not os.path.exists('/proc/%d' % child) or open('/proc/%d/stat' % child).read().split()[2] == 'Z'
    assert inner.returncode != 0
