"""Fixtures for the CAPV and Tanzu tests: the Kubernetes API emulator holding Cluster API objects
(VSphereMachineTemplate, MachineDeployment), vcsim-gpu serving vCenter's namespace-management REST API, and
real ``ansible-playbook`` runs.

The emulators are started through their stable command lines, with the helpers of the kube and vSphere test
folders (reused, not copied)."""
import copy
import json
import ssl
import urllib.request

import pytest

from tests.integration.kube.conftest import start_emulator, stop_emulator
from tests.integration.vsphere.conftest import playbook, start_sim, stop_sim  # noqa: F401  pylint: disable=unused-import

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
    """The emulator with the seed-000 worker template and MachineDeployment, read through plain HTTP."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.kubeconfig = emulator.kubeconfig
        self.control = emulator.control
        self.env = {'K8S_AUTH_KUBECONFIG': emulator.kubeconfig}

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request('http://127.0.0.1:%d%s' % (self.emulator.port, path), data=data, method=method,
                                         headers={'Authorization': 'Bearer %s' % self.emulator.token,
                                                  'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and method == 'GET':
                return None
            raise

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


@pytest.fixture(scope='module')
def capi_emulator(tmp_path_factory):
    emulator = start_emulator(tmp_path_factory.mktemp('capi'), nodes='cpu-1')
    yield emulator
    stop_emulator(emulator)


@pytest.fixture
def capi(capi_emulator):
    """A management cluster with template ``w1-worker`` and MachineDeployment ``w1-md-0`` using it; request log
    cleared."""
    capi_emulator.control.reset_cluster()
    cluster = CapiCluster(capi_emulator)
    cluster.seed()
    return cluster
