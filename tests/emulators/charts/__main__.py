"""python -m tests.emulators.charts package|serve|up|down|schema (see README.md)."""
import argparse
import base64
import hmac
import http.server
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from tests.emulators import charts


def pid_file(port):
    return os.path.join(tempfile.gettempdir(), 'gpuvirt-charts-%d.pid' % port)


def index(directory, url, helm=None):
    """(Re)write DIR/index.yaml with real ``helm repo index`` for the archives in DIR."""
    charts.run_helm(['repo', 'index', directory, '--url', url], helm=helm)


class Handler(http.server.SimpleHTTPRequestHandler):
    credentials = None      # (username, password) or None
    log_path = None

    def _record(self, status):
        if self.log_path:
            with open(self.log_path, 'a') as stream:
                stream.write(json.dumps({'method': self.command, 'path': self.path, 'status': status,
                                         'authorized': self.headers.get('Authorization') is not None}) + '\n')

    def _authorized(self):
        if not self.credentials:
            return True
        header = self.headers.get('Authorization', '')
        if not header.startswith('Basic '):
            return False
        try:
            user, _sep, password = base64.b64decode(header[6:]).decode().partition(':')
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.credentials[0]) and hmac.compare_digest(password, self.credentials[1])

    def send_response(self, code, message=None):
        self._record(code)
        super().send_response(code, message)

    def do_GET(self):
        if not self._authorized():
            self.send_response(401)
            self.send_header('WWW-Authenticate', 'Basic realm="charts"')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        super().do_GET()

    def do_HEAD(self):
        if not self._authorized():
            self.send_response(401)
            self.end_headers()
            return
        super().do_HEAD()

    def list_directory(self, path):
        self.send_error(404)

    def log_message(self, *args):
        pass


def serve(args):
    directory = os.path.abspath(args.dir)
    url = 'http://127.0.0.1:%d' % args.port
    index(directory, url)
    credentials = None
    if args.username:
        with open(args.password_file) as stream:
            credentials = (args.username, stream.read().strip())
    log_path = args.log or os.path.join(directory, 'requests.jsonl')
    handler = type('BoundHandler', (Handler,), {'credentials': credentials, 'log_path': log_path})
    server = http.server.ThreadingHTTPServer(('127.0.0.1', args.port),
                                             lambda *a, **k: handler(*a, directory=directory, **k))
    signal.signal(signal.SIGTERM, lambda *_args: (_item for _item in ()).throw(KeyboardInterrupt()))
    print('CHART_REPO_URL=%s' % url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def up(args):
    """Start ``serve`` in the background, wait until it answers, write the PID file."""
    if os.path.exists(pid_file(args.port)):
        sys.exit('a chart repository is already recorded on port %d (%s); run down first' % (args.port, pid_file(args.port)))
    argv = [sys.executable, '-m', 'tests.emulators.charts', 'serve', '--port', str(args.port), '--dir', args.dir]
    if args.username:
        argv += ['--username', args.username, '--password-file', args.password_file]
    if args.log:
        argv += ['--log', args.log]
    log = open(os.path.join(tempfile.gettempdir(), 'gpuvirt-charts-%d.log' % args.port), 'w')
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(charts.HERE))))
    url = 'http://127.0.0.1:%d/index.yaml' % args.port
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit('the chart repository exited (%d); see %s' % (proc.returncode, log.name))
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except urllib.error.HTTPError:
            break           # 401: up, with basic auth
        except OSError:
            time.sleep(0.2)
    else:
        proc.terminate()
        sys.exit('the chart repository did not answer on %s' % url)
    with open(pid_file(args.port), 'w') as stream:
        stream.write('%d\n' % proc.pid)
    print('CHART_REPO_URL=http://127.0.0.1:%d' % args.port)
    return 0


def down(args):
    path = pid_file(args.port)
    if not os.path.exists(path):
        return 0
    with open(path) as stream:
        pid = int(stream.read().strip())
    try:
        os.kill(pid, signal.SIGTERM)
        for _attempt in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.remove(path)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.emulators.charts')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('package', help='helm package the stand-in chart of a version; prints the archive path')
    p.add_argument('--version', required=True, choices=charts.VERSIONS)
    p.add_argument('--dest', required=True)
    p.add_argument('--no-crds', action='store_true', help='without crds/ (the generated ClusterPolicy CRD)')
    for name in ('serve', 'up'):
        p = sub.add_parser(name, help='%s a chart repository on 127.0.0.1:PORT for the archives in DIR' % (
            'run' if name == 'serve' else 'start in the background'))
        p.add_argument('--port', type=int, required=True)
        p.add_argument('--dir', required=True)
        p.add_argument('--username')
        p.add_argument('--password-file')
        p.add_argument('--log', help='request log, one JSON object a line (default DIR/requests.jsonl)')
    p = sub.add_parser('down', help='stop the repository started by up on PORT')
    p.add_argument('--port', type=int, required=True)
    sub.add_parser('schema', help='regenerate each version\'s values.schema.json from its values.yaml')
    args = parser.parse_args(argv)
    if args.command in ('serve', 'up') and bool(args.username) != bool(args.password_file):
        parser.error('--username and --password-file go together')
    if args.command == 'package':
        print(charts.package(args.version, args.dest, with_crds=not args.no_crds))
        return 0
    if args.command == 'schema':
        charts.write_schemas()
        return 0
    return {'serve': serve, 'up': up, 'down': down}[args.command](args)


if __name__ == '__main__':
    sys.exit(main())
