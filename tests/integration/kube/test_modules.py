"""gpuvirt.core's Kubernetes modules driven by real ansible-playbook runs against the Kubernetes test world
(a real kube-apiserver; tests/emulators/kube).

Acceptance of issue 5: change, rerun (0 writes in the emulator's request log), check mode (0 writes),
refusals (malformed selectors, unknown vGPU config for the node's GPUs, unknown nodes, missing KubeVirt CR) with
nothing written, a 409 from a concurrent writer resolved by retry, a wait that times out with a useful message,
and the licensing token absent from -vvv output.
"""
import base64
import json
import textwrap

from kubernetes import client, dynamic

KV_PATH = '/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt'
TOKEN = 'eyJhbGciOiJSUzI1NiJ9.TOKEN-VALUE-THAT-MUST-NEVER-BE-PRINTED.c2lnbmF0dXJl'


def play(tasks, registered=('out',)):
    """A localhost play running ``tasks`` (YAML text, registering names in ``registered``) that saves those
    results as JSON to ``result_file``."""
    saved = ', '.join("'%s': %s | default(None)" % (name, name) for name in registered)
    return textwrap.dedent('''\
        - hosts: localhost
          gather_facts: false
          tasks:
        {tasks}
            - name: save results
              ansible.builtin.copy:
                content: "{{{{ {{ {saved} }} | to_json }}}}"
                dest: "{{{{ result_file }}}}"
                mode: "0600"
              check_mode: false
        ''').format(tasks=textwrap.indent(textwrap.dedent(tasks), '    '), saved=saved)


def kubevirt_config(kube):
    kv = dynamic.DynamicClient(kube.client()).resources.get(api_version='kubevirt.io/v1', kind='KubeVirt')
    return kv.get(namespace='kubevirt', name='kubevirt').to_dict()


A10_AND_VGPU = '''
- gpuvirt.core.kubevirt_host_devices:
    pci_host_devices:
      - selector: "10de:2236"
    mediated_devices:
      - selector: A10-24Q
    feature_gates: [HostDevices, GPU]
    disable_mdev_configuration: true
  register: out
'''


def test_kubevirt_host_devices_change_rerun_and_check_mode(kube, playbook):
    first = playbook(play(A10_AND_VGPU), kube, diff=True)
    assert first.rc == 0, first.output
    out = first.results['out']
    assert out['changed'] is True
    log = kube.control.requests()
    assert [r['verb'] for r in log] == ['get', 'patch']
    assert out['api_calls'] == 2
    config = kubevirt_config(kube)['spec']['configuration']
    assert config['permittedHostDevices'] == {
        'pciHostDevices': [{'pciVendorSelector': '10DE:2236', 'resourceName': 'nvidia.com/GA102GL_A10', 'externalResourceProvider': True}],
        'mediatedDevices': [{'mdevNameSelector': 'NVIDIA A10-24Q', 'resourceName': 'nvidia.com/NVIDIA_A10-24Q',
                             'externalResourceProvider': True}]}
    assert config['developerConfiguration']['featureGates'] == ['HostDevices', 'GPU']
    assert config['mediatedDevicesConfiguration'] == {'enabled': False}  # KubeVirt v1.9.0: the field, not the gate

    kube.control.reset()
    rerun = playbook(play(A10_AND_VGPU), kube)
    assert rerun.rc == 0 and rerun.results['out']['changed'] is False
    assert kube.control.writes() == [] and len(kube.control.requests()) == 1

    check = playbook(play(A10_AND_VGPU.replace('A10-24Q', 'A10-12Q')), kube, check=True, diff=True)
    assert check.rc == 0 and check.results['out']['changed'] is True
    assert kube.control.writes() == []
    assert '+                    "mdevNameSelector": "NVIDIA A10-12Q"' in check.stdout


