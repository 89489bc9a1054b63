"""Upstream CRDs with their real structural schemas, generated from the upstream projects' Go API types.

``ensure(cache_dir=None)`` returns a directory holding one multi-document YAML file of CRDs per upstream (see
``FILES``). On first use it builds controller-gen (sigs.k8s.io/controller-tools, pinned in ``tool/go.mod``) and
runs it on the API packages pinned in each sibling folder's ``go.mod`` (one Go module per upstream, so each keeps
the dependency versions its upstream pins); afterwards the result is reused. The output lives under
``<cache_dir>/crds/<hash>/``, where the hash covers every go.mod, go.sum and deps.go here and this file, so any
change of a pin or of the post-processing gives a new directory. Go runs with ``-mod=readonly`` against the
committed go.sum files, and with ``GOTOOLCHAIN=local``.

controller-gen's output is kept as it is except for the steps in ``POST_PROCESSING`` (each one documented there
and in README.md): the selection of the CRDs the test world needs, what KubeVirt's own generator (virt-operator)
sets outside the Go types, and provenance annotations.

``MISSING`` names the files that cannot be generated here (their upstream module versions are not served by
the Go module proxy) and why. ``python -m tests.emulators.kube.crds`` prints the directory.
"""
import copy
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time

import yaml

from tests import gobuild

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
DEFAULT_CACHE = os.path.join(REPO, '.cache', 'kube')
TOOL_DIR = os.path.join(HERE, 'tool')
GO_TIMEOUT = 1800

# Output file -> how it is made. 'module' is the upstream module whose version the folder's go.mod pins,
# 'paths' the Go packages controller-gen reads, 'keep' the CRD names (plural.group) the file gets, in order.
SOURCES = {
    'kubevirt.yaml': {
        'dir': 'kubevirt', 'modules': ['kubevirt.io/api'],
        'paths': ['kubevirt.io/api/core/v1'],
        'options': ['crd:allowDangerousTypes=true'],   # KubeVirt's own schemas type its float fields as number
        'keep': ['kubevirts.kubevirt.io', 'virtualmachines.kubevirt.io', 'virtualmachineinstances.kubevirt.io'],
    },
    'cluster-api.yaml': {
        'dir': 'capi', 'modules': ['sigs.k8s.io/cluster-api'],
        'paths': ['sigs.k8s.io/cluster-api/api/core/v1beta1'],
        'options': ['crd'],
        'keep': ['machinedeployments.cluster.x-k8s.io'],
    },
    'capv.yaml': {
        'dir': 'capi', 'modules': ['sigs.k8s.io/cluster-api-provider-vsphere', 'sigs.k8s.io/cluster-api'],
        'paths': ['sigs.k8s.io/cluster-api-provider-vsphere/api/govmomi/v1beta1'],
        'options': ['crd'],
        'keep': ['vspheremachinetemplates.infrastructure.cluster.x-k8s.io',
                 'vspheremachines.infrastructure.cluster.x-k8s.io'],
    },
    'vm-operator.yaml': {
        'dir': 'vm-operator', 'modules': ['github.com/vmware-tanzu/vm-operator/api'],
        'paths': ['github.com/vmware-tanzu/vm-operator/api/...'],
        'options': ['crd'],
        'keep': ['virtualmachineclasses.vmoperator.vmware.com'],
    },
    'harvester.yaml': {
        'dir': 'harvester', 'modules': ['github.com/harvester/harvester'],
        'paths': ['github.com/harvester/harvester/pkg/apis/harvesterhci.io/v1beta1'],
        'options': ['crd'],
        'keep': ['addons.harvesterhci.io'],
    },
    'clusterpolicy-v25.3.yaml': {
        'dir': 'gpu-operator-v25.3', 'modules': ['github.com/NVIDIA/gpu-operator'], 'chart': 'v25.3.4',
        'paths': ['github.com/NVIDIA/gpu-operator/api/nvidia/...'],
        'options': ['crd'],
        'keep': ['clusterpolicies.nvidia.com', 'nvidiadrivers.nvidia.com'],
    },
    'clusterpolicy-v25.10.yaml': {
        'dir': 'gpu-operator-v25.10', 'modules': ['github.com/NVIDIA/gpu-operator'], 'chart': 'v25.10.1',
        'paths': ['github.com/NVIDIA/gpu-operator/api/nvidia/...'],
        'options': ['crd'],
        'keep': ['clusterpolicies.nvidia.com', 'nvidiadrivers.nvidia.com'],
    },
}
FILES = tuple(SOURCES)

