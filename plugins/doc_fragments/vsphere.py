# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the vSphere modules. Each fragment mirrors the spec of its name in plugins/module_utils/args.py:
SPECS["vsphere"], SPECS["vsphere.HOST_SCOPE"] and SPECS["vsphere.MAINTENANCE"]."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  hostname:
    description:
      - vCenter Server (or ESXi) host name or IP address.
      - If not set, the value of the E(VMWARE_HOST) environment variable is used.
    type: str
    aliases: [host]
  username:
    description:
      - User name to log in with.
      - If not set, the value of the E(VMWARE_USER) environment variable is used.
    type: str
    aliases: [user]
  password:
    description:
      - Password of O(username). Never logged nor returned.
      - If not set, the value of the E(VMWARE_PASSWORD) environment variable is used.
    type: str
    aliases: [pass, pwd]
  port:
    description:
      - HTTPS port of the vSphere API.
      - If not set, the value of the E(VMWARE_PORT) environment variable is used.
    type: int
    default: 443
  validate_certs:
    description:
      - Verify the server's TLS certificate. Set to V(false) only in labs with self-signed certificates.
      - If not set, the value of the E(VMWARE_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the connection and for each vSphere task; more than 0 (checked before connecting).
    type: int
    default: 600
requirements:
  - pyvmomi >= 8.0.3 on the host that runs the module
notes:
  - Each run logs in once, reads what it needs with one PropertyCollector retrieval over a ContainerView,
    and always logs out.
'''

    HOST_SCOPE = r'''
options:
  datacenter:
    description:
      - Only hosts of this datacenter.
    type: str
  cluster:
    description:
      - Every host of this cluster. One of O(cluster) and O(esxi_hostname) is required.
    type: str
  esxi_hostname:
    description:
      - One ESXi host, by its inventory name.
    type: str
'''

    MAINTENANCE = r'''
options:
  evacuate:
    description:
      - What happens to VMs that are not powered off on a host that must enter maintenance mode.
      - V(none) refuses before anything is changed and names the VMs.
      - V(power_off) powers them off (a hard power-off, as the vSphere client's Power Off); they stay off
        afterwards.
      - V(migrate) moves them (RelocateVM) to the connected host of the same cluster, outside maintenance mode,
        with the fewest running VMs, preferring hosts whose cycle is done. VMs with a vGPU or a passthrough GPU
        are refused (power them off or use V(power_off)). They are not moved back.
    type: str
    choices: [none, power_off, migrate]
    default: none
  maintenance_timeout:
    description:
      - Seconds EnterMaintenanceMode_Task may wait for the host's VMs to be gone; more than 0.
    type: int
    default: 600
  reboot_timeout:
    description:
      - Seconds to wait after RebootHost_Task for the host to be connected again with a new boot time; more than 0.
    type: int
    default: 1800
'''
