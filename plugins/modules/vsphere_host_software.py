#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: vsphere_host_software
short_description: Install VIBs such as the NVIDIA vGPU Manager on ESXi hosts, with maintenance mode and reboot
version_added: 0.1.0
description:
  - Makes sure every ESXi host in scope has the wanted VIB versions (as C(esxcli software vib list) shows them,
    read with HostImageConfigManager.fetchSoftwarePackages). Hosts that already have them are not touched.
  - A host that needs a VIB goes through a maintenance cycle, one host at a time; the next host starts after the
    previous one is done. Its VMs that are not powered off are handled by O(evacuate); it enters maintenance mode;
    the VIBs are installed from O(packages[].url) with HostPatchManager.InstallHostPatchV2_Task; when the install
    needs it (or the host already reported that it needs a reboot) and O(reboot) is set, the host is rebooted and
    the module waits until it is connected with a new boot time; it leaves maintenance mode if the cycle entered it.
  - Every refusal (powered-on VMs with O(evacuate=none), a VM with a GPU to migrate, no migration target, a URL
    that is not a VIB) happens before the first change. When a step fails, the steps of this run that can be
    reverted are (VMs powered on or moved back, maintenance mode left); an installed VIB is not removed.
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.vsphere
  - gpuvirt.core.vsphere.HOST_SCOPE
  - gpuvirt.core.vsphere.MAINTENANCE
  - gpuvirt.core.attributes
options:
  packages:
    description: The VIBs every host in scope must have.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: VIB name, for example V(NVD-VGPU-800) (the vGPU Manager of vGPU 16 and later for ESXi 8).
        type: str
        required: true
      version:
        description:
          - Wanted VIB version. A leading part ending before a C(-) matches too (V(550.90.05) matches
            C(550.90.05-1OEM.800.1.0.20613240)). A different installed version is replaced (upgrade or downgrade).
        type: str
        required: true
      url:
        description:
          - URL of the C(.vib) file, reachable from the ESXi host (http, https, or file on the host). NVIDIA ships a
            component zip; the VIB is inside it under C(vib20/<name>/).
        type: str
        required: true
  reboot:
    description:
      - Reboot the host when the install requires it (the NVIDIA vGPU Manager does), or when the host already
        reports that it needs a reboot. With V(false) the host leaves maintenance mode without a reboot and
        RV(hosts[].reboot_required) says that one is still needed.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: Reports the planned cycle (evacuation, maintenance mode, install, reboot) without calling anything that changes.
  diff_mode:
    support: full
    details: Before and after per host (maintenance mode, VIB versions, reboot needed) and per evacuated VM.
'''

EXAMPLES = r'''
- name: NVIDIA vGPU Manager on every host of the cluster; refuse if VMs run
  gpuvirt.core.vsphere_host_software:
    cluster: gpu-cluster
    packages:
      - name: NVD-VGPU-800
        version: 550.90.05
        url: https://depot.example.com/nvidia/NVD-VGPU-800_550.90.05-1OEM.800.1.0.20613240.vib
  register: vgpu_manager

- name: Same, moving running VMs to the other hosts of the cluster
  gpuvirt.core.vsphere_host_software:
    cluster: gpu-cluster
    evacuate: migrate
    packages:
      - name: NVD-VGPU-800
        version: 550.90.05
        url: https://depot.example.com/nvidia/NVD-VGPU-800_550.90.05-1OEM.800.1.0.20613240.vib
'''

RETURN = r'''
hosts:
  description: Per host in scope, what the cycle did (or would do in check mode) and the state after it.
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: "Host name.", type: str, returned: always}
    changed: {description: "Whether this host changed (or would in check mode).", type: bool, returned: always}
    actions: {description: "Steps on the host in order: enter_maintenance_mode, install_vibs, reboot, exit_maintenance_mode.",
              type: list, elements: str, returned: always}
    evacuated: {description: "VMs moved or powered off: vm, action (migrate or power_off), to.", type: list, elements: dict, returned: always}
    rebooted: {description: "Whether the host was rebooted (null in check mode when the reboot depends on the install).", type: bool, returned: always}
    packages: {description: "Installed VIBs: name -> version.", type: dict, returned: always}
    in_maintenance_mode: {description: "Whether the host is in maintenance mode now.", type: bool, returned: always}
    reboot_required: {description: "Whether the host still needs a reboot (software, passthrough or graphics settings).", type: bool, returned: always}
    reboot_reasons: {description: "Why the host still needs a reboot.", type: list, elements: str, returned: always}
reboot_required:
  description: Some host still needs a reboot.
  returned: success
  type: bool
changes:
  description: The changes made (or planned in check mode), in order.
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuvirt.core.plugins.module_utils.args import argument_spec, constraints
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_host_software import VsphereHostSoftware
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            'vsphere', 'vsphere.HOST_SCOPE', 'vsphere.MAINTENANCE',
            packages=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                version=dict(type='str', required=True),
                url=dict(type='str', required=True),
            )),
            reboot=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
        **constraints('vsphere.HOST_SCOPE')
    )
    run(module, VsphereHostSoftware)


if __name__ == '__main__':
    main()
