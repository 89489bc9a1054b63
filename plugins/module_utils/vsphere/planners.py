# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planners of the vSphere GPU modules: desired vs current, all validation before the first write.

They take the records of inventory.py (plain dicts) and raise plan.PlanError when the desired state is
impossible. Facts: reference gpu-virtualization-facts.md §8 and [S1 §2.9].
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils import pci, vgpu
from ansible_collections.gpuvirt.core.plugins.module_utils.pci import NVIDIA_VENDOR_ID
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu_rules import check_vm_vgpus

RESTART_HINT = 'reboot the host, or restart nv-hostengine on it (nv-hostengine -t; nv-hostengine -d)'
DYNAMIC_DIRECTPATH_MIN_VERSION = 17
LARGE_BAR_MIN_GB = 16  # GPUs whose BAR (framebuffer) exceeds 16 GB need 64-bit MMIO above 4 GB [facts §8]


def pci_id(value, what):
    """A PCI vendor/device id (:func:`pci.parse_id`: an int, decimal as vSphere and CAPV write them, or hex digits);
    a :class:`~plan.PlanError` with the same message otherwise."""
    try:
        return pci.parse_id(value, what)
    except pci.PciIdError as exc:
        raise PlanError(str(exc))


def _gpu_list(host):
    return ', '.join('%s (%s %s)' % (g['id'], g['pci_id'], g['device_name']) for g in host['gpus']) or 'none'


# -- host graphics -------------------------------------------------------------------------------------
def graphics_state(host):
    """The configured graphics state of a host record, as the module compares and reports it."""
    graphics = host['graphics']
    return {
        'default_type': graphics['default_type'],
        'assignment_policy': graphics['assignment_policy'],
        'devices': sorted((dict(d) for d in graphics['devices']), key=lambda d: d['id']),
    }


def plan_graphics(host, default_type=None, policy=None, devices=None, vgpu_mode_supported=True):
    """Return the new configured graphics state of ``host`` or None when nothing changes.

    ``devices``: [{'id', 'graphics_type', 'vgpu_mode'}]. Refuses unknown devices, vgpu_mode on an API older
    than 8.0.3 or on a device that is not Shared Direct, and a change to a GPU that powered-on VMs use.
    """
    before = graphics_state(host)
    after = {'default_type': default_type or before['default_type'],
             'assignment_policy': policy or before['assignment_policy'],
             'devices': [dict(d) for d in before['devices']]}
    gpus = dict((g['id'], g) for g in host['gpus'])
    check_unique_devices(devices)
    for item in devices or []:
        device_id = pci.full_address(item['id'])
        if device_id not in gpus:
            raise PlanError('GPU %s not found on host %s (GPUs: %s)' % (item['id'], host['name'], _gpu_list(host)),
                            host=host['name'])
        if item.get('vgpu_mode') and not vgpu_mode_supported:
            raise PlanError('vgpu_mode needs vSphere API 8.0.3 or later (host %s): leave it unset or upgrade vCenter/ESXi'
                            % host['name'], host=host['name'])
        entry = next((d for d in after['devices'] if d['id'] == device_id), None)
        if entry is None:
            entry = {'id': device_id, 'graphics_type': None, 'vgpu_mode': None}
            after['devices'].append(entry)
        if item.get('graphics_type'):
            entry['graphics_type'] = item['graphics_type']
        if item.get('vgpu_mode'):
            entry['vgpu_mode'] = item['vgpu_mode']
        effective = entry['graphics_type'] or after['default_type']
        if entry['vgpu_mode'] and effective != 'sharedDirect':
            raise PlanError('vgpu_mode %s on GPU %s of host %s needs graphics_type sharedDirect (it is %s)'
                            % (entry['vgpu_mode'], device_id, host['name'], effective), host=host['name'])
    after['devices'].sort(key=lambda d: d['id'])
    if after == before:
        return None
    for gpu in host['gpus']:
        was = device_setting(before, gpu['id'])
        will = device_setting(after, gpu['id'])
        if was != will and gpu['vms']:
            raise PlanError('GPU %s on host %s is used by powered-on VM(s) %s: power them off (or move them) before '
                            'changing its graphics type or vGPU mode' % (gpu['id'], host['name'], ', '.join(gpu['vms'])),
                            host=host['name'], vms=gpu['vms'])
    return after


