"""The gpu-operator stand-in charts (tests/emulators/charts) under real helm: lint, render, schema, the role's
values, and a chart repository with basic auth."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.emulators import charts
from tests.integration.worlds import free_port

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
VERSIONS = charts.VERSIONS


def at_least(version, minimum):
    return tuple(int(p) for p in version.lstrip('v').split('.')) >= minimum


@pytest.fixture(scope='module')
def helm():
    return charts.helm_binary()


@pytest.fixture(scope='module')
def chart_dirs(tmp_path_factory, helm):
    root = tmp_path_factory.mktemp('charts')
    return {v: charts.assemble(v, str(root / v), with_crds=False) for v in VERSIONS}


def run(helm, *args, check=True, env=None):
    proc = subprocess.run([helm] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=env, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def cluster_policy(helm, chart, *args):
    docs = [d for d in yaml.safe_load_all(run(helm, 'template', 'gpu-operator', chart, *args).stdout) if d]
    assert [(d['kind'], d['metadata']['name']) for d in docs] == [('ClusterPolicy', 'cluster-policy')]
    return docs[0]


def test_committed_schemas_are_generated_from_values():
    for version in VERSIONS:
        with open(os.path.join(charts.version_dir(version), 'values.schema.json')) as stream:
            assert stream.read() == charts.schema_text(version), 'run python -m tests.emulators.charts schema'


def test_schema_closes_every_object_but_free_form_maps():
    def walk(node, path):
        if 'properties' in node:
            assert node.get('additionalProperties') is False, path
            for key, child in node['properties'].items():
                walk(child, path + [key])
    for version in VERSIONS:
        walk(charts.values_schema(version), [version])


@pytest.mark.parametrize('version', VERSIONS)
def test_lint(helm, chart_dirs, version):
    out = run(helm, 'lint', '--strict', chart_dirs[version]).stdout
    assert '0 chart(s) failed' in out


@pytest.mark.parametrize('version', VERSIONS)
def test_template_renders_values(helm, chart_dirs, version):
    policy = cluster_policy(helm, chart_dirs[version], '--set', 'sandboxWorkloads.enabled=true',
                            '--set', 'sandboxWorkloads.defaultWorkload=vm-vgpu',
                            '--set', 'vgpuManager.enabled=true,vgpuManager.repository=registry.example.com/nvidia',
                            '--set-string', 'vgpuManager.version=550.127.06',
                            '--set', 'vgpuManager.imagePullSecrets={registry-secret}',
                            '--set', 'vgpuDeviceManager.config.name=vgpu-devices-config',
                            '--set', 'vfioManager.enabled=false', '--set', 'sandboxDevicePlugin.enabled=true')
    spec = policy['spec']
    defaults = charts.default_values(version)
    assert policy['apiVersion'] == 'nvidia.com/v1'
    assert spec['sandboxWorkloads']['enabled'] is True
    assert spec['sandboxWorkloads']['defaultWorkload'] == 'vm-vgpu'
    assert spec['vgpuManager']['repository'] == 'registry.example.com/nvidia'
    assert spec['vgpuManager']['version'] == '550.127.06'
    assert spec['vgpuManager']['imagePullSecrets'] == ['registry-secret']
    assert spec['vgpuDeviceManager']['config'] == {'name': 'vgpu-devices-config', 'default': 'default'}
    assert spec['vfioManager']['enabled'] is False
    assert spec['sandboxDevicePlugin']['enabled'] is True
    assert spec['driver']['licensingConfig'] == defaults['driver']['licensingConfig']
    assert spec['validator']['version'] == version
    assert 'upgradeCRD' not in spec['operator']
    assert ('mode' in spec['sandboxWorkloads']) == at_least(version, (26, 3, 0))


def test_unknown_key_fails_where_the_chart_lacks_it(helm, chart_dirs):
    proc = run(helm, 'template', 'gpu-operator', chart_dirs['v25.10.1'], '--set', 'sandboxWorkloads.mode=kubevirt',
               check=False)
    assert proc.returncode != 0
    assert "at '/sandboxWorkloads': additional properties 'mode' not allowed" in proc.stderr
    policy = cluster_policy(helm, chart_dirs['v26.3.3'], '--set', 'sandboxWorkloads.mode=kubevirt')
    assert policy['spec']['sandboxWorkloads']['mode'] == 'kubevirt'
    proc = run(helm, 'template', 'gpu-operator', chart_dirs['v24.9.2'], '--set',
               'driver.licensingConfig.secretName=licensing-config', check=False)
    assert "additional properties 'secretName' not allowed" in proc.stderr


ROLE_CASES = {
    'defaults': {},
    'full': {'gpu_operator_vgpu_manager': True, 'gpu_operator_vgpu_manager_repository': 'registry.example.com/nvidia',
             'gpu_operator_vgpu_manager_version': '550.127.06', 'gpu_operator_ngc_api_key': 'k',
             'gpu_operator_license_token': 't', 'gpu_operator_default_workload': 'vm-vgpu',
             'gpu_operator_vgpu_device_configs': {'a10-4q': [{'devices': 'all', 'vgpu_devices': {'A10-4Q': 6}}]}},
}


def role_values(tmp_path, version, extra):
    """gpu_operator_values as the role computes it (its defaults and vars, rendered by ansible)."""
    play = tmp_path / 'play.yml'
    play.write_text(yaml.safe_dump([{
        'hosts': 'localhost', 'gather_facts': False,
        'vars_files': [os.path.join(REPO, 'roles/gpu_operator/defaults/main.yml'),
                       os.path.join(REPO, 'roles/gpu_operator/vars/main.yml')],
        'tasks': [{'ansible.builtin.copy': {'content': '{{ gpu_operator_values | to_json }}',
                                            'dest': str(tmp_path / 'values.json')}}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.build', 'collections'))
    bindir = os.path.dirname(sys.executable)
    proc = subprocess.run([os.path.join(bindir, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(play),
                           '-e', 'ansible_python_interpreter=%s' % sys.executable,
                           '-e', json.dumps(dict(extra, gpu_operator_chart_version=version))],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env, check=False)
    assert proc.returncode == 0, proc.stdout
    return tmp_path / 'values.json'


@pytest.mark.parametrize('case', sorted(ROLE_CASES))
@pytest.mark.parametrize('version', VERSIONS)
def test_role_values_pass_the_schema(helm, chart_dirs, tmp_path, version, case):
    values_file = role_values(tmp_path, version, ROLE_CASES[case])
    values = json.loads(values_file.read_text())
    assert ('mode' in values['sandboxWorkloads']) == at_least(version, (26, 3, 0))
    spec = cluster_policy(helm, chart_dirs[version], '-f', str(values_file))['spec']
    for section in ('sandboxWorkloads', 'vgpuManager', 'vfioManager', 'sandboxDevicePlugin'):
        for key, value in values[section].items():
            assert spec[section][key] == value, (section, key)
    if 'driver' in values:
        assert spec['driver']['licensingConfig']['nlsEnabled'] is True
        key = 'secretName' if at_least(version, (25, 10, 0)) else 'configMapName'
        assert spec['driver']['licensingConfig'][key] == 'licensing-config'


def test_repository_with_basic_auth(helm, tmp_path):
    repo = tmp_path / 'repo'
    for version in ('v25.10.1', 'v26.3.3'):
        charts.package(version, str(repo), with_crds=False)
    (tmp_path / 'pw').write_text('s3cret\n')
    port = free_port()
    env = dict(os.environ, HELM_REPOSITORY_CONFIG=str(tmp_path / 'repositories.yaml'),
               HELM_REPOSITORY_CACHE=str(tmp_path / 'cache'), HELM_CONFIG_HOME=str(tmp_path / 'config'),
               HELM_CACHE_HOME=str(tmp_path / 'helm-cache'), HELM_DATA_HOME=str(tmp_path / 'data'))
    subprocess.run([sys.executable, '-m', 'tests.emulators.charts', 'up', '--port', str(port), '--dir', str(repo),
                    '--username', 'robot', '--password-file', str(tmp_path / 'pw')], cwd=REPO, check=True,
                   stdout=subprocess.PIPE)
    try:
        url = 'http://127.0.0.1:%d' % port
        bad = run(helm, 'repo', 'add', 'bad', url, '--username', 'robot', '--password', 'wrong', check=False, env=env)
        assert bad.returncode != 0 and '401 Unauthorized' in bad.stderr
        run(helm, 'repo', 'add', 'nvidia', url, '--username', 'robot', '--password', 's3cret', env=env)
        found = json.loads(run(helm, 'search', 'repo', 'nvidia/gpu-operator', '--versions', '-o', 'json', env=env).stdout)
        assert sorted(c['version'] for c in found) == ['v25.10.1', 'v26.3.3']
        pulled = tmp_path / 'pulled'
        pulled.mkdir()
        run(helm, 'pull', 'nvidia/gpu-operator', '--version', 'v26.3.3', '-d', str(pulled), env=env)
        assert (pulled / 'gpu-operator-v26.3.3.tgz').exists()
        log = [json.loads(line) for line in (repo / 'requests.jsonl').read_text().splitlines()]
        assert {'method': 'GET', 'path': '/index.yaml', 'status': 401, 'authorized': True} in log
        assert any(e['path'] == '/gpu-operator-v26.3.3.tgz' and e['status'] == 200 for e in log)
    finally:
        subprocess.run([sys.executable, '-m', 'tests.emulators.charts', 'down', '--port', str(port)], cwd=REPO, check=False)
