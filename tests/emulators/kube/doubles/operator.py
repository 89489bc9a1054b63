"""The GPU Operator and NVIDIA vGPU Device Manager as they act on nodes: a controller double that watches the real
API server (nodes, ClusterPolicies) and writes node labels and node status the way the operator's operands do.

Facts §5 [S4][S7], seed 003:

- ``nvidia.com/gpu.workload.config`` (``container`` default | ``vm-passthrough`` | ``vm-vgpu``) selects the
  operands; the operator labels the node ``nvidia.com/gpu.deploy.<operand>=true`` for the operands of that
  workload and removes the others. Without the label (or with an invalid value) the ClusterPolicy's
  ``sandboxWorkloads.defaultWorkload`` applies; with ``sandboxWorkloads.enabled: false`` (or no ClusterPolicy)
  every GPU node is a container node and the label is ignored.
- container nodes advertise ``nvidia.com/gpu`` (the device plugin); vm-passthrough nodes advertise the sandbox
  device plugin's passthrough resource (``nvidia.com/GA102GL_A10``...).
- on vm-vgpu nodes vgpu-device-manager applies the config named by ``nvidia.com/vgpu.config`` (``default``
  when absent): ``nvidia.com/vgpu.config.state`` goes ``pending`` (sandbox-device-plugin and sandbox-validator
  paused as ``paused-for-vgpu-change``), then after ``controller_delay`` seconds ``success`` with
  ``nvidia.com/NVIDIA_<type>`` = count in capacity/allocatable, or ``failed`` for a config the node's GPUs
  cannot hold (resources unchanged).
- extended resources a device plugin stops advertising stay in capacity/allocatable at ``"0"`` (kubelet keeps
  them; seed 003 filters them out with jq ``select(.value != "0")``).

The hardware (GPU model and count per node) is the double's own record, like the physical host: editing node
labels through the API does not change it.

Upstream sources: NVIDIA/gpu-operator controllers/state_manager.go (workload labels, gpu.deploy.* operand labels),
controllers/object_controls.go (vGPU device manager pause labels), NVIDIA/vgpu-device-manager
cmd/nvidia-vgpu-dm (config.state pending/success/failed), NVIDIA/kubevirt-gpu-device-plugin (resource names).
"""
import time

import yaml

from . import catalog
from .runtime import CLUSTER_POLICIES, CONFIGMAPS, NODES

WORKLOAD_LABEL = 'nvidia.com/gpu.workload.config'
VGPU_CONFIG_LABEL = 'nvidia.com/vgpu.config'
VGPU_STATE_LABEL = 'nvidia.com/vgpu.config.state'
DEPLOY_PREFIX = 'nvidia.com/gpu.deploy.'
PAUSED = 'paused-for-vgpu-change'
HOST_DRIVER_VERSION = '550.90.05'
WORKLOADS = ('container', 'vm-passthrough', 'vm-vgpu')
OPERANDS = {
    'container': ('driver', 'gpu-feature-discovery', 'container-toolkit', 'device-plugin', 'dcgm', 'dcgm-exporter',
                  'node-status-exporter', 'operator-validator'),
    'vm-passthrough': ('sandbox-device-plugin', 'sandbox-validator', 'vfio-manager', 'kata-manager', 'cc-manager'),
    'vm-vgpu': ('sandbox-device-plugin', 'vgpu-manager', 'vgpu-device-manager', 'sandbox-validator', 'cc-manager'),
}


