# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a node's labels and resources say about its NVIDIA GPUs (pure, no I/O).

Facts (gpu-virtualization-facts.md):
- GPU Operator labels (§5 [S7]): ``nvidia.com/gpu.workload.config`` (container | vm-passthrough | vm-vgpu),
  ``nvidia.com/vgpu.config`` and ``nvidia.com/vgpu.config.state`` (pending | success | failed, [S4]),
  ``nvidia.com/gpu.deploy.<operand>``; GPU Feature Discovery's ``nvidia.com/gpu.product`` (``NVIDIA-A10``).
- Resource names (§5 [S8]): vGPU = ``nvidia.com/`` + mdev type name with ``_`` for spaces
  (``nvidia.com/NVIDIA_A10-12Q``); passthrough = ``nvidia.com/`` + the pci.ids device name upper-cased, ``/``,
  ``.`` and spaces turned into ``_``, other non-alphanumerics removed (``nvidia.com/GA102GL_A10``).
- Extended resources a plugin stopped advertising stay at "0" (seed 003 filters them out): zero counts are
  not resources a node offers.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.gpuvirt.core.plugins.module_utils import vgpu
from ansible_collections.gpuvirt.core.plugins.module_utils.pci import NVIDIA_VENDOR_HEX

RESOURCE_PREFIX = 'nvidia.com/'
CONTAINER_RESOURCE = 'nvidia.com/gpu'
WORKLOAD_LABEL = 'nvidia.com/gpu.workload.config'
VGPU_CONFIG_LABEL = 'nvidia.com/vgpu.config'
VGPU_STATE_LABEL = 'nvidia.com/vgpu.config.state'
PRODUCT_LABEL = 'nvidia.com/gpu.product'
COUNT_LABEL = 'nvidia.com/gpu.count'
GPU_PRESENT_LABEL = 'nvidia.com/gpu.present'
DEPLOY_PREFIX = 'nvidia.com/gpu.deploy.'
WORKLOADS = ('container', 'vm-passthrough', 'vm-vgpu')
_NFD_DEVICE_LABEL = re.compile(r'^feature\.node\.kubernetes\.io/pci-(?:[0-9a-f]{4}_)?%s_([0-9a-f]{4})\.present$' % NVIDIA_VENDOR_HEX)

# pci.ids device names of NVIDIA data-center GPUs ([S8] utils/pci.ids), keyed by PCI device id: the sandbox
# device plugin builds passthrough resource names from them.
PCI_DEVICE_NAMES = {
    '1db4': 'GV100GL [Tesla V100 PCIe 16GB]',
    '1db6': 'GV100GL [Tesla V100 PCIe 32GB]',
    '1df6': 'GV100GL [Tesla V100S PCIe 32GB]',
    '1eb8': 'TU104GL [Tesla T4]',
    '20b0': 'GA100 [A100 SXM4 40GB]',
    '20b2': 'GA100 [A100 SXM4 80GB]',
    '20b5': 'GA100 [A100 PCIe 80GB]',
    '20b7': 'GA100GL [A30 PCIe]',
    '20f1': 'GA100 [A100 PCIe 40GB]',
    '2235': 'GA102GL [A40]',
    '2236': 'GA102GL [A10]',
    '25b6': 'GA107GL [A2 / A16]',
    '26b5': 'AD102GL [L40]',
    '26b9': 'AD102GL [L40S]',
    '27b8': 'AD104GL [L4]',
    '2330': 'GH100 [H100 SXM5 80GB]',
    '2331': 'GH100 [H100 PCIe]',
}


def passthrough_resource_name(pci_device_name):
    """``GA102GL [A10]`` -> ``nvidia.com/GA102GL_A10`` (the sandbox device plugin's rule, [S8])."""
    name = re.sub(r'[/. ]', '_', pci_device_name.upper())
    return RESOURCE_PREFIX + re.sub(r'[^A-Z0-9_]', '', name)


PASSTHROUGH_RESOURCES = dict((passthrough_resource_name(name), device) for device, name in PCI_DEVICE_NAMES.items())


def pci_selector(device_id):
    """``2236`` -> ``10DE:2236``, the form KubeVirt's examples and seed 003 use."""
    return ('%s:%s' % (NVIDIA_VENDOR_HEX, device_id)).upper()


