#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_gpu_info
short_description: Report the NVIDIA GPUs of a Linux KVM host, their vGPU backend, types and vGPUs
version_added: 0.1.0
description:
  - Walks the host's sysfs once and reports every NVIDIA GPU (a VGA or 3D controller function that is not an SR-IOV
    virtual function, at any PCI address, e.g. C(0000:00:06.0) in a VM with a passed-through GPU) with its PCI identity, driver, IOMMU group,
    SR-IOV state, the vGPU backend detected at runtime (C(mdev), C(vendor_vfio) or C(none)), the vGPU types it offers with
    their capacity, and the existing vGPUs with their type and whether a running VM uses them.
  - Also reports the IOMMU state (groups present, the kernel command line parameters that matter) and the NVIDIA driver
    (its version, and whether it is the vGPU manager or the datacenter driver), and what the host still lacks before
    vGPU can work (C(vgpu_readiness)).
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.host
  - gpuvirt.core.attributes
  - gpuvirt.core.attributes.info_module
options:
  devices:
    description:
      - C(all), or a list of GPU PCI addresses (C(0000:3b:00.0), C(3b:00.0)) or GPU indices (NVIDIA GPUs sorted by address).
    type: raw
    default: all
'''

EXAMPLES = r'''
- name: Read the GPUs of this host
  gpuvirt.core.host_gpu_info:
  register: host_gpus

- name: Show each GPU's backend and free capacity
  ansible.builtin.debug:
    msg: "{{ item.address }} {{ item.vgpu_backend }} {{ item.vgpu_types | selectattr('available_instances') | map(attribute='short_name') }}"
  loop: "{{ host_gpus.gpus }}"
'''

RETURN = r'''
gpus:
  description: NVIDIA GPUs (physical functions), sorted by PCI address.
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: PCI address of the physical function.
      type: str
      sample: "0000:3b:00.0"
    index:
      description: GPU index (position among NVIDIA GPUs sorted by PCI address, as nvidia-smi and vgpu-device-manager count).
      type: int
    vendor_id:
      description: PCI vendor id.
      type: str
      sample: "0x10de"
    device_id:
      description: PCI device id.
      type: str
      sample: "0x2236"
    subsystem_id:
      description: PCI subsystem device id (tells boards sharing a device id apart, e.g. A2 and A16).
      type: str
      sample: "0x1482"
    model:
      description: Catalog GPU token derived from the driver's type names (C(A10), C(T4)); null when unknown.
      type: str
    driver:
      description: Driver bound to the physical function (C(nvidia), C(vfio-pci)); null when unbound.
      type: str
    driver_override:
      description: The device's C(driver_override), null when unset.
      type: str
    iommu_group:
      description: IOMMU group number (string); null without an IOMMU.
      type: str
    iommu_group_members:
      description: Other PCI functions in the same IOMMU group (for example the GPU's audio function).
      type: list
      elements: str
    numa_node:
      description: NUMA node of the GPU as sysfs reports it.
      type: str
    sriov:
      description: SR-IOV state.
      type: dict
      contains:
        capable:
          description: The GPU has SR-IOV (C(sriov_totalvfs) exists).
          type: bool
        total_vfs:
          description: C(sriov_totalvfs).
          type: int
        num_vfs:
          description: C(sriov_numvfs).
          type: int
        vfs:
          description: VF addresses from the C(virtfnN) links.
          type: list
          elements: str
    vgpu_backend:
      description: C(mdev), C(vendor_vfio) or C(none) (no vGPU support found; on an SR-IOV GPU usually VFs not enabled).
      type: str
    vgpu_types:
      description: vGPU types the GPU offers now.
      type: list
      elements: dict
      contains:
        id:
          description: C(nvidia-N) (mdev type directory) or the numeric id (vendor VFIO).
          type: str
        name:
          description: The driver's name (C(NVIDIA A10-4Q), C(GRID T4-1Q)).
          type: str
        short_name:
          description: The short type name (C(A10-4Q)).
          type: str
        available_instances:
          description: How many more vGPUs of this type the GPU can take now.
          type: int
        max_instances:
          description: Most vGPUs of this type per GPU (from the driver's description or the catalog); null when unknown.
          type: int
        framebuffer_mib:
          description: Framebuffer of the type in MiB; null when unknown.
          type: int
    vgpus:
      description: Existing vGPUs on the GPU.
      type: list
      elements: dict
      contains:
        id:
          description: mdev UUID, or the VF address on vendor-VFIO GPUs.
          type: str
        type_id:
          description: Type id (C(nvidia-N) or numeric).
          type: str
        type_name:
          description: Type name; null when the driver no longer lists it and it was never seen.
          type: str
        parent:
          description: Parent PCI device (PF or VF).
          type: str
        in_use:
          description: A running VM holds the vGPU (its VFIO group is open).
          type: bool
        vm:
          description: Name of that VM, when known.
          type: str
    in_use:
      description: A running VM holds the physical function itself (passthrough).
      type: bool
iommu:
  description: IOMMU state of the host.
  returned: always
  type: dict
  contains:
    enabled:
      description: IOMMU groups exist.
      type: bool
    cmdline:
      description: The kernel command line.
      type: str
    parameters:
      description: IOMMU and vfio parameters on the command line.
      type: list
      elements: str
    passthrough_mode:
      description: C(iommu=pt) is set.
      type: bool
driver:
  description: The NVIDIA kernel driver.
  returned: always
  type: dict
  contains:
    loaded:
      description: The C(nvidia) module is loaded.
      type: bool
    version:
      description: Its version (C(/sys/module/nvidia/version)); null when not loaded.
      type: str
      sample: "580.159.04"
    kind:
      description:
        - C(vgpu_manager) (NVIDIA's vGPU host driver, needed for vGPUs), C(datacenter) (the C(nvidia) module without the
          vGPU manager, as in a VM or a compute host) or C(none).
      type: str
      sample: vgpu_manager
vgpu_readiness:
  description: What the host still lacks before NVIDIA vGPU can work on it (the whole host, whatever I(devices) selects).
  returned: always
  type: dict
  contains:
    ready:
      description: Nothing is missing.
      type: bool
    missing:
      description:
        - One entry per finding, in the order to fix them - C(check) is C(gpus) (no NVIDIA GPU), C(iommu) (no IOMMU
          groups), C(driver) (no driver, or the datacenter driver instead of the vGPU Manager), C(sriov) (a GPU whose
          vGPUs live on VFs without SR-IOV capability, or with no VFs enabled yet) or C(backend) (a GPU offering no vGPU
          types); C(gpu) is its address (null for the host); C(msg) says what was seen and what to do.
      type: list
      elements: dict
vgpu_backends:
  description: The distinct backends of the reported GPUs.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.host_gpu_info import HostGpuInfo


def main():
    spec = argument_spec(
        'host',
        devices=dict(type='raw', default='all'),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    run(module, HostGpuInfo)


if __name__ == '__main__':
    main()
