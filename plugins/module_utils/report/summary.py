# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The capacity report's model: the info modules' facts turned into sites, hosts and GPUs with their vGPUs.

Pure, no I/O, Python 3.8+. Input (the shapes of the project's stable interface, extra keys tolerated)::

    {'vsphere': <vsphere_gpu_info result> | [<result>, ...] | None,
     'hosts': {<inventory name>: <host_gpu_info result> | <failed/unreachable task result> | <error text>},
     'kubernetes': <k8s_gpu_info result> | [<result>, ...] | None}

What still fits on a GPU comes from the vGPU catalog (``vgpu.remaining``), the same answer the
``gpuvirt.core.vgpu_fits`` filter gives in users' playbooks. The facts behind each part are in ``kvm.py``,
``vsphere.py`` and ``kubernetes.py``; what they share in ``common.py``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.report.common import NOT_READY, PASSTHROUGH, SITE_NAMES, UNKNOWN, VGPU, ReportError
from ansible_collections.gpuvirt.core.plugins.module_utils.report.kubernetes import k8s_site
from ansible_collections.gpuvirt.core.plugins.module_utils.report.kvm import kvm_host
from ansible_collections.gpuvirt.core.plugins.module_utils.report.vsphere import vsphere_site
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import parse


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
