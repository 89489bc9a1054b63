"""A stand-in for NVIDIA's gpu-operator Helm chart, one per chart version the gpu_operator role supports, packaged
and served by real helm (see README.md).

No chart can be downloaded here, so ``gpu-operator/<version>/`` holds the project's own Chart.yaml, values.yaml (the
keys and defaults of NVIDIA's values.yaml of that version) and values.schema.json (every object closed, so a key
the real chart does not have fails ``helm install``/``template``/``lint``); ``gpu-operator/templates/`` is shared by
all versions and renders ClusterPolicy/cluster-policy the way NVIDIA's templates/clusterpolicy.yaml does. The
ClusterPolicy CRD of that version goes into ``crds/`` when the chart is packaged, taken from the CRDs the test world
generates from NVIDIA's Go API types (``tests.emulators.kube.crds.ensure()``).
"""
import json
import os
import shutil
import subprocess
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CHART_NAME = 'gpu-operator'
SOURCE = os.path.join(HERE, CHART_NAME)
TEMPLATES = os.path.join(SOURCE, 'templates')
VERSIONS = ('v24.9.2', 'v25.3.4', 'v25.10.1', 'v26.3.3')

# The ClusterPolicy CRD file of each version in tests.emulators.kube.crds.ensure()'s directory.
CRD_FILES = {
    'v24.9.2': 'clusterpolicy-v24.9.yaml',
    'v25.3.4': 'clusterpolicy-v25.3.yaml',
    'v25.10.1': 'clusterpolicy-v25.10.yaml',
    'v26.3.3': 'clusterpolicy-v26.yaml',
}

# Keys NVIDIA's templates read although values.yaml does not set them (an optional key the user may give), per
# version: found by listing every `.Values.a.b` a version's deployments/gpu-operator/templates/* reads that its
# values.yaml lacks. Any type is accepted under them.
_OPTIONAL_COMMON = (
    'nameOverride', 'fullnameOverride',
    'operator.defaultGPUMode', 'operator.labels', 'operator.nodeSelector', 'operator.version',
    'validator.version', 'validator.cuda', 'validator.driver', 'validator.toolkit', 'validator.vfioPCI',
    'validator.vgpuDevices', 'validator.vgpuManager',
    'driver.args', 'driver.livenessProbe', 'driver.readinessProbe',
    'vgpuManager.args', 'vgpuDeviceManager.args', 'vgpuDeviceManager.resources', 'vfioManager.args',
    'kataManager.args', 'ccManager.args', 'dcgm.imagePullSecrets', 'dcgmExporter.args', 'dcgmExporter.config',
    'dcgmExporter.imagePullSecrets', 'gfd.args', 'migManager.args', 'nodeStatusExporter.args',
    'nodeStatusExporter.env', 'nodeStatusExporter.version',
)
OPTIONAL = {
    'v24.9.2': _OPTIONAL_COMMON + ('operator.initContainer.imagePullSecrets',),
    'v25.3.4': _OPTIONAL_COMMON + ('operator.initContainer.imagePullSecrets',),
    'v25.10.1': _OPTIONAL_COMMON + ('operator.initContainer.imagePullSecrets', 'cdi.default',
                                    'dcgmExporter.hpcJobMapping', 'driver.licensingConfig.configMapName'),
    'v26.3.3': _OPTIONAL_COMMON + ('operator.initContainer', 'cdi.default', 'dcgmExporter.hpcJobMapping',
                                   'dcgmExporter.podLabelAllowlistRegex', 'driver.licensingConfig.configMapName',
                                   'ccManager.env', 'kataManager.image', 'kataManager.repository',
                                   'kataManager.version'),
}

# Maps whose keys are the user's (labels, annotations, Kubernetes resource/affinity/probe objects) or another
# chart's values (the node-feature-discovery subchart, which this stand-in does not carry): left open. Every other
# object in the schema has additionalProperties: false.
FREE_FORM = ('labels', 'annotations', 'podAnnotations', 'podLabels', 'additionalLabels', 'nodeSelector',
             'resources', 'affinity', 'startupProbe', 'livenessProbe', 'readinessProbe', 'node-feature-discovery',
             'data')


def version_dir(version):
    if version not in VERSIONS:
        raise ValueError('no gpu-operator stand-in chart %s (have: %s)' % (version, ', '.join(VERSIONS)))
    return os.path.join(SOURCE, version)


def default_values(version):
    """values.yaml of chart ``version`` (NVIDIA's keys and defaults)."""
    with open(os.path.join(version_dir(version), 'values.yaml')) as stream:
        return yaml.safe_load(stream)


def _scalar_schema(value):
    if isinstance(value, bool):
        return {'type': 'boolean'}
    if isinstance(value, (int, float)):
        return {'type': ['number', 'string']}      # quoted or not, as helm's users write them
    if isinstance(value, str):
        return {'type': ['string', 'number']}
    return {}                                       # null default: any type


