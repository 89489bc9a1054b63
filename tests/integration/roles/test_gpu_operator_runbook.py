"""The runbooks' own kubectl and helm steps against the gpu_operator role (issue 11, item 6 "Real clients as tests"),
on the Kubernetes test world with real kubectl and helm (gpu_operator_lab.py):

* the image pull secrets: ``kubectl create secret docker-registry`` (seed 004's ngc-secret, seed 003's private
  registry secret with --docker-email), then the role's "Create the image pull secrets" task changes nothing; and
  after the role, the stored .dockerconfigjson is byte for byte what ``kubectl create ... --dry-run=client`` makes;
* seed 004's ``helm uninstall`` and ``kubectl delete crd clusterpolicies.nvidia.com``, then the role with
  gpu_operator_state=absent changes nothing; and the role's absent leaves what those steps leave, with nothing
  left for them to do.

The NGC key and the registry password never reach ansible's output (no_log)."""
import base64
import hashlib
import json
import re
import subprocess

import pytest

from tests.integration.roles.gpu_operator_lab import CRD_PATH, POLICY_PATH, Lab

NGC_KEY = 'NGC-KEY-5b2e90-never-print-me'
# Characters Go's encoding/json escapes (<, >, &, U+2028) or keeps as UTF-8 (e), as kubectl writes them.
REGISTRY_PASSWORD = 'REG<PASS>&-\u00e9\u2028-c41f-never-print-me'
REGISTRY = {'name': 'vgpu-registry', 'server': 'registry.example.internal', 'username': 'robot',
            'password': REGISTRY_PASSWORD, 'email': 'gpu-ops@example.internal'}
NGC_SERVERS = [('nvcr.io', ''),                                  # the role's default: no e-mail
               ('nvcr.io/nvaie', 'ngc-user@example.internal')]  # seed 004's command, --docker-email
CLUSTERPOLICY_CRD = 'customresourcedefinition.apiextensions.k8s.io/clusterpolicies.nvidia.com'
PULL_TASK = 'TASK [gpuvirt.core.gpu_operator : Create the image pull secrets]'

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
      gpu_operator_ngc_registry: %(ngc_server)s
      gpu_operator_ngc_email: "%(ngc_email)s"
      gpu_operator_registry_secrets:
        - %(registry)s
      gpu_operator_vgpu_manager: true
      gpu_operator_vgpu_manager_repository: registry.example.internal/nvidia
      gpu_operator_vgpu_manager_version: "550.90.05"
      gpu_operator_wait_delay: 1
"""


@pytest.fixture(scope='module')
def module_lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp('gpuop-runbook'), NGC_KEY)
    yield lab
    lab.close()


@pytest.fixture
def lab(module_lab):
    """No release, the chart's CRD, the seeded cluster, no pull secrets."""
    module_lab.reset()
    for name in ('ngc-secret', REGISTRY['name']):
        kubectl(module_lab, 'delete', 'secret', name, '-n', 'gpu-operator', '--ignore-not-found', '--wait')
    return module_lab


def kubectl(lab, *args, check=True):
    """Real kubectl against the world, as the runbooks run it (credentials on its command line, as there)."""
    proc = subprocess.run(['kubectl', '--kubeconfig', lab.kubeconfig] + list(args), env=lab.env(), cwd=str(lab.work),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120,
                          check=False)
    if check:
        status = proc.returncode   # not proc itself in an assertion: its argv may hold a credential
        assert status == 0, proc.stderr
    return proc


def docker_registry_args(name, server, username, password, email):
    """``kubectl create secret docker-registry`` as seeds 003 and 004 write it."""
    args = ['create', 'secret', 'docker-registry', name, '-n', 'gpu-operator', '--docker-server=' + server,
            '--docker-username=' + username, '--docker-password=' + password]
    if email:
        args.append('--docker-email=' + email)
    return args


def runbook_secrets(ngc_server, ngc_email):
    """The runbooks' pull secrets: (name, server, username, password, email)."""
    return [('ngc-secret', ngc_server, '$oauthtoken', NGC_KEY, ngc_email),
            (REGISTRY['name'], REGISTRY['server'], REGISTRY['username'], REGISTRY['password'], REGISTRY['email'])]


