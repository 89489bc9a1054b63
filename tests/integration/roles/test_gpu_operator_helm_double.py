"""The helm test double against the Kubernetes emulator, driven the way kubernetes.core drives helm.

Each behaviour is one helm does (reference: test-infrastructure.md "Helm"; seed 004 for the stale CRD;
NVIDIA's upgrade guide for ``operator.upgradeCRD``): the double must fail where helm fails, or the role's
tests prove nothing.
"""
import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.emulators.helm import HelmDouble, NVIDIA_REPO_URL
from tests.emulators.helm.__main__ import install_stale_crd
from tests.emulators.helm.kube import Client
from tests.integration.kube.conftest import start_emulator, stop_emulator

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    """A kube emulator without a ClusterPolicy (the chart creates it), stopped afterwards."""
    emulator = start_emulator(tmp_path_factory.mktemp('helmdouble'), nodes='gpu-1:a10:1', extra=['--no-cluster-policy', '--delay', '0.2'])
    yield {'kubeconfig': emulator.kubeconfig, 'port': emulator.port}
    stop_emulator(emulator)


@pytest.fixture
def helm(cluster, tmp_path):
    double = HelmDouble(str(tmp_path / 'state'))
    env = double.env()
    env.update(KUBECONFIG=cluster['kubeconfig'], HELM_NAMESPACE='gpu-operator')
    client = Client.from_environment(cluster['kubeconfig'])

    def run(command, check=True):
        proc = subprocess.run('helm ' + command, shell=True, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, check=False)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc
    run.double = double
    run.client = client
    run.tmp = tmp_path
    yield run
    # leave the cluster as the next test expects it: no release objects, the current CRD
    for release in double.releases():
        name = release.rsplit('/', 1)[1]
        run('uninstall %s' % name, check=False)
    if client.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusterpolicies.nvidia.com') is None:
        from tests.emulators.helm import charts
        client.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', charts.crd('v25.10.1'))


def _values(tmp_path, values):
    path = tmp_path / 'values.yml'
    path.write_text(yaml.safe_dump(values))
    return str(path)


def test_version_plugins_and_empty_list_match_what_kubernetes_core_parses(helm):
    assert helm('version').stdout.startswith('version.BuildInfo{Version:"v3.17.3",')
    assert helm('plugin list').stdout.split('\n')[0] == 'NAME\tVERSION\tDESCRIPTION'
    assert yaml.safe_load(helm('list --output=yaml --filter gpu-operator').stdout) == []
    proc = helm('get values --output=yaml gpu-operator', check=False)
    assert proc.returncode == 1 and proc.stderr == 'Error: release: not found\n'


def test_install_records_release_values_and_creates_cluster_policy(helm):
    values = _values(helm.tmp, {'sandboxWorkloads': {'enabled': True, 'defaultWorkload': 'vm-vgpu'}})
    proc = helm("--version=v25.10.1 --repo=%s upgrade -i --reset-values --wait --timeout 5m -f=%s gpu-operator 'gpu-operator'"
                % (NVIDIA_REPO_URL, values))
    assert 'Release "gpu-operator" does not exist. Installing it now.' in proc.stdout
    listed = yaml.safe_load(helm('list --output=yaml --filter gpu-operator').stdout)
    assert [(r['name'], r['chart'], r['app_version'], r['status'], r['revision']) for r in listed] == \
        [('gpu-operator', 'gpu-operator-v25.10.1', 'v25.10.1', 'deployed', '1')]
    assert yaml.safe_load(helm('get values --output=yaml gpu-operator').stdout) == \
        {'sandboxWorkloads': {'enabled': True, 'defaultWorkload': 'vm-vgpu'}}
    policy = helm.client.get('/apis/nvidia.com/v1/clusterpolicies/cluster-policy')
    assert policy['spec']['sandboxWorkloads'] == {'enabled': True, 'defaultWorkload': 'vm-vgpu', 'mode': 'kubevirt'}
    assert policy['metadata']['annotations']['meta.helm.sh/release-name'] == 'gpu-operator'
    # the same values again: an upgrade to revision 2 (helm itself is not idempotent; kubernetes.core decides)
    proc = helm("--version=v25.10.1 --repo=%s upgrade -i --reset-values -f=%s gpu-operator 'gpu-operator'" % (NVIDIA_REPO_URL, values))
    assert 'has been upgraded' in proc.stdout
    statuses = [r['status'] for r in list(helm.double.releases().values())[0]]
    assert statuses == ['superseded', 'deployed']


def test_values_schema_refuses_unknown_keys_types_and_old_chart_keys(helm):
    bad = _values(helm.tmp, {'sandboxWorkload': {'enabled': True}, 'vgpuManager': {'enabled': 'yes'},
                             'sandboxWorkloads': {'defaultWorkload': 'vm'}})
    proc = helm("--version=v25.10.1 --repo=%s upgrade -i -f=%s gpu-operator gpu-operator" % (NVIDIA_REPO_URL, bad), check=False)
    assert proc.returncode == 1
    assert "values don't meet the specifications of the schema(s)" in proc.stderr
    assert '- (root): Additional property sandboxWorkload is not allowed' in proc.stderr
    assert '- vgpuManager.enabled: Invalid type. Expected: boolean, given: string' in proc.stderr
    assert 'sandboxWorkloads.defaultWorkload must be one of the following: "container", "vm-passthrough", "vm-vgpu"' in proc.stderr
    # secretName arrived in v25.10.0; v25.3.4 only knows configMapName
    old = _values(helm.tmp, {'driver': {'licensingConfig': {'secretName': 'licensing-config'}}})
    proc = helm("--version=v25.3.4 --repo=%s upgrade -i -f=%s gpu-operator gpu-operator" % (NVIDIA_REPO_URL, old), check=False)
    assert '- driver.licensingConfig: Additional property secretName is not allowed' in proc.stderr
    assert helm.double.releases() == {}


