"""gpuvirt.core.kubernetes_gpu_nodes through ansible-inventory against the Kubernetes test world (a real
kube-apiserver): GPU nodes with their model, workload and vGPU labels and allocatable GPU resources, groups by model
and workload, constructed groups, and clear errors for a refused token or an unreachable API server."""
import pytest

from tests.integration.worlds import free_port
from tests.integration.worlds.kube import get_json, kubectl

pytestmark = pytest.mark.integration

PLUGIN = {'plugin': 'gpuvirt.core.kubernetes_gpu_nodes'}


def vgpu_node(kube):
    """gpu-1 labelled for A10-4Q vGPUs as a user would (kubectl label); the world's GPU Operator double configures it."""
    kubectl(kube, 'label', 'node', 'gpu-1', 'nvidia.com/gpu.workload.config=vm-vgpu', 'nvidia.com/vgpu.config=A10-4Q', '--overwrite')

    def configured():
        node = get_json(kube, 'node', 'gpu-1')
        return node['metadata']['labels'].get('nvidia.com/vgpu.config.state') == 'success' and \
            node['status']['allocatable'].get('nvidia.com/NVIDIA_A10-4Q') == '12'
    kube.wait_for(configured, 'gpu-1 to advertise 12 x A10-4Q')


def test_gpu_nodes_with_models_workloads_and_resources(kube, inventory):
    vgpu_node(kube)
    kube.control.reset()
    run = inventory(kube, PLUGIN, 'cluster.kubernetes_gpu_nodes.yml')
    assert run.rc == 0, run.stderr
    assert [(r['verb'], r['status']) for r in kube.control.requests()] == [('list', 200), ('list', 200)]  # nodes, ClusterPolicies
    assert sorted(run.hostvars) == ['gpu-1', 'gpu-2']  # cpu-1 has no GPU
    gpu1, gpu2 = run.hostvars['gpu-1'], run.hostvars['gpu-2']
    assert (gpu1['gpu_model'], gpu1['gpu_workload'], gpu1['gpu_workload_from']) == ('A10', 'vm-vgpu', 'label')
    assert (gpu1['vgpu_config'], gpu1['vgpu_config_state']) == ('A10-4Q', 'success')
    assert gpu1['gpu_allocatable'] == {'nvidia.com/NVIDIA_A10-4Q': 12}
    assert gpu1['gpu_pci_device_ids'] == ['2236'] and gpu1['gpu_product'] == 'NVIDIA-A10'
    assert gpu1['gpu_labels']['nvidia.com/gpu.workload.config'] == 'vm-vgpu'
    assert (gpu2['gpu_model'], gpu2['gpu_workload'], gpu2['gpu_workload_from']) == ('L40S', 'container', 'cluster default')
    assert gpu2['gpu_allocatable'] == {'nvidia.com/gpu': 1} and gpu2['vgpu_config'] is None
    assert run.groups['gpu_nodes'] == ['gpu-1', 'gpu-2']
    assert run.groups['gpu_model_a10'] == ['gpu-1'] and run.groups['gpu_model_l40s'] == ['gpu-2']
    assert run.groups['gpu_workload_vm_vgpu'] == ['gpu-1'] and run.groups['gpu_workload_container'] == ['gpu-2']
    assert kube.token not in run.stdout + run.stderr


def test_constructed_groups_selector_and_all_nodes(kube, inventory):
    vgpu_node(kube)
    config = dict(PLUGIN, gpu_nodes_only=False, default_groups=False,
                  keyed_groups=[{'key': 'vgpu_config', 'prefix': 'vgpu_config'}],
                  groups={'a10_4q_ready': "gpu_allocatable['nvidia.com/NVIDIA_A10-4Q'] | default(0) > 0"},
                  compose={'gpu_total': 'gpu_allocatable.values() | sum'})
    run = inventory(kube, config, 'all.kubernetes_gpu_nodes.yml')
    assert run.rc == 0, run.stderr
    assert sorted(run.hostvars) == ['cpu-1', 'gpu-1', 'gpu-2']
    assert run.hostvars['cpu-1']['gpu_model'] is None and run.hostvars['cpu-1']['gpu_allocatable'] == {}
    assert run.groups['vgpu_config_A10_4Q'] == ['gpu-1'] and run.groups['a10_4q_ready'] == ['gpu-1']
    assert (run.hostvars['gpu-1']['gpu_total'], run.hostvars['gpu-2']['gpu_total']) == (12, 1)
    assert not [g for g in run.groups if g.startswith(('gpu_model_', 'gpu_workload_'))]

    selected = inventory(kube, dict(PLUGIN, label_selector='nvidia.com/gpu.product=NVIDIA-L40S'), 'l40s.kubernetes_gpu_nodes.yml')
    assert sorted(selected.hostvars) == ['gpu-2']


def test_refused_token_and_unreachable_server(kube, inventory):
    refused = inventory(kube, PLUGIN, 'cluster.kubernetes_gpu_nodes.yml', env={'K8S_AUTH_API_KEY': 'not-a-valid-token'})
    assert refused.rc != 0
    assert ('gpuvirt.core.kubernetes_gpu_nodes: listing the nodes: GET /api/v1/nodes failed with 401 Unauthorized: the API '
            'server refused the credentials') in refused.stderr
    assert 'not-a-valid-token' not in refused.stderr + refused.stdout

    port = free_port()
    down = inventory(kube, PLUGIN, 'cluster.kubernetes_gpu_nodes.yml', env={'K8S_AUTH_HOST': 'https://127.0.0.1:%d' % port})
    assert down.rc != 0
    assert 'gpuvirt.core.kubernetes_gpu_nodes: listing the nodes: cannot reach the Kubernetes API at https://127.0.0.1:%d' % port in down.stderr
    assert kube.token not in down.stderr + down.stdout
