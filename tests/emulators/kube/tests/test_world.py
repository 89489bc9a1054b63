"""The Kubernetes test world as a new user meets it: the stable command, real kubectl and helm against it, the real
API server's schema checks on the upstream CRDs, the controller and webhook doubles, and the test hooks.
(The "real clients as tests" that also run the collection's modules live with the product's tests:
tests/integration/kube/test_runbooks.py.)
"""
import json
import os
import subprocess
import sys

import pytest

from tests.emulators.kube import binaries, world
from tests.emulators.kube.rest import ApiError
from tests.integration.worlds import free_port
from tests.integration.worlds.kube import REPO, get_json, kubectl

KV_PATH = '/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt'


# -- the stable command and real clients ---------------------------------------------------------------------------
def test_kubectl_and_helm_work_unmodified(kube):
    nodes = get_json(kube, 'nodes')
    assert sorted(n['metadata']['name'] for n in nodes['items']) == ['cpu-1', 'gpu-1', 'gpu-2']
    explained = kubectl(kube, 'explain', 'kubevirt.spec.configuration.permittedHostDevices').stdout
    assert 'pciHostDevices' in explained and 'mediatedDevices' in explained
    created = kubectl(kube, 'create', 'secret', 'docker-registry', 'ngc-secret', '-n', 'gpu-operator',
                      '--docker-server=nvcr.io', '--docker-username=$oauthtoken', '--docker-password=not-a-key')
    assert 'secret/ngc-secret created' in created.stdout
    secret = get_json(kube, 'secret', 'ngc-secret', '-n', 'gpu-operator')
    assert secret['type'] == 'kubernetes.io/dockerconfigjson'
    helm = subprocess.run([os.path.join(binaries.ensure(), 'helm'), 'version', '--short'], capture_output=True,
                          text=True, check=True)
    assert helm.stdout.startswith('v3.')
    listed = subprocess.run([os.path.join(binaries.ensure(), 'helm'), '--kubeconfig', kube.kubeconfig, 'list', '-A'],
                            capture_output=True, text=True, check=False,
                            env=dict(os.environ, HELM_CONFIG_HOME=os.path.join(world.directory(kube.port), 'helm')))
    assert listed.returncode == 0, listed.stderr


def test_watch_and_wait_see_controller_changes(kube):
    """kubectl get --watch and kubectl wait see the GPU Operator double's label going pending -> success."""
    kube.control.set_delay(1.0)
    kubectl(kube, 'label', 'node', 'gpu-1', 'nvidia.com/gpu.workload.config=vm-vgpu', 'nvidia.com/vgpu.config=A10-4Q')
    done = kubectl(kube, 'wait', 'node/gpu-1', '--for=jsonpath={.metadata.labels.nvidia\\.com/vgpu\\.config\\.state}=success',
                   '--timeout=30s')
    assert 'condition met' in done.stdout
    # as on a real node, the sandbox device plugin advertises the vGPUs after vgpu-device-manager reports success
    kubectl(kube, 'wait', 'node/gpu-1', '--for=jsonpath={.status.allocatable.nvidia\\.com/NVIDIA_A10-4Q}=12',
            '--timeout=30s')
    allocatable = get_json(kube, 'node', 'gpu-1')['status']['allocatable']
    assert allocatable['nvidia.com/NVIDIA_A10-4Q'] == '12' and allocatable['nvidia.com/gpu'] == '0'


def test_cli_refuses_a_busy_port_and_bad_nodes_and_down_stops_every_process(kube, tmp_path):
    busy = subprocess.run([sys.executable, '-m', 'tests.emulators.kube', 'up', '--port', str(kube.port),
                           '--kubeconfig', str(tmp_path / 'k')], cwd=REPO, capture_output=True, text=True, check=False)
    assert busy.returncode != 0 and 'already answers on 127.0.0.1:%d' % kube.port in busy.stderr
    bad = subprocess.run([sys.executable, '-m', 'tests.emulators.kube', 'up', '--port', str(free_port()),
                          '--kubeconfig', str(tmp_path / 'k'), '--nodes', 'gpu-1:z99'], cwd=REPO, capture_output=True,
                         text=True, check=False)
    assert bad.returncode == 2 and "unknown GPU model 'z99'" in bad.stderr
    port = free_port()
    up = subprocess.run([sys.executable, '-m', 'tests.emulators.kube', 'up', '--port', str(port), '--kubeconfig',
                         str(tmp_path / 'kc'), '--nodes', 'cpu-1', '--no-kubevirt'], cwd=REPO, capture_output=True,
                        text=True, timeout=300, check=True)
    assert 'KUBECONFIG=%s' % (tmp_path / 'kc') in up.stdout
    assert oct(os.stat(str(tmp_path / 'kc')).st_mode & 0o777) == '0o600'
    pids = world.load_state(port)['pids']
    assert sorted(pids) == ['doubles', 'etcd', 'kube-apiserver']
    subprocess.run([sys.executable, '-m', 'tests.emulators.kube', 'down', '--port', str(port)], cwd=REPO, check=True,
                   capture_output=True, timeout=60)
    for pid in pids.values():
        assert not os.path.exists('/proc/%d' % pid) or open('/proc/%d/stat' % pid).read().split()[2] == 'Z'
    assert not os.path.exists(world.directory(port))


