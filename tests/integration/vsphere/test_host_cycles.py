"""vsphere_host_software and vsphere_host_reboot with real ansible-playbook runs against vcsim-gpu.

The simulated hosts behave like ESXi as the add-on README describes: a VIB that needs maintenance mode is refused
outside it and is loaded at the next reboot ([S1 §2.9]); passthrough enabled without applyNow becomes active on a
reboot ([§8], [S9]); RebootHost_Task is refused outside maintenance mode. What the modules wrote is read back with
the control API (SOAP call counts, /gpusim/state) and pyvmomi.
"""
import pytest
from pyVmomi import vim

from ansible_collections.gpuvirt.core.tests.emulators.vcsim.vib import build_vib

pytestmark = pytest.mark.integration

VIB = 'NVD-VGPU-800'
START_VERSION = '550.90.05-1OEM.800.1.0.20613240'   # what vcsim-gpu hosts have unless --host-driver says otherwise
NEW_VERSION = '550.127.06-1OEM.800.1.0.20613240'
HOSTS = ['DC0_C0_H0', 'DC0_C0_H1']
# Where the tests put the two VMs (Sim.place; vcsim's own placement is random). VM1 on H0 and VM0 on H1, so the
# plan's VM order (by name) differs from the host order.
VM_ON_H0, VM_ON_H1 = 'DC0_C0_RP0_VM1', 'DC0_C0_RP0_VM0'
PLACED = {VM_ON_H0: 'DC0_C0_H0', VM_ON_H1: 'DC0_C0_H1'}
WRITES = ('EnterMaintenanceMode_Task', 'ExitMaintenanceMode_Task', 'InstallHostPatchV2_Task', 'RebootHost_Task',
          'PowerOffVM_Task', 'PowerOnVM_Task', 'RelocateVM_Task', 'UpdateGraphicsConfig', 'UpdatePassthruConfig')
CYCLE = ['enter_maintenance_mode', 'install_vibs', 'reboot', 'exit_maintenance_mode']


def writes(sim):
    calls = sim.calls()
    return dict((m, calls[m]) for m in WRITES if calls.get(m))


def vib_url(tmp_path, version):
    path = tmp_path / ('%s_%s.vib' % (VIB, version))
    build_vib(str(path), VIB, version, summary='NVIDIA vGPU Manager')
    return 'file://%s' % path


def software(url, version, scope=None, **options):
    """A vsphere_host_software task; ``scope`` is the host scope (default: the whole cluster)."""
    args = dict(scope or {'cluster': 'DC0_C0'}, packages=[{'name': VIB, 'version': version, 'url': url}])
    args.update(options)
    return {'gpuvirt.core.vsphere_host_software': args}


def by_host(result):
    return dict((h['name'], h) for h in result['hosts'])


def placement(sim):
    return sim.placement(VM_ON_H0, VM_ON_H1)


def assert_untouched(sim):
    for name, host in sim.state().items():
        assert host['boots'] == 0, name
        assert not sim.host(name).runtime.inMaintenanceMode, name
    assert placement(sim) == {VM_ON_H0: ('DC0_C0_H0', 'poweredOn'), VM_ON_H1: ('DC0_C0_H1', 'poweredOn')}


@pytest.fixture
def vms_placed(sim):
    sim.place(PLACED)
    assert placement(sim) == {VM_ON_H0: ('DC0_C0_H0', 'poweredOn'), VM_ON_H1: ('DC0_C0_H1', 'poweredOn')}
    return sim


# -- vsphere_host_software -------------------------------------------------------------------------------------------
def test_software_present_version_is_skipped_with_zero_writes(vms_placed, playbook, tmp_path):
    """The hosts have the vGPU Manager already: nothing to do although VMs run and evacuate is none; the short
    version (before '-') matches the full one esxcli lists."""
    sim = vms_placed
    url = vib_url(tmp_path, START_VERSION)
    sim.reset_calls()
    run = playbook(sim, [dict(software(url, '550.90.05'), name='short'), dict(software(url, START_VERSION), name='full')])
    calls = sim.calls()
    assert writes(sim) == {}
    assert calls['fetchSoftwarePackages'] == 2 * len(HOSTS)  # the VIB lists were read, per host and run
    for name in ('short', 'full'):
        result = run[name]
        assert result['changed'] is False and not result.get('failed'), result
        assert result['changes'] == [] and result['reboot_required'] is False
        for host in result['hosts']:
            assert (host['changed'], host['actions'], host['evacuated'], host['rebooted']) == (False, [], [], False), host
            assert host['packages'][VIB] == START_VERSION and host['in_maintenance_mode'] is False
    assert_untouched(sim)


