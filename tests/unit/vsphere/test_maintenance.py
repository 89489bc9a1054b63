"""The pure maintenance planners of plugins/module_utils/vsphere/maintenance.py (no I/O).

Facts they follow (reference gpu-virtualization-facts.md): a host takes GPU settings and a new vGPU Manager VIB in
maintenance mode and activates them with a reboot [S1 §2.9]; VMs with a vGPU migrate only with
``vgpu.hotmigrate.enabled`` and DirectPath VMs never, so a powered-on GPU VM is not a migration candidate [§8];
a host in maintenance mode (or not connected) takes no VMs.
"""
import copy

import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere import maintenance

VIB = 'NVD-VGPU-800'
VIB_VERSION = '550.90.05-1OEM.800.1.0.20613240'


def host(name, cluster='C0', state='connected', maintenance_mode=False):
    return {'name': name, 'cluster': cluster, 'connection_state': state, 'in_maintenance_mode': maintenance_mode}


def vm(name, on, power='poweredOn', gpu=False):
    return {'name': name, 'host': on, 'power_state': power, 'gpu': gpu}


def package(name=VIB, version='550.90.05', url='https://depot.example.com/nvidia/NVD-VGPU-800.vib'):
    return {'name': name, 'version': version, 'url': url}


def moves_of(cycles):
    return dict((c['host'], [(m['vm'], m['action'], m['to']) for m in c['evacuate']]) for c in cycles)


# -- versions and packages --------------------------------------------------------------------------------------------
@pytest.mark.parametrize('installed, wanted, matches', [
    (VIB_VERSION, VIB_VERSION, True),
    (VIB_VERSION, '550.90.05', True),            # the leading part before '-'
    (VIB_VERSION, '550.90', False),              # a prefix that is not the whole part before '-'
    (VIB_VERSION, '550.90.0', False),
    ('550.127.06-1OEM.800.1.0.20613240', '550.90.05', False),
    (None, '550.90.05', False),                  # not installed
    (VIB_VERSION, '', False),
])
def test_version_matches(installed, wanted, matches):
    assert maintenance.version_matches(installed, wanted) is matches


def test_missing_packages_lists_absent_and_other_versions_only():
    wanted = [package(), package('NVD-GPU-MGMT', '550.90.05'), package('OTHER', '1.0')]
    installed = {VIB: VIB_VERSION, 'NVD-GPU-MGMT': '535.183.04-1OEM.800.1.0.20613240'}
    assert [p['name'] for p in maintenance.missing_packages(installed, wanted)] == ['NVD-GPU-MGMT', 'OTHER']
    assert maintenance.missing_packages(dict(installed, **{'NVD-GPU-MGMT': '550.90.05-1', 'OTHER': '1.0'}), wanted) == []


def test_check_packages_accepts_vib_urls_with_query():
    maintenance.check_packages([package(), package('B', '1', 'http://depot/b.VIB?token=x')])


@pytest.mark.parametrize('packages, text', [
    ([dict(package(), url='')], 'packages[0] needs url'),
    ([package(), dict(package('B'), version=None)], 'packages[1] needs version'),
    ([package(), package()], 'package NVD-VGPU-800 is listed twice'),
    ([package(url='https://depot/NVD-VGPU-800_550.90.05.zip')], 'is not a .vib file'),
])
def test_check_packages_refusals(packages, text):
    with pytest.raises(PlanError) as error:
        maintenance.check_packages(packages)
    assert text in error.value.msg


# -- plan_evacuation ---------------------------------------------------------------------------------------------------
def test_evacuate_none_refuses_powered_on_vms_and_names_them():
    vms = {'a': vm('a', 'h0'), 'b': vm('b', 'h0', power='suspended'), 'c': vm('c', 'h0', power='poweredOff')}
    placement = {'a': 'h0', 'b': 'h0', 'c': 'h0'}
    with pytest.raises(PlanError) as error:
        maintenance.plan_evacuation('h0', ['h0', 'h1'], placement, vms, 'none', set())
    # a suspended VM is not powered off either: maintenance mode would wait for it
    assert error.value.details == {'host': 'h0', 'powered_on_vms': ['a', 'b']}
    assert 'VMs are powered on: a, b' in error.value.msg and 'evacuate' in error.value.msg


def test_evacuate_none_with_only_powered_off_vms_moves_nothing():
    vms = {'c': vm('c', 'h0', power='poweredOff'), 'd': vm('d', 'h1')}
    assert maintenance.plan_evacuation('h0', ['h0', 'h1'], {'c': 'h0', 'd': 'h1'}, vms, 'none', set()) == []


