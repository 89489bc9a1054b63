# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The capacity report's model: the info modules' facts turned into sites, hosts and GPUs with their vGPUs.

Pure, no I/O, Python 3.8+. Input (the shapes of the project's stable interface, extra keys tolerated)::

    {'vsphere': <vsphere_gpu_info result> | [<result>, ...] | None,
     'hosts': {<inventory name>: <host_gpu_info result> | <failed/unreachable task result> | <error text>},
     'kubernetes': <k8s_gpu_info result> | [<result>, ...] | None}

What still fits on a GPU comes from the vGPU catalog (``vgpu.remaining``), the same answer the
``gpuvirt.core.vgpu_fits`` filter gives in users' playbooks. Facts behind each interpretation (reference facts):

* KVM: vGPUs are mdevs (legacy GPUs on the PF, SR-IOV GPUs one per VF) or vendor-VFIO VFs; a GPU bound to
  ``vfio-pci`` is given whole to a VM (passthrough); SR-IOV GPUs need ``sriov-manage`` after every boot before
  vGPUs can exist (section 2); the name of a vendor-VFIO vGPU may be unreadable (section 3).
* vSphere: a GPU offers vGPUs only in Shared Direct (``sharedDirect``); ``shared`` is vSGA; passthrough takes
  effect when ``passthruActive`` follows ``passthruEnabled`` (after a reboot unless applied now); a VM holds its
  vGPUs only while powered on (section 8, [S1 section 2.9]).
* Kubernetes: the GPU Operator advertises ``nvidia.com/<type>`` (vGPU) or the passthrough resource; the
  ``nvidia.com/vgpu.config.state`` label goes pending -> success | failed; KubeVirt permits resources through
  ``permittedHostDevices``; guest licensing comes from ``driver.licensingConfig`` (sections 5-7).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import (
    VgpuError,
    check_fit,
    gpu_model,
    gpu_models,
    parse,
    remaining,
)

NVIDIA_VENDOR_ID = 0x10DE
NVIDIA_RESOURCE_PREFIX = 'nvidia.com/'
CONTAINER_RESOURCE = 'nvidia.com/gpu'  # the GPU Operator's device plugin for containers; KubeVirt does not use it
MIXED_SIZE_HINTS = ('mixedsize', 'mixed-size', 'mixed_size', 'mixed')

# GPU states shown in the report
VGPU = 'vgpu'                  # offers vGPUs (may be empty)
PASSTHROUGH = 'passthrough'    # given whole to one VM
NOT_READY = 'not-ready'        # a vGPU-capable GPU that cannot hold vGPUs yet (VFs not enabled, vSGA, basic)
UNKNOWN = 'unknown'
SITE_NAMES = {'vsphere': 'vSphere', 'kvm': 'KVM hosts', 'kubernetes': 'Kubernetes'}


class ReportError(ValueError):
    """The facts handed to the report cannot be read (wrong type at the top level)."""


# ----------------------------------------------------------------------------------------------------------
# small helpers

def _is_failed(result):
    """A task result that carries no facts: failed, unreachable, skipped, or a bare error text."""
    if result is None:
        return 'no facts were gathered'
    if isinstance(result, str):
        return result or 'failed'
    if not isinstance(result, dict):
        return 'unreadable facts (%s)' % type(result).__name__
    if result.get('unreachable'):
        return 'unreachable: %s' % (result.get('msg') or 'no answer')
    if result.get('failed'):
        return result.get('msg') or 'the info module failed'
    if result.get('skipped'):
        return 'skipped: %s' % (result.get('skip_reason') or result.get('msg') or 'no reason given')
    return None


def _as_int(value, default=None):
    """Integers from ints, decimal strings, hex strings ('0x10de', '10de') and Kubernetes quantities ('4')."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if re.match(r'^[0-9]+$', text):
            return int(text)
        if re.match(r'^(0x)?[0-9a-fA-F]+$', text):
            return int(text, 16)
    return default


def _hex_id(value):
    """A PCI id as four lower-case hex digits, or '' when unknown. Strings are hex (sysfs), ints are ids."""
    if isinstance(value, bool) or value is None:
        return ''
    if isinstance(value, int):
        return '%04x' % (value & 0xFFFF)
    text = str(value).strip().lower()
    if text.startswith('0x'):
        text = text[2:]
    return text if re.match(r'^[0-9a-f]{1,4}$', text) else ''


def _vendor_is_nvidia(value):
    if value is None or value == '':
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return value == NVIDIA_VENDOR_ID
    return _hex_id(value) == '10de'


def _parse_type(spelling):
    """VgpuType for a vGPU type spelling, or None when it is not a type name the catalog understands."""
    if not spelling or not isinstance(spelling, str):
        return None
    try:
        vtype = parse(spelling, strict=False)
    except VgpuError:
        return None
    return vtype


def _model_for(device_id, type_names=(), token=None):
    """(GpuModel or None, note). The info module's catalog token or the vGPU type names decide first (A2 and A16
    share a PCI id), then the PCI id."""
    tokens = [token] if token else []
    for name in type_names:
        vtype = _parse_type(name)
        if vtype is not None:
            tokens.append(vtype.gpu)
    for candidate in tokens:
        try:
            model = gpu_model(candidate)
        except VgpuError:
            continue
        if not device_id or _hex_id(device_id) in model.device_ids_hex or isinstance(device_id, int) and device_id in model.device_ids:
            return model, None
    if device_id in (None, ''):
        return None, 'the GPU model is not known (no PCI device id)'
    candidates = gpu_models(device_id if isinstance(device_id, int) else _hex_id(device_id) or str(device_id))
    if len(candidates) == 1:
        return candidates[0], None
    if candidates:
        return None, 'PCI device %s is %s; the report cannot tell which' % (_hex_id(device_id), ' or '.join(m.name for m in candidates))
    return None, 'PCI device %s is not in the vGPU catalog' % (_hex_id(device_id) or device_id)


def _counts(type_names):
    counts = {}
    for name in type_names:
        counts[name] = counts.get(name, 0) + 1
    return counts


def _mixed_size(raw):
    if raw.get('mixed_size') is True:
        return True
    mode = raw.get('vgpu_mode')
    return isinstance(mode, str) and mode.replace(' ', '').lower() in MIXED_SIZE_HINTS


# ----------------------------------------------------------------------------------------------------------
# one GPU

def new_gpu(gpu_id, model, state, description=''):
    return {
        'id': gpu_id,
        'model': model.name if model is not None else None,
        'description': description or (model.description if model is not None else 'unknown GPU'),
        'framebuffer_mib': model.framebuffer_mib if model is not None else None,
        'state': state,
        'mixed_size': False,
        'mig': False,
        'vgpus': [],             # [{'id', 'type', 'in_use', 'vm'}]; type None when unreadable
        'used': {},              # {canonical: count}
        'fits': {},              # catalog: {canonical: how many more}
        'capacity_known': False,
        'full': False,
        'slots': None,           # {'used', 'total'} when one type size is in use (equal-size or MIG slots)
        'segments': [],          # the bar: [{'kind': used|free|spare|passthrough|blocked, 'type', 'share', 'label'}]
        'passthrough': None,     # {'capable', 'enabled', 'active'} where known
        'assigned_to': [],       # VMs holding the GPU in passthrough
        'reboot_pending': False,
        'notes': [],
    }


def _finish_capacity(gpu, model):
    """Fill used/fits/full/slots/segments of a vGPU-mode GPU from its vGPUs and the catalog."""
    types = [v['type'] for v in gpu['vgpus']]
    gpu['used'] = _counts([t for t in types if t])
    if model is None:
        gpu['notes'].append('free capacity unknown: the GPU is not in the vGPU catalog')
        _segments_unknown(gpu)
        return
    if any(t is None for t in types):
        gpu['notes'].append('free capacity unknown: the type of %d vGPU(s) could not be read' % types.count(None))
        _segments_unknown(gpu)
        return
    parsed = [parse(t, strict=False) for t in types]
    gpu['mig'] = any(v.mig for v in parsed)
    fit = check_fit(model, gpu['used'], mixed_size=gpu['mixed_size'])
    if not fit.ok:
        gpu['notes'].append('the existing vGPUs break the placement rules: %s' % '; '.join(fit.reasons))
        _segments_unknown(gpu)
        return
    gpu['capacity_known'] = True
    if gpu['state'] == VGPU:
        gpu['fits'] = remaining(model, gpu['used'], mixed_size=gpu['mixed_size'])
    else:
        gpu['fits'] = {}
    gpu['full'] = gpu['state'] == VGPU and not gpu['fits']
    _segments(gpu, model, parsed)


def _share(model, vtype):
    if vtype.mig:
        profile = model.mig_profile(vtype)
        return float(profile.memory_slices) / model.memory_slices
    return float(vtype.framebuffer_mib) / model.framebuffer_mib


def _segments(gpu, model, parsed):
    """The bar: one segment per vGPU (its share of framebuffer, or of memory slices when MIG-backed), then free
    slots, then what cannot be allocated (e.g. the 32-vGPU limit on a 48 GB GPU)."""
    segments = []
    for vtype, vgpu in sorted(zip(parsed, gpu['vgpus']), key=lambda pair: (pair[0].canonical, str(pair[1]['id']))):
        segments.append({'kind': 'used', 'type': vtype.canonical, 'share': _share(model, vtype), 'in_use': vgpu['in_use'],
                         'label': '%s (%s)' % (vtype.canonical, vgpu['vm']) if vgpu.get('vm') else vtype.canonical})
    used_share = sum(s['share'] for s in segments)
    if gpu['state'] != VGPU:
        pass  # not offering vGPUs: no free slots to draw; the caller draws the whole bar
    elif not parsed:
        segments.append({'kind': 'free', 'type': None, 'share': 1.0, 'label': 'free: no vGPUs yet'})
        used_share = 1.0
    elif gpu['mig'] or gpu['mixed_size']:
        free = 1.0 - used_share
        if free > 1e-6 and gpu['fits']:
            unit = 'memory slices' if gpu['mig'] else 'MiB'
            amount = int(round(free * (model.memory_slices if gpu['mig'] else model.framebuffer_mib)))
            segments.append({'kind': 'free', 'type': None, 'share': free, 'label': 'free: %d %s' % (amount, unit)})
            used_share = 1.0
    else:
        common = _counts([v.canonical for v in parsed])
        first = next(v for v in parsed if common[v.canonical] == max(common.values()))
        more = gpu['fits'].get(first.canonical, 0)
        for _index in range(more):
            segments.append({'kind': 'free', 'type': first.canonical, 'share': _share(model, first), 'label': 'free %s slot' % first.canonical})
        used_share += more * _share(model, first)
        gpu['slots'] = {'used': len(parsed), 'total': len(parsed) + more}
    if gpu['mig'] and parsed:
        gpu['slots'] = {'used': sum(model.mig_profile(v).memory_slices for v in parsed), 'total': model.memory_slices, 'unit': 'memory slices'}
    spare = 1.0 - used_share
    if spare > 1e-6:
        why = 'not allocatable with the vGPUs present' if gpu['state'] == VGPU else 'not offered as vGPUs'
        segments.append({'kind': 'spare', 'type': None, 'share': spare, 'label': why})
    gpu['segments'] = segments


def _segments_unknown(gpu):
    count = len(gpu['vgpus'])
    gpu['segments'] = [{'kind': 'blocked', 'type': None, 'share': 1.0,
                        'label': '%d vGPU(s), free capacity unknown' % count if count else 'free capacity unknown'}]


def _whole_gpu(gpu, kind, label):
    gpu['segments'] = [{'kind': kind, 'type': None, 'share': 1.0, 'label': label}]


# ----------------------------------------------------------------------------------------------------------
# KVM hosts (host_gpu_info)

def _kvm_vgpu_type(vgpu, types_by_id):
    for candidate in (vgpu.get('type_name'), types_by_id.get(str(vgpu.get('type_id')))):
        vtype = _parse_type(candidate)
        if vtype is not None:
            return vtype.canonical
    return None


def kvm_gpu(raw):
    """One entry of host_gpu_info's ``gpus`` -> report GPU."""
    vgpu_types = [t for t in raw.get('vgpu_types') or [] if isinstance(t, dict)]
    vgpus = [v for v in raw.get('vgpus') or [] if isinstance(v, dict)]
    names = [v.get('type_name') for v in vgpus] + [t.get('name') for t in vgpu_types]
    model, why = _model_for(raw.get('device_id'), [n for n in names if n], raw.get('model'))
    driver = raw.get('driver') or ''
    backend = raw.get('vgpu_backend') or 'none'
    sriov = raw.get('sriov') or {}
    total_vfs, num_vfs = _as_int(sriov.get('total_vfs'), 0), _as_int(sriov.get('num_vfs'), 0)
    if driver == 'vfio-pci':
        state = PASSTHROUGH
    elif vgpus or backend in ('mdev', 'vendor_vfio'):
        state = VGPU
    elif model is not None or total_vfs:
        state = NOT_READY
    else:
        state = UNKNOWN
    gpu = new_gpu(raw.get('address') or '?', model, state)
    gpu['driver'] = driver or None
    gpu['backend'] = backend
    gpu['mixed_size'] = _mixed_size(raw)
    if why:
        gpu['notes'].append(why)
    types_by_id = dict((str(t.get('id')), t.get('name')) for t in vgpu_types)
    for vgpu in sorted(vgpus, key=lambda v: str(v.get('id'))):
        gpu['vgpus'].append({'id': vgpu.get('id'), 'type': _kvm_vgpu_type(vgpu, types_by_id), 'in_use': bool(vgpu.get('in_use')),
                             'vm': vgpu.get('vm') or None, 'parent': vgpu.get('parent')})
    if state == PASSTHROUGH:
        gpu['passthrough'] = {'capable': True, 'enabled': True, 'active': True}
        holder = raw.get('vm') or ('a running VM' if raw.get('in_use') else None)
        _whole_gpu(gpu, 'passthrough', 'passthrough: bound to vfio-pci, %s' % ('used by %s' % holder if holder else 'no running VM holds it'))
        if raw.get('vm'):
            gpu['assigned_to'].append(str(raw['vm']))
        gpu['capacity_known'] = True
        return gpu
    if state == NOT_READY:
        if total_vfs and not num_vfs:
            gpu['notes'].append('SR-IOV virtual functions are not enabled (%d available): run sriov-manage -e %s before creating vGPUs; '
                                'they vanish on every reboot' % (total_vfs, gpu['id']))
        elif driver != 'nvidia':
            gpu['notes'].append('bound to %s, not to the NVIDIA host driver: no vGPUs possible' % (driver or 'no driver'))
        else:
            gpu['notes'].append('the NVIDIA host driver offers no vGPU types on this GPU')
        _finish_capacity(gpu, model)
        _whole_gpu(gpu, 'blocked', 'no vGPUs possible yet')
        return gpu
    _finish_capacity(gpu, model)
    _compare_with_driver(gpu, vgpu_types)
    return gpu


