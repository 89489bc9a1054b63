"""``python -m tests.emulators.kube up|down|serve`` (the stable command lines of design.md).

- ``up --port PORT --kubeconfig PATH [--nodes gpu-1:a10:2,gpu-2:l40s:1,cpu-1] [--delay S] [--kubevirt-version V]``
  starts the emulator in the background on 127.0.0.1:PORT, waits until it answers, writes a kubeconfig (server,
  bearer token) to PATH and prints ``KUBECONFIG=...`` and ``KUBE_EMULATOR_PID=...``;
- ``down --port PORT`` stops the emulator started for that port (by the PID ``up`` recorded);
- ``serve`` runs it in the foreground (what ``up`` starts; tests may use it directly).
"""
import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import kmock

from .seed import parse_nodes, seed
from .server import KubeApiEmulator

DEFAULT_NODES = 'gpu-1:a10:2,gpu-2:l40s:1,cpu-1'


def pid_file(port):
    return os.path.join(tempfile.gettempdir(), 'gpuvirt-kube-emulator-%d.pid' % port)


def write_kubeconfig(path, port, token):
    config = {
        'apiVersion': 'v1', 'kind': 'Config', 'preferences': {},
        'clusters': [{'name': 'emulator', 'cluster': {'server': 'http://127.0.0.1:%d' % port}}],
        'users': [{'name': 'emulator-admin', 'user': {'token': token}}],
        'contexts': [{'name': 'emulator', 'context': {'cluster': 'emulator', 'user': 'emulator-admin', 'namespace': 'default'}}],
        'current-context': 'emulator',
    }
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as stream:
        json.dump(config, stream, indent=2)  # JSON is YAML; kubeconfig loaders read it


def health(port, timeout=1.0):
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d/_emulator/health' % port, timeout=timeout) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


async def serve(args):
    nodes = parse_nodes(args.nodes)

    def seeder(emulator):
        seed(emulator, nodes, kubevirt_version=args.kubevirt_version,
             feature_gates=[g for g in args.feature_gates.split(',') if g], kubevirt=not args.no_kubevirt,
             cluster_policy=not args.no_cluster_policy)
    emulator = KubeApiEmulator(token=args.token, controller_delay=args.delay, seeder=seeder)
    seeder(emulator)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with emulator, kmock.Server(emulator, host='127.0.0.1', port=args.port) as server:
        print('kube emulator listening on http://127.0.0.1:%d' % server.port, flush=True)
        await stop.wait()


def up(args):
    if health(args.port):
        sys.exit('something already answers on 127.0.0.1:%d; run "down --port %d" first' % (args.port, args.port))
    token = args.token or secrets.token_hex(16)
    command = [sys.executable, '-m', 'tests.emulators.kube', 'serve', '--port', str(args.port), '--nodes', args.nodes,
               '--delay', str(args.delay), '--kubevirt-version', args.kubevirt_version,
               '--feature-gates', args.feature_gates]
    if args.no_kubevirt:
        command.append('--no-kubevirt')
    if args.no_cluster_policy:
        command.append('--no-cluster-policy')
    env = dict(os.environ, KUBE_EMULATOR_TOKEN=token)
    log_path = os.path.join(tempfile.gettempdir(), 'gpuvirt-kube-emulator-%d.log' % args.port)
    with open(log_path, 'ab') as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, start_new_session=True, cwd=_repo_root())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit('the kube emulator exited with %s; see %s' % (process.returncode, log_path))
        if health(args.port):
            break
        time.sleep(0.1)
    else:
        process.terminate()
        sys.exit('the kube emulator did not answer on 127.0.0.1:%d within 30 s; see %s' % (args.port, log_path))
    with open(pid_file(args.port), 'w') as stream:
        stream.write(str(process.pid))
    write_kubeconfig(args.kubeconfig, args.port, token)
    print('KUBECONFIG=%s' % os.path.abspath(args.kubeconfig))
    print('KUBE_EMULATOR_PID=%d' % process.pid)
    print('KUBE_EMULATOR_URL=http://127.0.0.1:%d' % args.port)


def down(args):
    path = pid_file(args.port)
    try:
        with open(path) as stream:
            pid = int(stream.read().strip())
    except (OSError, ValueError):
        sys.exit('no kube emulator recorded for port %d (%s)' % (args.port, path))
    stop_pid(pid)
    os.unlink(path)
    print('stopped kube emulator %d on port %d' % (pid, args.port))


def stop_pid(pid, timeout=10.0):
    """SIGTERM the emulator process, wait for it, SIGKILL as a last resort."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return
        except ChildProcessError:  # not our child: poll for existence
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def _repo_root():
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.emulators.kube', description=__doc__.split('\n', maxsplit=1)[0])
    commands = parser.add_subparsers(dest='command', required=True)
    for name in ('up', 'serve'):
        sub = commands.add_parser(name)
        sub.add_argument('--port', type=int, required=True)
        sub.add_argument('--nodes', default=DEFAULT_NODES, help='NAME[:MODEL[:COUNT]],... (default %(default)s)')
        sub.add_argument('--delay', type=float, default=0.5, help='seconds vgpu-device-manager takes to apply a config')
        sub.add_argument('--kubevirt-version', default='v1.9.0')
        sub.add_argument('--feature-gates', default='HostDevices', help='KubeVirt feature gates, comma separated')
        sub.add_argument('--no-kubevirt', action='store_true', help='no KubeVirt CR')
        sub.add_argument('--no-cluster-policy', action='store_true', help='no GPU Operator ClusterPolicy')
        if name == 'up':
            sub.add_argument('--kubeconfig', required=True)
            sub.add_argument('--token', help='bearer token (default: random)')
        else:
            sub.add_argument('--token', default=os.environ.get('KUBE_EMULATOR_TOKEN'))
    sub = commands.add_parser('down')
    sub.add_argument('--port', type=int, required=True)
    args = parser.parse_args(argv)
    if args.command in ('up', 'serve'):
        try:
            parse_nodes(args.nodes)
        except ValueError as exc:
            parser.error(str(exc))
    if args.command == 'up':
        up(args)
    elif args.command == 'down':
        down(args)
    else:
        asyncio.run(serve(args))


if __name__ == '__main__':
    main()
