# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The KVM part of the capacity report: host_gpu_info results -> hosts and GPUs with their vGPUs.

Facts: vGPUs are mdevs (legacy GPUs on the PF, SR-IOV GPUs one per VF) or vendor-VFIO VFs; a GPU bound to ``vfio-pci``
is given whole to a VM (passthrough); SR-IOV GPUs need ``sriov-manage`` after every boot before vGPUs can exist
(section 2); the name of a vendor-VFIO vGPU may be unreadable (section 3).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils import pci
from ansible_collections.gpuvirt.core.plugins.module_utils.report.common import (
    NOT_READY, PASSTHROUGH, UNKNOWN, VGPU, finish_capacity, is_failed, mixed_size, model_for, new_gpu, parse_type, vendor_is_nvidia,
    whole_gpu)


def _kvm_vgpu_type(vgpu, types_by_id):
    for candidate in (vgpu.get('type_name'), types_by_id.get(str(vgpu.get('type_id')))):
        vtype = parse_type(candidate)
        if vtype is not None:
            return vtype.canonical
    return None


def kvm_gpu(raw):
    """One entry of host_gpu_info's ``gpus`` -> report GPU."""
    vgpu_types = [t for t in raw.get('vgpu_types') or [] if isinstance(t, dict)]
    vgpus = [v for v in raw.get('vgpus') or [] if isinstance(v, dict)]
    names = [v.get('type_name') for v in vgpus] + [t.get('name') for t in vgpu_types]
    model, why = model_for(raw.get('device_id'), [n for n in names if n], raw.get('model'))
    driver = raw.get('driver') or ''
    backend = raw.get('vgpu_backend') or 'none'
    sriov = raw.get('sriov') or {}
    total_vfs, num_vfs = pci.as_int(sriov.get('total_vfs'), 0), pci.as_int(sriov.get('num_vfs'), 0)
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
    gpu['mixed_size'] = mixed_size(raw)
    if why:
        gpu['notes'].append(why)
    types_by_id = dict((str(t.get('id')), t.get('name')) for t in vgpu_types)
    for vgpu in sorted(vgpus, key=lambda v: str(v.get('id'))):
        gpu['vgpus'].append({'id': vgpu.get('id'), 'type': _kvm_vgpu_type(vgpu, types_by_id), 'in_use': bool(vgpu.get('in_use')),
                             'vm': vgpu.get('vm') or None, 'parent': vgpu.get('parent')})
    if state == PASSTHROUGH:
        gpu['passthrough'] = {'capable': True, 'enabled': True, 'active': True}
        holder = raw.get('vm') or ('a running VM' if raw.get('in_use') else None)
        whole_gpu(gpu, 'passthrough', 'passthrough: bound to vfio-pci, %s' % ('used by %s' % holder if holder else 'no running VM holds it'))
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
        finish_capacity(gpu, model)
        whole_gpu(gpu, 'blocked', 'no vGPUs possible yet')
        return gpu
    finish_capacity(gpu, model)
    _compare_with_driver(gpu, vgpu_types)
    return gpu


def _compare_with_driver(gpu, vgpu_types):
    """Note where the driver's ``available_instances`` and the catalog's answer differ (a catalog gap, or a driver
    that places differently): the report shows the catalog's answer and says what the driver offers."""
    if not gpu['capacity_known'] or gpu['state'] != VGPU:
        return
    offered = {}
    for entry in vgpu_types:
        vtype = parse_type(entry.get('name'))
        count = pci.as_int(entry.get('available_instances'))
        if vtype is not None and count is not None:
            offered[vtype.canonical] = count
    differ = ['%s: driver %d, catalog %d' % (name, count, gpu['fits'].get(name, 0))
              for name, count in sorted(offered.items()) if count != gpu['fits'].get(name, 0)]
    if differ:
        gpu['driver_differs'] = True
        gpu['notes'].append('the host driver offers other counts than the catalog (%s); the driver decides' % '; '.join(differ))


def kvm_host(name, result):
    error = is_failed(result)
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
        if raw.get('address') in virtual or not vendor_is_nvidia(raw.get('vendor_id')):
            continue
        host['gpus'].append(kvm_gpu(raw))
    host['reboot_pending'] = bool(result.get('reboot_required'))
    if host['reboot_pending']:
        host['notes'].append('the host reports that a reboot is required')
    return host