def _compare_with_driver(gpu, vgpu_types):
    """Note where the driver's ``available_instances`` and the catalog's answer differ (a catalog gap, or a driver
    that places differently): the report shows the catalog's answer and says what the driver offers."""
    if not gpu['capacity_known'] or gpu['state'] != VGPU:
        return
    offered = {}
    for entry in vgpu_types:
        vtype = _parse_type(entry.get('name'))
        count = _as_int(entry.get('available_instances'))
        if vtype is not None and count is not None:
            offered[vtype.canonical] = count
    differ = ['%s: driver %d, catalog %d' % (name, count, gpu['fits'].get(name, 0))
              for name, count in sorted(offered.items()) if count != gpu['fits'].get(name, 0)]
    if differ:
        gpu['driver_differs'] = True
        gpu['notes'].append('the host driver offers other counts than the catalog (%s); the driver decides' % '; '.join(differ))


def kvm_host(name, result):
    error = _is_failed(result)
    host = {'name': name, 'kind': 'kvm', 'error': error, 'gpus': [], 'notes': [], 'reboot_pending': False,
            'licence': None, 'unplaced': [], 'powered_off': []}
    if error:
        return host
    if 'gpus' not in result:
        host['error'] = 'the result has no "gpus" key: not a host_gpu_info result'
        return host
    raw_gpus = [g for g in result.get('gpus') or [] if isinstance(g, dict)]
    virtual = set(g.get('address') for g in raw_gpus if g.get('physfn'))
    for raw in sorted(raw_gpus, key=lambda g: str(g.get('address'))):
        if raw.get('address') in virtual or not _vendor_is_nvidia(raw.get('vendor_id')):
            continue
        host['gpus'].append(kvm_gpu(raw))
    host['reboot_pending'] = bool(result.get('reboot_required'))
    if host['reboot_pending']:
        host['notes'].append('the host reports that a reboot is required')
    return host


