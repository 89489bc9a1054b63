# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planner of capv_machine_template_gpu: a GPU copy of a CAPV VSphereMachineTemplate.

Facts (reference gpu-virtualization-facts.md §9, [S10] cluster-api-provider-vsphere):

- ``spec.template.spec.pciDevices[]`` items are ``PCIDeviceSpec`` {``deviceId`` int32, ``vendorId`` int32,
  ``vGPUProfile``, ``customLabel``}, ids as decimal integers (vendorId 4318);
- CAPV's validating webhook (internal/webhooks/vspheremachine.go ``validatePCIDevices``) accepts an item with
  ``vGPUProfile`` only, or ``deviceId`` + ``vendorId`` without ``vGPUProfile``; anything else is refused with
  "should have either deviceId + vendorId or vGPUProfile set". v1beta2 adds MinLength 1 / MaxLength 1024 on
  ``vGPUProfile`` and ``customLabel`` and MaxItems 128 on ``pciDevices``;
- the VSphereMachineTemplate webhook (internal/webhooks/vspheremachinetemplate.go) makes ``spec.template.spec``
  immutable ("Please create a new resource instead"), refuses ``providerID`` and network ``ipAddrs`` in
  templates and a ``hardwareVersion`` not matching ``^vmx-[1-9][0-9]?$``;
- Dynamic DirectPath I/O (the id form) needs virtual hardware vmx-17 or later (seed 000/001).

Because the spec is immutable, the planner builds a NEW template: the source copied unchanged except for
``pciDevices`` (replaced), ``hardwareVersion`` and ``customVMXKeys`` (merged), named ``<source>-gpu-<hash>``
where the hash covers the resulting spec, so a rerun with the same input finds the template it made and plans
nothing, and any change (in the GPU settings or in the source) gives a new name. Optionally the planner points
a MachineDeployment's ``infrastructureRef`` at it, which makes Cluster API roll the machines.

All validation happens here, before the first write. No I/O: writes are delegated to a ``writer`` object.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import hashlib
import json
import re

from ansible_collections.gpuvirt.core.plugins.module_utils import pci, vgpu
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu_rules import check_vm_vgpus
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import Plan, PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.planners import LARGE_BAR_MIN_GB, mmio_size_gb

TEMPLATE_KIND = 'VSphereMachineTemplate'
TEMPLATE_GROUP = 'infrastructure.cluster.x-k8s.io'
DEPLOYMENT_GROUP = 'cluster.x-k8s.io'
SOURCE_ANNOTATION = 'gpuvirt.core/source-template'
WEBHOOK_PCI_MESSAGE = 'should have either deviceId + vendorId or vGPUProfile set'
MAX_PCI_DEVICES = 128          # v1beta2 MaxItems [S10]
MAX_STRING_LENGTH = 1024       # v1beta2 MaxLength of vGPUProfile and customLabel [S10]
HARDWARE_VERSION = re.compile(r'^vmx-[1-9][0-9]?$')
DYNAMIC_DIRECTPATH_MIN_VERSION = 17
NAME_LIMIT = 63                # kept a DNS label: Cluster API copies template names into labels/annotations
HASH_LENGTH = 10
GENERATED_SUFFIX = re.compile(r'^(?P<base>.+)-gpu-[0-9a-f]{%d}$' % HASH_LENGTH)
SERVER_FIELDS = ('uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink',
                 'deletionTimestamp', 'deletionGracePeriodSeconds')
DROPPED_ANNOTATIONS = ('kubectl.kubernetes.io/last-applied-configuration',)


def _where(index):
    return 'pci_devices[%d]' % index


