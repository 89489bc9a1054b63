"""The objects the test world starts with: namespaces, the KubeVirt CR, the ClusterPolicy and the nodes (created
through the real API server by the doubles at start-up; ``reset`` puts them back).

Node labels are those NFD and GPU Feature Discovery put on a GPU node (``feature.node.kubernetes.io/pci-10de.present``,
``feature.node.kubernetes.io/pci-0302_10de.present`` for a 3D controller, ``nvidia.com/gpu.present``,
``nvidia.com/gpu.product``, ``nvidia.com/gpu.count``, ``nvidia.com/gpu.memory``, ``nvidia.com/gpu.family``);
the GPU Operator then adds its deploy labels and resources (:mod:`.operator`). The KubeVirt CR is
``kubevirt/kubevirt`` with ``developerConfiguration.featureGates`` and the version it reports in status
(facts §6 [S6]); the ClusterPolicy enables sandbox workloads (seed 003: ``sandboxWorkloads.enabled=true``).
"""
import uuid

from . import catalog
from .operator import HOST_DRIVER_VERSION

SEEDED_NAMESPACES = ('kubevirt', 'gpu-operator')  # the API server makes default, kube-system, kube-public, kube-node-lease


def parse_nodes(spec):
    """``gpu-1:a10:2,gpu-2:l40s:1,cpu-1`` -> [(name, GpuModel or None, count)]; ValueError names bad items."""
    nodes = []
    for item in [i.strip() for i in (spec or '').split(',') if i.strip()]:
        parts = item.split(':')
        if len(parts) == 1:
            nodes.append((parts[0], None, 0))
        elif len(parts) in (2, 3):
            try:
                model = catalog.model(parts[1])
                count = int(parts[2]) if len(parts) == 3 else 1
            except (KeyError, ValueError) as exc:
                raise ValueError('bad node %r: %s' % (item, exc)) from None
            if count < 1:
                raise ValueError('bad node %r: the GPU count must be at least 1' % item)
            nodes.append((parts[0], model, count))
        else:
            raise ValueError('bad node %r: expected NAME or NAME:MODEL[:COUNT]' % item)
    names = [n[0] for n in nodes]
    if len(set(names)) != len(names):
        raise ValueError('node names repeat in %r' % spec)
    return nodes


def node_object(name, model, count, index):
    uid = uuid.uuid5(uuid.NAMESPACE_DNS, name + '.emulator.invalid')
    labels = {
        'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'amd64',
        'feature.node.kubernetes.io/cpu-cpuid.VMX': 'true',
    }
    capacity = {'cpu': '64', 'memory': '527988692Ki', 'pods': '110', 'ephemeral-storage': '936709696Ki', 'hugepages-1Gi': '0'}
    if model is not None:
        labels.update({
            'feature.node.kubernetes.io/pci-10de.present': 'true',
            'feature.node.kubernetes.io/pci-0302_10de.present': 'true',
            'feature.node.kubernetes.io/iommu-enabled': 'true',
            'nvidia.com/gpu.present': 'true',
            'nvidia.com/gpu.product': model.product,
            'nvidia.com/gpu.count': str(count),
            'nvidia.com/gpu.memory': str(model.memory_mib),
            'nvidia.com/gpu.family': model.family,
        })
    return {
        'apiVersion': 'v1', 'kind': 'Node',
        'metadata': {'name': name, 'labels': labels,
                     'annotations': {'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true'}},
        'spec': {'podCIDR': '10.244.%d.0/24' % index},
        'status': {
            'capacity': dict(capacity), 'allocatable': dict(capacity, cpu='63500m'),
            'addresses': [{'type': 'InternalIP', 'address': '192.168.10.%d' % (10 + index)}, {'type': 'Hostname', 'address': name}],
            'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'KubeletReady', 'message': 'kubelet is posting ready status'}],
            'nodeInfo': {'kubeletVersion': 'v1.31.4', 'kubeProxyVersion': 'v1.31.4', 'containerRuntimeVersion': 'containerd://1.7.24',
                         'architecture': 'amd64', 'operatingSystem': 'linux', 'osImage': 'Ubuntu 24.04.1 LTS',
                         'kernelVersion': '6.8.0-51-generic', 'machineID': uid.hex, 'systemUUID': str(uid),
                         'bootID': str(uuid.uuid5(uid, 'boot'))},
        },
    }


def kubevirt_object(version, feature_gates):
    return {
        'apiVersion': 'kubevirt.io/v1', 'kind': 'KubeVirt',
        'metadata': {'name': 'kubevirt', 'namespace': 'kubevirt'},
        'spec': {
            'certificateRotateStrategy': {},
            'configuration': {'developerConfiguration': {'featureGates': list(feature_gates)}},
            'customizeComponents': {}, 'imagePullPolicy': 'IfNotPresent',
            'workloadUpdateStrategy': {'workloadUpdateMethods': ['LiveMigrate']},
        },
        'status': {'phase': 'Deployed', 'observedKubeVirtVersion': version, 'targetKubeVirtVersion': version,
                   'operatorVersion': version,
                   'conditions': [{'type': 'Available', 'status': 'True', 'reason': 'AllComponentsReady'}]},
    }


def cluster_policy_object(default_workload='container'):
    return {
        'apiVersion': 'nvidia.com/v1', 'kind': 'ClusterPolicy',
        'metadata': {'name': 'cluster-policy'},
        'spec': {
            'sandboxWorkloads': {'enabled': True, 'defaultWorkload': default_workload, 'mode': 'kubevirt'},
            'driver': {'enabled': True, 'licensingConfig': {'secretName': '', 'nlsEnabled': True}},
            'vgpuManager': {'enabled': True, 'repository': 'registry.example.internal/nvidia', 'image': 'vgpu-manager',
                            'version': HOST_DRIVER_VERSION},
            'vgpuDeviceManager': {'enabled': True, 'config': {'name': '', 'default': 'default'}},
            'sandboxDevicePlugin': {'enabled': True},
            'vfioManager': {'enabled': True},
        },
        'status': {'state': 'ready', 'namespace': 'gpu-operator'},
    }
