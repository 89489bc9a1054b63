"""The capacity report's model: facts of the info modules -> sites, hosts, GPUs, what still fits, summary.

Edge cases of issue 8: empty inventory, mixed-size GPU, full GPU, MIG-backed vGPUs, a host that failed to answer
(shown, not omitted). "What still fits" must be the catalog's answer, the one the vgpu_fits filter gives.
"""
import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.gpuvirt.core.plugins.filter.vgpu import vgpu_fits
from ansible_collections.gpuvirt.core.plugins.module_utils import vgpu
from ansible_collections.gpuvirt.core.plugins.module_utils.report import ReportError, build
from ansible_collections.gpuvirt.core.plugins.module_utils.report.common import NOT_READY, PASSTHROUGH, VGPU


def only_gpu(model):
    (site,) = model['sites']
    (host,) = site['hosts']
    (gpu,) = host['gpus']
    return gpu


def kvm(*gpus):
    return {'hosts': {'kvm-1': {'changed': False, 'gpus': list(gpus)}}}


def test_empty_inventory_gives_an_empty_report():
    for facts in ({}, None, {'vsphere': None, 'hosts': {}, 'kubernetes': None}, {'vsphere': {}, 'kubernetes': []}):
        model = build(facts)
        assert model['sites'] == []
        summary = model['summary']
        assert (summary['hosts'], summary['gpus'], summary['vgpus'], summary['hosts_failed']) == (0, 0, 0, 0)
        assert summary['free_by_type'] == {} and summary['vgpus_by_type'] == {}


@pytest.mark.parametrize('bad', [['not', 'a', 'mapping'], 'text'])
def test_facts_of_the_wrong_type_are_refused(bad):
    with pytest.raises(ReportError, match='must be a mapping'):
        build(bad)
    with pytest.raises(ReportError, match='hosts must map'):
        build({'hosts': ['kvm-1']})


@pytest.mark.parametrize('result, expected', [
    ({'unreachable': True, 'msg': 'ssh: connect to host kvm-2 port 22: Connection refused', 'changed': False},
     'unreachable: ssh: connect to host kvm-2 port 22: Connection refused'),
    ({'failed': True, 'msg': 'host_root /host has no sys/bus/pci', 'changed': False}, 'host_root /host has no sys/bus/pci'),
    ({'skipped': True, 'skip_reason': 'Conditional result was False'}, 'skipped: Conditional result was False'),
    ('no answer within 30 s', 'no answer within 30 s'),
    (None, 'no facts were gathered'),
    ({'changed': False, 'msg': 'all fine'}, 'the result has no "gpus" key: not a host_gpu_info result'),
])
def test_a_host_that_failed_to_answer_is_shown_not_omitted(result, expected, make_kvm_gpu):
    facts = kvm(make_kvm_gpu('0000:3b:00.0', '0x1eb8'))
    facts['hosts']['kvm-2'] = result
    model = build(facts)
    hosts = dict((h['name'], h) for h in model['sites'][0]['hosts'])
    assert sorted(hosts) == ['kvm-1', 'kvm-2']
    assert hosts['kvm-2']['error'] == expected
    assert hosts['kvm-2']['gpus'] == []
    assert hosts['kvm-1']['error'] is None
    assert model['summary']['hosts_failed'] == 1 and model['summary']['hosts'] == 2


def test_a_failed_vcenter_or_cluster_is_a_failed_site():
    model = build({'vsphere': {'failed': True, 'msg': 'Cannot connect to vcenter.lab: connection refused'},
                   'kubernetes': {'failed': True, 'msg': 'Unauthorized'}})
    assert [(s['kind'], s['error']) for s in model['sites']] == [
        ('vsphere', 'Cannot connect to vcenter.lab: connection refused'), ('kubernetes', 'Unauthorized')]
    assert model['summary']['hosts_failed'] == 2 and model['summary']['sites_failed'] == 2


def test_full_equal_size_gpu(make_kvm_gpu, make_mdev):
    """Six A10-4Q fill an A10 (reference §4: 4Q max 6 on 24 GB)."""
    vgpus = [make_mdev('u%d' % i, 'NVIDIA A10-4Q', parent='0000:3b:00.%d' % (4 + i)) for i in range(6)]
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:3b:00.0', '0x2236', vgpus, total_vfs=24, num_vfs=24))))
    assert gpu['model'] == 'A10' and gpu['state'] == VGPU
    assert gpu['used'] == {'A10-4Q': 6}
    assert gpu['fits'] == {} and gpu['full']
    assert gpu['slots'] == {'used': 6, 'total': 6}
    assert [s['kind'] for s in gpu['segments']] == ['used'] * 6
    assert sum(s['share'] for s in gpu['segments']) == pytest.approx(1.0)


