"""The inventory plugins' pure parts: host and node records (variables, default groups, free capacity from the
catalog), group names, the default workload, and verify_file."""
import pytest

from ansible_collections.gpuvirt.core.plugins.inventory import kubernetes_gpu_nodes, vsphere_gpu_hosts
from ansible_collections.gpuvirt.core.plugins.plugin_utils.gpu_inventory import group_word


@pytest.mark.parametrize('text, word', [
    ('sharedDirect', 'shared_direct'), ('shared', 'shared'), ('A10', 'a10'), ('L40S', 'l40s'),
    ('A100-PCIE-40GB', 'a100_pcie_40gb'), ('vm-vgpu', 'vm_vgpu'), ('RTX PRO 6000 Blackwell', 'rtx_pro_6000_blackwell'),
])
def test_group_word(text, word):
    assert group_word(text) == word


def gpu(gpu_id, device_id, graphics_type, enabled=False, active=False, vms=()):
    return {'id': gpu_id, 'vendor_id': 0x10de, 'device_id': device_id, 'device_name': '', 'graphics_type': graphics_type,
            'passthrough': {'capable': True, 'enabled': enabled, 'active': active, 'label': None}, 'vms': list(vms)}


def host_record(gpus, default_type='sharedDirect'):
    return {'name': 'esx-1', 'moid': 'host-1', 'datacenter': 'DC', 'cluster': 'C', 'connection_state': 'connected',
            'in_maintenance_mode': False, 'graphics': {'default_type': default_type, 'assignment_policy': 'consolidation', 'devices': []},
            'gpus': gpus, 'vgpu_profiles': ['grid_l40s-8q'], 'reboot_required': False, 'graphics_restart_required': False}


def test_vsphere_host_entry_counts_vgpus_of_powered_on_vms_and_what_still_fits():
    record = host_record([gpu('0000:3b:00.0', 0x26b9, 'sharedDirect', vms=['vm-a']), gpu('0000:5e:00.0', 0x26b9, 'sharedDirect')])
    vms = [{'name': 'vm-a', 'power_state': 'poweredOn', 'vgpu_profiles': ['grid_l40s-8q', 'nvidia_l40s-8q'], 'passthrough_devices': []},
           {'name': 'vm-off', 'power_state': 'poweredOff', 'vgpu_profiles': ['grid_l40s-24q'], 'passthrough_devices': []}]
    entry = vsphere_gpu_hosts.host_entry(record, vms)
    variables = entry['vars']
    assert variables['vgpu_profiles_in_use'] == {'L40S-8Q': 2}  # canonical spelling; the powered-off VM holds nothing
    # L40S 48 GB: 6 x 8Q per GPU; consolidation put both on the GPU vSphere named for vm-a
    assert [g['vgpus_in_use'] for g in variables['gpus']] == [{'L40S-8Q': 2}, {}]
    assert [g['free']['L40S-8Q'] for g in variables['gpus']] == [4, 6] and variables['vgpu_free']['L40S-8Q'] == 10
    assert variables['vgpu_free']['L40S-48Q'] == 1  # only the empty GPU can take a 48 GB vGPU
    assert entry['groups'] == ['gpu_hosts', 'gpu_model_l40s', 'graphics_shared_direct']
    assert variables['gpus'][0]['device_id'] == '26b9' and variables['gpus'][0]['vms'] == ['vm-a']


def test_vsphere_host_entry_passthrough_vsga_and_gpu_less_hosts():
    record = host_record([gpu('0000:af:00.0', 0x20f1, 'direct', enabled=True, active=True), gpu('0000:86:00.0', 0x1eb8, 'shared')],
                         default_type='shared')
    entry = vsphere_gpu_hosts.host_entry(record, [])
    assert [(g['id'], g['state']) for g in entry['vars']['gpus']] == [('0000:86:00.0', 'not-ready'), ('0000:af:00.0', 'passthrough')]
    assert entry['vars']['vgpu_free'] == {} and entry['vars']['gpu_models'] == ['A100', 'T4']
    assert entry['groups'] == ['gpu_hosts', 'gpu_model_a100', 'gpu_model_t4', 'gpu_passthrough', 'graphics_direct', 'graphics_shared']
    empty = vsphere_gpu_hosts.host_entry(host_record([]), [])
    assert empty['groups'] == [] and empty['vars']['gpu_count'] == 0


