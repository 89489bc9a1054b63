# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning of ESXi host maintenance cycles (no I/O): which hosts need one, what happens to their
powered-on VMs, and the ordered steps, one host at a time.

A cycle of one host: evacuate (migrate or power off the VMs that are not powered off), enter maintenance mode,
install software (optional), reboot when needed and wait for the host, exit maintenance mode (only when the
cycle entered it). A host is never left half-way on purpose: the next host's cycle starts after the previous
one ended. Facts: reference gpu-virtualization-facts.md §8 (host settings active after a reboot; VMs off to
change GPU settings; vGPU VMs migrate only with vgpu.hotmigrate.enabled) and [S1 §2.9] (VIB install in
maintenance mode, then reboot).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError


def version_matches(installed, wanted):
    """``wanted`` is a full VIB version or its leading part before a '-' (550.90.05 matches
    550.90.05-1OEM.800.1.0.20613240)."""
    if installed is None or not wanted:
        return False
    return installed == wanted or installed.startswith(wanted + '-')


def missing_packages(installed, packages):
    """The wanted packages ({name, version, url}) whose version is not installed; ``installed`` maps name ->
    version."""
    return [p for p in packages if not version_matches(installed.get(p['name']), p['version'])]


URL_SCHEMES = ('http', 'https', 'file')


def check_url(name, url):
    """A VIB location ESXi can read (HostPatchManager vibUrls): an http(s) or file URL, or a datastore path
    (``[datastore1] vibs/x.vib`` or ``/vmfs/volumes/...``); anything else (ftp://, a bare name) is refused before any
    host enters maintenance mode."""
    text = url.strip()
    if text.startswith('[') and ']' in text or text.startswith('/vmfs/volumes/'):
        return
    scheme = text.split('://', 1)[0].lower() if '://' in text else None
    if scheme not in URL_SCHEMES:
        raise PlanError('package %s: url %s is not an http(s) or file URL or a datastore path ([datastore] path or '
                        '/vmfs/volumes/...): ESXi reads VIBs from those only' % (name, url))


def check_packages(packages):
    """Validate the package list before anything is written."""
    seen = set()
    for index, package in enumerate(packages):
        for key in ('name', 'version', 'url'):
            if not package.get(key):
                raise PlanError('packages[%d] needs %s (name, version and the VIB url are required)' % (index, key))
        if package['name'] in seen:
            raise PlanError('package %s is listed twice' % package['name'])
        seen.add(package['name'])
        check_url(package['name'], package['url'])
        if not package['url'].split('?')[0].lower().endswith('.vib'):
            raise PlanError('package %s: url %s is not a .vib file. The vSphere API installs VIB files (vibUrls); take the '
                            '.vib out of the component zip NVIDIA ships (vib20/<name>/*.vib) and serve it over '
                            'http(s) to the hosts' % (package['name'], package['url']))


def _running(vm):
    return vm['power_state'] != 'poweredOff'


def plan_evacuation(host, cluster_hosts, placement, vms, evacuate, cycling):
    """Moves for the VMs that run on ``host`` now.

    ``cluster_hosts``: names of the hosts in the same cluster that may receive VMs (connected, not in
    maintenance mode); ``placement``: VM name -> host name (updated in place as the plan proceeds); ``vms``:
    VM name -> {name, power_state, gpu (bool)}; ``cycling``: hosts still to be cycled after this one (avoided
    as targets when another host can take the VM). Returns [{'vm', 'action': 'migrate'|'power_off', 'to'}].
    """
    running = sorted(name for name, where in placement.items() if where == host and _running(vms[name]))
    if not running:
        return []
    if evacuate == 'none':
        raise PlanError('host %s must enter maintenance mode but VMs are powered on: %s. Power them off or move them, '
                        'or set evacuate to power_off or migrate (roles: vgpu_manager_esxi_evacuate or '
                        'esxi_gpu_host_evacuate true, with its _evacuate_mode)' % (host, ', '.join(running)), host=host, powered_on_vms=running)
    moves = []
    for name in running:
        if evacuate == 'power_off':
            moves.append({'vm': name, 'action': 'power_off', 'to': None})
            vms[name] = dict(vms[name], power_state='poweredOff')
            continue
        if vms[name].get('gpu'):
            raise PlanError('VM %s on host %s has a vGPU or passthrough GPU and cannot be migrated while powered on '
                            '(vSphere allows vGPU vMotion only with vgpu.hotmigrate.enabled, never DirectPath I/O): '
                            'use evacuate power_off or power it off first' % (name, host), host=host, vm=name)
        targets = [h for h in cluster_hosts if h != host]
        if not targets:
            raise PlanError('VM %s on host %s cannot be migrated: no other connected host outside maintenance mode in its '
                            'cluster; use evacuate power_off' % (name, host), host=host, vm=name)

        def load(target):
            return sum(1 for vm, where in placement.items() if where == target and _running(vms[vm]))
        target = sorted(targets, key=lambda t: (t in cycling, load(t), t))[0]
        moves.append({'vm': name, 'action': 'migrate', 'to': target})
        placement[name] = target
    return moves


