# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_vgpu: make each selected GPU hold exactly the vGPUs asked for (planner: ``host/layout.py`` ``plan_vgpu``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.host import inventory, layout, vdm_config
from ansible_collections.gpuvirt.core.plugins.module_utils.host.lock import HostOperation

PLANNER_OPTIONS = ('state', 'devices', 'vgpu_type', 'count', 'force', 'persist', 'mixed_size', 'config_file', 'selected_config',
                   'remove_timeout')


class HostVgpu(HostOperation):
    """observe: the inventory (and the vgpu-device-manager file for state=present); plan: ``layout.plan_vgpu``; result:
    ``created``, ``removed``, ``forced`` and the ``gpus`` layout (read back after a change, planned otherwise)."""

    planner = None
    gpus = ()
    not_negative = HostOperation.not_negative + ('remove_timeout',)

    def validate(self):
        if self.params['config_file'] and self.params['vgpu_type']:
            raise PlanError('give either vgpu_type or config_file, not both')
        if bool(self.params['config_file']) != bool(self.params['selected_config']):
            raise PlanError('config_file and selected_config go together')

    def observe(self):
        """(Inventory, content of config_file or None)."""
        inv = inventory.scan(self.host)
        config = None
        if self.params['state'] == 'present' and self.params['config_file']:
            config = vdm_config.load(self.params['config_file'])
        return inv, config

    def plan(self, current):
        inv, config = current
        options = dict((name, self.params[name]) for name in PLANNER_OPTIONS)
        self.planner, self.gpus = layout.plan_vgpu(self.host, inv, config=config, **options)
        return self.planner.plan

    def result(self, current, outcome):
        inv = current[0]
        if not self.check_mode:
            inv.cache.save()
        out = self.planner.report()
        out['created'] = [c.target for c in self.planner.plan.changes if c.action == 'create']
        if self.planner.plan and not self.check_mode:
            out['gpus'] = self._read_back(inv)
        else:
            out['gpus'] = planned_layouts(self.gpus, self.planner)
        return out

    def failure_details(self, current, error):
        """After a failed apply: what this run created and removed and is still in effect, and the layout read back."""
        applied = getattr(error, 'applied', [])
        return {'created': [c.target for c in applied if c.action == 'create'],
                'removed': [c.target for c in applied if c.action == 'remove'],
                'gpus': self._read_back(current[0])}

    def _read_back(self, inv):
        after = inventory.scan(self.host, with_types=False, names_from=inv)
        return layouts([after.gpu(g.address) for g in self.gpus])


def layouts(gpus):
    """The ``gpus`` result entries of GPUs as they are."""
    return [{'address': g.address, 'index': g.index, 'vgpu_backend': g.backend, 'vgpus': [v.as_dict() for v in g.vgpus]}
            for g in gpus if g is not None]


def planned_layouts(gpus, planner):
    """The ``gpus`` result entries as the plan leaves them (check mode, or nothing to do)."""
    out = []
    for gpu in gpus:
        final = planner.final.get(gpu.address)
        if final is None:
            out.extend(layouts([gpu]))
            continue
        known = dict((v.id, v) for v in gpu.vgpus)
        vgpus = []
        for vid, type_id, parent in final:
            if vid in known:
                vgpus.append(known[vid].as_dict())
            else:
                vgpus.append({'id': vid, 'type_id': type_id, 'type_name': None, 'parent': parent, 'in_use': False, 'vm': None})
        out.append({'address': gpu.address, 'index': gpu.index, 'vgpu_backend': gpu.backend, 'vgpus': vgpus})
    return out
