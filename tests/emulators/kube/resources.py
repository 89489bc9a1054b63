"""The API resources the emulator serves: built-in kinds plus whatever CustomResourceDefinitions declare.

Built-in kinds accept strategic merge patch; custom resources do not (415) [test-infrastructure.md]. Custom
resources and CRDs carry ``metadata.generation``; ConfigMap, Secret, Node and Namespace do not. A resource
with a ``status`` subresource ignores status changes on the main endpoint and only takes status changes on
``/status``. Custom resources refuse an update (PUT) without ``metadata.resourceVersion`` (their strategy does
not allow unconditional updates); built-in ones allow it.
"""
from dataclasses import dataclass, field

import kmock


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ''
    short_names: tuple = ()
    subresources: tuple = ('status',)
    builtin: bool = True
    generation: bool = False
    verbs: tuple = ('create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch')
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def api_version(self):
        return '%s/%s' % (self.group, self.version) if self.group else self.version

    @property
    def qualified(self):
        """``configmaps`` or ``kubevirts.kubevirt.io``: how the API server names the resource in messages."""
        return '%s.%s' % (self.plural, self.group) if self.group else self.plural

    @property
    def resource(self):
        return kmock.resource(self.group, self.version, self.plural)

    @property
    def has_status(self):
        return 'status' in self.subresources

    def info(self):
        return kmock.ResourceInfo(namespaced=self.namespaced, kind=self.kind, singular=self.singular or self.kind.lower(),
                                  verbs=set(self.verbs), shortnames=set(self.short_names), subresources=set(self.subresources))


BUILTIN_KINDS = (
    Kind('', 'v1', 'namespaces', 'Namespace', False, short_names=('ns',),
         verbs=('create', 'delete', 'get', 'list', 'patch', 'update', 'watch')),
    Kind('', 'v1', 'nodes', 'Node', False, short_names=('no',)),
    Kind('', 'v1', 'configmaps', 'ConfigMap', True, short_names=('cm',), subresources=()),
    Kind('', 'v1', 'secrets', 'Secret', True, subresources=()),
    Kind('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', False,
         short_names=('crd', 'crds'), generation=True),
)


def kinds_from_crd(crd):
    """The served versions of a CRD object as :class:`Kind` entries (custom resources)."""
    spec = crd.get('spec', {})
    names = spec.get('names', {})
    kinds = []
    for version in spec.get('versions', []):
        if not version.get('served', True):
            continue
        subresources = tuple(sorted(version.get('subresources', {}) or {}))
        kinds.append(Kind(spec['group'], version['name'], names['plural'], names['kind'],
                          spec.get('scope', 'Namespaced') == 'Namespaced', singular=names.get('singular', ''),
                          short_names=tuple(names.get('shortNames', ())), subresources=subresources,
                          builtin=False, generation=True))
    return kinds


def crd(group, kind, plural, scope, versions, short_names=(), status=True, scale=False):
    """A CustomResourceDefinition object for seeding (apiextensions.k8s.io/v1)."""
    subresources = {}
    if status:
        subresources['status'] = {}
    if scale:
        subresources['scale'] = {'specReplicasPath': '.spec.replicas', 'statusReplicasPath': '.status.replicas'}
    return {
        'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition',
        'metadata': {'name': '%s.%s' % (plural, group)},
        'spec': {
            'group': group, 'scope': scope,
            'names': {'kind': kind, 'listKind': kind + 'List', 'plural': plural, 'singular': kind.lower(),
                      'shortNames': list(short_names)},
            'versions': [{'name': v, 'served': True, 'storage': i == len(versions) - 1,
                          'schema': {'openAPIV3Schema': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}},
                          'subresources': subresources} for i, v in enumerate(versions)],
        },
    }


# The CRDs a GPU-enabled KubeVirt cluster (and the CAPV issue) needs.
SEED_CRDS = (
    crd('kubevirt.io', 'KubeVirt', 'kubevirts', 'Namespaced', ['v1'], short_names=('kv', 'kvs')),
    crd('kubevirt.io', 'VirtualMachine', 'virtualmachines', 'Namespaced', ['v1'], short_names=('vm', 'vms')),
    crd('nvidia.com', 'ClusterPolicy', 'clusterpolicies', 'Cluster', ['v1']),
    crd('infrastructure.cluster.x-k8s.io', 'VSphereMachineTemplate', 'vspheremachinetemplates', 'Namespaced',
        ['v1beta1'], status=False),
    crd('cluster.x-k8s.io', 'MachineDeployment', 'machinedeployments', 'Namespaced', ['v1beta1'],
        short_names=('md',), scale=True),
)
