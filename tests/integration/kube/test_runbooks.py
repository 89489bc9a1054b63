"""The issue's "real clients as tests" against the Kubernetes test world: the runbooks' kubectl steps (seed 003, seed
004) produce the cluster state the modules produce (the modules then report no change), and the reverse; the real
API server's refusals reach the user as clear module errors; the modules' client writes strictly.
"""
import json

import pytest

from tests.integration.worlds.kube import get_json, kubectl

from .test_modules import TOKEN, play

KV_PATH = '/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt'
# seed 003's licensing ConfigMap, as the vgpu_license task that makes it
LICENSE_TASK = '''
        - gpuvirt.core.vgpu_license:
            namespace: gpu-operator
            name: licensing-config
            kind: ConfigMap
            token: "{{ token }}"
            feature_type: 1
            check_cluster_policy: false
'''


# -- real clients as tests: the runbooks' kubectl steps and the modules agree --------------------------------------
def test_runbook_kubectl_steps_leave_nothing_for_the_modules_to_change(kube, playbook, tmp_path):
    """Seed 003's steps by hand, then the modules: every one reports no change and writes nothing."""
    kubectl(kube, 'label', 'node', 'gpu-1', 'nvidia.com/gpu.workload.config=vm-vgpu', 'nvidia.com/vgpu.config=A10-4Q')
    kubectl(kube, 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--type=json', '-p', json.dumps(
        [{'op': 'add', 'path': '/spec/configuration/developerConfiguration/featureGates/-',
          'value': 'DisableMDEVConfiguration'}]))
    (tmp_path / 'gridd.conf').write_text('FeatureType=1\n')  # seed 003's file: no comment line
    (tmp_path / 'client_configuration_token.tok').write_text(TOKEN)
    kubectl(kube, 'create', 'configmap', 'licensing-config', '-n', 'gpu-operator',
            '--from-file=%s' % (tmp_path / 'gridd.conf'), '--from-file=%s' % (tmp_path / 'client_configuration_token.tok'))
    kubectl(kube, 'wait', 'node/gpu-1', '--for=jsonpath={.metadata.labels.nvidia\\.com/vgpu\\.config\\.state}=success',
            '--timeout=30s')
    kube.control.reset()
    run = playbook(play('''
        - gpuvirt.core.k8s_gpu_node:
            nodes: [gpu-1]
            workload: vm-vgpu
            vgpu_config: A10-4Q
            wait: true
          register: node
        - gpuvirt.core.kubevirt_host_devices:
            feature_gates: [HostDevices, DisableMDEVConfiguration]
          register: kubevirt
''' + LICENSE_TASK + '''          register: license
        ''', registered=('node', 'kubevirt', 'license')), kube, extra_vars={'token': TOKEN})
    assert run.rc == 0, run.output
    for name in ('node', 'kubevirt', 'license'):
        assert run.results[name]['changed'] is False, (name, run.results[name])
    assert kube.control.writes() == []
    allocatable = json.loads(kubectl(kube, 'get', 'node', 'gpu-1', '-o', 'json').stdout)['status']['allocatable']
    reported = run.results['node']['nodes'][0]['allocatable']
    assert {k: v for k, v in allocatable.items() if k.startswith('nvidia.com/') and v != '0'} == \
        {k: str(v) for k, v in reported.items() if str(v) != '0'}


