# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vsphere_host_reboot: one maintenance cycle with a reboot per host in scope that waits for one, or every host with
force (vsphere/maintenance.py hosts_to_reboot and plan_cycles decide; vsphere/host_cycle.py writes and waits)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere import maintenance
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.host_cycle import HostCycleOperation


class VsphereHostReboot(HostCycleOperation):

    def needs(self, current):
        return maintenance.hosts_to_reboot(current['records'], self.params['force'])