def test_kubevirt_host_devices_check_mode_returns_the_planned_configuration(kube, playbook):
    """Check mode on the seeded CR: the result keys show the CR as the patch would leave it (all three fields),
    and nothing is written."""
    check = playbook(play(A10_AND_VGPU), kube, check=True)
    assert check.rc == 0, check.output
    out = check.results['out']
    assert out['changed'] is True
    assert out['mediated_devices_configuration'] == {'enabled': False}
    assert out['feature_gates'] == ['HostDevices', 'GPU']
    assert [e['resourceName'] for e in out['permitted_host_devices']['mediatedDevices']] == ['nvidia.com/NVIDIA_A10-24Q']
    assert kube.control.writes() == []
    assert kubevirt_config(kube)['spec']['configuration'].get('mediatedDevicesConfiguration') is None


def test_kubevirt_host_devices_absent_removes_only_the_named_entry_and_old_kubevirt_gets_the_gate(kube_factory, playbook):
    old = kube_factory(extra=['--kubevirt-version', 'v1.2.0', '--feature-gates', 'HostDevices,GPU'])
    first = playbook(play(A10_AND_VGPU), old)
    assert first.rc == 0, first.output
    gates = kubevirt_config(old)['spec']['configuration']['developerConfiguration']['featureGates']
    assert gates == ['HostDevices', 'GPU', 'DisableMDEVConfiguration']  # seed 003, KubeVirt before v1.8
    removal = playbook(play('''
        - gpuvirt.core.kubevirt_host_devices:
            mediated_devices:
              - selector: NVIDIA A10-24Q
            state: absent
          register: out
        '''), old)
    assert removal.rc == 0 and removal.results['out']['changed'] is True, removal.output
    permitted = kubevirt_config(old)['spec']['configuration']['permittedHostDevices']
    assert 'mediatedDevices' not in permitted
    assert [e['resourceName'] for e in permitted['pciHostDevices']] == ['nvidia.com/GA102GL_A10']


def test_kubevirt_host_devices_refusals_write_nothing(kube, playbook):
    tasks = '''
        - gpuvirt.core.kubevirt_host_devices:
            pci_host_devices:
              - selector: "10DE-2236"
          register: bad_pci
          ignore_errors: true
        - gpuvirt.core.kubevirt_host_devices:
            mediated_devices:
              - selector: A10-5Q
          register: bad_mdev
          ignore_errors: true
        - gpuvirt.core.kubevirt_host_devices:
            name: absent-cr
            feature_gates: [HostDevices]
          register: missing_cr
          ignore_errors: true
        '''
    run = playbook(play(tasks, registered=('bad_pci', 'bad_mdev', 'missing_cr')), kube)
    assert run.rc == 0, run.output
    results = run.results
    assert results['bad_pci']['failed'] and "10DE-2236" in results['bad_pci']['msg'] and 'VVVV:DDDD' in results['bad_pci']['msg']
    assert results['bad_mdev']['failed'] and 'A10-5Q' in results['bad_mdev']['msg']
    assert results['missing_cr']['failed'] and 'KubeVirt/kubevirt/absent-cr not found' in results['missing_cr']['msg']
    assert kube.control.writes() == []
    assert [name for name, r in results.items() if 'Traceback' in r.get('exception', '')] == []  # clean errors


def test_kubevirt_host_devices_resolves_a_concurrent_write_by_retrying(kube, playbook):
    kube.control.inject_conflict(KV_PATH, patch={'spec': {'configuration': {'developerConfiguration': {
        'featureGates': ['HostDevices', 'LiveMigration']}}}})
    run = playbook(play(A10_AND_VGPU), kube)
    assert run.rc == 0, run.output
    assert run.results['out']['conflicts_retried'] == 1
    log = kube.control.requests()
    assert [(r['verb'], r['status']) for r in log] == [('get', 200), ('patch', 409), ('get', 200), ('patch', 200)]
    gates = kubevirt_config(kube)['spec']['configuration']['developerConfiguration']['featureGates']
    assert gates == ['HostDevices', 'LiveMigration', 'GPU']  # the other writer's gate is kept