def node(name, labels=None, allocatable=None):
    return {'metadata': {'name': name, 'labels': labels or {}}, 'status': {'capacity': allocatable or {}, 'allocatable': allocatable or {}}}


POLICY = {'items': [{'metadata': {'name': 'cluster-policy'}, 'spec': {'sandboxWorkloads': {'enabled': True, 'defaultWorkload': 'vm-passthrough'}}}]}


def test_kubernetes_default_workload_from_the_cluster_policy():
    assert kubernetes_gpu_nodes.default_workload(None) == 'container'
    assert kubernetes_gpu_nodes.default_workload({'items': []}) == 'container'
    assert kubernetes_gpu_nodes.default_workload(POLICY) == 'vm-passthrough'
    disabled = {'items': [{'spec': {'sandboxWorkloads': {'enabled': False, 'defaultWorkload': 'vm-vgpu'}}}]}
    assert kubernetes_gpu_nodes.default_workload(disabled) == 'container'


def test_kubernetes_node_entries_models_workloads_resources_and_gpu_nodes_only():
    items = [
        node('a', {'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-L40S',
                   'nvidia.com/gpu.workload.config': 'vm-vgpu', 'nvidia.com/vgpu.config': 'L40S-8Q', 'nvidia.com/vgpu.config.state': 'pending'},
             {'nvidia.com/NVIDIA_L40S-8Q': '6', 'nvidia.com/gpu': '0', 'cpu': '8'}),
        node('b', {}, {'nvidia.com/GA102GL_A10': '2'}),  # model from the passthrough resource name alone
        node('c', {'kubernetes.io/os': 'linux'}, {'cpu': '4'}),
    ]
    entries = kubernetes_gpu_nodes.entries(items, POLICY)
    assert [e['name'] for e in entries] == ['a', 'b']
    a, b = entries
    assert (a['vars']['gpu_model'], a['vars']['gpu_workload'], a['vars']['gpu_workload_from']) == ('L40S', 'vm-vgpu', 'label')
    assert (a['vars']['vgpu_config'], a['vars']['vgpu_config_state']) == ('L40S-8Q', 'pending')
    assert a['vars']['gpu_allocatable'] == {'nvidia.com/NVIDIA_L40S-8Q': 6}  # zero counts are not offered
    assert a['groups'] == ['gpu_nodes', 'gpu_model_l40s', 'gpu_workload_vm_vgpu']
    assert (b['vars']['gpu_model'], b['vars']['gpu_workload'], b['vars']['gpu_workload_from']) == ('A10', 'vm-passthrough', 'cluster default')
    assert b['groups'] == ['gpu_nodes', 'gpu_model_a10', 'gpu_workload_vm_passthrough']
    everything = kubernetes_gpu_nodes.entries(items, None, gpu_nodes_only=False)
    assert [e['name'] for e in everything] == ['a', 'b', 'c'] and everything[2]['vars']['gpu_model'] is None


@pytest.mark.parametrize('plugin, good, bad', [
    (vsphere_gpu_hosts.InventoryModule, ['vsphere_gpu_hosts.yml', 'lab.vsphere_gpu_hosts.yaml'], ['lab.yml', 'vsphere_gpu_hosts.json']),
    (kubernetes_gpu_nodes.InventoryModule, ['kubernetes_gpu_nodes.yaml', 'c.kubernetes_gpu_nodes.yml'], ['vsphere_gpu_hosts.yml']),
])
def test_verify_file_takes_only_files_named_after_the_plugin(tmp_path, plugin, good, bad):
    for name in good + bad:
        (tmp_path / name).write_text('plugin: x\n')
    assert [plugin().verify_file(str(tmp_path / n)) for n in good] == [True] * len(good)
    assert [plugin().verify_file(str(tmp_path / n)) for n in bad] == [False] * len(bad)
    assert plugin().verify_file(str(tmp_path / 'missing.vsphere_gpu_hosts.yml')) is False
