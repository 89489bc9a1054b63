# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vsphere_vm_gpu: one VM's vGPUs and Dynamic DirectPath devices (vsphere/planners.py plan_vm_gpu decides), written
with one ReconfigVM_Task; with power_cycle a powered-on VM is shut down first and powered on after. On a failure the
applied steps are undone newest first (the devices restored, the VM powered on again)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import Plan, PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere import planners
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import VsphereOperation, pyvmomi, wait_for_task
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.inventory import Inventory
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.query import VM_PATHS, gpu_inventory, retrieve_one
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.vm import build_spec, build_undo_spec, power_off, power_on, vm_state

FIND_VM_PATHS = ['name', 'config.uuid', 'config.instanceUuid', 'config.template', 'runtime.host']


class VsphereVmGpu(VsphereOperation):

    def __init__(self, module):
        super(VsphereVmGpu, self).__init__(module)
        self.reads = 0

    def read(self):
        params = self.params
        inventory = Inventory(gpu_inventory(self.content, vm_paths=FIND_VM_PATHS))
        found = inventory.find_vm(params['name'], params['uuid'], params['moid'])
        host = inventory.host_of_vm(found)
        if host is None:
            raise PlanError('VM %s has no host (is it registered and connected?)' % found.get('name'))
        obj = retrieve_one(self.content, found.ref, VM_PATHS)
        self.reads += 1
        return obj, inventory.host_record(host)

    def changes(self, current):
        params = self.params
        obj, host = current
        state = vm_state(obj)
        planned = planners.plan_vm_gpu(state, host, params['vgpu_profiles'], params['passthrough_devices'], params['state'],
                                       params['power_cycle'], params['mmio_size_gb'])
        the_plan = Plan()
        if planned is None:
            return the_plan
        vim = pyvmomi()[0]
        content, timeout = self.content, params['timeout']
        vm, name = obj.ref, state['name']
        devices = obj.get('config.hardware.device', [])
        spec = build_spec(vim, planned, dict((d.key, d) for d in devices))
        if planned['power_cycle']:
            the_plan.add('power_off', name, before=dict(planned['before'], power_state=state['power_state']),
                         after=dict(planned['before'], power_state='poweredOff'),
                         apply=lambda: power_off(vim, content, vm, name, params['shutdown_timeout'], timeout),
                         undo=lambda: power_on(vm, name, timeout))

        def undo_reconfigure():
            now = retrieve_one(content, vm, ['config.hardware.device']).get('config.hardware.device', [])
            undo_spec = build_undo_spec(vim, devices, state['memory_locked'], state['extra_config'], now)
            wait_for_task(vm.ReconfigVM_Task(undo_spec), 'restore the devices of VM %s' % name, timeout)

        power = 'poweredOff' if planned['power_cycle'] else state['power_state']
        the_plan.add('reconfigure', name, before=dict(planned['before'], power_state=power),
                     after=dict(planned['after'], power_state=power),
                     apply=lambda: wait_for_task(vm.ReconfigVM_Task(spec), 'reconfigure VM %s' % name, timeout),
                     undo=undo_reconfigure,
                     details={'add_vgpus': planned['add_vgpus'], 'add_passthrough': planned['add_passthrough'],
                              'removed_devices': len(planned['remove_keys'])})
        if planned['power_cycle']:
            the_plan.add('power_on', name, before=dict(planned['after'], power_state='poweredOff'),
                         after=dict(planned['after'], power_state=state['power_state']),
                         apply=lambda: power_on(vm, name, timeout), undo=None)
        return the_plan

    def result(self, current, outcome):
        change = next((c for c in outcome.plan.changes if c.action == 'reconfigure'), None)
        return {'vm': vm_summary(current, dict(change.after) if change else None)}

    def failure_details(self, current, error):
        """``vm``: the VM as read after the failure (power state, GPU devices), not as planned; ``vm_read_error`` when it
        could not be read."""
        if self.reads < 2:  # plan.run read it again only after an unknown outcome
            try:
                current = self.observe()
            except Exception as exc:  # pylint: disable=broad-except
                return {'vm_read_error': str(exc) or exc.__class__.__name__}
        return {'vm': vm_summary(current)}


def vm_summary(current, planned=None):
    """The ``vm`` result: the GPU summary (``planned``: the plan's ``after`` in check mode and after a change, else as
    read) with the VM's name, moid, host, power state and hardware version as read."""
    obj, host = current
    state = vm_state(obj)
    summary = planned if planned is not None else planners.plan_vm_gpu_summary(state)
    summary.pop('power_state', None)
    summary.update(name=state['name'], moid=obj.moid, host=host['name'],
                   power_state=state['power_state'], hardware_version='vmx-%d' % state['version'])
    return summary
