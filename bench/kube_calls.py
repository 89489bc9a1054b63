"""API calls and time: gpuvirt.core.kubevirt_host_devices vs kubernetes.core.k8s doing the same KubeVirt change.

Not a test. Starts the kube API emulator, runs each module twice (the change, then the no-op rerun) with real
ansible-playbook, and prints the requests the emulator logged (discovery, reads, writes) and the wall time.
Run: .venv/bin/python bench/kube_calls.py
"""
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from tests.emulators.kube import EmulatorControl  # noqa: E402  pylint: disable=wrong-import-position

OURS = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - gpuvirt.core.kubevirt_host_devices:
        pci_host_devices: [{selector: "10DE:2236"}]
        mediated_devices: [{selector: A10-24Q}]
        feature_gates: [HostDevices]
'''
PEER = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - kubernetes.core.k8s:
        state: present
        definition:
          apiVersion: kubevirt.io/v1
          kind: KubeVirt
          metadata: {name: kubevirt, namespace: kubevirt}
          spec:
            configuration:
              developerConfiguration: {featureGates: [HostDevices]}
              permittedHostDevices:
                pciHostDevices: [{pciVendorSelector: "10DE:2236", resourceName: nvidia.com/GA102GL_A10, externalResourceProvider: true}]
                mediatedDevices: [{mdevNameSelector: NVIDIA A10-24Q, resourceName: nvidia.com/NVIDIA_A10-24Q, externalResourceProvider: true}]
'''


def run_play(text, workdir, kubeconfig):
    path = os.path.join(workdir, 'play.yml')
    with open(path, 'w') as stream:
        stream.write(text)
    env = dict(os.environ, K8S_AUTH_KUBECONFIG=kubeconfig, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.build', 'collections'),
               ANSIBLE_HOME=os.path.join(workdir, 'home'))
    started = time.monotonic()
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), path], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(done.stdout + done.stderr)
    return time.monotonic() - started


def main():
    with tempfile.TemporaryDirectory() as workdir:
        port = 19000 + os.getpid() % 1000
        kubeconfig = os.path.join(workdir, 'kubeconfig')
        subprocess.run([sys.executable, '-m', 'tests.emulators.kube', 'up', '--port', str(port), '--kubeconfig', kubeconfig],
                       cwd=REPO, check=True, capture_output=True)
        control = EmulatorControl(port)
        try:
            rows = []
            for label, play in (('gpuvirt.core.kubevirt_host_devices', OURS), ('kubernetes.core.k8s', PEER)):
                control.reset_cluster()
                for phase in ('change', 'no-op'):
                    control.reset()
                    seconds = run_play(play, workdir, kubeconfig)
                    log = control.requests()
                    rows.append((label, phase, len(log), sum(r['verb'] == 'discovery' for r in log),
                                 sum(r['write'] for r in log), sum(r['status'] >= 400 for r in log), seconds))
        finally:
            subprocess.run([sys.executable, '-m', 'tests.emulators.kube', 'down', '--port', str(port)], cwd=REPO, check=False,
                           capture_output=True)
    print('%-36s %-7s %6s %10s %7s %7s %9s' % ('module', 'run', 'calls', 'discovery', 'writes', 'errors', 'seconds'))
    for row in rows:
        print('%-36s %-7s %6d %10d %7d %7d %9.2f' % row)
    print('(the first run of kubernetes.core.k8s also fills its discovery cache; its first PATCH is a strategic merge '
          'that a real API server refuses with 415 on custom resources)')


if __name__ == '__main__':
    main()