# ----------------------------------------------------------------------------------------------------------
# vSphere (vsphere_gpu_info)

def _powered_on(vm):
    return str(vm.get('power_state') or '').lower().replace('_', '') in ('poweredon', 'on')


def vsphere_gpu(raw, profiles):
    passthrough = raw.get('passthrough') or {}
    model, why = _model_for(raw.get('device_id'), profiles)
    graphics = raw.get('graphics_type') or ''
    active, enabled = bool(passthrough.get('active')), bool(passthrough.get('enabled'))
    if active:
        state = PASSTHROUGH
    elif graphics == 'sharedDirect':
        state = VGPU
    elif model is not None:
        state = NOT_READY
    else:
        state = UNKNOWN
    gpu = new_gpu(raw.get('id') or '?', model, state, raw.get('device_name') or '')
    gpu['graphics_type'] = graphics or None
    gpu['mixed_size'] = _mixed_size(raw)
    gpu['passthrough'] = {'capable': bool(passthrough.get('capable')), 'enabled': enabled, 'active': active}
    gpu['vm_names'] = [str(v) for v in raw.get('vms') or []] if isinstance(raw.get('vms'), list) else None
    if why:
        gpu['notes'].append(why)
    if enabled != active:
        gpu['reboot_pending'] = True
        gpu['notes'].append('passthrough %s: takes effect after a host reboot' % ('enabled' if enabled else 'disabled'))
    if raw.get('reboot_required'):
        gpu['reboot_pending'] = True
    if state == NOT_READY:
        if graphics == 'shared':
            gpu['notes'].append('graphics type Shared (vSGA): set Shared Direct for vGPUs, then reboot or restart nv-hostengine')
        else:
            gpu['notes'].append('graphics type %s: not offering vGPUs (needs Shared Direct)' % (graphics or 'unknown'))
    return gpu


