"""The NVIDIA GPU Operator chart as the helm double packages, validates and renders it.

What is modelled (facts §5 [S7] deployments/gpu-operator/values.yaml, seed 003, seed 004, NVIDIA's upgrade guide):

- chart ``gpu-operator``, versions ``v24.9.2``, ``v25.3.4``, ``v25.10.1`` (chart version = appVersion, as the
  NGC repository lists them in seed 004), packaged as real ``.tgz`` archives with ``Chart.yaml``,
  ``values.yaml``, ``values.schema.json``, ``crds/nvidia.com_clusterpolicies.yaml`` and a template marker;
- values: the defaults of the keys the role uses (``sandboxWorkloads``, ``vgpuManager``, ``vgpuDeviceManager``,
  ``vfioManager``, ``sandboxDevicePlugin``, ``driver.licensingConfig``, ``operator.upgradeCRD``...).
  ``driver.licensingConfig.secretName`` exists from v25.10.0 on; ``configMapName`` is accepted by every
  version (deprecated since v25.10.0) [S7 commit 7d8c378c1];
- ``values.schema.json``: the real chart ships none, so helm itself would ignore an unknown key and the
  ClusterPolicy would simply not carry it. The double refuses unknown top-level keys and wrong types/enums in
  the sections the role writes, so a typo in the role fails the test instead of being silently dropped;
- the ClusterPolicy CRD: its structural schema lists the sections of ``spec``; unknown fields are rejected by
  client-side validation exactly as in seed 004 (``ValidationError(ClusterPolicy.spec): unknown field ...``).
  ``LEGACY_CRD_VERSION`` (v1.8.0) is the CRD an old install leaves behind: it predates the sandbox and vGPU
  sections;
- rendering: ``ClusterPolicy/cluster-policy`` whose ``spec`` is the ClusterPolicy sections of the coalesced
  values (``operator`` minus its chart-only keys).
"""
import copy
import io
import json
import os
import tarfile

import yaml

CHART_NAME = 'gpu-operator'
CHART_VERSIONS = ('v24.9.2', 'v25.3.4', 'v25.10.1')
LEGACY_CRD_VERSION = 'v1.8.0'
DESCRIPTION = 'NVIDIA GPU Operator creates/configures/manages GPUs atop Kubernetes'
CRD_NAME = 'clusterpolicies.nvidia.com'
POLICY_NAME = 'cluster-policy'

# values.yaml keys that become ClusterPolicy spec sections (the chart's templates/clusterpolicy.yaml)
SPEC_SECTIONS = ('operator', 'daemonsets', 'validator', 'mig', 'psa', 'cdi', 'driver', 'toolkit', 'devicePlugin',
                 'dcgm', 'dcgmExporter', 'gfd', 'migManager', 'nodeStatusExporter', 'gds', 'gdrcopy', 'sandboxWorkloads',
                 'vgpuManager', 'vgpuDeviceManager', 'vfioManager', 'sandboxDevicePlugin', 'kataManager', 'ccManager',
                 'hostPaths')
# values that configure the chart (or subcharts) and never reach the ClusterPolicy
CHART_ONLY = ('nfd', 'node-feature-discovery', 'platform', 'psp')
OPERATOR_CHART_ONLY = ('upgradeCRD', 'cleanupCRD', 'cleanupCRDImage', 'repository', 'image', 'version',
                       'imagePullPolicy', 'imagePullSecrets', 'priorityClassName', 'annotations', 'podAnnotations',
                       'podLabels', 'labels', 'resources', 'tolerations', 'affinity', 'nodeSelector')
# the ClusterPolicy sections the v1.8.0 CRD knows (before sandbox workloads and vGPU support)
LEGACY_SECTIONS = ('operator', 'daemonsets', 'validator', 'mig', 'psp', 'driver', 'toolkit', 'devicePlugin', 'dcgm',
                   'dcgmExporter', 'gfd', 'migManager', 'nodeStatusExporter')
LEGACY_NESTED = {'driver': ('enabled', 'repository', 'image', 'version', 'imagePullPolicy', 'imagePullSecrets',
                            'env', 'resources', 'manager', 'rdma', 'licensingConfig', 'repoConfig', 'certConfig',
                            'virtualTopology', 'kernelModuleConfig', 'rollingUpdate')}
WORKLOADS = ['container', 'vm-passthrough', 'vm-vgpu']


def _version_tuple(version):
    return tuple(int(p) for p in version.lstrip('v').split('.'))


def has_secret_name(version):
    """driver.licensingConfig.secretName arrived in v25.10.0 [S7 commit 7d8c378c1]."""
    return _version_tuple(version) >= (25, 10, 0)


