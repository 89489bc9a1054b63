# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vsphere_vm_gpu's I/O side: the ReconfigVM specs (and their undo) of a plan from planners.plan_vm_gpu, and the power
cycle around them (operations/vsphere_vm_gpu.py builds the plan).

Device specs follow reference gpu-virtualization-facts.md §8-§9: vGPU = VirtualPCIPassthrough with
VmiopBackingInfo{vgpu}; Dynamic DirectPath = DynamicBackingInfo{allowedDevice[{vendorId, deviceId}],
customLabel}; new device keys start at -200 and decrement (as CAPV does); memoryReservationLockedToMax=true;
64-bit MMIO through extraConfig pciPassthru.use64bitMMIO / pciPassthru.64bitMMIOSizeGB.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import wait_for_task
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.inventory import gpu_devices, wsdl_name
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.query import retrieve_one

FIRST_NEW_KEY = -200
MMIO_KEYS = ('pciPassthru.use64bitMMIO', 'pciPassthru.64bitMMIOSizeGB')


def hardware_version(text):
    try:
        return int(str(text).replace('vmx-', ''))
    except ValueError:
        return 0


def vm_state(obj):
    """The planner's view of a VM from its retrieved properties."""
    devices = obj.get('config.hardware.device', [])
    return {
        'name': obj.get('name'),
        'power_state': str(obj.get('runtime.powerState')),
        'version': hardware_version(obj.get('config.version')),
        'devices': gpu_devices(devices),
        'memory_locked': bool(obj.get('config.memoryReservationLockedToMax', False)),
        'extra_config': dict((o.key, o.value) for o in obj.get('config.extraConfig', []) if o.key in MMIO_KEYS),
    }


def new_vgpu(vim, key, profile):
    return vim.vm.device.VirtualPCIPassthrough(key=key, backing=vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(vgpu=profile))


def new_dynamic(vim, key, vendor_id, device_id, custom_label):
    allowed = vim.vm.device.VirtualPCIPassthrough.AllowedDevice(vendorId=vendor_id, deviceId=device_id)
    backing = vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo(allowedDevice=[allowed], deviceName='', useAutoDetect=False)
    if custom_label:
        backing.customLabel = custom_label
    return vim.vm.device.VirtualPCIPassthrough(key=key, backing=backing)


def build_spec(vim, planned, devices_by_key):
    """The ReconfigVM spec of a plan from planners.plan_vm_gpu (pure: no calls)."""
    changes = [vim.vm.device.VirtualDeviceSpec(operation='remove', device=devices_by_key[key]) for key in planned['remove_keys']]
    key = FIRST_NEW_KEY
    for profile in planned['add_vgpus']:
        changes.append(vim.vm.device.VirtualDeviceSpec(operation='add', device=new_vgpu(vim, key, profile)))
        key -= 1
    for item in planned['add_passthrough']:
        changes.append(vim.vm.device.VirtualDeviceSpec(
            operation='add', device=new_dynamic(vim, key, item['vendor_id'], item['device_id'], item['custom_label'])))
        key -= 1
    spec = vim.vm.ConfigSpec(deviceChange=changes)
    if planned['memory_locked']:
        spec.memoryReservationLockedToMax = True
    if planned['extra_config']:
        spec.extraConfig = [vim.option.OptionValue(key=k, value=v) for k, v in sorted(planned['extra_config'].items())]
    return spec


def build_undo_spec(vim, before_devices, before_locked, before_extra, now_devices):
    """The spec that returns a VM to ``before_*`` from ``now_devices`` (pure)."""
    before_keys = set(d.key for d in before_devices if wsdl_name(d) == 'VirtualPCIPassthrough')
    now_keys = set(d.key for d in now_devices if wsdl_name(d) == 'VirtualPCIPassthrough')
    changes = [vim.vm.device.VirtualDeviceSpec(operation='remove', device=d) for d in now_devices
               if wsdl_name(d) == 'VirtualPCIPassthrough' and d.key not in before_keys]
    key = FIRST_NEW_KEY
    for device in before_devices:
        if wsdl_name(device) == 'VirtualPCIPassthrough' and device.key not in now_keys:
            changes.append(vim.vm.device.VirtualDeviceSpec(
                operation='add', device=vim.vm.device.VirtualPCIPassthrough(key=key, backing=device.backing)))
            key -= 1
    spec = vim.vm.ConfigSpec(deviceChange=changes, memoryReservationLockedToMax=before_locked)
    spec.extraConfig = [vim.option.OptionValue(key=k, value=before_extra.get(k, '')) for k in MMIO_KEYS]
    return spec


def power_on(vm, name, timeout):
    wait_for_task(vm.PowerOnVM_Task(), 'power on VM %s' % name, timeout)


def power_off(vim, content, vm, name, shutdown_timeout, timeout):
    """Shut the guest down; power off when tools are not running or it is still on after the timeout."""
    try:
        vm.ShutdownGuest()
    except (vim.fault.ToolsUnavailable, vim.fault.InvalidState, vim.fault.TaskInProgress):
        wait_for_task(vm.PowerOffVM_Task(), 'power off VM %s' % name, timeout)
        return
    deadline = time.time() + shutdown_timeout
    while time.time() < deadline:
        if str(retrieve_one(content, vm, ['runtime.powerState']).get('runtime.powerState')) == 'poweredOff':
            return
        time.sleep(1)
    wait_for_task(vm.PowerOffVM_Task(), 'power off VM %s after guest shutdown timed out' % name, timeout)
