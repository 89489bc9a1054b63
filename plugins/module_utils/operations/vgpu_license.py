# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vgpu_license: GET the licensing object (and the ClusterPolicies), then at most one create, merge patch or delete.

The decisions are the pure planners of ``kube/licensing.py``: ``gridd_conf`` (the file and every refusal of a
setting), ``plan_license`` (create, update, delete or nothing, comparing only our two keys).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.kube.client import (
    KubeConfigError, KubeError, KubeOperation, describe_error, patch_with_retry, path_for)
from ansible_collections.gpuvirt.core.plugins.module_utils.kube.licensing import (
    GRIDD_KEY, TOKEN_KEY, decoded_data, encode, fingerprint, gridd_conf, plan_license, read_token, shown)
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import Plan, PlanError


class VgpuLicense(KubeOperation):
    """Result: ``kind``, ``namespace``, ``name``, ``keys``, ``token_sha256`` (never the token), ``api_calls``."""

    def __init__(self, module):
        super(VgpuLicense, self).__init__(module)
        self.kind, self.namespace, self.name = self.params['kind'], self.params['namespace'], self.params['name']
        self.plural = 'secrets' if self.kind == 'Secret' else 'configmaps'
        self.path = path_for('v1', self.plural, self.name, self.namespace)
        self.target = '%s/%s/%s' % (self.kind, self.namespace, self.name)
        self.desired = {}

    def validate(self):
        if self.params['state'] == 'present':
            token = read_token(self.params)
            self.module.no_log_values.add(token)
            self.desired = {GRIDD_KEY: gridd_conf(self.params['feature_type'], self.params['gridd_conf']), TOKEN_KEY: token}

    def observe(self):
        try:
            existing = self.client.get_optional(self.path)
            policies = self.client.get_optional('/apis/nvidia.com/v1/clusterpolicies') if self.params['check_cluster_policy'] else None
        except (KubeError, KubeConfigError) as exc:
            raise PlanError(describe_error(exc, self.target))
        return {'object': existing, 'policies': (policies or {}).get('items') or []}

    def plan(self, current):
        kind, name = self.kind, self.name
        result = Plan()
        for policy in current['policies'] if self.params['state'] == 'present' else []:
            config = ((policy.get('spec') or {}).get('driver') or {}).get('licensingConfig') or {}
            referenced = config.get('secretName') if kind == 'Secret' else config.get('configMapName')
            if referenced != name:
                result.warnings.append('ClusterPolicy %s does not use this %s: set driver.licensingConfig.%s=%s (now %r)'
                                       % (policy['metadata']['name'], kind, 'secretName' if kind == 'Secret' else 'configMapName',
                                          name, referenced or ''))
        action = plan_license(kind, current['object'], self.desired, self.params['state'])
        if action is None:
            return result
        before = shown(decoded_data(kind, current['object'])) if current['object'] is not None else None
        after = shown(self.desired) if action != 'delete' else None
        apply = {'create': self.create, 'delete': self.delete, 'update': lambda: self.update(current['object'])}[action]
        result.add(action, self.target, before=before, after=after, apply=apply, details={'keys': sorted(self.desired)})
        return result

    def create(self):
        body = {'apiVersion': 'v1', 'kind': self.kind, 'metadata': {'name': self.name, 'namespace': self.namespace},
                'data': encode(self.kind, self.desired)}
        if self.kind == 'Secret':
            body['type'] = 'Opaque'
        try:
            return self.client.create(path_for('v1', self.plural, namespace=self.namespace), body)
        except KubeError as exc:
            if exc.not_found:
                raise KubeError('namespace %s does not exist; create it first (the GPU Operator\'s namespace)' % self.namespace,
                                status=exc.status, reason=exc.reason, method=exc.method, path=exc.path)
            raise

    def delete(self):
        return self.client.request('DELETE', self.path)

    def update(self, observed):
        def build(obj):
            if plan_license(self.kind, obj, self.desired, 'present') is None:
                return None
            return {'data': encode(self.kind, self.desired)}
        return patch_with_retry(self.client, self.path, build, current=observed)[0]

    def result(self, current, outcome):
        return {'kind': self.kind, 'namespace': self.namespace, 'name': self.name,
                'keys': sorted(self.desired) if self.params['state'] == 'present' else [],
                'token_sha256': fingerprint(self.desired[TOKEN_KEY]) if self.desired else None,
                'api_calls': self.client.calls}
