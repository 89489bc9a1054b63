"""Pure vSphere planners and spec builders (no I/O): desired vs current device lists, graphics and passthrough
plans, ReconfigVM and undo specs built with real pyVmomi types."""
import pytest
from pyVmomi import vim

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere import planners
from ansible_collections.gpuvirt.core.plugins.module_utils.pci import full_address
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.inventory import gpu_devices
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.vm import build_spec, build_undo_spec, vm_state
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.query import Obj

A10, T4, A100 = 0x2236, 0x1eb8, 0x20f1
PROFILES = ['grid_a10-4q', 'grid_a10-8q', 'grid_t4-4q', 'grid_a100-40c']


def gpu(pci, device_id, graphics='sharedDirect', enabled=False, active=False, label=None, vms=()):
    return {'id': pci, 'vendor_id': 0x10de, 'device_id': device_id, 'pci_id': '10de:%04x' % device_id, 'device_name': 'x',
            'passthrough': {'capable': True, 'enabled': enabled, 'active': active, 'label': label},
            'graphics_type': 'direct' if active else graphics, 'vgpu_mode': 'sameSize', 'configured_graphics_type': graphics,
            'configured_vgpu_mode': None, 'memory_mib': 1, 'vms': list(vms)}


def host(gpus=None, default='sharedDirect', devices=None):
    return {'name': 'esx1', 'graphics': {'default_type': default, 'assignment_policy': 'performance', 'devices': devices or []},
            'gpus': gpus if gpus is not None else [
                gpu('0000:3b:00.0', A10), gpu('0000:86:00.0', T4), gpu('0000:af:00.0', A100, enabled=True, active=True)],
            'vgpu_profiles': list(PROFILES)}


def vm(devices=(), power='poweredOff', version=19, locked=False, extra=None):
    return {'name': 'vm1', 'power_state': power, 'version': version, 'devices': list(devices), 'memory_locked': locked,
            'extra_config': extra or {}}


def vgpu_dev(profile, key):
    return {'kind': 'vgpu', 'key': key, 'label': None, 'profile': profile}


def dyn_dev(device_id, key, label=''):
    return {'kind': 'dynamic', 'key': key, 'label': None, 'custom_label': label, 'assigned_id': None, 'allowed': [(0x10de, device_id)]}


# -- VM device planning ------------------------------------------------------------------------------
def test_profiles_are_added_as_a_multiset_and_memory_is_locked():
    planned = planners.plan_vm_gpu(vm([vgpu_dev('grid_a10-4q', 1)]), host(), ['A10-4Q', 'grid_a10-4q', 'NVIDIA A10-4Q'])
    assert planned['add_vgpus'] == ['grid_a10-4q', 'grid_a10-4q']
    assert planned['remove_keys'] == [] and planned['memory_locked'] is True
    assert planned['after']['vgpu_profiles'] == ['grid_a10-4q'] * 3


def test_extra_and_changed_profiles_are_removed():
    current = [vgpu_dev('grid_a10-4q', 1), vgpu_dev('grid_a10-8q', 2), vgpu_dev('grid_a10-4q', 3)]
    planned = planners.plan_vm_gpu(vm(current, locked=True), host(), ['grid_a10-8q', 'grid_a10-8q'])
    assert planned['add_vgpus'] == ['grid_a10-8q']
    assert sorted(planned['remove_keys']) == [1, 3]
    assert planned['memory_locked'] is None


def test_same_state_plans_nothing():
    current = [vgpu_dev('grid_a10-4q', 1), dyn_dev(A100, 2)]
    assert planners.plan_vm_gpu(vm(current, locked=True, extra={'pciPassthru.use64bitMMIO': 'TRUE', 'pciPassthru.64bitMMIOSizeGB': '64'}),
                                host(), ['grid_a10-4q'], [{'device_id': A100}]) is None
    # options left unset leave those devices alone
    assert planners.plan_vm_gpu(vm(current, locked=True, extra={'pciPassthru.use64bitMMIO': 'TRUE', 'pciPassthru.64bitMMIOSizeGB': '64'}),
                                host(), None, [{'device_id': '20f1'}]) is None


