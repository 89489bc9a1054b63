# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vsphere_gpu_info: the hosts in scope with their GPUs and the VMs on them that have GPU devices, from one
PropertyCollector retrieval. Reads only."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import VsphereOperation
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.inventory import Inventory
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.query import gpu_inventory


class VsphereGpuInfo(VsphereOperation):
    reads_only = True

    def read(self):
        params = self.params
        inventory = Inventory(gpu_inventory(self.content))
        hosts = inventory.select_hosts(params['datacenter'], params['cluster'], params['esxi_hostname'])
        names = set(h.moid for h in hosts)
        vms = []
        for vm in inventory.vms:
            host = inventory.host_of_vm(vm)
            if host is None or host.moid not in names:
                continue
            record = inventory.vm_record(vm)
            if record['vgpu_profiles'] or record['passthrough_devices'] or params['all_vms']:
                vms.append(record)
        return {'hosts': [inventory.host_record(h) for h in hosts], 'vms': vms, 'api_version': self.content.about.apiVersion}

    def result(self, current, outcome):
        return dict(current)
