# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ESXi host software and reboot cycles over the vSphere API: the I/O side of maintenance.py.

Reads: one PropertyCollector retrieval (hosts, VMs, containers) plus HostImageConfigManager.fetchSoftwarePackages
per host in scope (what ``esxcli software vib list`` shows). Writes, in plan order, one host at a time:
RelocateVM_Task / PowerOffVM_Task (evacuation), EnterMaintenanceMode_Task, HostPatchManager.InstallHostPatchV2_Task
(vibUrls), RebootHost_Task and a wait for a new runtime.bootTime with connectionState connected,
ExitMaintenanceMode_Task. Facts: reference gpu-virtualization-facts.md §8 [S9], [S1 §2.9].

Every wait (a task, a host back from its reboot) is part of its step's apply: the next step, and the next host's
cycle, start only after it. Which hosts are cycled and what happens to their VMs is decided in maintenance.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import OutcomeUnknown, Plan, PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere import maintenance
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import (
    VsphereError, VsphereOperation, fault_text, pyvmomi, wait_for_task)
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.inventory import Inventory
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.query import ENTITY_PATHS, HOST_PATHS, retrieve, retrieve_one

CYCLE_HOST_PATHS = HOST_PATHS + ['runtime.bootTime', 'summary.rebootRequired', 'configManager.imageConfigManager',
                                 'configManager.patchManager']
CYCLE_VM_PATHS = ['name', 'runtime.host', 'runtime.powerState', 'config.template', 'config.hardware.device']


class Cycler(object):
    """The writes of a maintenance cycle for one session; every method waits for its task."""

    def __init__(self, content, params):
        self.content = content
        self.params = params
        self.vim = pyvmomi()[0]

    def _wait(self, task, what, timeout=None):
        return wait_for_task(task, what, timeout or self.params['timeout'])

    def power_off(self, vm_ref, name):
        if vm_ref.runtime.powerState != 'poweredOff':
            self._wait(vm_ref.PowerOffVM_Task(), 'power off VM %s' % name)

    def power_on(self, vm_ref, name):
        if vm_ref.runtime.powerState != 'poweredOn':
            self._wait(vm_ref.PowerOnVM_Task(), 'power on VM %s' % name)

    def migrate(self, vm_ref, name, host_ref, host_name):
        self._wait(vm_ref.RelocateVM_Task(spec=self.vim.vm.RelocateSpec(host=host_ref)), 'migrate VM %s to host %s' % (name, host_name))

    def enter_maintenance(self, host_ref, name):
        if not host_ref.runtime.inMaintenanceMode:
            timeout = self.params['maintenance_timeout']
            self._wait(host_ref.EnterMaintenanceMode_Task(timeout=timeout), 'enter maintenance mode on host %s' % name, timeout + 60)

    def exit_maintenance(self, host_ref, name):
        if host_ref.runtime.inMaintenanceMode:
            self._wait(host_ref.ExitMaintenanceMode_Task(timeout=0), 'exit maintenance mode on host %s' % name)

    def install(self, host_ref, name, packages):
        manager = host_ref.configManager.patchManager
        urls = [p['url'] for p in packages]
        try:
            result = self._wait(manager.InstallHostPatchV2_Task(vibUrls=urls), 'install %s on host %s' % (
                ', '.join('%s %s' % (p['name'], p['version']) for p in packages), name))
        except (VsphereError, OutcomeUnknown) as exc:
            raise exc.__class__('%s. The VIB URLs must be reachable from the host itself (%s)' % (exc.msg, ', '.join(urls)))
        installed = installed_packages(host_ref, VsphereError)
        wrong = maintenance.missing_packages(installed, packages)
        if wrong:
            raise VsphereError('host %s reports %s after the install, not the wanted version(s) %s' % (
                name, ', '.join('%s %s' % (p['name'], installed.get(p['name'], 'missing')) for p in wrong),
                ', '.join('%s %s' % (p['name'], p['version']) for p in wrong)))
        restart = any(s.restartRequired for s in (result.status if result is not None else None) or [])
        return {'restart_required': restart or bool(host_ref.summary.rebootRequired)}

    def reboot(self, host_ref, name, only_if_required=False):
        """Reboot and wait until the host is connected with a new boot time; returns whether it rebooted."""
        if only_if_required and not host_ref.summary.rebootRequired:
            return False
        before = retrieve_one(self.content, host_ref, ['runtime.bootTime']).get('runtime.bootTime')
        self._wait(host_ref.RebootHost_Task(force=False), 'reboot host %s' % name)
        deadline = time.time() + self.params['reboot_timeout']
        delay = 0.2
        while True:
            now = retrieve_one(self.content, host_ref, ['runtime.bootTime', 'runtime.connectionState'])
            if now.get('runtime.connectionState') == 'connected' and now.get('runtime.bootTime') not in (None, before):
                return True
            if time.time() > deadline:
                raise VsphereError('host %s did not come back within %d s after the reboot (connection state %s); '
                                   'it stays in maintenance mode: check its console' % (
                                       name, self.params['reboot_timeout'], now.get('runtime.connectionState')))
            time.sleep(delay)
            delay = min(delay * 2, 10)