def test_etcd_is_healthy_before_the_api_server_starts_even_when_its_port_is_taken(tmp_path, monkeypatch):
    """A port picked free can be taken before etcd binds it (CI once saw kube-apiserver give up dialing an etcd that
    never listened): etcd is started again on fresh ports, and the API server is only started against a healthy one."""
    import socket  # pylint: disable=import-outside-toplevel
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(('127.0.0.1', 0))
    taken.listen(1)
    picks = []
    real = world.free_ports

    def first_pick_taken(count):
        ports = real(count)
        if count == 3 and not picks:
            ports[0] = taken.getsockname()[1]  # etcd's client port: another program holds it
        picks.append(ports)
        return ports

    monkeypatch.setattr(world, 'free_ports', first_pick_taken)
    root = str(tmp_path)
    processes = []
    try:
        etcd, client = world._start_etcd(root, binaries.ensure(), processes)  # pylint: disable=protected-access
        assert len([p for p in picks if len(p) == 3]) == 2 and client == picks[1][0]
        assert processes == [etcd] and world._etcd_healthy(client)  # pylint: disable=protected-access
        assert 'address already in use' in open(world.etcd_log(root)).read()
    finally:
        for process in processes:
            world.stop_pid(process.pid)
        taken.close()


# -- the real API server's schema checks ---------------------------------------------------------------------------
def test_unknown_and_mistyped_fields_are_refused_or_pruned_by_the_real_schema(kube):
    rest = kube.control._rest()  # pylint: disable=protected-access
    with pytest.raises(ApiError) as strict:
        rest.request('PATCH', KV_PATH, {'spec': {'configuration': {'permittedHostDevice': {}}}},
                     content_type='application/merge-patch+json', query={'fieldValidation': 'Strict'})
    assert strict.value.status in (400, 422) and 'unknown field "spec.configuration.permittedHostDevice"' in str(strict.value)
    typed = kubectl(kube, 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--type=merge',
                    '-p', '{"spec":{"configuration":{"mediatedDevicesConfiguration":{"enabled":"no"}}}}', check=False)
    assert typed.returncode != 0 and 'must be of type boolean' in typed.stderr
    pruned = kubectl(kube, 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--type=merge', '-p', '{"spec":{"bogus":1}}')
    assert 'unknown field "spec.bogus"' in pruned.stderr  # the server's warning; the field is dropped
    assert 'bogus' not in get_json(kube, 'kubevirt', 'kubevirt', '-n', 'kubevirt')['spec']


def test_deleting_a_crd_deletes_its_objects(kube):
    assert get_json(kube, 'clusterpolicies')['items']
    kubectl(kube, 'delete', 'crd', 'clusterpolicies.nvidia.com', '--wait=true', '--timeout=60s')
    gone = kubectl(kube, 'get', 'clusterpolicies', check=False)
    assert gone.returncode != 0 and 'the server could not find the requested resource' in gone.stderr


# -- controller and webhook doubles ---------------------------------------------------------------------------------
def test_vgpu_config_the_gpu_cannot_hold_fails(kube):
    kubectl(kube, 'label', 'node', 'gpu-1', 'nvidia.com/gpu.workload.config=vm-vgpu', 'nvidia.com/vgpu.config=L40S-4Q')
    kubectl(kube, 'wait', 'node/gpu-1', '--for=jsonpath={.metadata.labels.nvidia\\.com/vgpu\\.config\\.state}=failed',
            '--timeout=30s')


def test_vm_passthrough_advertises_the_sandbox_plugin_resource(kube):
    kubectl(kube, 'label', 'node', 'gpu-2', 'nvidia.com/gpu.workload.config=vm-passthrough')
    kubectl(kube, 'wait', 'node/gpu-2', '--for=jsonpath={.status.allocatable.nvidia\\.com/AD102GL_L40S}=1',
            '--timeout=30s')


VM = {'apiVersion': 'kubevirt.io/v1', 'kind': 'VirtualMachine', 'metadata': {'name': 'vgpu-vm', 'namespace': 'default'},
      'spec': {'runStrategy': 'Always', 'template': {'spec': {'domain': {'devices': {
          'hostDevices': [{'name': 'gpu0', 'deviceName': 'nvidia.com/GA102GL_A10'}]}}}}}}


def test_virt_api_webhook_refuses_host_devices_without_the_feature_gate(kube_factory):
    kube = kube_factory(nodes='gpu-1:a10:1', extra=['--feature-gates', 'GPU'])
    refused = kubectl(kube, 'create', '-f', '-', stdin=json.dumps(VM), check=False)
    assert refused.returncode != 0 and 'Host Devices feature gate is not enabled in kubevirt-config' in refused.stderr
    with pytest.raises(ApiError) as raw:
        kube.control._rest().create('/apis/kubevirt.io/v1/namespaces/default/virtualmachines', VM)  # pylint: disable=protected-access
    assert raw.value.status == 422
    assert 'admission webhook "virtualmachine-validator.kubevirt.io" denied the request' in str(raw.value)


def test_virt_controller_runs_a_permitted_vm_and_creates_its_vmi(kube):
    kubectl(kube, 'label', 'node', 'gpu-1', 'nvidia.com/gpu.workload.config=vm-passthrough')
    kubectl(kube, 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--type=merge', '-p', json.dumps(
        {'spec': {'configuration': {'permittedHostDevices': {'pciHostDevices': [
            {'pciVendorSelector': '10de:2236', 'resourceName': 'nvidia.com/GA102GL_A10', 'externalResourceProvider': True}]}}}}))
    kubectl(kube, 'create', '-f', '-', stdin=json.dumps(VM))
    kubectl(kube, 'wait', 'vm/vgpu-vm', '--for=condition=Ready', '--timeout=30s')
    vmi = get_json(kube, 'vmi', 'vgpu-vm')
    assert vmi['status']['phase'] == 'Running' and vmi['status']['nodeName'] == 'gpu-1'


