"""KubeVirt's VirtualMachine handling, as doubles talking to the real API server: the
``virtualmachine-validator.kubevirt.io`` admission webhook (virt-api) and virt-controller starting (or not) the VM
and its VirtualMachineInstance. The CRD schema's required fields are the real CRD's (the API server checks them).

Facts §6 [S6 schema.go, vmi-create-admitter.go, template services]:

- the webhook (HTTP 422, reason Invalid, message prefixed ``admission webhook "virtualmachine-validator.kubevirt.io"
  denied the request:``) refuses a VM without ``spec.template``, ``running`` together with ``runStrategy``, an
  unknown ``runStrategy``, and ``hostDevices`` while the ``HostDevices`` feature gate is off ("Host Devices
  feature gate is not enabled in kubevirt-config"), and a GPU with neither ``deviceName`` nor a DRA claim
  ("vmi.spec.domain.devices.gpus contains GPUs without deviceName"; the v1.9.0 CRD leaves deviceName optional).
  It does NOT check permittedHostDevices: a VM asking for a device that is not permitted is accepted;
- that check happens when virt-controller renders the launcher pod of a VM that should run: "failed to render
  launch manifest: GPU <deviceName> is not permitted in permittedHostDevices configuration" (only when the KubeVirt
  CR has a ``permittedHostDevices`` section at all), a ``Synchronized=False`` / ``FailedCreate`` condition, the VM
  stays ``Starting``;
- a permitted VM is scheduled on a node whose allocatable device resources (less what running VMs there hold)
  cover every GPU and host device it asks for; otherwise ``ErrorUnschedulable`` with the scheduler's
  ``0/N nodes are available: N Insufficient <resource>.`` in a ``PodScheduled=False`` condition;
- ``runStrategy: Halted`` / ``Manual`` (or ``running: false``) VMs are ``Stopped`` with ``Ready=False``
  ``VMINotExists``; a scheduled VM is ``Starting`` and, after the controller delay, ``Running`` and ready.

Changes of nodes or of the KubeVirt CR make the controller look again at VMs that want to run but do not.
A placed VM gets a VirtualMachineInstance (same name, ``status.nodeName``, phase Scheduled then Running); a VM
that stops or goes away loses it.

Upstream sources: kubevirt/kubevirt pkg/virt-api/webhooks/validating-webhook/admitters/vms-admitter.go,
pkg/dra/admitter/dra_admitter.go,
pkg/virt-controller/watch/vm/vm.go, pkg/virt-controller/services/template.go (permitted host devices),
pkg/virt-controller/watch/vmi/vmi.go.
"""
from .runtime import KUBEVIRTS, NODES, VMIS, VMS

WEBHOOK = 'virtualmachine-validator.kubevirt.io'
RUN_STRATEGIES = ('Always', 'RerunOnFailure', 'Halted', 'Manual', 'Once', 'WaitAsReceiver')
STARTING_STRATEGIES = ('Always', 'RerunOnFailure', 'Once')
DEVICES_PATH = 'spec.template.spec.domain.devices'


def webhook_causes(vm, feature_gates):
    """What the validating webhook refuses, as ``(field, message)``."""
    spec = vm.get('spec') or {}
    causes = []
    if not spec.get('template'):
        causes.append(('spec.template', 'missing virtual machine template.'))
    if spec.get('running') is not None and spec.get('runStrategy') is not None:
        causes.append(('spec.running', 'Running and RunStrategy are mutually exclusive. Note that Running is deprecated, '
                                       'please use RunStrategy instead'))
    if spec.get('runStrategy') is not None and spec.get('runStrategy') not in RUN_STRATEGIES:
        causes.append(('spec.runStrategy', 'Invalid RunStrategy (%s)' % spec.get('runStrategy')))
    if _devices(vm).get('hostDevices') is not None and 'HostDevices' not in feature_gates:
        causes.append(('%s.HostDevices' % DEVICES_PATH, 'Host Devices feature gate is not enabled in kubevirt-config'))
    # pkg/dra/admitter/dra_admitter.go: since DRA the CRD leaves gpus[].deviceName optional; a GPU without a claim
    # (claimName/requestName) must have one
    if any(not gpu.get('deviceName') and not (gpu.get('claimName') or gpu.get('requestName'))
           for gpu in _devices(vm).get('gpus') or []):
        causes.append(('%s.gpus' % DEVICES_PATH, 'vmi.spec.domain.devices.gpus contains GPUs without deviceName'))
    return causes


def denial(causes):
    """The webhook's answer: an AdmissionReview status the API server turns into a 422 Invalid."""
    message = ', '.join(message for _field, message in causes)
    return {'code': 422, 'reason': 'Invalid', 'message': message,
            'details': {'causes': [{'reason': 'FieldValueInvalid', 'message': m, 'field': f} for f, m in causes]}}