# Files the test world would want but that cannot be generated from a served module (see README.md).
MISSING = {
    'clusterpolicy-v24.9.yaml': 'github.com/NVIDIA/gpu-operator at the v24.9.0/.1/.2 tag commits is not served by '
                                'the Go module proxy (any pseudo-version form)',
    'clusterpolicy-v26.yaml': 'github.com/NVIDIA/gpu-operator at the v26.3.0-v26.3.3 and v26.7.0 tag commits is not '
                              'served by the Go module proxy (any pseudo-version form)',
    'harvester pcidevices CRDs': 'github.com/harvester/pcidevices is not served at any version tried '
                                 '(v0.4.1, v0.4.3, v1.5.1 to v1.8.1)',
}

# KubeVirt's CRDs are assembled by virt-operator (pkg/virt-operator/resource/generate/components/crds.go), which
# adds names, subresources and printer columns that kubevirt.io/api carries no markers for. The same values here.
_AGE = {'name': 'Age', 'type': 'date', 'jsonPath': '.metadata.creationTimestamp'}
_PHASE = {'name': 'Phase', 'type': 'string', 'jsonPath': '.status.phase'}
KUBEVIRT_EXTRAS = {
    'kubevirts.kubevirt.io': {
        'shortNames': ['kv', 'kvs'], 'status': True, 'columns': [_AGE, _PHASE]},
    'virtualmachines.kubevirt.io': {
        'shortNames': ['vm', 'vms'], 'status': True, 'columns': [
            _AGE,
            {'name': 'Status', 'description': 'Human Readable Status', 'type': 'string',
             'jsonPath': '.status.printableStatus'},
            {'name': 'Ready', 'type': 'string', 'jsonPath': ".status.conditions[?(@.type=='Ready')].status"}]},
    'virtualmachineinstances.kubevirt.io': {
        'shortNames': ['vmi', 'vmis'], 'status': False, 'columns': [
            _AGE, _PHASE,
            {'name': 'IP', 'type': 'string', 'jsonPath': '.status.interfaces[0].ipAddress'},
            {'name': 'NodeName', 'type': 'string', 'jsonPath': '.status.nodeName'},
            {'name': 'Ready', 'type': 'string', 'jsonPath': ".status.conditions[?(@.type=='Ready')].status"},
            {'name': 'Live-Migratable', 'type': 'string', 'priority': 1,
             'jsonPath': ".status.conditions[?(@.type=='LiveMigratable')].status"},
            {'name': 'Paused', 'type': 'string', 'priority': 1,
             'jsonPath': ".status.conditions[?(@.type=='Paused')].status"}]},
}

POST_PROCESSING = (
    'select: only the CRDs listed in SOURCES[file]["keep"] are written (controller-gen emits every kind of a package)',
    'kubevirt: names.shortNames, names.categories ["all"], additionalPrinterColumns and the status subresource '
    '(VirtualMachine, KubeVirt; none for VirtualMachineInstance) as virt-operator sets them',
    'annotate: metadata.annotations gpuvirt.test/source (module@version and packages) and, for ClusterPolicy files, '
    'gpuvirt.test/chart-version',
)


def _go_env():
    env = dict(os.environ)
    env.update({'GOFLAGS': '-mod=readonly -buildvcs=false', 'GOTOOLCHAIN': 'local', 'GOWORK': 'off',
                'CGO_ENABLED': '0'})
    return env


def _run(argv, cwd, what):
    try:
        proc = subprocess.run(argv, cwd=cwd, env=_go_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=GO_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError('%s failed: %s' % (what, exc))
    if proc.returncode != 0:
        raise RuntimeError('%s failed (exit %d) in %s:\n%s' % (what, proc.returncode, cwd, proc.stdout))
    return proc.stdout


def _module_dirs():
    return sorted(['tool'] + list({s['dir'] for s in SOURCES.values()}))


def _digest(names):
    h = hashlib.sha256()
    for name in names:
        with open(os.path.join(HERE, name), 'rb') as handle:
            h.update(name.encode() + b'\0' + handle.read() + b'\0')
    return h.hexdigest()[:16]


def inputs_hash():
    """The hash naming the output directory: every go.mod, go.sum and deps.go here, and this file."""
    names = ['__init__.py']
    for d in _module_dirs():
        names += [os.path.join(d, f) for f in ('go.mod', 'go.sum', 'deps.go')
                  if os.path.exists(os.path.join(HERE, d, f))]
    return _digest(names)


def module_version(directory, module):
    """The version of ``module`` that ``<directory>/go.mod`` requires (read from the file, not from the network)."""
    return gobuild.pinned(os.path.join(HERE, directory), module)


def _controller_gen(cache_dir):
    folder = gobuild.build(TOOL_DIR, os.path.join(cache_dir, 'bin', 'controller-gen'),
                           {'controller-gen': 'sigs.k8s.io/controller-tools/cmd/controller-gen'}, 'controller-gen')
    return os.path.join(folder, 'controller-gen')


def _generate_dir(binary, directory, options, paths, out):
    argv = [binary] + list(options) + ['paths=%s' % p for p in paths] + ['output:crd:dir=%s' % out]
    _run(argv, os.path.join(HERE, directory), 'controller-gen in %s' % directory)
    crds = {}
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name)) as handle:
            for doc in yaml.safe_load_all(handle):
                if doc:
                    crds[doc['metadata']['name']] = doc
    return crds


