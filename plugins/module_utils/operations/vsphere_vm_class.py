# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vsphere_vm_class: a vSphere with Tanzu VM class and its namespaces over vCenter's REST API; the session is the REST
login (always logged out); tanzu/vmclass.py plan_vm_class decides, tanzu/vmclass_api.py writes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import Operation, PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.tanzu.vmclass import VmClassRequest, device_mode, key_style, plan_vm_class
from ansible_collections.gpuvirt.core.plugins.module_utils.tanzu.vmclass_api import CLASSES, NAMESPACES, VmClassWriter
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere_rest.client import RestClient, RestError, describe_error, item_path


class VsphereVmClass(Operation):
    positive = ('timeout',)

    def __init__(self, module):
        super(VsphereVmClass, self).__init__(module)
        self.request = None
        self.mode = None
        self.desired = None

    def validate(self):
        self.request = VmClassRequest(self.params)

    def _refused(self, exc):
        """A REST failure while reading: a PlanError naming the vCenter and the class."""
        return PlanError(describe_error(exc, 'vCenter %s, VM class %s' % (self.params.get('hostname'), self.request.id)))

    @contextlib.contextmanager
    def session(self):
        api = RestClient(self.params)
        try:
            try:
                api.login()
            except RestError as exc:
                raise self._refused(exc)
            yield api
        finally:
            api.logout()

    def observe(self):
        api, request = self.session_value, self.request
        try:
            version = api.version()
            classes = api.get(CLASSES) or []
            info = next((c for c in classes if c.get('id') == request.id), None)
            names = list(request.namespaces)
            if info is not None and (request.purge_namespaces or request.state == 'absent'):
                names += [n for n in info.get('namespaces') or [] if n not in names]
            namespaces = dict((name, api.get_optional(item_path(NAMESPACES, name))) for name in names)
        except RestError as exc:
            raise self._refused(exc)
        return {'info': info, 'style': key_style(classes), 'version': version, 'namespaces': namespaces}

    def plan(self, current):
        self.mode = device_mode(self.request.device_api, current['version'])
        the_plan, self.desired = plan_vm_class(self.request, current['info'], current['namespaces'], current['style'], self.mode,
                                               VmClassWriter(self.session_value))
        return the_plan

    def result(self, current, outcome):
        assigned = set((current['info'] or {}).get('namespaces') or [])
        for change in outcome.plan.changes:
            if change.action in ('assign', 'unassign'):
                name = change.target.split('/', 1)[1]
                (assigned.add if change.action == 'assign' else assigned.discard)(name)
        return {
            'vm_class': self.desired,
            'namespaces': sorted(assigned) if self.request.state == 'present' else [],
            'device_api': self.mode,
            'vcenter_version': '.'.join(str(v) for v in current['version']),
            'api_calls': self.session_value.calls,
        }