def check_unique_devices(devices, option='devices'):
    """PlanError when two items of ``devices`` name one device id (in any spelling): one would silently win."""
    seen = {}
    for index, item in enumerate(devices or []):
        if not item.get('id'):
            continue
        device_id = pci.full_address(item['id'])
        if device_id in seen:
            raise PlanError('%s[%d] and %s[%d] both name device %s (%r, %r): list each device once'
                            % (option, seen[device_id], option, index, device_id, devices[seen[device_id]]['id'], item['id']))
        seen[device_id] = index


def device_setting(state, device_id):
    """(graphics type, vgpu mode) configured for one GPU in a graphics state."""
    entry = next((d for d in state['devices'] if d['id'] == device_id), {})
    return (entry.get('graphics_type') or state['default_type'], entry.get('vgpu_mode'))


def graphics_restart_required(host, after):
    """True when the configured state ``after`` differs from what is active on the host's GPUs, or changes the shared
    passthrough assignment policy: VMware activates a new graphics type or policy on a restart of the host (or of
    nv-hostengine / Xorg) [S1 §2.9]. vSphere does not show the active policy, so a policy change is only known as
    pending in the run that makes it."""
    if after['assignment_policy'] != host['graphics']['assignment_policy']:
        return True
    for gpu in host['gpus']:
        if gpu['passthrough']['active'] or gpu['graphics_type'] is None:
            continue
        configured, _mode = device_setting(after, gpu['id'])
        if configured != gpu['graphics_type']:
            return True
    return False


# -- host passthrough --------------------------------------------------------------------------------
def match_passthrough_devices(host, item):
    """GPUs of ``host`` an item ({'id'} or {'vendor_id', 'device_id'}) names; [] when it names none there."""
    if item.get('id'):
        wanted = pci.full_address(item['id'])
        return [g for g in host['gpus'] if g['id'] == wanted]
    vendor = pci_id(item.get('vendor_id') if item.get('vendor_id') is not None else NVIDIA_VENDOR_ID, 'vendor_id')
    device = pci_id(item['device_id'], 'device_id')
    return [g for g in host['gpus'] if g['vendor_id'] == vendor and g['device_id'] == device]


def plan_passthrough(hosts, devices, apply_now=False):
    """{host name: [{'id', 'enabled', 'label', 'before' {...}}]} of the devices to change (hosts without
    changes are left out). Raises PlanError for a device found on no host, an unknown id, a device that is
    not passthrough capable, or (apply_now) a device that powered-on VMs use."""
    out = {}
    check_unique_devices(devices)
    for index, item in enumerate(devices):
        if not item.get('id') and item.get('device_id') is None:
            raise PlanError('devices[%d]: give id, or vendor_id and device_id' % index)
        matched_any = False
        for host in hosts:
            matches = match_passthrough_devices(host, item)
            if not matches:
                if item.get('id'):
                    raise PlanError('GPU %s not found on host %s (GPUs: %s)' % (item['id'], host['name'], _gpu_list(host)),
                                    host=host['name'])
                continue
            matched_any = True
            for gpu in matches:
                passthrough = gpu['passthrough']
                if item['enabled'] and not passthrough['capable']:
                    raise PlanError('GPU %s on host %s is not passthrough capable' % (gpu['id'], host['name']), host=host['name'])
                label = item.get('label')
                changes = passthrough['enabled'] != item['enabled'] or (label is not None and label != (passthrough['label'] or ''))
                if apply_now and passthrough['active'] != item['enabled']:
                    changes = True
                if not changes:
                    continue
                if apply_now and gpu['vms'] and passthrough['active'] != item['enabled']:
                    raise PlanError('GPU %s on host %s is used by powered-on VM(s) %s: it cannot be rebound now (apply_now); '
                                    'power them off first' % (gpu['id'], host['name'], ', '.join(gpu['vms'])), host=host['name'])
                out.setdefault(host['name'], []).append({
                    'id': gpu['id'], 'enabled': item['enabled'], 'label': label,
                    'before': dict(passthrough),
                })
        if not matched_any:
            raise PlanError('no GPU %s:%s on host(s) %s' % (
                '%04x' % pci_id(item.get('vendor_id') or NVIDIA_VENDOR_ID, 'vendor_id'),
                '%04x' % pci_id(item['device_id'], 'device_id'), ', '.join(h['name'] for h in hosts)))
    return out