def test_capv_webhook_makes_templates_immutable_and_checks_pci_devices(kube):
    template = {'apiVersion': 'infrastructure.cluster.x-k8s.io/v1beta1', 'kind': 'VSphereMachineTemplate',
                'metadata': {'name': 'gpu-md', 'namespace': 'default'},
                'spec': {'template': {'spec': {'template': 'ubuntu-2404', 'network': {'devices': []},
                                               'pciDevices': [{'vGPUProfile': 'grid_a100-40c'}]}}}}
    kubectl(kube, 'create', '-f', '-', stdin=json.dumps(template))
    changed = kubectl(kube, 'patch', 'vspheremachinetemplate', 'gpu-md', '--type=merge',
                      '-p', '{"spec":{"template":{"spec":{"numCPUs":8}}}}', check=False)
    assert changed.returncode != 0 and 'spec.template.spec field is immutable' in changed.stderr
    bad = dict(template, metadata={'name': 'bad', 'namespace': 'default'})
    bad['spec'] = {'template': {'spec': {'template': 'ubuntu-2404', 'network': {'devices': []},
                                         'pciDevices': [{'vGPUProfile': 'grid_a100-40c', 'deviceId': 8433}]}}}
    refused = kubectl(kube, 'create', '-f', '-', stdin=json.dumps(bad), check=False)
    assert refused.returncode != 0 and 'should have either deviceId + vendorId or vGPUProfile set' in refused.stderr


# -- hooks: request log, injected faults, reset ---------------------------------------------------------------------
def test_request_log_is_the_audit_log_of_the_kubeconfig_user(kube):
    kube.control.reset()
    kubectl(kube, 'get', 'node', 'gpu-1')
    kubectl(kube, 'label', 'node', 'gpu-1', 'example.com/x=y')
    writes = kube.control.writes()
    assert [(r['verb'], r['path']) for r in writes] == [('patch', '/api/v1/nodes/gpu-1')]
    assert all(r['user'] == 'gpuvirt-admin' for r in kube.control.requests())
    assert not kube.control.writes(user='nobody')


