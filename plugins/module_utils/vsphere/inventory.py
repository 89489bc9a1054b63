# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GPU view of a vSphere inventory, built from one retrieval (query.gpu_inventory); no I/O here.

Facts: reference gpu-virtualization-facts.md §8 (HostGraphicsInfo, HostGraphicsConfig, HostPciPassthruInfo,
VirtualPCIPassthrough backings).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.pci import NVIDIA_VENDOR_ID, u16
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError

VMIOP = 'VirtualPCIPassthroughVmiopBackingInfo'
DYNAMIC = 'VirtualPCIPassthroughDynamicBackingInfo'
DIRECT = 'VirtualPCIPassthroughDeviceBackingInfo'


def wsdl_name(obj):
    return getattr(obj, '_wsdlName', None) or obj.__class__.__name__


def _device_id(text):
    """VirtualPCIPassthroughDeviceBackingInfo.deviceId is HostPciDevice.deviceId written as a (decimal) string."""
    try:
        return u16(int(str(text), 0))
    except ValueError:
        return None


def gpu_devices(devices):
    """The VM's GPU devices: [{'kind': 'vgpu'|'dynamic'|'direct', 'key', 'label', 'profile' |
    'allowed' [(vendor, device)], 'custom_label', 'assigned_id' | 'id'}], in device order."""
    out = []
    for device in devices or []:
        if wsdl_name(device) != 'VirtualPCIPassthrough':
            continue
        backing = device.backing
        kind = wsdl_name(backing)
        label = device.deviceInfo.label if getattr(device, 'deviceInfo', None) else None
        item = {'key': device.key, 'label': label}
        if kind == VMIOP:
            item.update(kind='vgpu', profile=backing.vgpu)
        elif kind == DYNAMIC:
            item.update(kind='dynamic', custom_label=backing.customLabel or '', assigned_id=backing.assignedId or None,
                        allowed=[(u16(a.vendorId), u16(a.deviceId)) for a in backing.allowedDevice or []])
        elif kind == DIRECT:
            item.update(kind='direct', id=backing.id, vendor_id=u16(backing.vendorId), device_id=_device_id(backing.deviceId))
        else:
            continue
        out.append(item)
    return out


