# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s_gpu_info: LIST nodes, GET the KubeVirt CR, LIST ClusterPolicies. Reads only."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.kube import gpus
from ansible_collections.gpuvirt.core.plugins.module_utils.kube.client import (
    KubeConfigError, KubeError, KubeOperation, describe_error, path_for)
from ansible_collections.gpuvirt.core.plugins.module_utils.kube.nodes import NODES_PATH, select_nodes
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError


def kubevirt_facts(cr):
    """The KubeVirt CR's GPU settings, or None without a CR."""
    if cr is None:
        return None
    configuration = (cr.get('spec') or {}).get('configuration') or {}
    status = cr.get('status') or {}
    return {
        'namespace': cr['metadata'].get('namespace'), 'name': cr['metadata']['name'],
        'version': status.get('observedKubeVirtVersion') or status.get('operatorVersion'),
        'phase': status.get('phase'),
        'feature_gates': (configuration.get('developerConfiguration') or {}).get('featureGates') or [],
        'permitted_host_devices': configuration.get('permittedHostDevices') or {},
        'mediated_devices_configuration': configuration.get('mediatedDevicesConfiguration') or {},
    }


def cluster_policy_facts(policies):
    """The first ClusterPolicy's state, sandbox workloads and licensing, or None when there is none."""
    if not policies or not policies.get('items'):
        return None
    policy = policies['items'][0]
    spec = policy.get('spec') or {}
    return {
        'name': policy['metadata']['name'], 'state': (policy.get('status') or {}).get('state'),
        'sandbox_workloads': spec.get('sandboxWorkloads') or {},
        'licensing_config': (spec.get('driver') or {}).get('licensingConfig') or {},
        'vgpu_device_manager': spec.get('vgpuDeviceManager') or {},
    }


class K8sGpuInfo(KubeOperation):
    """Result: ``nodes``, ``kubevirt``, ``cluster_policy``, ``api_calls``."""

    reads_only = True

    def observe(self):
        params = self.params
        try:
            items = self.client.list(NODES_PATH, label_selector=params['label_selector'])['items']
            nodes = select_nodes(items, params['nodes'])
            if not params['nodes'] and not params['include_non_gpu_nodes']:
                nodes = [n for n in nodes if gpus.is_gpu_node(n)]
            cr = self.client.get_optional(path_for('kubevirt.io/v1', 'kubevirts', params['kubevirt_name'], params['kubevirt_namespace']))
            policies = self.client.get_optional('/apis/nvidia.com/v1/clusterpolicies')
        except (KubeError, KubeConfigError) as exc:
            raise PlanError(describe_error(exc, 'reading GPU facts'))
        return nodes, cr, policies

    def result(self, current, outcome):
        nodes, cr, policies = current
        return {'nodes': [gpus.summary(n) for n in nodes], 'kubevirt': kubevirt_facts(cr),
                'cluster_policy': cluster_policy_facts(policies), 'api_calls': self.client.calls}
