#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: capv_machine_template_gpu
short_description: GPU copy of a Cluster API vSphere (CAPV) VSphereMachineTemplate, and rolling a MachineDeployment onto it
version_added: 0.1.0
description:
  - Gives the machines of a Cluster API Provider vSphere (CAPV) cluster vGPUs or Dynamic DirectPath I/O GPUs
    through C(spec.template.spec.pciDevices) of a C(VSphereMachineTemplate) (API group
    C(infrastructure.cluster.x-k8s.io)).
  - CAPV templates are immutable, so the module creates a B(new) template, a copy of the source O(name) with
    C(pciDevices) replaced by O(pci_devices) and O(hardware_version) and O(custom_vmx_keys) applied; everything
    else is copied unchanged and the source is never modified.
  - The new template is named C(<source>-gpu-<hash>), the hash covering the resulting spec, so a rerun with the
    same input finds it and writes nothing, and changed input gives a new template.
  - With O(machine_deployment), points that MachineDeployment's C(infrastructureRef) at the new template, which makes
    Cluster API replace its machines (a rolling update).
  - Applies CAPV's admission webhook rules before any write (each item a vGPU profile alone, or a vendor id and a
    device id without a profile; v1beta2 size limits; hardware version format; no C(providerID) or C(ipAddrs) in
    templates) and checks vGPU profiles against the collection's catalog, so bad input fails with nothing written.
  - Replaces the manual template edits of the CAPV "GPU enabled clusters using vGPU" and "PCI passthrough" guides.
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.kube
  - gpuvirt.core.attributes
options:
  namespace:
    description:
      - Namespace of the templates and the MachineDeployment.
    type: str
    default: default
  name:
    description:
      - Name of the source C(VSphereMachineTemplate) to copy. It is only read.
      - A template this module made (C(<base>-gpu-<hash>)) may be given; the new name is then derived from C(<base>).
    type: str
    required: true
  pci_devices:
    description:
      - The PCI devices every machine gets; replaces the source's C(pciDevices). V([]) gives a template without.
      - Each item is either O(pci_devices[].vgpu_profile) alone, or O(pci_devices[].vendor_id) and
        O(pci_devices[].device_id) with an optional O(pci_devices[].custom_label).
    type: list
    elements: dict
    required: true
    suboptions:
      vgpu_profile:
        description:
          - A vGPU type in any spelling the catalog knows (V(A100-3-20C), V(NVIDIA A10-4Q), V(grid_v100d-4c)); it is
            written as vSphere's profile string (V(grid_a100-3-20c)). Unknown types fail naming the input.
        type: str
      vendor_id:
        description:
          - PCI vendor id for Dynamic DirectPath I/O passthrough. An integer is decimal, as CAPV writes it (V(4318));
            a string is hex digits (V("10de"), V("0x10de")).
        type: raw
      device_id:
        description:
          - PCI device id, same forms as O(pci_devices[].vendor_id) (V(8758) or V("2236") for an A10).
        type: raw
      custom_label:
        description:
          - Hardware label the host's passthrough device must carry (C(customLabel)); only with ids.
        type: str
  hardware_version:
    description:
      - Virtual hardware version of the machines (C(hardwareVersion)), for example V(vmx-17). Dynamic DirectPath I/O
        needs vmx-17 or later.
      - Kept from the source when unset.
    type: str
  custom_vmx_keys:
    description:
      - Extra VMX settings merged into C(customVMXKeys), for example V(pciPassthru.use64bitMMIO) and
        V(pciPassthru.64bitMMIOSizeGB) for large-BAR GPUs. Booleans become V(TRUE)/V(FALSE).
    type: dict
  machine_deployment:
    description:
      - Name of a MachineDeployment (API group C(cluster.x-k8s.io)) to roll onto the new template.
      - It must use the source template or a GPU template made from it; another template is refused.
    type: str
  template_api_version:
    description:
      - API version of C(VSphereMachineTemplate) to use.
    type: str
    default: v1beta1
  deployment_api_version:
    description:
      - API version of C(MachineDeployment) to use.
    type: str
    default: v1beta1
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - The old template is left in place (machines being replaced still refer to it); delete it once the rollout is done.
  - When the source already has exactly the requested settings, O(name) itself is returned and nothing is created.
seealso:
  - module: gpuvirt.core.vsphere_vm_gpu
  - module: gpuvirt.core.vsphere_host_graphics
'''

EXAMPLES = r'''
- name: Worker nodes with one A100 MIG-backed vGPU (3g.20gb), rolled out (seed 000)
  gpuvirt.core.capv_machine_template_gpu:
    kubeconfig: ~/.kube/management.yaml
    namespace: gpu-clusters
    name: workload-1-worker
    pci_devices:
      - vgpu_profile: A100-3-20C
    machine_deployment: workload-1-md-0
  register: gpu_template

- name: Passthrough of two V100 32GB GPUs with 64-bit MMIO (seed 001)
  gpuvirt.core.capv_machine_template_gpu:
    namespace: gpu-clusters
    name: workload-1-worker
    pci_devices:
      - {vendor_id: 4318, device_id: 7606}
      - {vendor_id: "10de", device_id: "1db6"}
    hardware_version: vmx-17
    custom_vmx_keys:
      pciPassthru.use64bitMMIO: true
      pciPassthru.64bitMMIOSizeGB: 128
'''

RETURN = r'''
template_name:
  description: Name of the GPU template (created now, found from an earlier run, or O(name) when it already fits).
  returned: success
  type: str
  sample: workload-1-worker-gpu-3f9a0c1b2d
created:
  description: Whether this run created the template (would create it, in check mode).
  returned: success
  type: bool
pci_devices:
  description: C(pciDevices) of the template, as CAPV stores them.
  returned: success
  type: list
  elements: dict
  sample: [{"vGPUProfile": "grid_a100-3-20c"}]
hardware_version:
  description: C(hardwareVersion) of the template, or null when not set.
  returned: success
  type: str
custom_vmx_keys:
  description: C(customVMXKeys) of the template.
  returned: success
  type: dict
machine_deployment:
  description: The MachineDeployment after the run.
  returned: when O(machine_deployment) is set
  type: dict
  contains:
    name:
      description: Its name.
      type: str
    infrastructure_ref:
      description: Its C(spec.template.spec.infrastructureRef).
      type: dict
    rollout:
      description: Whether this run repointed it (Cluster API then replaces its machines).
      type: bool
changes:
  description: The planned writes (create the template, update the MachineDeployment).
  returned: success
  type: list
  elements: dict
api_calls:
  description: Kubernetes API requests this run made.
  returned: success
  type: int
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.capv_machine_template_gpu import CapvMachineTemplateGpu
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    pci_device = dict(
        vgpu_profile=dict(type='str'),
        vendor_id=dict(type='raw'),
        device_id=dict(type='raw'),
        custom_label=dict(type='str'),
    )
    module = AnsibleModule(
        argument_spec=argument_spec(
            'kube',
            namespace=dict(type='str', default='default'),
            name=dict(type='str', required=True),
            pci_devices=dict(type='list', elements='dict', options=pci_device, required=True),
            hardware_version=dict(type='str'),
            custom_vmx_keys=dict(type='dict', no_log=False),
            machine_deployment=dict(type='str'),
            template_api_version=dict(type='str', default='v1beta1'),
            deployment_api_version=dict(type='str', default='v1beta1'),
        ),
        supports_check_mode=True,
    )
    run(module, CapvMachineTemplateGpu)


if __name__ == '__main__':
    main()
