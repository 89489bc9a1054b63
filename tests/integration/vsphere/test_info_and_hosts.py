"""vsphere_gpu_info, vsphere_host_graphics and vsphere_host_passthrough with real ansible-playbook runs against
vcsim-gpu; what they did is verified with pyvmomi and the add-on's SOAP call counts."""
import pytest
from pyVmomi import vim

pytestmark = pytest.mark.integration

# pyVim's SmartConnect: RetrieveServiceContent, Fetch of content and of sessionManager.currentSession, Login
LOGIN_CALLS = {'RetrieveServiceContent', 'Login', 'Logout', 'Fetch'}


def after_login(calls):
    return dict((k, v) for k, v in calls.items() if k not in LOGIN_CALLS)


def test_gpu_info_reports_hosts_gpus_and_gpu_vms(sim, playbook):
    sim.shared_direct('DC0_C0_H1')
    vm = sim.power_off('DC0_C0_RP0_VM1')
    device = vim.vm.device.VirtualPCIPassthrough(key=-200, backing=vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(vgpu='grid_t4-8q'))
    host_of_vm = vm.runtime.host.name
    sim.shared_direct(host_of_vm)
    sim.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(memoryReservationLockedToMax=True,
                                                  deviceChange=[vim.vm.device.VirtualDeviceSpec(operation='add', device=device)])))
    sim.wait(vm.PowerOnVM_Task())
    sim.reset_calls()
    run = playbook(sim, [{'name': 'info', 'gpuvirt.core.vsphere_gpu_info': {}},
                         {'name': 'one', 'gpuvirt.core.vsphere_gpu_info': {'cluster': 'DC0_C0', 'esxi_hostname': 'DC0_C0_H0'}}])
    all_calls = sim.calls()
    assert all_calls['Fetch'] == 2 * 2 and all_calls['Login'] == all_calls['Logout'] == 2  # sessions are closed
    calls = after_login(all_calls)
    info = run['info']
    assert info['changed'] is False and not info.get('failed'), info
    assert [h['name'] for h in info['hosts']] == ['DC0_C0_H0', 'DC0_C0_H1']
    host = dict((h['name'], h) for h in info['hosts'])[host_of_vm]
    assert host['cluster'] == 'DC0_C0' and host['datacenter'] == 'DC0'
    assert host['graphics'] == {'default_type': 'sharedDirect', 'assignment_policy': 'performance', 'devices': []}
    assert [(g['id'], g['pci_id'], g['graphics_type']) for g in host['gpus']] == [
        ('0000:3b:00.0', '10de:2236', 'sharedDirect'), ('0000:5e:00.0', '10de:2236', 'sharedDirect'),
        ('0000:86:00.0', '10de:1eb8', 'sharedDirect'), ('0000:af:00.0', '10de:20f1', 'sharedDirect')]
    assert host['gpus'][2]['vms'] == ['DC0_C0_RP0_VM1'] and host['gpus'][2]['device_id'] == 7864
    assert host['gpus'][3]['passthrough'] == {'capable': True, 'enabled': False, 'active': False, 'label': None}
    assert host['vgpu_profiles'] == list(sim.host(host_of_vm).config.sharedPassthruGpuTypes)
    assert [(v['name'], v['host'], v['power_state'], v['vgpu_profiles']) for v in info['vms']] == [
        ('DC0_C0_RP0_VM1', host_of_vm, 'poweredOn', ['grid_t4-8q'])]
    assert [h['name'] for h in run['one']['hosts']] == ['DC0_C0_H0']
    # one retrieval per run: the same calls, whatever the scope
    assert calls == {'CreateContainerView': 2, 'RetrievePropertiesEx': 2, 'DestroyView': 2}, calls


def test_gpu_info_calls_do_not_grow_with_hosts(sim_factory, playbook):
    counts = []
    for hosts in (1, 6):
        sim = sim_factory(clusters=2, hosts=hosts, vms=1)
        sim.reset_calls()
        run = playbook(sim, [{'name': 'info', 'gpuvirt.core.vsphere_gpu_info': {}}])
        assert len(run['info']['hosts']) == 2 * hosts
        counts.append(after_login(sim.calls()))
    assert counts[0] == counts[1]


def test_bad_connection_and_names_fail_clearly_without_secrets(sim, playbook):
    password = sim.env['VMWARE_PASSWORD']
    run = playbook(sim, [
        {'name': 'wrong_password', 'gpuvirt.core.vsphere_gpu_info': {'password': 'not-the-password'}},
        {'name': 'unreachable', 'gpuvirt.core.vsphere_gpu_info': {'port': 1}},
        {'name': 'validated', 'gpuvirt.core.vsphere_gpu_info': {'validate_certs': True}},
        {'name': 'no_cluster', 'gpuvirt.core.vsphere_gpu_info': {'cluster': 'nope'}},
        {'name': 'no_dc', 'gpuvirt.core.vsphere_gpu_info': {'datacenter': 'nope'}},
        {'name': 'no_host', 'gpuvirt.core.vsphere_host_graphics': {'esxi_hostname': 'nope', 'default_graphics_type': 'sharedDirect'}},
    ])
    assert 'wrong user name or password' in run['wrong_password']['msg']
    assert 'cannot reach' in run['unreachable']['msg'] and '127.0.0.1:1' in run['unreachable']['msg']
    assert 'not trusted' in run['validated']['msg']
    assert run['no_cluster']['msg'] == "cluster 'nope' not found (known: DC0_C0)"
    assert run['no_dc']['msg'] == "datacenter 'nope' not found (known: DC0)"
    assert "ESXi host 'nope' not found" in run['no_host']['msg']
    for name in ('wrong_password', 'unreachable', 'validated', 'no_cluster', 'no_dc', 'no_host'):
        assert run[name]['failed'] is True
        assert 'Traceback' not in str(run[name].get('msg')) and 'exception' not in run[name] or '(traceback unavailable)' in run[name].get('exception', '')
    assert password not in run.output


