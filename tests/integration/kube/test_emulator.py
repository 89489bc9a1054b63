"""The kube API emulator's faithful behaviours, checked with the official ``kubernetes`` client.

Each test names the behaviour from test-infrastructure.md ("What it lacks, each checked") or facts §5-§6 it
proves; a client that works against these responses works against a real API server the same way.
"""
import json
import subprocess
import sys

import pytest
from kubernetes import client, dynamic, watch
from kubernetes.client.exceptions import ApiException

from .conftest import REPO, free_port

KV_PATH = '/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt'


def reason(exc):
    return json.loads(exc.body)['reason']


def raw(api, method, path, body=None, content_type='application/json', query=None):
    """One HTTP call through the client's REST layer; returns (status, parsed body)."""
    auth = api.configuration.auth_settings()['BearerToken']
    headers = {'Accept': 'application/json', 'Content-Type': content_type, auth['key']: auth['value']}
    url = api.configuration.host + path
    if query:
        url += '?' + '&'.join('%s=%s' % item for item in query.items())
    payload = body if isinstance(body, str) or body is None else json.dumps(body)
    response = api.rest_client.pool_manager.request(method, url, headers=headers, body=payload)
    return response.status, json.loads(response.data or b'{}')


@pytest.fixture
def api(kube):
    return kube.client()


def kubevirt(api):
    return dynamic.DynamicClient(api).resources.get(api_version='kubevirt.io/v1', kind='KubeVirt')


def test_seeded_nodes_carry_nfd_and_gfd_labels_and_container_resources(api):
    """--nodes gpu-1:a10:2,gpu-2:l40s:1,cpu-1: GPU nodes with NFD/GFD labels; the operator's container workload
    (no workload label) advertises nvidia.com/gpu = GPU count (facts §5, seed 003)."""
    nodes = {n.metadata.name: n for n in client.CoreV1Api(api).list_node().items}
    assert sorted(nodes) == ['cpu-1', 'gpu-1', 'gpu-2']
    gpu1 = nodes['gpu-1']
    assert gpu1.metadata.labels['nvidia.com/gpu.product'] == 'NVIDIA-A10'
    assert gpu1.metadata.labels['feature.node.kubernetes.io/pci-10de.present'] == 'true'
    assert gpu1.metadata.labels['nvidia.com/gpu.deploy.device-plugin'] == 'true'
    assert gpu1.status.allocatable['nvidia.com/gpu'] == '2'
    assert nodes['gpu-2'].status.capacity['nvidia.com/gpu'] == '1'
    assert not any(k.startswith('nvidia.com/') for k in nodes['cpu-1'].status.allocatable)
    assert 'nvidia.com/gpu.present' not in nodes['cpu-1'].metadata.labels


def test_seeded_kubevirt_cr_and_cluster_policy(api):
    kv = kubevirt(api).get(namespace='kubevirt', name='kubevirt')
    assert kv.spec.configuration.developerConfiguration.featureGates == ['HostDevices']
    assert kv.status.observedKubeVirtVersion == 'v1.9.0'
    policies = dynamic.DynamicClient(api).resources.get(api_version='nvidia.com/v1', kind='ClusterPolicy').get()
    assert [p.metadata.name for p in policies.items] == ['cluster-policy']
    assert policies.items[0].spec.sandboxWorkloads.enabled is True


def test_discovery_serves_every_kind_the_collection_uses(api):
    resources = dynamic.DynamicClient(api).resources
    for api_version, kind in [('v1', 'Node'), ('v1', 'Namespace'), ('v1', 'ConfigMap'), ('v1', 'Secret'),
                              ('kubevirt.io/v1', 'KubeVirt'), ('nvidia.com/v1', 'ClusterPolicy'),
                              ('apiextensions.k8s.io/v1', 'CustomResourceDefinition'),
                              ('infrastructure.cluster.x-k8s.io/v1beta1', 'VSphereMachineTemplate'),
                              ('cluster.x-k8s.io/v1beta1', 'MachineDeployment')]:
        assert resources.get(api_version=api_version, kind=kind).kind == kind


