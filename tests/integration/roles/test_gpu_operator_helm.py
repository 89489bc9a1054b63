"""Real helm v3 and the stand-in gpu-operator charts on the Kubernetes test world, driven the way kubernetes.core
drives helm: what the gpu_operator role relies on (version and list output, releases and their values, values
schemas, CRDs kept on upgrade and uninstall, seed 004's stale CRD, ownership of an existing ClusterPolicy, a private
repository with basic auth, an air-gapped chart archive). Charts v25.3.4 and v25.10.1 only: their ClusterPolicy CRDs
are the ones the world can generate."""
import json

import pytest
import yaml

from tests.integration.roles.gpu_operator_lab import CRD_PATH, POLICY_PATH, Lab

PASSWORD = 'repo-pass-5c1e07'


@pytest.fixture(scope='module')
def module_lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp('helm'), PASSWORD)
    yield lab
    lab.close()


@pytest.fixture
def helm(module_lab, tmp_path):
    """Real helm in namespace gpu-operator of a world with no release and the chart's (v25.10) CRD; afterwards no
    release is left."""
    module_lab.reset()
    module_lab.tmp = tmp_path
    yield module_lab
    if any(r['name'] == 'gpu-operator' for r in module_lab.releases()):
        module_lab.helm('uninstall', 'gpu-operator')


def _values(lab, values):
    path = lab.tmp / 'values.yml'
    path.write_text(yaml.safe_dump(values))
    return str(path)


def _archive(lab, version):
    return str(lab.archives / ('gpu-operator-%s.tgz' % version))


def test_version_plugins_and_empty_list_as_kubernetes_core_parses_them(helm):
    assert helm.helm('version', '--short').stdout.strip() == 'v3.21.4'
    assert helm.helm('plugin', 'list').stdout.split('\n')[0].split() == ['NAME', 'VERSION', 'DESCRIPTION']
    assert yaml.safe_load(helm.helm('list', '--output=yaml', '--filter', 'gpu-operator').stdout) == []
    proc = helm.helm('get', 'values', '--output=yaml', 'gpu-operator', check=False)
    assert proc.returncode == 1 and proc.stderr == 'Error: release: not found\n'


def test_install_records_release_values_and_creates_the_cluster_policy(helm):
    values = _values(helm, {'sandboxWorkloads': {'enabled': True, 'defaultWorkload': 'vm-vgpu'}})
    proc = helm.helm('upgrade', '-i', '--reset-values', '--wait', '--timeout', '5m', '-f=%s' % values, 'gpu-operator',
                     _archive(helm, 'v25.10.1'))
    assert 'Release "gpu-operator" does not exist. Installing it now.' in proc.stdout
    listed = yaml.safe_load(helm.helm('list', '--output=yaml', '--filter', 'gpu-operator').stdout)
    assert [(r['name'], r['chart'], r['app_version'], r['status'], r['revision']) for r in listed] == \
        [('gpu-operator', 'gpu-operator-v25.10.1', 'v25.10.1', 'deployed', '1')]
    assert yaml.safe_load(helm.helm('get', 'values', '--output=yaml', 'gpu-operator').stdout) == \
        {'sandboxWorkloads': {'enabled': True, 'defaultWorkload': 'vm-vgpu'}}
    policy = helm.api.get(POLICY_PATH)
    assert policy['spec']['sandboxWorkloads'] == {'enabled': True, 'defaultWorkload': 'vm-vgpu'}
    assert policy['metadata']['annotations']['meta.helm.sh/release-name'] == 'gpu-operator'
    assert policy['metadata']['labels']['app.kubernetes.io/managed-by'] == 'Helm'
    # the release is stored in the cluster, as Secrets of the release's namespace
    secrets = helm.api.get('/api/v1/namespaces/gpu-operator/secrets', labelSelector='owner=helm,name=gpu-operator')
    assert [s['type'] for s in secrets['items']] == ['helm.sh/release.v1']
    # the same values again: an upgrade to revision 2 (helm itself is not idempotent; kubernetes.core decides)
    proc = helm.helm('upgrade', '-i', '--reset-values', '-f=%s' % values, 'gpu-operator', _archive(helm, 'v25.10.1'))
    assert 'has been upgraded' in proc.stdout
    history = json.loads(helm.helm('history', 'gpu-operator', '-o', 'json').stdout)
    assert [(h['revision'], h['status']) for h in history] == [(1, 'superseded'), (2, 'deployed')]


def test_values_schema_refuses_unknown_keys_types_and_keys_of_later_charts(helm):
    bad = _values(helm, {'sandboxWorkload': {'enabled': True}, 'vgpuManager': {'enabled': 'yes'}})
    proc = helm.helm('upgrade', '-i', '-f=%s' % bad, 'gpu-operator', _archive(helm, 'v25.10.1'), check=False)
    assert proc.returncode == 1
    assert "values don't meet the specifications of the schema(s) in the following chart(s):" in proc.stderr
    assert "- at '': additional properties 'sandboxWorkload' not allowed" in proc.stderr
    assert "- at '/vgpuManager/enabled': got string, want boolean" in proc.stderr
    # sandboxWorkloads.mode came in v26.3.0 (the role's old defect)
    mode = _values(helm, {'sandboxWorkloads': {'enabled': True, 'mode': 'kubevirt'}})
    proc = helm.helm('upgrade', '-i', '-f=%s' % mode, 'gpu-operator', _archive(helm, 'v25.10.1'), check=False)
    assert "- at '/sandboxWorkloads': additional properties 'mode' not allowed" in proc.stderr
    # driver.licensingConfig.secretName came in v25.10.0; v25.3.4 only knows configMapName
    old = _values(helm, {'driver': {'licensingConfig': {'secretName': 'licensing-config'}}})
    proc = helm.helm('upgrade', '-i', '-f=%s' % old, 'gpu-operator', _archive(helm, 'v25.3.4'), check=False)
    assert "- at '/driver/licensingConfig': additional properties 'secretName' not allowed" in proc.stderr
    assert helm.releases() == []
    assert helm.api.get(POLICY_PATH) is None