def vgpu_type_of_resource(resource_name):
    """The VgpuType a resource name advertises (``nvidia.com/NVIDIA_A10-4Q``), or None."""
    if not resource_name.startswith(RESOURCE_PREFIX) or resource_name == CONTAINER_RESOURCE:
        return None
    try:
        return vgpu.parse(resource_name, strict=False)
    except vgpu.VgpuError:
        return None


def nonzero(resources):
    """{name: int} of the nvidia.com resources with a count above zero."""
    found = {}
    for name, value in (resources or {}).items():
        if name.startswith(RESOURCE_PREFIX):
            try:
                count = int(str(value))
            except ValueError:
                continue
            if count > 0:
                found[name] = count
    return found


def labels(node):
    return node.get('metadata', {}).get('labels') or {}


def nfd_device_ids(node):
    """NVIDIA PCI device ids from NFD labels, when NFD is configured with the ``device`` label field."""
    found = set()
    for key, value in labels(node).items():
        match = _NFD_DEVICE_LABEL.match(key)
        if match and value == 'true':
            found.add(match.group(1))
    return sorted(found)


def gpu_model(node):
    """The catalog GpuModel of a node's GPUs, or None when the node does not say.

    Sources, in order: GPU Feature Discovery's product label (``NVIDIA-A10``, ``Tesla-T4``,
    ``NVIDIA-A100-PCIE-40GB``: the product name with dashes for spaces, as such, then its words as catalog names),
    NFD device-id labels, vGPU and passthrough resource names the node advertises.
    """
    product = labels(node).get(PRODUCT_LABEL)
    if product:
        text = re.sub(r'^(NVIDIA|Tesla|Quadro)[- ]', '', product, flags=re.I)
        for candidate in (product, text, text.split('-')[0]):  # the product name first (dashes match spaces there)
            models = vgpu.gpu_models(candidate)
            if len(models) == 1:
                return models[0]
    for device in nfd_device_ids(node):
        models = vgpu.gpu_models(device)
        if len(models) == 1:
            return models[0]
    status = node.get('status') or {}
    for resources in (status.get('capacity'), status.get('allocatable')):
        for name in sorted(resources or {}):
            vtype = vgpu_type_of_resource(name)
            if vtype is not None:
                models = vgpu.gpu_models(vtype.gpu)
                if len(models) == 1:
                    return models[0]
            device = PASSTHROUGH_RESOURCES.get(name)
            if device is not None:
                models = vgpu.gpu_models(device)
                if len(models) == 1:
                    return models[0]
    return None


def summary(node):
    """The GPU facts of one node, as k8s_gpu_info and k8s_gpu_node return them."""
    node_labels = labels(node)
    status = node.get('status') or {}
    model = gpu_model(node)
    return {
        'name': node['metadata']['name'],
        'gpu_present': node_labels.get(GPU_PRESENT_LABEL) == 'true',
        'gpu_product': node_labels.get(PRODUCT_LABEL),
        'gpu_count': int(node_labels[COUNT_LABEL]) if node_labels.get(COUNT_LABEL, '').isdigit() else None,
        'gpu_model': model.name if model is not None else None,
        'pci_device_ids': nfd_device_ids(node) or (list(model.device_ids_hex) if model is not None else []),
        'workload': node_labels.get(WORKLOAD_LABEL),
        'vgpu_config': node_labels.get(VGPU_CONFIG_LABEL),
        'vgpu_config_state': node_labels.get(VGPU_STATE_LABEL),
        'deploy': dict((k[len(DEPLOY_PREFIX):], v) for k, v in sorted(node_labels.items()) if k.startswith(DEPLOY_PREFIX)),
        'labels': dict((k, v) for k, v in sorted(node_labels.items())
                       if k.startswith('nvidia.com/') or k.startswith('feature.node.kubernetes.io/pci-')),
        'capacity': nonzero(status.get('capacity')),
        'allocatable': nonzero(status.get('allocatable')),
    }


def is_gpu_node(node):
    node_labels = labels(node)
    return (node_labels.get(GPU_PRESENT_LABEL) == 'true' or node_labels.get('feature.node.kubernetes.io/pci-10de.present') == 'true'
            or bool(nonzero((node.get('status') or {}).get('capacity'))))
