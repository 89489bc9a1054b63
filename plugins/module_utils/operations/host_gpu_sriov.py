# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_gpu_sriov: enable or disable the VFs of SR-IOV GPUs with sriov-manage (planner: ``host/sriov.py`` ``plan_sriov``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.host import inventory, sriov
from ansible_collections.gpuvirt.core.plugins.module_utils.host.lock import HostOperation


class HostGpuSriov(HostOperation):
    """observe: the inventory; plan: ``sriov.plan_sriov``; result: ``removed``, ``forced``, the SR-IOV ``gpus`` after
    the run and sriov-manage's ``attempts`` per GPU (also on a failed apply)."""

    planner = None

    def __init__(self, module):
        super(HostGpuSriov, self).__init__(module)
        script = self.params['sriov_manage'] or self.host.path(sriov.SRIOV_MANAGE)
        self.runner = sriov.SriovRunner(module.run_command, self.host, script, self.params['timeout'], self.params['retry_delay'])

    def observe(self):
        return inventory.scan(self.host, with_types=True)

    def plan(self, current):
        self.planner = sriov.plan_sriov(self.host, current, self.runner, state=self.params['state'], devices=self.params['devices'],
                                        force=self.params['force'])
        return self.planner.plan

    def result(self, current, outcome):
        out = self.planner.report()
        after = inventory.scan(self.host, with_types=False) if self.planner.plan and not self.check_mode else current
        out['gpus'] = [{'address': g.address, 'total_vfs': g.total_vfs, 'num_vfs': g.num_vfs, 'vfs': [vf.address for vf in g.vfs]}
                       for g in after.gpus if g.sriov_capable]
        out['attempts'] = self.runner.attempts
        return out

    def failure_details(self, current, error):
        return {'attempts': self.runner.attempts}