def test_server_fields_uid_timestamp_resource_version_generation(api):
    core = client.CoreV1Api(api)
    created = core.create_namespaced_config_map('default', client.V1ConfigMap(metadata=client.V1ObjectMeta(name='cm'), data={'a': '1'}))
    assert created.metadata.uid and created.metadata.creation_timestamp and created.metadata.resource_version
    assert created.metadata.generation is None  # ConfigMaps carry no generation
    templates = dynamic.DynamicClient(api).resources.get(api_version='infrastructure.cluster.x-k8s.io/v1beta1',
                                                         kind='VSphereMachineTemplate')
    tpl = templates.create(namespace='default', body={'apiVersion': 'infrastructure.cluster.x-k8s.io/v1beta1',
                                                      'kind': 'VSphereMachineTemplate', 'metadata': {'name': 't'},
                                                      'spec': {'template': {'spec': {'numCPUs': 4}}}})
    assert tpl.metadata.generation == 1
    relabelled = templates.patch(namespace='default', name='t', body={'metadata': {'labels': {'a': 'b'}}},
                                 content_type='application/merge-patch+json')
    assert relabelled.metadata.generation == 1  # metadata-only change
    assert int(relabelled.metadata.resourceVersion) > int(tpl.metadata.resourceVersion)
    changed = templates.patch(namespace='default', name='t', body={'spec': {'template': {'spec': {'numCPUs': 8}}}},
                              content_type='application/merge-patch+json')
    assert changed.metadata.generation == 2
    same = templates.patch(namespace='default', name='t', body={'spec': {'template': {'spec': {'numCPUs': 8}}}},
                           content_type='application/merge-patch+json')
    assert same.metadata.resourceVersion == changed.metadata.resourceVersion  # no-op writes are skipped


def test_put_with_stale_resource_version_is_409_conflict(api):
    core = client.CoreV1Api(api)
    cm = core.create_namespaced_config_map('default', client.V1ConfigMap(metadata=client.V1ObjectMeta(name='cm'), data={'a': '1'}))
    core.patch_namespaced_config_map('cm', 'default', {'data': {'a': '2'}})
    cm.data = {'a': '3'}
    with pytest.raises(ApiException) as failure:
        core.replace_namespaced_config_map('cm', 'default', cm)
    assert failure.value.status == 409 and reason(failure.value) == 'Conflict'
    assert 'the object has been modified' in json.loads(failure.value.body)['message']
    fresh = core.read_namespaced_config_map('cm', 'default')
    fresh.data = {'a': '3'}
    assert core.replace_namespaced_config_map('cm', 'default', fresh).data == {'a': '3'}


def test_put_on_custom_resource_needs_resource_version(api):
    kv = kubevirt(api)
    current = kv.get(namespace='kubevirt', name='kubevirt').to_dict()
    del current['metadata']['resourceVersion']
    with pytest.raises(ApiException) as failure:
        kv.replace(namespace='kubevirt', name='kubevirt', body=current)
    assert failure.value.status == 422 and reason(failure.value) == 'Invalid'


def test_merge_patch_with_stale_resource_version_is_409(api):
    kv = kubevirt(api)
    before = kv.get(namespace='kubevirt', name='kubevirt')
    kv.patch(namespace='kubevirt', name='kubevirt', body={'metadata': {'labels': {'x': 'y'}}},
             content_type='application/merge-patch+json')
    with pytest.raises(ApiException) as failure:
        kv.patch(namespace='kubevirt', name='kubevirt', content_type='application/merge-patch+json',
                 body={'metadata': {'resourceVersion': before.metadata.resourceVersion}, 'spec': {'imagePullPolicy': 'Always'}})
    assert failure.value.status == 409 and reason(failure.value) == 'Conflict'


@pytest.mark.parametrize('selector, expected', [
    ('nvidia.com/gpu.present=true', ['gpu-1', 'gpu-2']),
    ('nvidia.com/gpu.present==true', ['gpu-1', 'gpu-2']),
    ('nvidia.com/gpu.product!=NVIDIA-A10', ['cpu-1', 'gpu-2']),
    ('nvidia.com/gpu.product in (NVIDIA-L40S,Tesla-T4)', ['gpu-2']),
    ('nvidia.com/gpu.product notin (NVIDIA-L40S)', ['cpu-1', 'gpu-1']),
    ('nvidia.com/gpu.present', ['gpu-1', 'gpu-2']),
    ('!nvidia.com/gpu.present', ['cpu-1']),
    ('nvidia.com/gpu.present,nvidia.com/gpu.count=2', ['gpu-1']),
])
def test_label_selectors(api, selector, expected):
    names = [n.metadata.name for n in client.CoreV1Api(api).list_node(label_selector=selector).items]
    assert names == expected


def test_field_selectors_and_bad_selectors(api):
    core = client.CoreV1Api(api)
    assert [n.metadata.name for n in core.list_node(field_selector='metadata.name=gpu-2').items] == ['gpu-2']
    assert [n.metadata.name for n in core.list_node(field_selector='metadata.name!=gpu-2').items] == ['cpu-1', 'gpu-1']
    with pytest.raises(ApiException) as failure:
        core.list_node(field_selector='spec.gpus=2')
    assert failure.value.status == 400 and 'field label not supported' in json.loads(failure.value.body)['message']
    with pytest.raises(ApiException) as failure:
        core.list_node(label_selector='a in (b')
    assert failure.value.status == 400 and reason(failure.value) == 'BadRequest'


