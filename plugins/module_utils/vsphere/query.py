# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One PropertyCollector retrieval over a ContainerView (RetrievePropertiesEx with paging).

The number of SOAP calls is the same for 5 or 500 hosts: CreateContainerView, RetrievePropertiesEx,
ContinueRetrievePropertiesEx per page of ``page_size`` objects, DestroyView.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import pyvmomi
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.inventory import Inventory

# Properties the GPU modules read, by managed object type name.
ENTITY_PATHS = ['name', 'parent']
HOST_PATHS = [
    'name', 'parent', 'runtime.connectionState', 'runtime.inMaintenanceMode', 'hardware.pciDevice',
    'config.graphicsInfo', 'config.graphicsConfig', 'config.sharedPassthruGpuTypes', 'config.pciPassthruInfo',
    'configManager.graphicsManager', 'configManager.pciPassthruSystem',
]
VM_PATHS = [
    'name', 'runtime.host', 'runtime.powerState', 'config.version', 'config.uuid', 'config.instanceUuid',
    'config.template', 'config.hardware.memoryMB', 'config.hardware.device', 'config.memoryReservationLockedToMax',
    'config.memoryAllocation.reservation', 'config.extraConfig',
]


class Obj(object):
    """One retrieved managed object: ``ref`` (pyvmomi object), ``moid``, ``kind`` and ``props``."""

    __slots__ = ('ref', 'moid', 'kind', 'props')

    def __init__(self, ref, props):
        self.ref = ref
        self.moid = ref._moId  # pylint: disable=protected-access
        self.kind = ref._wsdlName  # pylint: disable=protected-access
        self.props = props

    def get(self, path, default=None):
        value = self.props.get(path)
        return default if value is None else value


def retrieve(content, type_paths, root=None, page_size=1000):
    """Retrieve ``type_paths`` ([(vim type, [paths])]) for every object under ``root`` (default: the whole
    inventory). Returns a list of :class:`Obj` in server order."""
    vim, vmodl = pyvmomi()
    pc = vmodl.query.PropertyCollector
    view = content.viewManager.CreateContainerView(root or content.rootFolder, [t for t, _paths in type_paths], True)
    try:
        traversal = pc.TraversalSpec(name='view', path='view', skip=False, type=vim.view.ContainerView)
        spec = pc.FilterSpec(
            objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[traversal])],
            propSet=[pc.PropertySpec(type=t, pathSet=list(paths), all=False) for t, paths in type_paths],
            reportMissingObjectsInResults=False,
        )
        collector = content.propertyCollector
        result = collector.RetrievePropertiesEx([spec], pc.RetrieveOptions(maxObjects=page_size))
        objects = []
        while result is not None:
            for item in result.objects or []:
                objects.append(Obj(item.obj, dict((p.name, p.val) for p in item.propSet or [])))
            if not result.token:
                break
            result = collector.ContinueRetrievePropertiesEx(result.token)
        return objects
    finally:
        view.DestroyView()


def gpu_inventory(content, vm_paths=None):
    """Entities, hosts and VMs needed by the GPU modules, in one retrieval (VMs with ``vm_paths``,
    default VM_PATHS)."""
    vim, _vmodl = pyvmomi()
    type_paths = [
        (vim.Datacenter, ENTITY_PATHS), (vim.Folder, ENTITY_PATHS), (vim.ComputeResource, ENTITY_PATHS),
        (vim.HostSystem, HOST_PATHS),
    ]
    type_paths.append((vim.VirtualMachine, vm_paths or VM_PATHS))
    return retrieve(content, type_paths)


def retrieve_one(content, ref, paths):
    """Properties ``paths`` of one managed object (one RetrievePropertiesEx): an :class:`Obj`."""
    _vim, vmodl = pyvmomi()
    pc = vmodl.query.PropertyCollector
    spec = pc.FilterSpec(objectSet=[pc.ObjectSpec(obj=ref, skip=False)],
                         propSet=[pc.PropertySpec(type=type(ref), pathSet=list(paths), all=False)])
    result = content.propertyCollector.RetrievePropertiesEx([spec], pc.RetrieveOptions())
    props = {}
    for item in (result.objects if result else None) or []:
        props.update((p.name, p.val) for p in item.propSet or [])
    return Obj(ref, props)


def hosts_in_scope(content, datacenter=None, cluster=None, esxi_hostname=None):
    """[(host object, host record)] of the hosts in scope, from one retrieval (VMs by name only)."""
    inventory = Inventory(gpu_inventory(content, vm_paths=['name']))
    return [(h, inventory.host_record(h)) for h in inventory.select_hosts(datacenter, cluster, esxi_hostname)]
