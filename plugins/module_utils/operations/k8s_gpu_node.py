# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s_gpu_node: one LIST, one PATCH per node whose labels differ (more only on 409), optional waiting.

The decisions are the pure planners of ``kube/nodes.py``: ``plan_labels`` (which labels change, and every refusal),
``readiness`` / ``wait_ready`` (when a node is done).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.kube import gpus
from ansible_collections.gpuvirt.core.plugins.module_utils.kube.client import (
    KubeConfigError, KubeError, KubeOperation, describe_error, patch_with_retry, path_for)
from ansible_collections.gpuvirt.core.plugins.module_utils.kube.nodes import (
    NODES_PATH, config_label, plan_labels, select_nodes, wait_ready)
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import OutcomeUnknown, Plan, PlanError, WaitError


def node_name(change):
    return change.target[len('Node/'):]


class K8sGpuNode(KubeOperation):
    """Result: ``nodes`` (after the change and the wait), ``conflicts_retried``, ``api_calls``; a failed wait adds
    ``nodes_changed`` (and ``waiting_nodes`` or ``outcome_unknown``)."""

    positive = ('wait_timeout', 'wait_sleep', 'request_timeout')

    def __init__(self, module):
        super(K8sGpuNode, self).__init__(module)
        self.conflicts = 0
        self.written = []      # nodes whose labels this run wrote (and did not put back)
        self.final = None      # {name: node} after the wait

    def validate(self):
        nodes = self.params['nodes'] or []
        for index, name in enumerate(nodes):
            if not name or name in nodes[:index]:
                raise PlanError('nodes[%d] %r is %s' % (index, name, 'listed twice' if name else 'empty'), option='nodes')

    def list_nodes(self):
        return self.client.list(NODES_PATH, label_selector=self.params['label_selector'])['items']

    def observe(self):
        selector = self.params['label_selector']
        try:
            items = self.list_nodes()
        except KubeError as exc:
            if exc.status == 400 and selector:
                raise PlanError('label_selector %r is not a label selector the API server accepts: %s' % (selector, exc.message),
                                option='label_selector')
            raise PlanError(describe_error(exc, 'Kubernetes nodes'))
        except KubeConfigError as exc:
            raise PlanError(describe_error(exc, 'Kubernetes nodes'))
        nodes = select_nodes(items, self.params['nodes'])
        if not nodes:
            raise PlanError('no node matches label_selector %r' % selector)
        return nodes

    def plan(self, current):
        params = self.params
        planned = plan_labels(current, params['workload'], params['vgpu_config'], params['validate_vgpu_config'])
        result = Plan()
        for node, wanted in planned:
            name = node['metadata']['name']
            before = dict((k, gpus.labels(node).get(k)) for k in wanted)
            result.add('label', 'Node/%s' % name, before={'labels': before}, after={'labels': dict(wanted)},
                       apply=lambda node=node, wanted=wanted: self.write_labels(node, wanted),
                       undo=lambda name=name, wanted=wanted, before=before: self.restore_labels(name, wanted, before),
                       details={'labels': dict(wanted)})
        return result

    def write_labels(self, node, wanted):
        """The merge patch of the labels that still differ, starting from the node as observed."""
        name = node['metadata']['name']

        def build(current):
            labels = gpus.labels(current)
            diff = dict((k, v) for k, v in wanted.items() if labels.get(k) != v)
            return {'metadata': {'labels': diff}} if diff else None
        obj, conflicts = patch_with_retry(self.client, path_for('v1', 'nodes', name), build, current=node)
        self.conflicts += conflicts
        self.written.append(name)
        return obj

    def restore_labels(self, name, wanted, before):
        """Put back the labels this run changed, where nobody changed them since (a later node failed)."""
        def build(current):
            labels = gpus.labels(current)
            diff = dict((k, before[k]) for k, v in wanted.items() if labels.get(k) == v and before[k] != v)
            return {'metadata': {'labels': diff}} if diff else None
        patch_with_retry(self.client, path_for('v1', 'nodes', name), build)
        self.written.remove(name)

    def after_apply(self, current, outcome):
        if self.params['wait']:  # also with nothing to write (a rerun after a timeout waits again)
            self.wait(current, outcome)

    def wait(self, nodes, outcome):
        """Wait for the GPU Operator on every node (those this run labelled: a ``failed`` state is only believed once
        the node showed another). WaitError on a failure or timeout, OutcomeUnknown when the API server goes away."""
        params = self.params
        changed = set(node_name(c) for c in outcome.plan.changes)
        targets = {}
        for node in nodes:
            name = node['metadata']['name']
            labels = gpus.labels(node)
            workload = params['workload'] or labels.get(gpus.WORKLOAD_LABEL) or 'container'
            config = params['vgpu_config'] and config_label(params['vgpu_config'], params['validate_vgpu_config'])[0]
            config = config or labels.get(gpus.VGPU_CONFIG_LABEL) or 'default'
            trust = not (name in changed and labels.get(gpus.VGPU_STATE_LABEL) == 'failed')
            targets[name] = (workload, config, trust)
        written = {'changed': outcome.changed, 'changes': outcome.plan.describe(), 'nodes_changed': list(self.written)}
        try:
            self.final = wait_ready(self.list_nodes, targets, params['wait_timeout'], params['wait_sleep'])
        except WaitError as exc:  # the labels were written (or were already right); only the wait failed
            exc.details = dict(exc.details, **written)
            raise
        except (KubeError, KubeConfigError) as exc:  # the API server went away after the writes
            names = [n['metadata']['name'] for n in nodes]
            raise OutcomeUnknown(
                '%s; then, while waiting for the GPU Operator, %s: whether the GPU Operator finished on %s is unknown '
                '(run again to wait, nothing more will be written)'
                % ('labels written on node(s) %s' % ', '.join(self.written) if self.written else 'no label was written',
                   describe_error(exc, 'the Kubernetes API could not be read'), ', '.join(names)),
                outcome_unknown=names, **written)

    def result(self, current, outcome):
        final = dict((n['metadata']['name'], n) for n in current)
        if self.final is not None:
            final = self.final
        else:  # the PATCH answers are the nodes as written: no second LIST
            final.update((node_name(c), c.result) for c in outcome.applied)
        summaries = [gpus.summary(final[n['metadata']['name']]) for n in current if n['metadata']['name'] in final]
        return {'nodes': summaries, 'conflicts_retried': self.conflicts, 'api_calls': self.client.calls}
