"""The Kubernetes test world: a real kube-apiserver and etcd with upstream CRDs, kubectl and helm, and doubles of
the controllers and webhooks that have no runnable form here; see README.md in this folder.

:class:`EmulatorControl` is the client tests use for the world's hooks: the request log (the API server's own
audit log, requests of the kubeconfig's user), injected failures and concurrent writes (through an admission
webhook of the world), the GPU Operator double's state, and a reset to the seeded cluster.
"""
import json
import os
import time
import urllib.parse
import urllib.request
import uuid

from . import world

DISCOVERY_PREFIXES = ('/api', '/apis', '/openapi', '/version')
WRITE_VERBS = ('create', 'update', 'patch', 'delete', 'deletecollection')
MARKER = 'gpuvirt-audit-marker-'


class EmulatorControl(object):
    """Hooks of the world whose API server listens on 127.0.0.1:``port``."""

    def __init__(self, port):
        self.port = port
        self.state = world.load_state(port)
        if self.state is None:
            raise RuntimeError('no Kubernetes test world runs on port %d (%s)' % (port, world.state_path(port)))
        self.base = 'http://127.0.0.1:%d/_emulator/' % self.state['control_port']
        self.offset_file = os.path.join(self.state['root'], 'audit.offset')

    # ------------------------------------------------------------------ doubles' hooks
    def _call(self, method, what, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + what, data=data, method=method,
                                         headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def inject_conflict(self, path, times=1, patch=None):
        """While each of the next ``times`` writes to the object at ``path`` is in flight, another writer changes it
        (merge ``patch``, or an annotation), so a write with a resourceVersion precondition gets 409 Conflict."""
        return self._call('POST', 'conflicts', {'path': path, 'times': times, 'patch': patch})

    def inject_failure(self, method, path, status=500, times=1, reason='InternalError', message='injected failure'):
        """The next ``times`` writes (``method``: POST, PATCH/PUT, DELETE or ``*``) to ``path`` fail with ``status``."""
        return self._call('POST', 'failures', {'method': method, 'path': path, 'status': status, 'times': times,
                                               'reason': reason, 'message': message})

    def operator(self):
        return self._call('GET', 'operator')

    def set_delay(self, seconds):
        """How long vgpu-device-manager takes to apply a vGPU config from now on."""
        return self._call('POST', 'operator', {'delay': seconds})

    def settled(self, timeout=30):
        return self._call('GET', 'settled', {'timeout': timeout})['settled']

    def reset_cluster(self):
        """Back to the seeded cluster (objects, node labels and resources, injections), and an empty request log."""
        answer = self._call('POST', 'reset', {}, timeout=120)
        self.reset()
        return answer

    def health(self):
        return self._call('GET', 'health')

    # ------------------------------------------------------------------ request log (audit log)
    def _rest(self):
        from .rest import Rest  # pylint: disable=import-outside-toplevel
        with open(self.state['kubeconfig']) as stream:
            token = json.load(stream)['users'][0]['user']['token']
        return Rest(self.state['server'], token, self.state['ca'])

    def _flush(self):
        """Make a marker request and wait until the audit log has it: every request answered before is logged."""
        marker = MARKER + uuid.uuid4().hex
        try:
            self._rest().get('/api/v1/namespaces/default/configmaps/' + marker)
        except Exception:  # pylint: disable=broad-except
            pass  # 404, as intended
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(self.state['audit_log'], 'rb') as stream:
                data = stream.read()
            position = data.find(marker.encode())
            if position >= 0:
                return data, data.find(b'\n', position) + 1
            time.sleep(0.02)
        raise RuntimeError('the audit log never showed the marker request %s' % marker)

    def _offset(self):
        try:
            with open(self.offset_file) as stream:
                return int(stream.read())
        except (OSError, ValueError):
            return 0

    def reset(self):
        """Start the request log afresh."""
        _data, end = self._flush()
        with open(self.offset_file, 'w') as stream:
            stream.write(str(end))

    def requests(self, user=None):
        """Every request of the kubeconfig's user (or ``user``) since the last :meth:`reset`, oldest first:
        {verb, method, path, query, status, write, user, resource, name, namespace, subresource}."""
        data, end = self._flush()
        user = user or self.state['admin_user']
        entries = []
        for line in data[self._offset():end].splitlines():
            if not line.strip():
                continue
            event = json.loads(line)
            if event.get('stage') != 'ResponseComplete' or (event.get('user') or {}).get('username') != user:
                continue
            entry = entry_of(event)
            if MARKER in entry['path']:
                continue
            entries.append(entry)
        return entries

    def writes(self, user=None):
        """The requests that could change state (create/update/patch/delete, dry runs excluded)."""
        return [r for r in self.requests(user) if r['write']]


def entry_of(event):
    """One audit event as a request-log entry."""
    uri = event.get('requestURI', '')
    path, _sep, query_string = uri.partition('?')
    query = dict(urllib.parse.parse_qsl(query_string))
    ref = event.get('objectRef') or {}
    verb = event.get('verb')
    if not ref and path.startswith(DISCOVERY_PREFIXES):
        verb = 'discovery'
    if verb == 'get' and query.get('watch') in ('true', '1'):
        verb = 'watch'
    method = {'get': 'GET', 'list': 'GET', 'watch': 'GET', 'discovery': 'GET', 'create': 'POST', 'update': 'PUT',
              'patch': 'PATCH', 'delete': 'DELETE', 'deletecollection': 'DELETE'}.get(verb, (verb or '').upper())
    return {'verb': verb, 'method': method, 'path': path, 'query': query,
            'status': (event.get('responseStatus') or {}).get('code'),
            'write': verb in WRITE_VERBS and query.get('dryRun') != 'All',
            'user': (event.get('user') or {}).get('username'), 'user_agent': event.get('userAgent'),
            'resource': ref.get('resource'), 'namespace': ref.get('namespace'), 'name': ref.get('name'),
            'subresource': ref.get('subresource')}
