# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planner of vsphere_vm_class: a vSphere with Tanzu VM class with GPUs, and its namespaces.

Facts (reference gpu-virtualization-facts.md §10, [S12] vSphere Automation API, [S11] vm-operator):

- ``/api/vcenter/namespace-management/virtual-machine-classes`` CreateSpec/UpdateSpec/Info: ``id`` (DNS label,
  <= 63), ``cpu_count``, ``cpu_reservation`` and ``memory_reservation`` (percent), memory in MB, ``description``,
  ``devices`` {``vgpu_devices`` [{``profile_name``}], Dynamic DirectPath I/O devices [{``vendor_id``,
  ``device_id``, ``custom_label``}]} (API 7.0.3, deprecated in 8.0.2) and ``config_spec`` (8.0.2+: a
  VirtualMachineConfigSpec in vSphere's JSON encoding, ``_typeName`` discriminators, where devices are
  ``deviceChange`` entries adding ``VirtualPCIPassthrough`` with a Vmiop (vGPU) or Dynamic backing);
- [CONFLICT] the memory and Dynamic DirectPath keys are spelled ``memory_mb`` / ``dynamic_direct_path_io_devices``
  on the /api schema pages and ``memory_MB`` / ``dynamic_direct_path_IO_devices`` on older ones: the runner reads
  the server's spelling from the classes it lists and writes the same;
- a VM with PCI devices needs all of its memory reserved (VM Operator sets memoryReservationLockedToMax; the
  vSphere Client forces 100 %), so a class with GPUs gets ``memory_reservation`` 100 and anything else is refused;
- namespaces take classes through ``vm_service_spec.vm_classes``, an update replacing the whole
  ``vm_service_spec`` (so ``content_libraries`` is always sent back unchanged).

No I/O: the planner gets the current records and a ``writer`` doing the calls (vmclass_api.VmClassWriter).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re

from ansible_collections.gpuvirt.core.plugins.module_utils import pci, vgpu
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu_rules import check_vm_vgpus
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import Plan, PlanError

DNS_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
CONFIG_SPEC_MIN_VERSION = (8, 0, 2)
DEVICES_MIN_VERSION = (7, 0, 3)
API_STYLE = {'memory': 'memory_mb', 'ddpio': 'dynamic_direct_path_io_devices'}
LEGACY_STYLE = {'memory': 'memory_MB', 'ddpio': 'dynamic_direct_path_IO_devices'}
FIRST_DEVICE_KEY = -200  # negative keys for devices being added, as CAPV and vm-operator number them
FIELDS = ('cpu_count', 'memory_mb', 'cpu_reservation', 'memory_reservation', 'description')
EMPTY_DEVICES = {'vgpu_profiles': [], 'passthrough_devices': []}


def key_style(classes):
    """The server's spelling, read from the classes it returned (a fresh vCenter always has default classes)."""
    for info in classes or []:
        if 'memory_MB' in info:
            return LEGACY_STYLE
        if 'memory_mb' in info:
            return API_STYLE
    return API_STYLE


def device_mode(requested, version):
    """``devices`` or ``config_spec`` for the vCenter ``version`` (tuple), or the one asked for; None when that
    vCenter has no GPU devices in VM classes (before 7.0.3). PlanError when the asked one is not available."""
    version = tuple(version[:3])
    if version < DEVICES_MIN_VERSION:
        return None
    if requested == 'auto':
        return 'config_spec' if version >= CONFIG_SPEC_MIN_VERSION else 'devices'
    if requested == 'config_spec' and version < CONFIG_SPEC_MIN_VERSION:
        raise PlanError('device_api=config_spec needs vCenter 8.0.2 or later; this vCenter is %s: use device_api=devices '
                        'or auto' % '.'.join(str(v) for v in version))
    return requested


def _passthrough_key(item):
    return (item['vendor_id'], item['device_id'], item.get('custom_label') or '')


def normalise_passthrough(index, item):
    where = 'passthrough_devices[%d]' % index
    if item.get('vendor_id') is None or item.get('device_id') is None:
        raise PlanError('%s needs vendor_id and device_id (a decimal integer such as 4318, or hex digits such as "10de")' % where)
    try:
        out = {'vendor_id': pci.parse_id(item['vendor_id'], '%s.vendor_id' % where),
               'device_id': pci.parse_id(item['device_id'], '%s.device_id' % where)}
    except pci.PciIdError as exc:
        raise PlanError(str(exc))
    if item.get('custom_label'):
        out['custom_label'] = str(item['custom_label'])
    return out