def _kubevirt(crd):
    extra = KUBEVIRT_EXTRAS.get(crd['metadata']['name'])
    if not extra:
        return
    crd['spec']['names']['shortNames'] = list(extra['shortNames'])
    crd['spec']['names']['categories'] = ['all']
    for version in crd['spec']['versions']:
        version['additionalPrinterColumns'] = copy.deepcopy(extra['columns'])
        if extra['status']:
            version['subresources'] = {'status': {}}
        else:
            version.pop('subresources', None)


def _post_process(name, source, crd):
    if name == 'kubevirt.yaml':
        _kubevirt(crd)
    annotations = crd['metadata'].setdefault('annotations', {})
    annotations['gpuvirt.test/source'] = '%s; packages %s' % (
        ', '.join('%s@%s' % (m, module_version(source['dir'], m)) for m in source['modules']),
        ' '.join(source['paths']))
    if 'chart' in source:
        annotations['gpuvirt.test/chart-version'] = source['chart']
    return crd


def _build(cache_dir, final):
    started = time.time()
    binary = _controller_gen(cache_dir)
    staging = tempfile.mkdtemp(prefix='.staging-', dir=os.path.dirname(final))
    try:
        generated = {}
        for name, source in SOURCES.items():
            key = (source['dir'], tuple(source['options']), tuple(source['paths']))
            if key not in generated:
                raw = tempfile.mkdtemp(prefix='raw-', dir=staging)
                generated[key] = _generate_dir(binary, source['dir'], source['options'], source['paths'], raw)
            crds = generated[key]
            missing = [n for n in source['keep'] if n not in crds]
            if missing:
                raise RuntimeError('controller-gen in %s made no CRD %s (it made: %s)'
                                   % (source['dir'], ', '.join(missing), ', '.join(sorted(crds))))
            docs = [_post_process(name, source, copy.deepcopy(crds[n])) for n in source['keep']]
            with open(os.path.join(staging, name), 'w') as handle:
                yaml.safe_dump_all(docs, handle, default_flow_style=False, sort_keys=False, width=120,
                                   explicit_start=True)
        for entry in os.listdir(staging):
            if entry.startswith('raw-'):
                shutil.rmtree(os.path.join(staging, entry))
        with open(os.path.join(staging, 'SOURCES.txt'), 'w') as handle:
            for name, source in SOURCES.items():
                handle.write('%s\t%s\n' % (name, ' '.join('%s@%s' % (m, module_version(source['dir'], m))
                                                          for m in source['modules'])))
            handle.write('# generated in %.1f s\n' % (time.time() - started))
        os.chmod(staging, 0o755)   # mkdtemp makes it 0700
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def ensure(cache_dir=None):
    """Return the directory holding the generated CRD files (``FILES``), generating them on first use.

    ``cache_dir`` defaults to ``<repo>/.cache/kube``; the files go to ``<cache_dir>/crds/<inputs_hash()>/`` and the
    controller-gen binary to ``<cache_dir>/bin/``. Concurrent callers serialize on a file lock, so only one builds.
    Raises RuntimeError with the tool output when go or controller-gen fails.
    """
    cache_dir = os.path.abspath(cache_dir or DEFAULT_CACHE)
    root = os.path.join(cache_dir, 'crds')
    final = os.path.join(root, inputs_hash())
    if all(os.path.exists(os.path.join(final, f)) for f in FILES):
        return final
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not all(os.path.exists(os.path.join(final, f)) for f in FILES):
                if os.path.exists(final):
                    shutil.rmtree(final)
                _build(cache_dir, final)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return final
