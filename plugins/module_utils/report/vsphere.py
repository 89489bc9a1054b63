# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vSphere part of the capacity report: vsphere_gpu_info results -> sites, hosts and GPUs with their vGPUs.

Facts: a GPU offers vGPUs only in Shared Direct (``sharedDirect``); ``shared`` is vSGA; passthrough takes effect when
``passthruActive`` follows ``passthruEnabled`` (after a reboot unless applied now); a VM holds its vGPUs only while
powered on (section 8, [S1 section 2.9]).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils import pci
from ansible_collections.gpuvirt.core.plugins.module_utils.report.common import (
    NOT_READY, PASSTHROUGH, UNKNOWN, VGPU, finish_capacity, mixed_size, model_for, new_gpu, new_site, parse_type, vendor_is_nvidia,
    whole_gpu)
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import check_fit, gpu_model


def _powered_on(vm):
    return str(vm.get('power_state') or '').lower().replace('_', '') in ('poweredon', 'on')


def vsphere_gpu(raw, profiles):
    passthrough = raw.get('passthrough') or {}
    model, why = model_for(raw.get('device_id'), profiles)
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
    gpu['mixed_size'] = mixed_size(raw)
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
        if vendor_is_nvidia(raw_gpu.get('vendor_id')):
            host['gpus'].append(vsphere_gpu(raw_gpu, profiles))
    host['reboot_pending'] = host['reboot_pending'] or any(g['reboot_pending'] for g in host['gpus'])
    _attach_vms(host, vms, graphics.get('assignment_policy') or 'performance')
    for gpu in host['gpus']:
        if gpu['state'] == PASSTHROUGH:
            holders = ', '.join(gpu['assigned_to'])
            whole_gpu(gpu, 'passthrough', 'passthrough: %s' % holders if holders else 'passthrough: no powered-on VM holds it')
            gpu['capacity_known'] = True
            continue
        finish_capacity(gpu, gpu['model'] and gpu_model(gpu['model']))
        if gpu['state'] == NOT_READY:
            whole_gpu(gpu, 'blocked', 'no vGPUs possible: %s' % (gpu.get('graphics_type') or 'not Shared Direct'))
    return host


def _attach_vms(host, vms, policy):
    """Give each powered-on VM's vGPUs and passthrough devices to this host's GPUs."""
    by_name = dict((pci.full_address(g['id']), g) for g in host['gpus'])
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
            vtype = parse_type(profile)
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
            gpu = by_name.get(pci.full_address(device.get('id') or device.get('assigned_id')))
            if gpu is None:
                wanted = pci.hex_id(device.get('device_id'))
                gpu = next((g for g in host['gpus'] if g['state'] == PASSTHROUGH and not g['assigned_to']
                            and (not wanted or wanted in _model_ids(g))), None)
            if gpu is not None:
                gpu['assigned_to'].append(vm_name)
    if estimated:
        host['notes'].append('vSphere did not say which GPU each VM uses: vGPUs are placed by the host\'s %s policy' % policy)


def _model_ids(gpu):
    if gpu['model'] is None:
        return ()
    return gpu_model(gpu['model']).device_ids_hex


def vsphere_site(result, index, count):
    site = new_site('vsphere', result, index, count, 'hosts', 'vsphere_gpu_info')
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
