#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: vsphere_host_reboot
short_description: Reboot ESXi hosts whose GPU settings or software wait for a reboot, one at a time in maintenance mode
version_added: 0.1.0
description:
  - Finds the hosts in scope that need a reboot, that is passthrough enabled but not active (HostPciPassthruInfo), graphics
    settings configured but not active (graphicsConfig against graphicsInfo), or the host's own
    C(summary.rebootRequired) (for example after a VIB install). Other hosts are not touched, so a second run
    changes nothing.
  - Each such host, one after the other, goes through a maintenance cycle. Its VMs that are not powered off are
    handled by O(evacuate); it enters maintenance mode, reboots, and the module waits until it is connected with a new
    boot time; it leaves maintenance mode if the cycle entered it.
  - Refusals happen before the first change; on a failure the revertible steps of this run are reverted.
author:
  - gpuvirt.core contributors (@gpuvirt)
extends_documentation_fragment:
  - gpuvirt.core.vsphere
  - gpuvirt.core.vsphere.HOST_SCOPE
  - gpuvirt.core.vsphere.MAINTENANCE
  - gpuvirt.core.attributes
options:
  force:
    description: Reboot every host in scope, also those that need no reboot.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reports which hosts would be rebooted and what would happen to their VMs, without changing anything.
  diff_mode:
    support: full
    details: Before and after per host (maintenance mode, reboot needed) and per evacuated VM.
'''

EXAMPLES = r'''
- name: Activate passthrough and Shared Direct settings on the hosts that wait for a reboot
  gpuvirt.core.vsphere_host_reboot:
    cluster: gpu-cluster
    evacuate: power_off
'''

RETURN = r'''
hosts:
  description: Per host in scope, what was (or would be) done and the state after it.
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: "Host name.", type: str, returned: always}
    changed: {description: "Whether this host changed (or would in check mode).", type: bool, returned: always}
    actions: {description: "Steps on the host in order: enter_maintenance_mode, reboot, exit_maintenance_mode.", type: list, elements: str, returned: always}
    evacuated: {description: "VMs moved or powered off: vm, action (migrate or power_off), to.", type: list, elements: dict, returned: always}
    rebooted: {description: "Whether the host was rebooted (null in check mode).", type: bool, returned: always}
    in_maintenance_mode: {description: "Whether the host is in maintenance mode now.", type: bool, returned: always}
    reboot_required: {description: "Whether the host still needs a reboot.", type: bool, returned: always}
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
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_host_reboot import VsphereHostReboot
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import run


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            'vsphere', 'vsphere.HOST_SCOPE', 'vsphere.MAINTENANCE',
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
        **constraints('vsphere.HOST_SCOPE')
    )
    run(module, VsphereHostReboot)


if __name__ == '__main__':
    main()