def _schema_of(value, name, optional):
    """Schema of one values node: objects closed over their default keys plus the optional ones."""
    if isinstance(value, dict):
        if name in FREE_FORM or not value and name not in optional:
            return {'type': ['object', 'null']}
        properties = {key: _schema_of(child, key, optional.get(key, {})) for key, child in value.items()}
        for key, sub in optional.items():
            if key not in properties:
                properties[key] = _optional_schema(sub)
        return {'type': ['object', 'null'], 'properties': properties, 'additionalProperties': False}
    if isinstance(value, list):
        return {'type': ['array', 'null']}
    return _scalar_schema(value)


def _optional_schema(sub):
    if not sub:
        return {}
    return {'type': ['object', 'null'], 'properties': {k: _optional_schema(v) for k, v in sub.items()},
            'additionalProperties': False}


def _optional_tree(version):
    tree = {}
    for path in OPTIONAL[version]:
        node = tree
        for part in path.split('.'):
            node = node.setdefault(part, {})
    return tree


def values_schema(version):
    """values.schema.json of chart ``version``: the keys of its values.yaml and the optional keys its templates
    read, every object closed (``additionalProperties: false``) except the free-form maps in ``FREE_FORM``."""
    schema = _schema_of(default_values(version), '', _optional_tree(version))
    schema['type'] = 'object'
    schema = {'$schema': 'http://json-schema.org/draft-07/schema#',
              'title': 'values of the gpu-operator %s stand-in chart' % version, **schema}
    return schema


def schema_text(version):
    return json.dumps(values_schema(version), indent=2, sort_keys=True) + '\n'


def write_schemas():
    """Regenerate each version's values.schema.json from its values.yaml and ``OPTIONAL``."""
    for version in VERSIONS:
        with open(os.path.join(version_dir(version), 'values.schema.json'), 'w') as stream:
            stream.write(schema_text(version))


def helm_binary():
    """The real helm of the test world (built once by tests.emulators.kube.binaries)."""
    from tests.emulators.kube import binaries
    return os.path.join(binaries.ensure(), 'helm')


def crd_file(version):
    """The generated ClusterPolicy CRD file of chart ``version``; RuntimeError saying why when there is none."""
    try:
        from tests.emulators.kube import crds
    except ImportError as exc:
        raise RuntimeError('the generated CRDs (tests.emulators.kube.crds) are not available: %s' % exc)
    name = CRD_FILES[version]
    missing = getattr(crds, 'MISSING', {})
    if name in missing and name not in getattr(crds, 'FILES', ()):
        raise RuntimeError('no ClusterPolicy CRD for gpu-operator %s: %s is not generated (%s)'
                           % (version, name, missing[name]))
    path = os.path.join(crds.ensure(), name)
    if not os.path.exists(path):
        raise RuntimeError('no ClusterPolicy CRD for gpu-operator %s: %s has no %s' % (version, os.path.dirname(path), name))
    return path


def assemble(version, dest, with_crds=True):
    """Write the chart directory of ``version`` to ``dest``/gpu-operator and return its path: the version's
    Chart.yaml, values.yaml and values.schema.json, the shared templates, and crds/ (unless ``with_crds`` is
    false)."""
    source = version_dir(version)
    chart = os.path.join(dest, CHART_NAME)
    os.makedirs(chart)
    for name in ('Chart.yaml', 'values.yaml', 'values.schema.json'):
        shutil.copy(os.path.join(source, name), os.path.join(chart, name))
    shutil.copytree(TEMPLATES, os.path.join(chart, 'templates'))
    if with_crds:
        # one file per CRD, named as in NVIDIA's chart: helm creates each crds/ file on its own and only waits for
        # (and refreshes discovery after) a file none of whose CRDs exists yet, so a file holding an existing
        # NVIDIADriver CRD besides a missing ClusterPolicy CRD left the ClusterPolicy unmapped at install time
        os.makedirs(os.path.join(chart, 'crds'))
        with open(crd_file(version)) as stream:
            documents = [d for d in yaml.safe_load_all(stream) if d]
        for document in documents:
            name = document['metadata']['name']          # <plural>.<group>
            plural, _dot, group = name.partition('.')
            with open(os.path.join(chart, 'crds', '%s_%s.yaml' % (group, plural)), 'w') as out:
                yaml.safe_dump(document, out, sort_keys=False)
    return chart


def run_helm(args, env=None, check=True, helm=None):
    proc = subprocess.run([helm or helm_binary()] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=env, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError('helm %s failed (exit %d): %s' % (' '.join(args), proc.returncode, proc.stderr.strip()))
    return proc


def package(version, dest, with_crds=True, helm=None):
    """``helm package`` the chart of ``version`` into ``dest``; returns the archive's path."""
    os.makedirs(dest, exist_ok=True)
    work = tempfile.mkdtemp(prefix='gpu-operator-chart-')
    try:
        chart = assemble(version, work, with_crds=with_crds)
        run_helm(['package', chart, '--destination', os.path.abspath(dest)], helm=helm)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path = os.path.join(os.path.abspath(dest), '%s-%s.tgz' % (CHART_NAME, version))
    if not os.path.exists(path):
        raise RuntimeError('helm package wrote no %s' % path)
    return path