def test_stale_crd_fails_install_like_seed_004_and_upgrade_crd_hook_replaces_it(helm):
    install_stale_crd(helm.client)
    command = "--version=v25.10.1 --repo=%s upgrade -i gpu-operator gpu-operator" % NVIDIA_REPO_URL
    proc = helm(command, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith('Error: INSTALLATION FAILED: unable to build kubernetes objects from release manifest: '
                                  'error validating "": error validating data: [ValidationError(ClusterPolicy.spec): '
                                  'unknown field ')
    assert 'unknown field "sandboxWorkloads" in com.nvidia.v1.ClusterPolicy.spec' in proc.stderr
    assert helm.double.releases() == {}  # helm records no release when the manifest does not build
    assert helm.client.get('/apis/nvidia.com/v1/clusterpolicies/cluster-policy') is None
    # deleting the CRD (the seed's remedy) lets the chart install its own
    helm.client.request('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusterpolicies.nvidia.com')
    helm(command)
    crd_path = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusterpolicies.nvidia.com'
    assert helm.client.get(crd_path)['metadata']['annotations']['gpuvirt.test/chart-version'] == 'v25.10.1'
    # an upgrade never touches crds/ ... unless the chart's pre-upgrade hook (operator.upgradeCRD) applies them
    install_stale_crd(helm.client)
    no_hook = _values(helm.tmp, {'operator': {'upgradeCRD': False}})
    proc = helm("--version=v25.10.1 --repo=%s upgrade -i -f=%s gpu-operator gpu-operator" % (NVIDIA_REPO_URL, no_hook), check=False)
    assert 'UPGRADE FAILED: unable to build kubernetes objects' in proc.stderr
    helm(command)
    assert helm.client.get(crd_path)['metadata']['annotations']['gpuvirt.test/chart-version'] == 'v25.10.1'


def test_existing_policy_not_owned_by_the_release_blocks_install(helm):
    helm.client.request('POST', '/apis/nvidia.com/v1/clusterpolicies',
                        {'apiVersion': 'nvidia.com/v1', 'kind': 'ClusterPolicy', 'metadata': {'name': 'cluster-policy'}, 'spec': {}})
    try:
        proc = helm("--version=v25.10.1 --repo=%s upgrade -i gpu-operator gpu-operator" % NVIDIA_REPO_URL, check=False)
        assert proc.returncode == 1
        assert ('ClusterPolicy "cluster-policy" in namespace "" exists and cannot be imported into the current release: invalid '
                'ownership metadata; label validation error: missing key "app.kubernetes.io/managed-by": must be set to "Helm"'
                in proc.stderr)
    finally:
        helm.client.request('DELETE', '/apis/nvidia.com/v1/clusterpolicies/cluster-policy')


def test_uninstall_deletes_the_policy_but_keeps_the_crd(helm):
    helm("--version=v25.10.1 --repo=%s upgrade -i gpu-operator gpu-operator" % NVIDIA_REPO_URL)
    assert helm('uninstall gpu-operator').stdout.strip() == 'release "gpu-operator" uninstalled'
    assert helm.client.get('/apis/nvidia.com/v1/clusterpolicies/cluster-policy') is None
    assert helm.client.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusterpolicies.nvidia.com') is not None
    proc = helm('uninstall gpu-operator', check=False)
    assert proc.stderr == 'Error: uninstall: Release not loaded: gpu-operator: release: not found\n'


def test_private_repository_needs_credentials_and_archives_install_offline(helm):
    url = 'https://helm.ngc.nvidia.com/nvaie'
    helm.double.publish(url, username='$oauthtoken', password='ngc-key-1')
    proc = helm("repo add nvaie %s" % url, check=False)
    assert proc.stderr == ('Error: looks like "%s" is not a valid chart repository or cannot be reached: failed to fetch '
                           '%s/index.yaml : 401 Unauthorized\n' % (url, url))
    helm("repo add nvaie %s --username='$oauthtoken' --password=ngc-key-1" % url)
    assert 'nvaie/gpu-operator' in helm('search repo nvaie/gpu-operator --versions').stdout
    proc = helm("--version=v9.9.9 show chart nvaie/gpu-operator", check=False)
    assert 'chart "gpu-operator" matching v9.9.9 not found in nvaie index' in proc.stderr
    # air-gapped: a chart archive on disk, no repository at all
    archive = subprocess.run([sys.executable, '-m', 'tests.emulators.helm', 'package', '--version', 'v25.3.4', '--dest', str(helm.tmp)],
                             cwd=REPO, check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    assert yaml.safe_load(helm("show chart '%s'" % archive).stdout)['version'] == 'v25.3.4'
    helm("upgrade -i gpu-operator '%s'" % archive)
    listed = yaml.safe_load(helm('list -o yaml').stdout)
    assert listed[0]['chart'] == 'gpu-operator-v25.3.4'
    calls = helm.double.calls()
    assert all(call['env'].get('KUBECONFIG') for call in calls if call['argv'][:1] == ['upgrade'])
    assert json.dumps([c for c in calls if 'repo' not in c['argv']]).count('ngc-key-1') == 0
