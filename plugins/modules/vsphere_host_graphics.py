#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: vsphere_host_graphics
short_description: Host graphics type, assignment policy and per-GPU graphics type / vGPU mode on ESXi
version_added: 0.1.0
description:
  - Sets the host default graphics type (C(sharedDirect) for NVIDIA vGPU), the shared passthrough GPU
    assignment policy and per-GPU graphics type and vGPU mode, on one host or every host of a cluster.
  - New graphics settings take effect after a host reboot or a restart of nv-hostengine; the module says
    so per host in RV(hosts[].restart_required). A vGPU mode change is refreshed at once.
  - A new assignment policy is also active only after that restart. vSphere does not show the active policy, so only
    the run that changes it reports C(restart_required) for it, and M(gpuvirt.core.vsphere_host_reboot) cannot find it
    pending later; reboot those hosts with its O(gpuvirt.core.vsphere_host_reboot#module:force) option.
  - Refuses to change a GPU that powered-on VMs use (power them off first).
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.vsphere
  - gpuvirt.core.vsphere.HOST_SCOPE
  - gpuvirt.core.attributes
options:
  default_graphics_type:
    description: Host default graphics type. Unset keeps the current one.
    type: str
    choices: [shared, sharedDirect]
  assignment_policy:
    description: How vGPU VMs are spread over GPUs; unset keeps the current one.
    type: str
    choices: [performance, consolidation]
  devices:
    description: Per-GPU settings.
    type: list
    elements: dict
    suboptions:
      id:
        description: PCI address of the GPU (0000:3b:00.0 or 3b:00.0).
        type: str
        required: true
      graphics_type:
        description: Graphics type of this GPU.
        type: str
        choices: [shared, sharedDirect]
      vgpu_mode:
        description: vGPU mode of this GPU (vSphere 8.0 Update 3 and later).
        type: str
        choices: [sameSize, mixedSize]
attributes:
  check_mode:
    support: full
    details: Reports the exact change without calling UpdateGraphicsConfig.
  diff_mode:
    support: full
    details: Before and after of the graphics configuration per host.
'''

EXAMPLES = r'''
- name: Shared Direct on every host of the GPU cluster
  gpuvirt.core.vsphere_host_graphics:
    cluster: gpu-cluster
    default_graphics_type: sharedDirect
    assignment_policy: performance
  register: graphics

- name: One A10 in mixed-size vGPU mode
  gpuvirt.core.vsphere_host_graphics:
    esxi_hostname: esxi-01.example.com
    devices:
      - id: "0000:3b:00.0"
        graphics_type: sharedDirect
        vgpu_mode: mixedSize
'''

RETURN = r'''
hosts:
  description: Per host, its configured graphics state after the run and what is still needed.
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: Host name., type: str, returned: always}
    changed: {description: Whether this host's configuration changed (or would in check mode)., type: bool, returned: always}
    graphics: {description: "default_type, assignment_policy, devices.", type: dict, returned: always}
    restart_required: {description: The configuration is not active yet on this host., type: bool, returned: always}
    action_needed: {description: What makes it active (reboot or nv-hostengine restart)., type: str, returned: always}
restart_required:
  description: Some host needs a reboot or nv-hostengine restart.
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
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_host_graphics import VsphereHostGraphics
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            'vsphere', 'vsphere.HOST_SCOPE',
            default_graphics_type=dict(type='str', choices=['shared', 'sharedDirect']),
            assignment_policy=dict(type='str', choices=['performance', 'consolidation']),
            devices=dict(type='list', elements='dict', options=dict(
                id=dict(type='str', required=True),
                graphics_type=dict(type='str', choices=['shared', 'sharedDirect']),
                vgpu_mode=dict(type='str', choices=['sameSize', 'mixedSize']),
            )),
        ),
        supports_check_mode=True,
        **constraints('vsphere.HOST_SCOPE')
    )
    run(module, VsphereHostGraphics)


if __name__ == '__main__':
    main()
