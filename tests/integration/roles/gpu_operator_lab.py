"""The gpu_operator role's test lab: the Kubernetes test world (real kube-apiserver and etcd, GPU Operator node
double) without a ClusterPolicy, so helm owns it; real helm v3 and kubectl (tests.emulators.kube.binaries); the
stand-in gpu-operator charts v25.3.4 and v25.10.1 (tests/emulators/charts) served on 127.0.0.1 with basic auth,
and as archives for air-gapped installs. helm's settings live in the lab's directory.

Every helm invocation goes through a recorder first on PATH that appends its argv (NUL separated) to a log and
then execs the real helm, so a test can prove what reached helm's command line.
"""
import json
import os
import shutil
import subprocess
import sys

import yaml

from tests.emulators import charts
from tests.emulators.kube import EmulatorControl, binaries, crds
from tests.integration.worlds import free_port
from tests.integration.worlds.kube import start_emulator, stop_emulator
from tests.integration.kubeapi import Client

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV_BIN = os.path.dirname(sys.executable)
CHART_VERSIONS = ('v25.3.4', 'v25.10.1')   # the versions whose ClusterPolicy CRD the world can generate
REPO_USER = '$oauthtoken'
CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusterpolicies.nvidia.com'
POLICY_PATH = '/apis/nvidia.com/v1/clusterpolicies/cluster-policy'

RECORDER = """#!/bin/sh
# records helm's argv, then runs the real helm
for arg in "$@"; do printf '%%s\\0' "$arg"; done >> '%(log)s'
printf '\\n' >> '%(log)s'
exec '%(helm)s' "$@"
"""


def stale_crd():
    """The ClusterPolicy CRD of chart v25.3.4 (generated from NVIDIA's Go types): what an older install leaves
    behind (seed 004). It lacks spec.driver.licensingConfig.secretName, which chart v25.10.1 sets."""
    with open(os.path.join(crds.ensure(), charts.CRD_FILES['v25.3.4'])) as stream:
        for doc in yaml.safe_load_all(stream):
            if doc and doc['metadata']['name'] == 'clusterpolicies.nvidia.com':
                return doc
    raise AssertionError('no ClusterPolicy CRD in %s' % charts.CRD_FILES['v25.3.4'])


