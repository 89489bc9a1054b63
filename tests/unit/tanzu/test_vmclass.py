"""Unit tests of the VM class planner (plugins/module_utils/tanzu/vmclass.py): request validation, the devices /
config_spec choice by vCenter version, both key spellings ([CONFLICT] in reference §10), the 100 % memory
reservation of classes with PCI devices, namespace assignment and undo [S12][S11]."""
import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils.tanzu import vmclass
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import ApplyError, PlanError, execute

DEFAULTS = dict(id='gpu01', cpu_count=None, memory_mb=None, cpu_reservation=None, memory_reservation=None, description=None,
                vgpu_profiles=None, passthrough_devices=None, namespaces=[], purge_namespaces=False, device_api='auto',
                state='present')


def req(**options):
    return vmclass.VmClassRequest(dict(DEFAULTS, **options))


class Writer(object):
    def __init__(self, fail_on=None):
        self.calls = []
        self.fail_on = fail_on

    def _record(self, *call):
        self.calls.append(call)
        if call[0] == self.fail_on:
            raise RuntimeError('injected')

    def create(self, body):
        self._record('create', body)

    def update(self, class_id, body):
        self._record('update', class_id, body)

    def delete(self, class_id):
        self._record('delete', class_id)

    def assign(self, namespace, spec):
        self._record('assign', namespace, spec)


def info(**overrides):
    """A class Info as vCenter 7.0.3 returns it (API spelling)."""
    base = {'id': 'gpu01', 'cpu_count': 4, 'memory_mb': 16384, 'memory_reservation': 100, 'description': '',
            'namespaces': [], 'vms': [], 'config_status': 'READY',
            'devices': {'vgpu_devices': [{'profile_name': 'grid_a100-3-20c'}], 'dynamic_direct_path_io_devices': []}}
    base.update(overrides)
    return base


def namespace(classes=(), libraries=('lib-1',)):
    return {'cluster': 'domain-c8', 'vm_service_spec': {'vm_classes': list(classes), 'content_libraries': list(libraries)}}


@pytest.mark.parametrize('options, fragment', [
    (dict(id='GPU01'), "id 'GPU01' is not a valid VM class id"),
    (dict(id='-gpu'), 'not a valid VM class id'),
    (dict(id='g' * 64), 'not a valid VM class id'),
    (dict(cpu_count=0), 'cpu_count must be at least 1'),
    (dict(memory_reservation=101), 'memory_reservation is a percentage'),
    (dict(cpu_reservation=-1), 'cpu_reservation is a percentage'),
    (dict(vgpu_profiles=['A100-3-20C', 'A100-3-21C']), "vgpu_profiles[1] 'A100-3-21C'"),
    (dict(passthrough_devices=[{'vendor_id': 4318}]), 'passthrough_devices[0] needs vendor_id and device_id'),
    (dict(passthrough_devices=[{'vendor_id': 4318, 'device_id': 'xyz'}]), 'passthrough_devices[0].device_id'),
])
def test_bad_input_names_the_option(options, fragment):
    with pytest.raises(PlanError) as err:
        req(**options)
    assert fragment in err.value.msg


def test_device_mode_by_version():
    assert vmclass.device_mode('auto', (7, 0, 3, 0)) == 'devices'
    assert vmclass.device_mode('auto', (8, 0, 1, 0)) == 'devices'
    assert vmclass.device_mode('auto', (8, 0, 2, 100)) == 'config_spec'
    assert vmclass.device_mode('devices', (8, 0, 3, 0)) == 'devices'
    assert vmclass.device_mode('auto', (7, 0, 2, 100)) is None
    with pytest.raises(PlanError, match='needs vCenter 8.0.2'):
        vmclass.device_mode('config_spec', (8, 0, 1, 0))


def test_key_style_follows_the_server():
    assert vmclass.key_style([{'id': 'a', 'memory_MB': 1}]) is vmclass.LEGACY_STYLE
    assert vmclass.key_style([{'id': 'a', 'memory_mb': 1}]) is vmclass.API_STYLE
    assert vmclass.key_style([]) is vmclass.API_STYLE


def test_create_with_devices_on_703_reserves_all_memory():
    writer = Writer()
    the_plan, state = vmclass.plan_vm_class(req(cpu_count=4, memory_mb=16384, vgpu_profiles=['A100-3-20C']), None, {},
                                            vmclass.API_STYLE, 'devices', writer)
    execute(the_plan)
    assert writer.calls == [('create', {'id': 'gpu01', 'cpu_count': 4, 'memory_mb': 16384, 'memory_reservation': 100,
                                        'devices': {'vgpu_devices': [{'profile_name': 'grid_a100-3-20c'}],
                                                    'dynamic_direct_path_io_devices': []}})]
    assert state['memory_reservation'] == 100 and state['vgpu_profiles'] == ['grid_a100-3-20c']


