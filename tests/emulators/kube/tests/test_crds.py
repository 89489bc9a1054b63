"""The upstream CRDs generated from the upstream Go API types (tests/emulators/kube/crds).

Checks that ``ensure()`` generates each file once and reuses it, that every CRD is a valid
apiextensions.k8s.io/v1 CRD with a structural schema (checked here offline, by the rules the API server applies),
and that the schemas carry the upstream facts the collection relies on.
"""
import os
import threading
import time

import pytest
import yaml

from tests.emulators.kube import crds

pytestmark = pytest.mark.integration


@pytest.fixture(scope='module')
def crd_dir():
    return crds.ensure()


def _load(crd_dir, name):
    with open(os.path.join(crd_dir, name)) as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def _crd(crd_dir, name, kind):
    found = [doc for doc in _load(crd_dir, name) if doc['spec']['names']['kind'] == kind]
    assert len(found) == 1, '%s: %d CRDs of kind %s' % (name, len(found), kind)
    return found[0]


def _schema(crd, version=None):
    versions = crd['spec']['versions']
    chosen = [v for v in versions if v['name'] == version] if version else [v for v in versions if v['storage']]
    assert len(chosen) == 1
    return chosen[0]['schema']['openAPIV3Schema']


def _at(schema, *path):
    """The schema node at ``path``; the step ``[]`` enters array items."""
    node = schema
    for step in path:
        if step == '[]':
            assert node.get('type') == 'array', 'not an array before %r' % (path,)
            node = node['items']
        else:
            assert step in node.get('properties', {}), 'no field %s in %r (has %s)' % (
                step, path, sorted(node.get('properties', {})))
            node = node['properties'][step]
    return node


def _structural_problems(node, where, root=True):
    """The rules of a structural schema (apiextensions.k8s.io/v1), as the API server checks them."""
    problems = []
    special = node.get('x-kubernetes-int-or-string') or node.get('x-kubernetes-preserve-unknown-fields')
    if 'type' not in node and not special:
        problems.append('%s: no type' % where)
    if 'properties' in node and 'additionalProperties' in node:
        problems.append('%s: properties and additionalProperties together' % where)
    if node.get('type') == 'array' and 'items' not in node:
        problems.append('%s: array without items' % where)
    for key in ('$ref', 'definitions', 'dependencies', 'patternProperties', 'uniqueItems'):
        if key in node:
            problems.append('%s: %s is not allowed' % (where, key))
    if root and 'default' in node:
        problems.append('%s: default at the root' % where)
    for name, child in node.get('properties', {}).items():
        problems += _structural_problems(child, '%s.%s' % (where, name), False)
    if isinstance(node.get('items'), dict):
        problems += _structural_problems(node['items'], where + '[]', False)
    if isinstance(node.get('additionalProperties'), dict):
        problems += _structural_problems(node['additionalProperties'], where + '{}', False)
    return problems


def test_every_file_is_generated_and_reused(crd_dir):
    assert sorted(f for f in os.listdir(crd_dir) if f.endswith('.yaml')) == sorted(crds.FILES)
    assert os.path.basename(crd_dir) == crds.inputs_hash()
    started = time.time()
    assert crds.ensure() == crd_dir
    assert time.time() - started < 2, 'the second call should reuse the cache'


def test_concurrent_callers_share_one_result(crd_dir):
    results, errors = [], []

    def call():
        try:
            results.append(crds.ensure())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=call) for _thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert results == [crd_dir] * 4


@pytest.mark.parametrize('name', crds.FILES)
def test_valid_structural_crds(crd_dir, name):
    docs = _load(crd_dir, name)
    assert [d['metadata']['name'] for d in docs] == crds.SOURCES[name]['keep']
    for crd in docs:
        assert crd['apiVersion'] == 'apiextensions.k8s.io/v1' and crd['kind'] == 'CustomResourceDefinition'
        spec = crd['spec']
        assert crd['metadata']['name'] == '%s.%s' % (spec['names']['plural'], spec['group'])
        assert spec['scope'] in ('Namespaced', 'Cluster')
        assert sum(1 for v in spec['versions'] if v['storage']) == 1
        assert 'controller-gen.kubebuilder.io/version' in crd['metadata']['annotations']
        assert '@v' in crd['metadata']['annotations']['gpuvirt.test/source']
        for version in spec['versions']:
            schema = version['schema']['openAPIV3Schema']
            assert schema['type'] == 'object'
            assert 'status' not in schema.get('required', [])
            assert _structural_problems(schema, '%s/%s' % (crd['metadata']['name'], version['name'])) == []


def test_kubevirt_configuration_schema(crd_dir):
    kubevirt = _crd(crd_dir, 'kubevirt.yaml', 'KubeVirt')
    assert [v['name'] for v in kubevirt['spec']['versions']] == ['v1']
    assert kubevirt['spec']['names']['shortNames'] == ['kv', 'kvs']
    assert kubevirt['spec']['versions'][0]['subresources'] == {'status': {}}
    config = _at(_schema(kubevirt), 'spec', 'configuration')
    pci = _at(config, 'permittedHostDevices', 'pciHostDevices', '[]')
    assert pci['properties']['resourceName']['type'] == 'string'
    assert pci['properties']['pciVendorSelector']['type'] == 'string'
    assert pci['properties']['externalResourceProvider']['type'] == 'boolean'
    assert set(pci['required']) == {'pciVendorSelector', 'resourceName'}
    mdev = _at(config, 'permittedHostDevices', 'mediatedDevices', '[]')
    assert set(mdev['required']) == {'mdevNameSelector', 'resourceName'}
    assert _at(config, 'mediatedDevicesConfiguration', 'enabled')['type'] == 'boolean'
    assert _at(config, 'mediatedDevicesConfiguration', 'mediatedDeviceTypes', '[]')['type'] == 'string'
    node_types = _at(config, 'mediatedDevicesConfiguration', 'nodeMediatedDeviceTypes', '[]')
    assert node_types['properties']['nodeSelector']['type'] == 'object'
    assert _at(config, 'developerConfiguration', 'featureGates', '[]')['type'] == 'string'
    assert 'permittedHostDevice' not in config['properties']