def test_software_check_mode_and_refusal_write_nothing(sim_factory, playbook, tmp_path):
    """Hosts without the vGPU Manager: check mode reports the whole plan (one host after the other, VMs migrated
    to the host whose cycle has ended) and calls no write; evacuate none is refused before any write and names the
    powered-on VMs of the first host."""
    sim = sim_factory(clusters=1, hosts=2, vms=2, host_driver='none').place(PLACED)
    url = vib_url(tmp_path, NEW_VERSION)
    sim.reset_calls()
    run = playbook(sim, [dict(software(url, '550.127.06', evacuate='migrate'), name='check')], check=True)
    refused = playbook(sim, [dict(software(url, '550.127.06'), name='refused')])['refused']
    ftp = playbook(sim, [dict(software(url.replace('file://', 'ftp://', 1), '550.127.06', evacuate='power_off'), name='ftp')])['ftp']
    assert ftp['failed'] is True and 'is not an http(s) or file URL or a datastore path' in ftp['msg']  # before maintenance mode
    assert writes(sim) == {}
    check = run['check']
    assert check['changed'] is True and not check.get('failed'), check
    hosts = by_host(check)
    assert hosts['DC0_C0_H0']['evacuated'] == [{'vm': VM_ON_H0, 'action': 'migrate', 'to': 'DC0_C0_H1'}]
    assert hosts['DC0_C0_H1']['evacuated'] == [{'vm': VM_ON_H1, 'action': 'migrate', 'to': 'DC0_C0_H0'},
                                               {'vm': VM_ON_H0, 'action': 'migrate', 'to': 'DC0_C0_H0'}]
    for name in HOSTS:
        assert hosts[name]['actions'] == CYCLE and hosts[name]['changed'] is True
        assert hosts[name]['rebooted'] is None  # not known in check mode
        assert VIB not in hosts[name]['packages'] and hosts[name]['in_maintenance_mode'] is False
    targets = [c['target'] for c in check['changes']]
    assert targets == ['vm/' + VM_ON_H0] + ['DC0_C0_H0'] * 4 + ['vm/' + VM_ON_H1, 'vm/' + VM_ON_H0] + ['DC0_C0_H1'] * 4
    assert 'diff' in check and check['diff']

    assert refused['failed'] is True and refused.get('changed') is not True
    assert 'VMs are powered on: %s' % VM_ON_H0 in refused['msg']
    assert refused['powered_on_vms'] == [VM_ON_H0] and refused['host'] == 'DC0_C0_H0'
    assert_untouched(sim)
    for host in sim.state().values():
        assert VIB not in host['software']['installed']


def test_software_upgrade_migrates_cycles_one_host_at_a_time_then_does_nothing(vms_placed, playbook, tmp_path):
    sim = vms_placed
    url = vib_url(tmp_path, NEW_VERSION)
    sim.reset_calls()
    first = playbook(sim, [dict(software(url, '550.127.06', evacuate='migrate'), name='upgrade')])['upgrade']
    assert first['changed'] is True and not first.get('failed'), first
    assert writes(sim) == {'RelocateVM_Task': 3, 'EnterMaintenanceMode_Task': 2, 'InstallHostPatchV2_Task': 2,
                           'RebootHost_Task': 2, 'ExitMaintenanceMode_Task': 2}
    steps = [(c['action'], c['target']) for c in first['changes'] if not c['target'].startswith('vm/')]
    assert steps == [(a, 'DC0_C0_H0') for a in CYCLE] + [(a, 'DC0_C0_H1') for a in CYCLE]
    state = sim.state()
    for name in HOSTS:
        host = by_host(first)[name]
        assert host['rebooted'] is True and host['packages'][VIB] == NEW_VERSION, host
        assert host['in_maintenance_mode'] is False and host['reboot_required'] is False
        assert state[name]['boots'] == 1
        assert state[name]['software']['running'][VIB] == NEW_VERSION and not state[name]['software']['reboot_required']
        assert not sim.host(name).runtime.inMaintenanceMode
    # both VMs kept running; they ended on H0, whose cycle was over when H1 was emptied
    assert placement(sim) == {VM_ON_H0: ('DC0_C0_H0', 'poweredOn'), VM_ON_H1: ('DC0_C0_H0', 'poweredOn')}

    sim.reset_calls()
    second = playbook(sim, [dict(software(url, '550.127.06', evacuate='migrate'), name='again')])['again']
    assert second['changed'] is False and second['changes'] == [] and writes(sim) == {}


# -- vsphere_host_reboot ---------------------------------------------------------------------------------------------
def enable_passthrough(sim, host, pci='0000:af:00.0'):
    """Passthrough enabled, not applied now: active only after a reboot [S9]."""
    system = sim.host(host).configManager.pciPassthruSystem
    system.UpdatePassthruConfig([vim.host.PciPassthruConfig(id=pci, passthruEnabled=True)])
    gpu = next(g for g in sim.state()[host]['gpus'] if g['id'] == pci)
    assert gpu['passthru_enabled'] and not gpu['passthru_active']