def test_lists_carry_kind_and_api_version(api):
    status, body = raw(api, 'GET', '/api/v1/nodes')
    assert status == 200 and body['kind'] == 'NodeList' and body['apiVersion'] == 'v1'
    assert body['metadata']['resourceVersion']
    status, body = raw(api, 'GET', '/apis/kubevirt.io/v1/kubevirts')
    assert body['kind'] == 'KubeVirtList' and body['apiVersion'] == 'kubevirt.io/v1'
    assert body['items'][0]['kind'] == 'KubeVirt'  # custom resource items carry their type


def test_namespace_comes_from_the_url(api):
    status, body = raw(api, 'POST', '/api/v1/namespaces/gpu-operator/configmaps',
                       {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'a'}})
    assert status == 201 and body['metadata']['namespace'] == 'gpu-operator'
    status, body = raw(api, 'POST', '/api/v1/namespaces/gpu-operator/configmaps',
                       {'metadata': {'name': 'b', 'namespace': 'default'}})
    assert status == 400 and body['reason'] == 'BadRequest'
    status, body = raw(api, 'POST', '/api/v1/namespaces/missing/configmaps', {'metadata': {'name': 'c'}})
    assert status == 404 and body['message'] == 'namespaces "missing" not found'


def test_secret_string_data_becomes_base64_data(api):
    core = client.CoreV1Api(api)
    core.create_namespaced_secret('gpu-operator', client.V1Secret(metadata=client.V1ObjectMeta(name='s'),
                                                                  string_data={'gridd.conf': 'FeatureType=1\n'}))
    secret = core.read_namespaced_secret('s', 'gpu-operator')
    assert secret.data == {'gridd.conf': 'RmVhdHVyZVR5cGU9MQo='}
    assert secret.string_data is None and secret.type == 'Opaque'
    status, body = raw(api, 'PATCH', '/api/v1/namespaces/gpu-operator/secrets/s', {'data': {'x': 'not base64!'}},
                       content_type='application/merge-patch+json')
    assert status == 400


def test_strategic_merge_patch_is_415_on_custom_resources_and_merges_on_built_ins(api):
    with pytest.raises(ApiException) as failure:
        kubevirt(api).patch(namespace='kubevirt', name='kubevirt', body={'spec': {'imagePullPolicy': 'Always'}},
                            content_type='application/strategic-merge-patch+json')
    assert failure.value.status == 415 and reason(failure.value) == 'UnsupportedMediaType'
    core = client.CoreV1Api(api)
    core.patch_node('gpu-1', {'metadata': {'labels': {'a': 'b'}}},
                    _content_type='application/strategic-merge-patch+json')
    assert core.read_node('gpu-1').metadata.labels['nvidia.com/gpu.product'] == 'NVIDIA-A10'
    status, body = raw(api, 'PATCH', '/api/v1/nodes/gpu-1/status',
                       {'status': {'conditions': [{'type': 'DiskPressure', 'status': 'False'}]}},
                       content_type='application/strategic-merge-patch+json')
    assert status == 200
    assert [c['type'] for c in body['status']['conditions']] == ['Ready', 'DiskPressure']  # merged by type


def test_json_patch_test_failure_is_422(api):
    ops = [{'op': 'test', 'path': '/spec/imagePullPolicy', 'value': 'Always'},
           {'op': 'replace', 'path': '/spec/imagePullPolicy', 'value': 'Never'}]
    with pytest.raises(ApiException) as failure:
        kubevirt(api).patch(namespace='kubevirt', name='kubevirt', body=ops, content_type='application/json-patch+json')
    assert failure.value.status == 422 and reason(failure.value) == 'Invalid'
    ops[0]['value'] = 'IfNotPresent'
    patched = kubevirt(api).patch(namespace='kubevirt', name='kubevirt', body=ops, content_type='application/json-patch+json')
    assert patched.spec.imagePullPolicy == 'Never'


