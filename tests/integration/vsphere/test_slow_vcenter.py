"""A slow or stopped vCenter (vcsim-gpu --method-delay, or the simulator stopped mid-run): a request that got no answer
is an unknown outcome. The modules undo nothing they cannot verify, read the state again (a fresh login) and report
what they find; the message says the vCenter was slow or unreachable."""
import subprocess
import threading

import pytest
from pyVmomi import vim

from tests.integration.worlds.vsphere import VCSIM_GPU, REPO, start_sim, stop_sim, wait_until

pytestmark = pytest.mark.integration

VM = 'DC0_C0_RP0_VM0'
DELAY_MS = 4000
TIMEOUT_S = 1  # the module's timeout: shorter than the delay


def vgpus(sim, name=VM):
    return sorted(d.backing.vgpu for d in sim.gpu_devices(name) if isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo))


def test_delayed_graphics_update_is_reported_unknown_not_restored(sim_factory, playbook):
    sim = sim_factory(hosts=2, vms=0, method_delay='UpdateGraphicsConfig:%d' % DELAY_MS)
    task = {'cluster': 'DC0_C0', 'default_graphics_type': 'sharedDirect'}
    run = playbook(sim, [{'name': 'slow', 'gpuvirt.core.vsphere_host_graphics': dict(task, timeout=TIMEOUT_S)}])
    slow = run['slow']
    assert slow['failed'] is True, slow
    assert slow['outcome_unknown'] == ['DC0_C0_H0'], slow
    assert 'no answer within %d s from vCenter/ESXi 127.0.0.1:%d' % (TIMEOUT_S, sim.port) in slow['msg']
    assert 'the vCenter was slow or unreachable' in slow['msg'] and 'remaining_changes' in slow
    assert 'reread_error' not in slow, slow
    assert slow['undone'] == [] and [c['target'] for c in slow['not_started']] == ['DC0_C0_H1']
    # what was read again: H1 still to do in any case (H0 too, if its delayed call had not landed yet)
    assert 'DC0_C0_H1' in [c['target'] for c in slow['remaining_changes']]
    # the request that got no answer lands on the simulator after its delay; nobody undid it
    wait_until(lambda: sim.state()['DC0_C0_H0']['configured_default_type'] == 'sharedDirect', 'the delayed UpdateGraphicsConfig to land')
    again = playbook(sim, [{'name': 'again', 'gpuvirt.core.vsphere_host_graphics': dict(task, timeout=60)}])['again']
    assert again['changed'] is True and [c['target'] for c in again['changes']] == ['DC0_C0_H1'], again


def test_power_cycle_with_a_delayed_reconfigure_reports_the_vms_real_state(sim_factory, playbook):
    sim = sim_factory(hosts=1, vms=1, vm_version='vmx-19', method_delay='ReconfigVM_Task:%d' % DELAY_MS)
    sim.shared_direct('DC0_C0_H0')
    assert sim.vm(VM).runtime.powerState == 'poweredOn'
    task = {'name': VM, 'vgpu_profiles': ['grid_a10-4q'], 'power_cycle': True}
    result = playbook(sim, [{'name': 'slow', 'gpuvirt.core.vsphere_vm_gpu': dict(task, timeout=TIMEOUT_S)}])['slow']
    assert result['failed'] is True and result['outcome_unknown'] == [VM], result
    assert 'the vCenter was slow or unreachable' in result['msg']
    # the power-off is not undone behind the back of a reconfigure that may still run: reported as in effect
    assert result['state_restored'] is False and result['changed'] is True
    assert [c['action'] for c in result['applied']] == ['power_off'] and result['undone'] == []
    assert result['undo_failed'] == [] and result['undone'] == []
    assert [c['action'] for c in result['not_started']] == ['power_on']
    assert result['vm']['power_state'] == 'poweredOff' and result['vm']['name'] == VM  # as read again, not as planned
    wait_until(lambda: vgpus(sim) == ['grid_a10-4q'], 'the delayed ReconfigVM_Task to land')
    assert sim.vm(VM).runtime.powerState == 'poweredOff'  # what the module reported is what the VM is
    again = playbook(sim, [{'name': 'again', 'gpuvirt.core.vsphere_vm_gpu': dict(task, timeout=60)}])['again']
    assert again['changed'] is False and again['vm']['vgpu_profiles'] == ['grid_a10-4q'], again


def test_simulator_stopped_mid_run(playbook):
    sim = start_sim(hosts=1, vms=1, vm_version='vmx-19', method_delay='ReconfigVM_Task:60000')
    stopped = []
    try:
        sim.shared_direct('DC0_C0_H0')
        sim.power_off(VM)
        sim.reset_calls()

        def stop_when_reconfigure_arrives():
            wait_until(lambda: sim.calls().get('ReconfigVM_Task'), 'the ReconfigVM_Task request', timeout=300)
            sim.close()
            subprocess.run([VCSIM_GPU, 'down', '--port', str(sim.port)], cwd=REPO, capture_output=True, timeout=60, check=True)
            stopped.append(True)
        stopper = threading.Thread(target=stop_when_reconfigure_arrives)
        stopper.start()
        result = playbook(sim, [{'name': 'gone', 'gpuvirt.core.vsphere_vm_gpu': {'name': VM, 'vgpu_profiles': ['grid_a10-4q'], 'timeout': 300}}])['gone']
        stopper.join(120)
        assert stopped == [True]
        assert result['failed'] is True and result['outcome_unknown'] == [VM], result
        assert 'the connection failed' in result['msg'] and 'the vCenter was slow or unreachable' in result['msg']
        assert 'cannot reach vCenter/ESXi at 127.0.0.1:%d' % sim.port in result['reread_error']
        assert 'remaining_changes' not in result and 'vm' not in result and 'cannot reach' in result['vm_read_error']
    finally:
        if not stopped:
            stop_sim(sim)