def default_values(version):
    """The defaults of chart ``version`` for the keys the double models (a subset of the real values.yaml)."""
    licensing = {'configMapName': '', 'nlsEnabled': True}
    if has_secret_name(version):
        licensing = {'secretName': '', 'configMapName': '', 'nlsEnabled': True}
    return {
        'platform': {'openshift': False},
        'nfd': {'enabled': True},
        'psa': {'enabled': False},
        'cdi': {'enabled': False, 'default': False},
        'sandboxWorkloads': {'enabled': False, 'defaultWorkload': 'container', 'mode': 'kubevirt'},
        'hostPaths': {'rootFS': '/', 'driverInstallDir': '/run/nvidia/driver'},
        'daemonsets': {'labels': {}, 'annotations': {}, 'priorityClassName': 'system-node-critical',
                       'tolerations': [{'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'}],
                       'updateStrategy': 'RollingUpdate', 'rollingUpdate': {'maxUnavailable': '1'}},
        'validator': {'repository': 'nvcr.io/nvidia/cloud-native', 'image': 'gpu-operator-validator', 'version': version},
        'operator': {'repository': 'nvcr.io/nvidia', 'image': 'gpu-operator', 'version': version,
                     'imagePullPolicy': 'IfNotPresent', 'imagePullSecrets': [], 'priorityClassName': 'system-node-critical',
                     'defaultRuntime': 'containerd', 'runtimeClass': 'nvidia', 'upgradeCRD': True, 'cleanupCRD': False},
        'driver': {'enabled': True, 'repository': 'nvcr.io/nvidia', 'image': 'driver', 'version': '550.127.08',
                   'imagePullPolicy': 'IfNotPresent', 'imagePullSecrets': [], 'licensingConfig': licensing,
                   'kernelModuleConfig': {'name': ''}},
        'toolkit': {'enabled': True, 'repository': 'nvcr.io/nvidia/k8s', 'image': 'container-toolkit'},
        'devicePlugin': {'enabled': True, 'repository': 'nvcr.io/nvidia', 'image': 'k8s-device-plugin'},
        'dcgm': {'enabled': False}, 'dcgmExporter': {'enabled': True}, 'gfd': {'enabled': True},
        'migManager': {'enabled': True}, 'nodeStatusExporter': {'enabled': False},
        'gds': {'enabled': False}, 'gdrcopy': {'enabled': False},
        'vgpuManager': {'enabled': False, 'repository': '', 'image': 'vgpu-manager', 'version': '',
                        'imagePullPolicy': 'IfNotPresent', 'imagePullSecrets': [], 'env': [], 'resources': {},
                        'driverManager': {'image': 'k8s-driver-manager', 'repository': 'nvcr.io/nvidia/cloud-native'}},
        'vgpuDeviceManager': {'enabled': True, 'repository': 'nvcr.io/nvidia/cloud-native', 'image': 'vgpu-device-manager',
                              'version': 'v0.5.0', 'imagePullPolicy': 'IfNotPresent', 'imagePullSecrets': [], 'env': [],
                              'config': {'name': '', 'default': 'default'}},
        'vfioManager': {'enabled': True, 'repository': 'nvcr.io/nvidia', 'image': 'cuda', 'version': '12.6.3-base-ubi9'},
        'sandboxDevicePlugin': {'enabled': True, 'repository': 'nvcr.io/nvidia', 'image': 'kubevirt-gpu-device-plugin',
                                'version': 'v1.6.0', 'imagePullSecrets': []},
        'kataManager': {'enabled': False}, 'ccManager': {'enabled': False},
        'node-feature-discovery': {'enableNodeFeatureApi': True},
    }


def _obj(properties=None, open_=True, required=()):
    schema = {'type': 'object'}
    if properties is not None:
        schema['properties'] = properties
    if not open_:
        schema['additionalProperties'] = False
    if required:
        schema['required'] = list(required)
    return schema


STRING = {'type': 'string'}
BOOLEAN = {'type': 'boolean'}
SECRET_NAMES = {'type': 'array', 'items': {'type': 'string'}}  # imagePullSecrets: a list of Secret NAMES [S7]