def normalise_device(index, item):
    """One ``pci_devices`` option item as a CAPV ``PCIDeviceSpec`` (JSON names), or PlanError naming the item.

    ``vgpu_profile`` may be any spelling the catalog knows (``A100-3-20C``, ``NVIDIA A10-4Q``, ``grid_v100d-4c``);
    it becomes vSphere's ``grid_...`` profile string. Ids: an integer (decimal, as CAPV writes them) or a
    string of hex digits (``"10de"``, ``"0x2236"``).
    """
    where = _where(index)
    profile = item.get('vgpu_profile')
    vendor, device, label = item.get('vendor_id'), item.get('device_id'), item.get('custom_label')
    has_ids = (vendor is not None, device is not None)
    if profile is not None and (vendor is not None or device is not None):
        raise PlanError('%s sets vgpu_profile together with vendor_id/device_id; CAPV refuses such an item (%s): '
                        'give either vgpu_profile alone (vGPU) or vendor_id + device_id (Dynamic DirectPath I/O)'
                        % (where, WEBHOOK_PCI_MESSAGE), item=index)
    if profile is None and has_ids != (True, True):
        missing = 'vendor_id' if vendor is None else 'device_id'
        if vendor is None and device is None:
            detail = 'it has neither'
        else:
            detail = '%s is missing' % missing
        raise PlanError('%s must have vgpu_profile, or both vendor_id and device_id (%s); CAPV refuses it (%s)'
                        % (where, detail, WEBHOOK_PCI_MESSAGE), item=index)
    if profile is not None:
        if label is not None:
            raise PlanError('%s: custom_label only applies to Dynamic DirectPath I/O devices (vendor_id + device_id); '
                            'CAPV ignores it for a vGPU profile: remove it' % where, item=index)
        return {'vGPUProfile': vsphere_profile(where, profile)}
    # pci.parse_id keeps ids within 16 bits, so they always fit CAPV's int32 fields
    spec = {'vendorId': _pci_id(vendor, where + '.vendor_id'), 'deviceId': _pci_id(device, where + '.device_id')}
    if label is not None:
        label = str(label)
        if not 1 <= len(label) <= MAX_STRING_LENGTH:
            raise PlanError('%s.custom_label must be 1 to %d characters long (CAPV v1beta2 schema); it has %d'
                            % (where, MAX_STRING_LENGTH, len(label)), item=index)
        spec['customLabel'] = label
    return spec


def _pci_id(value, what):
    try:
        return pci.parse_id(value, what)
    except pci.PciIdError as exc:
        raise PlanError(str(exc))


def vsphere_profile(where, spelling):
    """vSphere's profile string (``grid_a100-3-20c``) for any catalog spelling; PlanError naming the input."""
    text = str(spelling).strip()
    if not 1 <= len(text) <= MAX_STRING_LENGTH:
        raise PlanError('%s.vgpu_profile must be 1 to %d characters long (CAPV v1beta2 schema)' % (where, MAX_STRING_LENGTH))
    try:
        vtype = vgpu.parse(text)
    except vgpu.VgpuError as exc:
        raise PlanError('%s.vgpu_profile %r is not a vGPU type of the catalog: %s' % (where, spelling, exc),
                        vgpu_profile=str(spelling))
    return vtype.names()['vsphere']


def webhook_causes(spec):
    """CAPV's ValidateCreate rules for a VSphereMachineTemplate ``spec.template.spec``: a list of
    ``(field, message)``, empty when the API server would admit it [S10]."""
    causes = []
    base = 'spec.template.spec'
    devices = spec.get('pciDevices') or []
    if len(devices) > MAX_PCI_DEVICES:
        causes.append(('%s.pciDevices' % base, 'must have at most %d items (has %d)' % (MAX_PCI_DEVICES, len(devices))))
    for index, device in enumerate(devices):
        profile = device.get('vGPUProfile') or ''
        has_device, has_vendor = device.get('deviceId') is not None, device.get('vendorId') is not None
        if not ((profile and not has_device and not has_vendor) or (not profile and has_device and has_vendor)):
            causes.append(('%s.pciDevices[%d]' % (base, index), WEBHOOK_PCI_MESSAGE))
        for key in ('vGPUProfile', 'customLabel'):
            if key in device and not 1 <= len(str(device[key])) <= MAX_STRING_LENGTH:
                causes.append(('%s.pciDevices[%d].%s' % (base, index, key), 'must be 1 to %d characters' % MAX_STRING_LENGTH))
    version = spec.get('hardwareVersion')
    if version and not HARDWARE_VERSION.match(str(version)):
        causes.append(('%s.hardwareVersion' % base, 'should be a valid VM hardware version, example vmx-17'))
    if spec.get('providerID'):
        causes.append(('%s.providerID' % base, 'cannot be set in templates'))
    for index, device in enumerate((spec.get('network') or {}).get('devices') or []):
        if device.get('ipAddrs'):
            causes.append(('%s.network.devices[%d].ipAddrs' % (base, index), 'cannot be set in templates'))
    return causes


