"""The Kubernetes test world as the tests drive it: started and stopped through its stable command line
(``python -m tests.emulators.kube up|down``), the ``kube``/``kube_factory`` fixtures, real kubectl against it, and
the world holding Cluster API objects (the seed-000 worker template and MachineDeployment).

A plain module: the conftests of tests/integration/kube, tests/integration/capv and tests/emulators/kube/tests
import the fixtures from here, and the role tests the start/stop helpers."""
import copy
import json
import os
import subprocess
import sys
import time

import pytest

from tests.emulators.kube import EmulatorControl, binaries
from tests.integration.kubeapi import Client
from tests.integration.worlds import start_on_a_free_port

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULT_NODES = 'gpu-1:a10:2,gpu-2:l40s:1,cpu-1'


class Emulator(object):
    """A running emulator: its port, kubeconfig, bearer token and the control client."""

    def __init__(self, port, kubeconfig):
        self.port = port
        self.kubeconfig = kubeconfig
        self.control = EmulatorControl(port)
        with open(kubeconfig) as stream:
            self.token = json.load(stream)['users'][0]['user']['token']

    @property
    def connection_env(self):
        """What a playbook run against this world gets in its environment (the kubernetes.core convention)."""
        return {'K8S_AUTH_KUBECONFIG': self.kubeconfig}

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
    def start(port):
        kubeconfig = os.path.join(str(directory), 'kubeconfig-%d' % port)
        command = [sys.executable, '-m', 'tests.emulators.kube', 'up', '--port', str(port), '--kubeconfig', kubeconfig,
                   '--nodes', nodes] + list(extra)
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800, check=False)
        if result.returncode == 0:
            assert 'KUBECONFIG=%s' % kubeconfig in result.stdout
        return result.returncode, result.stdout + result.stderr, (port, kubeconfig)
    return Emulator(*start_on_a_free_port(start, 'kube emulator'))


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


def kubectl(kube, *args, stdin=None, check=True):
    command = [os.path.join(binaries.ensure(), 'kubectl'), '--kubeconfig', kube.kubeconfig] + list(args)
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60, check=False)
    if check and done.returncode != 0:
        raise AssertionError('kubectl %s failed (%d): %s%s' % (' '.join(args), done.returncode, done.stdout, done.stderr))
    return done


def get_json(kube, *args):
    return json.loads(kubectl(kube, 'get', '-o', 'json', *args).stdout)


# -- the world holding Cluster API objects (CAPV and Tanzu tests, bad-input tests) ------------------------------
NAMESPACE = 'default'
TEMPLATES = '/apis/infrastructure.cluster.x-k8s.io/v1beta1/namespaces/%s/vspheremachinetemplates' % NAMESPACE
DEPLOYMENTS = '/apis/cluster.x-k8s.io/v1beta1/namespaces/%s/machinedeployments' % NAMESPACE

# The worker template of seed 000 (CAPV's "GPU enabled clusters using vGPU"), placeholders filled in.
WORKER_TEMPLATE = {
    'apiVersion': 'infrastructure.cluster.x-k8s.io/v1beta1', 'kind': 'VSphereMachineTemplate',
    'metadata': {'name': 'w1-worker', 'namespace': NAMESPACE, 'labels': {'cluster.x-k8s.io/cluster-name': 'w1'}},
    'spec': {'template': {'spec': {
        'cloneMode': 'linkedClone', 'datacenter': 'DC0', 'datastore': 'LocalDS_0', 'diskGiB': 25, 'folder': 'vm',
        'memoryMiB': 8192, 'network': {'devices': [{'dhcp4': True, 'networkName': 'VM Network'}]}, 'numCPUs': 2,
        'os': 'Linux', 'powerOffMode': 'trySoft', 'resourcePool': '/DC0/host/DC0_C0/Resources', 'server': 'vc.lab',
        'storagePolicyName': '', 'template': 'ubuntu-2004-kube-v1.31.4-efi', 'thumbprint': '01:02:03',
    }}},
}
MACHINE_DEPLOYMENT = {
    'apiVersion': 'cluster.x-k8s.io/v1beta1', 'kind': 'MachineDeployment',
    'metadata': {'name': 'w1-md-0', 'namespace': NAMESPACE, 'labels': {'cluster.x-k8s.io/cluster-name': 'w1'}},
    'spec': {'clusterName': 'w1', 'replicas': 2,
             'selector': {'matchLabels': {'cluster.x-k8s.io/deployment-name': 'w1-md-0'}},
             'template': {'metadata': {'labels': {'cluster.x-k8s.io/deployment-name': 'w1-md-0'}}, 'spec': {
                 'clusterName': 'w1', 'version': 'v1.31.4',
                 'bootstrap': {'configRef': {'apiVersion': 'bootstrap.cluster.x-k8s.io/v1beta1',
                                             'kind': 'KubeadmConfigTemplate', 'name': 'w1-md-0'}},
                 'infrastructureRef': {'apiVersion': 'infrastructure.cluster.x-k8s.io/v1beta1',
                                       'kind': 'VSphereMachineTemplate', 'name': 'w1-worker'}}}},
}


class CapiCluster(object):
    """The world with the seed-000 worker template and MachineDeployment, read as the kubeconfig's user."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.kubeconfig = emulator.kubeconfig
        self.control = emulator.control
        self.env = {'K8S_AUTH_KUBECONFIG': emulator.kubeconfig}
        self.client = Client.from_kubeconfig(emulator.kubeconfig)

    def _call(self, method, path, body=None):
        if method == 'GET':
            return self.client.get(path)
        return self.client.request(method, path, body)

    def seed(self):
        self._call('POST', TEMPLATES, copy.deepcopy(WORKER_TEMPLATE))
        self._call('POST', DEPLOYMENTS, copy.deepcopy(MACHINE_DEPLOYMENT))
        self.control.reset()

    def template(self, name):
        return self._call('GET', '%s/%s' % (TEMPLATES, name))

    def templates(self):
        return sorted(t['metadata']['name'] for t in self._call('GET', TEMPLATES)['items'])

    def deployment(self, name='w1-md-0'):
        return self._call('GET', '%s/%s' % (DEPLOYMENTS, name))

    def writes(self):
        return [(r['method'], r['path']) for r in self.control.writes()]