class Inventory(object):
    """Hosts, VMs and their containers from one retrieval, with name-based selection (an unknown name is a
    :class:`~plan.PlanError`: nothing is written before the state is known)."""

    def __init__(self, objects):
        self.by_moid = dict((o.moid, o) for o in objects)
        self.hosts = [o for o in objects if o.kind == 'HostSystem']
        self.vms = [o for o in objects if o.kind == 'VirtualMachine' and not o.get('config.template', False)]

    def _parent(self, obj):
        ref = obj.get('parent')
        return self.by_moid.get(ref._moId) if ref is not None else None  # pylint: disable=protected-access

    def datacenter_of(self, obj):
        node = obj
        while node is not None:
            if node.kind == 'Datacenter':
                return node.get('name')
            node = self._parent(node)
        return None

    def cluster_of(self, host):
        parent = self._parent(host)
        if parent is not None and parent.kind == 'ClusterComputeResource':
            return parent.get('name')
        return None

    def name_of(self, ref):
        obj = self.by_moid.get(ref._moId) if ref is not None else None  # pylint: disable=protected-access
        return obj.get('name') if obj is not None else None

    def host_of_vm(self, vm):
        ref = vm.get('runtime.host')
        return self.by_moid.get(ref._moId) if ref is not None else None  # pylint: disable=protected-access

    def select_hosts(self, datacenter=None, cluster=None, esxi_hostname=None):
        """Hosts in scope; an unknown datacenter, cluster or host name is an error listing the known ones."""
        hosts = self.hosts
        if datacenter:
            known = sorted(set(o.get('name') for o in self.by_moid.values() if o.kind == 'Datacenter'))
            if datacenter not in known:
                raise PlanError('datacenter %r not found (known: %s)' % (datacenter, ', '.join(known) or 'none'))
            hosts = [h for h in hosts if self.datacenter_of(h) == datacenter]
        if cluster:
            known = sorted(set(self.cluster_of(h) for h in hosts if self.cluster_of(h)))
            if cluster not in known:
                where = ' in datacenter %r' % datacenter if datacenter else ''
                raise PlanError('cluster %r not found%s (known: %s)' % (cluster, where, ', '.join(known) or 'none'))
            hosts = [h for h in hosts if self.cluster_of(h) == cluster]
        if esxi_hostname:
            found = [h for h in hosts if h.get('name') == esxi_hostname]
            if not found:
                known = sorted(h.get('name') for h in hosts)
                raise PlanError('ESXi host %r not found%s (known: %s)' % (
                    esxi_hostname, ' in cluster %r' % cluster if cluster else '', ', '.join(known[:50]) or 'none'))
            hosts = found
        return hosts

    def find_vm(self, name=None, uuid=None, moid=None):
        if moid:
            found = [v for v in self.vms if v.moid == moid]
            what = 'moid %r' % moid
        elif uuid:
            found = [v for v in self.vms if uuid.lower() in ((v.get('config.uuid') or '').lower(), (v.get('config.instanceUuid') or '').lower())]
            what = 'uuid %r' % uuid
        else:
            found = [v for v in self.vms if v.get('name') == name]
            what = 'name %r' % name
        if not found:
            raise PlanError('VM with %s not found' % what)
        if len(found) > 1:
            raise PlanError('%d VMs have the %s (%s): use uuid or moid' % (len(found), what, ', '.join(v.moid for v in found)))
        return found[0]

    # -- records ----------------------------------------------------------------------------------
    def host_record(self, host):
        passthru = dict((p.id, p) for p in host.get('config.pciPassthruInfo', []))
        graphics = dict((g.pciId, g) for g in host.get('config.graphicsInfo', []))
        config = host.get('config.graphicsConfig')
        default_type = config.hostDefaultGraphicsType if config else None
        device_config = dict((d.deviceId, d) for d in (config.deviceType if config else None) or [])
        gpus = []
        for dev in host.get('hardware.pciDevice', []):
            if u16(dev.vendorId) != NVIDIA_VENDOR_ID or (u16(dev.classId) >> 8) != 0x03:
                continue
            pt = passthru.get(dev.id)
            info = graphics.get(dev.id)
            configured = device_config.get(dev.id)
            gpus.append({
                'id': dev.id,
                'vendor_id': u16(dev.vendorId),
                'device_id': u16(dev.deviceId),
                'pci_id': '%04x:%04x' % (u16(dev.vendorId), u16(dev.deviceId)),
                'device_name': dev.deviceName,
                'passthrough': {
                    'capable': bool(pt and pt.passthruCapable),
                    'enabled': bool(pt and pt.passthruEnabled),
                    'active': bool(pt and pt.passthruActive),
                    'label': (getattr(pt, 'hardwareLabel', None) or None) if pt else None,
                },
                'graphics_type': info.graphicsType if info else None,
                'vgpu_mode': getattr(info, 'vgpuMode', None) if info else None,
                'configured_graphics_type': (configured.graphicsType if configured and configured.graphicsType else default_type),
                'configured_vgpu_mode': getattr(configured, 'vgpuMode', None) if configured else None,
                'memory_mib': (info.memorySizeInKB // 1024) if info and info.memorySizeInKB else None,
                'vms': sorted(n for n in (self.name_of(r) for r in (info.vm if info else None) or []) if n),
            })
        pending_graphics = [g['id'] for g in gpus if g['graphics_type'] not in (None, 'direct')
                            and g['configured_graphics_type'] and g['graphics_type'] != g['configured_graphics_type']]
        return {
            'name': host.get('name'),
            'moid': host.moid,
            'datacenter': self.datacenter_of(host),
            'cluster': self.cluster_of(host),
            'connection_state': host.get('runtime.connectionState'),
            'in_maintenance_mode': bool(host.get('runtime.inMaintenanceMode', False)),
            'graphics': {
                'default_type': default_type,
                'assignment_policy': config.sharedPassthruAssignmentPolicy if config else None,
                'devices': [dict(id=d.deviceId, graphics_type=d.graphicsType, vgpu_mode=getattr(d, 'vgpuMode', None))
                            for d in (config.deviceType if config else None) or []],
            },
            'gpus': gpus,
            'vgpu_profiles': list(host.get('config.sharedPassthruGpuTypes', [])),
            'reboot_required': any(g['passthrough']['enabled'] != g['passthrough']['active'] for g in gpus),
            'graphics_restart_required': bool(pending_graphics),
        }

    def vm_record(self, vm):
        devices = gpu_devices(vm.get('config.hardware.device', []))
        host = self.host_of_vm(vm)
        return {
            'name': vm.get('name'),
            'moid': vm.moid,
            'uuid': vm.get('config.uuid'),
            'host': host.get('name') if host is not None else None,
            'power_state': vm.get('runtime.powerState'),
            'hardware_version': vm.get('config.version'),
            'memory_mb': vm.get('config.hardware.memoryMB'),
            'memory_reservation_locked': bool(vm.get('config.memoryReservationLockedToMax', False)),
            'vgpu_profiles': [d['profile'] for d in devices if d['kind'] == 'vgpu'],
            'passthrough_devices': [
                {'vendor_id': d['allowed'][0][0] if d['allowed'] else None, 'device_id': d['allowed'][0][1] if d['allowed'] else None,
                 'custom_label': d['custom_label'], 'assigned_id': d['assigned_id']}
                for d in devices if d['kind'] == 'dynamic'] + [
                {'id': d['id'], 'vendor_id': d['vendor_id'], 'device_id': d['device_id'], 'custom_label': '', 'assigned_id': d['id']}
                for d in devices if d['kind'] == 'direct'],
        }