# -- VM GPUs -----------------------------------------------------------------------------------------
def vsphere_profile(spelling, offered, host_name):
    """The host's profile string for any spelling ('grid_a10-4q', 'A10-4Q', 'NVIDIA A10-4Q')."""
    text = str(spelling).strip()
    if text in offered:
        return text
    if text.lower() in offered:
        return text.lower()
    try:
        candidate = vgpu.parse(text, strict=False).names()['vsphere']
    except vgpu.VgpuError as err:
        raise PlanError('unknown vGPU profile %r: %s. Profiles host %s offers: %s' % (spelling, err, host_name, ', '.join(offered)),
                        valid_profiles=list(offered))
    if candidate in offered:
        return candidate
    raise PlanError('vGPU profile %r is not offered by host %s. Valid profiles there: %s' % (spelling, host_name, ', '.join(offered) or 'none'),
                    valid_profiles=list(offered))


def vgpu_gpus(host):
    """The GPUs of a host record that can hold vGPUs (active in Shared Direct, not passthrough), as
    :func:`vgpu_rules.vm_vgpu_problems` takes them."""
    return [{'device_id': g['device_id'], 'mixed_size': g.get('vgpu_mode') == 'mixedSize', 'name': g['id']}
            for g in host['gpus'] if g['graphics_type'] == 'sharedDirect' and not g['passthrough']['active']]


def _gpus_for_profile(host, profile):
    try:
        model_ids = set(vgpu.gpu_model(vgpu.parse(profile, strict=False).gpu).device_ids)
    except vgpu.VgpuError:
        model_ids = None
    return [g for g in host['gpus'] if not g['passthrough']['active'] and (model_ids is None or g['device_id'] in model_ids)]


def _multiset_diff(current, desired):
    """(to_add, extra_keys): items of ``desired`` missing from ``current`` ([(item, device key)]), and the keys of
    the current devices that are not wanted (repeats count: two wanted and three present removes one)."""
    remaining = list(desired)
    extra_keys = []
    for item, key in current:
        if item in remaining:
            remaining.remove(item)
        else:
            extra_keys.append(key)
    return remaining, extra_keys


def _pt_key(item):
    return (item['vendor_id'], item['device_id'], item.get('custom_label') or '')


def mmio_size_gb(total_gb):
    """Smallest power of two >= total_gb (the common sizing of pciPassthru.64bitMMIOSizeGB) [facts §8, UNVERIFIED formula]."""
    size = 1
    while size < total_gb:
        size *= 2
    return size


def _framebuffer_gb(vendor_id, device_id):
    if vendor_id != NVIDIA_VENDOR_ID:
        return None
    models = vgpu.gpu_models(device_id)
    return max(m.framebuffer_gb for m in models) if models else None


