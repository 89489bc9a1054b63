"""gpu_operator on the Kubernetes test world with real helm and the stand-in gpu-operator charts
(gpu_operator_lab.py): a private chart repository with basic auth through the role's repositories.yaml, secrets
never in the output or on helm's command line (design.md conventions), install, upgrade, a second run that changes
nothing, check mode that writes nothing (the API server's audit log), an air-gapped chart archive, state=absent
removing the release and the CRD helm leaves behind, and the stale CRD of seed 004."""
import os
import stat

import pytest

from tests.integration.roles.gpu_operator_lab import CRD_PATH, POLICY_PATH, Lab

NGC_KEY = 'NGC-KEY-3d9f1b-never-print-me'
LICENSE_TOKEN = 'NLS-TOKEN-a81c2e-never-print-me'
REGISTRY_PASSWORD = 'REGISTRY-PASS-77e0d4-never-print-me'
SECRETS = (NGC_KEY, LICENSE_TOKEN, REGISTRY_PASSWORD)

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: gpuvirt.core.gpu_operator
      gpu_operator_state: %(state)s
      gpu_operator_kubeconfig: %(kubeconfig)s
      gpu_operator_chart_version: %(version)s
      gpu_operator_chart_repo_url: %(repo)s
      gpu_operator_chart_repo_name: nvaie
      gpu_operator_chart_repo_username: "$oauthtoken"
      gpu_operator_chart_repo_password: %(ngc)s
      gpu_operator_chart_archive: "%(archive)s"
      gpu_operator_helm_home: %(helm_home)s
      gpu_operator_ngc_api_key: %(ngc)s
      gpu_operator_registry_secrets:
        - {name: vgpu-registry, server: registry.example.internal, username: robot, password: %(registry)s}
      gpu_operator_vgpu_manager: true
      gpu_operator_vgpu_manager_repository: registry.example.internal/nvidia
      gpu_operator_vgpu_manager_version: "%(vgpu_version)s"
      gpu_operator_license_token_file: %(token_file)s
      gpu_operator_nodes:
        - {nodes: [gpu-1], workload: vm-vgpu, vgpu_config: A10-8Q}
      gpu_operator_kubevirt: true
      gpu_operator_wait_delay: 1