def _place(gpus, vtype, policy):
    """The GPU vSphere would give this vGPU: consolidation fills a GPU first, performance picks the least used."""
    candidates = []
    for gpu in gpus:
        if gpu['model'] is None or gpu['model'].upper() != vtype.gpu.upper():
            continue
        used = [v['type'] for v in gpu['vgpus']] + [vtype.canonical]
        if check_fit(gpu['model'], used, mixed_size=gpu['mixed_size']).ok:
            candidates.append(gpu)
    if not candidates:
        return None
    if policy == 'consolidation':
        return candidates[0]
    return min(candidates, key=lambda g: len(g['vgpus']))


def vsphere_host(raw, vms):
    name = raw.get('name') or '?'
    profiles = [p for p in raw.get('vgpu_profiles') or [] if isinstance(p, str)]
    graphics = raw.get('graphics') or {}
    host = {'name': name, 'kind': 'vsphere', 'error': None, 'gpus': [], 'notes': [], 'licence': None,
            'reboot_pending': bool(raw.get('reboot_required')), 'unplaced': [], 'powered_off': [],
            'graphics': {'default_type': graphics.get('default_type'), 'assignment_policy': graphics.get('assignment_policy')},
            'cluster': raw.get('cluster'), 'datacenter': raw.get('datacenter')}
    if host['reboot_pending']:
        host['notes'].append('the host reports that a reboot is required')
    if raw.get('graphics_restart_required'):
        host['reboot_pending'] = True
        host['notes'].append('a graphics setting is not active yet: reboot the host or restart nv-hostengine')
    if graphics.get('default_type') and graphics.get('default_type') != 'sharedDirect':
        host['notes'].append('host default graphics type is %s, not Shared Direct: new vGPU VMs may fail to power on' % graphics.get('default_type'))
    for raw_gpu in sorted([g for g in raw.get('gpus') or [] if isinstance(g, dict)], key=lambda g: str(g.get('id'))):
        if _vendor_is_nvidia(raw_gpu.get('vendor_id')):
            host['gpus'].append(vsphere_gpu(raw_gpu, profiles))
    host['reboot_pending'] = host['reboot_pending'] or any(g['reboot_pending'] for g in host['gpus'])
    _attach_vms(host, vms, graphics.get('assignment_policy') or 'performance')
    for gpu in host['gpus']:
        if gpu['state'] == PASSTHROUGH:
            holders = ', '.join(gpu['assigned_to'])
            _whole_gpu(gpu, 'passthrough', 'passthrough: %s' % holders if holders else 'passthrough: no powered-on VM holds it')
            gpu['capacity_known'] = True
            continue
        _finish_capacity(gpu, gpu['model'] and gpu_model(gpu['model']))
        if gpu['state'] == NOT_READY:
            _whole_gpu(gpu, 'blocked', 'no vGPUs possible: %s' % (gpu.get('graphics_type') or 'not Shared Direct'))
    return host