def test_absent_removes_listed_or_all():
    current = [vgpu_dev('grid_a10-4q', 1), vgpu_dev('grid_a10-4q', 2), dyn_dev(A100, 3)]
    one = planners.plan_vm_gpu(vm(current, locked=True), host(), ['grid_a10-4q'], state='absent')
    assert one['remove_keys'] == [1] and one['add_vgpus'] == []
    everything = planners.plan_vm_gpu(vm(current, locked=True), host(), state='absent')
    assert sorted(everything['remove_keys']) == [1, 2, 3]
    assert planners.plan_vm_gpu(vm([], locked=True), host(), state='absent') is None


def test_large_bar_passthrough_gets_64bit_mmio_sized_to_a_power_of_two():
    planned = planners.plan_vm_gpu(vm(), host(), None, [{'device_id': A100}])
    assert planned['extra_config'] == {'pciPassthru.use64bitMMIO': 'TRUE', 'pciPassthru.64bitMMIOSizeGB': '64'}
    assert planners.plan_vm_gpu(vm(), host(), None, [{'device_id': A100}], mmio_gb=0)['extra_config'] == {}
    assert planners.plan_vm_gpu(vm(), host(), None, [{'device_id': A100}], mmio_gb=256)['extra_config']['pciPassthru.64bitMMIOSizeGB'] == '256'
    assert [planners.mmio_size_gb(n) for n in (40, 80, 96, 128)] == [64, 128, 128, 128]


def test_unknown_profile_lists_the_valid_ones():
    with pytest.raises(PlanError) as caught:
        planners.plan_vm_gpu(vm(), host(), ['grid_a40-4q'])
    assert caught.value.details['valid_profiles'] == PROFILES
    assert 'grid_a10-4q' in caught.value.msg
    with pytest.raises(PlanError):
        planners.plan_vm_gpu(vm(), host(), ['not a profile'])


def test_powered_on_vm_needs_power_cycle():
    with pytest.raises(PlanError) as caught:
        planners.plan_vm_gpu(vm(power='poweredOn'), host(), ['grid_a10-4q'])
    assert 'power_cycle: true' in caught.value.msg
    planned = planners.plan_vm_gpu(vm(power='poweredOn'), host(), ['grid_a10-4q'], power_cycle=True)
    assert planned['power_cycle'] is True
    # nothing to do is fine on a running VM
    assert planners.plan_vm_gpu(vm([vgpu_dev('grid_a10-4q', 1)], power='poweredOn', locked=True), host(), ['grid_a10-4q']) is None


def test_host_without_shared_direct_is_refused_for_vgpu():
    shared = host(gpus=[gpu('0000:3b:00.0', A10, graphics='shared')], default='shared')
    with pytest.raises(PlanError) as caught:
        planners.plan_vm_gpu(vm(), shared, ['grid_a10-4q'])
    assert 'no GPU in Shared Direct mode' in caught.value.msg and 'vsphere_host_graphics' in caught.value.msg
    # the T4 being Shared Direct does not help an A10 profile
    mixed = host(gpus=[gpu('0000:3b:00.0', A10, graphics='shared'), gpu('0000:86:00.0', T4)])
    with pytest.raises(PlanError):
        planners.plan_vm_gpu(vm(), mixed, ['grid_a10-4q'])


def test_dynamic_directpath_needs_vmx17_and_an_enabled_matching_gpu():
    with pytest.raises(PlanError) as caught:
        planners.plan_vm_gpu(vm(version=13), host(), None, [{'device_id': A100}])
    assert 'vmx-13' in caught.value.msg and 'vmx-17' in caught.value.msg
    with pytest.raises(PlanError) as caught:
        planners.plan_vm_gpu(vm(), host(), None, [{'device_id': T4}])
    assert 'passthrough enabled' in caught.value.msg
    with pytest.raises(PlanError) as caught:
        planners.plan_vm_gpu(vm(), host(), None, [{'device_id': '2235'}])
    assert 'no GPU 10de:2235' in caught.value.msg
    with pytest.raises(PlanError):  # two wanted, one on the host
        planners.plan_vm_gpu(vm(), host(), None, [{'device_id': A100}, {'device_id': A100}])
    with pytest.raises(PlanError):  # label must match the host device's hardware label
        planners.plan_vm_gpu(vm(), host(), None, [{'device_id': A100, 'custom_label': 'train'}])


