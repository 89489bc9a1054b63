#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_gpu_sriov
short_description: Enable or disable the SR-IOV virtual functions of NVIDIA GPUs on a Linux KVM host
version_added: 0.1.0
description:
  - Runs NVIDIA's C(sriov-manage -e ADDR) or C(-d ADDR) for each selected SR-IOV GPU whose state differs, the only way NVIDIA
    supports to create the virtual functions that carry vGPUs on Ampere and later GPUs.
  - C(sriov-manage) can exit 0 without having enabled anything, so the module checks C(sriov_numvfs) and the C(virtfnN) links
    afterwards and runs it again until I(timeout).
  - Refuses to disable the VFs of a GPU that still has vGPUs, or whose VFs a running VM uses, unless I(force) (the vGPUs are then
    removed first, and listed in C(removed)/C(forced)); refuses to enable SR-IOV on a GPU bound to vfio-pci without I(force).
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.host
  - gpuvirt.core.attributes
options:
  devices:
    description:
      - C(all) (every SR-IOV GPU; GPUs without SR-IOV are skipped), or a list of GPU PCI addresses or indices.
    type: raw
    default: all
  state:
    description:
      - C(enabled) creates all the GPU's VFs (C(sriov_totalvfs)); C(disabled) removes them.
    type: str
    choices: [enabled, disabled]
    default: enabled
  force:
    description:
      - Disable even when vGPUs exist (they are removed first) or VMs use the VFs; enable even on a GPU bound to vfio-pci.
    type: bool
    default: false
  sriov_manage:
    description:
      - Path of NVIDIA's script. Default C(host_root/usr/lib/nvidia/sriov-manage).
    type: path
  timeout:
    description:
      - Seconds to keep re-running C(sriov-manage) until the VFs are really there (or gone); 0 runs it once without retrying; a negative value is refused.
    type: int
    default: 60
  retry_delay:
    description:
      - Seconds between two runs of C(sriov-manage) for one GPU.
    type: float
    default: 2.0
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - VFs vanish at reboot and on driver reload; run this at boot (or before M(gpuvirt.core.host_vgpu) in every play).
'''

EXAMPLES = r'''
- name: Enable the VFs of every SR-IOV GPU
  gpuvirt.core.host_gpu_sriov:
    state: enabled

- name: Disable the VFs of one GPU, removing its vGPUs
  gpuvirt.core.host_gpu_sriov:
    devices: ["0000:3b:00.0"]
    state: disabled
    force: true
'''

RETURN = r'''
gpus:
  description: SR-IOV GPUs after the run with C(address), C(total_vfs), C(num_vfs) and C(vfs) (addresses).
  returned: always
  type: list
  elements: dict
attempts:
  description: How many times C(sriov-manage) ran, per GPU address.
  returned: always
  type: dict
removed:
  description: vGPUs removed before disabling (with I(force)).
  returned: always
  type: list
  elements: str
forced:
  description: vGPUs in use by VMs that I(force) removed.
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
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.host_gpu_sriov import HostGpuSriov


def main():
    spec = argument_spec(
        'host',
        devices=dict(type='raw', default='all'),
        state=dict(type='str', default='enabled', choices=['enabled', 'disabled']),
        force=dict(type='bool', default=False),
        sriov_manage=dict(type='path'),
        timeout=dict(type='int', default=60),
        retry_delay=dict(type='float', default=2.0),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    run(module, HostGpuSriov)


if __name__ == '__main__':
    main()