def normalise_profile(index, spelling):
    try:
        return vgpu.parse(str(spelling).strip()).names()['vsphere']
    except vgpu.VgpuError as exc:
        raise PlanError('vgpu_profiles[%d] %r is not a vGPU type of the catalog: %s' % (index, spelling, exc),
                        vgpu_profile=str(spelling))


class VmClassRequest(object):
    """The module's options (a dict of plain values), validated (PlanError naming the option)."""

    def __init__(self, params):
        self.id = params['id']
        if not self.id or len(self.id) > 63 or not DNS_LABEL.match(self.id):
            raise PlanError('id %r is not a valid VM class id: a DNS label of a-z, 0-9 and "-", at most 63 characters, '
                            'starting and ending with a letter or digit' % (self.id,))
        self.state = params.get('state') or 'present'
        self.fields = {}
        for name in FIELDS:
            if params.get(name) is not None:
                self.fields[name] = params[name]
        for name in ('cpu_count', 'memory_mb'):
            if name in self.fields and self.fields[name] < 1:
                raise PlanError('%s must be at least 1 (got %d)' % (name, self.fields[name]))
        for name in ('cpu_reservation', 'memory_reservation'):
            if name in self.fields and not 0 <= self.fields[name] <= 100:
                raise PlanError('%s is a percentage: %d is not within 0..100' % (name, self.fields[name]))
        profiles, passthrough = params.get('vgpu_profiles'), params.get('passthrough_devices')
        self.vgpu_profiles = None if profiles is None else [normalise_profile(i, p) for i, p in enumerate(profiles)]
        check_vm_vgpus(self.vgpu_profiles, 'VM class %s' % self.id)
        self.passthrough = None if passthrough is None else [normalise_passthrough(i, p or {}) for i, p in enumerate(passthrough)]
        self.namespaces = list(params.get('namespaces') or [])
        for index, name in enumerate(self.namespaces):
            if not name or len(name) > 63 or not DNS_LABEL.match(name):
                raise PlanError('namespaces[%d] %r is not a vSphere Namespace name: a DNS label of a-z, 0-9 and "-", at most '
                                '63 characters' % (index, name))
            if name in self.namespaces[:index]:
                raise PlanError('namespaces[%d] %r is listed twice' % (index, name))
        self.purge_namespaces = bool(params.get('purge_namespaces'))
        self.device_api = params.get('device_api') or 'auto'

    @property
    def touches_devices(self):
        return self.vgpu_profiles is not None or self.passthrough is not None


# -- reading a class --------------------------------------------------------------------------------------
def _config_spec_devices(config_spec):
    vgpus, passthrough = [], []
    for change in (config_spec or {}).get('deviceChange') or []:
        device = change.get('device') or {}
        if device.get('_typeName') != 'VirtualPCIPassthrough':
            continue
        backing = device.get('backing') or {}
        if backing.get('_typeName') == 'VirtualPCIPassthroughVmiopBackingInfo':
            vgpus.append(backing.get('vgpu'))
        elif backing.get('_typeName') == 'VirtualPCIPassthroughDynamicBackingInfo':
            for allowed in backing.get('allowedDevice') or []:
                item = {'vendor_id': allowed.get('vendorId'), 'device_id': allowed.get('deviceId')}
                if backing.get('customLabel'):
                    item['custom_label'] = backing['customLabel']
                passthrough.append(item)
    return vgpus, passthrough


def class_state(info):
    """The comparable state of a class Info (either key spelling; devices from ``devices`` and ``config_spec``)."""
    if info is None:
        return None
    memory = info.get('memory_mb', info.get('memory_MB'))
    state = {'cpu_count': info.get('cpu_count'), 'memory_mb': memory, 'cpu_reservation': info.get('cpu_reservation'),
             'memory_reservation': info.get('memory_reservation'), 'description': info.get('description') or ''}
    devices = info.get('devices') or {}
    vgpus = [d.get('profile_name') for d in devices.get('vgpu_devices') or []]
    passthrough = []
    for item in devices.get('dynamic_direct_path_io_devices', devices.get('dynamic_direct_path_IO_devices')) or []:
        entry = {'vendor_id': item.get('vendor_id'), 'device_id': item.get('device_id')}
        if item.get('custom_label'):
            entry['custom_label'] = item['custom_label']
        passthrough.append(entry)
    spec_vgpus, spec_passthrough = _config_spec_devices(info.get('config_spec'))
    state['vgpu_profiles'] = sorted(vgpus + spec_vgpus)
    state['passthrough_devices'] = sorted(passthrough + spec_passthrough, key=_passthrough_key)
    return state


