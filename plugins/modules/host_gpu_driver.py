#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_gpu_driver
short_description: Bind NVIDIA GPUs to vfio-pci for passthrough, or back to nvidia, on a Linux KVM host
version_added: 0.1.0
description:
  - Binds each GPU, and by default the other functions of its IOMMU group (such as its audio function), the way driverctl
    does it through sysfs, unbind from the current driver, C(driver_override), C(drivers_probe), then checks the result.
  - C(driver=nvidia) clears the override and lets the kernel pick the default driver again (nvidia for the GPU).
  - Deletes the mdevctl definitions under C(host_root/etc/mdevctl.d) of the GPUs it binds, like M(gpuvirt.core.host_vgpu)
    does for vGPUs it removes, since a GPU on vfio-pci cannot host the vGPUs they would create at boot.
  - Refuses devices in use by a running VM, SR-IOV virtual functions, GPUs with VFs enabled, and GPUs with vGPUs (unless I(force),
    which removes the vGPUs first).
  - With I(persist), writes a driverctl override (C(host_root/etc/driverctl.d/pci-ADDRESS)) or a modprobe configuration so the
    binding survives a reboot.
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.host
  - gpuvirt.core.attributes
options:
  devices:
    description:
      - PCI addresses of GPUs (or of another function of a GPU's IOMMU group).
    type: list
    elements: str
    required: true
  driver:
    description:
      - C(vfio-pci) for passthrough, C(nvidia) to give the GPU back to the host driver.
    type: str
    required: true
    choices: [vfio-pci, nvidia]
  include_iommu_group:
    description:
      - Also bind the other functions of each GPU's IOMMU group; VFIO needs the whole group.
    type: bool
    default: true
  force:
    description:
      - Rebind devices a running VM uses, and remove the GPU's vGPUs first; listed in C(forced) and C(removed).
    type: bool
    default: false
  persist:
    description:
      - Make the binding survive a reboot (see I(persist_method)).
    type: bool
    default: false
  persist_method:
    description:
      - C(driverctl) writes one override file per address (read by driverctl's udev rule at boot); when the host has
        no such rule (C(05-driverctl.rules), from the driverctl package), the module still writes them
        and warns that nothing will read them.
      - C(modprobe) writes C(options vfio-pci ids=...) and softdeps to C(host_root/etc/modprobe.d/gpuvirt-vfio.conf); it binds
        every device with those PCI ids, and needs an initramfs update on most distributions.
    type: str
    choices: [driverctl, modprobe]
    default: driverctl
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
'''

EXAMPLES = r'''
- name: Give a GPU (and its audio function) to vfio-pci, persistently
  gpuvirt.core.host_gpu_driver:
    devices: ["0000:3b:00.0"]
    driver: vfio-pci
    persist: true

- name: Back to the NVIDIA driver
  gpuvirt.core.host_gpu_driver:
    devices: ["0000:3b:00.0"]
    driver: nvidia
    persist: true
'''

RETURN = r'''
devices:
  description: Each function concerned with its C(driver) and C(driver_override) after the run.
  returned: always
  type: list
  elements: dict
removed:
  description: vGPUs removed first (with I(force)).
  returned: always
  type: list
  elements: str
forced:
  description: Devices or vGPUs in use that I(force) changed.
  returned: always
  type: list
  elements: dict
changes:
  description: The planned or applied changes.
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.host_gpu_driver import HostGpuDriver


def main():
    spec = argument_spec(
        'host',
        devices=dict(type='list', elements='str', required=True),
        driver=dict(type='str', required=True, choices=['vfio-pci', 'nvidia']),
        include_iommu_group=dict(type='bool', default=True),
        force=dict(type='bool', default=False),
        persist=dict(type='bool', default=False),
        persist_method=dict(type='str', default='driverctl', choices=['driverctl', 'modprobe']),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    run(module, HostGpuDriver)


if __name__ == '__main__':
    main()