def test_gpu_nodes_vgpu_and_passthrough_then_discovery_and_info(kube, playbook):
    tasks = '''
        - gpuvirt.core.k8s_gpu_node:
            nodes: [gpu-1]
            workload: vm-vgpu
            vgpu_config: NVIDIA A10-4Q
            wait: true
            wait_sleep: 0.1
          register: vgpu
        - gpuvirt.core.k8s_gpu_node:
            label_selector: nvidia.com/gpu.product=NVIDIA-L40S
            workload: vm-passthrough
            wait: true
            wait_sleep: 0.1
          register: passthrough
        - gpuvirt.core.kubevirt_host_devices:
            discover: true
          register: discovered
        - gpuvirt.core.k8s_gpu_info:
          register: info
        '''
    run = playbook(play(tasks, registered=('vgpu', 'passthrough', 'discovered', 'info')), kube)
    assert run.rc == 0, run.output
    vgpu_node = run.results['vgpu']['nodes'][0]
    assert vgpu_node['vgpu_config'] == 'A10-4Q' and vgpu_node['vgpu_config_state'] == 'success'
    assert vgpu_node['allocatable'] == {'nvidia.com/NVIDIA_A10-4Q': 12}
    assert run.results['passthrough']['nodes'][0]['allocatable'] == {'nvidia.com/AD102GL_L40S': 1}
    permitted = run.results['discovered']['permitted_host_devices']
    assert permitted['mediatedDevices'] == [{'mdevNameSelector': 'NVIDIA A10-4Q', 'resourceName': 'nvidia.com/NVIDIA_A10-4Q',
                                             'externalResourceProvider': True}]
    assert permitted['pciHostDevices'] == [{'pciVendorSelector': '10DE:26B9', 'resourceName': 'nvidia.com/AD102GL_L40S',
                                            'externalResourceProvider': True}]
    info = run.results['info']
    assert [n['name'] for n in info['nodes']] == ['gpu-1', 'gpu-2']
    assert info['nodes'][0]['gpu_model'] == 'A10' and info['nodes'][1]['workload'] == 'vm-passthrough'
    assert info['kubevirt']['permitted_host_devices'] == permitted
    assert info['cluster_policy']['state'] == 'ready'

    kube.control.reset()
    rerun = playbook(play(tasks, registered=('vgpu', 'passthrough', 'discovered', 'info')), kube)
    assert rerun.rc == 0, rerun.output
    assert not any(rerun.results[name]['changed'] for name in ('vgpu', 'passthrough', 'discovered', 'info'))
    assert kube.control.writes() == []


def test_gpu_node_without_wait_reports_the_patched_nodes(kube, playbook):
    """wait=false (the default): one LIST and one PATCH per node that changes; the nodes returned are the
    PATCH answers, with the new labels."""
    run = playbook(play('''
        - gpuvirt.core.k8s_gpu_node:
            nodes: [gpu-1, gpu-2]
            workload: vm-passthrough
          register: out
        '''), kube)
    assert run.rc == 0, run.output
    out = run.results['out']
    assert out['changed'] is True
    assert [(n['name'], n['workload']) for n in out['nodes']] == [('gpu-1', 'vm-passthrough'), ('gpu-2', 'vm-passthrough')]
    log = kube.control.requests()
    assert [(r['verb'], r['path']) for r in log] == [('list', '/api/v1/nodes'), ('patch', '/api/v1/nodes/gpu-1'),
                                                     ('patch', '/api/v1/nodes/gpu-2')]
    assert out['api_calls'] == 3