def installed_packages(host_ref, error=PlanError):
    """{VIB name: version} from HostImageConfigManager.fetchSoftwarePackages; ``error`` (PlanError while observing,
    VsphereError after an install) when they cannot be read."""
    manager = host_ref.configManager.imageConfigManager
    if manager is None:
        raise error('host %s has no image configuration manager (API 6.5+ needed to list its VIBs)' % host_ref.name)
    try:
        return dict((p.name, p.version) for p in manager.fetchSoftwarePackages() or [])
    except Exception as exc:  # pylint: disable=broad-except
        raise error('cannot list the VIBs of host %s: %s' % (host_ref.name, fault_text(exc)))


def observe_inventory(content, params):
    """(inventory, hosts in scope) from one retrieval."""
    vim = pyvmomi()[0]
    objects = retrieve(content, [(vim.Datacenter, ENTITY_PATHS), (vim.Folder, ENTITY_PATHS), (vim.ComputeResource, ENTITY_PATHS),
                                 (vim.HostSystem, CYCLE_HOST_PATHS), (vim.VirtualMachine, CYCLE_VM_PATHS)])
    inventory = Inventory(objects)
    return inventory, inventory.select_hosts(params['datacenter'], params['cluster'], params['esxi_hostname'])


def _host_facts(inventory):
    out = []
    for host in inventory.hosts:
        out.append({'name': host.get('name'), 'cluster': inventory.cluster_of(host),
                    'connection_state': host.get('runtime.connectionState'),
                    'in_maintenance_mode': bool(host.get('runtime.inMaintenanceMode', False))})
    return out


def _vm_facts(inventory):
    out = []
    for vm in inventory.vms:
        host = inventory.host_of_vm(vm)
        record = inventory.vm_record(vm)
        out.append({'name': record['name'], 'host': host.get('name') if host is not None else None,
                    'power_state': record['power_state'], 'gpu': bool(record['vgpu_profiles'] or record['passthrough_devices']),
                    'ref': vm.ref})
    return out


def _host_state(record, packages=None):
    state = {'in_maintenance_mode': record['in_maintenance_mode'], 'reboot_required': record['reboot_pending']}
    if packages is not None:
        state['packages'] = dict(packages)
    return state


def build_plan(cycler, inventory, vm_facts, cycles, records, packages_of=None):
    """Turn planned cycles into plan.Change objects with apply/undo; one host after the other.

    ``vm_facts``: _vm_facts(inventory), the list the cycles were planned from."""
    the_plan = Plan()
    vm_refs = dict((v['name'], v['ref']) for v in vm_facts)
    host_refs = dict((h.get('name'), h.ref) for h in inventory.hosts)
    vm_state = dict((v['name'], {'host': v['host'], 'power_state': v['power_state']}) for v in vm_facts)
    for cycle in cycles:
        name = cycle['host']
        ref = host_refs[name]
        record = records[name]
        state = _host_state(record, packages_of(name)['installed'] if packages_of else None)
        for move in cycle['evacuate']:
            vm, vm_ref = move['vm'], vm_refs[move['vm']]
            before = dict(vm_state[vm])
            if move['action'] == 'power_off':
                after = dict(before, power_state='poweredOff')
                the_plan.add('power_off_vm', 'vm/' + vm, before=before, after=after, details={'host': name},
                             apply=lambda r=vm_ref, n=vm: cycler.power_off(r, n),
                             undo=lambda r=vm_ref, n=vm: cycler.power_on(r, n))
            else:
                after = dict(before, host=move['to'])
                the_plan.add('migrate_vm', 'vm/' + vm, before=before, after=after, details={'host': name, 'to': move['to']},
                             apply=lambda r=vm_ref, n=vm, t=move['to']: cycler.migrate(r, n, host_refs[t], t),
                             undo=lambda r=vm_ref, n=vm, t=name: cycler.migrate(r, n, host_refs[t], t))
            vm_state[vm] = after
        if cycle['enter']:
            before, state = state, dict(state, in_maintenance_mode=True)
            the_plan.add('enter_maintenance_mode', name, before=before, after=state, details={'why': cycle['why']},
                         apply=lambda r=ref, n=name: cycler.enter_maintenance(r, n),
                         undo=lambda r=ref, n=name: cycler.exit_maintenance(r, n))
        wanted = packages_of(name)['missing'] if packages_of else []
        if wanted:
            before = state
            state = dict(state, reboot_required=True, packages=dict(state['packages'], **dict((p['name'], p['version']) for p in wanted)))
            the_plan.add('install_vibs', name, before=before, after=state,
                         details={'vibs': ['%s %s' % (p['name'], p['version']) for p in wanted]},
                         apply=lambda r=ref, n=name, w=wanted: cycler.install(r, n, w))
        if cycle['reboot']:
            before, state = state, dict(state, reboot_required=False)
            only_if = bool(wanted) and not record['reboot_pending']
            the_plan.add('reboot', name, before=before, after=state,
                         details={'why': cycle['why'], 'only_if_required': only_if},
                         apply=lambda r=ref, n=name, o=only_if: cycler.reboot(r, n, o))
        if cycle['exit']:
            before, state = state, dict(state, in_maintenance_mode=False)
            the_plan.add('exit_maintenance_mode', name, before=before, after=state,
                         apply=lambda r=ref, n=name: cycler.exit_maintenance(r, n))
    return the_plan


