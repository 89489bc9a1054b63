#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: k8s_gpu_node
short_description: Set the GPU Operator workload and vGPU config of GPU nodes, and wait for their GPU resources
version_added: 0.1.0
description:
  - Sets C(nvidia.com/gpu.workload.config) (V(container), V(vm-passthrough) or V(vm-vgpu)) and C(nvidia.com/vgpu.config)
    on the named or selected nodes, as C(kubectl label node ... --overwrite) does in the GPU Operator with KubeVirt guide.
  - Checks the vGPU config against the GPU catalog and each node's GPUs (from GPU Feature Discovery's product label, NFD
    labels or the resources the node advertises) before writing anything.
  - With O(wait=true) waits until vgpu-device-manager reports C(nvidia.com/vgpu.config.state=success) and the node advertises
    the vGPU (or passthrough, or container) resources; fails at once on C(failed), and on timeout says what each node shows.
  - One LIST of the nodes, then one merge patch per node whose labels differ, guarded by the node's C(resourceVersion) and
    retried on 409 Conflict (the GPU Operator writes nodes too).
  - Every option is checked before the first write (unknown or repeated nodes, vGPU configs, timeouts of 0 or less).
    When the write to a later node fails, the labels this run already wrote on earlier nodes are put back (where nobody
    changed them since) and the result says which nodes were restored (RV(undone)) or are still changed (RV(applied)).
    When the API server cannot be reached while waiting, the module fails with C(changed=true), names the nodes it
    labelled (RV(nodes_changed)) and says that the outcome on the nodes is unknown.
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.kube
  - gpuvirt.core.attributes
options:
  nodes:
    description: Names of the nodes. All must exist, each listed once. Mutually exclusive with O(label_selector).
    type: list
    elements: str
  label_selector:
    description: Label selector choosing the nodes. Mutually exclusive with O(nodes).
    type: str
  workload:
    description: The GPU workload the GPU Operator provisions the nodes for.
    type: str
    choices: [container, vm-passthrough, vm-vgpu]
  vgpu_config:
    description:
      - vGPU config for vgpu-device-manager, V(default) or a vGPU type in any spelling (V(A10-4Q), V(NVIDIA A10-4Q)); the
        node label gets the short type name. Needs the V(vm-vgpu) workload.
    type: str
  validate_vgpu_config:
    description:
      - Check O(vgpu_config) against the catalog and the nodes' GPUs. Set V(false) for a config name of your own
        vgpu-device-manager ConfigMap.
    type: bool
    default: true
  wait:
    description: Wait for the GPU Operator to finish on the nodes (not in check mode).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait; more than 0.
    type: int
    default: 300
  wait_sleep:
    description: Seconds between two looks at the nodes while waiting; more than 0.
    type: float
    default: 2.0
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Changing the vGPU config of a node assumes no VM uses a vGPU there (vgpu-device-manager deletes and recreates them).
'''

EXAMPLES = r'''
- name: Run vGPU VMs with A10-4Q vGPUs on two nodes and wait for the resources
  gpuvirt.core.k8s_gpu_node:
    nodes: [gpu-1, gpu-3]
    workload: vm-vgpu
    vgpu_config: A10-4Q
    wait: true

- name: Pass whole GPUs through on every L40S node
  gpuvirt.core.k8s_gpu_node:
    label_selector: nvidia.com/gpu.product=NVIDIA-L40S
    workload: vm-passthrough
    wait: true
'''

RETURN = r'''
nodes:
  description: The nodes after the change (and the wait), with their GPU facts.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Node name.
      type: str
    workload:
      description: C(nvidia.com/gpu.workload.config).
      type: str
    vgpu_config:
      description: C(nvidia.com/vgpu.config).
      type: str
    vgpu_config_state:
      description: C(nvidia.com/vgpu.config.state).
      type: str
    gpu_model:
      description: Catalog name of the node's GPUs.
      type: str
    allocatable:
      description: Non-zero C(nvidia.com/) allocatable resources, as integers.
      type: dict
      sample: {"nvidia.com/NVIDIA_A10-4Q": 12}
    capacity:
      description: Non-zero C(nvidia.com/) capacity.
      type: dict
changes:
  description: The label changes planned (and made unless in check mode).
  returned: success
  type: list
  elements: dict
conflicts_retried:
  description: 409 Conflicts resolved by reading the node again.
  returned: success
  type: int
api_calls:
  description: Kubernetes API requests this run made.
  returned: success
  type: int
nodes_changed:
  description: Nodes whose labels this run wrote, when the wait failed or the API server went away while waiting.
  returned: failure after writes
  type: list
  elements: str
outcome_unknown:
  description: Nodes whose GPU Operator outcome is unknown because the API server could not be reached while waiting.
  returned: failure while waiting
  type: list
  elements: str
applied:
  description: When a label write failed, the label changes still in effect (their undo failed).
  returned: failure while writing
  type: list
  elements: dict
undone:
  description: When a label write failed, the label changes of this run that were put back.
  returned: failure while writing
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec
from ansible_collections.gpuvirt.core.plugins.module_utils.kube.gpus import WORKLOADS
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.k8s_gpu_node import K8sGpuNode
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            'kube',
            nodes=dict(type='list', elements='str'),
            label_selector=dict(type='str'),
            workload=dict(type='str', choices=list(WORKLOADS)),
            vgpu_config=dict(type='str'),
            validate_vgpu_config=dict(type='bool', default=True),
            wait=dict(type='bool', default=False),
            wait_timeout=dict(type='int', default=300),
            wait_sleep=dict(type='float', default=2.0),
        ),
        required_one_of=[('nodes', 'label_selector'), ('workload', 'vgpu_config')],
        mutually_exclusive=[('nodes', 'label_selector')],
        supports_check_mode=True,
    )
    run(module, K8sGpuNode)


if __name__ == '__main__':
    main()