def test_gpu_node_check_mode_and_refusals_write_nothing(kube, playbook):
    check = playbook(play('''
        - gpuvirt.core.k8s_gpu_node:
            nodes: [gpu-1, gpu-2]
            workload: vm-passthrough
            wait: true
          register: out
        '''), kube, check=True)
    assert check.rc == 0 and check.results['out']['changed'] is True, check.output
    assert [c['target'] for c in check.results['out']['changes']] == ['Node/gpu-1', 'Node/gpu-2']
    refusals = '''
        - gpuvirt.core.k8s_gpu_node:
            nodes: [gpu-1, gpu-9]
            workload: vm-vgpu
          register: unknown_node
          ignore_errors: true
        - gpuvirt.core.k8s_gpu_node:
            nodes: [gpu-1, gpu-2]
            workload: vm-vgpu
            vgpu_config: A10-4Q
          register: wrong_gpu
          ignore_errors: true
        - gpuvirt.core.k8s_gpu_node:
            nodes: [cpu-1]
            workload: vm-passthrough
          register: no_gpu
          ignore_errors: true
        - gpuvirt.core.k8s_gpu_node:
            nodes: [gpu-1]
            vgpu_config: A10-4Q
          register: not_vgpu
          ignore_errors: true
        - gpuvirt.core.k8s_gpu_node:
            nodes: [gpu-1]
            workload: vm-vgpu
            vgpu_config: A100-3-20C
          register: mig
          ignore_errors: true
        '''
    names = ('unknown_node', 'wrong_gpu', 'no_gpu', 'not_vgpu', 'mig')
    run = playbook(play(refusals, registered=names), kube)
    assert run.rc == 0, run.output
    results = run.results
    assert all(results[name]['failed'] for name in names)
    assert 'unknown node(s) gpu-9' in results['unknown_node']['msg']
    assert 'node gpu-2 has L40S GPUs, which do not offer vGPU type A10-4Q' in results['wrong_gpu']['msg']
    assert 'L40S-4Q' in results['wrong_gpu']['valid_configs']
    assert 'cpu-1 has no NVIDIA GPU' in results['no_gpu']['msg']
    assert 'set workload=vm-vgpu' in results['not_vgpu']['msg']
    assert 'MIG-backed' in results['mig']['msg']
    assert kube.control.writes() == []


def test_gpu_node_wait_times_out_or_fails_fast_with_the_state(kube, playbook):
    kube.control.set_delay(60)
    tasks = '''
        - gpuvirt.core.k8s_gpu_node:
            nodes: [gpu-1]
            workload: vm-vgpu
            vgpu_config: A10-8Q
            wait: true
            wait_timeout: 2
            wait_sleep: 0.2
          register: timeout
          ignore_errors: true
        '''
    run = playbook(play(tasks, registered=('timeout',)), kube)
    assert run.rc == 0, run.output
    timed_out = run.results['timeout']
    assert timed_out['failed'] and timed_out['changed'] is True  # the labels were written
    assert 'timed out after 2s' in timed_out['msg']
    assert 'gpu-1: nvidia.com/gpu.workload.config=vm-vgpu, nvidia.com/vgpu.config=A10-8Q, nvidia.com/vgpu.config.state=pending' \
        in timed_out['msg']

    kube.control.set_delay(0.2)
    failing = playbook(play('''
        - gpuvirt.core.k8s_gpu_node:
            nodes: [gpu-2]
            workload: vm-vgpu
            vgpu_config: L40S-5Q
            validate_vgpu_config: false
            wait: true
            wait_timeout: 60
            wait_sleep: 0.1
          register: out
          ignore_errors: true
        '''), kube)
    out = failing.results['out']
    assert out['failed'] and 'could not apply vGPU config L40S-5Q on node gpu-2' in out['msg']
    assert 'timed out' not in out['msg']


def test_gpu_node_label_write_survives_operator_conflicts(kube, playbook):
    kube.control.inject_conflict('/api/v1/nodes/gpu-1', times=2)
    run = playbook(play('''
        - gpuvirt.core.k8s_gpu_node:
            nodes: [gpu-1]
            workload: vm-passthrough
          register: out
        '''), kube)
    assert run.rc == 0, run.output
    assert run.results['out']['conflicts_retried'] == 2
    node = client.CoreV1Api(kube.client()).read_node('gpu-1')
    assert node.metadata.labels['nvidia.com/gpu.workload.config'] == 'vm-passthrough'


def license_task(extra=''):
    return '''
        - gpuvirt.core.vgpu_license:
            token_file: "{{ token_path }}"
            gridd_conf:
              EnableUI: false
%s
          register: out
        ''' % textwrap.indent(textwrap.dedent(extra), ' ' * 12)


