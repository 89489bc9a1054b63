"""What every controller double stands on, the way controller-runtime does it: a client of the real API server
(the official ``kubernetes`` package), informers (LIST, then WATCH from that resourceVersion, a local cache, events
to the controllers) and one work loop that runs reconciles in order, now or after a delay.

Controllers read from the informers' caches and write with GET + mutate + PUT (``update``), retried on 409 as
controllers do.
"""
import heapq
import itertools
import json
import logging
import threading
import time
from collections import namedtuple

LOG = logging.getLogger('doubles')


class Kind(namedtuple('Kind', 'group version plural kind namespaced')):
    @property
    def api_version(self):
        return '%s/%s' % (self.group, self.version) if self.group else self.version

    def path(self, namespace=None, name=None, subresource=None):
        base = '/api/%s' % self.version if not self.group else '/apis/%s/%s' % (self.group, self.version)
        if self.namespaced and namespace:
            base += '/namespaces/%s' % namespace
        base += '/' + self.plural
        if name:
            base += '/' + name
        if subresource:
            base += '/' + subresource
        return base


NODES = Kind('', 'v1', 'nodes', 'Node', False)
NAMESPACES = Kind('', 'v1', 'namespaces', 'Namespace', False)
CONFIGMAPS = Kind('', 'v1', 'configmaps', 'ConfigMap', True)
SECRETS = Kind('', 'v1', 'secrets', 'Secret', True)
CRDS = Kind('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', False)
KUBEVIRTS = Kind('kubevirt.io', 'v1', 'kubevirts', 'KubeVirt', True)
VMS = Kind('kubevirt.io', 'v1', 'virtualmachines', 'VirtualMachine', True)
VMIS = Kind('kubevirt.io', 'v1', 'virtualmachineinstances', 'VirtualMachineInstance', True)
CLUSTER_POLICIES = Kind('nvidia.com', 'v1', 'clusterpolicies', 'ClusterPolicy', False)
WEBHOOKS = Kind('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations',
                'ValidatingWebhookConfiguration', False)


class ApiError(Exception):
    def __init__(self, status, body):
        self.status = status
        self.body = body
        super().__init__('%s %s' % (status, body[:300] if isinstance(body, str) else body))