def graphics_of(sim, host):
    config = sim.host(host).configManager.graphicsManager.graphicsConfig
    return (config.hostDefaultGraphicsType, config.sharedPassthruAssignmentPolicy,
            sorted((d.deviceId, d.graphicsType, d.vgpuMode) for d in config.deviceType or []))


def test_host_graphics_change_rerun_and_check_mode(sim, playbook):
    task = {'gpuvirt.core.vsphere_host_graphics': {
        'cluster': 'DC0_C0', 'default_graphics_type': 'sharedDirect', 'assignment_policy': 'consolidation',
        'devices': [{'id': '86:00.0', 'graphics_type': 'shared'}, {'id': '0000:3b:00.0', 'graphics_type': 'sharedDirect', 'vgpu_mode': 'mixedSize'}]}}
    before = graphics_of(sim, 'DC0_C0_H0')
    sim.reset_calls()
    check = playbook(sim, [dict(task, name='check')], check=True)
    assert check['check']['changed'] is True
    assert check['check']['diff']['after']['DC0_C0_H0']['default_type'] == 'sharedDirect'
    assert graphics_of(sim, 'DC0_C0_H0') == before  # verified with pyvmomi: nothing changed
    assert 'UpdateGraphicsConfig' not in sim.calls()

    first = playbook(sim, [dict(task, name='apply')])['apply']
    assert first['changed'] is True and first['restart_required'] is True
    assert [h['restart_required'] for h in first['hosts']] == [True, True]
    expected = ('sharedDirect', 'consolidation', [('0000:3b:00.0', 'sharedDirect', 'mixedSize'), ('0000:86:00.0', 'shared', None)])
    for host in ('DC0_C0_H0', 'DC0_C0_H1'):
        assert graphics_of(sim, host) == expected
    assert sim.calls()['UpdateGraphicsConfig'] == 2
    assert sim.calls()['RefreshGraphicsManager'] == 2  # the vGPU mode change is refreshed

    sim.reset_calls()
    again = playbook(sim, [dict(task, name='again')])['again']
    assert again['changed'] is False and again['restart_required'] is True  # still not active
    assert 'UpdateGraphicsConfig' not in sim.calls()
    sim.restart_hostengine('DC0_C0_H0')
    after_restart = playbook(sim, [dict(task, name='after')])['after']
    assert dict((h['name'], h['restart_required']) for h in after_restart['hosts']) == {'DC0_C0_H0': False, 'DC0_C0_H1': True}


def test_host_graphics_refuses_gpus_in_use_and_unknown_devices(sim, playbook):
    sim.shared_direct('DC0_C0_H0', 'DC0_C0_H1')
    vm = sim.power_off('DC0_C0_RP0_VM0')
    host = vm.runtime.host.name
    device = vim.vm.device.VirtualPCIPassthrough(key=-200, backing=vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(vgpu='grid_a10-2q'))
    sim.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(memoryReservationLockedToMax=True,
                                                  deviceChange=[vim.vm.device.VirtualDeviceSpec(operation='add', device=device)])))
    sim.wait(vm.PowerOnVM_Task())
    sim.reset_calls()
    run = playbook(sim, [
        {'name': 'in_use', 'gpuvirt.core.vsphere_host_graphics': {'esxi_hostname': host, 'default_graphics_type': 'shared'}},
        {'name': 'unknown', 'gpuvirt.core.vsphere_host_graphics': {'esxi_hostname': host, 'devices': [{'id': '0000:99:00.0', 'graphics_type': 'shared'}]}},
        {'name': 'other_gpu', 'gpuvirt.core.vsphere_host_graphics': {'esxi_hostname': host, 'devices': [{'id': '0000:86:00.0', 'graphics_type': 'shared'}]}},
    ])
    assert run['in_use']['failed'] and 'used by powered-on VM(s) DC0_C0_RP0_VM0' in run['in_use']['msg']
    assert run['unknown']['failed'] and 'GPU 0000:99:00.0 not found on host %s' % host in run['unknown']['msg']
    assert run['other_gpu']['changed'] is True and not run['other_gpu'].get('failed')
    assert sim.calls()['UpdateGraphicsConfig'] == 1  # only the allowed change wrote anything


