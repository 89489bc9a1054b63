# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vsphere_host_graphics: one HostGraphicsManager.UpdateGraphicsConfig per host whose configured graphics differ
(vsphere/planners.py plan_graphics decides), a RefreshGraphicsManager when a GPU's setting changed; the undo writes the
configuration back."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import Plan
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere import planners
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import VsphereOperation, api_version, pyvmomi
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.query import hosts_in_scope

VGPU_MODE_MIN_API = (8, 0, 3)


def graphics_config(vim, state, also_reset=()):
    """A HostGraphicsConfig of a graphics state (planners.graphics_state); ``also_reset``: device ids to set back to the
    default type (the undo of devices the change added)."""
    devices = [vim.host.GraphicsConfig.DeviceType(deviceId=d['id'], graphicsType=d['graphics_type'] or state['default_type'],
                                                  **({'vgpuMode': d['vgpu_mode']} if d.get('vgpu_mode') else {}))
               for d in state['devices']]
    listed = set(d['id'] for d in state['devices'])
    devices += [vim.host.GraphicsConfig.DeviceType(deviceId=i, graphicsType=state['default_type']) for i in also_reset if i not in listed]
    return vim.host.GraphicsConfig(hostDefaultGraphicsType=state['default_type'],
                                   sharedPassthruAssignmentPolicy=state['assignment_policy'], deviceType=devices)


def update_graphics(vim, manager, state, refresh, also_reset=()):
    manager.UpdateGraphicsConfig(graphics_config(vim, state, also_reset))
    if refresh:
        manager.RefreshGraphicsManager()


class VsphereHostGraphics(VsphereOperation):

    def read(self):
        params = self.params
        return {'hosts': hosts_in_scope(self.content, params['datacenter'], params['cluster'], params['esxi_hostname']),
                'vgpu_mode_supported': api_version(self.content) >= VGPU_MODE_MIN_API}

    def changes(self, current):
        params = self.params
        vim = pyvmomi()[0]
        the_plan = Plan()
        for obj, record in current['hosts']:
            if not record['gpus']:
                the_plan.warnings.append('host %s has no NVIDIA GPU: its graphics settings were left alone' % record['name'])
                continue
            after = planners.plan_graphics(record, params['default_graphics_type'], params['assignment_policy'], params['devices'],
                                           current['vgpu_mode_supported'])
            if after is None:
                continue
            before = planners.graphics_state(record)
            manager = obj.get('configManager.graphicsManager')
            refresh = any(planners.device_setting(before, g['id'])[1] != planners.device_setting(after, g['id'])[1] for g in record['gpus'])
            the_plan.add('update_graphics', record['name'], before=before, after=after,
                         apply=functools.partial(update_graphics, vim, manager, after, refresh),
                         undo=functools.partial(update_graphics, vim, manager, before, False, [d['id'] for d in after['devices']]),
                         details={'restart_required': planners.graphics_restart_required(record, after)})
        return the_plan

    def result(self, current, outcome):
        changes = dict((c.target, c) for c in outcome.plan.changes)
        hosts = []
        for _obj, record in current['hosts']:
            change = changes.get(record['name'])
            state = change.after if change else planners.graphics_state(record)
            restart = planners.graphics_restart_required(record, state)
            hosts.append({'name': record['name'], 'changed': change is not None, 'graphics': state,
                          'restart_required': restart, 'action_needed': planners.RESTART_HINT if restart else None})
        return {'hosts': hosts, 'restart_required': any(h['restart_required'] for h in hosts)}