def values_schema(version):
    """values.schema.json for chart ``version``: closed at the top and in the sections the role writes."""
    licensing = {'configMapName': STRING, 'nlsEnabled': BOOLEAN}
    if has_secret_name(version):
        licensing['secretName'] = STRING
    image = {'repository': STRING, 'image': STRING, 'version': STRING, 'imagePullPolicy': STRING,
             'imagePullSecrets': SECRET_NAMES, 'env': {'type': 'array'}, 'resources': {'type': 'object'}}
    sections = {key: _obj() for key in set(default_values(version)) | set(SPEC_SECTIONS) | set(CHART_ONLY)}
    sections.update({
        'sandboxWorkloads': _obj({'enabled': BOOLEAN, 'defaultWorkload': {'type': 'string', 'enum': WORKLOADS},
                                  'mode': {'type': 'string', 'enum': ['kubevirt', 'kata']}}, open_=False),
        'vgpuManager': _obj(dict(image, enabled=BOOLEAN, driverManager=_obj(), kernelModuleConfig=_obj()), open_=False),
        'vgpuDeviceManager': _obj(dict(image, enabled=BOOLEAN,
                                       config=_obj({'name': STRING, 'default': STRING}, open_=False)), open_=False),
        'vfioManager': _obj(dict(image, enabled=BOOLEAN, driverManager=_obj()), open_=False),
        'sandboxDevicePlugin': _obj(dict(image, enabled=BOOLEAN, args={'type': 'array'}), open_=False),
        'driver': _obj({'enabled': BOOLEAN, 'licensingConfig': _obj(licensing, open_=False),
                        'imagePullSecrets': SECRET_NAMES}),
        'operator': _obj({'upgradeCRD': BOOLEAN, 'cleanupCRD': BOOLEAN, 'defaultRuntime': {
            'type': 'string', 'enum': ['docker', 'crio', 'containerd']}, 'imagePullSecrets': SECRET_NAMES}),
    })
    return {'$schema': 'http://json-schema.org/draft-07/schema#', 'type': 'object', 'properties': sections,
            'additionalProperties': False}


def crd(version):
    """The ClusterPolicy CRD of chart ``version`` (``LEGACY_CRD_VERSION`` for the one an old install leaves)."""
    if version == LEGACY_CRD_VERSION:
        sections = {name: _obj({k: {'x-kubernetes-preserve-unknown-fields': True} for k in LEGACY_NESTED[name]}, open_=True)
                    if name in LEGACY_NESTED else {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}
                    for name in LEGACY_SECTIONS}
    else:
        sections = {name: {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True} for name in SPEC_SECTIONS}
    return {
        'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition',
        'metadata': {'name': CRD_NAME, 'annotations': {'controller-gen.kubebuilder.io/version': 'v0.16.5',
                                                       'gpuvirt.test/chart-version': version}},
        'spec': {
            'group': 'nvidia.com', 'scope': 'Cluster',
            'names': {'kind': 'ClusterPolicy', 'listKind': 'ClusterPolicyList', 'plural': 'clusterpolicies',
                      'singular': 'clusterpolicy'},
            'versions': [{
                'name': 'v1', 'served': True, 'storage': True, 'subresources': {'status': {}},
                'schema': {'openAPIV3Schema': {
                    'type': 'object',
                    'properties': {'apiVersion': STRING, 'kind': STRING, 'metadata': {'type': 'object'},
                                   'spec': _obj(sections), 'status': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}},
                }},
            }],
        },
    }


def chart_metadata(version):
    return {'apiVersion': 'v2', 'name': CHART_NAME, 'version': version, 'appVersion': version,
            'description': DESCRIPTION, 'kubeVersion': '>= 1.16.0-0', 'type': 'application',
            'home': 'https://github.com/NVIDIA/gpu-operator', 'icon': 'https://assets.nvidiagrid.net/ngc/logos/GPUoperator.png',
            'keywords': ['gpu', 'cuda', 'compute', 'operator', 'deep learning', 'monitoring', 'tesla'],
            'sources': ['https://github.com/NVIDIA/gpu-operator'],
            'dependencies': [{'name': 'node-feature-discovery', 'version': 'v0.16.6',
                              'repository': 'https://kubernetes-sigs.github.io/node-feature-discovery/charts',
                              'condition': 'nfd.enabled'}]}


TEMPLATE_MARKER = ('# Rendered by the gpuvirt.core helm test double (tests/emulators/helm/charts.py):\n'
                   '# ClusterPolicy/cluster-policy with the ClusterPolicy sections of the values.\n')


def package(version, dest):
    """Write ``gpu-operator-<version>.tgz`` into ``dest`` and return its path (a real chart archive)."""
    files = {
        'Chart.yaml': yaml.safe_dump(chart_metadata(version), sort_keys=False),
        'values.yaml': yaml.safe_dump(default_values(version), sort_keys=False),
        'values.schema.json': json.dumps(values_schema(version), indent=2, sort_keys=True),
        'crds/nvidia.com_clusterpolicies.yaml': yaml.safe_dump(crd(version), sort_keys=False),
        'templates/clusterpolicy.yaml': TEMPLATE_MARKER,
    }
    os.makedirs(dest, exist_ok=True)
    path = os.path.join(dest, '%s-%s.tgz' % (CHART_NAME, version))
    with tarfile.open(path, 'w:gz') as archive:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo('%s/%s' % (CHART_NAME, name))
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1700000000
            archive.addfile(info, io.BytesIO(data))
    return path


