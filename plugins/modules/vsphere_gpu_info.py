#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: vsphere_gpu_info
short_description: GPUs, host graphics, passthrough and GPU VMs of a vSphere inventory
version_added: 0.1.0
description:
  - Reports every ESXi host in scope with its NVIDIA GPUs (PCI ids, passthrough capable/enabled/active,
    active and configured graphics type, vGPU mode), the host graphics configuration and the vGPU profiles the
    host offers, and every VM on those hosts that has a vGPU or a PCI passthrough device.
  - Reads everything with one PropertyCollector retrieval over a ContainerView (RetrievePropertiesEx with
    paging), so the number of API calls does not grow with the number of hosts.
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.vsphere
  - gpuvirt.core.attributes
  - gpuvirt.core.attributes.info_module
options:
  datacenter:
    description: Only hosts of this datacenter.
    type: str
  cluster:
    description: Only hosts of this cluster.
    type: str
  esxi_hostname:
    description: Only this ESXi host (inventory name).
    type: str
  all_vms:
    description: Also list the VMs without GPU devices (on the hosts in scope).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: GPUs of every host
  gpuvirt.core.vsphere_gpu_info:
    hostname: vcenter.example.com
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
  register: gpu_facts

- name: Hosts of one cluster that still need a reboot for passthrough
  ansible.builtin.debug:
    msg: "{{ gpu_facts.hosts | selectattr('reboot_required') | map(attribute='name') | list }}"
'''

RETURN = r'''
hosts:
  description: ESXi hosts in scope.
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: Inventory name., type: str, returned: always}
    moid: {description: Managed object id., type: str, returned: always}
    datacenter: {description: Datacenter name., type: str, returned: always}
    cluster: {description: Cluster name (null for a standalone host)., type: str, returned: always}
    graphics:
      description: Configured host graphics (HostGraphicsConfig).
      type: dict
      returned: always
      contains:
        default_type: {description: "C(shared) (vSGA) or C(sharedDirect) (vendor vGPU).", type: str, returned: always}
        assignment_policy: {description: "C(performance) or C(consolidation).", type: str, returned: always}
        devices: {description: "Per-device settings: id, graphics_type, vgpu_mode.", type: list, elements: dict, returned: always}
    gpus:
      description: NVIDIA GPUs of the host.
      type: list
      elements: dict
      returned: always
      contains:
        id: {description: PCI address (0000:3b:00.0)., type: str, returned: always}
        vendor_id: {description: PCI vendor id (decimal)., type: int, returned: always}
        device_id: {description: PCI device id (decimal)., type: int, returned: always}
        pci_id: {description: "vendor:device in hex (10de:2236).", type: str, returned: always}
        passthrough: {description: "capable, enabled, active, label.", type: dict, returned: always}
        graphics_type: {description: "Active graphics type (basic, shared, direct, sharedDirect).", type: str, returned: always}
        vgpu_mode: {description: "Active vGPU mode (none, sameSize, mixedSize); null before API 8.0.3.", type: str, returned: always}
        vms: {description: Powered-on VMs using the GPU., type: list, elements: str, returned: always}
    vgpu_profiles: {description: vGPU profiles the host offers (sharedPassthruGpuTypes)., type: list, elements: str, returned: always}
    reboot_required: {description: A GPU's passthrough setting differs from what is active., type: bool, returned: always}
    graphics_restart_required:
      description: A GPU's configured graphics type is not active yet (reboot or nv-hostengine restart).
      type: bool
      returned: always
vms:
  description: VMs on those hosts with vGPU or passthrough devices.
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: VM name., type: str, returned: always}
    host: {description: ESXi host the VM is registered on., type: str, returned: always}
    power_state: {description: "poweredOn, poweredOff or suspended.", type: str, returned: always}
    vgpu_profiles: {description: vGPU profiles of the VM's vGPUs (one entry per vGPU)., type: list, elements: str, returned: always}
    passthrough_devices:
      description: "Dynamic DirectPath devices: vendor_id, device_id, custom_label, assigned_id."
      type: list
      elements: dict
      returned: always
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_gpu_info import VsphereGpuInfo
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            'vsphere',
            datacenter=dict(type='str'),
            cluster=dict(type='str'),
            esxi_hostname=dict(type='str'),
            all_vms=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    run(module, VsphereGpuInfo)


if __name__ == '__main__':
    main()