def desired_state(request, current):
    """What the class should look like: the current state with the options applied (None = unchanged)."""
    empty = {'cpu_reservation': None, 'memory_reservation': None, 'description': '', 'vgpu_profiles': [], 'passthrough_devices': []}
    state = copy.deepcopy(current) if current else empty
    state.update(request.fields)
    if request.vgpu_profiles is not None:
        state['vgpu_profiles'] = sorted(request.vgpu_profiles)
    if request.passthrough is not None:
        state['passthrough_devices'] = sorted(request.passthrough, key=_passthrough_key)
    if state['vgpu_profiles'] or state['passthrough_devices']:
        asked = request.fields.get('memory_reservation')
        if asked is not None and asked != 100:
            raise PlanError('VM class %s has PCI devices (vGPU or Dynamic DirectPath I/O): memory_reservation must be 100 '
                            '(all guest memory reserved), not %d' % (request.id, asked))
        state['memory_reservation'] = 100
    return state


# -- writing a class ----------------------------------------------------------------------------------------
def config_spec_for(state, base=None):
    """A VirtualMachineConfigSpec (vSphere JSON) with the class's PCI devices; other settings of ``base`` kept."""
    spec = copy.deepcopy(base) if base else {}
    spec['_typeName'] = 'VirtualMachineConfigSpec'
    others = [c for c in spec.get('deviceChange') or [] if (c.get('device') or {}).get('_typeName') != 'VirtualPCIPassthrough']
    changes = []
    key = FIRST_DEVICE_KEY
    for profile in state['vgpu_profiles']:
        changes.append({'_typeName': 'VirtualDeviceConfigSpec', 'operation': 'add', 'device': {
            '_typeName': 'VirtualPCIPassthrough', 'key': key,
            'backing': {'_typeName': 'VirtualPCIPassthroughVmiopBackingInfo', 'vgpu': profile}}})
        key -= 1
    for item in state['passthrough_devices']:
        backing = {'_typeName': 'VirtualPCIPassthroughDynamicBackingInfo', 'deviceName': '',
                   'allowedDevice': [{'_typeName': 'VirtualPCIPassthroughAllowedDevice', 'vendorId': item['vendor_id'],
                                      'deviceId': item['device_id']}]}
        if item.get('custom_label'):
            backing['customLabel'] = item['custom_label']
        changes.append({'_typeName': 'VirtualDeviceConfigSpec', 'operation': 'add', 'device': {
            '_typeName': 'VirtualPCIPassthrough', 'key': key, 'backing': backing}})
        key -= 1
    if others + changes:
        spec['deviceChange'] = others + changes
    else:
        spec.pop('deviceChange', None)
    if changes:
        spec['memoryReservationLockedToMax'] = True
    else:
        spec.pop('memoryReservationLockedToMax', None)
    return spec


def devices_field(state, style):
    return {'vgpu_devices': [{'profile_name': p} for p in state['vgpu_profiles']],
            style['ddpio']: [dict(item) for item in state['passthrough_devices']]}


def class_body(state, current_info, style, mode, create):
    """CreateSpec (``create``) or the UpdateSpec of the fields that differ from ``current_info``."""
    current = class_state(current_info) if current_info else None
    body = {}
    for name in FIELDS:
        if state.get(name) is None or (current is not None and current.get(name) == state[name]):
            continue
        if name == 'description' and create and not state[name]:
            continue
        body[style['memory'] if name == 'memory_mb' else name] = state[name]
    devices_changed = current is None or (current['vgpu_profiles'], current['passthrough_devices']) != (
        state['vgpu_profiles'], state['passthrough_devices'])
    has_devices = bool(state['vgpu_profiles'] or state['passthrough_devices'])
    if devices_changed and (has_devices or not create):
        old_spec = (current_info or {}).get('config_spec')
        if mode == 'config_spec':
            body['config_spec'] = config_spec_for(state, old_spec)
            if _legacy_devices(current_info):
                body['devices'] = devices_field(EMPTY_DEVICES, style)
        else:
            body['devices'] = devices_field(state, style)
            if old_spec and _config_spec_devices(old_spec) != ([], []):
                body['config_spec'] = config_spec_for(EMPTY_DEVICES, old_spec)
    if create:
        body['id'] = state['id']
    return body


def _legacy_devices(info):
    """Whether a class Info has devices in the deprecated ``devices`` field."""
    devices = (info or {}).get('devices') or {}
    return any(devices.get(key) for key in ('vgpu_devices', API_STYLE['ddpio'], LEGACY_STYLE['ddpio']))