def test_server_side_apply_creates_a_missing_object(api):
    body = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'applied'}, 'data': {'k': 'v'}}
    status, created = raw(api, 'PATCH', '/api/v1/namespaces/default/configmaps/applied', json.dumps(body),
                          content_type='application/apply-patch+yaml', query={'fieldManager': 'tests'})
    assert status == 201 and created['data'] == {'k': 'v'}
    assert [(m['manager'], m['operation']) for m in created['metadata']['managedFields']] == [('tests', 'Apply')]
    status, failed = raw(api, 'PATCH', '/api/v1/namespaces/default/configmaps/other', json.dumps(body),
                         content_type='application/apply-patch+yaml')
    assert status == 422 and 'fieldManager' in failed['message']
    status, _body = raw(api, 'PATCH', '/api/v1/namespaces/default/configmaps/applied', {'data': {'k': 'w'}},
                        content_type='application/merge-patch+json')
    assert status == 200  # an update answers 200 even after a create-by-apply answered 201


def test_standard_status_reasons(api):
    core = client.CoreV1Api(api)
    with pytest.raises(ApiException) as failure:
        core.read_namespaced_secret('absent', 'default')
    assert failure.value.status == 404 and reason(failure.value) == 'NotFound'
    assert json.loads(failure.value.body)['message'] == 'secrets "absent" not found'
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name='twice')))
    with pytest.raises(ApiException) as failure:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name='twice')))
    assert failure.value.status == 409 and reason(failure.value) == 'AlreadyExists'
    with pytest.raises(ApiException) as failure:
        core.patch_node('gpu-1', {'metadata': {'labels': {'nvidia.com/vgpu.config': 'has spaces'}}})
    assert failure.value.status == 422 and reason(failure.value) == 'Invalid'


def test_status_subresource_rules(api):
    core = client.CoreV1Api(api)
    core.patch_node('gpu-1', {'status': {'allocatable': {'example.com/x': '1'}}})
    assert 'example.com/x' not in core.read_node('gpu-1').status.allocatable  # main endpoint ignores status
    core.patch_node_status('gpu-1', {'status': {'allocatable': {'example.com/x': '1'}}})
    assert core.read_node('gpu-1').status.allocatable['example.com/x'] == '1'


def test_crd_creation_extends_discovery(api):
    crds = dynamic.DynamicClient(api).resources.get(api_version='apiextensions.k8s.io/v1', kind='CustomResourceDefinition')
    crds.create(body={'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition',
                      'metadata': {'name': 'widgets.example.com'},
                      'spec': {'group': 'example.com', 'scope': 'Namespaced',
                               'names': {'kind': 'Widget', 'plural': 'widgets', 'singular': 'widget'},
                               'versions': [{'name': 'v1', 'served': True, 'storage': True}]}})
    widgets = dynamic.DynamicClient(api).resources.get(api_version='example.com/v1', kind='Widget')
    widgets.create(namespace='default', body={'apiVersion': 'example.com/v1', 'kind': 'Widget', 'metadata': {'name': 'w'}})
    assert [w.metadata.name for w in widgets.get(namespace='default').items] == ['w']


def test_wrong_token_is_401(kube):
    api = kube.client()
    api.configuration.refresh_api_key_hook = None
    api.configuration.api_key = {'BearerToken': 'wrong', 'authorization': 'wrong'}
    with pytest.raises(ApiException) as failure:
        client.CoreV1Api(api).list_node()
    assert failure.value.status == 401 and reason(failure.value) == 'Unauthorized'


def test_watch_streams_changes(api):
    core = client.CoreV1Api(api)
    version = core.list_node().metadata.resource_version
    core.patch_node('gpu-2', {'metadata': {'labels': {'watched': 'yes'}}})
    events = [(e['type'], e['object'].metadata.name)
              for e in watch.Watch().stream(core.list_node, resource_version=version, timeout_seconds=1)]
    assert ('MODIFIED', 'gpu-2') in events


def test_vm_vgpu_config_goes_pending_then_success_with_vgpu_resources(kube, api):
    """Facts §5: vm-vgpu + nvidia.com/vgpu.config=A10-4Q -> state success, 6 A10-4Q per A10 -> 12 on 2 GPUs;
    the container resource stays listed at "0"; deploy labels switch to the vm-vgpu operands."""
    core = client.CoreV1Api(api)
    core.patch_node('gpu-1', {'metadata': {'labels': {'nvidia.com/gpu.workload.config': 'vm-vgpu',
                                                      'nvidia.com/vgpu.config': 'A10-4Q'}}})
    states = set()

    def settled():
        labels = core.read_node('gpu-1').metadata.labels
        states.add(labels.get('nvidia.com/vgpu.config.state'))
        return labels.get('nvidia.com/vgpu.config.state') == 'success'
    kube.wait_for(settled, 'vgpu.config.state=success on gpu-1')
    assert 'pending' in states
    node = core.read_node('gpu-1')
    assert node.status.allocatable['nvidia.com/NVIDIA_A10-4Q'] == '12'
    assert node.status.allocatable['nvidia.com/gpu'] == '0'
    labels = node.metadata.labels
    assert labels['nvidia.com/gpu.deploy.vgpu-device-manager'] == 'true'
    assert labels['nvidia.com/gpu.deploy.sandbox-device-plugin'] == 'true'
    assert 'nvidia.com/gpu.deploy.device-plugin' not in labels