def test_power_off_path_powers_off_every_running_vm_gpu_or_not_and_records_it():
    vms = {'b': vm('b', 'h0', gpu=True), 'a': vm('a', 'h0'), 'c': vm('c', 'h0', power='poweredOff'), 'd': vm('d', 'h1')}
    placement = {'a': 'h0', 'b': 'h0', 'c': 'h0', 'd': 'h1'}
    moves = maintenance.plan_evacuation('h0', [], placement, vms, 'power_off', set())
    assert moves == [{'vm': 'a', 'action': 'power_off', 'to': None}, {'vm': 'b', 'action': 'power_off', 'to': None}]
    assert placement == {'a': 'h0', 'b': 'h0', 'c': 'h0', 'd': 'h1'}  # powered off in place
    assert [vms[n]['power_state'] for n in 'abcd'] == ['poweredOff', 'poweredOff', 'poweredOff', 'poweredOn']


def test_migrate_refuses_vm_with_gpu():
    vms = {'a': vm('a', 'h0'), 'g': vm('g', 'h0', gpu=True)}
    with pytest.raises(PlanError) as error:
        maintenance.plan_evacuation('h0', ['h0', 'h1'], {'a': 'h0', 'g': 'h0'}, vms, 'migrate', set())
    assert error.value.details == {'host': 'h0', 'vm': 'g'}
    assert 'vgpu.hotmigrate.enabled' in error.value.msg and 'power_off' in error.value.msg


def test_migrate_of_powered_off_gpu_vm_is_not_needed():
    vms = {'g': vm('g', 'h0', power='poweredOff', gpu=True)}
    assert maintenance.plan_evacuation('h0', ['h0', 'h1'], {'g': 'h0'}, vms, 'migrate', set()) == []


def test_migrate_without_other_receiver_is_refused():
    with pytest.raises(PlanError) as error:
        maintenance.plan_evacuation('h0', ['h0'], {'a': 'h0'}, {'a': vm('a', 'h0')}, 'migrate', set())
    assert 'no other connected host' in error.value.msg and error.value.details == {'host': 'h0', 'vm': 'a'}


def test_migrate_prefers_hosts_not_cycled_later_then_least_loaded_then_name():
    vms = {'a': vm('a', 'h0'), 'b': vm('b', 'h0'), 'c': vm('c', 'h0'), 'x': vm('x', 'h2'), 'off': vm('off', 'h1', power='poweredOff')}
    placement = dict((name, v['host']) for name, v in vms.items())
    receivers = ['h0', 'h1', 'h2', 'h3']
    moves = maintenance.plan_evacuation('h0', receivers, placement, vms, 'migrate', {'h3'})
    # h3 is cycled next, so it is avoided; h1 runs nothing (its VM is off), h2 runs x: a -> h1, then
    # h1 and h2 run one each: b -> h1 (name), then c -> h2 (h1 runs two)
    assert [(m['vm'], m['to']) for m in moves] == [('a', 'h1'), ('b', 'h1'), ('c', 'h2')]
    assert all(m['action'] == 'migrate' for m in moves)
    assert placement == {'a': 'h1', 'b': 'h1', 'c': 'h2', 'x': 'h2', 'off': 'h1'}


def test_migrate_to_a_host_cycled_later_when_no_other():
    vms = {'a': vm('a', 'h0')}
    moves = maintenance.plan_evacuation('h0', ['h0', 'h1'], {'a': 'h0'}, vms, 'migrate', {'h1'})
    assert moves == [{'vm': 'a', 'action': 'migrate', 'to': 'h1'}]


# -- plan_cycles -------------------------------------------------------------------------------------------------------
def test_cycles_only_for_pending_hosts_in_the_given_order():
    hosts = [host('h0'), host('h1'), host('h2')]
    vms = [vm('v0', 'h0'), vm('v1', 'h1'), vm('v2', 'h2')]
    needs = {'h2': ['vib install'], 'h0': ['passthrough pending']}
    cycles = maintenance.plan_cycles(hosts, vms, 'power_off', needs)
    assert [(c['host'], c['why']) for c in cycles] == [('h2', ['vib install']), ('h0', ['passthrough pending'])]
    assert moves_of(cycles) == {'h2': [('v2', 'power_off', None)], 'h0': [('v0', 'power_off', None)]}
    assert all(c['enter'] and c['exit'] for c in cycles)
    assert maintenance.plan_cycles(hosts, vms, 'none', {}) == []  # nothing pending: no cycle, powered-on VMs are fine


def test_host_without_anything_pending_keeps_its_running_vms_under_evacuate_none():
    cycles = maintenance.plan_cycles([host('h0'), host('h1')], [vm('v1', 'h1')], 'none', {'h0': ['vib install']})
    assert cycles == [{'host': 'h0', 'why': ['vib install'], 'evacuate': [], 'enter': True, 'exit': True}]


