# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every part of the capacity report shares: GPU states, the report GPU and its bar, reading a task result.

Pure, no I/O. What still fits on a GPU comes from the vGPU catalog (``vgpu.remaining``), the same answer the
``gpuvirt.core.vgpu_fits`` filter gives in users' playbooks.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils import pci
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import VgpuError, check_fit, gpu_model, gpu_models, parse, remaining

MIXED_SIZE_HINTS = ('mixedsize', 'mixed-size', 'mixed_size', 'mixed')

# GPU states shown in the report
VGPU = 'vgpu'                  # offers vGPUs (may be empty)
PASSTHROUGH = 'passthrough'    # given whole to one VM
NOT_READY = 'not-ready'        # a vGPU-capable GPU that cannot hold vGPUs yet (VFs not enabled, vSGA, basic)
UNKNOWN = 'unknown'
SITE_NAMES = {'vsphere': 'vSphere', 'kvm': 'KVM hosts', 'kubernetes': 'Kubernetes'}


class ReportError(ValueError):
    """The facts handed to the report cannot be read (wrong type at the top level)."""


def is_failed(result):
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


def vendor_is_nvidia(value):
    """NVIDIA's vendor id in any spelling; a GPU whose facts give no vendor id (None or '') counts as NVIDIA."""
    return value is None or value == '' or pci.is_nvidia(value)


def parse_type(spelling):
    """VgpuType for a vGPU type spelling, or None when it is not a type name the catalog understands."""
    if not spelling or not isinstance(spelling, str):
        return None
    try:
        vtype = parse(spelling, strict=False)
    except VgpuError:
        return None
    return vtype


def model_for(device_id, type_names=(), token=None):
    """(GpuModel or None, note). The info module's catalog token or the vGPU type names decide first (A2 and A16
    share a PCI id), then the PCI id."""
    tokens = [token] if token else []
    for name in type_names:
        vtype = parse_type(name)
        if vtype is not None:
            tokens.append(vtype.gpu)
    for candidate in tokens:
        try:
            model = gpu_model(candidate)
        except VgpuError:
            continue
        if not device_id or pci.hex_id(device_id) in model.device_ids_hex or isinstance(device_id, int) and device_id in model.device_ids:
            return model, None
    if device_id in (None, ''):
        return None, 'the GPU model is not known (no PCI device id)'
    candidates = gpu_models(device_id if isinstance(device_id, int) else pci.hex_id(device_id) or str(device_id))
    if len(candidates) == 1:
        return candidates[0], None
    if candidates:
        return None, 'PCI device %s is %s; the report cannot tell which' % (pci.hex_id(device_id), ' or '.join(m.name for m in candidates))
    return None, 'PCI device %s is not in the vGPU catalog' % (pci.hex_id(device_id) or device_id)


def counts(type_names):
    counts = {}
    for name in type_names:
        counts[name] = counts.get(name, 0) + 1
    return counts


def mixed_size(raw):
    if raw.get('mixed_size') is True:
        return True
    mode = raw.get('vgpu_mode')
    return isinstance(mode, str) and mode.replace(' ', '').lower() in MIXED_SIZE_HINTS


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


def finish_capacity(gpu, model):
    """Fill used/fits/full/slots/segments of a vGPU-mode GPU from its vGPUs and the catalog."""
    types = [v['type'] for v in gpu['vgpus']]
    gpu['used'] = counts([t for t in types if t])
    if model is None:
        gpu['notes'].append('free capacity unknown: the GPU is not in the vGPU catalog')
        segments_unknown(gpu)
        return
    if any(t is None for t in types):
        gpu['notes'].append('free capacity unknown: the type of %d vGPU(s) could not be read' % types.count(None))
        segments_unknown(gpu)
        return
    parsed = [parse(t, strict=False) for t in types]
    gpu['mig'] = any(v.mig for v in parsed)
    fit = check_fit(model, gpu['used'], mixed_size=gpu['mixed_size'])
    if not fit.ok:
        gpu['notes'].append('the existing vGPUs break the placement rules: %s' % '; '.join(fit.reasons))
        segments_unknown(gpu)
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
        common = counts([v.canonical for v in parsed])
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


def segments_unknown(gpu):
    count = len(gpu['vgpus'])
    gpu['segments'] = [{'kind': 'blocked', 'type': None, 'share': 1.0,
                        'label': '%d vGPU(s), free capacity unknown' % count if count else 'free capacity unknown'}]


def whole_gpu(gpu, kind, label):
    gpu['segments'] = [{'kind': kind, 'type': None, 'share': 1.0, 'label': label}]


def new_site(kind, result, index, count, key, module_name):
    """A site for one info-module result; ``error`` is set when the result holds no facts (no ``key``)."""
    name = SITE_NAMES[kind] if count == 1 else '%s %d' % (SITE_NAMES[kind], index + 1)
    if isinstance(result, dict) and result.get('site'):
        name = str(result['site'])
    site = {'name': name, 'kind': kind, 'error': is_failed(result), 'hosts': [], 'notes': []}
    if not site['error'] and key not in result:
        site['error'] = 'the result has no "%s" key: not a %s result' % (key, module_name)
    return site
