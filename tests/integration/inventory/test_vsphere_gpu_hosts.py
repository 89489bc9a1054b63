"""gpuvirt.core.vsphere_gpu_hosts through ansible-inventory against vcsim-gpu: the hosts with their GPUs, vGPUs in use
and free capacity, default and constructed groups, one retrieval per run (none from the cache), clear errors."""
import pytest
from pyVmomi import vim

pytestmark = pytest.mark.integration

PLUGIN = {'plugin': 'gpuvirt.core.vsphere_gpu_hosts'}
LOGIN_CALLS = {'RetrieveServiceContent', 'Login', 'Logout', 'Fetch'}


def add_vgpus(sim, vm_name, host, profiles):
    """The VM on ``host`` with these vGPU profiles, powered on (as vsphere_vm_gpu would leave it)."""
    sim.place({vm_name: host})
    vm = sim.power_off(vm_name)
    changes = [vim.vm.device.VirtualDeviceSpec(operation='add', device=vim.vm.device.VirtualPCIPassthrough(
        key=-100 - index, backing=vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(vgpu=profile)))
        for index, profile in enumerate(profiles)]
    sim.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(memoryReservationLockedToMax=True, deviceChange=changes)))
    sim.wait(vm.PowerOnVM_Task())


@pytest.fixture
def lab(sim):
    """H0: Shared Direct, VM0 on it with two A10-4Q vGPUs; H1: shared (vSGA), its A100 in active passthrough."""
    sim.shared_direct('DC0_C0_H0')
    add_vgpus(sim, 'DC0_C0_RP0_VM0', 'DC0_C0_H0', ['grid_a10-4q', 'grid_a10-4q'])
    system = sim.host('DC0_C0_H1').configManager.pciPassthruSystem
    system.UpdatePassthruConfig([vim.host.PciPassthruConfig(id='0000:af:00.0', passthruEnabled=True, applyNow=True)])
    sim.reset_calls()
    return sim


def test_hosts_gpus_vgpus_free_capacity_and_default_groups_in_one_retrieval(lab, inventory):
    run = inventory(lab, PLUGIN, 'lab.vsphere_gpu_hosts.yml')
    assert run.rc == 0, run.stderr
    calls = lab.calls()
    assert calls['Login'] == calls['Logout'] == 1
    assert dict((k, v) for k, v in calls.items() if k not in LOGIN_CALLS) == {
        'CreateContainerView': 1, 'RetrievePropertiesEx': 1, 'DestroyView': 1}, calls

    assert sorted(run.hostvars) == ['DC0_C0_H0', 'DC0_C0_H1']
    h0, h1 = run.hostvars['DC0_C0_H0'], run.hostvars['DC0_C0_H1']
    assert (h0['gpu_count'], h0['gpu_models'], h0['gpu_graphics_type']) == (4, ['A10', 'A100', 'T4'], 'sharedDirect')
    assert (h0['vsphere_cluster'], h0['vsphere_datacenter'], h0['vsphere_connection_state']) == ('DC0_C0', 'DC0', 'connected')
    assert h0['vsphere_moid'] == lab.host('DC0_C0_H0')._moId  # pylint: disable=protected-access
    assert h0['vgpu_profiles_offered'] == list(lab.host('DC0_C0_H0').config.sharedPassthruGpuTypes)
    assert 'grid_a10-4q' in h0['vgpu_profiles_offered']
    assert h0['vgpu_profiles_in_use'] == {'A10-4Q': 2}
    # two A10s hold 6 x A10-4Q each (catalog): 12 - 2 in use; the T4 and A100 in Shared Direct are empty
    assert h0['vgpu_free']['A10-4Q'] == 10 and h0['vgpu_free']['T4-4Q'] == 4 and h0['vgpu_free']['A100-4C'] == 10
    a10s = [g for g in h0['gpus'] if g['model'] == 'A10']
    assert [g['device_id'] for g in a10s] == ['2236', '2236']
    assert sum(sum(g['vgpus_in_use'].values()) for g in a10s) == 2
    assert all(g['state'] == 'vgpu' and g['graphics_type'] == 'sharedDirect' and g['capacity_known'] for g in h0['gpus'])

    assert h1['gpu_graphics_type'] == 'shared' and h1['vgpu_free'] == {} and h1['vgpu_profiles_in_use'] == {}
    a100 = next(g for g in h1['gpus'] if g['model'] == 'A100')
    assert a100['state'] == 'passthrough' and a100['passthrough'] == {'capable': True, 'enabled': True, 'active': True}
    assert [g['state'] for g in h1['gpus'] if g['model'] != 'A100'] == ['not-ready'] * 3

    groups = run.groups
    for model in ('a10', 'a100', 't4'):
        assert groups['gpu_model_' + model] == ['DC0_C0_H0', 'DC0_C0_H1']
    assert groups['gpu_hosts'] == ['DC0_C0_H0', 'DC0_C0_H1']
    assert groups['graphics_shared_direct'] == ['DC0_C0_H0']
    assert 'DC0_C0_H1' in groups['graphics_shared'] and 'DC0_C0_H0' not in groups['graphics_shared']
    assert groups['gpu_passthrough'] == ['DC0_C0_H1']
    assert lab.env['VMWARE_PASSWORD'] not in run.stdout + run.stderr


