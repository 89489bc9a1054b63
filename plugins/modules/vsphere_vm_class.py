#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: vsphere_vm_class
short_description: vSphere with Tanzu VM class with vGPU or Dynamic DirectPath I/O devices, assigned to namespaces
version_added: 0.1.0
description:
  - Creates, updates or deletes a VM class of vSphere with Tanzu (vSphere IaaS control plane) through vCenter's REST
    API (C(/api/vcenter/namespace-management/virtual-machine-classes)), and adds it to Supervisor namespaces
    (their C(vm_service_spec.vm_classes)), so TanzuKubernetesCluster node pools and VM Service VMs can use it.
  - GPU devices are written as C(devices) (vgpu_devices, Dynamic DirectPath I/O devices) on vCenter 7.0.3 up to
    8.0.1, and as device changes in C(config_spec) on vCenter 8.0.2 and later, where C(devices) is deprecated
    (see O(device_api)).
  - A class with GPU devices reserves all of its memory (C(memory_reservation=100)); another value is refused.
  - vGPU profiles are checked against the collection's catalog and written as vSphere profile strings
    (V(grid_a100-3-20c)), so an unknown profile fails before anything is written.
  - Replaces the "Create VM Class" wizard (PCI devices, NVIDIA vGPU, MIG) and the namespace's "Manage VM Classes"
    dialog of seed 004.
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.vsphere
  - gpuvirt.core.attributes
options:
  id:
    description:
      - The VM class id (a DNS label of at most 63 characters), for example V(gpu01).
    type: str
    required: true
  cpu_count:
    description:
      - Virtual CPUs of VMs of this class. Required to create the class; kept when unset.
    type: int
  memory_mb:
    description:
      - Memory of VMs of this class, in MB. Required to create the class; kept when unset.
    type: int
  cpu_reservation:
    description:
      - Percentage of the CPU reserved for each VM (0 to 100). Kept when unset.
    type: int
  memory_reservation:
    description:
      - Percentage of the memory reserved for each VM (0 to 100). Kept when unset.
      - A class with GPU devices always reserves V(100); any other value is refused.
    type: int
  description:
    description:
      - Description of the class.
    type: str
  vgpu_profiles:
    description:
      - vGPU profiles of VMs of this class, in any spelling the catalog knows (V(A100-3-20C), V(grid_a100-3-20c),
        V(NVIDIA A10-4Q)); a profile may repeat. V([]) removes them; unset keeps the current ones.
    type: list
    elements: str
  passthrough_devices:
    description:
      - Dynamic DirectPath I/O devices of VMs of this class. V([]) removes them; unset keeps the current ones.
    type: list
    elements: dict
    suboptions:
      vendor_id:
        description:
          - PCI vendor id; an integer is decimal (V(4318)), a string is hex digits (V("10de")).
        type: raw
        required: true
      device_id:
        description:
          - PCI device id, same forms as O(passthrough_devices[].vendor_id).
        type: raw
        required: true
      custom_label:
        description:
          - Hardware label the host's device must carry.
        type: str
  namespaces:
    description:
      - Supervisor namespaces the class is added to. Other classes of those namespaces and their content libraries
        are kept.
    type: list
    elements: str
    default: []
  purge_namespaces:
    description:
      - Also remove the class from namespaces not listed in O(namespaces).
    type: bool
    default: false
  device_api:
    description:
      - Where GPU devices are written. V(auto) picks V(config_spec) on vCenter 8.0.2 and later, else V(devices).
    type: str
    choices: [auto, devices, config_spec]
    default: auto
  state:
    description:
      - V(present) creates or updates the class; V(absent) removes it from its namespaces and deletes it.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Uses vCenter's REST API only (one session per run, always closed); pyvmomi is not needed by this module.
  - vCenter 7.0.3 or later is needed for GPU devices in VM classes.
  - Changing a class does not change VMs already created from it.
seealso:
  - module: gpuvirt.core.vsphere_host_graphics
  - module: gpuvirt.core.capv_machine_template_gpu
'''

EXAMPLES = r'''
- name: VM class gpu01 with an A100 MIG-backed vGPU (3g.20gb), offered in namespace tak (seed 004)
  gpuvirt.core.vsphere_vm_class:
    hostname: vcenter.lab.example
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
    id: gpu01
    cpu_count: 4
    memory_mb: 16384
    vgpu_profiles: [A100-3-20C]
    namespaces: [tak]

- name: A class with an L40S passed through (Dynamic DirectPath I/O)
  gpuvirt.core.vsphere_vm_class:
    id: l40s-passthrough
    cpu_count: 16
    memory_mb: 131072
    passthrough_devices:
      - {vendor_id: 4318, device_id: 9913}

- name: Delete the class (removed from its namespaces first)
  gpuvirt.core.vsphere_vm_class:
    id: gpu01
    state: absent
'''

RETURN = r'''
vm_class:
  description: The class after the run (as it would be, in check mode); null when absent.
  returned: success
  type: dict
  sample: {"cpu_count": 4, "memory_mb": 16384, "cpu_reservation": null, "memory_reservation": 100, "description": "",
           "vgpu_profiles": ["grid_a100-3-20c"], "passthrough_devices": []}
namespaces:
  description: Namespaces the class is assigned to after the run.
  returned: success
  type: list
  elements: str
device_api:
  description: Where GPU devices are written on this vCenter (V(devices) or V(config_spec)); null when it has no device support.
  returned: success
  type: str
vcenter_version:
  description: The vCenter version the module talked to.
  returned: success
  type: str
  sample: 8.0.3.0
changes:
  description: The planned writes (create, update or delete the class; assign or unassign namespaces).
  returned: success
  type: list
  elements: dict
api_calls:
  description: REST requests this run made (login and logout included).
  returned: success
  type: int
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_vm_class import VsphereVmClass
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            'vsphere',
            id=dict(type='str', required=True),
            cpu_count=dict(type='int'),
            memory_mb=dict(type='int'),
            cpu_reservation=dict(type='int'),
            memory_reservation=dict(type='int'),
            description=dict(type='str'),
            vgpu_profiles=dict(type='list', elements='str'),
            passthrough_devices=dict(type='list', elements='dict', no_log=False, options=dict(
                vendor_id=dict(type='raw', required=True),
                device_id=dict(type='raw', required=True),
                custom_label=dict(type='str'),
            )),
            namespaces=dict(type='list', elements='str', default=[]),
            purge_namespaces=dict(type='bool', default=False),
            device_api=dict(type='str', choices=['auto', 'devices', 'config_spec'], default='auto'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        supports_check_mode=True,
    )
    run(module, VsphereVmClass)


if __name__ == '__main__':
    main()
