"""Fixtures for the CAPV and Tanzu tests: the Kubernetes test world (a real API server with the Cluster API v1.13.1
and CAPV v1.16.1 v1beta1 CRDs and the CAPV template webhook double) holding Cluster API objects
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
from tests.integration.kubeapi import Client
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


NO_TLS_CHECK = ssl._create_unverified_context()  # pylint: disable=protected-access  # the simulator's self-signed cert


class VCenter(object):
    """vcsim-gpu's vCenter REST API (tests/emulators/vcsim/addon/vmclass.go), used to seed and to verify."""

    def __init__(self, sim):
        self.sim = sim
        self.env = sim.env
        self.base = 'https://127.0.0.1:%d' % sim.port
        self._session = None

    def _send(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=dict({'Content-Type': 'application/json'}, **(headers or {})))
        try:
            with urllib.request.urlopen(request, context=NO_TLS_CHECK, timeout=30) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b'null')
        return response.status, json.loads(text) if text else None

    def api(self, method, path, body=None):
        """(status, body) of an authenticated /api request."""
        if self._session is None:
            import base64  # pylint: disable=import-outside-toplevel
            token = base64.b64encode(('%s:%s' % (self.env['VMWARE_USER'], self.env['VMWARE_PASSWORD'])).encode()).decode()
            status, self._session = self._send('POST', '/api/session', headers={'Authorization': 'Basic ' + token})
            assert status == 201, self._session
        return self._send(method, path, body, headers={'vmware-api-session-id': self._session})

    def control(self, method, what, body=None):
        return self._send(method, '/vmclass-sim/' + what, body)[1]

    def reset(self):
        self.control('POST', 'reset')
        self._session = None

    def vm_class(self, class_id):
        status, body = self.api('GET', '/api/vcenter/namespace-management/virtual-machine-classes/' + class_id)
        return body if status == 200 else None

    def namespace(self, name):
        return self.api('GET', '/api/vcenter/namespaces/instances/' + name)[1]

    def create_namespace(self, name, classes=(), libraries=()):
        cluster = self.api('GET', '/api/vcenter/cluster')[1][0]['cluster']
        status, body = self.api('POST', '/api/vcenter/namespaces/instances', {
            'cluster': cluster, 'namespace': name,
            'vm_service_spec': {'vm_classes': list(classes), 'content_libraries': list(libraries)}})
        assert status == 204, body

    def writes(self):
        return [(r['method'], r['path']) for r in self.control('GET', 'requests') if r['write']]

    def clear_log(self):
        self.control('DELETE', 'requests')


@pytest.fixture(scope='module')
def vcenter_sims():
    """Two simulators: vCenter 7.0.3 (VM class ``devices``) and 8.0.3 (``config_spec``), one host each."""
    sims = {}
    try:
        for version in ('7.0.3.0', '8.0.3.0'):
            sims[version] = start_sim(clusters=1, hosts=1, vms=1, api_version=version)
        yield sims
    finally:
        for sim in sims.values():
            stop_sim(sim)


@pytest.fixture(params=['7.0.3.0', '8.0.3.0'])
def vcenter(request, vcenter_sims):
    """A vCenter of each version with the default VM classes and namespace ``tak`` (a content library and
    ``best-effort-small`` assigned), request log cleared."""
    center = VCenter(vcenter_sims[request.param])
    center.version = request.param
    center.reset()
    center.create_namespace('tak', classes=['best-effort-small'], libraries=['lib-ubuntu'])
    center.clear_log()
    return center


@pytest.fixture
def vcenter_803(vcenter_sims):
    center = VCenter(vcenter_sims['8.0.3.0'])
    center.version = '8.0.3.0'
    center.reset()
    center.create_namespace('tak', classes=['best-effort-small'], libraries=['lib-ubuntu'])
    center.clear_log()
    return center
