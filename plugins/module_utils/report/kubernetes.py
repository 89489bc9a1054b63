# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes part of the capacity report: k8s_gpu_info results -> sites and GPU nodes with their resources.

Facts: the GPU Operator advertises ``nvidia.com/<type>`` (vGPU) or the passthrough resource; the
``nvidia.com/vgpu.config.state`` label goes pending -> success | failed; KubeVirt permits resources through
``permittedHostDevices``; guest licensing comes from ``driver.licensingConfig`` (sections 5-7).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils import pci
from ansible_collections.gpuvirt.core.plugins.module_utils.report.common import new_site, parse_type

NVIDIA_RESOURCE_PREFIX = 'nvidia.com/'
CONTAINER_RESOURCE = 'nvidia.com/gpu'  # the GPU Operator's device plugin for containers; KubeVirt does not use it


def _nvidia_resources(mapping):
    out = {}
    for key, value in (mapping or {}).items():
        if isinstance(key, str) and key.startswith(NVIDIA_RESOURCE_PREFIX):
            out[key] = pci.as_int(value, 0)
    return out


def _dig(data, *paths):
    for path in paths:
        node = data
        for part in path.split('.'):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            return node
    return None


def _permitted(kubevirt):
    """Resource names KubeVirt lets VMs use (permittedHostDevices), or None when the facts do not say."""
    if not isinstance(kubevirt, dict):
        return None
    entries = []
    for key in ('pci_host_devices', 'pciHostDevices', 'mediated_devices', 'mediatedDevices'):
        entries.extend(e for e in _dig(kubevirt, key, 'permitted_host_devices.' + key, 'permittedHostDevices.' + key) or [] if isinstance(e, dict))
    names = set()
    for entry in entries:
        name = entry.get('resource_name') or entry.get('resourceName')
        if name:
            names.add(name)
    if not entries and not any(k in kubevirt for k in ('pci_host_devices', 'pciHostDevices', 'mediated_devices', 'mediatedDevices',
                                                       'permitted_host_devices', 'permittedHostDevices')):
        return None
    return names


def _licensing(result):
    """Guest licensing state from the ClusterPolicy (driver.licensingConfig) or an explicit ``licensing`` key."""
    explicit = result.get('licensing')
    if isinstance(explicit, dict) and explicit:
        name = explicit.get('secret_name') or explicit.get('secretName') or explicit.get('config_map_name') or explicit.get('name')
        present = explicit.get('present', explicit.get('exists'))
        if name and present is False:
            return 'not licensed: licensing object %s is missing' % name
        return 'licensing object %s' % name if name else 'not licensed: no licensing object configured'
    policy = result.get('cluster_policy') or result.get('clusterpolicy')
    if not isinstance(policy, dict) or not policy:
        return None
    config = _dig(policy, 'spec.driver.licensingConfig', 'driver.licensingConfig', 'licensing_config')
    if not isinstance(config, dict):
        return 'not licensed: the ClusterPolicy has no driver.licensingConfig'
    name = config.get('secretName') or config.get('configMapName') or config.get('secret_name')
    return 'licensing object %s' % name if name else 'not licensed: driver.licensingConfig names no Secret'


def k8s_node(raw, permitted, licence):
    labels = raw.get('labels') or {}
    gpu_facts = raw.get('gpu') if isinstance(raw.get('gpu'), dict) else {}
    capacity = _nvidia_resources(raw.get('capacity') or gpu_facts.get('capacity'))
    allocatable = _nvidia_resources(raw.get('allocatable') or gpu_facts.get('allocatable'))
    vgpu_config = raw.get('vgpu_config')
    state = raw.get('vgpu_config_state')
    if isinstance(vgpu_config, dict):
        state = state or vgpu_config.get('state')
        vgpu_config = vgpu_config.get('name') or vgpu_config.get('config')
    node = {
        'name': raw.get('name') or '?', 'kind': 'kubernetes', 'error': None, 'gpus': [], 'notes': [], 'unplaced': [], 'powered_off': [],
        'reboot_pending': False, 'licence': licence,
        'product': raw.get('gpu_product') or labels.get('nvidia.com/gpu.product'),
        'gpu_model': raw.get('gpu_model'),
        'gpu_count': pci.as_int(raw.get('gpu_count') or labels.get('nvidia.com/gpu.count')),
        'workload': raw.get('workload') or labels.get('nvidia.com/gpu.workload.config'),
        'vgpu_config': vgpu_config or labels.get('nvidia.com/vgpu.config'),
        'vgpu_config_state': state or labels.get('nvidia.com/vgpu.config.state'),
        'resources': [],
        'has_gpu': bool(capacity or allocatable or raw.get('gpu_present') or str(labels.get('nvidia.com/gpu.present', '')).lower() == 'true'),
    }
    for name in sorted(set(capacity) | set(allocatable)):
        if not capacity.get(name) and not allocatable.get(name):
            continue  # a resource a plugin stopped advertising stays at 0: not offered (seed 003)
        vtype = parse_type(name[len(NVIDIA_RESOURCE_PREFIX):])
        resource = {'name': name, 'capacity': capacity.get(name, 0), 'allocatable': allocatable.get(name, 0),
                    'vgpu_type': vtype.canonical if vtype else None,
                    'container': name == CONTAINER_RESOURCE,
                    'permitted': None if permitted is None or name == CONTAINER_RESOURCE else name in permitted}
        node['resources'].append(resource)
        if resource['permitted'] is False:
            node['notes'].append('%s is not in KubeVirt permittedHostDevices: VMs cannot request it' % name)
    if node['vgpu_config_state'] == 'failed':
        node['notes'].append('vGPU configuration %s failed on this node' % (node['vgpu_config'] or '(default)'))
    elif node['vgpu_config_state'] == 'pending':
        node['notes'].append('vGPU configuration %s is being applied' % (node['vgpu_config'] or '(default)'))
    if node['has_gpu'] and not node['resources']:
        node['notes'].append('the node has GPUs but advertises no nvidia.com resources')
    return node


def k8s_site(result, index, count):
    site = new_site('kubernetes', result, index, count, 'nodes', 'k8s_gpu_info')
    if site['error']:
        return site
    permitted = _permitted(result.get('kubevirt'))
    licence = _licensing(result)
    site['licence'] = licence
    site['kubevirt'] = None if permitted is None else sorted(permitted)
    nodes = [k8s_node(n, permitted, licence) for n in result.get('nodes') or [] if isinstance(n, dict)]
    site['hosts'] = sorted([n for n in nodes if n['has_gpu']], key=lambda n: n['name'])
    site['nodes_without_gpus'] = sorted(n['name'] for n in nodes if not n['has_gpu'])
    return site
