#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: vsphere_vm_gpu
short_description: vGPU profiles and Dynamic DirectPath GPUs of a vSphere VM
version_added: 0.1.0
description:
  - Makes a VM's vGPUs (VirtualPCIPassthrough with a vGPU profile; a profile may repeat for several vGPUs) and
    Dynamic DirectPath I/O devices (by vendor/device id and custom label) what is asked, reserves all guest
    memory (memoryReservationLockedToMax), and for large-BAR passthrough GPUs sets 64-bit MMIO.
  - Validates before any change that the VM's host offers each profile (the error lists the valid ones) and
    has a GPU in Shared Direct mode for it, that Dynamic DirectPath has virtual hardware vmx-17 or later and a
    passthrough-enabled matching GPU on the host.
  - A powered-on VM is refused unless O(power_cycle=true); then it is shut down (powered off after
    O(shutdown_timeout)), reconfigured and powered on again. On a failure the VM's devices and power state
    are restored.
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.vsphere
  - gpuvirt.core.attributes
options:
  name:
    description: VM name. One of O(name), O(uuid) and O(moid) is required.
    type: str
  uuid:
    description: VM BIOS or instance UUID.
    type: str
  moid:
    description: VM managed object id (vm-42).
    type: str
  vgpu_profiles:
    description:
      - vGPUs of the VM, one entry per vGPU (C(grid_a10-4q), C(A10-4Q) or C(NVIDIA A10-4Q)).
      - With O(state=present) the VM ends with exactly these vGPUs; unset leaves vGPUs alone.
    type: list
    elements: str
  passthrough_devices:
    description:
      - Dynamic DirectPath I/O devices; with O(state=present) the VM ends with exactly these; unset leaves
        them alone.
    type: list
    elements: dict
    suboptions:
      vendor_id:
        description: PCI vendor id, integer (4318) or hex string; default NVIDIA.
        type: raw
      device_id:
        description: PCI device id, integer (8433) or hex string ("20f1").
        type: raw
        required: true
      custom_label:
        description: Only host devices with this hardware label match.
        type: str
  state:
    description: V(present) sets the listed devices; V(absent) removes them (all GPU devices when none are listed).
    type: str
    choices: [present, absent]
    default: present
  power_cycle:
    description:
      - Allow shutting a powered-on VM down to change its devices, and power it on afterwards. Without it a
        powered-on VM that needs a change is an error; the VM is never powered off.
    type: bool
    default: false
  shutdown_timeout:
    description: Seconds to wait for the guest shutdown before powering off; more than 0.
    type: int
    default: 300
  mmio_size_gb:
    description:
      - C(pciPassthru.64bitMMIOSizeGB) for passthrough GPUs. Unset sizes it from the devices (the total
        framebuffer rounded up to a power of two when above 16 GB); V(0) sets nothing.
    type: int
attributes:
  check_mode:
    support: full
    details: Reports the exact change; makes no call that changes anything.
  diff_mode:
    support: full
    details: Before and after of the VM's GPU devices, memory lock and MMIO settings.
'''

EXAMPLES = r'''
- name: Two A10-4Q vGPUs
  gpuvirt.core.vsphere_vm_gpu:
    name: render-01
    vgpu_profiles: [grid_a10-4q, grid_a10-4q]

- name: One A100 by Dynamic DirectPath, shutting the VM down if it runs
  gpuvirt.core.vsphere_vm_gpu:
    name: train-01
    passthrough_devices:
      - device_id: "20f1"
        custom_label: training
    power_cycle: true

- name: Remove every GPU device
  gpuvirt.core.vsphere_vm_gpu:
    name: render-01
    state: absent
'''

RETURN = r'''
vm:
  description: The VM's GPU configuration after the run (planned in check mode).
  returned: success
  type: dict
  contains:
    name: {description: VM name., type: str, returned: always}
    host: {description: ESXi host of the VM., type: str, returned: always}
    power_state: {description: Power state at the start of the run (the run restores it)., type: str, returned: always}
    hardware_version: {description: Virtual hardware version., type: str, returned: always}
    vgpu_profiles: {description: vGPU profiles., type: list, elements: str, returned: always}
    passthrough_devices: {description: Dynamic DirectPath devices., type: list, elements: dict, returned: always}
    memory_reservation_locked: {description: memoryReservationLockedToMax., type: bool, returned: always}
changes:
  description: The changes made (or planned in check mode), in order (power_off, reconfigure, power_on).
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_vm_gpu import VsphereVmGpu
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            'vsphere',
            name=dict(type='str'),
            uuid=dict(type='str'),
            moid=dict(type='str'),
            vgpu_profiles=dict(type='list', elements='str'),
            passthrough_devices=dict(type='list', elements='dict', no_log=False, options=dict(
                vendor_id=dict(type='raw'),
                device_id=dict(type='raw', required=True),
                custom_label=dict(type='str'),
            )),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            power_cycle=dict(type='bool', default=False),
            shutdown_timeout=dict(type='int', default=300),
            mmio_size_gb=dict(type='int'),
        ),
        required_one_of=[['name', 'uuid', 'moid']],
        mutually_exclusive=[['name', 'uuid', 'moid']],
        supports_check_mode=True,
    )
    run(module, VsphereVmGpu)


if __name__ == '__main__':
    main()
