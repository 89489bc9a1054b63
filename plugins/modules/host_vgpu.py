#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_vgpu
short_description: Declare the vGPU layout of the GPUs of a Linux KVM host (mdev or vendor-specific VFIO)
version_added: 0.1.0
description:
  - Makes each selected GPU hold exactly the vGPUs asked for, on whichever backend the host uses, detected at runtime
    (mdev on the physical function, mdev on SR-IOV virtual functions, or NVIDIA's vendor-specific VFIO framework).
  - Plans the whole change with the vGPU catalog before the first write (type offered by the GPU, capacity, equal-size and
    MIG rules, one vGPU per virtual function, vGPUs in use by running VMs) and fails with nothing written when it is impossible.
  - Keeps existing vGPUs of a wanted type, removes the others, creates what is missing; a second run writes nothing.
  - On a failed write it undoes its own changes of this run (newest first) and reports what is left.
  - Accepts NVIDIA vgpu-device-manager's configuration file format instead of I(vgpu_type) (I(config_file) + I(selected_config)).
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.host
  - gpuvirt.core.attributes
options:
  devices:
    description:
      - C(all), or a list of GPU PCI addresses (C(0000:3b:00.0), C(3b:00.0)) or GPU indices (NVIDIA GPUs sorted by PCI address).
      - With I(vgpu_type), C(all) means every GPU whose model offers that type (a host may mix GPU models); named GPUs must
        offer it.
    type: raw
    default: all
  vgpu_type:
    description:
      - The vGPU type, in any spelling the C(gpuvirt.core.vgpu_profile) filter accepts (C(A10-4Q), C(NVIDIA A10-4Q), C(GRID T4-1Q)).
      - With I(state=absent), only vGPUs of this type are removed; without it, all vGPUs of the selected GPUs are.
    type: str
  count:
    description:
      - vGPUs of I(vgpu_type) per selected GPU. Default is the most that fit.
      - C(0) leaves the GPU with no vGPU.
    type: int
  state:
    description:
      - C(present) makes the layout exact; C(absent) removes vGPUs.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - Remove or replace vGPUs that a running VM uses. The result lists them under C(forced).
      - The kernel may still refuse (EBUSY); the module then undoes its changes.
      - A real kernel blocks the removal of a vGPU a VM holds until the VM lets it go; the module waits I(remove_timeout)
        seconds for it, then fails with C(outcome_unknown) (the removal still happens once the VM lets go) and reports
        the layout read again and the C(remaining_changes).
    type: bool
    default: false
  remove_timeout:
    description:
      - Seconds to wait for the removal of each vGPU a running VM holds (with I(force)); 0 does not wait.
    type: int
    default: 30
  persist:
    description:
      - Write mdevctl definitions (C(start=auto)) under C(host_root/etc/mdevctl.d/<parent>/<uuid>) for the resulting mdev vGPUs.
      - On the GPUs it acts on, the module owns the mdevctl definitions, whether or not I(persist) is set - it deletes
        every definition under those GPUs' parents that does not match a vGPU of the resulting layout (also ones
        written by hand or by other tools, C(start=manual) included), because a stale definition would recreate an
        unwanted vGPU at boot or fail there. The deletions are listed in the plan and diff like any other change.
      - Vendor-specific VFIO vGPUs cannot be persisted by mdevctl; the module warns.
      - The definitions are started at boot by mdevctl's udev rule (C(60-mdevctl.rules)); when the host has none (the
        mdevctl package is not installed), the module still writes them and warns that nothing will start them.
    type: bool
    default: false
  mixed_size:
    description:
      - The GPUs run in mixed-size mode (vGPU 17+, set with C(nvidia-smi vgpu -shm 1)); allows different framebuffer sizes on one GPU.
    type: bool
    default: false
  config_file:
    description:
      - Path (on the managed host) of a vgpu-device-manager configuration file (C(version) V(v1), C(vgpu-configs)).
      - Only the I(selected_config) label is validated; the others may name GPUs or types this host does not have.
      - C(device-filter) takes C(0x<device><vendor>) or, to tell boards sharing a device id apart (A2 and A16),
        C(0x<device><vendor>:0x<subsystem device><subsystem vendor>) such as C(0x25B610DE:0x157E10DE).
      - As C(nvidia-vgpu-dm apply) does, every entry that matches a GPU (C(devices), C(device-filter)) is checked in order
        against it - an entry with a type the GPU lacks, or a layout that does not fit, fails before any write, naming the
        entry - and the last matching entry is the GPU's layout; GPUs no entry matches are left alone.
      - A GPU the vGPU catalog does not know is planned from the types its driver lists (C(available_instances), the
        C(description)'s C(max_instance)), with a warning.
    type: path
  selected_config:
    description:
      - The label under C(vgpu-configs) to apply. Required with I(config_file).
    type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - SR-IOV GPUs need their virtual functions enabled first (M(gpuvirt.core.host_gpu_sriov)).
  - New mdev vGPUs get random UUIDs, as vgpu-device-manager gives them; in check mode the reported UUIDs are examples.
'''

EXAMPLES = r'''
- name: Four A10-6Q vGPUs on every A10
  gpuvirt.core.host_vgpu:
    vgpu_type: A10-6Q
    count: 4
    persist: true

- name: The most T4-1Q vGPUs that fit on GPU index 2
  gpuvirt.core.host_vgpu:
    devices: [2]
    vgpu_type: GRID T4-1Q

- name: Remove every vGPU of one GPU
  gpuvirt.core.host_vgpu:
    devices: ["0000:3b:00.0"]
    state: absent

- name: Apply a vgpu-device-manager configuration
  gpuvirt.core.host_vgpu:
    config_file: /etc/nvidia/vgpu-config.yaml
    selected_config: A10-4Q
'''

RETURN = r'''
created:
  description: Ids of the vGPUs created (mdev UUIDs, or VF addresses on vendor-VFIO GPUs); in check mode, those that would be.
  returned: always
  type: list
  elements: str
removed:
  description: Ids of the vGPUs removed (or that would be).
  returned: always
  type: list
  elements: str
forced:
  description: vGPUs in use by a VM that I(force) removed or replaced.
  returned: always
  type: list
  elements: dict
gpus:
  description: The resulting layout of each GPU in scope (read back from sysfs after a change).
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: GPU PCI address.
      type: str
    index:
      description: GPU index.
      type: int
    vgpu_backend:
      description: C(mdev) or C(vendor_vfio).
      type: str
    vgpus:
      description: vGPUs with C(id), C(type_id), C(type_name), C(parent), C(in_use), C(vm).
      type: list
      elements: dict
changes:
  description: The planned (check mode) or applied writes, in order, with action, target and details.
  returned: always
  type: list
  elements: dict
failed_change:
  description: On a failed apply, the change that failed; C(applied), C(undone), C(not_started), C(state_restored) describe the rest.
  returned: failure
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.host_vgpu import HostVgpu


def main():
    spec = argument_spec(
        'host',
        devices=dict(type='raw', default='all'),
        vgpu_type=dict(type='str'),
        count=dict(type='int'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        force=dict(type='bool', default=False),
        persist=dict(type='bool', default=False),
        mixed_size=dict(type='bool', default=False),
        config_file=dict(type='path'),
        selected_config=dict(type='str'),
        remove_timeout=dict(type='int', default=30),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           mutually_exclusive=[('vgpu_type', 'config_file')], required_together=[('config_file', 'selected_config')])
    run(module, HostVgpu)


if __name__ == '__main__':
    main()
