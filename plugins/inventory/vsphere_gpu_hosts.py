# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: vsphere_gpu_hosts
short_description: ESXi hosts with their NVIDIA GPUs, from vCenter
version_added: 0.1.0
description:
  - Reads the ESXi hosts of a vCenter (or one ESXi host) with one PropertyCollector retrieval and makes each host an
    inventory host, with variables describing its NVIDIA GPUs, what vGPU profiles they offer and hold, and what
    still fits on them.
  - Default groups (O(default_groups)) put hosts by GPU model (C(gpu_model_a10), C(gpu_model_a100)), by the
    graphics type of their GPUs (C(graphics_shared_direct), C(graphics_shared), C(graphics_direct)), and
    C(gpu_passthrough) for hosts with a GPU in active passthrough; C(gpu_hosts) holds every host with an NVIDIA GPU.
  - Free capacity comes from the collection's vGPU catalog and placement rules (the answer of the
    P(gpuvirt.core.vgpu_fits#filter) filter), for GPUs in Shared Direct mode, given the vGPUs of powered-on VMs.
  - The inventory file's name must end in C(vsphere_gpu_hosts.yml) or C(vsphere_gpu_hosts.yaml).
author:
  - gpuvirt.core contributors (@gpuvirt)
requirements:
  - pyvmomi >= 8.0.3 on the controller (the execution environment)
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; it makes the file an inventory source of this plugin.
    type: str
    required: true
    choices: [gpuvirt.core.vsphere_gpu_hosts]
  hostname:
    description: vCenter Server (or ESXi) host name or IP address.
    type: str
    required: true
    env:
      - name: VMWARE_HOST
  username:
    description: User name to log in with (read access to the hosts is enough).
    type: str
    required: true
    env:
      - name: VMWARE_USER
  password:
    description:
      - Password of O(username). Never shown in the inventory or in errors. Use a vault-encrypted value or the
        environment variable (AWX's VMware vCenter credential type sets it).
    type: str
    required: true
    env:
      - name: VMWARE_PASSWORD
  port:
    description: HTTPS port of the vSphere API.
    type: int
    default: 443
    env:
      - name: VMWARE_PORT
  validate_certs:
    description: Verify the server's TLS certificate. Set to V(false) only in labs with self-signed certificates.
    type: bool
    default: true
    env:
      - name: VMWARE_VALIDATE_CERTS
  timeout:
    description: Seconds to wait for the connection and each answer.
    type: int
    default: 60
  datacenter:
    description: Only hosts of this datacenter (an unknown name is an error listing the known ones).
    type: str
  cluster:
    description: Only hosts of this cluster (an unknown name is an error listing the known ones).
    type: str
  gpu_hosts_only:
    description: Leave out hosts without an NVIDIA GPU.
    type: bool
    default: false
  default_groups:
    description: Add the hosts to the default groups described above (C(gpu_model_*), C(graphics_*), C(gpu_passthrough), C(gpu_hosts)).
    type: bool
    default: true
notes:
  - Host variables (one per host; GPU types in the catalog's canonical spelling, e.g. C(A10-4Q)) -
    C(gpu_count), C(gpu_models) (list), C(gpu_graphics_type) (the host default, C(shared) or C(sharedDirect)),
    C(gpu_assignment_policy), C(gpus) (per GPU - C(id), C(model), C(device_id), C(graphics_type), C(state)
    C(vgpu)/C(passthrough)/C(not-ready)/C(unknown), C(passthrough) {C(capable), C(enabled), C(active)},
    C(vgpus_in_use) {type - count}, C(free) {type - how many more fit}, C(capacity_known), C(full), C(vms)),
    C(vgpu_profiles_offered) (the host's vGPU profile names as vSphere lists them),
    C(vgpu_profiles_in_use) {type - count, on powered-on VMs}, C(vgpu_free) {type - how many more fit on the host,
    each type counted on its own}, C(gpu_reboot_pending), C(vsphere_moid), C(vsphere_datacenter),
    C(vsphere_cluster), C(vsphere_connection_state), C(vsphere_in_maintenance_mode).
  - One login, one retrieval (CreateContainerView, RetrievePropertiesEx and its pages, DestroyView), one logout,
    however many hosts.
seealso:
  - module: gpuvirt.core.vsphere_gpu_info
'''

EXAMPLES = r'''
# lab.vsphere_gpu_hosts.yml; credentials from VMWARE_HOST / VMWARE_USER / VMWARE_PASSWORD (AWX's vCenter credential)
plugin: gpuvirt.core.vsphere_gpu_hosts
cluster: gpu-cluster
gpu_hosts_only: true

# Install the vGPU Manager on every ESXi host with an A100: hosts: gpu_model_a100
# Own groups: hosts with room for two more A10-4Q vGPUs, and one group per host default graphics type
---
plugin: gpuvirt.core.vsphere_gpu_hosts
groups:
  a10_4q_room: (vgpu_free['A10-4Q'] | default(0)) >= 2
keyed_groups:
  - key: gpu_graphics_type
    prefix: host_default
compose:
  ansible_host: inventory_hostname
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /tmp/gpuvirt-inventory-cache
'''

import json

from ansible.errors import AnsibleParserError

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.report.common import parse_type
from ansible_collections.gpuvirt.core.plugins.module_utils.report.vsphere import vsphere_host
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import Session
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.inventory import Inventory
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.query import gpu_inventory
from ansible_collections.gpuvirt.core.plugins.plugin_utils.gpu_inventory import GpuInventory, group_word

# What vm_record reads: a VM's host, power state and GPU devices.
VM_PATHS = ['name', 'runtime.host', 'runtime.powerState', 'config.template', 'config.uuid', 'config.hardware.device']


def add_counts(total, counts):
    for key, value in counts.items():
        total[key] = total.get(key, 0) + value
    return total


def host_entry(record, vms):
    """The inventory record of one host: its variables and default groups (pure: ``record`` is
    :meth:`Inventory.host_record`, ``vms`` the :meth:`Inventory.vm_record` of the VMs on it)."""
    report = vsphere_host(record, vms)
    raw = dict((g['id'], g) for g in record['gpus'])
    gpus = []
    for gpu in report['gpus']:
        source = raw.get(gpu['id'], {})
        gpus.append({
            'id': gpu['id'], 'model': gpu['model'], 'description': gpu['description'],
            'device_id': '%04x' % source['device_id'] if source.get('device_id') is not None else None,
            'graphics_type': gpu['graphics_type'], 'state': gpu['state'], 'passthrough': gpu['passthrough'],
            'vgpus_in_use': dict(gpu['used']), 'free': dict(gpu['fits']), 'capacity_known': gpu['capacity_known'],
            'full': gpu['full'], 'vms': list(source.get('vms') or []), 'reboot_pending': gpu['reboot_pending'],
        })
    in_use = {}
    for vm in vms:
        if str(vm.get('power_state')) == 'poweredOn':
            for profile in vm['vgpu_profiles']:
                vtype = parse_type(profile)
                add_counts(in_use, {vtype.canonical if vtype is not None else profile: 1})
    free = {}
    for gpu in gpus:
        add_counts(free, gpu['free'])
    variables = {
        'gpu_count': len(gpus),
        'gpu_models': sorted(set(g['model'] for g in gpus if g['model'])),
        'gpu_graphics_type': record['graphics']['default_type'],
        'gpu_assignment_policy': record['graphics']['assignment_policy'],
        'gpus': gpus,
        'vgpu_profiles_offered': list(record['vgpu_profiles']),
        'vgpu_profiles_in_use': in_use,
        'vgpu_free': free,
        'gpu_reboot_pending': report['reboot_pending'],
        'vsphere_moid': record['moid'],
        'vsphere_datacenter': record['datacenter'],
        'vsphere_cluster': record['cluster'],
        'vsphere_connection_state': record['connection_state'],
        'vsphere_in_maintenance_mode': record['in_maintenance_mode'],
    }
    groups = set()
    if gpus:
        groups.add('gpu_hosts')
    for gpu in gpus:
        if gpu['model']:
            groups.add('gpu_model_' + group_word(gpu['model']))
        if gpu['graphics_type']:
            groups.add('graphics_' + group_word(gpu['graphics_type']))
        if gpu['passthrough']['active']:
            groups.add('gpu_passthrough')
    return {'name': record['name'], 'vars': variables, 'groups': sorted(groups)}


def entries(objects, datacenter=None, cluster=None, gpu_hosts_only=False):
    """Inventory records of the hosts in scope from one retrieval's objects (pure)."""
    inventory = Inventory(objects)
    hosts = inventory.select_hosts(datacenter, cluster)
    vms = {}
    for vm in inventory.vms:
        host = inventory.host_of_vm(vm)
        if host is not None:
            vms.setdefault(host.moid, []).append(inventory.vm_record(vm))
    out = []
    for host in hosts:
        entry = host_entry(inventory.host_record(host), vms.get(host.moid, []))
        if entry['vars']['gpu_count'] or not gpu_hosts_only:
            out.append(json.loads(json.dumps(entry)))  # plain values (pyvmomi enums are str subclasses): the cache stores JSON
    return sorted(out, key=lambda e: e['name'])


class InventoryModule(GpuInventory):
    NAME = 'gpuvirt.core.vsphere_gpu_hosts'
    FILE_SUFFIXES = ('vsphere_gpu_hosts',)

    def fetch(self):
        params = dict((name, self.get_option(name)) for name in ('hostname', 'username', 'password', 'port', 'validate_certs', 'timeout'))
        session = Session(params)
        try:
            with session:
                objects = gpu_inventory(session.content, vm_paths=VM_PATHS)
            return entries(objects, self.get_option('datacenter'), self.get_option('cluster'), self.get_option('gpu_hosts_only'))
        except PlanError as exc:
            raise AnsibleParserError('%s: %s' % (self.NAME, exc))