def _records(inventory, hosts):
    out = {}
    for host in hosts:
        record = inventory.host_record(host)
        record['reboot_pending'] = bool(host.get('summary.rebootRequired', False))
        out[record['name']] = record
    return out


def _result(records, outcome, packages_of=None, observe_again=None):
    """Per host: what was (or would be) done and the state after."""
    done = {}
    for change in outcome.plan.changes:
        if change.target.startswith('vm/'):
            host = change.details['host']
            done.setdefault(host, {}).setdefault('evacuated', []).append(
                {'vm': change.target[3:], 'action': 'power_off' if change.action == 'power_off_vm' else 'migrate', 'to': change.details.get('to')})
        else:
            entry = done.setdefault(change.target, {})
            entry.setdefault('actions', []).append(change.action)
            if change.action == 'reboot':
                entry['rebooted'] = bool(change.result) if outcome.applied else None
    fresh = observe_again() if (observe_again and outcome.applied) else None
    hosts = []
    for name, record in records.items():
        entry = done.get(name, {})
        now = fresh[name] if fresh else record
        item = {'name': name, 'changed': bool(entry), 'actions': entry.get('actions', []),
                'evacuated': entry.get('evacuated', []), 'rebooted': entry.get('rebooted', False),
                'in_maintenance_mode': now['in_maintenance_mode'], 'reboot_required': bool(maintenance.reboot_reasons(now)),
                'reboot_reasons': maintenance.reboot_reasons(now)}
        if packages_of is not None:
            item['packages'] = fresh[name]['packages'] if fresh else packages_of(name)['installed']
        hosts.append(item)
    return {'hosts': hosts, 'reboot_required': any(h['reboot_required'] for h in hosts)}


class HostCycleOperation(VsphereOperation):
    """What vsphere_host_software and vsphere_host_reboot share: observe the hosts in scope, their VMs (one retrieval)
    and :meth:`observe_packages`; plan a maintenance cycle (maintenance.plan_cycles) for each host :meth:`needs` names,
    one host after the other; report per host what was done and its state read again after the writes."""

    def observe_packages(self, hosts, records):
        """{host name: {'installed', 'missing'}} (and ``packages`` in each record), or None: the base installs nothing."""
        return None

    def needs(self, current):
        """Ordered {host name: why} of the hosts to cycle."""
        raise NotImplementedError

    def reboots(self):
        """Whether a cycle reboots its host."""
        return True

    def read(self):
        inventory, hosts = observe_inventory(self.content, self.params)
        records = _records(inventory, hosts)
        packages = self.observe_packages(hosts, records)
        return {'inventory': inventory, 'records': records, 'packages': packages}

    def changes(self, current):
        inventory = current['inventory']
        vm_facts = _vm_facts(inventory)
        cycles = maintenance.plan_cycles(_host_facts(inventory), vm_facts, self.params['evacuate'], self.needs(current))
        for cycle in cycles:
            cycle['reboot'] = self.reboots()
        return build_plan(Cycler(self.content, self.params), inventory, vm_facts, cycles, current['records'],
                          packages_of=self._packages_of(current))

    def result(self, current, outcome):
        return _result(current['records'], outcome, packages_of=self._packages_of(current),
                       observe_again=lambda: self.observe()['records'])

    @staticmethod
    def _packages_of(current):
        return current['packages'].get if current['packages'] is not None else None
