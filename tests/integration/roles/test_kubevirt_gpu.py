"""kubevirt_gpu against the Kubernetes test world (a real kube-apiserver with KubeVirt v1.9.0's generated CRD and
the GPU Operator / KubeVirt doubles) with real ansible-playbook runs: check mode on a fresh cluster
writes nothing, the licence token never appears in -vvv --diff output (design.md conventions), a second run
(token from a file this time) writes nothing, a device KubeVirt does not permit is refused before the VM is
written (KubeVirt itself would only fail at launch [facts §6]), host devices need the HostDevices gate the role
sets, and the example VM can be removed."""
import json
import os
import subprocess
import sys

import pytest

from tests.integration.worlds.kube import start_emulator, stop_emulator
from tests.integration.kubeapi import Client

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
TOKEN = 'NLS-TOKEN-5e0c97-never-print-me'
VM_PATH = '/apis/kubevirt.io/v1/namespaces/default/virtualmachines/gpu-vm-example'
KUBEVIRT_PATH = '/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt'
GROUPS = [{'nodes': ['gpu-1'], 'workload': 'vm-vgpu', 'vgpu_config': 'A10-4Q'},
          {'label_selector': 'nvidia.com/gpu.product=NVIDIA-L40S', 'workload': 'vm-passthrough'}]


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp('kubevirt-gpu')
    emulator = start_emulator(work, nodes='gpu-1:a10:2,gpu-2:l40s:1,cpu-1', extra=['--delay', '0.1'])
    yield {'work': work, 'kubeconfig': emulator.kubeconfig, 'control': emulator.control, 'client': Client.from_kubeconfig(emulator.kubeconfig)}
    stop_emulator(emulator)


@pytest.fixture
def lab(cluster):
    cluster['control'].reset_cluster()
    return cluster


def _play(lab, role_vars, check=False):
    """Run the role with ``role_vars`` at -vvv --diff; the CompletedProcess (stdout and stderr together)."""
    role_vars = dict({'kubevirt_gpu_kubeconfig': lab['kubeconfig'], 'kubevirt_gpu_wait_delay': 0.1,
                      'kubevirt_gpu_license_check_cluster_policy': False}, **role_vars)
    playbook = lab['work'] / 'kubevirt-gpu.yml'
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False,
                                     'roles': [dict({'role': 'gpuvirt.core.kubevirt_gpu'}, **role_vars)]}]))
    command = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', '-e',
               'ansible_python_interpreter=%s' % sys.executable, str(playbook), '-vvv', '--diff']
    if check:
        command.append('--check')
    env = dict(os.environ, ANSIBLE_NOCOWS='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1')
    return subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False, env=env)


def _recap_changed(output):
    line = [line for line in output.splitlines() if line.startswith('localhost') and 'changed=' in line][-1]
    return int(line.split('changed=')[1].split()[0])


def _vm_writes(lab):
    return [r for r in lab['control'].writes() if '/virtualmachines' in r['path']]


def test_check_mode_writes_nothing_then_converges_token_never_printed_then_nothing_to_do(lab):
    role_vars = {'kubevirt_gpu_node_groups': GROUPS, 'kubevirt_gpu_license_token': TOKEN, 'kubevirt_gpu_example_vm': True}
    checked = _play(lab, role_vars, check=True)
    assert checked.returncode == 0, checked.stdout[-6000:]
    assert TOKEN not in checked.stdout
    assert lab['control'].writes() == []
    assert _recap_changed(checked.stdout) > 0
    assert lab['client'].get(VM_PATH) is None

    first = _play(lab, role_vars)
    assert first.returncode == 0, first.stdout[-6000:]
    assert TOKEN not in first.stdout
    node = lab['client'].get('/api/v1/nodes/gpu-1')
    assert node['metadata']['labels']['nvidia.com/vgpu.config.state'] == 'success'
    vm = lab['client'].get(VM_PATH)
    assert vm['spec']['runStrategy'] == 'Halted'
    assert vm['spec']['template']['spec']['domain']['devices']['gpus'] == [{'name': 'gpu1', 'deviceName': 'nvidia.com/NVIDIA_A10-4Q'}]
    # the real API server prunes what KubeVirt's schema lacks and refuses wrong types: all the role sent is there
    assert vm['spec']['template']['spec']['domain'] == {
        'cpu': {'cores': 4}, 'resources': {'requests': {'memory': '8Gi'}},
        'devices': {'disks': [{'name': 'rootdisk', 'disk': {'bus': 'virtio'}}],
                    'gpus': [{'name': 'gpu1', 'deviceName': 'nvidia.com/NVIDIA_A10-4Q'}]}}
    assert vm['spec']['template']['spec']['volumes'] == [
        {'name': 'rootdisk', 'containerDisk': {'image': 'quay.io/containerdisks/ubuntu:24.04'}}]
    assert vm['status']['printableStatus'] == 'Stopped'
    licensing = lab['client'].get('/api/v1/namespaces/gpu-operator/secrets/licensing-config')
    assert 'client_configuration_token.tok' in licensing['data']

    # the same token from a file on the controller: nothing to change, nothing written
    token_file = lab['work'] / 'client_configuration_token.tok'
    token_file.write_text(TOKEN)
    lab['control'].reset()
    version = lab['client'].get(VM_PATH)['metadata']['resourceVersion']
    second = _play(lab, dict(role_vars, kubevirt_gpu_license_token='', kubevirt_gpu_license_token_file=str(token_file)))
    assert second.returncode == 0, second.stdout[-6000:]
    assert TOKEN not in second.stdout
    assert _recap_changed(second.stdout) == 0
    # the collection's modules send nothing; kubernetes.core.k8s always sends its merge patch, which the API server
    # treats as a no-op: same resourceVersion, no event
    assert [(r['method'], r['path']) for r in lab['control'].writes()] == [('PATCH', VM_PATH)]
    assert lab['client'].get(VM_PATH)['metadata']['resourceVersion'] == version


