"""Fixtures for the Kubernetes tests: the Kubernetes test world (a real kube-apiserver) started and stopped through its stable
command line
(``python -m tests.emulators.kube up|down``), and real ``ansible-playbook`` runs against it."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.emulators.kube import EmulatorControl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV_BIN = os.path.dirname(sys.executable)
DEFAULT_NODES = 'gpu-1:a10:2,gpu-2:l40s:1,cpu-1'


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Emulator(object):
    """A running emulator: its port, kubeconfig, bearer token and the control client."""

    def __init__(self, port, kubeconfig):
        self.port = port
        self.kubeconfig = kubeconfig
        self.control = EmulatorControl(port)
        with open(kubeconfig) as stream:
            self.token = json.load(stream)['users'][0]['user']['token']

    def client(self):
        """An ApiClient of the official ``kubernetes`` package built from the kubeconfig."""
        from kubernetes import config  # pylint: disable=import-outside-toplevel
        return config.new_client_from_config(self.kubeconfig)

    def wait_for(self, predicate, what, timeout=30.0):
        """Poll ``predicate()`` until it returns something truthy; fail naming ``what`` otherwise."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError('timed out waiting for %s (last value: %r)' % (what, value))


def start_emulator(directory, nodes=DEFAULT_NODES, extra=()):
    port = free_port()
    kubeconfig = os.path.join(str(directory), 'kubeconfig-%d' % port)
    command = [sys.executable, '-m', 'tests.emulators.kube', 'up', '--port', str(port), '--kubeconfig', kubeconfig,
               '--nodes', nodes] + list(extra)
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800, check=False)
    if result.returncode != 0:
        raise RuntimeError('kube emulator did not start: %s%s' % (result.stdout, result.stderr))
    assert 'KUBECONFIG=%s' % kubeconfig in result.stdout
    return Emulator(port, kubeconfig)


def stop_emulator(emulator):
    subprocess.run([sys.executable, '-m', 'tests.emulators.kube', 'down', '--port', str(emulator.port)],
                   cwd=REPO, capture_output=True, text=True, timeout=30, check=True)


@pytest.fixture(scope='session')
def kube_session(tmp_path_factory):
    emulator = start_emulator(tmp_path_factory.mktemp('kube'), extra=['--delay', '0.2'])
    yield emulator
    stop_emulator(emulator)


@pytest.fixture
def kube(kube_session):
    """The emulator (default nodes, vgpu-device-manager delay 0.2 s), reset to its seeded cluster for each test."""
    kube_session.control.reset_cluster()
    return kube_session


@pytest.fixture
def kube_factory(tmp_path):
    """Start emulators with other options; all are stopped at the end of the test."""
    started = []

    def make(nodes=DEFAULT_NODES, extra=()):
        emulator = start_emulator(tmp_path, nodes=nodes, extra=extra)
        started.append(emulator)
        return emulator
    yield make
    for emulator in started:
        stop_emulator(emulator)


class PlaybookRun(object):
    def __init__(self, completed, result_file):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.results = {}
        if os.path.exists(result_file):
            with open(result_file) as stream:
                self.results = json.load(stream)

    @property
    def output(self):
        return self.stdout + self.stderr


@pytest.fixture
def playbook(tmp_path):
    """Run a play (YAML text with a ``hosts: localhost`` play) with real ansible-playbook.

    Every task that registers ``out`` (or ``out_<name>``) has its result saved by the ``save`` task that the
    play may end with: use ``{{ lookup('template', ...) }}``-free plain ``copy: content="{{ out | to_json }}"``.
    Returns a :class:`PlaybookRun` with ``rc``, ``stdout``, ``stderr``.
    """
    counter = [0]

    def run(play, emulator=None, check=False, diff=False, verbosity=0, env=None, extra_vars=None):
        counter[0] += 1
        path = tmp_path / ('play-%d.yml' % counter[0])
        path.write_text(play)
        result_file = str(tmp_path / ('results-%d.json' % counter[0]))
        command = [os.path.join(VENV_BIN, 'ansible-playbook'), str(path), '-e', 'result_file=%s' % result_file]
        if check:
            command.append('--check')
        if diff:
            command.append('--diff')
        if verbosity:
            command.append('-' + 'v' * verbosity)
        for key, value in (extra_vars or {}).items():
            command += ['-e', '%s=%s' % (key, value)]
        environment = dict(os.environ)
        environment.update({
            'ANSIBLE_COLLECTIONS_PATH': os.environ.get('ANSIBLE_COLLECTIONS_PATH', os.path.join(REPO, '.build', 'collections')),
            'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_FORCE_COLOR': '0', 'ANSIBLE_LOCALHOST_WARNING': '0',
            'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0', 'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
            'ANSIBLE_HOME': str(tmp_path / 'ansible-home'), 'ANSIBLE_STDOUT_CALLBACK': 'default',
            'PATH': VENV_BIN + os.pathsep + os.environ.get('PATH', ''),
        })
        for key in [k for k in environment if k.startswith('K8S_AUTH_')]:
            del environment[key]
        if emulator is not None:
            environment['K8S_AUTH_KUBECONFIG'] = emulator.kubeconfig
        environment.update(env or {})
        completed = subprocess.run(command, cwd=str(tmp_path), env=environment, capture_output=True, text=True,
                                   timeout=300, check=False)
        return PlaybookRun(completed, result_file)
    return run
