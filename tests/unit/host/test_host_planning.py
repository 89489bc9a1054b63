"""Pure parts of the host backends: sysfs text parsers, the vgpu-device-manager config, and host_vgpu's planner on a
hand-built inventory (no I/O: the plan's writes are never executed here)."""
import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils.host import inventory, layout, vdm_config
from ansible_collections.gpuvirt.core.plugins.module_utils.host.sysfs import HostRoot
from ansible_collections.gpuvirt.core.plugins.module_utils.pci import normalize_address
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError


def test_parse_creatable_both_formats():
    table = 'ID    : vGPU Name\n1145  : NVIDIA L40S-1B\n1156  : NVIDIA L40S-48Q\n2164  : NVIDIA L40S-3B\n'
    assert inventory.parse_creatable(table) == [('1145', 'NVIDIA L40S-1B'), ('1156', 'NVIDIA L40S-48Q'), ('2164', 'NVIDIA L40S-3B')]
    doc = 'NVIDIA A40-1Q 557\nNVIDIA A40-2Q 558\n'
    assert inventory.parse_creatable(doc) == [('557', 'NVIDIA A40-1Q'), ('558', 'NVIDIA A40-2Q')]
    assert inventory.parse_creatable('1414 : NVIDIA H200X-1-18C\n') == [('1414', 'NVIDIA H200X-1-18C')]
    assert inventory.parse_creatable('') == [] and inventory.parse_creatable(None) == []


def test_parse_description_and_short_names():
    text = 'num_heads=4, frl_config=60, framebuffer=4096M, max_resolution=7680x4320, max_instance=4'
    assert inventory.parse_description(text) == {'num_heads': '4', 'frl_config': '60', 'framebuffer': '4096M',
                                                 'max_resolution': '7680x4320', 'max_instance': '4'}
    assert inventory.short_name('GRID T4-1Q') == 'T4-1Q' and inventory.short_name('NVIDIA A10-4Q') == 'A10-4Q'


@pytest.mark.parametrize('text,expected', [('3b:00.0', '0000:3b:00.0'), ('0000:3B:00.7', '0000:3b:00.7'), (' 0001:41:04.3 ', '0001:41:04.3'),
                                           ('3b:00', None), ('3b:00.8', None), ('all', None), (7, None)])
def test_normalize_address(text, expected):
    assert normalize_address(text) == expected


class FakeFunction(inventory.Function):
    def __init__(self, address, device_id='0x1eb8', vm=None):
        super(FakeFunction, self).__init__(address, '/fake/' + address, '0x10de', device_id, '0x030200', 'nvidia', None, '7', vm)


def fake_inventory(vgpus=(), vms=None):
    """One T4 (mdev on the PF) with T4-4Q/T4-2Q types and the given [(uuid, type_id, name)] vGPUs."""
    inv = inventory.Inventory(HostRoot('/nonexistent-root'))
    fn = FakeFunction('0000:10:00.0')
    gpu = inventory.Gpu(fn, 0)
    gpu.backend = 'mdev'
    gpu.parents = [gpu.address]
    gpu.types = [inventory.VgpuType('nvidia-232', 'GRID T4-4Q', 4, 4, 4096), inventory.VgpuType('nvidia-231', 'GRID T4-2Q', 8, 8, 2048)]
    for vid, type_id, name in vgpus:
        gpu.vgpus.append(inventory.Vgpu(vid, type_id, name, gpu.address, vm=(vms or {}).get(vid)))
    gpu.model_token = 'T4'
    inv.gpus.append(gpu)
    inv.functions[gpu.address] = fn
    return inv, gpu


def plan_for(inv, gpu, spelling, count, **kwargs):
    planner = layout.LayoutPlanner(inv.host, inv, **kwargs)
    planner.layout(gpu, planner.desired_for(gpu, [(layout.resolve_type(spelling), count)]))
    return planner


def test_planner_keeps_what_matches_and_removes_first():
    vgpus = [('a', 'nvidia-232', 'GRID T4-4Q'), ('b', 'nvidia-232', 'GRID T4-4Q')]
    inv, gpu = fake_inventory(vgpus)
    assert [c.action for c in plan_for(inv, gpu, 'T4-4Q', 2).plan] == []
    grow = plan_for(inv, gpu, 'T4-4Q', 3).plan
    assert [(c.action, c.details['type_id']) for c in grow] == [('create', 'nvidia-232')]
    switch = plan_for(inv, gpu, 'GRID T4-2Q', 3).plan
    assert [c.action for c in switch] == ['remove', 'remove', 'create', 'create', 'create']
    assert [c.target for c in switch][:2] == ['a', 'b']


def test_planner_keeps_the_in_use_vgpu_and_refuses_to_remove_it():
    vgpus = [('a', 'nvidia-232', 'GRID T4-4Q'), ('b', 'nvidia-232', 'GRID T4-4Q')]
    inv, gpu = fake_inventory(vgpus, vms={'b': 'vm-b'})
    shrink = plan_for(inv, gpu, 'T4-4Q', 1).plan
    assert [(c.action, c.target) for c in shrink] == [('remove', 'a')]
    with pytest.raises(PlanError) as info:
        plan_for(inv, gpu, 'T4-2Q', 1)
    assert 'vm-b' in info.value.msg and 'force' in info.value.msg
    forced = plan_for(inv, gpu, 'T4-2Q', 1, force=True)
    assert [f['id'] for f in forced.forced] == ['b'] and forced.plan.warnings