def test_stale_crd_is_kept_and_prunes_fields_seed_004(helm):
    """Real helm does not fail on an older ClusterPolicy CRD (the helm double did): it keeps it, and the API server
    drops what its schema lacks, with a warning only. Hence the role's schema check before installing."""
    helm.install_stale_crd()
    values = _values(helm, {'driver': {'licensingConfig': {'secretName': 'licensing-config', 'nlsEnabled': True}}})
    proc = helm.helm('upgrade', '-i', '-f=%s' % values, 'gpu-operator', _archive(helm, 'v25.10.1'))
    assert 'Warning: unknown field \\"spec.driver.licensingConfig.secretName\\"' in proc.stderr
    assert helm.releases()[0]['status'] == 'deployed'
    assert helm.api.get(POLICY_PATH)['spec']['driver']['licensingConfig'] == {'nlsEnabled': True}
    assert helm.api.get(CRD_PATH)['metadata']['annotations']['gpuvirt.test/chart-version'] == 'v25.3.4'
    # an upgrade never touches crds/ (the stand-in has no upgradeCRD hook Job)
    helm.helm('upgrade', '-i', '-f=%s' % values, 'gpu-operator', _archive(helm, 'v25.10.1'))
    assert not helm.crd_fields('driver', 'licensingConfig', 'secretName')
    # deleting the CRD (the seed's remedy) lets the chart install its own
    helm.helm('uninstall', 'gpu-operator')
    helm.delete_crd()
    proc = helm.helm('upgrade', '-i', '-f=%s' % values, 'gpu-operator', _archive(helm, 'v25.10.1'))
    assert 'unknown field' not in proc.stderr
    assert helm.api.get(CRD_PATH)['metadata']['annotations']['gpuvirt.test/chart-version'] == 'v25.10.1'
    assert helm.api.get(POLICY_PATH)['spec']['driver']['licensingConfig']['secretName'] == 'licensing-config'


def test_existing_policy_not_owned_by_the_release_blocks_install(helm):
    rendered = yaml.safe_load(helm.helm('template', 'gpu-operator', _archive(helm, 'v25.10.1')).stdout)
    helm.api.create('/apis/nvidia.com/v1/clusterpolicies', rendered)
    try:
        proc = helm.helm('upgrade', '-i', 'gpu-operator', _archive(helm, 'v25.10.1'), check=False)
        assert proc.returncode == 1
        assert ('ClusterPolicy "cluster-policy" in namespace "" exists and cannot be imported into the current release: '
                'invalid ownership metadata; annotation validation error: missing key "meta.helm.sh/release-name": '
                'must be set to "gpu-operator"' in proc.stderr)
    finally:
        helm.api.delete(POLICY_PATH)


def test_uninstall_deletes_the_policy_but_keeps_the_crd(helm):
    helm.helm('upgrade', '-i', 'gpu-operator', _archive(helm, 'v25.10.1'))
    assert helm.helm('uninstall', 'gpu-operator').stdout.strip() == 'release "gpu-operator" uninstalled'
    assert helm.api.get(POLICY_PATH) is None
    assert helm.api.get(CRD_PATH) is not None
    proc = helm.helm('uninstall', 'gpu-operator', check=False)
    assert proc.stderr == 'Error: uninstall: Release not loaded: gpu-operator: release: not found\n'


def test_private_repository_needs_credentials_and_archives_install_offline(helm):
    env = {'HELM_REPOSITORY_CONFIG': str(helm.tmp / 'repositories.yaml'), 'HELM_REPOSITORY_CACHE': str(helm.tmp / 'cache')}
    proc = helm.helm('repo', 'add', 'nvaie', helm.repo_url, check=False, env=env)
    assert proc.stderr == ('Error: looks like "%s" is not a valid chart repository or cannot be reached: failed to fetch '
                           '%s/index.yaml : 401 Unauthorized\n' % (helm.repo_url, helm.repo_url))
    helm.helm('repo', 'add', 'nvaie', helm.repo_url, '--username', '$oauthtoken', '--password', PASSWORD, env=env)
    found = json.loads(helm.helm('search', 'repo', 'nvaie/gpu-operator', '--versions', '-o', 'json', env=env).stdout)
    assert sorted(c['version'] for c in found) == ['v25.10.1', 'v25.3.4']
    proc = helm.helm('--version=v9.9.9', 'show', 'chart', 'nvaie/gpu-operator', check=False, env=env)
    assert 'chart "gpu-operator" matching v9.9.9 not found in nvaie index' in proc.stderr
    helm.helm('upgrade', '-i', 'gpu-operator', 'nvaie/gpu-operator', '--version', 'v25.3.4', env=env)
    assert helm.releases()[0]['chart'] == 'gpu-operator-v25.3.4'
    requests = helm.repo_requests()
    assert {'method': 'GET', 'path': '/gpu-operator-v25.3.4.tgz', 'status': 200, 'authorized': True} in requests
    helm.helm('uninstall', 'gpu-operator')
    # air-gapped: a chart archive on disk, no repository at all
    count = len(helm.repo_requests())
    archive = _archive(helm, 'v25.3.4')
    assert yaml.safe_load(helm.helm('show', 'chart', archive).stdout)['version'] == 'v25.3.4'
    helm.helm('upgrade', '-i', 'gpu-operator', archive)
    assert helm.releases()[0]['chart'] == 'gpu-operator-v25.3.4'
    assert len(helm.repo_requests()) == count
