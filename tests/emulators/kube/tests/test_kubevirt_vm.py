"""The Kubernetes test world's VirtualMachine handling (the real API server with KubeVirt v1.9.0's generated CRD, and
the virt-api/virt-controller doubles of tests/emulators/kube/doubles/virt.py), which the kubevirt_gpu role's example
VM runs against, checked as KubeVirt behaves [facts §6, S6]: the CRD schema and the virtualmachine-validator
webhook refuse with 422, the permitted-device check happens only when the VM
starts, and a started VM is scheduled on a node with free device resources."""

import pytest

from tests.integration.worlds.kube import start_emulator, stop_emulator
from tests.integration.kubeapi import Client

VMS = '/apis/kubevirt.io/v1/namespaces/default/virtualmachines'
KUBEVIRT = '/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt'
A10_4Q = 'nvidia.com/NVIDIA_A10-4Q'
L40S = 'nvidia.com/AD102GL_L40S'


class Api(object):
    """JSON requests as the kubeconfig's user (a plain client of the world's API server), and the world's test
    hooks."""

    def __init__(self, emulator):
        self.client = Client.from_kubeconfig(emulator.kubeconfig)
        self.control = emulator.control
        self.wait_for = emulator.wait_for

    def call(self, method, path, body=None, content_type='application/json'):
        """(HTTP status, decoded body) of one request."""
        return self.client.call(method, path, body, content_type)

    def get(self, path):
        return self.call('GET', path)[1]


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    """Emulator with gpu-1 (2 x A10), gpu-2 (1 x L40S), cpu-1; KubeVirt with HostDevices only (no
    permittedHostDevices yet)."""
    emulator = start_emulator(tmp_path_factory.mktemp('kubevirt-vm'), nodes='gpu-1:a10:2,gpu-2:l40s:1,cpu-1', extra=['--delay', '0.1'])
    yield Api(emulator)
    stop_emulator(emulator)


@pytest.fixture
def api(cluster):
    """The cluster as seeded, with the GPU nodes set up as the role leaves them."""
    cluster.control.reset_cluster()
    api = cluster
    merge = 'application/merge-patch+json'
    api.call('PATCH', '/api/v1/nodes/gpu-1', {'metadata': {'labels': {'nvidia.com/gpu.workload.config': 'vm-vgpu',
                                                                      'nvidia.com/vgpu.config': 'A10-4Q'}}}, merge)
    api.call('PATCH', '/api/v1/nodes/gpu-2', {'metadata': {'labels': {'nvidia.com/gpu.workload.config': 'vm-passthrough'}}}, merge)
    api.wait_for(lambda: api.get('/api/v1/nodes/gpu-1')['status']['allocatable'].get(A10_4Q) == '12', 'A10-4Q resources on gpu-1')
    api.wait_for(lambda: api.get('/api/v1/nodes/gpu-2')['status']['allocatable'].get(L40S) == '1', 'the L40S resource on gpu-2')
    return api


def _vm(name, device=A10_4Q, field='gpus', run_strategy='Always'):
    return {'apiVersion': 'kubevirt.io/v1', 'kind': 'VirtualMachine', 'metadata': {'name': name},
            'spec': {'runStrategy': run_strategy, 'template': {'spec': {
                'domain': {'devices': {field: [{'name': 'gpu1', 'deviceName': device}]}, 'resources': {'requests': {'memory': '1Gi'}}},
                'volumes': [{'name': 'rootdisk', 'containerDisk': {'image': 'quay.io/containerdisks/fedora:40'}}]}}}}


def _status(api, name, wanted):
    """Wait until the VM's printableStatus is ``wanted``; its status then."""
    def reached():
        status = api.get('%s/%s' % (VMS, name)).get('status') or {}
        return status if status.get('printableStatus') == wanted else None
    return api.wait_for(reached, 'VM %s %s' % (name, wanted))


def _permit(api, mediated=(), pci=()):
    body = {'spec': {'configuration': {'permittedHostDevices': {
        'mediatedDevices': [{'mdevNameSelector': 'NVIDIA A10-4Q', 'resourceName': r, 'externalResourceProvider': True} for r in mediated],
        'pciHostDevices': [{'pciVendorSelector': '10DE:26B9', 'resourceName': r, 'externalResourceProvider': True} for r in pci]}}}}
    status, answer = api.call('PATCH', KUBEVIRT, body, 'application/merge-patch+json')
    assert status == 200, answer


def test_virtualmachines_are_served_in_discovery(api):
    resources = {r['name']: r for r in api.get('/apis/kubevirt.io/v1')['resources']}
    assert resources['virtualmachines']['kind'] == 'VirtualMachine'
    assert resources['virtualmachines']['namespaced'] is True
    assert 'vm' in resources['virtualmachines']['shortNames']


