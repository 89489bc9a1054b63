#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kubevirt_host_devices
short_description: Permit GPUs and vGPUs in the KubeVirt CR (permittedHostDevices)
version_added: 0.1.0
description:
  - Adds (or removes) C(pciHostDevices) and C(mediatedDevices) entries of C(spec.configuration.permittedHostDevices) in
    the KubeVirt custom resource, so virtual machines may request those GPU resources.
  - With O(discover=true) the entries are derived from the GPU resources the nodes advertise (the NVIDIA sandbox
    device plugin's passthrough and vGPU resources), with PCI ids from NFD labels or the GPU catalog.
  - Reads the CR once and writes it with at most one JSON merge patch carrying its C(resourceVersion); a concurrent
    change (HTTP 409) makes it read and plan again. Nothing is written when nothing differs.
  - Replaces the manual C(kubectl edit kubevirt) and C(kubectl patch kubevirt --type=json) steps of the GPU Operator
    with KubeVirt guide.
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.kube
  - gpuvirt.core.attributes
options:
  pci_host_devices:
    description:
      - PCI passthrough devices to permit (or remove with O(state=absent)).
    type: list
    elements: dict
    default: []
    suboptions:
      selector:
        description:
          - PCI C(vendor:device) id in hex, for example V(10DE:2236). Becomes C(pciVendorSelector).
          - Each selector once; one the CR already permits under another resource name is refused.
          - May be left out with O(state=absent) to remove every entry of O(pci_host_devices[].resource_name).
        type: str
      resource_name:
        description:
          - Resource name the device plugin advertises, for example V(nvidia.com/GA102GL_A10).
          - Derived from the PCI id for NVIDIA GPUs the collection knows when left out.
        type: str
      external_resource_provider:
        description:
          - Whether a device plugin outside KubeVirt (the NVIDIA sandbox device plugin) advertises the resource.
          - Defaults to O(external_resource_provider).
        type: bool
  mediated_devices:
    description:
      - Mediated devices (vGPUs) to permit (or remove with O(state=absent)).
    type: list
    elements: dict
    default: []
    suboptions:
      selector:
        description:
          - vGPU type in any spelling, for example V(A10-12Q), V(NVIDIA A10-12Q) or V(nvidia.com/NVIDIA_A10-12Q); it
            must be a type the GPU offers. Becomes C(mdevNameSelector) (V(NVIDIA A10-12Q)).
        type: str
      resource_name:
        description:
          - Resource name; V(nvidia.com/NVIDIA_A10-12Q) for V(NVIDIA A10-12Q) when left out.
        type: str
      external_resource_provider:
        description:
          - Whether a device plugin outside KubeVirt advertises the resource. Defaults to O(external_resource_provider).
        type: bool
  discover:
    description:
      - Derive entries from the non-zero C(nvidia.com/) resources (except C(nvidia.com/gpu)) the nodes advertise.
    type: bool
    default: false
  node_selector:
    description:
      - Label selector of the nodes O(discover) looks at.
    type: str
    default: nvidia.com/gpu.present=true
  external_resource_provider:
    description:
      - Default C(externalResourceProvider) of the entries. V(true) fits the GPU Operator's sandbox device plugin.
    type: bool
    default: true
  feature_gates:
    description:
      - Feature gates to add to C(developerConfiguration.featureGates) (never removes others). C(HostDevices) is
        required for C(hostDevices) in VMs; C(GPU) is GA since KubeVirt v1.4.0.
      - Checked against the gates of the KubeVirt release the CR reports in C(status.observedKubeVirtVersion)
        (v1.0 to v1.9 known). A gate that release does not have, or has discontinued, fails the module before any
        write (KubeVirt would accept it and do nothing); deprecated and GA gates give a warning.
    type: list
    elements: str
    default: []
  disable_mdev_configuration:
    description:
      - V(true) stops KubeVirt from creating mediated devices itself (the GPU Operator's vGPU Device Manager does).
      - On KubeVirt v1.8.0 and newer this sets C(mediatedDevicesConfiguration.enabled=false); on older versions (read
        from the CR's status) it adds the C(DisableMDEVConfiguration) feature gate.
    type: bool
  state:
    description:
      - V(present) adds or updates the entries; V(absent) removes only the named entries.
    type: str
    choices: [present, absent]
    default: present
  namespace:
    description: Namespace of the KubeVirt CR.
    type: str
    default: kubevirt
  name:
    description: Name of the KubeVirt CR.
    type: str
    default: kubevirt
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Fails, writing nothing, when the KubeVirt CR does not exist, an entry is malformed, a selector is listed twice (in
    any spelling) or a feature gate is unknown to the cluster's KubeVirt release.
'''

EXAMPLES = r'''
- name: Permit the A10 passthrough GPU and the A10-24Q vGPU (seed 003)
  gpuvirt.core.kubevirt_host_devices:
    pci_host_devices:
      - selector: "10DE:2236"
    mediated_devices:
      - selector: A10-24Q
    feature_gates: [HostDevices]
    disable_mdev_configuration: true

- name: Permit whatever the GPU nodes advertise
  gpuvirt.core.kubevirt_host_devices:
    discover: true

- name: Stop permitting one vGPU type
  gpuvirt.core.kubevirt_host_devices:
    mediated_devices:
      - selector: NVIDIA A10-24Q
    state: absent
'''

RETURN = r'''
permitted_host_devices:
  description: C(spec.configuration.permittedHostDevices) after the run (as it would be, in check mode).
  returned: success
  type: dict
  sample: {"pciHostDevices": [{"pciVendorSelector": "10DE:2236", "resourceName": "nvidia.com/GA102GL_A10", "externalResourceProvider": true}]}
feature_gates:
  description: C(developerConfiguration.featureGates) after the run.
  returned: success
  type: list
  elements: str
mediated_devices_configuration:
  description: C(spec.configuration.mediatedDevicesConfiguration) after the run.
  returned: success
  type: dict
kubevirt_version:
  description: The KubeVirt version the CR reports.
  returned: success
  type: str
  sample: v1.9.0
discovered:
  description: Entries derived from the nodes with O(discover=true).
  returned: success
  type: list
  elements: dict
changes:
  description: The planned writes (one update of the CR, or none).
  returned: success
  type: list
  elements: dict
conflicts_retried:
  description: How many 409 Conflicts from concurrent writers were resolved by reading and planning again.
  returned: success
  type: int
api_calls:
  description: Kubernetes API requests this run made.
  returned: success
  type: int
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.kubevirt_host_devices import KubevirtHostDevices
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    entry = dict(selector=dict(type='str'), resource_name=dict(type='str'), external_resource_provider=dict(type='bool'))
    module = AnsibleModule(
        argument_spec=argument_spec(
            'kube',
            pci_host_devices=dict(type='list', elements='dict', options=entry, default=[]),
            mediated_devices=dict(type='list', elements='dict', options=entry, default=[]),
            discover=dict(type='bool', default=False),
            node_selector=dict(type='str', default='nvidia.com/gpu.present=true'),
            external_resource_provider=dict(type='bool', default=True),
            feature_gates=dict(type='list', elements='str', default=[]),
            disable_mdev_configuration=dict(type='bool'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            namespace=dict(type='str', default='kubevirt'),
            name=dict(type='str', default='kubevirt'),
        ),
        supports_check_mode=True,
    )
    run(module, KubevirtHostDevices)


if __name__ == '__main__':
    main()