def _devices(vm):
    template = ((vm.get('spec') or {}).get('template') or {})
    return (((template.get('spec') or {}).get('domain') or {}).get('devices') or {})


def wants_to_run(vm):
    spec = vm.get('spec') or {}
    if spec.get('runStrategy') is not None:
        return spec['runStrategy'] in STARTING_STRATEGIES
    return bool(spec.get('running'))


def requested_devices(vm):
    """``[(what, deviceName)]``: what is ``GPU`` or ``HostDevice`` (the words of KubeVirt's messages)."""
    devices = _devices(vm)
    wanted = [('GPU', entry.get('deviceName')) for entry in devices.get('gpus') or []]
    wanted += [('HostDevice', entry.get('deviceName')) for entry in devices.get('hostDevices') or []]
    return wanted


class VirtController(object):
    """virt-controller for VirtualMachines: status, the permitted-device check at launch, scheduling on nodes."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.placements = {}  # (namespace, name) -> (node, {resource: count})
        self.immediate = False

    @staticmethod
    def _vm_kind():
        return VMS

    def _kubevirt(self):
        items = self.emulator.items(KUBEVIRTS)
        return items[0] if items else None

    def feature_gates(self):
        config = ((self._kubevirt() or {}).get('spec') or {}).get('configuration') or {}
        return list((config.get('developerConfiguration') or {}).get('featureGates') or [])

    def admit(self, vm):
        """The webhook's denial (an AdmissionReview status) for a VM it refuses, else None."""
        causes = webhook_causes(vm, self.feature_gates())
        return denial(causes) if causes else None

    def observe(self, kind, before, after):
        if kind.kind == 'VirtualMachine':
            obj = after if after is not None else before
            key = (obj['metadata'].get('namespace'), obj['metadata']['name'])
            if after is None:
                self._cancel(key)
                self._release(key)
            elif before is None or self._spec_of(before) != self._spec_of(after):
                self.schedule(key)
        elif kind.kind in ('Node', 'KubeVirt'):
            self._retry_waiting()

    def _retry_waiting(self, skip=None):
        """Look again at the VMs that want to run but are not placed (the scheduler retries them too)."""
        if self._vm_kind() is None:
            return
        for vm in self.emulator.items(self._vm_kind()):
            key = (vm['metadata'].get('namespace'), vm['metadata']['name'])
            if key != skip and wants_to_run(vm) and key not in self.placements:
                self.schedule(key)

    def _release(self, key):
        """A VM stopped or went away: its VMI goes, its devices are free for the VMs waiting for them."""
        if self.placements.pop(key, None) is not None:
            try:
                self.emulator.client.request('DELETE', VMIS.path(key[0], key[1]))
            except Exception:  # pylint: disable=broad-except
                pass  # already gone
            self._retry_waiting(skip=key)

    @staticmethod
    def _spec_of(vm):
        return vm.get('spec')

    def _cancel(self, key):
        self.emulator.loop.cancel('vm/%s/%s' % key)

    def schedule(self, key):
        if self.immediate:
            self._reconcile(key, settle=True)
            return
        self.emulator.loop.later(0, 'vm/%s/%s' % key, self._reconcile_later, key)

    def _reconcile_later(self, key):
        if self._reconcile(key, settle=False):
            self.emulator.loop.later(self.emulator.controller_delay, 'vm/%s/%s' % key, self._running, key)

    def _running(self, key):
        # the VMI runs first; the VM's Ready condition follows it (virt-controller copies it from the VMI)
        self._set_vmi_phase(key, 'Running')
        self._set_status(key, _running_status())

    def _reconcile(self, key, settle):
        """Returns True when the VM was scheduled and is starting (the caller makes it Running)."""
        vm = self.emulator.get(self._vm_kind(), key[0], key[1])
        if vm is None:
            return False
        if not wants_to_run(vm):
            self._set_status(key, _stopped_status())
            self._release(key)
            return False
        wanted = requested_devices(vm)
        refused = self._not_permitted(wanted)
        if refused:
            self._release(key)
            self._set_status(key, _failed_create_status(refused))
            return False
        if key in self.placements:
            return False
        placement = self._place(key, wanted)
        if placement is None:
            self._set_status(key, self._unschedulable_status(wanted, key))
            return False
        self.placements[key] = placement
        self._create_vmi(key, vm, placement[0], 'Running' if settle else 'Scheduled')
        self._set_status(key, _running_status() if settle else _starting_status())
        return not settle

    def _create_vmi(self, key, vm, node, phase):
        template = (vm.get('spec') or {}).get('template') or {}
        labels = dict((template.get('metadata') or {}).get('labels') or {}, **{'kubevirt.io/nodeName': node})
        vmi = {'apiVersion': VMIS.api_version, 'kind': VMIS.kind,
               'metadata': {'name': key[1], 'namespace': key[0], 'labels': labels,
                            'ownerReferences': [{'apiVersion': VMS.api_version, 'kind': VMS.kind, 'name': key[1],
                                                 'uid': vm['metadata']['uid'], 'controller': True,
                                                 'blockOwnerDeletion': True}]},
               'spec': template.get('spec') or {'domain': {'devices': {}}}}
        try:
            self.emulator.client.create(VMIS, vmi)
        except Exception as exc:  # pylint: disable=broad-except
            if getattr(exc, 'status', None) != 409:
                raise
        self._set_vmi_phase(key, phase, node)

    def _set_vmi_phase(self, key, phase, node=None):
        def mutate(vmi):
            status = vmi.setdefault('status', {})
            status['phase'] = phase
            if node:
                status['nodeName'] = node
        self.emulator.client.update(VMIS, key[0], key[1], mutate)  # KubeVirt's VMI CRD has no status subresource

    def _not_permitted(self, wanted):
        config = ((self._kubevirt() or {}).get('spec') or {}).get('configuration') or {}
        permitted = config.get('permittedHostDevices')
        if permitted is None:
            return []
        names = set()
        for field in ('pciHostDevices', 'mediatedDevices', 'usb'):
            names.update(entry.get('resourceName') for entry in permitted.get(field) or [])
        return ['%s %s is not permitted in permittedHostDevices configuration' % (what, device)
                for what, device in wanted if device not in names]

    def _needs(self, wanted):
        needs = {}
        for _what, device in wanted:
            needs[device] = needs.get(device, 0) + 1
        return needs

    def _free(self, node, key):
        free = {}
        for resource, value in ((node.get('status') or {}).get('allocatable') or {}).items():
            try:
                free[resource] = int(value)
            except ValueError:
                continue
        name = node['metadata']['name']
        for other, (placed_on, held) in self.placements.items():
            if other != key and placed_on == name:
                for resource, count in held.items():
                    free[resource] = free.get(resource, 0) - count
        return free

    def _place(self, key, wanted):
        needs = self._needs(wanted)
        for node in self.emulator.items(NODES):
            free = self._free(node, key)
            if all(free.get(resource, 0) >= count for resource, count in needs.items()):
                return node['metadata']['name'], needs
        return None

    def _unschedulable_status(self, wanted, key):
        nodes = self.emulator.items(NODES)
        needs = self._needs(wanted)
        reasons = {}
        for node in nodes:
            free = self._free(node, key)
            for resource, count in sorted(needs.items()):
                if free.get(resource, 0) < count:
                    reasons[resource] = reasons.get(resource, 0) + 1
                    break
        detail = ', '.join('%d Insufficient %s' % (count, resource) for resource, count in sorted(reasons.items()))
        message = '0/%d nodes are available: %s.' % (len(nodes), detail)
        return {'printableStatus': 'ErrorUnschedulable', 'created': True, 'ready': False,
                'conditions': [{'type': 'Ready', 'status': 'False', 'reason': 'GuestNotRunning', 'message': 'Guest VM is not reported as running'},
                               {'type': 'PodScheduled', 'status': 'False', 'reason': 'Unschedulable', 'message': message}]}

    def _set_status(self, key, status):
        def mutate(vm):
            vm['status'] = status
        self.emulator.controller_update(self._vm_kind(), key[0], key[1], mutate)

    def state(self):
        return {'%s/%s' % key: {'node': node, 'devices': held} for key, (node, held) in sorted(self.placements.items())}


def _stopped_status():
    return {'printableStatus': 'Stopped',
            'conditions': [{'type': 'Ready', 'status': 'False', 'reason': 'VMINotExists', 'message': 'VMI does not exist'}]}


def _failed_create_status(refused):
    return {'printableStatus': 'Starting', 'created': True, 'ready': False,
            'conditions': [{'type': 'Ready', 'status': 'False', 'reason': 'GuestNotRunning', 'message': 'Guest VM is not reported as running'},
                           {'type': 'Synchronized', 'status': 'False', 'reason': 'FailedCreate',
                            'message': 'failed to render launch manifest: %s' % ' '.join(refused)}]}


def _starting_status():
    return {'printableStatus': 'Starting', 'created': True, 'ready': False,
            'conditions': [{'type': 'Ready', 'status': 'False', 'reason': 'GuestNotRunning', 'message': 'Guest VM is not reported as running'}]}


def _running_status():
    return {'printableStatus': 'Running', 'created': True, 'ready': True,
            'conditions': [{'type': 'Ready', 'status': 'True'}]}