"""


@pytest.fixture(scope='module')
def module_lab(tmp_path_factory):
    work = tmp_path_factory.mktemp('gpuop')
    lab = Lab(work, NGC_KEY)
    (work / 'client_configuration_token.tok').write_text(LICENSE_TOKEN + '\n')
    yield lab
    lab.close()


@pytest.fixture
def lab(module_lab):
    """The module's lab with no release, the chart's CRD and the seeded cluster."""
    module_lab.reset()
    return module_lab


def _play(lab, state='present', version='v25.10.1', check=False, archive='', vgpu_version='550.90.05', **extra):
    text = PLAYBOOK % {'state': state, 'kubeconfig': lab.kubeconfig, 'version': version, 'repo': lab.repo_url,
                       'ngc': NGC_KEY, 'archive': archive, 'helm_home': lab.work / 'helm-home',
                       'registry': REGISTRY_PASSWORD, 'vgpu_version': vgpu_version,
                       'token_file': lab.work / 'client_configuration_token.tok'}
    args = []
    for key, value in extra.items():
        args += ['-e', '%s=%s' % (key, value)]
    proc = lab.play(text, check=check, extra_args=args)
    for secret in SECRETS:
        assert secret not in proc.stdout, 'a secret reached the output'
    return proc


def _ok(proc):
    assert proc.returncode == 0, proc.stdout[-8000:]
    return proc


def _release(lab):
    found = [r for r in lab.releases() if r['name'] == 'gpu-operator']
    return found[0] if found else None


def test_check_mode_on_a_fresh_cluster_with_a_stale_crd_writes_nothing(lab):
    lab.install_stale_crd()
    lab.control.reset()
    proc = _ok(_play(lab, check=True))
    assert 'changed=0' not in proc.stdout
    assert lab.control.writes() == []
    assert _release(lab) is None
    assert not lab.crd_fields('driver', 'licensingConfig', 'secretName')   # still the stale CRD
    assert lab.api.get(POLICY_PATH) is None


def test_install_upgrade_idempotence_check_mode_and_absent_with_a_private_repository(lab):
    api = lab.api
    calls_before = len(lab.helm_calls())
    # v25.3.4: the licence goes to a ConfigMap (driver.licensingConfig.configMapName)
    _ok(_play(lab, version='v25.3.4'))
    release = _release(lab)
    assert (release['chart'], release['revision'], release['status']) == ('gpu-operator-v25.3.4', '1', 'deployed')
    policy = api.get(POLICY_PATH)
    assert policy['spec']['driver']['licensingConfig'] == {'configMapName': 'licensing-config', 'nlsEnabled': True}
    assert 'data' in api.get('/api/v1/namespaces/gpu-operator/configmaps/licensing-config')
    assert policy['metadata']['annotations']['meta.helm.sh/release-name'] == 'gpu-operator'

    # upgrade to v25.10.1: a Secret (driver.licensingConfig.secretName), revision 2
    first = _ok(_play(lab))
    assert 'changed=0' not in first.stdout
    release = _release(lab)
    assert (release['chart'], release['revision'], release['status']) == ('gpu-operator-v25.10.1', '2', 'deployed')
    ngc = api.get('/api/v1/namespaces/gpu-operator/secrets/ngc-secret')
    assert ngc['type'] == 'kubernetes.io/dockerconfigjson'
    licensing = api.get('/api/v1/namespaces/gpu-operator/secrets/licensing-config')
    assert 'client_configuration_token.tok' in licensing['data']
    policy = api.get(POLICY_PATH)
    assert policy['status']['state'] == 'ready'
    ready = [c for c in policy['status']['conditions'] if c['type'] == 'Ready'][0]
    assert ready['observedGeneration'] == policy['metadata']['generation']
    spec = policy['spec']
    assert spec['vgpuManager']['imagePullSecrets'] == ['ngc-secret', 'vgpu-registry']
    assert spec['vgpuManager']['version'] == '550.90.05'
    assert spec['driver']['licensingConfig'] == {'secretName': 'licensing-config', 'nlsEnabled': True}
    assert spec['sandboxWorkloads'] == {'enabled': True, 'defaultWorkload': 'container'}   # no mode before v26.3.0
    node = api.get('/api/v1/nodes/gpu-1')
    assert node['status']['allocatable']['nvidia.com/NVIDIA_A10-8Q'] == '6'
    kubevirt = api.get('/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt')
    mediated = kubevirt['spec']['configuration']['permittedHostDevices']['mediatedDevices']
    assert {'mdevNameSelector': 'NVIDIA A10-8Q', 'resourceName': 'nvidia.com/NVIDIA_A10-8Q',
            'externalResourceProvider': True} in mediated

    # helm read the repository with the role's repositories.yaml (0600); no credential on its command line
    calls = lab.helm_calls()[calls_before:]
    assert ['repo', 'update'] in [c[:2] for c in calls]
    assert any('upgrade' in c and 'nvaie/gpu-operator' in c for c in calls)
    for call in calls:
        for secret in SECRETS:
            assert not any(secret in arg for arg in call), call
        assert not any(arg.startswith(('--username', '--password', '--pass-credentials')) for arg in call), call
    repositories = lab.work / 'helm-home' / 'repositories.yaml'
    assert stat.S_IMODE(os.stat(str(repositories)).st_mode) == 0o600
    requests = lab.repo_requests()
    assert {'method': 'GET', 'path': '/index.yaml', 'status': 200, 'authorized': True} in requests
    assert {'method': 'GET', 'path': '/gpu-operator-v25.10.1.tgz', 'status': 200, 'authorized': True} in requests

    second = _ok(_play(lab))
    assert 'changed=0' in second.stdout
    assert _release(lab)['revision'] == '2'

    # check mode with a change: reported, nothing written (the API server's audit log), same revision
    lab.control.reset()
    check = _ok(_play(lab, check=True, vgpu_version='550.127.06'))
    assert 'changed=0' not in check.stdout
    assert lab.control.writes() == []
    assert _release(lab)['revision'] == '2'
    assert api.get(POLICY_PATH)['spec']['vgpuManager']['version'] == '550.90.05'

    gone = _ok(_play(lab, 'absent'))
    assert 'changed=0' not in gone.stdout
    assert api.get(POLICY_PATH) is None
    assert api.get(CRD_PATH) is None
    assert _release(lab) is None
    again = _ok(_play(lab, 'absent'))
    assert 'changed=0' in again.stdout


def test_stale_crd_of_an_older_install_is_found_by_its_schema_seed_004(lab):
    lab.install_stale_crd()
    lab.control.reset()
    refused = _play(lab, gpu_operator_recover_stale_crd='false')
    assert refused.returncode != 0
    assert 'it lacks spec.driver.licensingConfig.secretName, which the API server would silently drop' in refused.stdout
    assert not [w for w in lab.control.writes() if w['resource'] == 'customresourcedefinitions']
    assert _release(lab) is None and lab.api.get(POLICY_PATH) is None

    _ok(_play(lab))
    crd = lab.api.get(CRD_PATH)
    assert crd['metadata']['annotations']['gpuvirt.test/chart-version'] == 'v25.10.1'   # the chart's crds/
    assert lab.api.get(POLICY_PATH)['spec']['driver']['licensingConfig']['secretName'] == 'licensing-config'
    assert _release(lab)['status'] == 'deployed'


def test_air_gapped_chart_archive_needs_no_repository(lab):
    requests_before = len(lab.repo_requests())
    calls_before = len(lab.helm_calls())
    archive = str(lab.archives / 'gpu-operator-v25.10.1.tgz')
    _ok(_play(lab, archive=archive))
    release = _release(lab)
    assert (release['chart'], release['status']) == ('gpu-operator-v25.10.1', 'deployed')
    assert lab.api.get(POLICY_PATH)['status']['state'] == 'ready'
    second = _ok(_play(lab, archive=archive))
    assert 'changed=0' in second.stdout
    assert len(lab.repo_requests()) == requests_before
    calls = lab.helm_calls()[calls_before:]
    assert any('upgrade' in c and archive in c for c in calls)
    assert not [c for c in calls if c[:1] == ['repo'] or any(a.startswith('--repo') for a in c)]
