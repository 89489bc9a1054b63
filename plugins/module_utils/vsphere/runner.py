# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module entry points: one session, one retrieval, the plan, then plan.run (check mode, diff, undo)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools
import traceback

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import Plan, PlanError, require_positive, run
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere import planners
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import Session, api_version, pyvmomi
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.inventory import Inventory
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.query import gpu_inventory


def with_session(module, body):
    """Open a session, run ``body(session)``, always log out; connection errors become fail_json."""
    require_positive(module)  # timeout, maintenance_timeout, reboot_timeout, shutdown_timeout: before connecting
    try:
        with Session(module.params) as session:
            body(session)
    except PlanError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='%s: %s' % (exc.__class__.__name__, exc), exception=traceback.format_exc())


# -- vsphere_gpu_info ----------------------------------------------------------------------------------
def gpu_info(module):
    p = module.params

    def body(session):
        inventory = Inventory(gpu_inventory(session.content))
        hosts = inventory.select_hosts(p['datacenter'], p['cluster'], p['esxi_hostname'])
        names = set(h.moid for h in hosts)
        vms = []
        for vm in inventory.vms:
            host = inventory.host_of_vm(vm)
            if host is None or host.moid not in names:
                continue
            record = inventory.vm_record(vm)
            if record['vgpu_profiles'] or record['passthrough_devices'] or p['all_vms']:
                vms.append(record)
        module.exit_json(changed=False, hosts=[inventory.host_record(h) for h in hosts], vms=vms,
                         api_version=session.content.about.apiVersion)

    with_session(module, body)


def _host_records(content, params):
    """[(host object, host record)] of the hosts in scope, from one retrieval (VMs by name only)."""
    inventory = Inventory(gpu_inventory(content, vm_paths=['name']))
    return [(h, inventory.host_record(h)) for h in inventory.select_hosts(params['datacenter'], params['cluster'], params['esxi_hostname'])]


# -- vsphere_host_graphics -----------------------------------------------------------------------------
def _graphics_config(vim, state, also_reset=()):
    devices = [vim.host.GraphicsConfig.DeviceType(deviceId=d['id'], graphicsType=d['graphics_type'] or state['default_type'],
                                                  **({'vgpuMode': d['vgpu_mode']} if d.get('vgpu_mode') else {}))
               for d in state['devices']]
    listed = set(d['id'] for d in state['devices'])
    devices += [vim.host.GraphicsConfig.DeviceType(deviceId=i, graphicsType=state['default_type']) for i in also_reset if i not in listed]
    return vim.host.GraphicsConfig(hostDefaultGraphicsType=state['default_type'],
                                   sharedPassthruAssignmentPolicy=state['assignment_policy'], deviceType=devices)


def _update_graphics(vim, manager, state, refresh, also_reset=()):
    manager.UpdateGraphicsConfig(_graphics_config(vim, state, also_reset))
    if refresh:
        manager.RefreshGraphicsManager()


def host_graphics(module):
    p = module.params

    def body(session):
        vim, _vmodl = pyvmomi()
        content = session.content
        mode_ok = api_version(content) >= (8, 0, 3)

        def observe():
            return _host_records(content, p)

        def plan(records):
            the_plan = Plan()
            for obj, record in records:
                after = planners.plan_graphics(record, p['default_graphics_type'], p['assignment_policy'], p['devices'], mode_ok)
                if after is None:
                    continue
                before = planners.graphics_state(record)
                manager = obj.get('configManager.graphicsManager')
                refresh = any(planners.device_setting(before, g['id'])[1] != planners.device_setting(after, g['id'])[1] for g in record['gpus'])
                the_plan.add('update_graphics', record['name'], before=before, after=after,
                             apply=functools.partial(_update_graphics, vim, manager, after, refresh),
                             undo=functools.partial(_update_graphics, vim, manager, before, False, [d['id'] for d in after['devices']]),
                             details={'restart_required': planners.graphics_restart_required(record, after)})
            return the_plan

        def result(records, outcome):
            changes = dict((c.target, c) for c in outcome.plan.changes)
            hosts = []
            for _obj, record in records:
                change = changes.get(record['name'])
                state = change.after if change else planners.graphics_state(record)
                restart = planners.graphics_restart_required(record, state)
                hosts.append({'name': record['name'], 'changed': change is not None, 'graphics': state,
                              'restart_required': restart, 'action_needed': planners.RESTART_HINT if restart else None})
            return {'hosts': hosts, 'restart_required': any(h['restart_required'] for h in hosts)}

        run(module, observe, plan, result)

    with_session(module, body)


# -- vsphere_host_passthrough --------------------------------------------------------------------------
def host_passthrough(module):
    p = module.params

    def body(session):
        vim, _vmodl = pyvmomi()
        content = session.content
        label_ok = api_version(content) >= (7, 0, 2)
        if not label_ok and any(d.get('label') is not None for d in p['devices']):
            raise PlanError('label (hardwareLabel) needs vSphere API 7.0.2 or later')

        def observe():
            return _host_records(content, p)

        def configs(items, enabled_of, label_of):
            out = []
            for item in items:
                config = vim.host.PciPassthruConfig(id=item['id'], passthruEnabled=enabled_of(item), applyNow=p['apply_now'])
                if label_of(item) is not None:
                    config.hardwareLabel = label_of(item)
                out.append(config)
            return out

        def plan(records):
            the_plan = Plan()
            wanted = planners.plan_passthrough([r for _o, r in records], p['devices'], p['apply_now'])
            for obj, record in records:
                items = wanted.get(record['name'])
                if not items:
                    continue
                system = obj.get('configManager.pciPassthruSystem')
                do = configs(items, lambda i: i['enabled'], lambda i: i['label'])
                back = configs(items, lambda i: i['before']['enabled'], lambda i: (i['before']['label'] or '') if i['label'] is not None else None)
                before = dict((i['id'], i['before']) for i in items)
                after = dict((i['id'], {'capable': True, 'enabled': i['enabled'],
                                        'active': i['enabled'] if p['apply_now'] else i['before']['active'],
                                        'label': i['label'] if i['label'] is not None else i['before']['label']}) for i in items)
                the_plan.add('update_passthrough', record['name'], before=before, after=after,
                             apply=lambda system=system, do=do: system.UpdatePassthruConfig(do),
                             undo=lambda system=system, back=back: system.UpdatePassthruConfig(back),
                             details={'devices': sorted(after)})
            return the_plan

        def result(records, outcome):
            if outcome.applied:
                records = observe()
            changes = dict((c.target, c) for c in outcome.plan.changes)
            hosts = []
            for _obj, record in records:
                state = dict((g['id'], dict(g['passthrough'])) for g in record['gpus'])
                change = changes.get(record['name'])
                if change is not None and not outcome.applied:
                    state.update(change.after)
                hosts.append({'name': record['name'], 'changed': change is not None,
                              'devices': [dict(id=k, **v) for k, v in sorted(state.items())],
                              'reboot_required': any(v['enabled'] != v['active'] for v in state.values())})
            return {'hosts': hosts, 'reboot_required': any(h['reboot_required'] for h in hosts)}

        run(module, observe, plan, result)

    with_session(module, body)