class Lab(object):
    """A world, a chart repository with basic auth and helm's settings, under ``work``; :meth:`close` stops them."""

    def __init__(self, work, password, nodes='gpu-1:a10:2,cpu-1'):
        self.work = work
        self.password = password
        self.emulator = None
        self.repo_port = None
        self.bin = binaries.ensure()
        self.helm_log = work / 'helm-argv.log'
        wrapper = work / 'helm-recorder'
        wrapper.mkdir()
        (wrapper / 'helm').write_text(RECORDER % {'log': self.helm_log, 'helm': os.path.join(self.bin, 'helm')})
        os.chmod(str(wrapper / 'helm'), 0o755)
        self.path = os.pathsep.join([str(wrapper), self.bin, VENV_BIN, os.environ.get('PATH', '')])
        self.archives = work / 'archives'
        for version in CHART_VERSIONS:
            charts.package(version, str(self.archives))
        self.repo_dir = work / 'repo'
        self.repo_dir.mkdir()
        for version in CHART_VERSIONS:
            shutil.copy(str(self.archives / ('gpu-operator-%s.tgz' % version)), str(self.repo_dir))
        try:
            self.emulator = start_emulator(work, nodes=nodes, extra=['--no-cluster-policy', '--delay', '0.2'])
            self.kubeconfig = self.emulator.kubeconfig
            self.control = EmulatorControl(self.emulator.port)
            self.api = Client.from_kubeconfig(self.kubeconfig, self.control.state['ca'])
            password_file = work / 'repo-password'
            password_file.write_text(password + '\n')
            os.chmod(str(password_file), 0o600)
            self.repo_port = free_port()
            self.repo_url = 'http://127.0.0.1:%d' % self.repo_port
            subprocess.run([sys.executable, '-m', 'tests.emulators.charts', 'up', '--port', str(self.repo_port),
                            '--dir', str(self.repo_dir), '--username', REPO_USER, '--password-file', str(password_file)],
                           cwd=REPO, check=True, stdout=subprocess.PIPE, timeout=120)
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.repo_port is not None:
            subprocess.run([sys.executable, '-m', 'tests.emulators.charts', 'down', '--port', str(self.repo_port)],
                           cwd=REPO, check=False, timeout=60)
            self.repo_port = None
        if self.emulator is not None:
            stop_emulator(self.emulator)
            self.emulator = None

    # ------------------------------------------------------------------ helm
    def env(self, extra=None):
        """The environment helm and ansible-playbook run with: the recorder and the real binaries first on PATH,
        helm's config, cache and data in the lab, no KUBECONFIG/K8S_AUTH_* of the caller."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(('K8S_AUTH_', 'HELM_')) and k != 'KUBECONFIG'}
        helm_home = self.work / 'helm'
        env.update(PATH=self.path, HELM_CONFIG_HOME=str(helm_home / 'config'), HELM_CACHE_HOME=str(helm_home / 'cache'),
                   HELM_DATA_HOME=str(helm_home / 'data'), ANSIBLE_NOCOWS='1', ANSIBLE_FORCE_COLOR='0',
                   ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0',
                   ANSIBLE_HOME=str(self.work / 'ansible-home'),
                   ANSIBLE_COLLECTIONS_PATH=os.environ.get('ANSIBLE_COLLECTIONS_PATH',
                                                           os.path.join(REPO, '.build', 'collections')))
        env.update(extra or {})
        return env

    def helm(self, *args, check=True, env=None):
        """Real helm against the world (namespace gpu-operator), through the recorder."""
        proc = subprocess.run(['helm', '--kubeconfig', self.kubeconfig, '-n', 'gpu-operator'] + list(args),
                              env=self.env(env), cwd=str(self.work), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=300, check=False)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    def helm_calls(self):
        """argv of every helm run so far (lists of strings)."""
        if not self.helm_log.exists():
            return []
        calls = []
        for line in self.helm_log.read_bytes().split(b'\n'):
            if line:
                calls.append([arg.decode() for arg in line.split(b'\0')[:-1]])
        return calls

    def releases(self):
        """`helm list -a` of namespace gpu-operator: [{name, revision, status, chart, app_version}]."""
        return json.loads(self.helm('list', '-a', '-o', 'json').stdout)

    def repo_requests(self):
        path = self.repo_dir / 'requests.jsonl'
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    # ------------------------------------------------------------------ cluster state
    def reset(self):
        """No release, the chart's current (v25.10) CRD, the seeded cluster, an empty request log."""
        if any(r['name'] == 'gpu-operator' for r in self.releases()):
            self.helm('uninstall', 'gpu-operator', '--wait')
        crd = self.api.get(CRD_PATH)
        if crd is not None and crd['metadata'].get('annotations', {}).get('gpuvirt.test/chart-version') != 'v25.10.1':
            self.delete_crd()
        self.control.reset_cluster()   # puts the world's own (v25.10) CRD back when it is missing

    def delete_crd(self):
        self.api.delete(CRD_PATH)
        self.emulator.wait_for(lambda: self.api.get(CRD_PATH) is None, 'the ClusterPolicy CRD to go')

    def install_stale_crd(self):
        """Replace the ClusterPolicy CRD by v25.3's, as an older install leaves it (seed 004)."""
        if self.api.get(CRD_PATH) is not None:
            self.delete_crd()
        self.api.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', stale_crd())

        def established():
            crd = self.api.get(CRD_PATH) or {}
            return any(c['type'] == 'Established' and c['status'] == 'True'
                       for c in (crd.get('status') or {}).get('conditions') or [])
        self.emulator.wait_for(established, 'the v25.3 ClusterPolicy CRD to be established')

    def crd_fields(self, *path):
        """Whether the ClusterPolicy CRD's v1 schema has spec.<path...>."""
        crd = self.api.get(CRD_PATH)
        version = next(v for v in crd['spec']['versions'] if v['name'] == 'v1')
        node = version['schema']['openAPIV3Schema']['properties']['spec']
        for name in path:
            node = (node.get('properties') or {}).get(name)
            if node is None:
                return False
        return True

    # ------------------------------------------------------------------ ansible
    def play(self, play, check=False, extra_args=()):
        """ansible-playbook on localhost with ``play`` (YAML text), -vvv --diff; output in .stdout."""
        index = len(list(self.work.glob('play-*.yml'))) + 1
        path = self.work / ('play-%d.yml' % index)
        path.write_text(play)
        command = [os.path.join(VENV_BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                   '-e', 'ansible_python_interpreter=%s' % sys.executable, str(path), '-vvv', '--diff']
        if check:
            command.append('--check')
        command += list(extra_args)
        return subprocess.run(command, cwd=REPO, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=600, check=False)