VMX_KEY = re.compile(r'^[A-Za-z][A-Za-z0-9_.:-]*$')
DNS_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
API_VERSION = re.compile(r'^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$')


def vmx_value(key, value):
    """customVMXKeys is a map of strings; booleans become TRUE/FALSE as .vmx files write them. PlanError naming
    custom_vmx_keys.KEY for a key that is not a .vmx option name or a value that is not one line."""
    if not isinstance(key, str) or not VMX_KEY.match(key):
        raise PlanError('custom_vmx_keys key %r is not a .vmx option name (letters, digits, ".", "_", ":" or "-", for '
                        'example pciPassthru.use64bitMMIO)' % (key,))
    if isinstance(value, bool):
        return 'TRUE' if value else 'FALSE'
    if value is None or isinstance(value, (dict, list)):
        raise PlanError('custom_vmx_keys.%s must be a string, number or boolean, not %r' % (key, value))
    if '\n' in str(value) or '\r' in str(value) or '"' in str(value):
        raise PlanError('custom_vmx_keys.%s %r cannot hold a line break or a double quote (one .vmx line)' % (key, value))
    return str(value)


def check_name(option, value):
    """PlanError unless ``value`` is a Kubernetes object name (a DNS subdomain, at most 253 characters)."""
    if value is not None and (not isinstance(value, str) or len(value) > 253 or not DNS_SUBDOMAIN.match(value)):
        raise PlanError('%s %r is not a Kubernetes object name: lower-case letters, digits, "-" and ".", starting and '
                        'ending with a letter or digit, at most 253 characters' % (option, value))


def hardware_number(version):
    match = re.match(r'^vmx-(\d+)$', str(version or ''))
    return int(match.group(1)) if match else None


def desired_spec(source_spec, devices, hardware_version=None, custom_vmx_keys=None):
    """The source's ``spec.template.spec`` with ``pciDevices`` replaced and the optional settings applied."""
    spec = copy.deepcopy(source_spec)
    if devices:
        spec['pciDevices'] = devices
    else:
        spec.pop('pciDevices', None)
    if hardware_version is not None:
        spec['hardwareVersion'] = hardware_version
    if custom_vmx_keys:
        keys = dict(spec.get('customVMXKeys') or {})
        for key, value in custom_vmx_keys.items():
            keys[str(key)] = vmx_value(key, value)
        spec['customVMXKeys'] = keys
    return spec


def spec_hash(spec):
    """A short stable hash of a ``spec.template.spec`` (sorted-key JSON, SHA-256)."""
    text = json.dumps(spec, sort_keys=True, separators=(',', ':'))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:HASH_LENGTH]


def base_name(source_name):
    """The name a generated template is derived from: ``workers-gpu-0123abcd45`` -> ``workers``."""
    match = GENERATED_SUFFIX.match(source_name)
    return match.group('base') if match else source_name


def template_name(source_name, spec):
    """``<source>-gpu-<hash of spec>``, the source part shortened so the name stays a DNS label."""
    suffix = '-gpu-' + spec_hash(spec)
    base = base_name(source_name)[:NAME_LIMIT - len(suffix)].rstrip('-.')
    return base + suffix


def new_template(source, name, spec):
    """The new VSphereMachineTemplate object: the source's metadata (labels, annotations, owners) and spec with
    ``spec.template.spec`` replaced; server-set fields and status dropped; the source named in an annotation."""
    body = copy.deepcopy(source)
    body.pop('status', None)
    meta = body.setdefault('metadata', {})
    for field in SERVER_FIELDS:
        meta.pop(field, None)
    annotations = dict((k, v) for k, v in (meta.get('annotations') or {}).items() if k not in DROPPED_ANNOTATIONS)
    annotations[SOURCE_ANNOTATION] = base_name(source['metadata']['name'])
    meta['annotations'] = annotations
    meta['name'] = name
    body['spec']['template']['spec'] = spec
    return body


