"""A small JSON client of a Kubernetes test world for the role, CAPV, report and demo tests (standard library only):
the kubeconfig's server, bearer token and CA, ``get`` answering None on 404, and ``request`` returning the decoded
body or raising :class:`tests.emulators.kube.rest.ApiError` with the API server's Status."""
import base64
import json
import os
import tempfile
import urllib.error
import urllib.request

from tests.emulators.kube.rest import ApiError, Rest

__all__ = ['ApiError', 'Client']


class Client(Rest):
    """Requests as the kubeconfig's user (they are in the world's request log, like the modules' own)."""

    @classmethod
    def from_kubeconfig(cls, kubeconfig, ca_file=None):
        """A client from the kubeconfig; ``ca_file`` (the world's CA) saves writing its CA data to a file."""
        with open(kubeconfig) as stream:
            config = json.load(stream)
        cluster = config['clusters'][0]['cluster']
        ca_file = ca_file or cluster.get('certificate-authority')
        if not ca_file:
            fd, ca_file = tempfile.mkstemp(prefix='gpuvirt-world-ca-', suffix='.crt')
            with os.fdopen(fd, 'wb') as stream:
                stream.write(base64.b64decode(cluster['certificate-authority-data']))
        return cls(cluster['server'], config['users'][0]['user']['token'], ca_file, user_agent='gpuvirt-tests')

    def get(self, path, **query):
        """The object at ``path``, or None when the API server answers 404."""
        try:
            return self.request('GET', path, query=query or None)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def call(self, method, path, body=None, content_type='application/json'):
        """(HTTP status, decoded body) of one request, errors included."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method, headers={
            'Authorization': 'Bearer ' + self.token, 'Accept': 'application/json', 'Content-Type': content_type,
            'User-Agent': self.user_agent})
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.context) as response:
                return response.status, json.loads(response.read() or b'{}')
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            try:
                return exc.code, json.loads(payload)
            except ValueError:
                return exc.code, {'message': payload.decode('utf-8', 'replace')}
