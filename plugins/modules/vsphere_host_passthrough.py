#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: vsphere_host_passthrough
short_description: Enable or disable PCI passthrough of NVIDIA GPUs on ESXi hosts
version_added: 0.1.0
description:
  - Enables or disables DirectPath I/O passthrough of GPUs named by PCI address, or of every GPU with a
    vendor/device id, on one host or every host of a cluster (HostPciPassthruSystem.UpdatePassthruConfig).
  - Passthrough becomes active after a host reboot unless O(apply_now) rebinds the device at once;
    RV(hosts[].reboot_required) compares passthruEnabled with passthruActive.
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.vsphere
  - gpuvirt.core.vsphere.HOST_SCOPE
  - gpuvirt.core.attributes
options:
  devices:
    description: GPUs to change.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description: PCI address (0000:af:00.0). Either this or O(devices[].device_id).
        type: str
      vendor_id:
        description: PCI vendor id, integer or hex string. Defaults to NVIDIA (0x10de) when O(devices[].device_id) is set.
        type: raw
      device_id:
        description: PCI device id, integer (8433) or hex string ("20f1"); every matching GPU is changed.
        type: raw
      enabled:
        description: Whether passthrough is enabled.
        type: bool
        default: true
      label:
        description: Hardware label, matched by the custom label of Dynamic DirectPath devices (API 7.0.2+).
        type: str
  apply_now:
    description:
      - Rebind the devices at once instead of at the next reboot. Refused for a GPU that powered-on VMs use.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reports the exact change without calling UpdatePassthruConfig.
  diff_mode:
    support: full
    details: Before and after passthrough state per host.
'''

EXAMPLES = r'''
- name: Every A100 of the cluster in passthrough, active after the next reboot
  gpuvirt.core.vsphere_host_passthrough:
    cluster: gpu-cluster
    devices:
      - device_id: "20f1"
  register: passthrough

- name: One GPU now
  gpuvirt.core.vsphere_host_passthrough:
    esxi_hostname: esxi-01.example.com
    devices:
      - id: "0000:af:00.0"
        enabled: true
    apply_now: true
'''

RETURN = r'''
hosts:
  description: Per host, its GPUs' passthrough state and whether a reboot is needed.
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: Host name., type: str, returned: always}
    changed: {description: Whether this host changed (or would in check mode)., type: bool, returned: always}
    devices: {description: "Per GPU: id, capable, enabled, active, label.", type: list, elements: dict, returned: always}
    reboot_required: {description: Some GPU's passthruEnabled differs from passthruActive., type: bool, returned: always}
reboot_required:
  description: Some host needs a reboot for passthrough to become active.
  returned: success
  type: bool
changes:
  description: The changes made (or planned in check mode).
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec, constraints
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_host_passthrough import VsphereHostPassthrough
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            'vsphere', 'vsphere.HOST_SCOPE',
            devices=dict(type='list', elements='dict', required=True, options=dict(
                id=dict(type='str'),
                vendor_id=dict(type='raw'),
                device_id=dict(type='raw'),
                enabled=dict(type='bool', default=True),
                label=dict(type='str'),
            ), mutually_exclusive=[['id', 'device_id']], required_one_of=[['id', 'device_id']]),
            apply_now=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
        **constraints('vsphere.HOST_SCOPE')
    )
    run(module, VsphereHostPassthrough)


if __name__ == '__main__':
    main()