def _attach_vms(host, vms, policy):
    """Give each powered-on VM's vGPUs and passthrough devices to this host's GPUs."""
    by_name = dict((_pci_address(g['id']), g) for g in host['gpus'])
    vgpu_gpus = [g for g in host['gpus'] if g['state'] == VGPU]
    listed = {}
    for gpu in vgpu_gpus:
        for vm_name in gpu.get('vm_names') or []:
            listed.setdefault(vm_name, []).append(gpu)
    estimated = False
    for vm in sorted(vms, key=lambda v: str(v.get('name'))):
        vm_name = str(vm.get('name') or '?')
        vm_profiles = [p for p in vm.get('vgpu_profiles') or [] if isinstance(p, str)]
        devices = [d for d in vm.get('passthrough_devices') or [] if isinstance(d, dict)]
        if not _powered_on(vm):
            if vm_profiles or devices:
                host['powered_off'].append({'vm': vm_name, 'vgpu_profiles': vm_profiles, 'passthrough_devices': len(devices)})
            continue
        for profile in vm_profiles:
            vtype = _parse_type(profile)
            target = None
            if vm_name in listed:  # vSphere named the GPU(s): keep to them, spreading several vGPUs over them
                target = (_place(listed[vm_name], vtype, 'consolidation') if vtype is not None else None) or listed[vm_name][0]
            elif vtype is not None:
                target = _place(vgpu_gpus, vtype, policy)
                estimated = estimated or target is not None
            if target is None:
                host['unplaced'].append({'vm': vm_name, 'profile': profile})
                continue
            target['vgpus'].append({'id': '%s/%s' % (vm_name, profile), 'type': vtype.canonical if vtype else None,
                                    'in_use': True, 'vm': vm_name})
        for device in devices:
            gpu = by_name.get(_pci_address(device.get('id') or device.get('assigned_id')))
            if gpu is None:
                wanted = _hex_id(device.get('device_id'))
                gpu = next((g for g in host['gpus'] if g['state'] == PASSTHROUGH and not g['assigned_to']
                            and (not wanted or wanted in _model_ids(g))), None)
            if gpu is not None:
                gpu['assigned_to'].append(vm_name)
    if estimated:
        host['notes'].append('vSphere did not say which GPU each VM uses: vGPUs are placed by the host\'s %s policy' % policy)


