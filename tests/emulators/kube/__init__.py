"""Kubernetes API emulator for gpuvirt.core tests (kmock-based); see README.md in this folder.

:class:`EmulatorControl` is the client tests use for the emulator's hooks (request log, injected concurrent
writes and failures, the GPU Operator's state) over HTTP, so it works with an emulator in another process.
"""
import json
import urllib.request


class EmulatorControl(object):
    """Talks to ``/_emulator/`` on a running emulator."""

    def __init__(self, port):
        self.port = port
        self.base = 'http://127.0.0.1:%d/_emulator/' % port

    def _call(self, method, what, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + what, data=data, method=method,
                                         headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def requests(self):
        """Every Kubernetes API request since the last :meth:`reset`, oldest first."""
        return self._call('GET', 'requests')['requests']

    def writes(self):
        """The requests that could change state (create/update/patch/delete, dry runs excluded)."""
        return [r for r in self.requests() if r['write']]

    def reset(self):
        self._call('DELETE', 'requests')

    def inject_conflict(self, path, times=1, patch=None):
        """Before the next ``times`` writes to the object at ``path``, another writer changes it (merge ``patch``)."""
        return self._call('POST', 'conflicts', {'path': path, 'times': times, 'patch': patch})

    def inject_failure(self, method, path, status=500, times=1, reason='InternalError', message='injected failure'):
        return self._call('POST', 'failures', {'method': method, 'path': path, 'status': status, 'times': times,
                                               'reason': reason, 'message': message})

    def operator(self):
        return self._call('GET', 'operator')

    def set_delay(self, seconds):
        """How long vgpu-device-manager takes to apply a vGPU config from now on."""
        return self._call('POST', 'operator', {'delay': seconds})

    def reset_cluster(self):
        """Back to the cluster the emulator started with (objects, operator, log, injections)."""
        return self._call('POST', 'reset')

    def health(self):
        return self._call('GET', 'health')