@pytest.mark.parametrize('value, expected', [(4318, 4318), ('10de', 4318), ('0x10DE', 4318), (0x20f1, 0x20f1), ('20f1', 0x20f1)])
def test_pci_numbers(value, expected):
    assert planners.pci_id(value, 'x') == expected


@pytest.mark.parametrize('value', ['zz', True, 0, 0x10000, '-1'])
def test_bad_pci_numbers(value):
    with pytest.raises(PlanError):
        planners.pci_id(value, 'x')


def test_normalize_pci_id():
    assert full_address('3B:00.0') == '0000:3b:00.0'
    assert full_address('0000:af:00.0') == '0000:af:00.0'


# -- host graphics ---------------------------------------------------------------------------------
def test_graphics_plan_merges_devices_and_detects_no_change():
    record = host(default='shared')
    after = planners.plan_graphics(record, 'sharedDirect', 'consolidation', [{'id': '3b:00.0', 'graphics_type': 'shared', 'vgpu_mode': None}])
    assert after == {'default_type': 'sharedDirect', 'assignment_policy': 'consolidation',
                     'devices': [{'id': '0000:3b:00.0', 'graphics_type': 'shared', 'vgpu_mode': None}]}
    record['graphics'] = after
    assert planners.plan_graphics(record, 'sharedDirect', 'consolidation', [{'id': '0000:3b:00.0', 'graphics_type': 'shared'}]) is None
    assert planners.graphics_restart_required(host(), after) is True


def test_graphics_plan_refusals():
    record = host(gpus=[gpu('0000:3b:00.0', A10, vms=['vm9']), gpu('0000:86:00.0', T4)])
    with pytest.raises(PlanError) as caught:
        planners.plan_graphics(record, 'shared')
    assert 'vm9' in caught.value.msg
    # a GPU without VMs may change
    assert planners.plan_graphics(record, None, None, [{'id': '0000:86:00.0', 'graphics_type': 'shared'}]) is not None
    with pytest.raises(PlanError):
        planners.plan_graphics(record, None, None, [{'id': '0000:99:00.0', 'graphics_type': 'shared'}])
    with pytest.raises(PlanError) as caught:
        planners.plan_graphics(record, None, None, [{'id': '0000:86:00.0', 'vgpu_mode': 'mixedSize'}], vgpu_mode_supported=False)
    assert '8.0.3' in caught.value.msg
    with pytest.raises(PlanError):
        planners.plan_graphics(record, None, None, [{'id': '0000:86:00.0', 'graphics_type': 'shared', 'vgpu_mode': 'mixedSize'}])


# -- host passthrough ------------------------------------------------------------------------------
def test_passthrough_plan_by_model_across_hosts():
    one = host()
    two = dict(host(gpus=[gpu('0000:af:00.0', A100), gpu('0000:d8:00.0', A100)]), name='esx2')
    plan = planners.plan_passthrough([one, two], [{'device_id': '20f1', 'enabled': True, 'label': None}])
    assert list(plan) == ['esx2']  # esx1's A100 is already enabled
    assert [i['id'] for i in plan['esx2']] == ['0000:af:00.0', '0000:d8:00.0']
    apply_now = planners.plan_passthrough([one], [{'id': '0000:3b:00.0', 'enabled': True, 'label': None}], apply_now=True)
    assert apply_now['esx1'][0]['before']['active'] is False