@pytest.mark.parametrize('spelling,count,words', [
    ('T4-4Q', 5, ['T4-4Q x5', 'at most 4']),
    ('A10-4Q', 1, ['A10-4Q', 'not offered']),
    ('T4-5Q', 1, ['T4-5Q']),
])
def test_planner_refusals(spelling, count, words):
    inv, gpu = fake_inventory()
    with pytest.raises(PlanError) as info:
        plan_for(inv, gpu, spelling, count)
    for word in words:
        assert word in info.value.msg


def test_select_gpus_errors():
    inv, _gpu = fake_inventory()
    assert layout.select_gpus(inv, 'all') == inv.gpus
    assert layout.select_gpus(inv, '0') == inv.gpus
    for bad, word in (([3], 'index 3'), (['0000:99:00.0'], '0000:99:00.0'), (['zz'], "'zz'")):
        with pytest.raises(PlanError) as info:
            layout.select_gpus(inv, bad)
        assert word in info.value.msg


def test_vdm_config_validation_and_matching():
    good = {'version': 'v1', 'vgpu-configs': {
        'default': [{'devices': 'all', 'device-filter': '0x1EB810DE', 'vgpu-devices': {'T4-4Q': 4}},
                    {'devices': [0], 'vgpu-devices': {'T4-2Q': 8}}],
        'other': [{'devices': [5], 'vgpu-devices': {'T4-1Q': 1}}]}}
    entries = vdm_config.select(good, 'default')
    inv, gpu = fake_inventory()
    assert [e.types for e in vdm_config.matching(entries, inv.gpus)[gpu.address]] == [{'T4-4Q': 4}, {'T4-2Q': 8}], 'in order'
    assert vdm_config.matching(vdm_config.select(good, 'other'), inv.gpus) == {}
    bad_cases = [
        ({'version': 'v2', 'vgpu-configs': {'a': [{'devices': 'all', 'vgpu-devices': {'T4-1Q': 1}}]}}, 'version must be v1'),
        ({'version': 'v1', 'vgpu-configs': {'a': []}}, 'at least one entry'),
        ({'version': 'v1', 'vgpu-configs': {'a': [{'devices': 'some', 'vgpu-devices': {'T4-1Q': 1}}]}}, "'some'"),
        ({'version': 'v1', 'vgpu-configs': {'a': [{'devices': 'all', 'vgpu-devices': {'T4-1Q': 0}}]}}, 'greater than 0'),
        ({'version': 'v1', 'vgpu-configs': {'a': [{'devices': 'all'}]}}, 'vgpu-devices is required'),
        ({'version': 'v1', 'vgpu-configs': {'a': [{'devices': 'all', 'vgpu-devices': {'T4-1Q': 1}, 'x': 1}]}}, 'unknown field'),
        ({'version': 'v1', 'vgpu-configs': {'a': [{'devices': 'all', 'device-filter': 'x10de', 'vgpu-devices': {'T4-1Q': 1}}]}}, '0x<device><vendor>'),
        ({'version': 'v1', 'vgpu-configs': {'a': [{'devices': 'all', 'device-filter': '0x1EB810DE:', 'vgpu-devices': {'T4-1Q': 1}}]}},
         '0x<device><vendor>'),
        ({'version': 'v1', 'other': 1, 'vgpu-configs': {}}, 'unknown field'),
    ]
    for data, word in bad_cases:
        with pytest.raises(PlanError) as info:
            vdm_config.select(data, 'a')
        assert word in info.value.msg, (data, info.value.msg)
    with pytest.raises(PlanError) as info:
        vdm_config.select(good, 'missing')
    assert 'default' in info.value.msg and 'other' in info.value.msg