def plan_vm_gpu(vm, host, vgpu_profiles=None, passthrough_devices=None, state='present', power_cycle=False, mmio_gb=None):
    """Plan the VM's GPU devices.

    ``vm``: {'name', 'power_state', 'version' (int), 'devices' (inventory.gpu_devices), 'memory_locked',
    'extra_config' {key: value}}; ``host``: an inventory host record. Returns None when nothing changes, else
    {'add_vgpus': [profile], 'add_passthrough': [{vendor_id, device_id, custom_label}], 'remove_keys': [key],
    'memory_locked': True|None, 'extra_config': {key: value}, 'power_cycle': bool, 'before': {...}, 'after': {...}}.
    """
    current_vgpus = [(d['profile'], d['key']) for d in vm['devices'] if d['kind'] == 'vgpu']
    current_pt = [({'vendor_id': d['allowed'][0][0] if d['allowed'] else None, 'device_id': d['allowed'][0][1] if d['allowed'] else None,
                    'custom_label': d['custom_label']}, d['key']) for d in vm['devices'] if d['kind'] == 'dynamic']
    offered = list(host['vgpu_profiles'])
    desired_vgpus = [vsphere_profile(p, offered, host['name']) for p in vgpu_profiles] if vgpu_profiles is not None else None
    desired_pt = None
    if passthrough_devices is not None:
        desired_pt = []
        for index, item in enumerate(passthrough_devices):
            if item.get('device_id') is None:
                raise PlanError('passthrough_devices[%d] needs device_id (and vendor_id, default NVIDIA 0x10de)' % index)
            desired_pt.append({'vendor_id': pci_id(item['vendor_id'] if item.get('vendor_id') is not None else NVIDIA_VENDOR_ID,
                                                   'passthrough_devices[%d].vendor_id' % index),
                               'device_id': pci_id(item['device_id'], 'passthrough_devices[%d].device_id' % index),
                               'custom_label': item.get('custom_label') or ''})

    remove_keys, add_vgpus, add_pt = [], [], []
    after_vgpus = [p for p, _k in current_vgpus]
    after_pt = [_pt_key(i) for i, _k in current_pt]
    if state == 'absent':
        if desired_vgpus is None and desired_pt is None:
            remove_keys = [k for _p, k in current_vgpus] + [k for _i, k in current_pt]
            after_vgpus, after_pt = [], []
        if desired_vgpus is not None:
            pool = list(desired_vgpus)
            for profile, key in current_vgpus:
                if profile in pool:
                    pool.remove(profile)
                    remove_keys.append(key)
                    after_vgpus.remove(profile)
        if desired_pt is not None:
            pool = [_pt_key(i) for i in desired_pt]
            for item, key in current_pt:
                if _pt_key(item) in pool:
                    pool.remove(_pt_key(item))
                    remove_keys.append(key)
                    after_pt.remove(_pt_key(item))
    else:
        if desired_vgpus is not None:
            add_vgpus, extra_keys = _multiset_diff(current_vgpus, desired_vgpus)
            remove_keys.extend(extra_keys)
            after_vgpus = list(desired_vgpus)
        if desired_pt is not None:
            add_keys, extra_keys = _multiset_diff([(_pt_key(i), k) for i, k in current_pt], [_pt_key(i) for i in desired_pt])
            remove_keys.extend(extra_keys)
            add_pt = [{'vendor_id': v, 'device_id': d, 'custom_label': label} for v, d, label in add_keys]
            after_pt = [_pt_key(i) for i in desired_pt]
        if add_vgpus:
            check_vm_vgpus(after_vgpus, 'VM %s on host %s' % (vm['name'], host['name']), vgpu_gpus(host), vm=vm['name'], host=host['name'])
        _validate_vm_host(vm, host, add_vgpus, add_pt, after_pt)

    has_gpu_after = bool(after_vgpus or after_pt)
    memory_locked = True if has_gpu_after and not vm['memory_locked'] else None
    extra_config = {}
    if state == 'present' and after_pt:
        total = 0
        for vendor_id, device_id, _label in after_pt:
            total += _framebuffer_gb(vendor_id, device_id) or 0
        size = mmio_gb if mmio_gb is not None else (mmio_size_gb(total) if total > LARGE_BAR_MIN_GB else 0)
        if size:
            wanted = {'pciPassthru.use64bitMMIO': 'TRUE', 'pciPassthru.64bitMMIOSizeGB': str(size)}
            extra_config = dict((k, v) for k, v in wanted.items() if vm['extra_config'].get(k) != v)
    if not (remove_keys or add_vgpus or add_pt or memory_locked or extra_config):
        return None
    if vm['power_state'] != 'poweredOff' and not power_cycle:
        raise PlanError('VM %s is %s: its GPU devices can only change while it is powered off. Power it off, or set '
                        'power_cycle: true to shut it down, reconfigure it and power it back on' % (vm['name'], vm['power_state']),
                        vm=vm['name'], power_state=vm['power_state'])

    def snapshot(vgpus, pts, locked, extra):
        return {'vgpu_profiles': sorted(vgpus),
                'passthrough_devices': [{'vendor_id': v, 'device_id': d, 'custom_label': label} for v, d, label in sorted(pts)],
                'memory_reservation_locked': locked,
                'extra_config': dict((k, extra.get(k)) for k in ('pciPassthru.use64bitMMIO', 'pciPassthru.64bitMMIOSizeGB') if extra.get(k))}

    merged_extra = dict(vm['extra_config'])
    merged_extra.update(extra_config)
    return {
        'add_vgpus': add_vgpus, 'add_passthrough': add_pt, 'remove_keys': remove_keys,
        'memory_locked': memory_locked, 'extra_config': extra_config,
        'power_cycle': vm['power_state'] != 'poweredOff',
        'before': snapshot([p for p, _k in current_vgpus], [_pt_key(i) for i, _k in current_pt], vm['memory_locked'], vm['extra_config']),
        'after': snapshot(after_vgpus, after_pt, vm['memory_locked'] or bool(memory_locked), merged_extra),
    }