def restore_body(info, style, mode):
    """An UpdateSpec that puts a class back as ``info`` describes it (the undo of an update)."""
    current = class_state(info)
    body = dict((style['memory'] if name == 'memory_mb' else name, current[name]) for name in FIELDS if current[name] is not None)
    if 'devices' in info:
        body['devices'] = devices_field({'vgpu_profiles': [d.get('profile_name') for d in info['devices'].get('vgpu_devices') or []],
                                         'passthrough_devices': info['devices'].get(style['ddpio']) or []}, style)
    if mode == 'config_spec':
        body['config_spec'] = info.get('config_spec') or config_spec_for(EMPTY_DEVICES)
    return body


def _public(state):
    """A state as reported (diff, result)."""
    return dict((k, v) for k, v in state.items() if k != 'id')


def plan_vm_class(request, current_info, namespaces, style, mode, writer):
    """Plan the class and its namespace assignments.

    ``current_info``: the class Info or None; ``namespaces``: {name: namespace Info or None} for the namespaces
    named in the request and (with purge) those the class is in; ``style``: key spelling; ``mode``:
    ``devices`` | ``config_spec`` (None when the vCenter has no device support); ``writer``: ``create(body)``,
    ``update(id, body)``, ``delete(id)``, ``assign(namespace, vm_service_spec)``.
    Returns ``(Plan, desired state or None)``.
    """
    the_plan = Plan()
    target = 'VirtualMachineClass/%s' % request.id
    current = class_state(current_info)
    if request.state == 'absent':
        if current_info is None:
            return the_plan, None
        for name in sorted(current_info.get('namespaces') or []):
            _plan_assignment(the_plan, name, namespaces.get(name), request.id, False, writer)
        old_body = class_body(dict(current, id=request.id), None, style, mode or 'devices', create=True)
        the_plan.add('delete', target, before=_public(current), after=None, apply=lambda: writer.delete(request.id),
                     undo=lambda: writer.create(old_body))
        return the_plan, None
    if current_info is None:
        missing = [name for name in ('cpu_count', 'memory_mb') if name not in request.fields]
        if missing:
            raise PlanError('VM class %s does not exist; creating it needs %s' % (request.id, ' and '.join(missing)))
    state = dict(desired_state(request, current), id=request.id)
    if (state['vgpu_profiles'] or state['passthrough_devices']) and mode is None:
        raise PlanError('this vCenter cannot put GPU devices in VM classes (vCenter 7.0.3 or later is needed)')
    if current_info is None:
        body = class_body(state, None, style, mode, create=True)
        the_plan.add('create', target, before=None, after=_public(state), apply=lambda: writer.create(body),
                     undo=lambda: writer.delete(request.id))
    elif _public(state) != current:
        body = class_body(state, current_info, style, mode, create=False)
        undo_body = restore_body(current_info, style, mode)
        the_plan.add('update', target, before=current, after=_public(state), apply=lambda: writer.update(request.id, body),
                     undo=lambda: writer.update(request.id, undo_body), details={'fields': sorted(body)})
    assigned = set((current_info or {}).get('namespaces') or [])
    for name in request.namespaces:
        _plan_assignment(the_plan, name, namespaces.get(name), request.id, True, writer)
    if request.purge_namespaces:
        for name in sorted(assigned - set(request.namespaces)):
            _plan_assignment(the_plan, name, namespaces.get(name), request.id, False, writer)
    return the_plan, _public(state)


def _plan_assignment(the_plan, name, info, class_id, wanted, writer):
    if info is None:
        raise PlanError('namespace %s does not exist in vCenter (vSphere with Tanzu namespaces are created in the '
                        'Supervisor first); nothing was changed' % name, namespace=name)
    service = info.get('vm_service_spec') or {}
    classes = list(service.get('vm_classes') or [])
    libraries = list(service.get('content_libraries') or [])
    if (class_id in classes) == wanted:
        return
    new_classes = sorted(classes + [class_id]) if wanted else [c for c in classes if c != class_id]
    before = {'vm_classes': classes, 'content_libraries': libraries}
    after = {'vm_classes': new_classes, 'content_libraries': libraries}
    the_plan.add('assign' if wanted else 'unassign', 'Namespace/%s' % name, before=before, after=after,
                 apply=lambda: writer.assign(name, after), undo=lambda: writer.assign(name, before),
                 details={'vm_class': class_id})