def a2_a16_inventory():
    """An A2 (25b6, subsystem 157e) at index 0 and an A16 (25b6, subsystem 14a9) at index 1, mdev on the PF for brevity."""
    inv = inventory.Inventory(HostRoot('/nonexistent-root'))
    for index, (address, sub, token) in enumerate([('0000:10:00.0', '0x157e', 'A2'), ('0000:18:00.0', '0x14a9', 'A16')]):
        fn = FakeFunction(address, device_id='0x25b6')
        fn.subsystem_id, fn.subsystem_vendor_id = sub, '0x10de'
        gpu = inventory.Gpu(fn, index)
        gpu.backend, gpu.parents, gpu.model_token = 'mdev', [address], token
        gpu.types = [inventory.VgpuType('nvidia-%d' % n, 'NVIDIA %s-%s' % (token, p), 16 // int(p[:-1]), 16 // int(p[:-1]), 1024 * int(p[:-1]))
                     for n, p in enumerate(['1Q', '2Q', '4Q', '16Q'])]
        inv.gpus.append(gpu)
        inv.functions[address] = fn
    return inv


def test_vdm_subsystem_filters_tell_a2_from_a16():
    """NVIDIA's default file tells boards sharing a device id apart by subsystem (vgpu-device-manager v0.5.0)."""
    data = {'version': 'v1', 'vgpu-configs': {'mixed': [
        {'devices': 'all', 'device-filter': ['0x25B610DE:0x157E10DE'], 'vgpu-devices': {'A2-4Q': 4}},
        {'devices': 'all', 'device-filter': '0x25B610DE:0x14A910DE', 'vgpu-devices': {'A16-2Q': 8}}],
        # another label naming a GPU the catalog does not know and a malformed filter: not the selected one
        'elsewhere': [{'devices': 'all', 'device-filter': 'bogus', 'vgpu-devices': {'X9-1Q': 1}}]}}
    inv = a2_a16_inventory()
    chosen = vdm_config.matching(vdm_config.select(data, 'mixed'), inv.gpus)
    assert [(a, [e.types for e in es]) for a, es in sorted(chosen.items())] == [
        ('0000:10:00.0', [{'A2-4Q': 4}]), ('0000:18:00.0', [{'A16-2Q': 8}])]
    planner, gpus = layout.plan_vgpu(inv.host, inv, config_file='/x', selected_config='mixed', config=data)
    assert [g.address for g in gpus] == ['0000:10:00.0', '0000:18:00.0']
    assert [c.details['type_name'] for c in planner.plan.changes] == ['NVIDIA A2-4Q'] * 4 + ['NVIDIA A16-2Q'] * 8
    assert vdm_config.parse_filter('0x25B610DE') == (0x25b610de, None)


def test_vdm_entries_apply_in_order_and_fail_like_nvidia():
    """Every matching entry is checked in order: an earlier one with a type the GPU lacks fails the run, naming it."""
    inv = a2_a16_inventory()
    data = {'version': 'v1', 'vgpu-configs': {'x': [
        {'devices': [1], 'vgpu-devices': {'A2-4Q': 4}},
        {'devices': 'all', 'device-filter': '0x25B610DE:0x14A910DE', 'vgpu-devices': {'A16-1Q': 16}}]}}
    with pytest.raises(PlanError) as info:
        layout.plan_vgpu(inv.host, inv, config_file='/x', selected_config='x', config=data)
    assert 'vgpu-configs.x[0]' in info.value.msg and '0000:18:00.0' in info.value.msg and 'A2-4Q' in info.value.msg
    data['vgpu-configs']['x'][0] = {'devices': [1], 'vgpu-devices': {'A16-4Q': 4}}
    planner, _gpus = layout.plan_vgpu(inv.host, inv, config_file='/x', selected_config='x', config=data)
    assert [c.details['type_name'] for c in planner.plan.changes] == ['NVIDIA A16-1Q'] * 16, 'the last matching entry decides'


def test_gpu_unknown_to_the_catalog_plans_from_its_driver():
    """A GPU the catalog does not know: the types its driver lists are trusted (max_instance, available_instances),
    with one warning per GPU; a type it does not list is refused."""
    inv = inventory.Inventory(HostRoot('/nonexistent-root'))
    fn = FakeFunction('0000:10:00.0', device_id='0x27b0')
    gpu = inventory.Gpu(fn, 0)
    gpu.backend, gpu.parents = 'mdev', [gpu.address]
    gpu.types = [inventory.VgpuType('nvidia-900', 'NVIDIA RTX4000SFF-4Q', 3, 5, 4096),
                 inventory.VgpuType('nvidia-901', 'NVIDIA RTX4000SFF-2Q', 10, 10, 2048)]
    inv.gpus.append(gpu)
    inv.functions[gpu.address] = fn
    data = {'version': 'v1', 'vgpu-configs': {'a': [{'devices': 'all', 'vgpu-devices': {'RTX4000SFF-4Q': 3}}],
                                              'b': [{'devices': 'all', 'vgpu-devices': {'RTX4000SFF-4Q': 4}}],
                                              'c': [{'devices': 'all', 'vgpu-devices': {'RTX4000SFF-8Q': 1}}]}}
    planner, _gpus = layout.plan_vgpu(inv.host, inv, config_file='/x', selected_config='a', config=data)
    assert [c.details['type_id'] for c in planner.plan.changes] == ['nvidia-900'] * 3
    assert len([w for w in planner.plan.warnings if 'not in the vGPU catalog' in w]) == 1
    for label, words in (('b', 'available_instances'), ('c', 'RTX4000SFF-8Q')):
        with pytest.raises(PlanError) as info:
            layout.plan_vgpu(inv.host, inv, config_file='/x', selected_config=label, config=data)
        assert words in info.value.msg, info.value.msg
    planner, _gpus = layout.plan_vgpu(inv.host, inv, devices=[0], vgpu_type='RTX4000SFF-2Q', count=2)
    assert [c.details['type_id'] for c in planner.plan.changes] == ['nvidia-901'] * 2
