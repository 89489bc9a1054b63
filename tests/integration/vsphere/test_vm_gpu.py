"""vsphere_vm_gpu with real ansible-playbook runs against vcsim-gpu: change, rerun without ReconfigVM, check mode
verified with pyvmomi, refusals before any write, power cycle and restoring the VM on an injected fault."""
import pytest
from pyVmomi import vim

pytestmark = pytest.mark.integration

VM = 'DC0_C0_RP0_VM0'


def gpu_config(sim, name=VM):
    vm = sim.vm(name)
    devices = [d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualPCIPassthrough)]
    vgpus = sorted(d.backing.vgpu for d in devices if isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo))
    dynamic = sorted((a.vendorId, a.deviceId, d.backing.customLabel) for d in devices
                     if isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo) for a in d.backing.allowedDevice)
    extra = dict((o.key, o.value) for o in vm.config.extraConfig if o.key.startswith('pciPassthru'))
    return {'vgpus': vgpus, 'dynamic': dynamic, 'locked': vm.config.memoryReservationLockedToMax, 'extra': extra,
            'power': vm.runtime.powerState}


@pytest.fixture
def gpu_sim(sim):
    """Both hosts Shared Direct (active) and the A100s passthrough-enabled (active)."""
    sim.shared_direct('DC0_C0_H0', 'DC0_C0_H1')
    for host in ('DC0_C0_H0', 'DC0_C0_H1'):
        system = sim.host(host).configManager.pciPassthruSystem
        system.UpdatePassthruConfig([vim.host.PciPassthruConfig(id='0000:af:00.0', passthruEnabled=True, applyNow=True)])
    return sim


def test_vgpus_and_dynamic_directpath_change_rerun_and_check_mode(gpu_sim, playbook):
    sim = gpu_sim
    sim.power_off(VM)
    task = {'gpuvirt.core.vsphere_vm_gpu': {'name': VM, 'vgpu_profiles': ['NVIDIA A10-4Q', 'grid_a10-4q'],
                                            'passthrough_devices': [{'vendor_id': 4318, 'device_id': '20f1'}]}}
    before = gpu_config(sim)
    sim.reset_calls()
    check = playbook(sim, [dict(task, name='check')], check=True)['check']
    assert check['changed'] is True
    assert check['diff']['after'][VM]['vgpu_profiles'] == ['grid_a10-4q', 'grid_a10-4q']
    assert check['vm']['extra_config'] == {'pciPassthru.use64bitMMIO': 'TRUE', 'pciPassthru.64bitMMIOSizeGB': '64'}
    assert gpu_config(sim) == before
    assert 'ReconfigVM_Task' not in sim.calls()

    first = playbook(sim, [dict(task, name='first')])['first']
    assert first['changed'] is True, first
    assert [c['action'] for c in first['changes']] == ['reconfigure']
    assert gpu_config(sim) == {'vgpus': ['grid_a10-4q', 'grid_a10-4q'], 'dynamic': [(4318, 0x20f1, None)], 'locked': True,
                               'extra': {'pciPassthru.use64bitMMIO': 'TRUE', 'pciPassthru.64bitMMIOSizeGB': '64'}, 'power': 'poweredOff'}
    # the VM powers on: locked memory, Shared Direct, a free passthrough-active A100 [simulator rules]
    sim.wait(sim.vm(VM).PowerOnVM_Task())

    sim.reset_calls()
    again = playbook(sim, [dict(task, name='again')])['again']
    assert again['changed'] is False and not again.get('failed'), again
    assert 'ReconfigVM_Task' not in sim.calls() and 'PowerOffVM_Task' not in sim.calls()

    fewer = playbook(sim, [{'name': 'fewer', 'gpuvirt.core.vsphere_vm_gpu': {'name': VM, 'vgpu_profiles': ['A10-4Q'], 'power_cycle': True}}])['fewer']
    assert [c['action'] for c in fewer['changes']] == ['power_off', 'reconfigure', 'power_on']
    config = gpu_config(sim)
    assert config['vgpus'] == ['grid_a10-4q'] and config['dynamic'] == [(4318, 0x20f1, None)] and config['power'] == 'poweredOn'

    gone = playbook(sim, [{'name': 'absent', 'gpuvirt.core.vsphere_vm_gpu': {'name': VM, 'state': 'absent', 'power_cycle': True}}])['absent']
    assert gone['changed'] is True
    assert gpu_config(sim)['vgpus'] == [] and gpu_config(sim)['dynamic'] == []