def _validate_vm_host(vm, host, add_vgpus, add_pt, after_pt):
    """Refuse what the VM could not power on with: no Shared Direct GPU for a vGPU, Dynamic DirectPath on
    hardware older than vmx-17, or no passthrough-enabled GPU matching a device."""
    for profile in sorted(set(add_vgpus)):
        gpus = _gpus_for_profile(host, profile)
        if not any(g['graphics_type'] == 'sharedDirect' for g in gpus):
            raise PlanError('host %s of VM %s has no GPU in Shared Direct mode for vGPU profile %s (GPU graphics types: %s). '
                            'Set it with gpuvirt.core.vsphere_host_graphics (default_graphics_type: sharedDirect), then %s'
                            % (host['name'], vm['name'], profile,
                               ', '.join('%s %s' % (g['id'], g['graphics_type']) for g in gpus) or 'none', RESTART_HINT),
                            host=host['name'])
    if add_pt and vm['version'] < DYNAMIC_DIRECTPATH_MIN_VERSION:
        raise PlanError('VM %s has hardware version vmx-%d; Dynamic DirectPath I/O needs vmx-%d or later: upgrade the VM '
                        'hardware version first (VM powered off)' % (vm['name'], vm['version'], DYNAMIC_DIRECTPATH_MIN_VERSION),
                        vm=vm['name'], hardware_version='vmx-%d' % vm['version'])
    for vendor_id, device_id, label in sorted(set(after_pt)):
        wanted = after_pt.count((vendor_id, device_id, label))
        same = [g for g in host['gpus'] if g['vendor_id'] == vendor_id and g['device_id'] == device_id]
        if not same:
            raise PlanError('no GPU %04x:%04x on host %s of VM %s (GPUs there: %s)'
                            % (vendor_id, device_id, host['name'], vm['name'], _gpu_list(host)), host=host['name'])
        usable = [g for g in same if g['passthrough']['enabled'] and (not label or g['passthrough']['label'] == label)]
        if len(usable) < wanted:
            raise PlanError('VM %s wants %d GPU(s) %04x:%04x%s but host %s has %d with passthrough enabled%s: enable it with '
                            'gpuvirt.core.vsphere_host_passthrough (and reboot or apply_now)'
                            % (vm['name'], wanted, vendor_id, device_id, ' labelled %r' % label if label else '', host['name'],
                               len(usable), ' and that label' if label else ''), host=host['name'])


def plan_vm_gpu_summary(vm):
    """The GPU summary of a VM state as plan_vm_gpu reports ``before``/``after``."""
    pts = sorted((d['allowed'][0][0], d['allowed'][0][1], d['custom_label']) for d in vm['devices'] if d['kind'] == 'dynamic' and d['allowed'])
    return {'vgpu_profiles': sorted(d['profile'] for d in vm['devices'] if d['kind'] == 'vgpu'),
            'passthrough_devices': [{'vendor_id': v, 'device_id': d, 'custom_label': label} for v, d, label in pts],
            'memory_reservation_locked': vm['memory_locked'],
            'extra_config': dict((k, v) for k, v in vm['extra_config'].items() if v)}
