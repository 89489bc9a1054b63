# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vsphere_host_passthrough: one HostPciPassthruSystem.UpdatePassthruConfig per host with GPUs to change
(vsphere/planners.py plan_passthrough decides); the undo writes the previous settings back. The result reads the
hosts again after the writes (passthruActive tells whether a reboot is still needed)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import Plan, PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere import planners
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import VsphereOperation, api_version, pyvmomi
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.query import hosts_in_scope

LABEL_MIN_API = (7, 0, 2)


def passthrough_configs(vim, items, apply_now, enabled_of, label_of):
    """HostPciPassthruConfig of each planned item; ``enabled_of``/``label_of`` pick the value (wanted, or before)."""
    out = []
    for item in items:
        config = vim.host.PciPassthruConfig(id=item['id'], passthruEnabled=enabled_of(item), applyNow=apply_now)
        if label_of(item) is not None:
            config.hardwareLabel = label_of(item)
        out.append(config)
    return out


class VsphereHostPassthrough(VsphereOperation):

    def read(self):
        params = self.params
        if api_version(self.content) < LABEL_MIN_API and any(d.get('label') is not None for d in params['devices']):
            raise PlanError('label (hardwareLabel) needs vSphere API 7.0.2 or later')
        return hosts_in_scope(self.content, params['datacenter'], params['cluster'], params['esxi_hostname'])

    def changes(self, current):
        apply_now = self.params['apply_now']
        vim = pyvmomi()[0]
        the_plan = Plan()
        wanted = planners.plan_passthrough([r for _o, r in current], self.params['devices'], apply_now)
        for obj, record in current:
            items = wanted.get(record['name'])
            if not items:
                continue
            system = obj.get('configManager.pciPassthruSystem')
            do = passthrough_configs(vim, items, apply_now, lambda i: i['enabled'], lambda i: i['label'])
            back = passthrough_configs(vim, items, apply_now, lambda i: i['before']['enabled'],
                                       lambda i: (i['before']['label'] or '') if i['label'] is not None else None)
            before = dict((i['id'], i['before']) for i in items)
            after = dict((i['id'], {'capable': True, 'enabled': i['enabled'],
                                    'active': i['enabled'] if apply_now else i['before']['active'],
                                    'label': i['label'] if i['label'] is not None else i['before']['label']}) for i in items)
            the_plan.add('update_passthrough', record['name'], before=before, after=after,
                         apply=lambda system=system, do=do: system.UpdatePassthruConfig(do),
                         undo=lambda system=system, back=back: system.UpdatePassthruConfig(back),
                         details={'devices': sorted(after)})
        return the_plan

    def result(self, current, outcome):
        records = self.observe() if outcome.applied else current
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