def test_vgpu_license_secret_create_rerun_update_and_the_token_never_shows(kube, playbook, tmp_path):
    token_path = tmp_path / 'client_configuration_token.tok'
    token_path.write_text(TOKEN + '\n')
    first = playbook(play(license_task()), kube, diff=True, verbosity=3, extra_vars={'token_path': str(token_path)})
    assert first.rc == 0, first.output
    assert TOKEN not in first.output and 'TOKEN-VALUE' not in first.output
    assert 'sha256:' in first.stdout  # the diff shows the token's hash
    secret = client.CoreV1Api(kube.client()).read_namespaced_secret('licensing-config', 'gpu-operator')
    assert base64.b64decode(secret.data['client_configuration_token.tok']).decode() == TOKEN
    assert base64.b64decode(secret.data['gridd.conf']).decode().splitlines()[1:] == ['FeatureType=1', 'EnableUI=false']
    assert any('ClusterPolicy cluster-policy does not use this Secret' in w for w in first.results['out']['warnings'])

    kube.control.reset()
    rerun = playbook(play(license_task()), kube, extra_vars={'token_path': str(token_path)})
    assert rerun.rc == 0 and rerun.results['out']['changed'] is False
    assert kube.control.writes() == []

    check = playbook(play(license_task('feature_type: 4')), kube, check=True, extra_vars={'token_path': str(token_path)})
    assert check.rc == 0 and check.results['out']['changed'] is True and kube.control.writes() == []

    inline = playbook(play('''
        - gpuvirt.core.vgpu_license:
            token: "%s-rotated"
            gridd_conf:
              EnableUI: false
          register: out
        ''' % TOKEN), kube, diff=True, verbosity=3)
    assert inline.rc == 0 and inline.results['out']['changed'] is True, inline.output
    assert TOKEN not in inline.output
    assert [r['verb'] for r in kube.control.writes()] == ['patch']


def test_vgpu_license_configmap_for_older_operators_and_missing_namespace(kube, playbook):
    run = playbook(play('''
        - gpuvirt.core.vgpu_license:
            kind: ConfigMap
            token: abc.def
            feature_type: 2
          register: out
        - gpuvirt.core.vgpu_license:
            namespace: nvidia-gpu-operator
            token: abc.def
          register: missing_ns
          ignore_errors: true
        ''', registered=('out', 'missing_ns')), kube)
    assert run.rc == 0, run.output
    cm = client.CoreV1Api(kube.client()).read_namespaced_config_map('licensing-config', 'gpu-operator')
    assert cm.data['client_configuration_token.tok'] == 'abc.def' and 'FeatureType=2' in cm.data['gridd.conf']
    assert run.results['missing_ns']['failed'] and 'namespace nvidia-gpu-operator does not exist' in run.results['missing_ns']['msg']
    assert 'abc.def' not in json.dumps(run.results['missing_ns'])


def test_kubevirt_host_devices_webhook_refusal_is_a_module_error_naming_object_and_field(kube, playbook):
    """A gate the cluster lists in disabledFeatureGates, asked for in feature_gates: KubeVirt's
    kubevirt-update-validator.kubevirt.io refuses the patch (422); the module fails naming the CR and the field,
    and nothing is written."""
    kube.control._rest().request('PATCH', KV_PATH, {'spec': {'configuration': {'developerConfiguration': {  # pylint: disable=protected-access
        'featureGates': [], 'disabledFeatureGates': ['HostDevices']}}}}, content_type='application/merge-patch+json')
    before = kubevirt_config(kube)
    kube.control.reset()
    run = playbook(play('''
        - gpuvirt.core.kubevirt_host_devices:
            pci_host_devices:
              - selector: "10de:2236"
            feature_gates: [HostDevices]
          register: out
          ignore_errors: true
        '''), kube)
    out = run.results.get('out') or {}
    assert out.get('failed') is True, run.output
    assert 'Traceback' not in run.output and 'MODULE FAILURE' not in run.output, run.output
    for word in ('KubeVirt/kubevirt/kubevirt', 'admission webhook "kubevirt-update-validator.kubevirt.io" denied the request',
                 'feature gate "HostDevices" exists on both', 'spec.configuration.developerConfiguration.featureGates'):
        assert word in out['msg'], out['msg']
    writes = kube.control.writes()
    assert writes and all(w['status'] >= 400 for w in writes), writes
    after = kubevirt_config(kube)
    assert after['metadata']['resourceVersion'] == before['metadata']['resourceVersion']
