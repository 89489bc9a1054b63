# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vsphere_host_software: the wanted VIBs on every host in scope, one maintenance cycle per host that lacks one
(vsphere/maintenance.py hosts_to_update and plan_cycles decide; vsphere/host_cycle.py writes and waits)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere import maintenance
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.host_cycle import HostCycleOperation, installed_packages


class VsphereHostSoftware(HostCycleOperation):

    def validate(self):
        maintenance.check_packages(self.params['packages'])

    def observe_packages(self, hosts, records):
        packages = {}
        for host in hosts:
            installed = installed_packages(host.ref)
            packages[host.get('name')] = {'installed': installed, 'missing': maintenance.missing_packages(installed, self.params['packages'])}
            records[host.get('name')]['packages'] = installed
        return packages

    def needs(self, current):
        missing = dict((name, found['missing']) for name, found in current['packages'].items())
        return maintenance.hosts_to_update(current['records'], missing, self.params['reboot'])

    def reboots(self):
        return self.params['reboot']
