# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vsphere_vm_class: observe over vCenter's REST API, plan (capv.vmclass), check or apply.

Calls: log in, GET the vCenter version, LIST the VM classes (the class, and the server's key spelling, in one
call), GET each namespace involved; writes: one POST or PATCH of the class (or DELETE), one PATCH per namespace
whose ``vm_service_spec`` changes; log out. A rerun writes nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.capv.vmclass import (
    VmClassRequest, device_mode, key_style, plan_vm_class)
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError, run
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere_rest.client import (
    RestClient, RestError, describe_error, item_path)

CLASSES = '/api/vcenter/namespace-management/virtual-machine-classes'
NAMESPACES = '/api/vcenter/namespaces/instances'


class VmClassWriter(object):
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


def run_module(module):
    params = module.params
    api = RestClient(params)
    state = {}

    def observe():
        request = VmClassRequest(params)
        state['request'] = request
        try:
            api.login()
            version = api.version()
            classes = api.get(CLASSES) or []
            info = next((c for c in classes if c.get('id') == request.id), None)
            names = list(request.namespaces)
            if info is not None and (request.purge_namespaces or request.state == 'absent'):
                names += [n for n in info.get('namespaces') or [] if n not in names]
            namespaces = dict((name, api.get_optional(item_path(NAMESPACES, name))) for name in names)
        except RestError as exc:
            raise PlanError(describe_error(exc, 'vCenter %s, VM class %s' % (params.get('hostname'), request.id)))
        state['version'] = version
        return {'info': info, 'style': key_style(classes), 'version': version, 'namespaces': namespaces}

    def plan(current):
        request = state['request']
        mode = device_mode(request.device_api, current['version'])
        state['mode'] = mode
        the_plan, desired = plan_vm_class(request, current['info'], current['namespaces'], current['style'], mode,
                                          VmClassWriter(api))
        state['desired'] = desired
        return the_plan

    def result(current, outcome):
        request = state['request']
        assigned = set((current['info'] or {}).get('namespaces') or [])
        for change in outcome.plan.changes:
            if change.action in ('assign', 'unassign'):
                name = change.target.split('/', 1)[1]
                (assigned.add if change.action == 'assign' else assigned.discard)(name)
        return {
            'vm_class': state['desired'],
            'namespaces': sorted(assigned) if request.state == 'present' else [],
            'device_api': state['mode'],
            'vcenter_version': '.'.join(str(v) for v in state['version']),
            'api_calls': api.calls,
        }

    try:
        run(module, observe, plan, result)
    finally:
        api.logout()
