"""Benchmark (not a test): GPU inventory of a vSphere cluster, gpuvirt.core vs community.vmware.

On vcsim-gpu with 50 and 200 hosts it times, with alternating runs, one ansible-playbook run of
    A) one gpuvirt.core.vsphere_gpu_info task (one PropertyCollector retrieval for every host), and
    B) community.vmware.vmware_host_facts with schema: vsphere and the GPU properties, looped per host
       (the peer's way to get the same facts: one module run, login and lookup per host),
and prints the wall times, the ratio B/A and the SOAP calls each made (counted by the simulator's add-on).
At the largest size it also times (issue 13)
    C) vmware.vmware's esxi_hosts inventory plugin (the peer's one-retrieval inventory, same GPU properties) through
       ansible-inventory --list,
    D) an empty ansible-playbook (no tasks: what any playbook run costs), and
    E) the floor: a bare pyvmomi process that logs in and does one RetrievePropertiesEx of the GPU properties of
       every host (a container view),
and prints (A - D) / E: what gpuvirt.core.vsphere_gpu_info costs beyond starting Ansible, in floors (target of
issue 13: within 1.25).
Targets of issue 4: ratio >= 10 at 50 hosts and >= 30 at 200; A's SOAP calls after login independent of the
host count. Results also go to bench/results/vsphere_inventory.json (ignored by git).

    .venv/bin/python bench/vsphere_inventory.py [--sizes 50,200] [--repeat 2]
"""
import argparse
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VCSIM_GPU = os.path.join(REPO, 'tests', 'emulators', 'vcsim', 'vcsim-gpu')
VENV_BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.path.join(REPO, '.build', 'collections')
GPU_PROPERTIES = ['name', 'hardware.pciDevice', 'config.graphicsInfo', 'config.graphicsConfig',
                  'config.sharedPassthruGpuTypes', 'config.sharedGpuCapabilities', 'config.pciPassthruInfo']
LOGIN = ('RetrieveServiceContent', 'Login', 'Logout', 'Fetch')
NO_TLS_CHECK = ssl._create_unverified_context()  # pylint: disable=protected-access  # the simulator's self-signed cert


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def control(env, method, path):
    request = urllib.request.Request(env['VCSIM_GPU_CONTROL'] + '/' + path, method=method)
    with urllib.request.urlopen(request, context=NO_TLS_CHECK, timeout=60) as response:
        return json.load(response)


def write_playbooks(directory, hosts):
    ours = [{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'GPU inventory, one retrieval', 'gpuvirt.core.vsphere_gpu_info': {}, 'register': 'info'},
        {'ansible.builtin.assert': {'that': ['info.hosts | length == %d' % len(hosts)]}}]}]
    peer = [{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'GPU facts per host', 'community.vmware.vmware_host_facts': {
            'esxi_hostname': '{{ item }}', 'schema': 'vsphere', 'properties': GPU_PROPERTIES},
         'loop': hosts, 'register': 'facts'},
        {'ansible.builtin.assert': {'that': ['facts.results | length == %d' % len(hosts)]}}]}]
    paths = {}
    for name, play in (('ours', ours), ('peer', peer)):
        paths[name] = os.path.join(directory, name + '.yml')
        with open(paths[name], 'w') as handle:
            json.dump(play, handle)  # JSON is YAML
    return paths


FLOOR = r"""
import ssl, sys
from pyVim.connect import SmartConnect, Disconnect
from pyVmomi import vim, vmodl
si = SmartConnect(host=sys.argv[1], port=int(sys.argv[2]), user=sys.argv[3], pwd=sys.argv[4],
                  sslContext=ssl._create_unverified_context())
content = si.RetrieveContent()
view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
spec = vmodl.query.PropertyCollector.FilterSpec(
    objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[
        vmodl.query.PropertyCollector.TraversalSpec(name='v', path='view', skip=False, type=vim.view.ContainerView)])],
    propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vim.HostSystem, pathSet=sys.argv[5].split(','))])
result = content.propertyCollector.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=100000))
assert len(result.objects) == int(sys.argv[6]), len(result.objects)
Disconnect(si)
"""


def write_extra(directory):
    """The empty playbook (D) and the esxi_hosts inventory source (C)."""
    empty = os.path.join(directory, 'empty.yml')
    with open(empty, 'w') as handle:
        json.dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': []}], handle)
    inventory = os.path.join(directory, 'vmware_esxi_hosts.yml')
    with open(inventory, 'w') as handle:
        json.dump({'plugin': 'vmware.vmware.esxi_hosts', 'properties': GPU_PROPERTIES, 'keyed_groups': []}, handle)
    return empty, inventory


def timed(command, env):
    control(env, 'POST', 'calls/reset')
    start = time.monotonic()
    done = subprocess.run(command, env=ansible_env(env), capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit('%s failed:\n%s%s' % (' '.join(command), done.stdout[-3000:], done.stderr[-3000:]))
    return elapsed, control(env, 'GET', 'calls')['methods'], done.stdout


def ansible_env(env):
    run_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                   ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false',
                   ANSIBLE_DEPRECATION_WARNINGS='false', PATH=VENV_BIN + os.pathsep + os.environ.get('PATH', ''))
    run_env.update((k, v) for k, v in env.items() if k.startswith('VMWARE_'))
    return run_env