def test_injected_failure_and_concurrent_write(kube):
    kube.control.inject_failure('PATCH', '/api/v1/nodes/gpu-1', status=500, message='etcd is sad')
    failed = kubectl(kube, 'label', 'node', 'gpu-1', 'example.com/x=y', check=False)
    assert failed.returncode != 0 and 'etcd is sad' in failed.stderr
    kubectl(kube, 'label', 'node', 'gpu-1', 'example.com/x=y')  # once only
    node = get_json(kube, 'node', 'gpu-1')
    kube.control.inject_conflict('/api/v1/nodes/gpu-1')
    stale = dict(node, metadata=dict(node['metadata'], labels=dict(node['metadata']['labels'], **{'example.com/x': 'z'})))
    conflict = kubectl(kube, 'replace', '-f', '-', stdin=json.dumps(stale), check=False)
    assert conflict.returncode != 0 and 'the object has been modified' in conflict.stderr


def test_reset_cluster_restores_the_seeded_state(kube):
    kubectl(kube, 'label', 'node', 'gpu-1', 'nvidia.com/gpu.workload.config=vm-passthrough')
    kubectl(kube, 'create', 'namespace', 'scratch')
    kubectl(kube, 'create', 'configmap', 'x', '-n', 'scratch', '--from-literal=a=b')
    kubectl(kube, 'delete', 'crd', 'virtualmachines.kubevirt.io')
    kubectl(kube, 'annotate', 'crd', 'clusterpolicies.nvidia.com', '--overwrite', 'gpuvirt.test/chart-version=v25.3.4')
    kube.control.reset_cluster()
    crd = get_json(kube, 'crd', 'clusterpolicies.nvidia.com')
    assert crd['metadata']['annotations']['gpuvirt.test/chart-version'] == 'v25.10.1'  # another version is replaced
    node = get_json(kube, 'node', 'gpu-1')
    assert 'nvidia.com/gpu.workload.config' not in node['metadata']['labels']
    assert node['status']['allocatable']['nvidia.com/gpu'] == '2'
    assert kubectl(kube, 'get', 'namespace', 'scratch', check=False).returncode != 0
    assert get_json(kube, 'vm', '-A')['items'] == []


# -- KubeVirt's webhooks for the KubeVirt CR itself (virt-operator's kubevirt-update/create-validator) ------------
KV_UPDATE_WEBHOOK = 'admission webhook "kubevirt-update-validator.kubevirt.io" denied the request'
GATES_FIELD = 'spec.configuration.developerConfiguration.featureGates'


def test_kubevirt_update_webhook_refuses_a_gate_both_enabled_and_disabled(kube):
    """kubevirt-update-admitter.go validateFeatureGates: HostDevices (seeded in featureGates) also disabled."""
    before = get_json(kube, 'kubevirt', 'kubevirt', '-n', 'kubevirt')
    refused = kubectl(kube, 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--type=merge', '-p', json.dumps(
        {'spec': {'configuration': {'developerConfiguration': {'disabledFeatureGates': ['HostDevices']}}}}), check=False)
    # kubectl prints an Invalid status with causes as "The request is invalid: FIELD: MESSAGE" (checkErr)
    assert refused.returncode != 0, refused.stdout
    assert '%s: feature gate "HostDevices" exists on both "FeatureGates" and "DisabledFeatureGates"' % GATES_FIELD \
        in refused.stderr, refused.stderr
    # the API server's status names the webhook: kubectl's response body (-v=8) and any client show it
    verbose = kubectl(kube, '-v=8', 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--type=merge', '-p', json.dumps(
        {'spec': {'configuration': {'developerConfiguration': {'disabledFeatureGates': ['HostDevices']}}}}), check=False)
    assert verbose.returncode != 0 and json.dumps(KV_UPDATE_WEBHOOK)[1:-1] in verbose.stderr, verbose.stderr  # body, JSON-quoted
    with pytest.raises(ApiError) as raw:
        kube.control._rest().request('PATCH', KV_PATH, {'spec': {'configuration': {'developerConfiguration': {  # pylint: disable=protected-access
            'featureGates': ['HostDevices', 'GPU'], 'disabledFeatureGates': ['GPU', 'HostDevices']}}}},
            content_type='application/merge-patch+json')
    assert raw.value.status == 422
    assert KV_UPDATE_WEBHOOK in str(raw.value) and '"GPU" exists on both' in str(raw.value), str(raw.value)
    after = get_json(kube, 'kubevirt', 'kubevirt', '-n', 'kubevirt')
    assert after['metadata']['resourceVersion'] == before['metadata']['resourceVersion']
    # moving the gate from one list to the other is allowed
    kubectl(kube, 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--type=merge', '-p', json.dumps(
        {'spec': {'configuration': {'developerConfiguration': {'featureGates': [], 'disabledFeatureGates': ['HostDevices']}}}}))