def test_constructed_groups_compose_keyed_groups_filters_and_cache(lab, inventory, tmp_path):
    config = dict(PLUGIN, default_groups=False, compose={'ansible_host': 'vsphere_moid'},
                  groups={'a10_4q_room': "(vgpu_free['A10-4Q'] | default(0)) >= 2"},
                  keyed_groups=[{'key': 'vsphere_cluster', 'prefix': 'cluster'}, {'key': 'gpu_graphics_type', 'prefix': 'default'}],
                  cache=True, cache_plugin='ansible.builtin.jsonfile', cache_connection=str(tmp_path / 'cache'))
    first = inventory(lab, config, 'constructed.vsphere_gpu_hosts.yml')
    assert first.rc == 0, first.stderr
    assert first.groups['a10_4q_room'] == ['DC0_C0_H0']
    assert first.groups['cluster_DC0_C0'] == ['DC0_C0_H0', 'DC0_C0_H1']
    assert first.groups['default_sharedDirect'] == ['DC0_C0_H0'] and first.groups['default_shared'] == ['DC0_C0_H1']
    assert not [g for g in first.groups if g.startswith(('gpu_model_', 'graphics_'))]
    assert first.hostvars['DC0_C0_H1']['ansible_host'] == first.hostvars['DC0_C0_H1']['vsphere_moid']
    assert list((tmp_path / 'cache').iterdir()), 'the cache plugin wrote nothing'

    # from the cache: not one call to vCenter, the same inventory
    lab.reset_calls()
    cached = inventory(lab, config, 'constructed.vsphere_gpu_hosts.yml')
    assert cached.rc == 0, cached.stderr
    assert lab.calls() == {}
    assert (cached.hostvars, cached.groups) == (first.hostvars, first.groups)

    # scope: a cluster by name; an unknown one names the known ones
    scoped = inventory(lab, dict(PLUGIN, datacenter='DC0', cluster='DC0_C0'), 'scoped.vsphere_gpu_hosts.yml')
    assert sorted(scoped.hostvars) == ['DC0_C0_H0', 'DC0_C0_H1']
    unknown = inventory(lab, dict(PLUGIN, cluster='gpu-cluster'), 'unknown.vsphere_gpu_hosts.yml')
    assert unknown.rc != 0 and "cluster 'gpu-cluster' not found (known: DC0_C0)" in unknown.stderr


def test_bad_credentials_unreachable_server_and_wrong_file_name(sim, inventory):
    password = sim.env['VMWARE_PASSWORD']
    wrong = inventory(sim, PLUGIN, 'lab.vsphere_gpu_hosts.yml', env={'VMWARE_PASSWORD': 'not-the-password'})
    assert wrong.rc != 0
    assert 'gpuvirt.core.vsphere_gpu_hosts: login to vCenter/ESXi 127.0.0.1:%d as %s failed: wrong user name or password' % (
        sim.port, sim.env['VMWARE_USER']) in wrong.stderr
    assert 'not-the-password' not in wrong.stderr + wrong.stdout

    from tests.integration.worlds import free_port  # pylint: disable=import-outside-toplevel
    port = free_port()
    down = inventory(sim, PLUGIN, 'lab.vsphere_gpu_hosts.yml', env={'VMWARE_PORT': str(port)})
    assert down.rc != 0
    assert 'gpuvirt.core.vsphere_gpu_hosts: cannot reach vCenter/ESXi at 127.0.0.1:%d' % port in down.stderr
    assert password not in down.stderr + down.stdout

    # a file not named *vsphere_gpu_hosts.yml is not this plugin's (verify_file): nothing is read
    sim.reset_calls()
    other = inventory(sim, PLUGIN, 'lab.yml')
    assert other.rc != 0 and 'Unable to parse' in other.stderr
    assert sim.calls() == {}
