"""Fixtures for the capacity report's integration tests: the fixture facts, ansible-playbook's options, headless Chromium.

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
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DATA = os.path.join(REPO, 'tests', 'unit', 'report', 'data')
OUTPUT = os.path.join(REPO, 'tests', 'output', 'report')
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


@pytest.fixture
def playbook_defaults():
    """Playbooks run with the json callback (``run.result(task, host)``, ``run.stats``) and must exit 0 unless a
    test says otherwise (``expect_rc``)."""
    return {'callback': 'json', 'expect_rc': 0}


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