def test_modules_produce_what_the_runbook_kubectl_steps_produce(kube, playbook, tmp_path):
    """The reverse: the modules first, then the runbooks' kubectl commands change nothing (``unchanged``/no-op)."""
    run = playbook(play('''
        - gpuvirt.core.k8s_gpu_node:
            nodes: [gpu-1]
            workload: vm-vgpu
            vgpu_config: A10-4Q
          register: out
        '''), kube)
    assert run.rc == 0 and run.results['out']['changed'] is True, run.output
    kube.control.reset()
    kubectl(kube, 'label', 'node', 'gpu-1', '--overwrite', 'nvidia.com/gpu.workload.config=vm-vgpu',
            'nvidia.com/vgpu.config=A10-4Q')
    assert [w for w in kube.control.writes() if w['path'] == '/api/v1/nodes/gpu-1'] == [] or \
        get_json(kube, 'node', 'gpu-1')['metadata']['labels']['nvidia.com/vgpu.config'] == 'A10-4Q'
    license_run = playbook(play(LICENSE_TASK + '''\
          register: out
        '''), kube, extra_vars={'token': TOKEN})
    assert license_run.rc == 0, license_run.output
    data = get_json(kube, 'configmap', 'licensing-config', '-n', 'gpu-operator')['data']
    assert data['client_configuration_token.tok'] == TOKEN and 'FeatureType=1' in data['gridd.conf']


# -- bad input: the real server's refusals reach the user as clear module errors -----------------------------------
@pytest.mark.parametrize('task, words', [
    # a label value the API server would refuse (metadata.labels validation): since issue 18 the module's plan
    # refuses it first, naming the option and the value
    ('''
     - gpuvirt.core.k8s_gpu_node:
         nodes: [gpu-1]
         workload: vm-vgpu
         vgpu_config: "A10 4Q"
         validate_vgpu_config: false
       register: out
       ignore_errors: true
     ''', ('vgpu_config', 'A10 4Q', 'label value')),
    # an object name the API server refuses (DNS-1123)
    ('''
     - gpuvirt.core.vgpu_license:
         namespace: gpu-operator
         name: Licensing_Config
         token: "{{ token }}"
         check_cluster_policy: false
       register: out
       ignore_errors: true
     ''', ('Licensing_Config', 'metadata.name')),
])
def test_server_refusals_are_module_errors_naming_object_and_field(kube, playbook, task, words):
    kube.control.reset()
    run = playbook(play(task), kube, extra_vars={'token': TOKEN})
    out = run.results.get('out') or {}
    assert out.get('failed') is True, run.output
    assert 'Traceback' not in run.output and 'MODULE FAILURE' not in run.output, run.output
    for word in words:
        assert word in out['msg'], out['msg']
    assert [w for w in kube.control.writes() if w['status'] and w['status'] < 400] == []
    assert TOKEN not in run.output


@pytest.mark.parametrize('patch, words', [
    ({'spec': {'configuration': {'permittedHostDevice': {}}}},                 # a typo: unknown field
     ('/kubevirts/kubevirt', 'unknown field "spec.configuration.permittedHostDevice"')),
    ({'spec': {'configuration': {'mediatedDevicesConfiguration': {'enabled': 'no'}}}},   # a wrong type
     ('KubeVirt.kubevirt.io "kubevirt" is invalid', 'spec.configuration.mediatedDevicesConfiguration.enabled', 'boolean')),
])
def test_the_modules_client_writes_strictly_and_names_the_refused_field(kube, patch, words):
    """Every write of the modules' client asks for fieldValidation=Strict: a field the real schema lacks or a
    value of the wrong type is an error naming the object and the field (not silently dropped), and nothing is
    stored."""
    from ansible_collections.gpuvirt.core.plugins.module_utils.kube.client import KubeClient, KubeError
    client = KubeClient({'kubeconfig': kube.kubeconfig, 'context': None, 'host': None, 'api_key': None,
                         'validate_certs': None})
    before = client.request('GET', KV_PATH)
    kube.control.reset()
    with pytest.raises(KubeError) as refused:
        client.request('PATCH', KV_PATH, patch, content_type='application/merge-patch+json')
    for word in words:
        assert word in str(refused.value), str(refused.value)
    assert len(str(refused.value)) < 400  # the field, not the whole object quoted back
    assert [w['status'] for w in kube.control.writes()] == [refused.value.status]
    assert client.request('GET', KV_PATH)['metadata']['resourceVersion'] == before['metadata']['resourceVersion']
