# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one argument spec of the vSphere modules' connection options, mirrored by doc_fragments/vsphere.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import env_fallback


CONNECTION_SPEC = dict(
    hostname=dict(type='str', aliases=['host'], fallback=(env_fallback, ['VMWARE_HOST'])),
    username=dict(type='str', aliases=['user'], fallback=(env_fallback, ['VMWARE_USER'])),
    password=dict(type='str', aliases=['pass', 'pwd'], no_log=True, fallback=(env_fallback, ['VMWARE_PASSWORD'])),
    port=dict(type='int', default=443, fallback=(env_fallback, ['VMWARE_PORT'])),
    validate_certs=dict(type='bool', default=True, fallback=(env_fallback, ['VMWARE_VALIDATE_CERTS'])),
    timeout=dict(type='int', default=600),
)

# Host selection shared by vsphere_host_graphics and vsphere_host_passthrough.
HOST_SCOPE_SPEC = dict(
    datacenter=dict(type='str'),
    cluster=dict(type='str'),
    esxi_hostname=dict(type='str'),
)
HOST_SCOPE_ONE_OF = [['cluster', 'esxi_hostname']]
HOST_SCOPE_EXCLUSIVE = [['cluster', 'esxi_hostname']]


def vsphere_argument_spec(**options):
    """The connection options plus a module's own ``options``."""
    spec = dict((name, dict(value)) for name, value in CONNECTION_SPEC.items())
    spec.update(options)
    return spec


def required_connection(params):
    """Names of connection options missing after env fallbacks, for one clear error."""
    return [name for name in ('hostname', 'username', 'password') if not params.get(name)]


# Maintenance cycles (vsphere_host_software, vsphere_host_reboot); mirrored by the MAINTENANCE doc fragment.
MAINTENANCE_SPEC = dict(
    evacuate=dict(type='str', choices=['none', 'power_off', 'migrate'], default='none'),
    maintenance_timeout=dict(type='int', default=600),
    reboot_timeout=dict(type='int', default=1800),
)