def reboot(**options):
    args = {'cluster': 'DC0_C0'}
    args.update(options)
    return {'gpuvirt.core.vsphere_host_reboot': args}


def test_reboot_only_hosts_with_something_pending_and_a_second_run_does_nothing(vms_placed, playbook):
    sim = vms_placed
    enable_passthrough(sim, 'DC0_C0_H0')
    sim.reset_calls()
    before = playbook(sim, [dict(reboot(evacuate='power_off'), name='check')], check=True)['check']
    refused = playbook(sim, [dict(reboot(), name='refused')])['refused']
    assert writes(sim) == {}
    assert before['changed'] is True and not before.get('failed'), before
    planned = by_host(before)
    assert planned['DC0_C0_H0']['actions'] == ['enter_maintenance_mode', 'reboot', 'exit_maintenance_mode']
    assert planned['DC0_C0_H0']['evacuated'] == [{'vm': VM_ON_H0, 'action': 'power_off', 'to': None}]
    assert planned['DC0_C0_H0']['reboot_reasons'] == ['passthrough pending']
    assert (planned['DC0_C0_H1']['changed'], planned['DC0_C0_H1']['actions'], planned['DC0_C0_H1']['reboot_required']) == (False, [], False)
    assert refused['failed'] is True and refused['powered_on_vms'] == [VM_ON_H0]
    assert_untouched(sim)

    done = playbook(sim, [dict(reboot(evacuate='power_off'), name='reboot')])['reboot']
    assert done['changed'] is True and not done.get('failed'), done
    assert writes(sim) == {'PowerOffVM_Task': 1, 'EnterMaintenanceMode_Task': 1, 'RebootHost_Task': 1, 'ExitMaintenanceMode_Task': 1}
    state = sim.state()
    assert (state['DC0_C0_H0']['boots'], state['DC0_C0_H1']['boots']) == (1, 0)
    assert [g['passthru_active'] for g in state['DC0_C0_H0']['gpus'] if g['id'] == '0000:af:00.0'] == [True]
    hosts = by_host(done)
    assert hosts['DC0_C0_H0']['rebooted'] is True and hosts['DC0_C0_H0']['reboot_required'] is False
    assert hosts['DC0_C0_H1']['rebooted'] is False and done['reboot_required'] is False
    # power_off leaves the VM off; the other host's VM was never touched
    assert placement(sim) == {VM_ON_H0: ('DC0_C0_H0', 'poweredOff'), VM_ON_H1: ('DC0_C0_H1', 'poweredOn')}

    sim.reset_calls()
    again = playbook(sim, [dict(reboot(evacuate='power_off'), name='again')])['again']
    assert again['changed'] is False and again['changes'] == [] and writes(sim) == {}
    assert [h['actions'] for h in again['hosts']] == [[], []]


def test_install_without_reboot_leaves_a_pending_reboot_that_host_reboot_completes(vms_placed, playbook, tmp_path):
    """reboot: false installs in maintenance mode and leaves; the host then reports rebootRequired and the new VIB
    is not running yet; vsphere_host_reboot reboots exactly that host."""
    sim = vms_placed
    url = vib_url(tmp_path, NEW_VERSION)
    sim.reset_calls()
    run = playbook(sim, [dict(software(url, NEW_VERSION, scope={'esxi_hostname': 'DC0_C0_H1'}, evacuate='migrate', reboot=False),
                              name='install'),
                         dict(reboot(evacuate='migrate'), name='reboot')])
    install = run['install']
    assert install['changed'] is True and not install.get('failed'), install
    assert by_host(install)['DC0_C0_H1']['actions'] == ['enter_maintenance_mode', 'install_vibs', 'exit_maintenance_mode']
    assert by_host(install)['DC0_C0_H1']['reboot_reasons'] == ['host reports reboot required']
    assert install['reboot_required'] is True
    rebooted = by_host(run['reboot'])
    assert rebooted['DC0_C0_H1']['rebooted'] is True and rebooted['DC0_C0_H0']['changed'] is False
    assert writes(sim) == {'RelocateVM_Task': 1, 'EnterMaintenanceMode_Task': 2, 'InstallHostPatchV2_Task': 1,
                           'RebootHost_Task': 1, 'ExitMaintenanceMode_Task': 2}
    state = sim.state()
    assert (state['DC0_C0_H0']['boots'], state['DC0_C0_H1']['boots']) == (0, 1)
    assert state['DC0_C0_H1']['software']['running'][VIB] == NEW_VERSION
    assert state['DC0_C0_H0']['software']['running'][VIB] == START_VERSION
    assert placement(sim) == {VM_ON_H0: ('DC0_C0_H0', 'poweredOn'), VM_ON_H1: ('DC0_C0_H0', 'poweredOn')}