def template_spec(obj):
    """``spec.template.spec`` of a VSphereMachineTemplate ({} when missing)."""
    return ((obj.get('spec') or {}).get('template') or {}).get('spec') or {}


def infrastructure_ref(deployment):
    """``spec.template.spec.infrastructureRef`` of a MachineDeployment ({} when missing or no deployment)."""
    return template_spec(deployment or {}).get('infrastructureRef') or {}


def _device_warnings(devices, spec):
    """Hints that do not block: unknown NVIDIA device ids, large-BAR passthrough GPUs without 64-bit MMIO keys,
    and Dynamic DirectPath I/O on a template that does not say its hardware version."""
    warnings = []
    total_bar_gb = 0
    for index, device in enumerate(devices):
        if 'deviceId' not in device:
            continue
        if device['vendorId'] == pci.NVIDIA_VENDOR_ID:
            models = vgpu.gpu_models(device['deviceId'])
            if not models:
                warnings.append('%s: NVIDIA device id %d (0x%04x) is not a GPU of the catalog; check it against the '
                                'host\'s PCI devices' % (_where(index), device['deviceId'], device['deviceId']))
            else:
                total_bar_gb += max(m.framebuffer_gb for m in models)
    keys = spec.get('customVMXKeys') or {}
    if total_bar_gb > LARGE_BAR_MIN_GB and str(keys.get('pciPassthru.use64bitMMIO', '')).upper() != 'TRUE':
        warnings.append('the passthrough GPU(s) have %d GB of framebuffer: large-BAR GPUs need custom_vmx_keys '
                        'pciPassthru.use64bitMMIO: "TRUE" and pciPassthru.64bitMMIOSizeGB: "%d", EFI firmware and '
                        '"Above 4G decoding" in the host BIOS' % (total_bar_gb, mmio_size_gb(total_bar_gb)))
    if any('deviceId' in d for d in devices) and not spec.get('hardwareVersion'):
        warnings.append('Dynamic DirectPath I/O needs virtual hardware vmx-17 or later: make sure the VM template '
                        '(OVA) is vmx-17+, or set hardware_version')
    return warnings


def check_deployment(deployment, namespace, source_name, target_name, templates_from_source):
    """Refuse to repoint a MachineDeployment that does not use the source (or a template made from it)."""
    name = deployment['metadata']['name']
    ref = infrastructure_ref(deployment)
    kind = ref.get('kind')
    if kind != TEMPLATE_KIND:
        raise PlanError('MachineDeployment %s/%s takes its machines from a %s, not a %s: it is not a CAPV deployment '
                        '(nothing was changed)' % (namespace, name, kind or 'missing infrastructureRef', TEMPLATE_KIND),
                        machine_deployment=name)
    current = ref.get('name')
    if current not in (source_name, target_name) and current not in templates_from_source:
        raise PlanError('MachineDeployment %s/%s uses VSphereMachineTemplate %s, not %s (nor a GPU template made from '
                        'it): pass name=%s to change the template it uses (nothing was changed)'
                        % (namespace, name, current, source_name, current),
                        machine_deployment=name, infrastructure_ref=ref)
    return ref


