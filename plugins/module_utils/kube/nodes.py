# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU node workload and vGPU config labels (k8s_gpu_node) and GPU facts (k8s_gpu_info): the pure planners.

Facts §5 [S4][S7], seed 003: the GPU Operator deploys operands by ``nvidia.com/gpu.workload.config``;
vgpu-device-manager applies the config named by ``nvidia.com/vgpu.config`` (names in the operator's default
ConfigMap: ``default`` and one per vGPU type, e.g. ``A10-4Q``), reporting ``nvidia.com/vgpu.config.state``
pending -> success | failed, after which the sandbox device plugin advertises ``nvidia.com/NVIDIA_<type>``.
MIG-backed vGPUs are not supported with KubeVirt (seed 003).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

from ansible_collections.gpuvirt.core.plugins.module_utils import vgpu
from ansible_collections.gpuvirt.core.plugins.module_utils.kube import gpus
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError, WaitError

NODES_PATH = '/api/v1/nodes'
# a Kubernetes label value: at most 63 characters, alphanumerics with "-", "_", "." inside
LABEL_VALUE = re.compile(r'^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$')


def select_nodes(items, names=None):
    """The listed nodes by name, in the order asked; PlanError naming the unknown ones."""
    if not names:
        return sorted(items, key=lambda n: n['metadata']['name'])
    by_name = dict((n['metadata']['name'], n) for n in items)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise PlanError('unknown node(s) %s; nodes in the cluster: %s' % (', '.join(unknown), ', '.join(sorted(by_name)) or 'none'),
                        unknown_nodes=unknown)
    return [by_name[n] for n in names]


def config_label(vgpu_config, validate=True):
    """The ``nvidia.com/vgpu.config`` value for a user spelling: ``default`` or the short type (``A10-4Q``)."""
    if not vgpu_config or len(vgpu_config) > 63 or (not validate and not LABEL_VALUE.match(vgpu_config)):
        raise PlanError('vgpu_config %r cannot be a node label value (1 to 63 letters, digits, "-", "_" or "." starting '
                        'and ending with a letter or digit)' % (vgpu_config,), option='vgpu_config')
    if vgpu_config == 'default' or not validate:
        return vgpu_config, None
    try:
        vtype = vgpu.parse(vgpu_config)
    except vgpu.VgpuError as exc:
        raise PlanError('vgpu_config %r is neither "default" nor a vGPU type: %s (set validate_vgpu_config=false for a '
                        'config of your own vgpu-device-manager ConfigMap)' % (vgpu_config, exc))
    if vtype.mig:
        raise PlanError('vgpu_config %s is a MIG-backed vGPU type; the GPU Operator with KubeVirt does not support '
                        'MIG-backed vGPUs' % vtype.canonical)
    return vtype.canonical, vtype


