# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubevirt_host_devices: (LIST nodes when discovering) + one GET + at most one PATCH (more only on 409).

The decisions are the pure planners of ``kube/kubevirt.py``: ``wanted_entries`` (the entries asked for or discovered),
``check_against_cr`` / ``check_feature_gates`` (refusals), ``desired_configuration`` (the one merge patch).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.kube.client import (
    KubeConfigError, KubeError, KubeOperation, describe_error, patch_with_retry, path_for)
from ansible_collections.gpuvirt.core.plugins.module_utils.kube.kubevirt import (
    check_against_cr, check_feature_gates, desired_configuration, kubevirt_version, wanted_entries)
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import Plan, PlanError


class KubevirtHostDevices(KubeOperation):
    """Result: the CR's ``permitted_host_devices``, ``feature_gates``, ``mediated_devices_configuration`` and
    ``kubevirt_version`` after the run (as the patch would leave them, in check mode), ``discovered``,
    ``conflicts_retried``, ``api_calls``."""

    def __init__(self, module):
        super(KubevirtHostDevices, self).__init__(module)
        namespace, name = self.params['namespace'], self.params['name']
        self.path = path_for('kubevirt.io/v1', 'kubevirts', name, namespace)
        self.target = 'KubeVirt/%s/%s' % (namespace, name)
        self.cr = None            # the CR as observed, then as the PATCH left it
        self.conflicts = 0
        self.discovered = []

    def observe(self):
        try:
            nodes = []
            if self.params['discover']:
                nodes = self.client.list('/api/v1/nodes', label_selector=self.params['node_selector'])['items']
            cr = self.client.get_optional(self.path)
        except (KubeError, KubeConfigError) as exc:
            raise PlanError(describe_error(exc, self.target))
        if cr is None:
            raise PlanError('%s not found: install KubeVirt first, or set namespace/name to the KubeVirt CR of this '
                            'cluster (nothing was changed)' % self.target)
        self.cr = cr
        return {'cr': cr, 'nodes': nodes}

    def plan(self, current):
        params = self.params
        pci, mdev, warnings = wanted_entries(params, current['nodes'])
        if params['state'] == 'present':
            for option, entries in (('pci_host_devices', pci), ('mediated_devices', mdev)):
                explicit = params.get(option) or []
                check_against_cr(current['cr'], option, explicit, entries[:len(explicit)])
        warnings = check_feature_gates(current['cr'], params['feature_gates']) + warnings
        self.discovered = pci + mdev if params['discover'] else []
        if not pci and not mdev and not params['feature_gates'] and params['disable_mdev_configuration'] is None:
            raise PlanError('nothing to do: give pci_host_devices, mediated_devices, discover=true, feature_gates or '
                            'disable_mdev_configuration' + ('; discovery found no GPU resources on the nodes' if params['discover'] else ''))

        def build(cr):
            return desired_configuration(cr, pci, mdev, params['state'], params['feature_gates'], params['disable_mdev_configuration'])[0]

        patch, before, after, more = desired_configuration(current['cr'], pci, mdev, params['state'],
                                                           params['feature_gates'], params['disable_mdev_configuration'])
        result = Plan(warnings=warnings + more)
        if patch is not None:
            result.add('update', self.target, before=before, after=after, apply=lambda: self.write(current['cr'], build),
                       details={'fields': sorted(patch['spec']['configuration'])})
        return result

    def write(self, observed, build):
        self.cr, self.conflicts = patch_with_retry(self.client, self.path, build, current=observed)
        return self.cr

    def result(self, current, outcome):
        configuration = (self.cr.get('spec') or {}).get('configuration') or {}
        if self.check_mode and outcome.plan:  # the CR as the planned patch would leave it
            after = outcome.plan.changes[0].after
            configuration = {'permittedHostDevices': after['permittedHostDevices'],
                             'developerConfiguration': {'featureGates': after['featureGates']},
                             'mediatedDevicesConfiguration': after['mediatedDevicesConfiguration']}
        return {
            'permitted_host_devices': configuration.get('permittedHostDevices') or {},
            'feature_gates': (configuration.get('developerConfiguration') or {}).get('featureGates') or [],
            'mediated_devices_configuration': configuration.get('mediatedDevicesConfiguration') or {},
            'kubevirt_version': kubevirt_version(self.cr),
            'discovered': self.discovered,
            'conflicts_retried': self.conflicts,
            'api_calls': self.client.calls,
        }