def extra_runs(env, hosts, repeat):
    """C, D and E at one size (alternating rounds); medians in seconds and the calls of the last round."""
    times = {'esxi_hosts': [], 'empty': [], 'floor': []}
    calls = {}
    with tempfile.TemporaryDirectory() as directory:
        empty, inventory = write_extra(directory)
        commands = {
            'esxi_hosts': [os.path.join(VENV_BIN, 'ansible-inventory'), '-i', inventory, '--list'],
            'empty': [os.path.join(VENV_BIN, 'ansible-playbook'), empty],
            'floor': [sys.executable, '-c', FLOOR, env['VMWARE_HOST'], env['VMWARE_PORT'], env['VMWARE_USER'],
                      env['VMWARE_PASSWORD'], ','.join(GPU_PROPERTIES), str(len(hosts))],
        }
        for _round in range(repeat):
            for name, command in commands.items():
                elapsed, calls[name], out = timed(command, env)
                if name == 'esxi_hosts':
                    listed = json.loads(out).get('_meta', {}).get('hostvars', {})
                    if len(listed) != len(hosts):
                        raise SystemExit('esxi_hosts listed %d hosts, not %d' % (len(listed), len(hosts)))
                times[name].append(elapsed)
                print('  %3d hosts  %-10s %7.2f s  %5d SOAP calls' % (len(hosts), name, elapsed, sum(calls[name].values())), flush=True)
    return dict((name, statistics.median(values)) for name, values in times.items()), calls


def run_playbook(path, env):
    elapsed, calls, _out = timed([os.path.join(VENV_BIN, 'ansible-playbook'), path], env)
    return elapsed, calls


def bench(size, repeat, clusters, extra=False):
    port = free_port()
    per_cluster = size // clusters
    out = subprocess.run([VCSIM_GPU, 'up', '--port', str(port), '--clusters', str(clusters), '--hosts', str(per_cluster),
                          '--vms', '2'], capture_output=True, text=True, check=True).stdout
    env = dict(line.split('=', 1) for line in out.splitlines() if '=' in line)
    try:
        hosts = ['DC0_C%d_H%d' % (c, h) for c in range(clusters) for h in range(per_cluster)]
        with tempfile.TemporaryDirectory() as directory:
            paths = write_playbooks(directory, hosts)
            times = {'ours': [], 'peer': []}
            calls = {}
            for _round in range(repeat):
                for name in ('ours', 'peer'):  # alternating
                    elapsed, calls[name] = run_playbook(paths[name], env)
                    times[name].append(elapsed)
                    print('  %3d hosts  %-4s %7.2f s  %5d SOAP calls' % (size, name, elapsed, sum(calls[name].values())), flush=True)
            more = extra_runs(env, hosts, repeat) if extra else None
    finally:
        subprocess.run([VCSIM_GPU, 'down', '--port', str(port)], check=True)
    ours, peer = statistics.median(times['ours']), statistics.median(times['peer'])
    after_login = dict((k, v) for k, v in calls['ours'].items() if k not in LOGIN)
    result = {'hosts': size, 'ours_s': round(ours, 3), 'peer_s': round(peer, 3), 'ratio': round(peer / ours, 1),
              'ours_calls': sum(calls['ours'].values()), 'peer_calls': sum(calls['peer'].values()),
              'ours_calls_after_login': after_login, 'times': times}
    if more:
        medians, extra_calls = more[0], more[1]
        result.update({'esxi_hosts_s': round(medians['esxi_hosts'], 3), 'empty_s': round(medians['empty'], 3),
                       'floor_s': round(medians['floor'], 3), 'esxi_hosts_over_ours': round(medians['esxi_hosts'] / ours, 2),
                       'ours_minus_empty_over_floor': round((ours - medians['empty']) / medians['floor'], 2),
                       'esxi_hosts_calls': sum(extra_calls['esxi_hosts'].values()), 'floor_calls': sum(extra_calls['floor'].values())})
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', default='50,200', help='host counts, comma separated')
    parser.add_argument('--repeat', type=int, default=2, help='alternating rounds per size (median reported)')
    parser.add_argument('--clusters', type=int, default=5)
    args = parser.parse_args()
    subprocess.run([VCSIM_GPU, 'build'], check=True, stdout=subprocess.DEVNULL)
    results = []
    sizes = [int(s) for s in args.sizes.split(',')]
    for size in sizes:
        print('%d hosts:' % size, flush=True)
        results.append(bench(size, args.repeat, args.clusters, extra=size == max(sizes)))
    print('\n hosts  vsphere_gpu_info  vmware_host_facts x hosts  ratio  SOAP calls (ours / peer)  ours after login')
    for r in results:
        print(' %5d  %14.2f s  %22.2f s  %5.1f  %10d / %-10d  %s' % (
            r['hosts'], r['ours_s'], r['peer_s'], r['ratio'], r['ours_calls'], r['peer_calls'], json.dumps(r['ours_calls_after_login'], sort_keys=True)))
    for r in results:
        if 'floor_s' in r:
            print('\n %d hosts: vmware.vmware.esxi_hosts %.2f s (%.1fx ours, %d SOAP calls); empty ansible-playbook %.2f s; '
                  'floor (pyvmomi, one RetrievePropertiesEx) %.2f s (%d SOAP calls)'
                  % (r['hosts'], r['esxi_hosts_s'], r['esxi_hosts_over_ours'], r['esxi_hosts_calls'], r['empty_s'], r['floor_s'], r['floor_calls']))
            print(' (ours - empty ansible-playbook) / floor = %.2f (target <= 1.25)' % r['ours_minus_empty_over_floor'])
    os.makedirs(os.path.join(REPO, 'bench', 'results'), exist_ok=True)
    with open(os.path.join(REPO, 'bench', 'results', 'vsphere_inventory.json'), 'w') as handle:
        json.dump(results, handle, indent=2)


if __name__ == '__main__':
    main()