def test_passthrough_plan_refusals():
    busy = host(gpus=[gpu('0000:3b:00.0', A10, vms=['vm1'])])
    with pytest.raises(PlanError) as caught:
        planners.plan_passthrough([busy], [{'id': '0000:3b:00.0', 'enabled': True, 'label': None}], apply_now=True)
    assert 'vm1' in caught.value.msg
    assert planners.plan_passthrough([busy], [{'id': '0000:3b:00.0', 'enabled': True, 'label': None}])  # at reboot: fine
    with pytest.raises(PlanError):
        planners.plan_passthrough([busy], [{'id': '0000:99:00.0', 'enabled': True, 'label': None}])
    with pytest.raises(PlanError):
        planners.plan_passthrough([busy], [{'device_id': 0x2235, 'enabled': True, 'label': None}])
    incapable = host(gpus=[gpu('0000:3b:00.0', A10)])
    incapable['gpus'][0]['passthrough']['capable'] = False
    with pytest.raises(PlanError):
        planners.plan_passthrough([incapable], [{'id': '0000:3b:00.0', 'enabled': True, 'label': None}])


# -- spec building with real pyVmomi types ---------------------------------------------------------
def _device(key, backing):
    return vim.vm.device.VirtualPCIPassthrough(key=key, backing=backing, deviceInfo=vim.Description(label='PCI device', summary=''))


def test_reconfig_and_undo_specs():
    old_vgpu = _device(13000, vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(vgpu='grid_a10-8q'))
    disk = vim.vm.device.VirtualDisk(key=2000)
    devices = [disk, old_vgpu]
    assert [d['kind'] for d in gpu_devices(devices)] == ['vgpu']
    planned = planners.plan_vm_gpu(vm(gpu_devices(devices)), host(), ['grid_a10-4q'], [{'device_id': A100, 'custom_label': ''}], mmio_gb=0)
    spec = build_spec(vim, planned, dict((d.key, d) for d in devices))
    operations = [(c.operation, c.device.key, c.device.backing._wsdlName) for c in spec.deviceChange]  # pylint: disable=protected-access
    assert operations == [('remove', 13000, 'VirtualPCIPassthroughVmiopBackingInfo'), ('add', -200, 'VirtualPCIPassthroughVmiopBackingInfo'),
                          ('add', -201, 'VirtualPCIPassthroughDynamicBackingInfo')]
    assert spec.deviceChange[1].device.backing.vgpu == 'grid_a10-4q'
    allowed = spec.deviceChange[2].device.backing.allowedDevice[0]
    assert (allowed.vendorId, allowed.deviceId) == (0x10de, A100)
    assert spec.memoryReservationLockedToMax is True
    # undo: from the state after the reconfigure back to before
    now = [disk, _device(13001, spec.deviceChange[1].device.backing), _device(13002, spec.deviceChange[2].device.backing)]
    undo = build_undo_spec(vim, devices, False, {}, now)
    assert [(c.operation, c.device.key) for c in undo.deviceChange] == [('remove', 13001), ('remove', 13002), ('add', -200)]
    assert undo.deviceChange[2].device.backing.vgpu == 'grid_a10-8q'
    assert undo.memoryReservationLockedToMax is False
    assert sorted((o.key, o.value) for o in undo.extraConfig) == [('pciPassthru.64bitMMIOSizeGB', ''), ('pciPassthru.use64bitMMIO', '')]


def test_vm_state_from_properties():
    ref = vim.VirtualMachine('vm-1')
    dynamic = vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo(
        allowedDevice=[vim.vm.device.VirtualPCIPassthrough.AllowedDevice(vendorId=0x10de, deviceId=A100)], customLabel='t', assignedId='0000:af:00.0')
    obj = Obj(ref, {'name': 'vm1', 'runtime.powerState': 'poweredOn', 'config.version': 'vmx-19',
                    'config.hardware.device': [_device(1, dynamic)], 'config.memoryReservationLockedToMax': True,
                    'config.extraConfig': [vim.option.OptionValue(key='pciPassthru.use64bitMMIO', value='TRUE'),
                                           vim.option.OptionValue(key='other', value='x')]})
    state = vm_state(obj)
    assert state['version'] == 19 and state['memory_locked'] is True
    assert state['extra_config'] == {'pciPassthru.use64bitMMIO': 'TRUE'}
    assert state['devices'] == [{'kind': 'dynamic', 'key': 1, 'label': 'PCI device', 'custom_label': 't',
                                 'assigned_id': '0000:af:00.0', 'allowed': [(0x10de, A100)]}]


