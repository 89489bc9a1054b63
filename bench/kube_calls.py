"""API calls and time: gpuvirt.core.kubevirt_host_devices vs kubernetes.core.k8s doing the same KubeVirt change.

Not a test. Starts the Kubernetes test world (etcd and a real kube-apiserver with KubeVirt's generated CRD), runs
each module twice (the change, then the no-op rerun) with real ansible-playbook, and prints, side by side, the
requests the API server's audit log holds for the kubeconfig's user (discovery, reads, writes, errors; read
through tests.emulators.kube.EmulatorControl.requests()), the wall time, and the ratios kubernetes.core.k8s /
gpuvirt.core.
Run: .venv/bin/python bench/kube_calls.py
"""
import os
import socket
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


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def measure(control, play, workdir, kubeconfig):
    """One run: (calls, discovery, reads, writes, errors, seconds, [verb status path] of each request)."""
    control.reset()
    seconds = run_play(play, workdir, kubeconfig)
    log = control.requests()
    return {'calls': len(log), 'discovery': sum(r['verb'] == 'discovery' for r in log),
            'reads': sum(r['verb'] in ('get', 'list', 'watch') for r in log), 'writes': sum(r['write'] for r in log),
            'errors': sum((r['status'] or 0) >= 400 for r in log), 'seconds': seconds,
            'requests': ['%s %s %s' % (r['verb'], r['status'], r['path']) for r in log if r['verb'] != 'discovery']}


def main():
    columns = ('calls', 'discovery', 'reads', 'writes', 'errors', 'seconds')
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        port = free_port()
        kubeconfig = os.path.join(workdir, 'kubeconfig')
        up = subprocess.run([sys.executable, '-m', 'tests.emulators.kube', 'up', '--port', str(port), '--kubeconfig',
                             kubeconfig], cwd=REPO, check=False, capture_output=True, text=True)
        if up.returncode:
            sys.exit('the Kubernetes test world did not start:\n' + up.stdout + up.stderr)
        control = EmulatorControl(port)
        try:
            for label, play in (('gpuvirt.core.kubevirt_host_devices', OURS), ('kubernetes.core.k8s', PEER)):
                control.reset_cluster()
                for phase in ('change', 'no-op'):
                    results[label, phase] = measure(control, play, workdir, kubeconfig)
        finally:
            subprocess.run([sys.executable, '-m', 'tests.emulators.kube', 'down', '--port', str(port)], cwd=REPO,
                           check=False, capture_output=True)
    print('API requests of the kubeconfig\'s user, from the kube-apiserver\'s audit log')
    print('%-36s %-7s' % ('module', 'run') + ''.join('%10s' % c for c in columns))
    for (label, phase), row in results.items():
        print('%-36s %-7s' % (label, phase) + ''.join('%10d' % row[c] for c in columns[:-1]) + '%10.2f' % row['seconds'])
    print()
    print('ratio kubernetes.core.k8s / gpuvirt.core.kubevirt_host_devices')
    for phase in ('change', 'no-op'):
        ours, peer = results['gpuvirt.core.kubevirt_host_devices', phase], results['kubernetes.core.k8s', phase]
        print('%-7s ' % phase + '  '.join('%s %s' % (c, ('%.2f' % (peer[c] / float(ours[c]))) if ours[c] else
                                                     ('n/a (%d vs 0)' % peer[c])) for c in ('calls', 'writes', 'seconds')))
    print()
    print('requests other than discovery:')
    for (label, phase), row in results.items():
        print('  %s, %s: %s' % (label, phase, '; '.join(row['requests']) or 'none'))
    print('(writes count every create/update/patch/delete sent, refused ones too: kubernetes.core.k8s sends a strategic '
          'merge patch first, which the API server refuses with 415 on a custom resource, then a merge patch, also '
          'when nothing changes; its first run also fills its discovery cache for this server)')


if __name__ == '__main__':
    main()
