# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU node workload and vGPU config labels (k8s_gpu_node) and GPU facts (k8s_gpu_info).

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
from ansible_collections.gpuvirt.core.plugins.module_utils.kube.client import (
    KubeClient, KubeConfigError, KubeError, describe_error, patch_with_retry, path_for)
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import Plan, PlanError, check_positive, run

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
    Returns the last node objects by name.
    """
    deadline = clock() + timeout
    trust = dict((name, spec[2]) for name, spec in targets.items())
    while True:
        by_name = dict((n['metadata']['name'], n) for n in list_nodes())
        pending = []
        for name, (workload, config, _trust) in sorted(targets.items()):
            node = by_name.get(name)
            if node is None:
                raise PlanError('node %s disappeared while waiting for it' % name)
            state = readiness(node, workload, config, trust_failed=trust[name])
            if gpus.labels(node).get(gpus.VGPU_STATE_LABEL) != 'failed':
                trust[name] = True
            if state == 'failed':
                raise PlanError('vGPU Device Manager could not apply vGPU config %s on node %s '
                                '(nvidia.com/vgpu.config.state=failed); check that the node\'s GPUs offer it and that no VM '
                                'uses a vGPU there. State: %s' % (config or 'default', name, describe_state(node)), node=name)
            if state != 'ready':
                pending.append(node)
        if not pending:
            return by_name
        if clock() >= deadline:
            raise PlanError('timed out after %ds waiting for the GPU Operator on %d node(s): %s'
                            % (timeout, len(pending), '; '.join(describe_state(n) for n in pending)),
                            waiting_nodes=[n['metadata']['name'] for n in pending])
        pause(sleep)


def _observe_error(exc):
    raise PlanError(describe_error(exc, 'Kubernetes nodes'))


def run_gpu_node(module):
    """k8s_gpu_node: one LIST, one PATCH per node whose labels differ (more only on 409), optional waiting."""
    params = module.params
    client = KubeClient(params)
    selector = params['label_selector']
    state = {'after': None, 'conflicts': 0, 'written': []}

    def list_nodes():
        return client.list(NODES_PATH, label_selector=selector)['items']

    def observe():
        check_positive(params, 'wait_timeout', 'wait_sleep', 'request_timeout')
        for index, name in enumerate(params['nodes'] or []):
            if not name or name in params['nodes'][:index]:
                raise PlanError('nodes[%d] %r is %s' % (index, name, 'listed twice' if name else 'empty'), option='nodes')
        try:
            items = list_nodes()
        except KubeError as exc:
            if exc.status == 400 and selector:
                raise PlanError('label_selector %r is not a label selector the API server accepts: %s' % (selector, exc.message),
                                option='label_selector')
            _observe_error(exc)
        except KubeConfigError as exc:
            _observe_error(exc)
        nodes = select_nodes(items, params['nodes'])
        if not nodes:
            raise PlanError('no node matches label_selector %r' % selector)
        return nodes

    def plan(nodes):
        planned = plan_labels(nodes, params['workload'], params['vgpu_config'], params['validate_vgpu_config'])
        result = Plan()
        for node, wanted in planned:
            name = node['metadata']['name']
            path = path_for('v1', 'nodes', name)
            before = dict((k, gpus.labels(node).get(k)) for k in wanted)

            def apply(node=node, wanted=wanted, path=path, name=name):
                first = {'node': node}

                def read():
                    return first.pop('node', None) or client.get(path)

                def build(current):
                    labels = gpus.labels(current)
                    diff = dict((k, v) for k, v in wanted.items() if labels.get(k) != v)
                    return {'metadata': {'labels': diff}} if diff else None
                obj, conflicts = patch_with_retry(client, path, read, build)
                state['conflicts'] += conflicts
                state['written'].append(name)
                return obj

            def undo(wanted=wanted, old=tuple(before.items()), path=path, name=name):
                """Put back the labels this run changed, where nobody changed them since (a later node failed)."""
                old = dict(old)

                def build(current):
                    labels = gpus.labels(current)
                    diff = dict((k, old[k]) for k, v in wanted.items() if labels.get(k) == v and old[k] != v)
                    return {'metadata': {'labels': diff}} if diff else None
                patch_with_retry(client, path, lambda: client.get(path), build)
                state['written'].remove(name)
            result.add('label', 'Node/%s' % name, before={'labels': before}, after={'labels': dict(wanted)},
                       apply=apply, undo=undo, details={'labels': dict(wanted)})
        return result

    def result(nodes, execution):
        names = [n['metadata']['name'] for n in nodes]
        final = dict((n['metadata']['name'], n) for n in nodes)
        if not module.check_mode:
            if params['wait']:
                targets = {}
                changed = dict((c.target[len('Node/'):], c) for c in execution.plan.changes)
                for node in nodes:
                    name = node['metadata']['name']
                    labels = gpus.labels(node)
                    workload = params['workload'] or labels.get(gpus.WORKLOAD_LABEL) or 'container'
                    config = params['vgpu_config'] and config_label(params['vgpu_config'], params['validate_vgpu_config'])[0]
                    config = config or labels.get(gpus.VGPU_CONFIG_LABEL) or 'default'
                    trust = not (name in changed and labels.get(gpus.VGPU_STATE_LABEL) == 'failed')
                    targets[name] = (workload, config, trust)
                try:
                    final = wait_ready(lambda: client.list(NODES_PATH, label_selector=selector)['items'], targets,
                                       params['wait_timeout'], params['wait_sleep'])
                except PlanError as exc:
                    exc.details['changed'] = execution.changed  # the labels were written; only the wait failed
                    exc.details['changes'] = execution.plan.describe()
                    exc.details['nodes_changed'] = list(state['written'])
                    raise
                except (KubeError, KubeConfigError) as exc:  # the API server went away after the writes
                    raise PlanError(
                        '%s; then, while waiting for the GPU Operator, %s: whether the GPU Operator finished on %s is unknown '
                        '(run again to wait, nothing more will be written)'
                        % ('labels written on node(s) %s' % ', '.join(state['written']) if state['written'] else 'no label was written',
                           describe_error(exc, 'the Kubernetes API could not be read'), ', '.join(names)),
                        changed=execution.changed, changes=execution.plan.describe(), nodes_changed=list(state['written']),
                        outcome_unknown=names)
            else:  # the PATCH answers are the nodes as written: no second LIST
                final.update((c.target[len('Node/'):], c.result) for c in execution.applied)
        summaries = [gpus.summary(final[name]) for name in names if name in final]
        return {'nodes': summaries, 'conflicts_retried': state['conflicts'], 'api_calls': client.calls}

    run(module, observe, plan, result)


def run_gpu_info(module):
    """k8s_gpu_info: LIST nodes, GET the KubeVirt CR, LIST ClusterPolicies. Read-only."""
    params = module.params
    client = KubeClient(params)
    try:
        items = client.list(NODES_PATH, label_selector=params['label_selector'])['items']
        nodes = select_nodes(items, params['nodes'])
        if not params['nodes'] and not params['include_non_gpu_nodes']:
            nodes = [n for n in nodes if gpus.is_gpu_node(n)]
        cr = client.get_optional(path_for('kubevirt.io/v1', 'kubevirts', params['kubevirt_name'], params['kubevirt_namespace']))
        policies = client.get_optional('/apis/nvidia.com/v1/clusterpolicies')
    except (KubeError, KubeConfigError) as exc:
        module.fail_json(msg=describe_error(exc, 'reading GPU facts'))
    except PlanError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    kubevirt = None
    if cr is not None:
        configuration = (cr.get('spec') or {}).get('configuration') or {}
        status = cr.get('status') or {}
        kubevirt = {
            'namespace': cr['metadata'].get('namespace'), 'name': cr['metadata']['name'],
            'version': status.get('observedKubeVirtVersion') or status.get('operatorVersion'),
            'phase': status.get('phase'),
            'feature_gates': (configuration.get('developerConfiguration') or {}).get('featureGates') or [],
            'permitted_host_devices': configuration.get('permittedHostDevices') or {},
            'mediated_devices_configuration': configuration.get('mediatedDevicesConfiguration') or {},
        }
    cluster_policy = None
    if policies and policies.get('items'):
        policy = policies['items'][0]
        spec = policy.get('spec') or {}
        cluster_policy = {
            'name': policy['metadata']['name'], 'state': (policy.get('status') or {}).get('state'),
            'sandbox_workloads': spec.get('sandboxWorkloads') or {},
            'licensing_config': (spec.get('driver') or {}).get('licensingConfig') or {},
            'vgpu_device_manager': spec.get('vgpuDeviceManager') or {},
        }
    module.exit_json(changed=False, nodes=[gpus.summary(n) for n in nodes], kubevirt=kubevirt,
                     cluster_policy=cluster_policy, api_calls=client.calls)