def test_legacy_spelling_is_written_when_the_server_speaks_it():
    writer = Writer()
    execute(vmclass.plan_vm_class(req(cpu_count=2, memory_mb=8192, passthrough_devices=[{'vendor_id': '10de', 'device_id': 8758}]),
                                  None, {}, vmclass.LEGACY_STYLE, 'devices', writer)[0])
    body = writer.calls[0][1]
    assert body['memory_MB'] == 8192 and 'memory_mb' not in body
    assert body['devices'] == {'vgpu_devices': [], 'dynamic_direct_path_IO_devices': [{'vendor_id': 4318, 'device_id': 8758}]}


def test_create_with_config_spec_on_802():
    writer = Writer()
    execute(vmclass.plan_vm_class(req(cpu_count=4, memory_mb=16384, vgpu_profiles=['A100-3-20C'],
                                      passthrough_devices=[{'vendor_id': 4318, 'device_id': 9913, 'custom_label': 'l40s'}]),
                                  None, {}, vmclass.API_STYLE, 'config_spec', writer)[0])
    body = writer.calls[0][1]
    assert 'devices' not in body
    spec = body['config_spec']
    assert spec['_typeName'] == 'VirtualMachineConfigSpec' and spec['memoryReservationLockedToMax'] is True
    devices = [c['device'] for c in spec['deviceChange']]
    assert [d['key'] for d in devices] == [-200, -201]
    assert devices[0]['backing'] == {'_typeName': 'VirtualPCIPassthroughVmiopBackingInfo', 'vgpu': 'grid_a100-3-20c'}
    assert devices[1]['backing']['allowedDevice'] == [{'_typeName': 'VirtualPCIPassthroughAllowedDevice', 'vendorId': 4318, 'deviceId': 9913}]
    assert devices[1]['backing']['customLabel'] == 'l40s'
    # the class reads back the same, so a rerun plans nothing
    created = dict(info(devices=None, config_spec=spec), devices={'vgpu_devices': [], 'dynamic_direct_path_io_devices': []})
    again = vmclass.plan_vm_class(req(cpu_count=4, memory_mb=16384, vgpu_profiles=['grid_a100-3-20c'],
                                      passthrough_devices=[{'vendor_id': 4318, 'device_id': 9913, 'custom_label': 'l40s'}]),
                                  created, {}, vmclass.API_STYLE, 'config_spec', Writer())[0]
    assert not again


def test_memory_reservation_below_100_with_devices_is_refused():
    with pytest.raises(PlanError, match='memory_reservation must be 100'):
        vmclass.plan_vm_class(req(cpu_count=4, memory_mb=16384, memory_reservation=50, vgpu_profiles=['A10-4Q']), None, {},
                              vmclass.API_STYLE, 'devices', Writer())
    # adding a GPU to a class without reservation raises it to 100
    plain = info(memory_reservation=None, devices={'vgpu_devices': [], 'dynamic_direct_path_io_devices': []})
    the_plan, _state = vmclass.plan_vm_class(req(vgpu_profiles=['A10-4Q']), plain, {}, vmclass.API_STYLE, 'devices', Writer())
    assert the_plan.changes[0].after['memory_reservation'] == 100


def test_creation_needs_cpu_and_memory():
    with pytest.raises(PlanError, match='needs cpu_count and memory_mb'):
        vmclass.plan_vm_class(req(vgpu_profiles=['A10-4Q']), None, {}, vmclass.API_STYLE, 'devices', Writer())


def test_devices_on_a_vcenter_without_support_are_refused():
    with pytest.raises(PlanError, match='7.0.3 or later'):
        vmclass.plan_vm_class(req(cpu_count=1, memory_mb=1024, vgpu_profiles=['A10-4Q']), None, {}, vmclass.API_STYLE, None, Writer())
    the_plan = vmclass.plan_vm_class(req(cpu_count=1, memory_mb=1024), None, {}, vmclass.API_STYLE, None, Writer())[0]
    assert [c.action for c in the_plan] == ['create']


def test_rerun_plans_nothing_and_update_sends_only_what_differs():
    assert not vmclass.plan_vm_class(req(cpu_count=4, memory_mb=16384, vgpu_profiles=['A100-3-20C']), info(), {},
                                     vmclass.API_STYLE, 'devices', Writer())[0]
    writer = Writer()
    the_plan = vmclass.plan_vm_class(req(cpu_count=8), info(), {}, vmclass.API_STYLE, 'devices', writer)[0]
    execute(the_plan)
    assert writer.calls == [('update', 'gpu01', {'cpu_count': 8})]