def plan_cycles(hosts, vms, evacuate, needs):
    """The maintenance cycles, one host at a time, in the order of ``hosts``.

    ``hosts``: [{name, cluster, connection_state, in_maintenance_mode}] (all hosts of the inventory, for
    migration targets); ``vms``: [{name, host, power_state, gpu}]; ``needs``: ordered {host name: why} of the
    hosts to cycle. Returns [{'host', 'why', 'evacuate': [...], 'enter': bool, 'exit': bool}].
    Raises PlanError (before any write) when a host cannot be cycled.
    """
    by_name = dict((h['name'], h) for h in hosts)
    vm_by_name = dict((v['name'], dict(v)) for v in vms)
    placement = dict((v['name'], v['host']) for v in vms if v.get('host'))
    order = list(needs)
    cycles = []
    for index, name in enumerate(order):
        host = by_name[name]
        if host.get('connection_state') not in (None, 'connected'):
            raise PlanError('host %s is %s: connect it to vCenter first' % (name, host['connection_state']), host=name)
        receivers = [h['name'] for h in hosts if h.get('cluster') and h.get('cluster') == host.get('cluster')
                     and h.get('connection_state') in (None, 'connected') and not h.get('in_maintenance_mode')]
        moves = plan_evacuation(name, receivers, placement, vm_by_name, evacuate, set(order[index + 1:]))
        entered = not host.get('in_maintenance_mode')
        cycles.append({'host': name, 'why': needs[name], 'evacuate': moves, 'enter': entered, 'exit': entered})
    return cycles


# (host record key, reason): pending software (summary.rebootRequired), passthrough enabled but not active, graphics
# configured but not active
REBOOT_REASONS = (('reboot_pending', 'host reports reboot required'), ('reboot_required', 'passthrough pending'),
                  ('graphics_restart_required', 'graphics settings pending'))


def reboot_reasons(record):
    """Why a host needs a reboot now, in REBOOT_REASONS order. ``record``: an inventory host record with
    ``reboot_pending``."""
    return [why for key, why in REBOOT_REASONS if record[key]]


def hosts_to_reboot(records, force=False):
    """vsphere_host_reboot's decision: ordered {host name: why} of the hosts to cycle, every host with ``force``, else
    those with a :func:`reboot_reasons`. ``records``: ordered {host name: host record}."""
    if force:
        return dict((name, ['forced']) for name in records)
    return dict((name, reboot_reasons(record)) for name, record in records.items() if reboot_reasons(record))


def hosts_to_update(records, missing, reboot=True):
    """vsphere_host_software's decision: ordered {host name: why} of the hosts to cycle, those missing a wanted package
    (``missing``: host name -> :func:`missing_packages`) and, with ``reboot``, those that report a pending reboot."""
    needs = {}
    for name, record in records.items():
        why = (['vib install'] if missing[name] else []) + (['host reports reboot required'] if reboot and record['reboot_pending'] else [])
        if why:
            needs[name] = why
    return needs
