"""gpu_operator against the Kubernetes emulator and the helm double: secrets never reach the output or helm's
command line (design.md conventions), a private NGC chart repository works through repositories.yaml, a second
run changes nothing, and state=absent removes the release and the CRD helm would leave behind (seed 004)."""
import json
import os
import stat
import subprocess
import sys

import pytest

from tests.emulators.helm import HelmDouble
from tests.emulators.helm.kube import Client
from tests.integration.kube.conftest import start_emulator, stop_emulator

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
NGC_KEY = 'NGC-KEY-3d9f1b-never-print-me'
LICENSE_TOKEN = 'NLS-TOKEN-a81c2e-never-print-me'
REGISTRY_PASSWORD = 'REGISTRY-PASS-77e0d4-never-print-me'
SECRETS = (NGC_KEY, LICENSE_TOKEN, REGISTRY_PASSWORD)
PRIVATE_REPO = 'https://helm.ngc.nvidia.com/nvaie'

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: gpuvirt.core.gpu_operator
      gpu_operator_state: %(state)s
      gpu_operator_kubeconfig: %(kubeconfig)s
      gpu_operator_chart_repo_url: %(repo)s
      gpu_operator_chart_repo_name: nvaie
      gpu_operator_chart_repo_username: "$oauthtoken"
      gpu_operator_chart_repo_password: %(ngc)s
      gpu_operator_helm_home: %(helm_home)s
      gpu_operator_ngc_api_key: %(ngc)s
      gpu_operator_registry_secrets:
        - {name: vgpu-registry, server: registry.example.internal, username: robot, password: %(registry)s}
      gpu_operator_vgpu_manager: true
      gpu_operator_vgpu_manager_repository: registry.example.internal/nvidia
      gpu_operator_vgpu_manager_version: "550.90.05"
      gpu_operator_license_token_file: %(token_file)s
      gpu_operator_nodes:
        - {nodes: [gpu-1], workload: vm-vgpu, vgpu_config: A10-8Q}
      gpu_operator_kubevirt: true
      gpu_operator_wait_delay: 1
"""


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    work = tmp_path_factory.mktemp('gpuop')
    emulator = start_emulator(work, nodes='gpu-1:a10:2,cpu-1', extra=['--no-cluster-policy', '--delay', '0.2'])
    double = HelmDouble(str(work / 'helm'))
    double.publish(PRIVATE_REPO, username='$oauthtoken', password=NGC_KEY)
    (work / 'client_configuration_token.tok').write_text(LICENSE_TOKEN + '\n')
    yield {'work': work, 'kubeconfig': emulator.kubeconfig, 'double': double}
    stop_emulator(emulator)


def _play(lab, state='present'):
    work = lab['work']
    playbook = work / ('gpu-operator-%s.yml' % state)
    playbook.write_text(PLAYBOOK % {'state': state, 'kubeconfig': lab['kubeconfig'], 'repo': PRIVATE_REPO, 'ngc': NGC_KEY,
                                    'helm_home': work / 'helm-home', 'registry': REGISTRY_PASSWORD,
                                    'token_file': work / 'client_configuration_token.tok'})
    env = lab['double'].env(dict(os.environ, ANSIBLE_NOCOWS='1', ANSIBLE_FORCE_COLOR='0'))
    return subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook), '-vvv', '--diff'],
                          cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False, env=env)


def test_install_private_repo_secrets_never_printed_then_idempotent_then_absent(lab):
    client = Client.from_environment(lab['kubeconfig'])
    first = _play(lab)
    assert first.returncode == 0, first.stdout[-6000:]
    for secret in SECRETS:
        assert secret not in first.stdout
    # helm got the repository credentials from the role's repositories.yaml, never from its command line
    calls = lab['double'].calls()
    assert any('repo' in c['argv'] and 'update' in c['argv'] for c in calls)
    assert any('upgrade' in c['argv'] and 'nvaie/gpu-operator' in ' '.join(c['argv']) for c in calls)
    for secret in SECRETS:
        assert secret not in json.dumps(calls)
    repositories = lab['work'] / 'helm-home' / 'repositories.yaml'
    assert stat.S_IMODE(os.stat(str(repositories)).st_mode) == 0o600
    # the objects the runbooks create by hand
    ngc = client.get('/api/v1/namespaces/gpu-operator/secrets/ngc-secret')
    assert ngc['type'] == 'kubernetes.io/dockerconfigjson'
    licensing = client.get('/api/v1/namespaces/gpu-operator/secrets/licensing-config')
    assert 'client_configuration_token.tok' in licensing['data']
    policy = client.get('/apis/nvidia.com/v1/clusterpolicies/cluster-policy')
    assert policy['status']['state'] == 'ready'
    assert policy['spec']['vgpuManager']['imagePullSecrets'] == ['ngc-secret', 'vgpu-registry']
    assert policy['spec']['driver']['licensingConfig'] == {'secretName': 'licensing-config', 'configMapName': '', 'nlsEnabled': True}
    node = client.get('/api/v1/nodes/gpu-1')
    assert node['status']['allocatable']['nvidia.com/NVIDIA_A10-8Q'] == '6'
    kubevirt = client.get('/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt')
    mediated = kubevirt['spec']['configuration']['permittedHostDevices']['mediatedDevices']
    assert {'mdevNameSelector': 'NVIDIA A10-8Q', 'resourceName': 'nvidia.com/NVIDIA_A10-8Q', 'externalResourceProvider': True} in mediated

    second = _play(lab)
    assert second.returncode == 0, second.stdout[-6000:]
    assert 'changed=0' in second.stdout
    for secret in SECRETS:
        assert secret not in second.stdout

    gone = _play(lab, 'absent')
    assert gone.returncode == 0, gone.stdout[-6000:]
    assert client.get('/apis/nvidia.com/v1/clusterpolicies/cluster-policy') is None
    assert client.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusterpolicies.nvidia.com') is None
    assert all(revisions[-1]['status'] == 'uninstalled' or not revisions for revisions in lab['double'].releases().values())