def test_moving_devices_from_devices_to_config_spec_clears_the_deprecated_field():
    writer = Writer()
    execute(vmclass.plan_vm_class(req(vgpu_profiles=['A100-7-40C']), info(), {}, vmclass.API_STYLE, 'config_spec', writer)[0])
    body = writer.calls[0][2]
    assert body['devices'] == {'vgpu_devices': [], 'dynamic_direct_path_io_devices': []}
    assert body['config_spec']['deviceChange'][0]['device']['backing']['vgpu'] == 'grid_a100-7-40c'


def test_failed_update_is_undone_with_the_old_values():
    writer = Writer(fail_on='assign')
    the_plan = vmclass.plan_vm_class(req(vgpu_profiles=['A100-7-40C'], namespaces=['tak']), info(), {'tak': namespace()},
                                     vmclass.API_STYLE, 'devices', writer)[0]
    with pytest.raises(ApplyError) as err:
        execute(the_plan)
    assert err.value.clean
    undo = writer.calls[-1]
    assert undo[0] == 'update' and undo[2]['devices']['vgpu_devices'] == [{'profile_name': 'grid_a100-3-20c'}]
    assert undo[2]['cpu_count'] == 4 and undo[2]['memory_mb'] == 16384


def test_namespace_assignment_keeps_other_classes_and_libraries():
    writer = Writer()
    the_plan = vmclass.plan_vm_class(req(cpu_count=4, memory_mb=16384, namespaces=['tak', 'ml']), None,
                                     {'tak': namespace(['best-effort-small']), 'ml': namespace(['gpu01'])},
                                     vmclass.API_STYLE, 'devices', writer)[0]
    assert [(c.action, c.target) for c in the_plan] == [('create', 'VirtualMachineClass/gpu01'), ('assign', 'Namespace/tak')]
    execute(the_plan)
    assert writer.calls[1] == ('assign', 'tak', {'vm_classes': ['best-effort-small', 'gpu01'], 'content_libraries': ['lib-1']})


def test_missing_namespace_is_refused():
    with pytest.raises(PlanError, match='namespace nope does not exist'):
        vmclass.plan_vm_class(req(cpu_count=4, memory_mb=16384, namespaces=['nope']), None, {'nope': None},
                              vmclass.API_STYLE, 'devices', Writer())


def test_purge_and_absent():
    current = info(namespaces=['ml', 'tak'])
    namespaces = {'tak': namespace(['gpu01']), 'ml': namespace(['gpu01', 'x'])}
    the_plan = vmclass.plan_vm_class(req(namespaces=['tak'], purge_namespaces=True), current, namespaces,
                                     vmclass.API_STYLE, 'devices', Writer())[0]
    assert [(c.action, c.target) for c in the_plan] == [('unassign', 'Namespace/ml')]
    assert the_plan.changes[0].after == {'vm_classes': ['x'], 'content_libraries': ['lib-1']}

    writer = Writer(fail_on='delete')
    the_plan, state = vmclass.plan_vm_class(req(state='absent'), current, namespaces, vmclass.API_STYLE, 'devices', writer)
    assert state is None
    assert [(c.action, c.target) for c in the_plan] == [('unassign', 'Namespace/ml'), ('unassign', 'Namespace/tak'),
                                                        ('delete', 'VirtualMachineClass/gpu01')]
    with pytest.raises(ApplyError):
        execute(the_plan)
    assert [c[0] for c in writer.calls] == ['assign', 'assign', 'delete', 'assign', 'assign']
    assert writer.calls[-1] == ('assign', 'ml', {'vm_classes': ['gpu01', 'x'], 'content_libraries': ['lib-1']})
    assert not vmclass.plan_vm_class(req(state='absent'), None, {}, vmclass.API_STYLE, 'devices', Writer())[0]


@pytest.mark.parametrize('profiles, words', [
    (['A100-3-20C', 'A100-4C'], 'MIG-backed grid_a100-3-20c and time-sliced grid_a100-4c cannot be mixed in one VM'),
    (['grid_a10-4q', 'grid_t4-4q'], 'all vGPUs of one VM must be on the same board type'),
    (['grid_v100-4q', 'grid_v100-8q'], 'vGPUs of different sizes (grid_v100-4q, grid_v100-8q) need mixed-size mode, which V100'),
])
def test_multi_vgpu_rules_refuse_before_the_login(profiles, words):
    with pytest.raises(PlanError) as error:
        req(vgpu_profiles=profiles)
    assert error.value.msg.startswith("VM class %s: vGPU profiles " % DEFAULTS['id']) and words in error.value.msg, error.value.msg