def test_device_not_permitted_is_refused_before_the_vm_is_written(lab):
    result = _play(lab, {'kubevirt_gpu_node_groups': GROUPS[:1], 'kubevirt_gpu_example_vm': True,
                         'kubevirt_gpu_example_vm_device': 'nvidia.com/NVIDIA_A10-24Q'})
    assert result.returncode != 0
    assert 'nvidia.com/NVIDIA_A10-24Q is not among the devices the KubeVirt CR kubevirt/kubevirt permits' in result.stdout
    assert 'nvidia.com/NVIDIA_A10-4Q' in result.stdout  # what is permitted is named
    assert _vm_writes(lab) == []
    assert lab['client'].get(VM_PATH) is None


def test_host_devices_need_the_gate_the_role_sets(lab):
    patched = lab['client'].request('PATCH', KUBEVIRT_PATH, {'spec': {'configuration': {'developerConfiguration': {'featureGates': []}}}},
                                    content_type='application/merge-patch+json')
    assert patched['spec']['configuration']['developerConfiguration']['featureGates'] == []
    passthrough = {'kubevirt_gpu_node_groups': GROUPS[1:], 'kubevirt_gpu_example_vm': True,
                   'kubevirt_gpu_example_vm_device_field': 'hostDevices'}
    refused = _play(lab, dict(passthrough, kubevirt_gpu_feature_gates=[]))
    assert refused.returncode != 0
    assert 'Host Devices feature gate is not enabled in kubevirt-config' in refused.stdout
    assert lab['client'].get(VM_PATH) is None

    accepted = _play(lab, dict(passthrough, kubevirt_gpu_example_vm_run_strategy='Always'))
    assert accepted.returncode == 0, accepted.stdout[-6000:]
    vm = lab['client'].get(VM_PATH)
    assert vm['spec']['template']['spec']['domain']['devices']['hostDevices'] == [{'name': 'gpu1', 'deviceName': 'nvidia.com/AD102GL_L40S'}]
    assert vm['status']['printableStatus'] == 'Running'
    assert lab['control'].operator()['vms'] == {'default/gpu-vm-example': {'node': 'gpu-2', 'devices': {'nvidia.com/AD102GL_L40S': 1}}}


def test_example_vm_absent_deletes_it(lab):
    created = _play(lab, {'kubevirt_gpu_node_groups': GROUPS[:1], 'kubevirt_gpu_example_vm': True})
    assert created.returncode == 0, created.stdout[-6000:]
    assert lab['client'].get(VM_PATH) is not None
    removed = _play(lab, {'kubevirt_gpu_node_groups': GROUPS[:1], 'kubevirt_gpu_example_vm': True, 'kubevirt_gpu_example_vm_state': 'absent'})
    assert removed.returncode == 0, removed.stdout[-6000:]
    assert lab['client'].get(VM_PATH) is None
    again = _play(lab, {'kubevirt_gpu_node_groups': GROUPS[:1], 'kubevirt_gpu_example_vm': True, 'kubevirt_gpu_example_vm_state': 'absent'})
    assert again.returncode == 0 and _recap_changed(again.stdout) == 0