def _pci_address(value):
    """'0000:3b:00.0' from '0000:3b:00.0' or '3b:00.0' (vSphere writes both forms); None when empty."""
    if not value:
        return None
    text = str(value).lower()
    return text if text.count(':') >= 2 else '0000:' + text


def _model_ids(gpu):
    if gpu['model'] is None:
        return ()
    return gpu_model(gpu['model']).device_ids_hex


def _new_site(kind, result, index, count, key, module_name):
    """A site for one info-module result; ``error`` is set when the result holds no facts (no ``key``)."""
    name = SITE_NAMES[kind] if count == 1 else '%s %d' % (SITE_NAMES[kind], index + 1)
    if isinstance(result, dict) and result.get('site'):
        name = str(result['site'])
    site = {'name': name, 'kind': kind, 'error': _is_failed(result), 'hosts': [], 'notes': []}
    if not site['error'] and key not in result:
        site['error'] = 'the result has no "%s" key: not a %s result' % (key, module_name)
    return site


def vsphere_site(result, index, count):
    site = _new_site('vsphere', result, index, count, 'hosts', 'vsphere_gpu_info')
    if site['error']:
        return site
    vms = [v for v in result.get('vms') or [] if isinstance(v, dict)]
    for raw in sorted([h for h in result.get('hosts') or [] if isinstance(h, dict)], key=lambda h: str(h.get('name'))):
        mine = [v for v in vms if v.get('host') == raw.get('name')]
        site['hosts'].append(vsphere_host(raw, mine))
    known = set(h.get('name') for h in result.get('hosts') or [] if isinstance(h, dict))
    orphans = sorted(str(v.get('name')) for v in vms if v.get('host') not in known and (v.get('vgpu_profiles') or v.get('passthrough_devices')))
    if orphans:
        site['notes'].append('GPU VMs on hosts outside this report: %s' % ', '.join(orphans))
    return site


