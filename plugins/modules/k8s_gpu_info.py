#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: k8s_gpu_info
short_description: GPU facts of a Kubernetes cluster - node GPUs, workloads, vGPU configs, KubeVirt permitted devices
version_added: 0.1.0
description:
  - Per node, the GPU labels, the GPU Operator workload, the vGPU config and its state, and the non-zero C(nvidia.com/)
    capacity and allocatable resources (what C(kubectl get node -o json | jq '.status.allocatable ...') shows in the
    GPU Operator with KubeVirt guide).
  - The KubeVirt CR's permitted host devices and feature gates, and the GPU Operator ClusterPolicy's state when present.
  - Three API reads; changes nothing.
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.kube
  - gpuvirt.core.attributes
  - gpuvirt.core.attributes.info_module
options:
  nodes:
    description: Only these nodes (all must exist).
    type: list
    elements: str
  label_selector:
    description: Only the nodes matching this label selector.
    type: str
  include_non_gpu_nodes:
    description: Also list nodes without NVIDIA GPUs (when O(nodes) is not given).
    type: bool
    default: false
  kubevirt_namespace:
    description: Namespace of the KubeVirt CR.
    type: str
    default: kubevirt
  kubevirt_name:
    description: Name of the KubeVirt CR.
    type: str
    default: kubevirt
'''

EXAMPLES = r'''
- name: What do the GPU nodes offer?
  gpuvirt.core.k8s_gpu_info:
  register: gpu_facts

- name: Show the vGPU resources per node
  ansible.builtin.debug:
    msg: "{{ gpu_facts.nodes | items2dict(key_name='name', value_name='allocatable') }}"
'''

RETURN = r'''
nodes:
  description: GPU nodes (or the ones asked for) with their GPU facts.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Node name.
      type: str
    gpu_product:
      description: GPU Feature Discovery's C(nvidia.com/gpu.product).
      type: str
    gpu_count:
      description: C(nvidia.com/gpu.count).
      type: int
    gpu_model:
      description: Catalog name of the GPU model.
      type: str
    pci_device_ids:
      description: PCI device ids of the node's GPUs (NFD labels, else the catalog).
      type: list
      elements: str
    workload:
      description: C(nvidia.com/gpu.workload.config) (absent means the ClusterPolicy's default).
      type: str
    vgpu_config:
      description: C(nvidia.com/vgpu.config).
      type: str
    vgpu_config_state:
      description: C(nvidia.com/vgpu.config.state).
      type: str
    deploy:
      description: The GPU Operator's C(nvidia.com/gpu.deploy.*) labels, by operand.
      type: dict
    labels:
      description: The node's C(nvidia.com/) and NFD PCI labels.
      type: dict
    capacity:
      description: Non-zero C(nvidia.com/) capacity.
      type: dict
    allocatable:
      description: Non-zero C(nvidia.com/) allocatable.
      type: dict
kubevirt:
  description: The KubeVirt CR's GPU settings; null when there is no KubeVirt CR.
  returned: always
  type: dict
  contains:
    version:
      description: Version the CR reports.
      type: str
    feature_gates:
      description: C(developerConfiguration.featureGates).
      type: list
      elements: str
    permitted_host_devices:
      description: C(permittedHostDevices).
      type: dict
    mediated_devices_configuration:
      description: C(mediatedDevicesConfiguration).
      type: dict
cluster_policy:
  description: The GPU Operator ClusterPolicy (name, state, sandbox workloads, licensing config); null when absent.
  returned: always
  type: dict
api_calls:
  description: Kubernetes API requests this run made.
  returned: always
  type: int
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.k8s_gpu_info import K8sGpuInfo
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            'kube',
            nodes=dict(type='list', elements='str'),
            label_selector=dict(type='str'),
            include_non_gpu_nodes=dict(type='bool', default=False),
            kubevirt_namespace=dict(type='str', default='kubevirt'),
            kubevirt_name=dict(type='str', default='kubevirt'),
        ),
        supports_check_mode=True,
    )
    run(module, K8sGpuInfo)


if __name__ == '__main__':
    main()