def test_full_gpu_with_an_unallocatable_rest():
    """32 x L40S-1Q hit the 32-vGPU limit with 16 GB unused (reference §4: 1Q on 48 GB GPUs = 32)."""
    vgpus = [{'id': '0000:86:%02x.%d' % ((4 + i) // 8, (4 + i) % 8), 'type_id': '1145', 'type_name': 'NVIDIA L40S-1Q',
              'parent': '0000:86:00.0', 'in_use': False} for i in range(32)]
    facts = kvm({'address': '0000:86:00.0', 'vendor_id': '0x10de', 'device_id': '0x26b9', 'driver': 'nvidia', 'iommu_group': '5',
                 'sriov': {'total_vfs': 32, 'num_vfs': 32}, 'vgpu_backend': 'vendor_vfio', 'vgpu_types': [], 'vgpus': vgpus})
    gpu = only_gpu(build(facts))
    assert gpu['full'] and gpu['fits'] == {}
    assert gpu['segments'][-1]['kind'] == 'spare'
    assert gpu['segments'][-1]['share'] == pytest.approx(16.0 / 48)


def test_mixed_size_gpu(make_kvm_gpu, make_mdev):
    """Mixed-size mode (reference §4, [S1 §2.11]): sizes may differ; the catalog's conservative limits apply."""
    vgpus = [make_mdev('a', 'NVIDIA A10-8Q'), make_mdev('b', 'NVIDIA A10-4Q'), make_mdev('c', 'NVIDIA A10-4Q')]
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:af:00.0', '0x2236', vgpus, vgpu_mode='mixedSize'))))
    assert gpu['mixed_size'] and not gpu['mig']
    assert gpu['used'] == {'A10-8Q': 1, 'A10-4Q': 2}
    assert gpu['fits'] == vgpu.remaining('A10', ['A10-8Q', 'A10-4Q', 'A10-4Q'], mixed_size=True)
    assert gpu['fits']['A10-8Q'] == 1 and gpu['fits']['A10-1Q'] == 8
    kinds = [s['kind'] for s in gpu['segments']]
    assert kinds == ['used', 'used', 'used', 'free']
    assert gpu['segments'][-1]['share'] == pytest.approx(8.0 / 24)
    assert gpu['segments'][-1]['label'] == 'free: 8192 MiB'


def test_mixed_sizes_without_mixed_size_mode_break_the_rules(make_kvm_gpu, make_mdev):
    vgpus = [make_mdev('a', 'NVIDIA A10-8Q'), make_mdev('b', 'NVIDIA A10-4Q')]
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:af:00.0', '0x2236', vgpus))))
    assert not gpu['capacity_known'] and gpu['fits'] == {} and not gpu['full']
    assert any('equal-size mode' in note for note in gpu['notes'])
    assert gpu['segments'][0]['kind'] == 'blocked'


def test_mig_backed_vgpus(make_kvm_gpu, make_mdev):
    """MIG-backed types may differ; compute and memory slices limit them (reference §4; A100 40GB: 7 and 8)."""
    vgpus = [make_mdev('a', 'NVIDIA A100-3-20C', 'nvidia-472'), make_mdev('b', 'NVIDIA A100-2-10C', 'nvidia-471', in_use=True)]
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:17:00.0', '0x20f1', vgpus, total_vfs=16, num_vfs=16))))
    assert gpu['mig'] and gpu['model'] == 'A100'
    assert gpu['slots'] == {'used': 6, 'total': 8, 'unit': 'memory slices'}
    assert gpu['fits'] == vgpu.remaining('A100', ['A100-3-20C', 'A100-2-10C'])
    assert 'A100-4C' not in gpu['fits']  # time-sliced types never join MIG-backed ones
    shares = [(s['kind'], round(s['share'], 3)) for s in gpu['segments']]
    assert shares == [('used', 0.25), ('used', 0.5), ('free', 0.25)]
    assert [s.get('in_use') for s in gpu['segments'][:2]] == [True, False]


def test_empty_gpu_is_all_free_and_fits_every_type(make_kvm_gpu):
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:3b:00.0', '0x1eb8'))))
    assert gpu['model'] == 'T4' and gpu['state'] == VGPU
    assert gpu['fits'] == vgpu.remaining('T4', [])
    assert gpu['segments'] == [{'kind': 'free', 'type': None, 'share': 1.0, 'label': 'free: no vGPUs yet'}]
    model = build(kvm(make_kvm_gpu('0000:3b:00.0', '0x1eb8')))
    assert model['summary']['gpus_empty'] == 1 and model['summary']['empty_by_model'] == {'T4': 1}


def test_fits_is_the_vgpu_fits_filters_answer(lab_facts):
    """The report and users' playbooks share one answer (issue 8)."""
    model = build(lab_facts)
    checked = 0
    for site in model['sites']:
        for host in site['hosts']:
            for gpu in host['gpus']:
                if gpu['state'] != VGPU or not gpu['capacity_known']:
                    continue
                existing = [t for t, n in gpu['used'].items() for _i in range(n)]
                assert gpu['fits'] == vgpu_fits(gpu['model'], existing=existing, mixed_size=gpu['mixed_size'])['remaining']
                checked += 1
    assert checked == 8


def test_lab_summary(lab_facts):
    summary = build(lab_facts)['summary']
    assert summary['hosts'] == 9  # 2 ESXi, 4 KVM (one unreachable), 3 Kubernetes GPU nodes
    assert summary['hosts_failed'] == 1
    assert summary['gpus'] == 12 and summary['gpus_passthrough'] == 2 and summary['gpus_not_ready'] == 2
    assert summary['vgpus'] == 13
    assert summary['vgpus_by_type'] == {'A10-4Q': 6, 'A10-8Q': 1, 'A100-2-10C': 1, 'A100-3-20C': 1, 'L40S-48Q': 1, 'L40S-8Q': 1, 'T4-2Q': 2}
    assert summary['free_by_type']['A10-4Q'] == 5 + 5 + 3 + 3  # esx-1 twice, kvm-1, kvm-4 (mixed-size)
    assert summary['gpus_full'] == 1 and summary['reboot_pending'] == 1
    assert summary['kubernetes_resources'] == {'nvidia.com/AD102GL_L40S': {'capacity': 1, 'allocatable': 0},
                                               'nvidia.com/NVIDIA_A10-4Q': {'capacity': 12, 'allocatable': 12}}


def test_driver_counts_that_differ_from_the_catalog_are_noted(make_kvm_gpu, make_mdev):
    types = [{'id': 'nvidia-231', 'name': 'GRID T4-2Q', 'available_instances': 6},
             {'id': 'nvidia-232', 'name': 'GRID T4-4Q', 'available_instances': 0}]
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:3b:00.0', '0x1eb8', [make_mdev('a', 'GRID T4-2Q')], types))))
    assert gpu['fits']['T4-2Q'] == 7
    assert gpu['notes'] == ['the host driver offers other counts than the catalog (T4-2Q: driver 6, catalog 7); the driver decides']
    types[0]['available_instances'] = 7
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:3b:00.0', '0x1eb8', [make_mdev('a', 'GRID T4-2Q')], types))))
    assert gpu['notes'] == [] and 'driver_differs' not in gpu


def test_sriov_gpu_without_vfs_is_not_ready(make_kvm_gpu):
    """VFs appear only after sriov-manage and vanish on reboot (reference §2)."""
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:d8:00.0', '0x26b9', backend='none', total_vfs=32, num_vfs=0))))
    assert gpu['state'] == NOT_READY and gpu['fits'] == {} and not gpu['full']
    assert 'sriov-manage -e 0000:d8:00.0' in gpu['notes'][0]


def test_vfio_pci_gpu_is_passthrough(make_kvm_gpu):
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:d9:00.0', '0x2236', backend='none', driver='vfio-pci', in_use=True))))
    assert gpu['state'] == PASSTHROUGH and gpu['capacity_known'] and gpu['fits'] == {}
    assert gpu['segments'][0]['label'] == 'passthrough: bound to vfio-pci, used by a running VM'


def test_vendor_vfio_vgpu_whose_name_is_unreadable(make_kvm_gpu):
    """The name of a created vendor-VFIO vGPU cannot always be read from sysfs (reference §3): capacity unknown."""
    vgpus = [{'id': '0000:86:00.4', 'type_id': '1150', 'type_name': None, 'parent': '0000:86:00.0', 'in_use': False}]
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:86:00.0', '0x26b9', vgpus, backend='vendor_vfio', total_vfs=32, num_vfs=32))))
    assert not gpu['capacity_known'] and gpu['fits'] == {} and gpu['vgpus'][0]['type'] is None
    assert 'could not be read' in gpu['notes'][0]
    # the type id resolves through the GPU's type list when the driver still lists it
    types = [{'id': '1150', 'name': 'NVIDIA L40S-4Q', 'available_instances': 11}]
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:86:00.0', '0x26b9', vgpus, types, backend='vendor_vfio', total_vfs=32, num_vfs=32))))
    assert gpu['used'] == {'L40S-4Q': 1} and gpu['fits']['L40S-4Q'] == 11


def test_a2_and_a16_share_a_pci_id(make_kvm_gpu, make_mdev):
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:08:00.0', '0x25b6', backend='none'))))
    assert gpu['model'] is None and 'A2 or A16' in gpu['notes'][0]
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:08:00.0', '0x25b6', [make_mdev('a', 'NVIDIA A2-4C')]))))
    assert gpu['model'] == 'A2' and gpu['fits'] == vgpu.remaining('A2', ['A2-4C'])
    gpu = only_gpu(build(kvm(make_kvm_gpu('0000:08:00.0', '0x25b6', backend='none', model='A16'))))
    assert gpu['model'] == 'A16'


def test_non_nvidia_and_virtual_functions_are_left_out(make_kvm_gpu):
    facts = kvm(make_kvm_gpu('0000:3b:00.0', '0x1eb8'), make_kvm_gpu('0000:3b:00.4', '0x1eb8', physfn='0000:3b:00.0'),
                dict(make_kvm_gpu('0000:65:00.0', '0x0b40'), vendor_id='0x8086'))
    (host,) = build(facts)['sites'][0]['hosts']
    assert [g['id'] for g in host['gpus']] == ['0000:3b:00.0']


def test_kvm_hosts_grouped_by_site(make_kvm_gpu):
    facts = {'hosts': {'a': {'gpus': [], 'site': 'lab-east'}, 'b': {'gpus': []}, 'c': {'gpus': [], 'site': 'lab-east'}}}
    sites = build(facts)['sites']
    assert [(s['name'], [h['name'] for h in s['hosts']]) for s in sites] == [('lab-east', ['a', 'c']), ('KVM hosts', ['b'])]


# ---------------------------------------------------------------------------------------------- vSphere

def esx(name, gpus, policy='performance', default_type='sharedDirect', profiles=('grid_a10-4q', 'grid_a10-8q')):
    return {'name': name, 'graphics': {'default_type': default_type, 'assignment_policy': policy}, 'gpus': gpus,
            'vgpu_profiles': list(profiles)}


def esx_gpu(pci, device_id=8758, graphics='sharedDirect', enabled=False, active=False, **extra):
    gpu = {'id': pci, 'vendor_id': 4318, 'device_id': device_id, 'graphics_type': graphics,
           'passthrough': {'capable': True, 'enabled': enabled, 'active': active}}
    gpu.update(extra)
    return gpu


def vm(name, host, profiles=(), power='poweredOn', devices=()):
    return {'name': name, 'host': host, 'power_state': power, 'vgpu_profiles': list(profiles), 'passthrough_devices': list(devices)}


@pytest.mark.parametrize('policy, expected', [('consolidation', [3, 0]), ('performance', [2, 1])])
def test_vsphere_placement_follows_the_assignment_policy(policy, expected):
    """Without per-GPU VM lists, VMs are placed as the host's policy does it ([S1 §2.9], reference §8)."""
    facts = {'vsphere': {'hosts': [esx('esx-1', [esx_gpu('0000:3b:00.0'), esx_gpu('0000:5e:00.0')], policy=policy)],
                         'vms': [vm('v%d' % i, 'esx-1', ['grid_a10-4q']) for i in range(3)]}}
    (host,) = build(facts)['sites'][0]['hosts']
    assert [len(g['vgpus']) for g in host['gpus']] == expected
    assert any('placed by the host\'s %s policy' % policy in n for n in host['notes'])


def test_vsphere_per_gpu_vm_lists_are_used_when_given():
    facts = {'vsphere': {'hosts': [esx('esx-1', [esx_gpu('0000:3b:00.0', vms=[]), esx_gpu('0000:5e:00.0', vms=['v1', 'v2'])], policy='consolidation')],
                         'vms': [vm('v1', 'esx-1', ['grid_a10-4q']), vm('v2', 'esx-1', ['grid_a10-4q', 'grid_a10-4q'])]}}
    (host,) = build(facts)['sites'][0]['hosts']
    assert [g['used'] for g in host['gpus']] == [{}, {'A10-4Q': 3}]
    assert not any('placed by' in n for n in host['notes'])
    assert [v['vm'] for v in host['gpus'][1]['vgpus']] == ['v1', 'v2', 'v2']


def test_vsphere_powered_off_vms_hold_no_gpu():
    facts = {'vsphere': {'hosts': [esx('esx-1', [esx_gpu('0000:3b:00.0')])],
                         'vms': [vm('off', 'esx-1', ['grid_a10-8q'], power='poweredOff'), vm('on', 'esx-1', ['grid_a10-4q'])]}}
    (host,) = build(facts)['sites'][0]['hosts']
    assert host['gpus'][0]['used'] == {'A10-4Q': 1}
    assert host['powered_off'] == [{'vm': 'off', 'vgpu_profiles': ['grid_a10-8q'], 'passthrough_devices': 0}]


def test_vsphere_vgpu_that_fits_nowhere_is_reported():
    facts = {'vsphere': {'hosts': [esx('esx-1', [esx_gpu('0000:3b:00.0')])],
                         'vms': [vm('a', 'esx-1', ['grid_a10-4q']), vm('b', 'esx-1', ['grid_a10-8q'])]}}
    (host,) = build(facts)['sites'][0]['hosts']
    assert host['unplaced'] == [{'vm': 'b', 'profile': 'grid_a10-8q'}]
    assert build(facts)['summary']['unplaced_vgpus'] == 1


def test_vsphere_passthrough_and_reboot_pending():
    """passthruEnabled vs passthruActive: the change waits for a reboot (reference §8)."""
    facts = {'vsphere': {'hosts': [esx('esx-1', [esx_gpu('0000:86:00.0', 8433, 'direct', enabled=True, active=True),
                                                 esx_gpu('0000:87:00.0', 8433, 'sharedDirect', enabled=True, active=False)])],
                         'vms': [vm('ml-01', 'esx-1', devices=[{'vendor_id': 4318, 'device_id': 8433, 'custom_label': 'a100',
                                                                'assigned_id': '86:00.0'}])]}}
    (host,) = build(facts)['sites'][0]['hosts']
    first, second = host['gpus']
    assert first['state'] == PASSTHROUGH and first['assigned_to'] == ['ml-01'] and not first['reboot_pending']
    assert second['reboot_pending'] and host['reboot_pending']
    assert 'passthrough enabled: takes effect after a host reboot' in second['notes']


def test_vsphere_vsga_gpu_is_not_ready_and_host_default_is_flagged():
    facts = {'vsphere': {'hosts': [esx('esx-2', [esx_gpu('0000:3b:00.0', 7864, 'shared')], default_type='shared')], 'vms': []}}
    (host,) = build(facts)['sites'][0]['hosts']
    assert host['gpus'][0]['state'] == NOT_READY and host['gpus'][0]['model'] == 'T4'
    assert any('Shared Direct' in n for n in host['notes'])


def test_vsphere_mixed_size_mode_from_vgpu_mode():
    facts = {'vsphere': {'hosts': [esx('esx-1', [esx_gpu('0000:3b:00.0', vgpu_mode='mixedSize')])],
                         'vms': [vm('a', 'esx-1', ['grid_a10-8q']), vm('b', 'esx-1', ['grid_a10-4q'])]}}
    gpu = only_gpu(build(facts))
    assert gpu['mixed_size'] and gpu['used'] == {'A10-8Q': 1, 'A10-4Q': 1} and gpu['capacity_known']


# ---------------------------------------------------------------------------------------------- Kubernetes

def node(name, capacity=None, allocatable=None, **extra):
    out = {'name': name, 'gpu_present': bool(capacity), 'labels': {}, 'capacity': capacity or {}, 'allocatable': allocatable or {}}
    out.update(extra)
    return out


def test_kubernetes_allocatable_capacity_permitted_and_licence():
    facts = {'kubernetes': {'nodes': [node('gpu-1', {'nvidia.com/NVIDIA_A10-4Q': 12}, {'nvidia.com/NVIDIA_A10-4Q': 10},
                                           workload='vm-vgpu', vgpu_config='A10-4Q', vgpu_config_state='success'),
                                      node('gpu-2', {'nvidia.com/GA102GL_A10': '2', 'nvidia.com/gpu': '0'}, {'nvidia.com/GA102GL_A10': '2'}),
                                      node('cpu-1')],
                            'kubevirt': {'pci_host_devices': [{'resource_name': 'nvidia.com/GA102GL_A10'}], 'mediated_devices': []},
                            'cluster_policy': {'spec': {'driver': {'licensingConfig': {'secretName': 'licensing-config'}}}}}}
    (site,) = build(facts)['sites']
    assert site['nodes_without_gpus'] == ['cpu-1']
    first, second = site['hosts']
    assert first['resources'] == [{'name': 'nvidia.com/NVIDIA_A10-4Q', 'capacity': 12, 'allocatable': 10, 'vgpu_type': 'A10-4Q',
                                   'container': False, 'permitted': False}]
    assert second['resources'] == [{'name': 'nvidia.com/GA102GL_A10', 'capacity': 2, 'allocatable': 2, 'vgpu_type': None,
                                    'container': False, 'permitted': True}]
    assert first['licence'] == 'licensing object licensing-config'


@pytest.mark.parametrize('policy, expected', [
    ({'spec': {'driver': {'licensingConfig': {'secretName': '', 'nlsEnabled': True}}}}, 'not licensed: driver.licensingConfig names no Secret'),
    ({'spec': {'driver': {}}}, 'not licensed: the ClusterPolicy has no driver.licensingConfig'),
    (None, None),
])
def test_kubernetes_licence_state_from_the_cluster_policy(policy, expected):
    (site,) = build({'kubernetes': {'nodes': [node('gpu-1', {'nvidia.com/NVIDIA_A10-4Q': 12})], 'cluster_policy': policy}})['sites']
    assert site['hosts'][0]['licence'] == expected


def test_kubernetes_failed_and_pending_vgpu_config():
    facts = {'kubernetes': {'nodes': [node('a', {}, {}, gpu_present=True, vgpu_config='A10-24Q', vgpu_config_state='failed'),
                                      node('b', {}, {}, gpu_present=True,
                                           labels={'nvidia.com/vgpu.config': 'A10-4Q', 'nvidia.com/vgpu.config.state': 'pending'})]}}
    first, second = build(facts)['sites'][0]['hosts']
    assert 'vGPU configuration A10-24Q failed on this node' in first['notes']
    assert second['vgpu_config'] == 'A10-4Q' and 'vGPU configuration A10-4Q is being applied' in second['notes']


# ---------------------------------------------------------------------------------------------- properties

GPU_NAMES = ['A10', 'T4', 'L40S', 'A100', 'A2', 'H100', 'A40', 'A30']


@st.composite
def gpu_with_vgpus(draw):
    name = draw(st.sampled_from(GPU_NAMES))
    offered = [t.canonical for t in vgpu.gpu_model(name).vgpu_types()]
    chosen = draw(st.lists(st.sampled_from(offered), max_size=12))
    mixed = draw(st.booleans())
    fit = vgpu.check_fit(name, chosen, mixed_size=mixed)
    if not fit.ok:
        chosen = chosen[:1]
    return name, chosen, mixed


@settings(max_examples=150, deadline=None)
@given(gpu_with_vgpus())
def test_bar_segments_cover_the_gpu_and_fits_matches_the_catalog(case):
    name, chosen, mixed = case
    model = vgpu.gpu_model(name)
    vgpus = [{'id': 'u%02d' % i, 'type_id': 'x', 'type_name': 'NVIDIA ' + t, 'parent': '0000:3b:00.0', 'in_use': False} for i, t in enumerate(chosen)]
    gpu = only_gpu(build(kvm({'address': '0000:3b:00.0', 'vendor_id': '0x10de', 'device_id': model.device_ids_hex[0], 'model': name,
                              'driver': 'nvidia', 'sriov': {'total_vfs': 0, 'num_vfs': 0}, 'vgpu_backend': 'mdev',
                              'vgpu_mode': 'mixedSize' if mixed else 'sameSize', 'vgpu_types': [], 'vgpus': vgpus})))
    assert gpu['capacity_known']
    assert gpu['fits'] == vgpu.remaining(name, chosen, mixed_size=mixed)
    assert gpu['full'] == (not gpu['fits'])
    assert sum(s['share'] for s in gpu['segments']) == pytest.approx(1.0)
    assert sum(1 for s in gpu['segments'] if s['kind'] == 'used') == len(chosen)
    if gpu['slots'] and 'unit' not in gpu['slots']:
        assert gpu['slots']['used'] == len(chosen)
        free = [seg for seg in gpu['segments'] if seg['kind'] == 'free']
        assert gpu['slots']['total'] - gpu['slots']['used'] == len(free)
        assert all(gpu['fits'][seg['type']] == len(free) for seg in free)