# ----------------------------------------------------------------------------------------------------------
# Kubernetes (k8s_gpu_info)

def _nvidia_resources(mapping):
    out = {}
    for key, value in (mapping or {}).items():
        if isinstance(key, str) and key.startswith(NVIDIA_RESOURCE_PREFIX):
            out[key] = _as_int(value, 0)
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
        'gpu_count': _as_int(raw.get('gpu_count') or labels.get('nvidia.com/gpu.count')),
        'workload': raw.get('workload') or labels.get('nvidia.com/gpu.workload.config'),
        'vgpu_config': vgpu_config or labels.get('nvidia.com/vgpu.config'),
        'vgpu_config_state': state or labels.get('nvidia.com/vgpu.config.state'),
        'resources': [],
        'has_gpu': bool(capacity or allocatable or raw.get('gpu_present') or str(labels.get('nvidia.com/gpu.present', '')).lower() == 'true'),
    }
    for name in sorted(set(capacity) | set(allocatable)):
        if not capacity.get(name) and not allocatable.get(name):
            continue  # a resource a plugin stopped advertising stays at 0: not offered (seed 003)
        vtype = _parse_type(name[len(NVIDIA_RESOURCE_PREFIX):])
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
    site = _new_site('kubernetes', result, index, count, 'nodes', 'k8s_gpu_info')
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


# ----------------------------------------------------------------------------------------------------------
# the whole report

def _as_list(value):
    if value is None or value == {} or value == []:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _site_of(result):
    if isinstance(result, dict) and result.get('site'):
        return str(result['site'])
    return SITE_NAMES['kvm']