def default_vgpu_type(model):
    """The operator's ``default`` config: Q-series at half the framebuffer (seed 003), else C-series."""
    for series in ('Q', 'C'):
        candidate = '%s-%d%s' % (model.name, model.framebuffer_gb // 2, series)
        if model.max_instances(vgpu.parse(candidate, strict=False)):
            return vgpu.parse(candidate, strict=False)
    return None


def plan_labels(nodes, workload=None, vgpu_config=None, validate=True):
    """Pure planner: ``[(node, {label: value})]`` for the nodes whose labels differ. Raises PlanError before
    any write when a node has no GPU, the config needs vm-vgpu, or the node's GPUs cannot hold the type."""
    label_value, vtype = (None, None)
    if vgpu_config is not None:
        label_value, vtype = config_label(vgpu_config, validate)
    planned = []
    for node in nodes:
        name = node['metadata']['name']
        labels = gpus.labels(node)
        if not gpus.is_gpu_node(node):
            raise PlanError('node %s has no NVIDIA GPU (no nvidia.com/gpu.present label, no NVIDIA PCI device, no '
                            'nvidia.com resources); leave it out' % name, node=name)
        effective_workload = workload or labels.get(gpus.WORKLOAD_LABEL)
        if vgpu_config is not None and effective_workload != 'vm-vgpu':
            raise PlanError('vgpu_config is only applied on vm-vgpu nodes; node %s is %s: set workload=vm-vgpu'
                            % (name, effective_workload or 'container (no workload label)'), node=name)
        if vtype is not None:
            model = gpus.gpu_model(node)
            if model is None:
                raise PlanError('cannot tell which GPU node %s has (no nvidia.com/gpu.product label, no NFD device label, '
                                'no GPU resources) to check vgpu_config %s; set validate_vgpu_config=false to skip the check'
                                % (name, vtype.canonical), node=name)
            if not model.max_instances(vtype):
                offered = [t.canonical for t in model.vgpu_types() if not t.mig]
                raise PlanError('node %s has %s GPUs, which do not offer vGPU type %s; vGPU configs for %s: %s'
                                % (name, model.name, vtype.canonical, model.name, ', '.join(offered)),
                                node=name, gpu_model=model.name, valid_configs=offered)
        wanted = {}
        if workload is not None and labels.get(gpus.WORKLOAD_LABEL) != workload:
            wanted[gpus.WORKLOAD_LABEL] = workload
        if label_value is not None and labels.get(gpus.VGPU_CONFIG_LABEL) != label_value:
            wanted[gpus.VGPU_CONFIG_LABEL] = label_value
        if wanted:
            planned.append((node, wanted))
    return planned


def expected_resources(node, workload, config):
    """Resource names of which one must be advertised (> 0) for the node to be ready; None = any of the kind."""
    if workload == 'vm-vgpu':
        model = gpus.gpu_model(node)
        vtype = None
        if config == 'default' or not config:
            vtype = default_vgpu_type(model) if model is not None else None
        else:
            try:
                vtype = vgpu.parse(config, strict=False)
            except vgpu.VgpuError:
                vtype = None
        if vtype is None:
            return None
        return ['nvidia.com/NVIDIA_%s' % vtype.canonical, 'nvidia.com/GRID_%s' % vtype.canonical]
    if workload == 'vm-passthrough':
        return None
    return [gpus.CONTAINER_RESOURCE]


def readiness(node, workload, config, trust_failed=True):
    """'ready', 'failed' or 'waiting' for one node, judged from its labels and allocatable."""
    labels = gpus.labels(node)
    allocatable = gpus.nonzero((node.get('status') or {}).get('allocatable'))
    expected = expected_resources(node, workload, config)
    if workload == 'vm-vgpu':
        state = labels.get(gpus.VGPU_STATE_LABEL)
        if state == 'failed' and trust_failed:
            return 'failed'
        if state != 'success':
            return 'waiting'
        if expected is None:
            return 'ready' if any(gpus.vgpu_type_of_resource(r) for r in allocatable) else 'waiting'
    elif workload == 'vm-passthrough' and expected is None:
        found = [r for r in allocatable if r != gpus.CONTAINER_RESOURCE and gpus.vgpu_type_of_resource(r) is None]
        return 'ready' if found else 'waiting'
    return 'ready' if any(r in allocatable for r in expected) else 'waiting'


def describe_state(node):
    labels = gpus.labels(node)
    parts = ['%s=%s' % (k, labels[k]) for k in (gpus.WORKLOAD_LABEL, gpus.VGPU_CONFIG_LABEL, gpus.VGPU_STATE_LABEL) if k in labels]
    allocatable = gpus.nonzero((node.get('status') or {}).get('allocatable'))
    parts.append('allocatable %s' % (', '.join('%s=%d' % item for item in sorted(allocatable.items())) or 'no nvidia.com resources'))
    return '%s: %s' % (node['metadata']['name'], ', '.join(parts))


def wait_ready(list_nodes, targets, timeout, sleep=1.0, clock=time.monotonic, pause=time.sleep):
    """Poll until every target node is ready; ``targets`` = {name: (workload, config, trust_failed)}.

    Fails fast when vgpu-device-manager reports ``failed`` (only believed once the node showed another state,
    when it was already failed before this run's change), and on timeout reports each node's state labels.
    Returns the last node objects by name; raises WaitError (the writes went in, the wait failed).
    """
    deadline = clock() + timeout
    trust = dict((name, spec[2]) for name, spec in targets.items())
    while True:
        by_name = dict((n['metadata']['name'], n) for n in list_nodes())
        pending = []
        for name, (workload, config, _trust) in sorted(targets.items()):
            node = by_name.get(name)
            if node is None:
                raise WaitError('node %s disappeared while waiting for it' % name)
            state = readiness(node, workload, config, trust_failed=trust[name])
            if gpus.labels(node).get(gpus.VGPU_STATE_LABEL) != 'failed':
                trust[name] = True
            if state == 'failed':
                raise WaitError('vGPU Device Manager could not apply vGPU config %s on node %s '
                                '(nvidia.com/vgpu.config.state=failed); check that the node\'s GPUs offer it and that no VM '
                                'uses a vGPU there. State: %s' % (config or 'default', name, describe_state(node)), node=name)
            if state != 'ready':
                pending.append(node)
        if not pending:
            return by_name
        if clock() >= deadline:
            raise WaitError('timed out after %ds waiting for the GPU Operator on %d node(s): %s'
                            % (timeout, len(pending), '; '.join(describe_state(n) for n in pending)),
                            waiting_nodes=[n['metadata']['name'] for n in pending])
        pause(sleep)