def test_kubevirt_vm_and_vmi(crd_dir):
    vm = _crd(crd_dir, 'kubevirt.yaml', 'VirtualMachine')
    vmi = _crd(crd_dir, 'kubevirt.yaml', 'VirtualMachineInstance')
    assert vm['spec']['versions'][0]['subresources'] == {'status': {}}
    assert 'subresources' not in vmi['spec']['versions'][0]
    gpu = _at(_schema(vm), 'spec', 'template', 'spec', 'domain', 'devices', 'gpus', '[]')
    assert gpu['required'] == ['name']
    assert gpu['properties']['deviceName']['type'] == 'string'
    host_device = _at(_schema(vmi), 'spec', 'domain', 'devices', 'hostDevices', '[]')
    assert host_device['properties']['deviceName']['type'] == 'string'


def test_clusterpolicy_versions(crd_dir):
    by_file = {}
    for name in ('clusterpolicy-v25.3.yaml', 'clusterpolicy-v25.10.yaml'):
        policy = _crd(crd_dir, name, 'ClusterPolicy')
        assert policy['spec']['scope'] == 'Cluster'
        assert policy['spec']['group'] == 'nvidia.com'
        assert [v['name'] for v in policy['spec']['versions']] == ['v1']
        assert _crd(crd_dir, name, 'NVIDIADriver')['spec']['scope'] == 'Cluster'
        by_file[name] = _schema(policy)
    old, new = by_file['clusterpolicy-v25.3.yaml'], by_file['clusterpolicy-v25.10.yaml']
    for schema in (old, new):
        sandbox = _at(schema, 'spec', 'sandboxWorkloads')
        # sandboxWorkloads.mode came with v26.3.0: neither v25.x schema has it
        assert sorted(sandbox['properties']) == ['defaultWorkload', 'enabled']
        assert _at(schema, 'spec', 'sandboxWorkloads', 'defaultWorkload')['enum'] == [
            'container', 'vm-passthrough', 'vm-vgpu']
        assert _at(schema, 'spec', 'vgpuDeviceManager', 'config', 'name')['type'] == 'string'
    # driver.licensingConfig.secretName exists from v25.10.0, configMapName before
    assert 'secretName' in _at(new, 'spec', 'driver', 'licensingConfig')['properties']
    assert 'secretName' not in _at(old, 'spec', 'driver', 'licensingConfig')['properties']
    assert _crd(crd_dir, 'clusterpolicy-v25.10.yaml', 'ClusterPolicy')['metadata']['annotations'][
        'gpuvirt.test/chart-version'] == 'v25.10.1'


def test_the_versions_that_cannot_be_generated_are_recorded():
    # v24.9.x and v26.x of the GPU Operator module are not served here; the gap is named, not papered over
    assert set(crds.MISSING) >= {'clusterpolicy-v24.9.yaml', 'clusterpolicy-v26.yaml'}
    assert not set(crds.MISSING) & set(crds.FILES)


def test_capi_and_capv(crd_dir):
    md = _crd(crd_dir, 'cluster-api.yaml', 'MachineDeployment')
    assert [(v['name'], v['storage']) for v in md['spec']['versions']] == [('v1beta1', True)]
    ref = _at(_schema(md), 'spec', 'template', 'spec', 'infrastructureRef')
    assert {'apiVersion', 'kind', 'name'} <= set(ref['properties'])
    template = _crd(crd_dir, 'capv.yaml', 'VSphereMachineTemplate')
    assert template['spec']['group'] == 'infrastructure.cluster.x-k8s.io'
    assert [(v['name'], v['storage']) for v in template['spec']['versions']] == [('v1beta1', True)]
    device = _at(_schema(template), 'spec', 'template', 'spec', 'pciDevices', '[]')
    assert device['properties']['deviceId']['type'] == 'integer'
    assert device['properties']['vendorId']['type'] == 'integer'
    assert device['properties']['vGPUProfile']['type'] == 'string'
    assert device['properties']['customLabel']['type'] == 'string'
    machine = _crd(crd_dir, 'capv.yaml', 'VSphereMachine')
    assert _at(_schema(machine), 'spec', 'pciDevices', '[]')['properties']['deviceId']['type'] == 'integer'


def test_vm_operator_and_harvester(crd_dir):
    vmclass = _crd(crd_dir, 'vm-operator.yaml', 'VirtualMachineClass')
    assert vmclass['spec']['group'] == 'vmoperator.vmware.com'
    versions = {v['name']: v['storage'] for v in vmclass['spec']['versions']}
    assert versions['v1alpha5'] is True and 'v1alpha1' in versions
    vgpu = _at(_schema(vmclass, 'v1alpha1'), 'spec', 'hardware', 'devices', 'vgpuDevices', '[]')
    assert vgpu['properties']['profileName']['type'] == 'string'
    assert 'configSpec' in _at(_schema(vmclass), 'spec')['properties']
    addon = _crd(crd_dir, 'harvester.yaml', 'Addon')
    assert addon['spec']['group'] == 'harvesterhci.io' and addon['spec']['scope'] == 'Namespaced'
    assert _at(_schema(addon), 'spec', 'enabled')['type'] == 'boolean'