def test_refusals_happen_before_any_write(gpu_sim, sim_factory, playbook):
    sim = gpu_sim
    sim.power_off('DC0_C0_RP0_VM1')
    sim.reset_calls()
    run = playbook(sim, [
        {'name': 'unknown_profile', 'gpuvirt.core.vsphere_vm_gpu': {'name': 'DC0_C0_RP0_VM1', 'vgpu_profiles': ['grid_a40-4q']}},
        {'name': 'bad_spelling', 'gpuvirt.core.vsphere_vm_gpu': {'name': 'DC0_C0_RP0_VM1', 'vgpu_profiles': ['A10-5Q']}},
        {'name': 'unknown_device', 'gpuvirt.core.vsphere_vm_gpu': {'name': 'DC0_C0_RP0_VM1', 'passthrough_devices': [{'device_id': '2235'}]}},
        {'name': 'not_enabled', 'gpuvirt.core.vsphere_vm_gpu': {'name': 'DC0_C0_RP0_VM1', 'passthrough_devices': [{'device_id': '1eb8'}]}},
        {'name': 'powered_on', 'gpuvirt.core.vsphere_vm_gpu': {'name': VM, 'vgpu_profiles': ['grid_a10-4q']}},
        {'name': 'no_vm', 'gpuvirt.core.vsphere_vm_gpu': {'name': 'nope', 'vgpu_profiles': ['grid_a10-4q']}},
        {'name': 'two_boards', 'gpuvirt.core.vsphere_vm_gpu': {'name': 'DC0_C0_RP0_VM1', 'vgpu_profiles': ['grid_a10-4q', 'grid_t4-4q']}},
        {'name': 'two_sizes', 'gpuvirt.core.vsphere_vm_gpu': {'name': 'DC0_C0_RP0_VM1', 'vgpu_profiles': ['grid_a10-4q', 'grid_a10-8q']}},
        {'name': 'too_many', 'gpuvirt.core.vsphere_vm_gpu': {'name': 'DC0_C0_RP0_VM1', 'vgpu_profiles': ['grid_a10-24q'] * 20}},
    ])
    # NVIDIA's multi-vGPU rules (vgpu_rules.py): same board, same size (the hosts run equal-size mode), capacity of two A10s
    assert 'all vGPUs of one VM must be on the same board type' in run['two_boards']['msg']
    assert 'need the host to run mixed-size mode on its A10 GPUs' in run['two_sizes']['msg']
    assert '20 vGPU(s)' in run['too_many']['msg'] and 'do not fit on the 2 A10 GPU(s)' in run['too_many']['msg']
    assert 'vGPU profile \'grid_a40-4q\' is not offered by host' in run['unknown_profile']['msg']
    assert 'grid_a10-4q' in run['unknown_profile']['valid_profiles']
    assert 'grid_a10-4q' in run['unknown_profile']['msg']  # the error lists the valid ones
    assert run['bad_spelling']['failed'] and 'A10-5Q' in run['bad_spelling']['msg']
    assert 'no GPU 10de:2235 on host' in run['unknown_device']['msg']
    assert 'passthrough enabled' in run['not_enabled']['msg'] and 'vsphere_host_passthrough' in run['not_enabled']['msg']
    assert 'is poweredOn' in run['powered_on']['msg'] and 'power_cycle: true' in run['powered_on']['msg']
    assert run['no_vm']['msg'] == "VM with name 'nope' not found"
    assert all(run[n]['failed'] and not run[n]['changed'] for n in run.results if n != 'save results')
    calls = sim.calls()
    assert not set(calls) & {'ReconfigVM_Task', 'PowerOffVM_Task', 'ShutdownGuest', 'PowerOnVM_Task'}, calls
    assert sim.vm(VM).runtime.powerState == 'poweredOn'  # never powered off without power_cycle

    old = sim_factory(hosts=1, vms=1)  # vmx-13 VMs, hosts still Shared (the NVIDIA VIB default)
    old.power_off(VM)
    old.reset_calls()
    run = playbook(old, [
        {'name': 'old_hw', 'gpuvirt.core.vsphere_vm_gpu': {'name': VM, 'passthrough_devices': [{'device_id': 8433}]}},
        {'name': 'not_shared_direct', 'gpuvirt.core.vsphere_vm_gpu': {'name': VM, 'vgpu_profiles': ['grid_a10-4q']}},
    ])
    assert 'vmx-13' in run['old_hw']['msg'] and 'vmx-17' in run['old_hw']['msg']
    assert 'no GPU in Shared Direct mode for vGPU profile grid_a10-4q' in run['not_shared_direct']['msg']
    assert 'ReconfigVM_Task' not in old.calls()


def test_failed_reconfigure_restores_devices_and_power_state(gpu_sim, playbook):
    sim = gpu_sim
    before = gpu_config(sim)
    assert before['power'] == 'poweredOn'
    sim.inject('ReconfigVM_Task', 'GenericVmConfigFault', message='injected failure', target=VM, count=1)
    sim.reset_calls()
    run = playbook(sim, [{'name': 'fail', 'gpuvirt.core.vsphere_vm_gpu': {'name': VM, 'vgpu_profiles': ['grid_a10-8q'], 'power_cycle': True}}])
    result = run['fail']
    assert result['failed'] is True
    assert 'injected failure' in result['msg'] and 'reconfigure' in result['msg']
    assert result['state_restored'] is True
    assert [c['action'] for c in result['undone']] == ['power_off']
    assert gpu_config(sim) == before  # same devices, powered on again
    calls = sim.calls()
    assert calls['ReconfigVM_Task'] == 1 and calls['PowerOnVM_Task'] == 1


def test_failed_power_on_undoes_the_reconfigure(gpu_sim, playbook):
    sim = gpu_sim
    before = gpu_config(sim)
    sim.inject('PowerOnVM_Task', 'InsufficientResourcesFault', message='no capacity', target=VM, count=1)
    run = playbook(sim, [{'name': 'fail', 'gpuvirt.core.vsphere_vm_gpu': {'name': VM, 'vgpu_profiles': ['grid_a10-8q'], 'power_cycle': True}}])
    result = run['fail']
    assert result['failed'] is True and 'no capacity' in result['msg']
    assert [c['action'] for c in result['undone']] == ['reconfigure', 'power_off']
    after = gpu_config(sim)
    assert after['vgpus'] == before['vgpus'] and after['power'] == 'poweredOn'
