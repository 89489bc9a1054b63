"""The peer as a client (issue 13, item 5): community.vmware's vGPU and host GPU modules (vmware_guest_vgpu,
vmware_guest_vgpu_info, vmware_host_graphics, vmware_host_passthrough, from the `ansible` package's community.vmware)
and govc (govmomi's CLI at the simulator's pinned govmomi version) against vcsim-gpu, and gpuvirt.core on the same
objects: what one writes the other reads the same way, and neither rewrites what the other wrote."""
import json
import os
import subprocess

import pytest

from tests.emulators.vcsim import vcsim_gpu

pytestmark = pytest.mark.integration

VM0, VM1 = 'DC0_C0_RP0_VM0', 'DC0_C0_RP0_VM1'
H0, H1 = 'DC0_C0_H0', 'DC0_C0_H1'
A100 = '0000:af:00.0'  # the A100 of the add-on's default GPUs


def govc(sim, *args):
    env = dict(os.environ, GOVC_URL='https://127.0.0.1:%d/sdk' % sim.port, GOVC_USERNAME=sim.env['VMWARE_USER'],
               GOVC_PASSWORD=sim.env['VMWARE_PASSWORD'], GOVC_INSECURE='1')
    proc = subprocess.run([vcsim_gpu.govc()] + list(args), env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if '-json' in args else proc.stdout


def vgpu_profiles(info, vm):
    return next(v['vgpu_profiles'] for v in info['vms'] if v['name'] == vm)


def test_vm_vgpus_written_by_one_are_read_the_same_by_the_others(sim, playbook):
    sim.shared_direct(H0, H1)  # gpuvirt.core refuses a vGPU its VM's host cannot run; the peer does not check
    for vm in (VM0, VM1):
        sim.power_off(vm)
    run = playbook(sim, [
        # the peer writes, gpuvirt.core reads it and has nothing to do
        {'name': 'peer_add', 'community.vmware.vmware_guest_vgpu': {'datacenter': 'DC0', 'name': VM0, 'vgpu': 'grid_a10-4q'}},
        {'name': 'ours_on_peer', 'gpuvirt.core.vsphere_vm_gpu': {'name': VM0, 'vgpu_profiles': ['grid_a10-4q']}},
        # gpuvirt.core writes, the peer reads it and has nothing to do
        {'name': 'ours_add', 'gpuvirt.core.vsphere_vm_gpu': {'name': VM1, 'vgpu_profiles': ['grid_a10-8q']}},
        {'name': 'peer_on_ours', 'community.vmware.vmware_guest_vgpu': {'datacenter': 'DC0', 'name': VM1, 'vgpu': 'grid_a10-8q'}},
        {'name': 'peer_info0', 'community.vmware.vmware_guest_vgpu_info': {'datacenter': 'DC0', 'name': VM0}},
        {'name': 'peer_info1', 'community.vmware.vmware_guest_vgpu_info': {'datacenter': 'DC0', 'name': VM1}},
    ])
    assert run['peer_add']['changed'] is True, run['peer_add']
    assert run['ours_on_peer']['changed'] is False, run['ours_on_peer']
    assert run['ours_add']['changed'] is True, run['ours_add']
    assert run['peer_on_ours']['changed'] is False, run['peer_on_ours']
    for name, profile in (('peer_info0', 'grid_a10-4q'), ('peer_info1', 'grid_a10-8q')):
        assert [(v['Vgpu'], v['Label'], v['Controller_Key']) for v in run[name]['vgpu']] == [(profile, 'PCI device 0', 100)], run[name]
    # govc writes one, and reads what the two collections wrote
    govc(sim, 'gpu.vm.add', '-vm', VM0, '-profile', 'grid_a10-4q')
    for vm, labels in ((VM0, ['PCI device 0', 'PCI device 1']), (VM1, ['PCI device 0'])):
        assert [g['label'] for g in govc(sim, 'gpu.vm.info', '-vm', vm, '-json')['gpus']] == labels
    info = playbook(sim, [{'name': 'info', 'gpuvirt.core.vsphere_gpu_info': {'cluster': 'DC0_C0'}}])['info']
    assert vgpu_profiles(info, VM0) == ['grid_a10-4q', 'grid_a10-4q'] and vgpu_profiles(info, VM1) == ['grid_a10-8q']
    removed = playbook(sim, [{'name': 'peer_remove', 'community.vmware.vmware_guest_vgpu': {
        'datacenter': 'DC0', 'name': VM1, 'vgpu': 'grid_a10-8q', 'state': 'absent'}},
        {'name': 'ours_after', 'gpuvirt.core.vsphere_vm_gpu': {'name': VM1, 'vgpu_profiles': []}}])
    assert removed['peer_remove']['changed'] is True and removed['ours_after']['changed'] is False, removed


def test_host_graphics_and_passthrough_written_by_one_are_read_the_same_by_the_other(sim, playbook):
    run = playbook(sim, [
        {'name': 'peer_graphics', 'community.vmware.vmware_host_graphics': {
            'esxi_hostname': H0, 'graphic_type': 'sharedDirect', 'assigment_policy': 'consolidation'}},
        {'name': 'ours_on_peer_graphics', 'gpuvirt.core.vsphere_host_graphics': {
            'esxi_hostname': H0, 'default_graphics_type': 'sharedDirect', 'assignment_policy': 'consolidation'}},
        {'name': 'ours_graphics', 'gpuvirt.core.vsphere_host_graphics': {
            'esxi_hostname': H1, 'default_graphics_type': 'sharedDirect', 'assignment_policy': 'consolidation'}},
        {'name': 'peer_on_ours_graphics', 'community.vmware.vmware_host_graphics': {
            'esxi_hostname': H1, 'graphic_type': 'sharedDirect', 'assigment_policy': 'consolidation'}},
        {'name': 'peer_passthrough', 'community.vmware.vmware_host_passthrough': {'esxi_hostname': H0, 'devices': [{'device': A100}]}},
        {'name': 'ours_on_peer_passthrough', 'gpuvirt.core.vsphere_host_passthrough': {
            'esxi_hostname': H0, 'devices': [{'id': A100, 'enabled': True}]}},
        {'name': 'ours_passthrough', 'gpuvirt.core.vsphere_host_passthrough': {'esxi_hostname': H1, 'devices': [{'id': A100, 'enabled': True}]}},
        {'name': 'peer_on_ours_passthrough', 'community.vmware.vmware_host_passthrough': {'esxi_hostname': H1, 'devices': [{'device': A100}]}},
        {'name': 'info', 'gpuvirt.core.vsphere_gpu_info': {'cluster': 'DC0_C0'}},
    ])
    for writer, reader in (('peer_graphics', 'ours_on_peer_graphics'), ('ours_graphics', 'peer_on_ours_graphics'),
                           ('peer_passthrough', 'ours_on_peer_passthrough'), ('ours_passthrough', 'peer_on_ours_passthrough')):
        assert run[writer]['changed'] is True, run[writer]
        assert run[reader]['changed'] is False, run[reader]
    for host in run['info']['hosts']:
        assert (host['graphics']['default_type'], host['graphics']['assignment_policy']) == ('sharedDirect', 'consolidation')
        a100 = next(g for g in host['gpus'] if g['id'] == A100)
        assert a100['passthrough']['enabled'] is True and host['reboot_required'] is True, host