def passthrough_of(sim, host, device='0000:af:00.0'):
    info = sim.host(host).configManager.pciPassthruSystem.pciPassthruInfo
    return next((p.passthruEnabled, p.passthruActive) for p in info if p.id == device)


def test_host_passthrough_by_device_id_reboot_required_rerun_and_check_mode(sim, playbook):
    task = {'gpuvirt.core.vsphere_host_passthrough': {'cluster': 'DC0_C0', 'devices': [{'device_id': '20f1', 'enabled': True}]}}
    sim.reset_calls()
    check = playbook(sim, [dict(task, name='check')], check=True)['check']
    assert check['changed'] is True and check['reboot_required'] is True
    assert passthrough_of(sim, 'DC0_C0_H0') == (False, False)
    assert 'UpdatePassthruConfig' not in sim.calls()

    first = playbook(sim, [dict(task, name='first')])['first']
    assert first['changed'] is True and first['reboot_required'] is True
    for host in ('DC0_C0_H0', 'DC0_C0_H1'):
        assert passthrough_of(sim, host) == (True, False)
        assert passthrough_of(sim, host, '0000:3b:00.0') == (False, False)  # only the A100 matched
    assert sim.calls()['UpdatePassthruConfig'] == 2

    sim.reset_calls()
    again = playbook(sim, [dict(task, name='again')])['again']
    assert again['changed'] is False and again['reboot_required'] is True
    assert 'UpdatePassthruConfig' not in sim.calls()
    sim.reboot('DC0_C0_H0')
    after = playbook(sim, [dict(task, name='after')])['after']
    assert dict((h['name'], h['reboot_required']) for h in after['hosts']) == {'DC0_C0_H0': False, 'DC0_C0_H1': True}


def test_host_passthrough_apply_now_label_and_refusals(sim, playbook):
    run = playbook(sim, [
        {'name': 'now', 'gpuvirt.core.vsphere_host_passthrough': {
            'esxi_hostname': 'DC0_C0_H1', 'devices': [{'id': '0000:af:00.0', 'label': 'train'}], 'apply_now': True}},
        {'name': 'unknown_id', 'gpuvirt.core.vsphere_host_passthrough': {'esxi_hostname': 'DC0_C0_H1', 'devices': [{'id': '0000:99:00.0'}]}},
        {'name': 'unknown_model', 'gpuvirt.core.vsphere_host_passthrough': {'cluster': 'DC0_C0', 'devices': [{'device_id': 9999}]}},
    ])
    assert run['now']['changed'] is True and run['now']['reboot_required'] is False
    assert passthrough_of(sim, 'DC0_C0_H1') == (True, True)
    info = sim.host('DC0_C0_H1').configManager.pciPassthruSystem.pciPassthruInfo
    assert next(p.hardwareLabel for p in info if p.id == '0000:af:00.0') == 'train'
    assert 'GPU 0000:99:00.0 not found on host DC0_C0_H1' in run['unknown_id']['msg']
    assert 'no GPU 10de:270f on host(s) DC0_C0_H0, DC0_C0_H1' in run['unknown_model']['msg']


def test_an_assignment_policy_change_needs_a_restart_that_host_reboot_gives(sim_factory, playbook):
    """Only the policy changes: restart_required (VMware: a new graphics type or policy is active after a restart of the
    host or nv-hostengine); the simulator keeps the old policy active until then; vsphere_host_reboot activates it."""
    sim = sim_factory(hosts=1, vms=1)
    host = 'DC0_C0_H0'
    run = playbook(sim, [
        {'name': 'policy', 'gpuvirt.core.vsphere_host_graphics': {'esxi_hostname': host, 'assignment_policy': 'consolidation'}},
    ])
    policy = run['policy']
    assert policy['changed'] is True and policy['restart_required'] is True, policy
    assert policy['hosts'][0]['restart_required'] is True and policy['changes'][0]['restart_required'] is True
    assert sim.state()[host]['policy'] == 'performance'  # configured, not active yet
    reboot = playbook(sim, [{'name': 'reboot', 'gpuvirt.core.vsphere_host_reboot': {'esxi_hostname': host, 'force': True, 'evacuate': 'power_off'}}])
    assert reboot['reboot']['changed'] is True and reboot['reboot']['hosts'][0]['rebooted'] is True, reboot['reboot']
    assert sim.state()[host]['policy'] == 'consolidation'


def test_a_soap_fault_is_one_line_with_its_type_and_the_host(sim_factory, playbook):
    sim = sim_factory(hosts=1, vms=0)
    sim.inject('UpdateGraphicsConfig', 'HostConfigFault', message='graphics manager busy\n  try again later', count=1)
    task = {'esxi_hostname': 'DC0_C0_H0', 'default_graphics_type': 'sharedDirect'}
    failed = playbook(sim, [{'name': 'fault', 'gpuvirt.core.vsphere_host_graphics': task}])['fault']
    assert failed['failed'] is True and '\n' not in failed['msg'], failed['msg']
    assert 'update_graphics DC0_C0_H0 failed: HostConfigFault: graphics manager busy try again later' in failed['msg']
    assert failed['state_restored'] is True and 'outcome_unknown' not in failed
