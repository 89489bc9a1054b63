# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vCenter REST side of vsphere_vm_class: the paths of VM classes and namespaces, and the writes.

Calls of one run (operations/vsphere_vm_class.py): log in, GET the vCenter version, LIST the VM classes (the class,
and the server's key spelling, in one call), GET each namespace involved; writes: one POST or PATCH of the class (or
DELETE), one PATCH per namespace whose ``vm_service_spec`` changes; log out. A rerun writes nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere_rest.client import item_path

CLASSES = '/api/vcenter/namespace-management/virtual-machine-classes'
NAMESPACES = '/api/vcenter/namespaces/instances'


class VmClassWriter(object):
    """The writes tanzu.vmclass.plan_vm_class plans, over a logged-in vsphere_rest client."""

    def __init__(self, api):
        self.api = api

    def create(self, body):
        return self.api.post(CLASSES, body)

    def update(self, class_id, body):
        return self.api.patch(item_path(CLASSES, class_id), body)

    def delete(self, class_id):
        return self.api.delete(item_path(CLASSES, class_id))

    def assign(self, namespace, vm_service_spec):
        return self.api.patch(item_path(NAMESPACES, namespace), {'vm_service_spec': vm_service_spec})
