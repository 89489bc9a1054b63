# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""capv_machine_template_gpu: observe (GETs), plan (``capv/template.py``), check or apply over the Kubernetes API.

Calls: GET the source template, GET the template named like the result, GET the MachineDeployment (when given)
and, only when the deployment uses a third template, GET that one to see whether it was made from the same
source. Writes: one POST of the new template and one JSON merge patch of the deployment's
``infrastructureRef`` carrying its ``resourceVersion`` (retried on 409 Conflict). A rerun writes nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.capv.template import (
    API_VERSION, DEPLOYMENT_GROUP, SOURCE_ANNOTATION, TEMPLATE_GROUP, TemplateRequest, base_name, desired_spec, infrastructure_ref,
    plan_template, template_name, template_spec)
from ansible_collections.gpuvirt.core.plugins.module_utils.kube.client import (
    KubeConfigError, KubeError, KubeOperation, describe_error, patch_with_retry, path_for)
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError


class ConcurrentChange(Exception):
    """Another writer changed the MachineDeployment's template between the plan and the write."""


class TemplateWriter(object):
    """The writes the planner delegates: create/delete a template, repoint a deployment."""

    def __init__(self, client, namespace, template_version, deployment_version):
        self.client = client
        self.namespace = namespace
        self.template_version = template_version
        self.deployment_version = deployment_version
        self.deployment = None

    def template_path(self, name=None):
        return path_for('%s/%s' % (TEMPLATE_GROUP, self.template_version), 'vspheremachinetemplates', name, self.namespace)

    def deployment_path(self, name):
        return path_for('%s/%s' % (DEPLOYMENT_GROUP, self.deployment_version), 'machinedeployments', name, self.namespace)

    def create(self, body):
        body = dict(body, apiVersion='%s/%s' % (TEMPLATE_GROUP, self.template_version))
        return self.client.create(self.template_path(), body)

    def delete(self, name):
        return self.client.request('DELETE', self.template_path(name))

    def point(self, deployment, template, expected_current):
        """Merge-patch ``infrastructureRef.name`` of ``deployment`` to ``template`` (guarded by resourceVersion; the
        deployment is read again first: the template was created since it was observed)."""
        def build(current):
            ref = infrastructure_ref(current)
            if ref.get('name') == template:
                return None
            if ref.get('name') != expected_current:
                raise ConcurrentChange('MachineDeployment %s/%s now uses template %s (expected %s): another writer changed '
                                       'it; run again' % (self.namespace, deployment, ref.get('name'), expected_current))
            return {'spec': {'template': {'spec': {'infrastructureRef': {'name': template}}}}}
        self.deployment = patch_with_retry(self.client, self.deployment_path(deployment), build)[0]
        return self.deployment


class CapvMachineTemplateGpu(KubeOperation):
    """Result: ``template_name``, ``created``, the new spec's ``pci_devices``, ``hardware_version`` and
    ``custom_vmx_keys``, ``machine_deployment`` (when given), ``api_calls``."""

    def __init__(self, module):
        super(CapvMachineTemplateGpu, self).__init__(module)
        params = self.params
        self.writer = TemplateWriter(self.client, params['namespace'], params['template_api_version'], params['deployment_api_version'])
        self.request = None
        self.name = None       # the resulting template's name and spec, from the plan
        self.spec = None

    def validate(self):
        params = self.params
        for option in ('template_api_version', 'deployment_api_version'):
            if not API_VERSION.match(params[option] or ''):
                raise PlanError('%s %r is not a Kubernetes API version such as v1beta1' % (option, params[option]))
        self.request = TemplateRequest(params['namespace'], params['name'], params['pci_devices'], params['hardware_version'],
                                       params['custom_vmx_keys'], params['machine_deployment'])

    def observe(self):
        request, client, writer = self.request, self.client, self.writer
        try:
            source = client.get_optional(writer.template_path(request.name))
            existing, deployment, made_from_source = None, None, set()
            if source is not None:
                source_spec = template_spec(source)
                spec = desired_spec(source_spec, request.devices, request.hardware_version, request.custom_vmx_keys)
                if spec != source_spec:
                    existing = client.get_optional(writer.template_path(template_name(request.name, spec)))
            if request.machine_deployment:
                deployment = client.get_optional(writer.deployment_path(request.machine_deployment))
                current = infrastructure_ref(deployment).get('name')
                if source is not None and current and current != request.name:
                    other = client.get_optional(writer.template_path(current))
                    annotations = ((other or {}).get('metadata') or {}).get('annotations') or {}
                    if annotations.get(SOURCE_ANNOTATION) == base_name(request.name):
                        made_from_source.add(current)
        except (KubeError, KubeConfigError) as exc:
            raise PlanError(describe_error(exc, 'VSphereMachineTemplate %s/%s' % (request.namespace, request.name)))
        return {'source': source, 'existing': existing, 'deployment': deployment, 'made_from_source': made_from_source}

    def plan(self, current):
        the_plan, self.name, self.spec = plan_template(self.request, current['source'], current['existing'], current['deployment'],
                                                       self.writer, current['made_from_source'])
        return the_plan

    def result(self, current, outcome):
        out = {
            'template_name': self.name,
            'created': any(c.action == 'create' for c in outcome.plan.changes),
            'pci_devices': self.spec.get('pciDevices') or [],
            'hardware_version': self.spec.get('hardwareVersion'),
            'custom_vmx_keys': self.spec.get('customVMXKeys') or {},
            'api_calls': self.client.calls,
        }
        if self.params['machine_deployment']:
            ref = dict(infrastructure_ref(self.writer.deployment or current['deployment']))
            if self.check_mode:
                ref['name'] = self.name
            out['machine_deployment'] = {
                'name': self.params['machine_deployment'],
                'infrastructure_ref': ref,
                'rollout': any(c.action == 'update' for c in outcome.plan.changes),
            }
        return out