def test_vgpu_config_the_gpu_cannot_hold_fails(kube, api):
    core = client.CoreV1Api(api)
    core.patch_node('gpu-2', {'metadata': {'labels': {'nvidia.com/gpu.workload.config': 'vm-vgpu',
                                                      'nvidia.com/vgpu.config': 'A10-4Q'}}})
    kube.wait_for(lambda: core.read_node('gpu-2').metadata.labels.get('nvidia.com/vgpu.config.state') == 'failed',
                  'vgpu.config.state=failed on gpu-2 (an L40S cannot hold A10-4Q)')
    assert not any(k.startswith('nvidia.com/NVIDIA_') for k in core.read_node('gpu-2').status.allocatable)


def test_vm_passthrough_advertises_the_sandbox_plugin_resource(kube, api):
    core = client.CoreV1Api(api)
    for node in ('gpu-1', 'gpu-2'):
        core.patch_node(node, {'metadata': {'labels': {'nvidia.com/gpu.workload.config': 'vm-passthrough'}}})
    kube.wait_for(lambda: core.read_node('gpu-2').status.allocatable.get('nvidia.com/AD102GL_L40S') == '1',
                  'nvidia.com/AD102GL_L40S on gpu-2')
    kube.wait_for(lambda: core.read_node('gpu-1').status.allocatable.get('nvidia.com/GA102GL_A10') == '2',
                  'nvidia.com/GA102GL_A10 on gpu-1')
    assert core.read_node('gpu-1').metadata.labels['nvidia.com/gpu.deploy.vfio-manager'] == 'true'


def test_request_log_counts_reads_and_writes(kube, api):
    kube.control.reset()
    core = client.CoreV1Api(api)
    core.read_node('gpu-1')
    core.patch_node('gpu-1', {'metadata': {'labels': {'a': 'b'}}})
    log = kube.control.requests()
    assert [(r['verb'], r['path']) for r in log] == [('get', '/api/v1/nodes/gpu-1'), ('patch', '/api/v1/nodes/gpu-1')]
    assert [r['path'] for r in kube.control.writes()] == ['/api/v1/nodes/gpu-1']
    assert log[1]['content_type'] == 'application/strategic-merge-patch+json'


def test_injected_concurrent_write_makes_a_precondition_fail(kube, api):
    kv = kubevirt(api)
    seen = kv.get(namespace='kubevirt', name='kubevirt')
    kube.control.inject_conflict(KV_PATH)
    with pytest.raises(ApiException) as failure:
        kv.patch(namespace='kubevirt', name='kubevirt', content_type='application/merge-patch+json',
                 body={'metadata': {'resourceVersion': seen.metadata.resourceVersion}, 'spec': {'imagePullPolicy': 'Always'}})
    assert failure.value.status == 409
    again = kv.get(namespace='kubevirt', name='kubevirt')
    assert again.metadata.annotations['emulator/concurrent-writer']
    kv.patch(namespace='kubevirt', name='kubevirt', content_type='application/merge-patch+json',
             body={'metadata': {'resourceVersion': again.metadata.resourceVersion}, 'spec': {'imagePullPolicy': 'Always'}})
    kube.control.inject_failure('GET', '/api/v1/nodes/gpu-1', status=503, reason='ServiceUnavailable')
    with pytest.raises(ApiException) as failure:
        client.CoreV1Api(api).read_node('gpu-1')
    assert failure.value.status == 503


def test_cli_up_refuses_a_busy_port_and_bad_nodes_and_down_stops_it(kube, tmp_path):
    busy = subprocess.run([sys.executable, '-m', 'tests.emulators.kube', 'up', '--port', str(kube.port),
                           '--kubeconfig', str(tmp_path / 'k')], cwd=REPO, capture_output=True, text=True, check=False)
    assert busy.returncode != 0 and 'already answers' in busy.stderr
    bad = subprocess.run([sys.executable, '-m', 'tests.emulators.kube', 'up', '--port', str(free_port()),
                          '--kubeconfig', str(tmp_path / 'k'), '--nodes', 'gpu-1:z99:1'], cwd=REPO, capture_output=True,
                         text=True, check=False)
    assert bad.returncode != 0 and 'unknown GPU model' in bad.stderr