def test_kubevirt_update_webhook_warns_about_deprecated_gates_and_mdev_fields(kube):
    """warnDeprecatedFeatureGates (featuregate registry of v1.9.0) and the mediatedDevicesTypes warnings: kubectl
    prints them as "Warning: ..." and the update is stored."""
    added = kubectl(kube, 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--type=json', '-p', json.dumps(
        [{'op': 'add', 'path': '/spec/configuration/developerConfiguration/featureGates/-',
          'value': 'DisableMDEVConfiguration'}]))
    assert 'Warning: DisableMDEVConfiguration has been deprecated since v1.8.0' in added.stderr, added.stderr
    assert 'patched' in added.stdout
    gates = get_json(kube, 'kubevirt', 'kubevirt', '-n', 'kubevirt')['spec']['configuration']['developerConfiguration']
    assert gates['featureGates'] == ['HostDevices', 'DisableMDEVConfiguration']
    ga = kubectl(kube, 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--type=json', '-p', json.dumps(
        [{'op': 'add', 'path': '/spec/configuration/developerConfiguration/featureGates/-', 'value': 'GPU'}]))
    assert 'Warning: feature gate GPU is deprecated (feature state is "General Availability")' in ga.stderr, ga.stderr
    # the gate lists unchanged: no gate warning; the deprecated mediatedDevicesTypes list warns on every update
    mdev = kubectl(kube, 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--type=merge', '-p', json.dumps(
        {'spec': {'configuration': {'mediatedDevicesConfiguration': {
            'mediatedDevicesTypes': ['nvidia-558'],
            'nodeMediatedDeviceTypes': [{'nodeSelector': {'kubernetes.io/hostname': 'gpu-1'}, 'mediatedDeviceTypes': ['nvidia-558']},
                                        {'nodeSelector': {'kubernetes.io/hostname': 'gpu-2'}, 'mediatedDevicesTypes': ['nvidia-1']}]}}}}))
    assert 'deprecated since' not in mdev.stderr and 'General Availability' not in mdev.stderr, mdev.stderr
    assert ('Warning: spec.configuration.mediatedDevicesConfiguration.mediatedDevicesTypes is deprecated, '
            'use mediatedDeviceTypes') in mdev.stderr, mdev.stderr
    assert ('Warning: spec.configuration.mediatedDevicesConfiguration.nodeMediatedDeviceTypes[1].mediatedDevicesTypes '
            'is deprecated') in mdev.stderr and 'nodeMediatedDeviceTypes[0]' not in mdev.stderr, mdev.stderr
    # Alpha gates (HostDevices) give no warning
    alpha = kubectl(kube, 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--type=merge', '-p', json.dumps(
        {'spec': {'configuration': {'mediatedDevicesConfiguration': None,
                                    'developerConfiguration': {'featureGates': ['HostDevices', 'VGPULiveMigration']}}}}))
    assert 'Warning' not in alpha.stderr, alpha.stderr


def test_kubevirt_create_webhook_refuses_a_second_kubevirt(kube):
    """kubevirt-create-admitter.go: one KubeVirt CR per cluster."""
    second = {'apiVersion': 'kubevirt.io/v1', 'kind': 'KubeVirt', 'metadata': {'name': 'another', 'namespace': 'default'},
              'spec': {}}
    refused = kubectl(kube, 'create', '-f', '-', stdin=json.dumps(second), check=False)
    assert refused.returncode != 0
    assert 'admission webhook "kubevirt-create-validator.kubevirt.io" denied the request: Kubevirt is already created' \
        in refused.stderr, refused.stderr
    assert [k['metadata']['name'] for k in get_json(kube, 'kubevirt', '-A')['items']] == ['kubevirt']
