"""Fixture facts for the capacity report, in the shapes of the info modules' results (design.md, stable keys,
plus the extra keys host_gpu_info / vsphere_gpu_info / k8s_gpu_info return today).

``lab.json`` is a whole lab: vSphere (two hosts, vGPU VMs, passthrough, a host waiting for a reboot), four KVM
hosts (mdev on a T4 PF, mdev on A10 VFs, a full vendor-VFIO L40S, MIG-backed A100 vGPUs, a mixed-size A10, an L40S
without VFs, a vfio-pci A10, and one host that was unreachable) and a Kubernetes cluster (vGPU, passthrough, a
failed vGPU config, a CPU node).
"""
import json
import os

import pytest

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')


@pytest.fixture
def lab_facts():
    with open(os.path.join(DATA, 'lab.json')) as handle:
        return json.load(handle)


def kvm_gpu(address, device_id, vgpus=(), vgpu_types=(), backend='mdev', driver='nvidia', total_vfs=0, num_vfs=0, **extra):
    """One host_gpu_info ``gpus`` entry (reference facts §1-3 shapes)."""
    gpu = {'address': address, 'vendor_id': '0x10de', 'device_id': device_id, 'driver': driver, 'iommu_group': '12',
           'sriov': {'capable': bool(total_vfs), 'total_vfs': total_vfs, 'num_vfs': num_vfs}, 'vgpu_backend': backend,
           'vgpu_types': [dict(t) for t in vgpu_types], 'vgpus': [dict(v) for v in vgpus], 'in_use': False}
    gpu.update(extra)
    return gpu


def mdev(uuid, type_name, type_id='nvidia-593', parent='0000:3b:00.4', in_use=False):
    return {'id': uuid, 'type_id': type_id, 'type_name': type_name, 'parent': parent, 'in_use': in_use}


@pytest.fixture
def make_kvm_gpu():
    return kvm_gpu


@pytest.fixture
def make_mdev():
    return mdev
