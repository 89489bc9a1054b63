"""Fixtures for the capacity report's integration tests: the fixture facts, ansible-playbook, headless Chromium.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands on fd 3, replies
on fd 4, each a JSON message ended by NUL), so no port is opened at all. It is started with the flags the issue
names (headless, no sandbox, no GPU, no first run, no background networking, no component update, no sync) and a
throw-away profile, and stopped by PID.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DATA = os.path.join(REPO, 'tests', 'unit', 'report', 'data')
OUTPUT = os.path.join(REPO, 'tests', 'output', 'report')
COLLECTIONS = os.path.join(REPO, '.build', 'collections')
BIN = os.path.dirname(sys.executable)
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--hide-scrollbars', '--mute-audio', '--remote-debugging-pipe')
# Not a test threshold: only how long to wait for Chromium before failing with a clear message instead of hanging.
PROTOCOL_TIMEOUT = 120


def load_facts(name):
    with open(os.path.join(DATA, name)) as handle:
        return json.load(handle)


@pytest.fixture
def lab_facts():
    return load_facts('lab.json')


@pytest.fixture(scope='session')
def artifacts():
    os.makedirs(OUTPUT, exist_ok=True)
    return OUTPUT


def ansible_env(tmp_path):
    env = dict(os.environ)
    paths = [COLLECTIONS] + [p for p in env.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) if p and p != COLLECTIONS]
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': os.pathsep.join(paths),
        'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_FORCE_COLOR': '0', 'ANSIBLE_RETRY_FILES_ENABLED': '0', 'ANSIBLE_NOCOWS': '1',
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'), 'ANSIBLE_REMOTE_TEMP': str(tmp_path / 'ansible-remote'),
        'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json', 'ANSIBLE_HOST_KEY_CHECKING': '0',
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable, 'ANSIBLE_SSH_RETRIES': '0',
        'PATH': BIN + os.pathsep + env.get('PATH', ''),
    })
    return env


class Run:
    """One ansible-playbook run: ``rc``, ``output`` (text), ``json`` (the ansible.posix.json callback's document)."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.output = proc.stdout
        start = proc.stdout.find('{')
        assert start >= 0, 'no JSON from the json callback:\n%s' % proc.stdout
        self.json = json.loads(proc.stdout[start:])
        self.stats = self.json['stats']

    def results(self, task_name, host='localhost'):
        """The result of the task named ``task_name`` on ``host`` (last play that ran it)."""
        found = None
        for play in self.json['plays']:
            for task in play['tasks']:
                if task['task']['name'] == task_name and host in task['hosts']:
                    found = task['hosts'][host]
        assert found is not None, 'task %r did not run on %s:\n%s' % (task_name, host, self.output)
        return found


@pytest.fixture
def playbook(tmp_path):
    """Run ansible-playbook for real and return a :class:`Run`; fails unless the exit code is ``expect_rc``."""
    counter = [0]

    def run(path, inventory=None, extra_vars=None, check=False, diff=False, expect_rc=0, env=None):
        cmd = [os.path.join(BIN, 'ansible-playbook'), path, '-i', inventory or 'localhost,']
        if extra_vars is not None:
            counter[0] += 1
            vars_file = tmp_path / ('vars-%d.json' % counter[0])
            vars_file.write_text(json.dumps(extra_vars))
            cmd += ['-e', '@%s' % vars_file]
        if check:
            cmd.append('--check')
        if diff:
            cmd.append('--diff')
        environment = ansible_env(tmp_path)
        environment.update(env or {})
        proc = subprocess.run(cmd, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=600, check=False)
        assert proc.returncode == expect_rc, 'ansible-playbook exited %d (expected %d):\n%s' % (proc.returncode, expect_rc, proc.stdout)
        return Run(proc)
    return run


class Chromium:
    """One headless Chromium, one page, spoken to over the DevTools pipe."""

    def __init__(self, workdir):
        binary = shutil.which('chromium') or shutil.which('chromium-browser')
        assert binary, 'chromium is not installed: install the Debian package listed in scripts/apt/report.txt (make setup does)'
        self.profile = tempfile.mkdtemp(prefix='chromium-profile-', dir=workdir)
        cmd_read, cmd_write = os.pipe()
        reply_read, reply_write = os.pipe()
        # move the child's ends out of the way so dup2 onto 3 and 4 cannot clobber one another
        child_in = fcntl.fcntl(cmd_read, fcntl.F_DUPFD, 100)
        child_out = fcntl.fcntl(reply_write, fcntl.F_DUPFD, 100)
        os.close(cmd_read)
        os.close(reply_write)

        def wire():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.log = open(os.path.join(workdir, 'chromium.log'), 'w')
        self.proc = subprocess.Popen([binary] + list(CHROMIUM_FLAGS) + ['--user-data-dir=%s' % self.profile, 'about:blank'],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=wire, pass_fds=(3, 4))
        os.close(child_in)
        os.close(child_out)
        self.writer, self.reader = cmd_write, reply_read
        self.buffer = b''
        self.next_id = 0
        self.events = []
        self.session = None

    # -- protocol ---------------------------------------------------------------------------------------
    def _read_message(self, deadline):
        while b'\0' not in self.buffer:
            left = deadline - time.monotonic()
            ready, _w, _x = select.select([self.reader], [], [], max(left, 0))
            assert ready, 'Chromium did not answer within %d s (log: %s)' % (PROTOCOL_TIMEOUT, self.log.name)
            chunk = os.read(self.reader, 1 << 20)
            assert chunk, 'Chromium closed the DevTools pipe (exit code %s; log: %s)' % (self.proc.poll(), self.log.name)
            self.buffer += chunk
        raw, _sep, self.buffer = self.buffer.partition(b'\0')
        return json.loads(raw.decode('utf-8'))

    def send(self, method, session=True, **params):
        self.next_id += 1
        message = {'id': self.next_id, 'method': method, 'params': params}
        if session and self.session:
            message['sessionId'] = self.session
        os.write(self.writer, json.dumps(message).encode('utf-8') + b'\0')
        deadline = time.monotonic() + PROTOCOL_TIMEOUT
        while True:
            reply = self._read_message(deadline)
            if reply.get('id') == self.next_id:
                assert 'error' not in reply, '%s failed: %s' % (method, reply['error'])
                return reply.get('result', {})
            self.events.append(reply)

    def wait_event(self, method):
        deadline = time.monotonic() + PROTOCOL_TIMEOUT
        while True:
            for index, event in enumerate(self.events):
                if event.get('method') == method:
                    return self.events.pop(index)
            self.events.append(self._read_message(deadline))

    # -- page -------------------------------------------------------------------------------------------
    def open(self, path, width, height=900):
        """Load a file from disk at a viewport of ``width`` CSS pixels; returns the URLs the page requested."""
        if self.session is None:
            target = self.send('Target.createTarget', session=False, url='about:blank')['targetId']
            self.session = self.send('Target.attachToTarget', session=False, targetId=target, flatten=True)['sessionId']
            self.send('Page.enable')
            self.send('Network.enable')
        self.send('Emulation.setDeviceMetricsOverride', width=width, height=height, deviceScaleFactor=1, mobile=width < 600)
        self.events = [e for e in self.events if e.get('method') not in ('Page.loadEventFired', 'Network.requestWillBeSent')]
        url = 'file://' + os.path.abspath(path)
        self.send('Page.navigate', url=url)
        self.wait_event('Page.loadEventFired')
        return [e['params']['request']['url'] for e in self.events if e.get('method') == 'Network.requestWillBeSent']

    def evaluate(self, expression):
        result = self.send('Runtime.evaluate', expression=expression, returnByValue=True)
        assert 'exceptionDetails' not in result, 'page script failed: %s' % result['exceptionDetails']
        return result['result'].get('value')

    def screenshot(self, path, width):
        height = self.evaluate('Math.ceil(document.documentElement.scrollHeight)')
        data = self.send('Page.captureScreenshot', format='png', captureBeyondViewport=True,
                         clip={'x': 0, 'y': 0, 'width': width, 'height': height, 'scale': 1})['data']
        with open(path, 'wb') as handle:
            handle.write(base64.b64decode(data))
        return path

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    self.send('Browser.close', session=False)
                except AssertionError:
                    pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        finally:
            os.close(self.writer)
            os.close(self.reader)
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope='module')
def chromium(tmp_path_factory):
    browser = Chromium(str(tmp_path_factory.mktemp('chromium')))
    try:
        yield browser
    finally:
        browser.close()