class TemplateRequest(object):
    """The module's options, validated and normalised (PlanError on the first bad item)."""

    def __init__(self, namespace, name, pci_devices, hardware_version=None, custom_vmx_keys=None, machine_deployment=None):
        for option, value in (('namespace', namespace), ('name', name), ('machine_deployment', machine_deployment)):
            check_name(option, value)
        self.namespace = namespace
        self.name = name
        if pci_devices is None:
            raise PlanError('pci_devices is required: list the vGPU profiles or PCI devices the machines get ([] for none)')
        if len(pci_devices) > MAX_PCI_DEVICES:
            raise PlanError('pci_devices has %d items; CAPV allows at most %d (v1beta2 schema)' % (len(pci_devices), MAX_PCI_DEVICES))
        self.devices = [normalise_device(i, item or {}) for i, item in enumerate(pci_devices)]
        check_vm_vgpus([d['vGPUProfile'] for d in self.devices if d.get('vGPUProfile')], 'VSphereMachineTemplate %s/%s' % (namespace, name))
        if custom_vmx_keys is not None and not isinstance(custom_vmx_keys, dict):
            raise PlanError('custom_vmx_keys %r is not a mapping of .vmx option names to values' % (custom_vmx_keys,))
        if hardware_version is not None and not HARDWARE_VERSION.match(hardware_version):
            raise PlanError('hardware_version %r is not a VM hardware version: CAPV wants vmx-N, for example vmx-17'
                            % (hardware_version,))
        self.hardware_version = hardware_version
        self.custom_vmx_keys = dict((str(k), vmx_value(k, v)) for k, v in (custom_vmx_keys or {}).items())
        self.machine_deployment = machine_deployment


def plan_template(request, source, existing, deployment, writer, templates_from_source=()):
    """Plan the new template (and the MachineDeployment rollout).

    ``source``: the source VSphereMachineTemplate (None: PlanError); ``existing``: the object already named like
    the result, or None; ``deployment``: the MachineDeployment or None; ``templates_from_source``: names of
    templates this module made from the same source before (annotation). ``writer`` has
    ``create(body)``, ``delete(name)`` and ``point(deployment, template_name, expected_current)``.
    Returns ``(Plan, template_name, resulting spec)``.
    """
    where = 'VSphereMachineTemplate %s/%s' % (request.namespace, request.name)
    if source is None:
        raise PlanError('%s not found: give the name of the existing template to copy (nothing was changed)' % where)
    if request.machine_deployment and deployment is None:
        raise PlanError('MachineDeployment %s/%s not found (nothing was changed)' % (request.namespace, request.machine_deployment))
    source_spec = template_spec(source)
    spec = desired_spec(source_spec, request.devices, request.hardware_version, request.custom_vmx_keys)
    causes = webhook_causes(spec)
    if causes:
        raise PlanError('CAPV\'s webhook would refuse the new template (copied from %s): %s (nothing was changed)'
                        % (where, '; '.join('%s: %s' % c for c in causes)), causes=['%s: %s' % c for c in causes])
    version = hardware_number(spec.get('hardwareVersion'))
    if version is not None and version < DYNAMIC_DIRECTPATH_MIN_VERSION and any('deviceId' in d for d in request.devices):
        raise PlanError('%s has hardwareVersion %s, too old for Dynamic DirectPath I/O: set hardware_version to vmx-%d '
                        'or later' % (where, spec['hardwareVersion'], DYNAMIC_DIRECTPATH_MIN_VERSION))
    plan = Plan(warnings=_device_warnings(request.devices, spec))
    if spec == source_spec:
        name = request.name
    else:
        name = template_name(request.name, spec)
        if existing is not None and template_spec(existing) != spec:
            raise PlanError('VSphereMachineTemplate %s/%s already exists with a different spec.template.spec; it was not '
                            'made by this module from %s with these settings: delete it or rename it (nothing was changed)'
                            % (request.namespace, name, request.name), template_name=name)
        if existing is None:
            body = new_template(source, name, spec)
            plan.add('create', 'VSphereMachineTemplate/%s/%s' % (request.namespace, name), before=None,
                     after={'spec.template.spec': spec}, apply=lambda: writer.create(body),
                     undo=lambda: writer.delete(name), details={'copied_from': request.name})
    if deployment is not None:
        ref = check_deployment(deployment, request.namespace, request.name, name, templates_from_source)
        if ref.get('name') != name:
            old = ref.get('name')
            plan.add('update', 'MachineDeployment/%s/%s' % (request.namespace, request.machine_deployment),
                     before={'infrastructureRef': {'kind': TEMPLATE_KIND, 'name': old}},
                     after={'infrastructureRef': {'kind': TEMPLATE_KIND, 'name': name}},
                     apply=lambda: writer.point(request.machine_deployment, name, old),
                     undo=lambda: writer.point(request.machine_deployment, old, name),
                     details={'rollout': True, 'from_template': old, 'to_template': name})
    return plan, name, spec