def test_schema_and_webhook_refusals(api):
    # the CRD (kubevirt.io/api v1.9.0) requires gpus[].name; deviceName is optional there since DRA claims came in,
    # and virt-api's DRA admitter refuses a GPU that has neither
    broken = _vm('no-name')
    del broken['spec']['template']['spec']['domain']['devices']['gpus'][0]['name']
    status, answer = api.call('POST', VMS, broken)
    assert status == 422 and answer['reason'] == 'Invalid'
    assert 'spec.template.spec.domain.devices.gpus[0].name: Required value' in answer['message']
    broken = _vm('no-device-name')
    del broken['spec']['template']['spec']['domain']['devices']['gpus'][0]['deviceName']
    status, answer = api.call('POST', VMS, broken)
    assert status == 422 and answer['reason'] == 'Invalid'
    assert answer['message'] == ('admission webhook "virtualmachine-validator.kubevirt.io" denied the request: '
                                 'vmi.spec.domain.devices.gpus contains GPUs without deviceName')

    both = _vm('both-run-fields')
    both['spec']['running'] = True
    status, answer = api.call('POST', VMS, both)
    assert status == 422
    assert answer['message'].startswith('admission webhook "virtualmachine-validator.kubevirt.io" denied the request: ')
    assert 'mutually exclusive' in answer['message']

    status, answer = api.call('POST', VMS, _vm('bad-strategy', run_strategy='Sometimes'))
    assert status == 422 and 'Invalid RunStrategy (Sometimes)' in answer['message']

    # hostDevices need the HostDevices gate; the seeded CR has it, so take it away first
    status, answer = api.call('PATCH', KUBEVIRT, {'spec': {'configuration': {'developerConfiguration': {'featureGates': []}}}},
                              'application/merge-patch+json')
    assert status == 200, answer
    status, answer = api.call('POST', VMS, _vm('host-device', device=L40S, field='hostDevices'))
    assert status == 422
    assert 'Host Devices feature gate is not enabled in kubevirt-config' in answer['message']
    assert answer['details']['causes'][0]['field'] == 'spec.template.spec.domain.devices.HostDevices'
    # gpus do not need it (GPU is GA)
    status, answer = api.call('POST', VMS, _vm('gpu-without-gate', run_strategy='Halted'))
    assert status == 201, answer
    assert api.get(VMS)['items'] and [vm['metadata']['name'] for vm in api.get(VMS)['items']] == ['gpu-without-gate']


def test_halted_vm_is_stopped_and_holds_nothing(api):
    status, answer = api.call('POST', VMS, _vm('halted', run_strategy='Halted'))
    assert status == 201, answer
    vm_status = _status(api, 'halted', 'Stopped')
    assert vm_status['conditions'][0]['reason'] == 'VMINotExists'
    assert _placements(api) == {}


def _placements(api):
    """Where virt-controller put the running VMs (the emulator's operator hook)."""
    return api.control.operator()['vms']


def test_not_permitted_device_is_accepted_then_fails_to_launch_until_permitted(api):
    _permit(api, pci=[L40S])  # a permittedHostDevices section without the vGPU
    status, answer = api.call('POST', VMS, _vm('vgpu-vm'))
    assert status == 201, answer  # the webhook does not check permittedHostDevices
    vm_status = _status(api, 'vgpu-vm', 'Starting')
    synchronized = [c for c in vm_status['conditions'] if c['type'] == 'Synchronized'][0]
    assert synchronized['reason'] == 'FailedCreate'
    assert synchronized['message'] == ('failed to render launch manifest: GPU nvidia.com/NVIDIA_A10-4Q is not permitted in '
                                       'permittedHostDevices configuration')
    _permit(api, mediated=[A10_4Q], pci=[L40S])
    assert _status(api, 'vgpu-vm', 'Running')['ready'] is True
    assert _placements(api) == {'default/vgpu-vm': {'node': 'gpu-1', 'devices': {A10_4Q: 1}}}


def test_no_permitted_section_means_no_check_and_scheduling_counts_devices(api):
    # the seeded CR has no permittedHostDevices: KubeVirt does not check, the scheduler still needs the resource
    for name in ('l40s-a', 'l40s-b'):
        status, answer = api.call('POST', VMS, _vm(name, device=L40S))
        assert status == 201, answer
    _status(api, 'l40s-a', 'Running')
    waiting = _status(api, 'l40s-b', 'ErrorUnschedulable')
    scheduled = [c for c in waiting['conditions'] if c['type'] == 'PodScheduled'][0]
    assert scheduled['reason'] == 'Unschedulable'
    assert scheduled['message'] == '0/3 nodes are available: 3 Insufficient nvidia.com/AD102GL_L40S.'
    # stopping the first frees the GPU for the second
    status, answer = api.call('PATCH', VMS + '/l40s-a', {'spec': {'runStrategy': 'Halted'}}, 'application/merge-patch+json')
    assert status == 200, answer
    _status(api, 'l40s-a', 'Stopped')
    _status(api, 'l40s-b', 'Running')
    assert _placements(api) == {'default/l40s-b': {'node': 'gpu-2', 'devices': {L40S: 1}}}


def test_vm_waiting_for_vgpus_starts_when_a_node_advertises_them(api):
    status, answer = api.call('POST', VMS, _vm('a10-8q', device='nvidia.com/NVIDIA_A10-8Q'))
    assert status == 201, answer
    _status(api, 'a10-8q', 'ErrorUnschedulable')
    status, answer = api.call('PATCH', '/api/v1/nodes/gpu-1', {'metadata': {'labels': {'nvidia.com/vgpu.config': 'A10-8Q'}}},
                              'application/merge-patch+json')
    assert status == 200, answer
    _status(api, 'a10-8q', 'Running')
    # deleting it releases the vGPU
    status, answer = api.call('DELETE', VMS + '/a10-8q')
    assert status == 200, answer
    # virt-controller sees the deletion through its watch, after the API server has answered
    api.wait_for(lambda: _placements(api) == {}, 'the vGPU of the deleted VM to be released')
