# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_gpu_driver: bind GPUs to vfio-pci or back to nvidia (planner: ``host/binding.py`` ``plan_binding``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.pci import normalize_address
from ansible_collections.gpuvirt.core.plugins.module_utils.host import binding, inventory
from ansible_collections.gpuvirt.core.plugins.module_utils.host.lock import HostOperation

PLANNER_OPTIONS = ('driver', 'devices', 'include_iommu_group', 'force', 'persist', 'persist_method')


class HostGpuDriver(HostOperation):
    """observe: the inventory; plan: ``binding.plan_binding``; result: ``removed``, ``forced`` and each concerned
    function's ``devices`` entry (driver and driver_override after the run)."""

    planner = None

    def observe(self):
        return inventory.scan(self.host, with_types=True)

    def plan(self, current):
        options = dict((name, self.params[name]) for name in PLANNER_OPTIONS)
        self.planner = binding.plan_binding(self.host, current, **options)
        return self.planner.plan

    def result(self, current, outcome):
        out = self.planner.report()
        after = inventory.scan(self.host, with_types=False) if self.planner.plan and not self.check_mode else current
        wanted = set(c.target for c in self.planner.plan.changes if c.action == 'bind') | set(
            a for a in (normalize_address(d) for d in self.params['devices']) if a)
        out['devices'] = [{'address': a, 'driver': after.functions[a].driver, 'driver_override': after.functions[a].override}
                          for a in sorted(wanted) if a in after.functions]
        return out