class Chart(object):
    """A chart loaded from an archive or a directory: metadata, default values, schema, CRDs."""

    def __init__(self, metadata, values, schema, crds, source):
        self.metadata = metadata
        self.values = values or {}
        self.schema = schema
        self.crds = crds
        self.source = source

    @property
    def name(self):
        return self.metadata['name']

    @property
    def version(self):
        return str(self.metadata['version'])

    @property
    def app_version(self):
        return str(self.metadata.get('appVersion', ''))

    @classmethod
    def load(cls, path):
        """Read a chart archive (.tgz) or chart directory; ValueError with helm's wording when it is not one."""
        files = {}
        if os.path.isdir(path):
            for root, _dirs, names in os.walk(path):
                for name in names:
                    full = os.path.join(root, name)
                    with open(full, 'rb') as stream:
                        files[os.path.relpath(full, path)] = stream.read()
        else:
            try:
                with tarfile.open(path, 'r:*') as archive:
                    for member in archive.getmembers():
                        if member.isfile():
                            _top, _sep, rest = member.name.partition('/')
                            files[rest] = archive.extractfile(member).read()
            except (tarfile.TarError, OSError) as exc:
                raise ValueError('file \'%s\' does not appear to be a gzipped archive; got \'%s\'' % (path, exc)) from None
        if 'Chart.yaml' not in files:
            raise ValueError('Chart.yaml file is missing')
        metadata = yaml.safe_load(files['Chart.yaml'])
        values = yaml.safe_load(files.get('values.yaml', b'')) or {}
        schema = json.loads(files['values.schema.json']) if 'values.schema.json' in files else None
        crds = []
        for name in sorted(files):
            if name.startswith('crds/') and name.endswith(('.yaml', '.yml', '.json')):
                crds.extend(d for d in yaml.safe_load_all(files[name]) if d)
        return cls(metadata, values, schema, crds, path)

    def render(self, values):
        """The objects the chart creates from the coalesced ``values`` (only gpu-operator renders objects)."""
        if self.name != CHART_NAME:
            return []
        spec = {}
        for section in SPEC_SECTIONS:
            if section in values and values[section] is not None:
                spec[section] = copy.deepcopy(values[section])
        for key in OPERATOR_CHART_ONLY:
            spec.get('operator', {}).pop(key, None)
        return [{'apiVersion': 'nvidia.com/v1', 'kind': 'ClusterPolicy',
                 'metadata': {'name': POLICY_NAME, 'labels': {'app.kubernetes.io/component': 'gpu-operator'}},
                 'spec': spec}]


def coalesce(defaults, overrides):
    """helm's value coalescing: maps merge recursively, anything else replaces; ``null`` deletes a default."""
    result = copy.deepcopy(defaults)
    for key, value in (overrides or {}).items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = coalesce(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def crd_unknown_fields(crd_object, obj, kind='ClusterPolicy', group_path='com.nvidia.v1.ClusterPolicy'):
    """kubectl/helm client-side validation against a CRD's structural schema: the unknown fields, in
    ``ValidationError(ClusterPolicy.spec.driver): unknown field "x" in com.nvidia.v1.ClusterPolicy.spec.driver``
    form (seed 004). Fields under ``x-kubernetes-preserve-unknown-fields`` are accepted."""
    versions = crd_object.get('spec', {}).get('versions', [])
    schema = next((v.get('schema', {}).get('openAPIV3Schema') for v in versions if v.get('name') == 'v1'), None)
    if not schema:
        return []
    errors = []

    def walk(node, value, path):
        if not isinstance(value, dict) or not isinstance(node, dict):
            return
        if node.get('x-kubernetes-preserve-unknown-fields'):
            return
        properties = node.get('properties')
        if properties is None:
            return
        for key in sorted(value):
            if key not in properties:
                errors.append('ValidationError(%s): unknown field "%s" in %s' % (
                    '.'.join([kind] + path), key, '.'.join([group_path] + path)))
            else:
                walk(properties[key], value[key], path + [key])

    body = {k: v for k, v in obj.items() if k not in ('apiVersion', 'kind', 'metadata', 'status')}
    walk(schema, body, [])
    return errors