# -- NVIDIA's multi-vGPU rules, before the first write (vgpu_rules.py) ---------------------------------
@pytest.mark.parametrize('profiles, words', [
    (['grid_a10-4q', 'grid_a10-8q'], 'vGPUs of different sizes (grid_a10-4q, grid_a10-8q) need the host to run mixed-size mode'),
    (['grid_a10-4q', 'grid_t4-4q'], 'all vGPUs of one VM must be on the same board type, got A10: grid_a10-4q; T4: grid_t4-4q'),
    (['grid_a10-4q', 'grid_a10-4c'], 'all vGPUs of one VM must be of the same series, got C: grid_a10-4c; Q: grid_a10-4q'),
    (['grid_a10-24q'] * 20, '20 vGPU(s) (%s) do not fit on the 2 A10 GPU(s) there (0000:3b:00.0, 0000:5e:00.0); at most 1 x A10-24Q fit'
     % ', '.join(['grid_a10-24q'] * 20)),
])
def test_multi_vgpu_rules_refuse_before_any_write(profiles, words):
    two_a10 = host([gpu('0000:3b:00.0', A10), gpu('0000:5e:00.0', A10)])
    two_a10['vgpu_profiles'] = ['grid_a10-4q', 'grid_a10-8q', 'grid_a10-24q', 'grid_a10-4c', 'grid_t4-4q']
    with pytest.raises(PlanError) as error:
        planners.plan_vm_gpu(vm(), two_a10, profiles)
    assert error.value.msg.startswith("VM vm1 on host esx1: vGPU profiles %s break NVIDIA's multi-vGPU rules: " % ', '.join(profiles))
    assert words in error.value.msg, error.value.msg
    assert error.value.details['vgpu_profiles'] == profiles


def test_multi_vgpu_rules_allow_what_fits():
    two_a10 = host([gpu('0000:3b:00.0', A10), gpu('0000:5e:00.0', A10)])
    two_a10['vgpu_profiles'] = ['grid_a10-4q', 'grid_a10-8q', 'grid_a10-24q']
    assert planners.plan_vm_gpu(vm(), two_a10, ['grid_a10-24q'] * 2)['add_vgpus'] == ['grid_a10-24q'] * 2
    mixed = host([gpu('0000:3b:00.0', A10)])
    mixed['gpus'][0]['vgpu_mode'] = 'mixedSize'
    mixed['vgpu_profiles'] = ['grid_a10-4q', 'grid_a10-8q']
    assert planners.plan_vm_gpu(vm(), mixed, ['grid_a10-4q', 'grid_a10-8q'])['add_vgpus'] == ['grid_a10-4q', 'grid_a10-8q']


def test_a_device_listed_twice_is_refused():
    with pytest.raises(PlanError) as error:
        planners.plan_graphics(host(), devices=[{'id': '0000:3b:00.0', 'graphics_type': 'sharedDirect'}, {'id': '3b:00.0', 'graphics_type': 'shared'}])
    assert error.value.msg == "devices[0] and devices[1] both name device 0000:3b:00.0 ('0000:3b:00.0', '3b:00.0'): list each device once"
    with pytest.raises(PlanError) as error:
        planners.plan_passthrough([host()], [{'id': '0000:af:00.0', 'enabled': True}, {'id': '0000:af:00.0', 'enabled': False}])
    assert 'both name device 0000:af:00.0' in error.value.msg


def test_a_policy_change_alone_needs_a_restart():
    record = host()
    after = planners.plan_graphics(record, policy='consolidation')
    assert after['assignment_policy'] == 'consolidation' and after['default_type'] == 'sharedDirect'
    assert planners.graphics_restart_required(record, after) is True
    assert planners.graphics_restart_required(record, planners.graphics_state(record)) is False
