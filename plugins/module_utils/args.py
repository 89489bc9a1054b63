# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared argument specs, one per doc fragment and named after it; a module's own options live in the module.

A module that lists ``gpuvirt.core.vsphere`` and ``gpuvirt.core.vsphere.HOST_SCOPE`` in
``extends_documentation_fragment`` builds its spec with ``argument_spec('vsphere', 'vsphere.HOST_SCOPE', **own)``
and passes ``**constraints('vsphere.HOST_SCOPE')`` to AnsibleModule. Names, types and environment fallbacks of the
connection options are the peer collections' (kubernetes.core ``K8S_AUTH_*``, community.vmware ``VMWARE_*``), so
playbooks and AWX credentials written for them work unchanged.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import env_fallback

SPECS = {
    # doc fragment gpuvirt.core.host
    'host': dict(
        host_root=dict(type='path', default='/'),
        lock_timeout=dict(type='int', default=60),
    ),
    # doc fragment gpuvirt.core.kube
    'kube': dict(
        kubeconfig=dict(type='raw', no_log=True, fallback=(env_fallback, ['K8S_AUTH_KUBECONFIG'])),
        context=dict(type='str', fallback=(env_fallback, ['K8S_AUTH_CONTEXT'])),
        host=dict(type='str', fallback=(env_fallback, ['K8S_AUTH_HOST'])),
        api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['K8S_AUTH_API_KEY'])),
        validate_certs=dict(type='bool', aliases=['verify_ssl'], fallback=(env_fallback, ['K8S_AUTH_VERIFY_SSL'])),
        ca_cert=dict(type='path', aliases=['ssl_ca_cert'], fallback=(env_fallback, ['K8S_AUTH_SSL_CA_CERT'])),
        client_cert=dict(type='path', aliases=['cert_file'], fallback=(env_fallback, ['K8S_AUTH_CERT_FILE'])),
        client_key=dict(type='path', aliases=['key_file'], no_log=False, fallback=(env_fallback, ['K8S_AUTH_KEY_FILE'])),
        request_timeout=dict(type='int', default=30),
    ),
    # doc fragment gpuvirt.core.vsphere
    'vsphere': dict(
        hostname=dict(type='str', aliases=['host'], fallback=(env_fallback, ['VMWARE_HOST'])),
        username=dict(type='str', aliases=['user'], fallback=(env_fallback, ['VMWARE_USER'])),
        password=dict(type='str', aliases=['pass', 'pwd'], no_log=True, fallback=(env_fallback, ['VMWARE_PASSWORD'])),
        port=dict(type='int', default=443, fallback=(env_fallback, ['VMWARE_PORT'])),
        validate_certs=dict(type='bool', default=True, fallback=(env_fallback, ['VMWARE_VALIDATE_CERTS'])),
        timeout=dict(type='int', default=600),
    ),
    # doc fragment gpuvirt.core.vsphere.HOST_SCOPE
    'vsphere.HOST_SCOPE': dict(
        datacenter=dict(type='str'),
        cluster=dict(type='str'),
        esxi_hostname=dict(type='str'),
    ),
    # doc fragment gpuvirt.core.vsphere.MAINTENANCE
    'vsphere.MAINTENANCE': dict(
        evacuate=dict(type='str', choices=['none', 'power_off', 'migrate'], default='none'),
        maintenance_timeout=dict(type='int', default=600),
        reboot_timeout=dict(type='int', default=1800),
    ),
}

CONSTRAINTS = {
    'vsphere.HOST_SCOPE': dict(required_one_of=[['cluster', 'esxi_hostname']], mutually_exclusive=[['cluster', 'esxi_hostname']]),
}


def argument_spec(*fragments, **options):
    """The shared specs of ``fragments`` (in order) plus the module's own ``options`` (which win on a name clash)."""
    spec = {}
    for fragment in fragments:
        spec.update((name, dict(option)) for name, option in SPECS[fragment].items())
    spec.update(options)
    return spec


def constraints(*fragments):
    """AnsibleModule keyword arguments (required_one_of, mutually_exclusive...) the fragments bring."""
    out = {}
    for fragment in fragments:
        for key, groups in CONSTRAINTS.get(fragment, {}).items():
            out.setdefault(key, []).extend(list(group) for group in groups)
    return out