class GpuOperator(object):
    def __init__(self, emulator):
        self.emulator = emulator  # the doubles' view of the cluster: get/items/update/loop/controller_delay
        self.hardware = {}   # node name -> (GpuModel, count)
        self.applied = {}    # node name -> vGPU config vgpu-device-manager last applied successfully
        self.events = []     # what the controllers did, for tests and debugging
        self.immediate = False  # while seeding: settle every node at once (the cluster starts in steady state)

    # ------------------------------------------------------------------ wiring
    def add_node(self, name, model, count):
        self.hardware[name] = (model, count)

    @staticmethod
    def _node_kind():
        return NODES

    def _policy(self):
        items = self.emulator.items(CLUSTER_POLICIES)
        return items[0] if items else None

    def observe(self, kind, before, after):
        """Called after every write through the API or by seeding."""
        if kind.kind == 'Node' and after is not None and after['metadata']['name'] in self.hardware:
            old = (before or {}).get('metadata', {}).get('labels', {})
            new = after['metadata'].get('labels', {})
            watched = (WORKLOAD_LABEL, VGPU_CONFIG_LABEL)
            if before is None or any(old.get(k) != new.get(k) for k in watched):
                self.schedule(after['metadata']['name'])
        elif kind.kind == 'ClusterPolicy':
            self.observe_policy(before, after)
            for name in self.hardware:
                self.schedule(name)

    def schedule(self, name):
        if self.immediate:
            self._reconcile_now(name)
            return
        self.emulator.loop.cancel('vgpu/' + name)
        self.emulator.loop.later(0, 'node/' + name, self._reconcile, name)

    # ------------------------------------------------------------------ ClusterPolicy status
    def observe_policy(self, before, after):
        """The operator's ClusterPolicy controller: a new or changed spec (generation) makes the policy
        ``notReady`` at once, and ``ready`` once the operands are reconciled (``controller_delay`` later). The
        operator's namespace comes from helm's release annotation (``gpu-operator`` otherwise)."""
        if after is None:
            return
        name = after['metadata']['name']
        changed = before is None or before['metadata'].get('generation') != after['metadata'].get('generation')
        if not changed and (after.get('status') or {}).get('state'):
            return
        if self.immediate:
            if not (after.get('status') or {}).get('state'):
                self._set_policy_status(name, 'ready')
            return
        self._set_policy_status(name, 'notReady')
        self.emulator.loop.later(self.emulator.controller_delay, 'policy/' + name, self._set_policy_status, name, 'ready')

    def _set_policy_status(self, name, state):
        kind = CLUSTER_POLICIES
        ready = state == 'ready'

        now = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())

        def mutate(policy):
            annotations = policy['metadata'].get('annotations') or {}
            policy['status'] = {
                'state': state, 'namespace': annotations.get('meta.helm.sh/release-namespace', 'gpu-operator'),
                'conditions': [
                    {'type': 'Ready', 'status': 'True' if ready else 'False', 'reason': 'Reconciled' if ready else 'OperandNotReady',
                     'message': 'ClusterPolicy is ready as all resources have been successfully reconciled' if ready
                     else 'ClusterPolicy is not ready, states not ready: [state-sandbox-device-plugin]',
                     'observedGeneration': policy['metadata'].get('generation', 1), 'lastTransitionTime': now},
                    {'type': 'Error', 'status': 'False', 'reason': 'Ready' if ready else 'OperandNotReady', 'message': '',
                     'lastTransitionTime': now},
                ],
            }
        self.emulator.controller_update(kind, None, name, mutate)
        self.events.append({'policy': name, 'state': state})

    def state(self):
        nodes = {}
        for name, (model, count) in sorted(self.hardware.items()):
            nodes[name] = {'model': model.token, 'gpus': count, 'applied_config': self.applied.get(name),
                           'reconciling': self.emulator.loop.pending('node/' + name)
                           or self.emulator.loop.pending('vgpu/' + name)}
        return {'delay': self.emulator.controller_delay, 'nodes': nodes, 'events': self.events[-200:]}

    # ------------------------------------------------------------------ reconcile
    def workload(self, node):
        policy = self._policy()
        sandbox = (policy or {}).get('spec', {}).get('sandboxWorkloads', {})
        if not sandbox.get('enabled'):
            return 'container'
        value = node['metadata'].get('labels', {}).get(WORKLOAD_LABEL)
        if value in WORKLOADS:
            return value
        default = sandbox.get('defaultWorkload', 'container')
        return default if default in WORKLOADS else 'container'

    def _reconcile_now(self, name):
        node = self.emulator.get(self._node_kind(), None, name)
        if node is None:
            return
        workload = self.workload(node)
        self._set_workload(name, workload)
        if workload == 'vm-vgpu':
            self._start_vgpu(name)
            self._finish_vgpu(name)

    def _reconcile(self, name):
        node = self.emulator.get(self._node_kind(), None, name)
        if node is None:
            return
        workload = self.workload(node)
        self._set_workload(name, workload)
        if workload != 'vm-vgpu':
            return
        if not self._start_vgpu(name):
            return
        self.emulator.loop.later(self.emulator.controller_delay, 'vgpu/' + name, self._finish_vgpu, name)

    def _set_workload(self, name, workload):
        model, count = self.hardware[name]
        operands = OPERANDS[workload]

        def mutate(node):
            labels = node['metadata'].setdefault('labels', {})
            for key in [k for k in labels if k.startswith(DEPLOY_PREFIX)]:
                if key[len(DEPLOY_PREFIX):] not in operands:
                    del labels[key]
            for operand in operands:
                if labels.get(DEPLOY_PREFIX + operand) != PAUSED:
                    labels[DEPLOY_PREFIX + operand] = 'true'
            if workload == 'vm-vgpu':
                labels['nvidia.com/vgpu.present'] = 'true'
                labels['nvidia.com/vgpu.host-driver-version'] = HOST_DRIVER_VERSION
            else:
                labels.pop('nvidia.com/vgpu.present', None)
                labels.pop('nvidia.com/vgpu.host-driver-version', None)
            if workload == 'container':
                _set_resources(node, {'nvidia.com/gpu': count})
            elif workload == 'vm-passthrough':
                _set_resources(node, {model.passthrough_resource: count})
        self.emulator.controller_update(self._node_kind(), None, name, mutate)
        if workload != 'vm-vgpu':
            self.applied.pop(name, None)

    def _start_vgpu(self, name):
        """Returns False when the wanted config is already applied (nothing to do)."""
        node = self.emulator.get(self._node_kind(), None, name)
        labels = node['metadata'].get('labels', {})
        config = labels.get(VGPU_CONFIG_LABEL) or 'default'
        if self.applied.get(name) == config and labels.get(VGPU_STATE_LABEL) == 'success':
            return False

        def mutate(obj):
            obj_labels = obj['metadata'].setdefault('labels', {})
            obj_labels[VGPU_STATE_LABEL] = 'pending'
            for operand in ('sandbox-device-plugin', 'sandbox-validator'):
                if obj_labels.get(DEPLOY_PREFIX + operand) == 'true':
                    obj_labels[DEPLOY_PREFIX + operand] = PAUSED
        self.emulator.controller_update(self._node_kind(), None, name, mutate)
        self.events.append({'node': name, 'config': config, 'state': 'pending'})
        return True

    def _finish_vgpu(self, name):
        model, count = self.hardware[name]
        node = self.emulator.get(self._node_kind(), None, name)
        if node is None:
            return
        config = node['metadata'].get('labels', {}).get(VGPU_CONFIG_LABEL) or 'default'
        try:
            resources = self._configmap_resources(config, model, count)
            if resources is None:
                vgpu_type, per_gpu = catalog.resolve_vgpu_config(config, model)
                resources = {catalog.vgpu_resource(vgpu_type): per_gpu * count}
        except ValueError as exc:
            state, reason, resources = 'failed', str(exc), None
        else:
            state, reason = 'success', ''

        def mutate(obj):
            labels = obj['metadata'].setdefault('labels', {})
            labels[VGPU_STATE_LABEL] = state
            for operand in ('sandbox-device-plugin', 'sandbox-validator'):
                if labels.get(DEPLOY_PREFIX + operand) == PAUSED:
                    labels[DEPLOY_PREFIX + operand] = 'true'
            if resources is not None:
                _set_resources(obj, resources)
        self.emulator.controller_update(self._node_kind(), None, name, mutate)
        if state == 'success':
            self.applied[name] = config
        self.events.append({'node': name, 'config': config, 'state': state, 'reason': reason})

    def _configmap_resources(self, config, model, count):
        """vgpu-device-manager with the ConfigMap the ClusterPolicy names (``vgpuDeviceManager.config.name``, key
        ``config.yaml``, in the operator's namespace) [S4 spec.go, facts §5]: the entries of label ``config``
        whose ``device-filter`` (``0x<device>10DE``) is absent or matches this node's GPUs, applied to ``all``
        GPUs or the listed indices. None when the policy names no ConfigMap (the operator's default one)."""
        spec = (self._policy() or {}).get('spec', {})
        name = ((spec.get('vgpuDeviceManager') or {}).get('config') or {}).get('name')
        if not name:
            return None
        namespace = ((self._policy() or {}).get('status') or {}).get('namespace') or 'gpu-operator'
        configmap = self.emulator.get(CONFIGMAPS, namespace, name)
        if configmap is None:
            raise ValueError('vgpu-device-manager ConfigMap %s/%s not found' % (namespace, name))
        try:
            document = yaml.safe_load((configmap.get('data') or {}).get('config.yaml', '')) or {}
        except yaml.YAMLError as exc:
            raise ValueError('invalid config.yaml in ConfigMap %s/%s: %s' % (namespace, name, exc)) from None
        entries = (document.get('vgpu-configs') or {}).get(config)
        if document.get('version') != 'v1' or not entries:
            raise ValueError('no vGPU config named %r in the vgpu-device-manager ConfigMap %s/%s' % (config, namespace, name))
        own_filter = ('0x%s%s' % (model.device_id, catalog.NVIDIA_VENDOR_ID)).lower()
        layout = {}  # GPU index -> {type: count}; the last matching entry wins for a GPU, as nvidia-vgpu-dm apply
        for entry in entries:
            filters = entry.get('device-filter')
            filters = [filters] if isinstance(filters, str) else (filters or [])
            if filters and own_filter not in [str(f).lower() for f in filters]:
                continue
            devices = entry.get('devices')
            indices = range(count) if devices == 'all' else [i for i in devices or [] if isinstance(i, int) and i < count]
            for index in indices:
                layout[index] = entry.get('vgpu-devices') or {}
        resources = {}
        for vgpus in layout.values():
            for vgpu_type, number in vgpus.items():
                if not str(vgpu_type).startswith(model.token + '-'):
                    raise ValueError('vGPU type %s is not offered by the %s GPUs of this node' % (vgpu_type, model.token))
                key = catalog.vgpu_resource(vgpu_type)
                resources[key] = resources.get(key, 0) + int(number)
        return resources


def _set_resources(node, wanted):
    """Advertise ``wanted`` nvidia.com resources; the others this node had drop to "0" but stay listed."""
    status = node.setdefault('status', {})
    for field in ('capacity', 'allocatable'):
        resources = status.setdefault(field, {})
        for key in [k for k in resources if k.startswith('nvidia.com/')]:
            resources[key] = '0'
        for key, value in wanted.items():
            resources[key] = str(value)
