# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: kubernetes_gpu_nodes
short_description: Kubernetes nodes with their NVIDIA GPUs
version_added: 0.1.0
description:
  - Lists the nodes of a Kubernetes cluster (one request, and one for the GPU Operator's ClusterPolicy) and makes each GPU node an inventory host, with
    variables for its GPU model, the GPU Operator's workload and vGPU configuration labels and the GPU resources the
    node can allocate.
  - Default groups (O(default_groups)) put nodes by GPU model (C(gpu_model_a10), C(gpu_model_l40s)) and by GPU
    Operator workload (C(gpu_workload_container), C(gpu_workload_vm_vgpu), C(gpu_workload_vm_passthrough));
    C(gpu_nodes) holds every GPU node.
  - The GPU model comes from GPU Feature Discovery's C(nvidia.com/gpu.product) label, NFD's PCI device labels, or
    the vGPU and passthrough resources the node advertises.
  - The inventory file's name must end in C(kubernetes_gpu_nodes.yml) or C(kubernetes_gpu_nodes.yaml).
author:
  - gpuvirt.core contributors (@gpuvirt)
requirements:
  - kubernetes >= 30.1.0 on the controller (the execution environment), to read kubeconfig files
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; it makes the file an inventory source of this plugin.
    type: str
    required: true
    choices: [gpuvirt.core.kubernetes_gpu_nodes]
  kubeconfig:
    description:
      - Path of a kubeconfig file. Without it and without O(host), E(KUBECONFIG) or C(~/.kube/config), then the
        in-cluster service account (a pod of AWX's container group).
    type: path
    env:
      - name: K8S_AUTH_KUBECONFIG
  context:
    description: The kubeconfig context to use.
    type: str
    env:
      - name: K8S_AUTH_CONTEXT
  host:
    description: URL of the API server (with O(api_key), instead of a kubeconfig; AWX's OpenShift or Kubernetes API Bearer Token credential).
    type: str
    env:
      - name: K8S_AUTH_HOST
  api_key:
    description: Bearer token. Never shown in the inventory or in errors.
    type: str
    env:
      - name: K8S_AUTH_API_KEY
  validate_certs:
    description: Verify the API server's TLS certificate (default - what the kubeconfig says).
    type: bool
    env:
      - name: K8S_AUTH_VERIFY_SSL
  ca_cert:
    description: CA bundle that signed the API server's certificate.
    type: path
    env:
      - name: K8S_AUTH_SSL_CA_CERT
  request_timeout:
    description: Seconds to wait for the answer.
    type: int
    default: 30
  label_selector:
    description: Only nodes with these labels (a Kubernetes label selector, e.g. C(nvidia.com/gpu.present=true)).
    type: str
  gpu_nodes_only:
    description: Leave out nodes without an NVIDIA GPU (no GPU labels, no nvidia.com resources).
    type: bool
    default: true
  default_groups:
    description: Add the nodes to the default groups described above (C(gpu_model_*), C(gpu_workload_*), C(gpu_nodes)).
    type: bool
    default: true
notes:
  - Host variables - C(gpu_model) (the catalog's name, e.g. C(A10)), C(gpu_product) (GPU Feature Discovery's label),
    C(gpu_count), C(gpu_pci_device_ids), C(gpu_workload) (the label C(nvidia.com/gpu.workload.config), or
    without it the ClusterPolicy's C(sandboxWorkloads.defaultWorkload) when sandbox workloads are enabled, else
    C(container)), C(gpu_workload_from) (C(label) or C(cluster default)), C(vgpu_config)
    (C(nvidia.com/vgpu.config)), C(vgpu_config_state) (C(pending), C(success) or C(failed)), C(gpu_allocatable) and
    C(gpu_capacity) ({resource - count} of the C(nvidia.com/) resources above zero), C(gpu_labels) (the
    C(nvidia.com/) and NFD PCI labels), C(gpu_deploy) (the C(nvidia.com/gpu.deploy.*) operand labels).
  - The node name is the inventory host name; no connection variables are set (nodes are usually reached through
    the API, or set C(ansible_host) with O(compose)).
seealso:
  - module: gpuvirt.core.k8s_gpu_info
  - module: gpuvirt.core.k8s_gpu_node
'''

EXAMPLES = r'''
# cluster.kubernetes_gpu_nodes.yml; the cluster from K8S_AUTH_KUBECONFIG (or AWX's bearer token credential)
plugin: gpuvirt.core.kubernetes_gpu_nodes

# Label every node with L40S GPUs for vGPUs: hosts: gpu_model_l40s, then gpuvirt.core.k8s_gpu_node with
# nodes: "{{ ansible_play_hosts }}" delegated to localhost.
---
plugin: gpuvirt.core.kubernetes_gpu_nodes
kubeconfig: ~/.kube/lab
label_selector: nvidia.com/gpu.present=true
keyed_groups:
  - key: vgpu_config
    prefix: vgpu_config
groups:
  vgpu_pending: vgpu_config_state == 'pending'
'''

from ansible.errors import AnsibleParserError

from ansible_collections.gpuvirt.core.plugins.module_utils.kube import gpus
from ansible_collections.gpuvirt.core.plugins.module_utils.kube.client import KubeClient, KubeConfigError, KubeError, describe_error
from ansible_collections.gpuvirt.core.plugins.module_utils.kube.nodes import NODES_PATH
from ansible_collections.gpuvirt.core.plugins.plugin_utils.gpu_inventory import GpuInventory, group_word


POLICIES_PATH = '/apis/nvidia.com/v1/clusterpolicies'


def default_workload(policies):
    """The workload of GPU nodes without the workload label: the ClusterPolicy's ``sandboxWorkloads.defaultWorkload``
    when sandbox workloads are enabled, else ``container`` (the GPU Operator's default; facts section 5)."""
    items = (policies or {}).get('items') or []
    sandbox = ((items[0].get('spec') or {}).get('sandboxWorkloads') or {}) if items else {}
    if sandbox.get('enabled') and sandbox.get('defaultWorkload'):
        return sandbox['defaultWorkload']
    return 'container'


def node_entry(node, workload_default='container'):
    """The inventory record of one node: its variables and default groups (pure)."""
    summary = gpus.summary(node)
    workload = summary['workload'] or workload_default
    variables = {
        'gpu_model': summary['gpu_model'],
        'gpu_product': summary['gpu_product'],
        'gpu_count': summary['gpu_count'],
        'gpu_pci_device_ids': summary['pci_device_ids'],
        'gpu_workload': workload,
        'gpu_workload_from': 'label' if summary['workload'] else 'cluster default',
        'vgpu_config': summary['vgpu_config'],
        'vgpu_config_state': summary['vgpu_config_state'],
        'gpu_allocatable': summary['allocatable'],
        'gpu_capacity': summary['capacity'],
        'gpu_labels': summary['labels'],
        'gpu_deploy': summary['deploy'],
    }
    groups = ['gpu_nodes']
    if summary['gpu_model']:
        groups.append('gpu_model_' + group_word(summary['gpu_model']))
    groups.append('gpu_workload_' + group_word(workload))
    return {'name': summary['name'], 'vars': variables, 'groups': groups}


def entries(items, policies=None, gpu_nodes_only=True):
    """Inventory records of the listed nodes (pure); ``policies`` is the ClusterPolicy list (None: none)."""
    workload = default_workload(policies)
    return sorted((node_entry(n, workload) for n in items if gpus.is_gpu_node(n) or not gpu_nodes_only), key=lambda e: e['name'])


class InventoryModule(GpuInventory):
    NAME = 'gpuvirt.core.kubernetes_gpu_nodes'
    FILE_SUFFIXES = ('kubernetes_gpu_nodes',)

    def fetch(self):
        params = dict((name, self.get_option(name)) for name in (
            'kubeconfig', 'context', 'host', 'api_key', 'validate_certs', 'ca_cert', 'request_timeout'))
        client = KubeClient(params)
        try:
            items = client.list(NODES_PATH, label_selector=self.get_option('label_selector'))['items']
            policies = client.get_optional(POLICIES_PATH)
        except (KubeError, KubeConfigError) as exc:
            raise AnsibleParserError('%s: %s' % (self.NAME, describe_error(exc, 'listing the nodes')))
        return entries(items, policies, self.get_option('gpu_nodes_only'))