def _play(lab, state='present', ngc_server='nvcr.io', ngc_email=''):
    text = PLAYBOOK % {'state': state, 'kubeconfig': lab.kubeconfig, 'repo': lab.repo_url, 'ngc': NGC_KEY,
                       'helm_home': lab.work / 'helm-home', 'ngc_server': ngc_server, 'ngc_email': ngc_email,
                       'registry': json.dumps(REGISTRY)}
    proc = lab.play(text)
    assert proc.returncode == 0, proc.stdout[-8000:]
    return proc


def _secret(lab, name):
    return json.loads(kubectl(lab, 'get', 'secret', name, '-n', 'gpu-operator', '-o', 'json').stdout)


def _assert_no_secret_in(output, secrets):
    """Neither the credentials, nor as JSON writes them, nor the stored (base64) forms. A failure names none."""
    forms = {NGC_KEY, REGISTRY_PASSWORD}
    for secret in list(secrets) + [NGC_KEY, REGISTRY_PASSWORD]:
        forms.update((secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]))
    leaked = sum(1 for form in forms if form in output)
    assert not leaked, '%d secret forms reached the output' % leaked


def _digest(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _redacted(dockerconfigjson):
    """The JSON text as stored, with the password and auth values blanked (spacing and key order kept)."""
    return re.sub(r'("(?:password|auth)"\s*:\s*)"(?:[^"\\]|\\.)*"', r'\1"***"', dockerconfigjson.decode())


def _task_results(output, task):
    """The result lines (ok/changed/failed/skipping) of one task in ansible-playbook's output."""
    assert task in output, output[-8000:]
    section = output.split(task, 1)[1].split('\nTASK [', 1)[0]
    return [line for line in section.splitlines() if line.startswith(('ok:', 'changed:', 'failed:', 'skipping:', 'fatal:'))]


def _kubectl_dockerconfigjson(lab, name, server, username, password, email):
    made = kubectl(lab, *(docker_registry_args(name, server, username, password, email)
                          + ['--dry-run=client', '-o', 'json'])).stdout
    made = json.loads(made)
    assert made['type'] == 'kubernetes.io/dockerconfigjson'
    return base64.b64decode(made['data']['.dockerconfigjson'])


@pytest.mark.parametrize('ngc_server,ngc_email', NGC_SERVERS)
def test_pull_secrets_kubectl_made_are_left_as_they_are(lab, ngc_server, ngc_email):
    kubectl(lab, 'get', 'namespace', 'gpu-operator')   # the runbooks' kubectl create namespace gpu-operator
    versions = {}
    for name, server, username, password, email in runbook_secrets(ngc_server, ngc_email):
        kubectl(lab, *docker_registry_args(name, server, username, password, email))
        versions[name] = _secret(lab, name)

    proc = _play(lab, ngc_server=ngc_server, ngc_email=ngc_email)
    stored = [base64.b64decode(v['data']['.dockerconfigjson']).decode() for v in versions.values()]
    _assert_no_secret_in(proc.stdout, stored + [v['data']['.dockerconfigjson'] for v in versions.values()])

    results = _task_results(proc.stdout, PULL_TASK)
    assert len(results) == 2 and all(line.startswith('ok: [localhost]') for line in results), results   # no_log: no item
    for name, before in versions.items():
        after = _secret(lab, name)
        assert after['metadata']['resourceVersion'] == before['metadata']['resourceVersion'], name
        same = _digest(after['data']) == _digest(before['data'])
        assert same and after['type'] == before['type'], name


@pytest.mark.parametrize('ngc_server,ngc_email', NGC_SERVERS)
def test_pull_secrets_of_the_role_hold_kubectls_bytes(lab, ngc_server, ngc_email):
    assert kubectl(lab, 'get', 'secret', 'ngc-secret', '-n', 'gpu-operator', check=False).returncode != 0
    proc = _play(lab, ngc_server=ngc_server, ngc_email=ngc_email)
    for name, server, username, password, email in runbook_secrets(ngc_server, ngc_email):
        secret = _secret(lab, name)
        assert secret['type'] == 'kubernetes.io/dockerconfigjson'
        assert list(secret['data']) == ['.dockerconfigjson']
        stored = base64.b64decode(secret['data']['.dockerconfigjson'])
        made = _kubectl_dockerconfigjson(lab, name, server, username, password, email)
        same = hashlib.sha256(stored).digest() == hashlib.sha256(made).digest()   # the bytes never in a report
        assert same, 'role %s != kubectl %s' % (_redacted(stored), _redacted(made))
        entry = json.loads(stored)['auths'][server]
        assert ('email' in entry) == bool(email)
        _assert_no_secret_in(proc.stdout, [stored.decode(), secret['data']['.dockerconfigjson'], entry['auth']])
        # the runbook's step itself finds it there
        again = kubectl(lab, *docker_registry_args(name, server, username, password, email), check=False)
        refused, message = again.returncode != 0, again.stderr
        assert refused and 'already exists' in message, message


# ---------------------------------------------------------------- seed 004: helm uninstall, kubectl delete crd
def _nvidia_state(lab):
    """What the uninstall steps act on, as kubectl and helm see it: the releases, nvidia.com CRDs and
    ClusterPolicies, the gpu-operator namespace's objects, cluster-wide RBAC of the chart."""
    crds = kubectl(lab, 'get', 'crd', '-o', 'name').stdout.split()
    namespaced = kubectl(lab, 'get', 'all,configmaps,secrets,serviceaccounts,roles,rolebindings', '-n', 'gpu-operator',
                         '-o', 'name').stdout.split()
    rbac = kubectl(lab, 'get', 'clusterroles,clusterrolebindings', '-o', 'name').stdout.split()
    return {'releases': [r['name'] for r in lab.releases()],
            'crds': sorted(c for c in crds if c.endswith('.nvidia.com')),
            'clusterpolicy': lab.api.get(POLICY_PATH) is not None,
            'namespace': sorted(namespaced),
            'rbac': sorted(r for r in rbac if 'gpu-operator' in r or 'nvidia' in r)}


def _seed_004_uninstall(lab):
    """helm uninstall, then seed 004's ``k delete crd clusterpolicies.nvidia.com``: (helm, kubectl) processes."""
    helm = lab.helm('uninstall', 'gpu-operator', '--wait', check=False)
    deleted = kubectl(lab, 'delete', 'crd', 'clusterpolicies.nvidia.com', '--wait', check=False)
    return helm, deleted


def test_role_absent_after_the_runbooks_uninstall_changes_nothing(lab):
    _play(lab)
    assert [r['name'] for r in lab.releases()] == ['gpu-operator']
    helm, deleted = _seed_004_uninstall(lab)
    assert helm.returncode == 0, helm.stderr
    assert deleted.returncode == 0 and 'deleted' in deleted.stdout, deleted.stderr
    lab.emulator.wait_for(lambda: lab.api.get(CRD_PATH) is None, 'the ClusterPolicy CRD to go')
    after_kubectl = _nvidia_state(lab)
    assert after_kubectl['releases'] == [] and not after_kubectl['clusterpolicy']
    assert CLUSTERPOLICY_CRD not in after_kubectl['crds']   # the NVIDIADriver CRD stays: seed 004 leaves it too

    lab.control.reset()
    gone = _play(lab, 'absent')
    assert 'changed=0' in gone.stdout, gone.stdout[-8000:]
    assert lab.control.writes() == []
    assert _nvidia_state(lab) == after_kubectl


def test_role_absent_leaves_what_the_runbooks_uninstall_leaves(lab):
    _play(lab)
    _seed_004_uninstall(lab)
    lab.emulator.wait_for(lambda: lab.api.get(CRD_PATH) is None, 'the ClusterPolicy CRD to go')
    after_kubectl = _nvidia_state(lab)

    lab.reset()                       # the chart's CRD back, then the same install
    _play(lab)
    gone = _play(lab, 'absent')       # gpu_operator_remove_crd: true (default)
    assert 'changed=0' not in gone.stdout
    assert _nvidia_state(lab) == after_kubectl
    # nothing left for the runbook's steps to do
    lab.control.reset()
    helm, deleted = _seed_004_uninstall(lab)
    assert helm.returncode != 0 and 'not found' in helm.stderr, helm.stderr
    assert deleted.returncode != 0 and 'NotFound' in deleted.stderr, deleted.stderr
    assert [w for w in lab.control.writes() if w['status'] != 404] == []