def test_one_host_at_a_time_vms_return_to_a_host_whose_cycle_ended():
    """h0's VM goes to h1 (the only receiver); when h1's turn comes, h0 is out of maintenance mode again, so both VMs
    move to h0: the plan never empties two hosts at once."""
    hosts = [host('h0'), host('h1')]
    vms = [vm('a', 'h0'), vm('b', 'h1')]
    cycles = maintenance.plan_cycles(hosts, vms, 'migrate', {'h0': ['vib install'], 'h1': ['vib install']})
    assert moves_of(cycles) == {'h0': [('a', 'migrate', 'h1')], 'h1': [('a', 'migrate', 'h0'), ('b', 'migrate', 'h0')]}


def test_receivers_are_connected_hosts_of_the_same_cluster_outside_maintenance_mode():
    hosts = [host('h0'), host('h1', maintenance_mode=True), host('h2', state='disconnected'), host('o0', cluster='C1'),
             host('s0', cluster=None), host('h3')]
    cycles = maintenance.plan_cycles(hosts, [vm('a', 'h0'), vm('b', 'h0')], 'migrate', {'h0': ['vib install']})
    assert moves_of(cycles) == {'h0': [('a', 'migrate', 'h3'), ('b', 'migrate', 'h3')]}


def test_standalone_host_cannot_migrate():
    with pytest.raises(PlanError) as error:
        maintenance.plan_cycles([host('s0', cluster=None), host('s1', cluster=None)], [vm('a', 's0')], 'migrate', {'s0': ['forced']})
    assert error.value.details == {'host': 's0', 'vm': 'a'}


def test_host_already_in_maintenance_mode_is_neither_entered_nor_left():
    hosts = [host('h0', maintenance_mode=True), host('h1')]
    cycles = maintenance.plan_cycles(hosts, [vm('v1', 'h1')], 'none', {'h0': ['host reports reboot required']})
    assert cycles == [{'host': 'h0', 'why': ['host reports reboot required'], 'evacuate': [], 'enter': False, 'exit': False}]


@pytest.mark.parametrize('state', ['disconnected', 'notResponding'])
def test_host_not_connected_is_refused(state):
    with pytest.raises(PlanError) as error:
        maintenance.plan_cycles([host('h0', state=state), host('h1')], [], 'power_off', {'h0': ['vib install']})
    assert error.value.msg == 'host h0 is %s: connect it to vCenter first' % state
    assert error.value.details == {'host': 'h0'}


def test_a_refusal_on_a_later_host_fails_the_whole_plan():
    """h0 could be cycled, h1 cannot (a powered-on GPU VM to migrate): no partial plan comes back, so nothing is
    written on h0 either."""
    hosts = [host('h0'), host('h1'), host('h2')]
    vms = [vm('a', 'h0'), vm('g', 'h1', gpu=True)]
    with pytest.raises(PlanError) as error:
        maintenance.plan_cycles(hosts, vms, 'migrate', {'h0': ['vib install'], 'h1': ['vib install']})
    assert error.value.details == {'host': 'h1', 'vm': 'g'}


def test_evacuate_none_refusal_names_the_first_blocked_host():
    with pytest.raises(PlanError) as error:
        maintenance.plan_cycles([host('h0'), host('h1')], [vm('a', 'h0'), vm('b', 'h1')], 'none',
                                {'h0': ['vib install'], 'h1': ['vib install']})
    assert error.value.details == {'host': 'h0', 'powered_on_vms': ['a']}


def test_powered_off_vms_count_no_load_and_callers_facts_stay_unchanged():
    hosts = [host('h0'), host('h1'), host('h2')]
    vms = [vm('a', 'h0'), vm('p', 'h1', power='poweredOff'), vm('q', 'h1', power='poweredOff'), vm('r', 'h2')]
    before = copy.deepcopy(vms)
    cycles = maintenance.plan_cycles(hosts, vms, 'migrate', {'h0': ['vib install']})
    assert moves_of(cycles) == {'h0': [('a', 'migrate', 'h1')]}
    assert vms == before


@pytest.mark.parametrize('url, ok', [
    ('https://repo.example/NVD.vib', True), ('http://10.0.0.1/NVD.vib', True), ('file:///tmp/NVD.vib', True),
    ('[datastore1] vibs/NVD.vib', True), ('/vmfs/volumes/datastore1/NVD.vib', True),
    ('ftp://repo.example/NVD.vib', False), ('NVD.vib', False), ('smb://share/NVD.vib', False),
])
def test_vib_url_schemes(url, ok):
    packages = [{'name': 'NVD-VGPU-800', 'version': '550.90.05', 'url': url}]
    if ok:
        maintenance.check_packages(packages)
    else:
        with pytest.raises(PlanError) as error:
            maintenance.check_packages(packages)
        assert error.value.msg.startswith('package NVD-VGPU-800: url %s is not an http(s) or file URL or a datastore path' % url)