def build(facts):
    """facts -> report model (plain dicts and lists, JSON-compatible). Raises ReportError on a wrong top level."""
    facts = facts or {}
    if not isinstance(facts, dict):
        raise ReportError('the facts must be a mapping with vsphere, hosts and kubernetes keys, got %s' % type(facts).__name__)
    hosts = facts.get('hosts') or {}
    if not isinstance(hosts, dict):
        raise ReportError('hosts must map inventory host names to host_gpu_info results, got %s' % type(hosts).__name__)
    sites = []
    vsphere = _as_list(facts.get('vsphere'))
    for index, result in enumerate(vsphere):
        sites.append(vsphere_site(result, index, len(vsphere)))
    kvm_sites = {}
    for name in sorted(hosts):
        site_name = _site_of(hosts[name])
        site = kvm_sites.get(site_name)
        if site is None:
            site = kvm_sites[site_name] = {'name': site_name, 'kind': 'kvm', 'error': None, 'hosts': [], 'notes': []}
            sites.append(site)
        site['hosts'].append(kvm_host(str(name), hosts[name]))
    kubernetes = _as_list(facts.get('kubernetes'))
    for index, result in enumerate(kubernetes):
        sites.append(k8s_site(result, index, len(kubernetes)))
    return {'sites': sites, 'summary': summarize(sites)}


def summarize(sites):
    hosts = [h for s in sites for h in s['hosts']]
    gpus = [g for h in hosts for g in h['gpus']]
    vgpu_gpus = [g for g in gpus if g['state'] == VGPU]
    used, free = {}, {}
    for gpu in gpus:
        for vtype, count in gpu['used'].items():
            used[vtype] = used.get(vtype, 0) + count
        for vtype, count in gpu['fits'].items():
            free[vtype] = free.get(vtype, 0) + count
    empty = {}
    for gpu in vgpu_gpus:
        if gpu['capacity_known'] and not gpu['vgpus']:
            empty[gpu['model']] = empty.get(gpu['model'], 0) + 1
    k8s = {}
    for host in hosts:
        for resource in host.get('resources') or []:
            entry = k8s.setdefault(resource['name'], {'capacity': 0, 'allocatable': 0})
            entry['capacity'] += resource['capacity']
            entry['allocatable'] += resource['allocatable']
    return {
        'sites': len(sites),
        'sites_failed': sum(1 for s in sites if s['error']),
        'hosts': len(hosts),
        'hosts_failed': sum(1 for h in hosts if h['error']) + sum(1 for s in sites if s['error']),
        'gpus': len(gpus),
        'gpus_vgpu': len(vgpu_gpus),
        'gpus_passthrough': sum(1 for g in gpus if g['state'] == PASSTHROUGH),
        'gpus_not_ready': sum(1 for g in gpus if g['state'] in (NOT_READY, UNKNOWN)),
        'gpus_full': sum(1 for g in gpus if g['full']),
        'gpus_empty': sum(empty.values()),
        'gpus_capacity_unknown': sum(1 for g in vgpu_gpus if not g['capacity_known']),
        'empty_by_model': dict(sorted(empty.items())),
        'vgpus': sum(len(g['vgpus']) for g in gpus),
        'vgpus_by_type': dict(sorted(used.items())),
        'free_by_type': dict(sorted(free.items())),
        'reboot_pending': sum(1 for h in hosts if h['reboot_pending']),
        'unplaced_vgpus': sum(len(h['unplaced']) for h in hosts),
        'kubernetes_nodes': sum(1 for h in hosts if h['kind'] == 'kubernetes'),
        'kubernetes_resources': dict(sorted(k8s.items())),
    }


def fits_by_size(fits):
    """Group a ``fits`` mapping for display: [(count, framebuffer_mib, slices, [canonical, ...])], biggest counts first."""
    groups = {}
    for canonical, count in fits.items():
        vtype = parse(canonical, strict=False)
        groups.setdefault((count, vtype.framebuffer_mib, vtype.slices or 0), []).append(canonical)
    out = [(count, mib, slices, sorted(names)) for (count, mib, slices), names in groups.items()]
    return sorted(out, key=lambda item: (item[1], item[2], -item[0]))
