"""Start and stop the Kubernetes test world: etcd, kube-apiserver and the controller/webhook doubles, on 127.0.0.1.

Everything of one world lives in ``$TMPDIR/gpuvirt-kube-world-PORT/`` (PORT: the API server's): ``pki/`` (CA,
serving and client certificates, mode 0600 keys), ``etcd/`` (data), ``tokens.csv``,
``audit.log`` (JSON lines, every request the API server serves, read by the tests' request log and
bench/kube_calls.py), the logs of each process and ``state.json`` (PIDs, ports, paths) that ``down`` and
:class:`tests.emulators.kube.EmulatorControl` read.
"""
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from . import pki
from .rest import ApiError, Rest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
ADMIN_USER = 'gpuvirt-admin'
CONTROLLERS_USER = 'gpuvirt-controllers'

AUDIT_POLICY = os.path.join(HERE, 'audit-policy.yaml')


class WorldError(Exception):
    pass


def directory(port):
    return os.path.join(tempfile.gettempdir(), 'gpuvirt-kube-world-%d' % port)


def state_path(port):
    return os.path.join(directory(port), 'state.json')


def load_state(port):
    try:
        with open(state_path(port)) as stream:
            return json.load(stream)
    except (OSError, ValueError):
        return None


def free_ports(count):
    """``count`` distinct ports free on 127.0.0.1 now (all held until every one is picked, so none repeats)."""
    sockets = []
    try:
        while len(sockets) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind(('127.0.0.1', 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_busy(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(('127.0.0.1', port)) == 0


def _spawn(command, log_path, env=None, cwd=None):
    with open(log_path, 'ab') as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)


def _tail(path, lines=30):
    try:
        with open(path, errors='replace') as stream:
            return ''.join(stream.readlines()[-lines:])
    except OSError:
        return ''


def _wait(what, check, process, log_path, timeout, also=None):
    """Poll ``check`` until it is true; fail with the log's tail (and that of ``also``: (name, log)) otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WorldError('%s exited with %s:\n%s%s' % (what, process.returncode, _tail(log_path), _also(also)))
        try:
            if check():
                return
        except (OSError, ApiError, ValueError):
            pass
        time.sleep(0.1)
    raise WorldError('%s was not ready within %d s:\n%s%s' % (what, timeout, _tail(log_path), _also(also)))


def _also(also):
    if not also:
        return ''
    name, log_path = also
    return '\n--- %s log ---\n%s' % (name, _tail(log_path))


def etcd_log(root):
    return os.path.join(root, 'etcd.log')


def _etcd_healthy(client_port):
    import urllib.request  # pylint: disable=import-outside-toplevel
    with urllib.request.urlopen('http://127.0.0.1:%d/health' % client_port, timeout=2) as response:
        return json.loads(response.read()).get('health') == 'true'


def _start_etcd(root, bin_dir, processes, attempts=3):
    """Start etcd and wait until it answers its health check, so the API server never dials a port nobody serves.

    The ports are picked free but released before etcd binds them; if another program takes one in between,
    etcd exits, and it is started again on fresh ports (``attempts`` times in all); any other failure is raised.
    """
    for attempt in range(1, attempts + 1):
        client, peer, metrics = free_ports(3)
        data_dir = os.path.join(root, 'etcd')
        shutil.rmtree(data_dir, ignore_errors=True)
        etcd = _spawn([os.path.join(bin_dir, 'etcd'), '--name', 'world', '--data-dir', data_dir,
                       '--listen-client-urls', 'http://127.0.0.1:%d' % client,
                       '--advertise-client-urls', 'http://127.0.0.1:%d' % client,
                       '--listen-peer-urls', 'http://127.0.0.1:%d' % peer,
                       '--initial-advertise-peer-urls', 'http://127.0.0.1:%d' % peer,
                       '--initial-cluster', 'world=http://127.0.0.1:%d' % peer,
                       '--listen-metrics-urls', 'http://127.0.0.1:%d' % metrics,
                       '--unsafe-no-fsync', '--log-level', 'warn'], etcd_log(root))
        processes.append(etcd)
        try:
            _wait('etcd', lambda port=client: _etcd_healthy(port), etcd, etcd_log(root), 60)
            return etcd, client
        except WorldError as exc:
            processes.remove(etcd)
            stop_pid(etcd.pid)
            if attempt == attempts or 'address already in use' not in str(exc):  # only a taken port is retried
                raise
    raise AssertionError('unreachable')


def write_kubeconfig(path, server, ca_file, token):
    with open(ca_file, 'rb') as stream:
        ca_data = base64.b64encode(stream.read()).decode()
    config = {
        'apiVersion': 'v1', 'kind': 'Config', 'preferences': {},
        'clusters': [{'name': 'gpuvirt-test-world', 'cluster': {'server': server, 'certificate-authority-data': ca_data}}],
        'users': [{'name': ADMIN_USER, 'user': {'token': token}}],
        'contexts': [{'name': 'gpuvirt-test-world',
                      'context': {'cluster': 'gpuvirt-test-world', 'user': ADMIN_USER, 'namespace': 'default'}}],
        'current-context': 'gpuvirt-test-world',
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as stream:
        json.dump(config, stream, indent=2)  # JSON is YAML: kubectl, helm and the kubernetes client read it


def up(port, kubeconfig, doubles_args, token=None, log=sys.stderr):
    """Start a world whose API server listens on 127.0.0.1:``port``; returns the state dict."""
    if port_busy(port):
        raise WorldError('something already answers on 127.0.0.1:%d; run "down --port %d" first' % (port, port))
    started = time.monotonic()
    from . import binaries  # pylint: disable=import-outside-toplevel  # here, so `python -m ...binaries` runs it once
    bin_dir = binaries.ensure(log=log)
    root = directory(port)
    if os.path.exists(root):
        previous = load_state(port)
        if previous and any(_alive(pid) for pid in previous.get('pids', {}).values()):
            raise WorldError('a world for port %d is still running (%s); run "down --port %d" first' % (port, root, port))
        shutil.rmtree(root)
    os.makedirs(root, mode=0o700)
    paths = pki.create(os.path.join(root, 'pki'))
    token = token or secrets.token_hex(16)
    controllers_token = secrets.token_hex(16)
    tokens = os.path.join(root, 'tokens.csv')
    fd = os.open(tokens, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as stream:
        stream.write('%s,%s,%s,"system:masters"\n' % (token, ADMIN_USER, ADMIN_USER))
        stream.write('%s,%s,%s,"system:masters"\n' % (controllers_token, CONTROLLERS_USER, CONTROLLERS_USER))
    policy = AUDIT_POLICY
    audit_log = os.path.join(root, 'audit.log')
    state = {'port': port, 'server': 'https://127.0.0.1:%d' % port, 'root': root, 'bin': bin_dir,
             'kubeconfig': os.path.abspath(kubeconfig), 'ca': paths['ca.crt'], 'audit_log': audit_log,
             'admin_user': ADMIN_USER, 'controllers_user': CONTROLLERS_USER, 'pids': {}}
    processes = []
    try:
        etcd, etcd_client = _start_etcd(root, bin_dir, processes)
        state['pids']['etcd'] = etcd.pid
        apiserver_log = os.path.join(root, 'kube-apiserver.log')
        apiserver = _spawn([
            os.path.join(bin_dir, 'kube-apiserver'),
            '--etcd-servers', 'http://127.0.0.1:%d' % etcd_client,
            '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1', '--secure-port', str(port),
            '--cert-dir', os.path.join(root, 'pki'),
            '--tls-cert-file', paths['apiserver.crt'], '--tls-private-key-file', paths['apiserver.key'],
            '--client-ca-file', paths['ca.crt'], '--token-auth-file', tokens,
            '--authorization-mode', 'RBAC',
            '--service-account-issuer', 'https://kubernetes.default.svc.cluster.local',
            '--service-account-key-file', paths['sa.pub'], '--service-account-signing-key-file', paths['sa.key'],
            '--service-cluster-ip-range', '10.96.0.0/12', '--allow-privileged=true',
            '--disable-admission-plugins', 'ServiceAccount', '--endpoint-reconciler-type', 'none',
            '--enable-priority-and-fairness=false', '--profiling=false',
            '--audit-policy-file', policy, '--audit-log-path', audit_log, '--audit-log-format', 'json',
            '--audit-log-mode', 'blocking', '--audit-log-maxbackup', '0',
            '--v', '0'], apiserver_log)
        processes.append(apiserver)
        state['pids']['kube-apiserver'] = apiserver.pid
        _save(state)
        rest = Rest(state['server'], token, paths['ca.crt'])
        # Ready once it serves the namespace its bootstrap controller creates.
        _wait('kube-apiserver', lambda: rest.get('/api/v1/namespaces/default'), apiserver, apiserver_log, 60,
              also=('etcd', etcd_log(root)))
        write_kubeconfig(kubeconfig, state['server'], paths['ca.crt'], token)
        doubles_log = os.path.join(root, 'doubles.log')
        control_port, webhook_port = free_ports(2)
        env = dict(os.environ, GPUVIRT_WORLD_TOKEN=controllers_token)
        doubles = _spawn([sys.executable, '-m', 'tests.emulators.kube.doubles', '--server', state['server'],
                          '--ca', paths['ca.crt'], '--webhook-cert', paths['webhooks.crt'],
                          '--webhook-key', paths['webhooks.key'], '--webhook-port', str(webhook_port),
                          '--control-port', str(control_port), '--state', state_path(port)] + list(doubles_args),
                         doubles_log, env=env, cwd=REPO)
        processes.append(doubles)
        state['pids']['doubles'] = doubles.pid
        state['control_port'] = control_port
        state['webhook_port'] = webhook_port
        _save(state)
        _wait('the controller and webhook doubles', lambda: _control_ready(control_port), doubles, doubles_log, 120)
    except BaseException:
        for process in reversed(processes):
            stop_pid(process.pid)
        raise
    state['start_seconds'] = round(time.monotonic() - started, 1)
    _save(state)
    return state


def _control_ready(port):
    import urllib.request  # pylint: disable=import-outside-toplevel
    with urllib.request.urlopen('http://127.0.0.1:%d/_emulator/health' % port, timeout=2) as response:
        return json.loads(response.read()).get('ready')


def _save(state):
    path = state_path(state['port'])
    with open(path + '.new', 'w') as stream:
        json.dump(state, stream, indent=2)
    os.replace(path + '.new', path)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_pid(pid, timeout=15.0):
    """SIGTERM, wait, SIGKILL as a last resort; only PIDs this module started."""
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
        except ChildProcessError:
            if not _alive(pid):
                return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def down(port):
    state = load_state(port)
    if state is None:
        raise WorldError('no Kubernetes test world recorded for port %d (%s)' % (port, state_path(port)))
    for name in ('doubles', 'kube-apiserver', 'etcd'):
        pid = state['pids'].get(name)
        if pid:
            stop_pid(pid)
    shutil.rmtree(state['root'], ignore_errors=True)
    return state