class Client(object):
    """JSON requests through ``kubernetes.client.ApiClient`` (bearer token, the world's CA)."""

    def __init__(self, server, token, ca_file):
        from kubernetes import client  # pylint: disable=import-outside-toplevel
        configuration = client.Configuration()
        configuration.host = server
        configuration.api_key = {'BearerToken': token, 'authorization': token}
        configuration.api_key_prefix = {'BearerToken': 'Bearer', 'authorization': 'Bearer'}
        configuration.ssl_ca_cert = ca_file
        configuration.verify_ssl = True
        self.api = client.ApiClient(configuration)

    def request(self, method, path, body=None, query=None, content_type='application/json', timeout=30, stream=False):
        headers = {'Accept': 'application/json', 'Content-Type': content_type, 'User-Agent': 'gpuvirt-controller-doubles'}
        serialized = self.api.param_serialize(method, path, query_params=list((query or {}).items()),
                                              header_params=headers, body=body, auth_settings=['BearerToken'])
        response = self.api.call_api(*serialized, _request_timeout=None if stream else timeout)
        if response.status >= 400:
            data = response.read()
            raise ApiError(response.status, data.decode('utf-8', 'replace') if isinstance(data, bytes) else str(data))
        if stream:
            return response.response
        data = response.read()
        return json.loads(data) if data else None

    def get(self, kind, namespace, name):
        try:
            return self.request('GET', kind.path(namespace, name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def create(self, kind, obj):
        return self.request('POST', kind.path(obj['metadata'].get('namespace')), obj)

    def update(self, kind, namespace, name, mutate, subresource=None):
        """GET, ``mutate(obj)`` in place, PUT (the status subresource with ``subresource='status'``); retried on
        409. Returns the stored object, or None when the object is gone or nothing changed."""
        for _attempt in range(10):
            current = self.get(kind, namespace, name)
            if current is None:
                return None
            wanted = json.loads(json.dumps(current))
            mutate(wanted)
            if wanted == current:
                return None
            try:
                return self.request('PUT', kind.path(namespace, name, subresource), wanted)
            except ApiError as exc:
                if exc.status == 409:
                    continue
                if exc.status == 404:
                    return None
                raise
        raise ApiError(409, 'gave up after 10 conflicts updating %s %s/%s' % (kind.kind, namespace, name))


class Informer(object):
    """LIST + WATCH of one kind into a cache; ``handler(kind, before, after)`` runs in the work loop."""

    def __init__(self, client, kind, loop, handler):
        self.client = client
        self.kind = kind
        self.loop = loop
        self.handler = handler
        self.cache = {}
        self.lock = threading.Lock()
        self.synced = threading.Event()
        self.stopping = False

    @staticmethod
    def key(obj):
        return (obj['metadata'].get('namespace'), obj['metadata']['name'])

    def items(self):
        with self.lock:
            return [json.loads(json.dumps(o)) for _k, o in sorted(self.cache.items(), key=lambda kv: (kv[0][0] or '', kv[0][1]))]

    def get(self, namespace, name):
        with self.lock:
            obj = self.cache.get((namespace if self.kind.namespaced else None, name))
            return json.loads(json.dumps(obj)) if obj is not None else None

    def start(self):
        threading.Thread(target=self._run, name='informer-%s' % self.kind.plural, daemon=True).start()

    def _run(self):
        while not self.stopping:
            try:
                listing = self.client.request('GET', self.kind.path())
            except ApiError as exc:
                if exc.status == 404:  # the CRD is not installed (yet): look again later
                    self._replace({})
                    self.synced.set()
                    time.sleep(0.5)
                    continue
                LOG.warning('list %s: %s', self.kind.plural, exc)
                time.sleep(0.5)
                continue
            except Exception as exc:  # pylint: disable=broad-except
                LOG.warning('list %s: %s', self.kind.plural, exc)
                time.sleep(0.5)
                continue
            self._replace({self.key(o): o for o in listing.get('items') or []})
            self.synced.set()
            self._watch(listing['metadata'].get('resourceVersion'))

    def _replace(self, fresh):
        with self.lock:
            old = self.cache
            self.cache = fresh
        for key in set(old) | set(fresh):
            before, after = old.get(key), fresh.get(key)
            if before != after:
                self.loop.call(self.handler, self.kind, before, after)

    def _watch(self, resource_version):
        try:
            response = self.client.request('GET', self.kind.path(), stream=True, query={
                'watch': 'true', 'resourceVersion': resource_version, 'allowWatchBookmarks': 'false',
                'timeoutSeconds': '300'})
        except Exception as exc:  # pylint: disable=broad-except
            LOG.warning('watch %s: %s', self.kind.plural, exc)
            return
        buffer = b''
        try:
            for chunk in response.stream(4096, decode_content=False):
                buffer += chunk
                while b'\n' in buffer:
                    line, buffer = buffer.split(b'\n', 1)
                    if line.strip() and not self._event(json.loads(line)):
                        return
        except Exception as exc:  # pylint: disable=broad-except
            LOG.info('watch %s ended: %s', self.kind.plural, exc)
        finally:
            response.release_conn()

    def _event(self, event):
        kind, obj = event.get('type'), event.get('object') or {}
        if kind == 'ERROR':
            return False  # 410 Gone and friends: list again
        key = self.key(obj)
        with self.lock:
            before = self.cache.get(key)
            if kind == 'DELETED':
                self.cache.pop(key, None)
                after = None
            else:
                self.cache[key] = obj
                after = obj
        self.loop.call(self.handler, self.kind, before, after)
        return True


class WorkLoop(object):
    """One thread running callbacks in order: now (``call``) or after a delay (``later``), with named timers that a
    newer schedule of the same name replaces (a controller's rate-limited requeue)."""

    def __init__(self):
        self.queue = []
        self.counter = itertools.count()
        self.condition = threading.Condition()
        self.generations = {}
        self.busy = 0

    def call(self, function, *args):
        self.later(0, None, function, *args)

    def later(self, delay, name, function, *args):
        with self.condition:
            generation = None
            if name is not None:
                generation = self.generations[name] = self.generations.get(name, 0) + 1
            heapq.heappush(self.queue, (time.monotonic() + delay, next(self.counter), name, generation, function, args))
            self.condition.notify()

    def cancel(self, name):
        with self.condition:
            self.generations[name] = self.generations.get(name, 0) + 1

    def pending(self, name):
        with self.condition:
            return any(item[2] == name and item[3] == self.generations.get(name) for item in self.queue)

    def idle(self):
        with self.condition:
            now = time.monotonic()
            return not self.busy and not any(item[0] <= now for item in self.queue)

    def start(self):
        threading.Thread(target=self._run, name='work-loop', daemon=True).start()

    def _run(self):
        while True:
            with self.condition:
                while not self.queue or self.queue[0][0] > time.monotonic():
                    self.condition.wait(None if not self.queue else max(0.0, self.queue[0][0] - time.monotonic()))
                _due, _n, name, generation, function, args = heapq.heappop(self.queue)
                if name is not None and self.generations.get(name) != generation:
                    continue
                self.busy += 1
            try:
                function(*args)
            except Exception:  # pylint: disable=broad-except
                LOG.exception('reconcile %s failed', getattr(function, '__name__', function))
            finally:
                with self.condition:
                    self.busy -= 1
