"""The few Kubernetes API calls the helm double makes, from a kubeconfig (``--kubeconfig``, ``KUBECONFIG``),
its context (``--kube-context``, ``HELM_KUBECONTEXT``) and ``HELM_KUBEAPISERVER`` / ``HELM_KUBETOKEN`` overrides,
like helm's own client. Errors carry the API server's Status message."""
import json
import os
import ssl
import urllib.error
import urllib.request

import yaml


class KubeError(Exception):
    def __init__(self, status, message, reason=''):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


class Unreachable(Exception):
    """helm: ``Error: Kubernetes cluster unreachable: ...``."""


class Client(object):
    def __init__(self, server, token=None, insecure=False, namespace=None):
        self.server = server.rstrip('/')
        self.token = token
        self.namespace = namespace
        self.context = None
        if server.startswith('https') and insecure:
            self.context = ssl._create_unverified_context()  # pylint: disable=protected-access

    @classmethod
    def from_environment(cls, kubeconfig=None, context=None):
        path = kubeconfig or os.environ.get('KUBECONFIG') or os.path.expanduser('~/.kube/config')
        path = path.split(os.pathsep)[0]
        server = os.environ.get('HELM_KUBEAPISERVER')
        token = os.environ.get('HELM_KUBETOKEN')
        namespace = None
        insecure = os.environ.get('HELM_KUBEINSECURE_SKIP_TLS_VERIFY') == 'true'
        if not server or not token:
            try:
                with open(path) as stream:
                    config = yaml.safe_load(stream) or {}
            except OSError as exc:
                if server:
                    return cls(server, token, insecure)
                raise Unreachable('invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER '
                                  'environment variable (%s)' % exc) from None
            name = context or os.environ.get('HELM_KUBECONTEXT') or config.get('current-context')
            ctx = next((c['context'] for c in config.get('contexts', []) if c.get('name') == name), None)
            if ctx is None:
                raise Unreachable('context "%s" does not exist' % name)
            cluster = next((c['cluster'] for c in config.get('clusters', []) if c.get('name') == ctx.get('cluster')), {})
            user = next((u['user'] for u in config.get('users', []) if u.get('name') == ctx.get('user')), {}) or {}
            server = server or cluster.get('server')
            token = token or user.get('token')
            namespace = ctx.get('namespace')
            insecure = insecure or bool(cluster.get('insecure-skip-tls-verify'))
            if not server:
                raise Unreachable('invalid configuration: no server found for cluster "%s"' % ctx.get('cluster'))
        return cls(server, token, insecure, namespace)

    def request(self, method, path, body=None, content_type='application/json'):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server + path, data=data, method=method)
        request.add_header('Accept', 'application/json')
        request.add_header('User-Agent', 'Helm/3.17.3')
        if data is not None:
            request.add_header('Content-Type', content_type)
        if self.token:
            request.add_header('Authorization', 'Bearer ' + self.token)
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.context) as response:
                return json.loads(response.read() or b'null')
        except urllib.error.HTTPError as exc:
            try:
                status = json.loads(exc.read())
            except ValueError:
                status = {}
            raise KubeError(exc.code, status.get('message') or str(exc), status.get('reason', '')) from None
        except (urllib.error.URLError, OSError) as exc:
            raise Unreachable('Get "%s/version": %s' % (self.server, getattr(exc, 'reason', exc))) from None

    def get(self, path):
        """The object, or None on 404."""
        try:
            return self.request('GET', path)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    def ping(self):
        try:
            self.request('GET', '/version')
        except KubeError as exc:
            if exc.status in (401, 403):
                raise Unreachable('the server has asked for the client to provide credentials') from None
            if exc.status != 404:  # the emulator may not serve /version
                raise


def object_path(obj, namespace=None):
    """The REST path of ``obj`` (kinds the GPU Operator chart creates)."""
    kind = obj['kind']
    name = obj['metadata']['name']
    if kind == 'CustomResourceDefinition':
        return '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/' + name
    if kind == 'ClusterPolicy':
        return '/apis/nvidia.com/v1/clusterpolicies/' + name
    if kind == 'Namespace':
        return '/api/v1/namespaces/' + name
    if kind in ('ConfigMap', 'Secret', 'ServiceAccount'):
        return '/api/v1/namespaces/%s/%ss/%s' % (namespace, kind.lower(), name)
    raise ValueError('the helm double cannot create %s objects' % kind)


def collection_path(obj, namespace=None):
    return object_path(obj, namespace).rsplit('/', 1)[0]
