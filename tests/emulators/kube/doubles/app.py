"""The doubles process of the test world: seeds the cluster through the real API server, runs the controller
doubles (GPU Operator node behaviour, virt-controller, the namespace controller) on informers, serves the admission
webhooks, and answers the tests' hooks on ``http://127.0.0.1:CONTROL_PORT/_emulator/``.

Hooks: ``GET health`` ({ready, settled}), ``GET|POST operator`` (state; ``{"delay": S}``), ``POST failures`` /
``POST conflicts`` (see :mod:`.webhooks`), ``POST reset`` (back to the seeded cluster), ``GET settled``.
"""
import argparse
import glob
import json
import logging
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from . import catalog, seed, webhooks
from .operator import GpuOperator
from .runtime import (CLUSTER_POLICIES, CONFIGMAPS, CRDS, KUBEVIRTS, NAMESPACES, NODES, SECRETS, VMIS, VMS,
                      ApiError, Client, Informer, Kind, WorkLoop)
from .virt import VirtController

LOG = logging.getLogger('doubles')
SYSTEM_NAMESPACES = ('default', 'kube-system', 'kube-public', 'kube-node-lease')


class Cluster(object):
    """What the controller doubles see: informer caches for lists, the API server for reads and writes."""

    def __init__(self, client, delay):
        self.client = client
        self.loop = WorkLoop()
        self.controller_delay = delay
        self.informers = {}
        self.handlers = []

    def watch(self, kind):
        informer = Informer(self.client, kind, self.loop, self._dispatch)
        self.informers[kind] = informer
        informer.start()
        return informer

    def _dispatch(self, kind, before, after):
        for handler in self.handlers:
            handler(kind, before, after)

    def items(self, kind):
        informer = self.informers.get(kind)
        if informer is not None:
            return informer.items()
        listing = self.client.request('GET', kind.path())
        return listing.get('items') or []

    def get(self, kind, namespace, name):
        return self.client.get(kind, namespace, name)

    def controller_update(self, kind, namespace, name, mutate):
        """``mutate`` may change metadata/spec and status: the first go through the object, the last through its
        status subresource (as the operands' and controllers' writes do)."""
        holder = {}

        def main(obj):
            wanted = json.loads(json.dumps(obj))
            mutate(wanted)
            holder['status'] = wanted.get('status')
            obj['metadata'] = wanted['metadata']
            if 'spec' in wanted:
                obj['spec'] = wanted['spec']
        self.client.update(kind, namespace, name, main)
        if 'status' in holder:
            def status(obj):
                obj['status'] = holder['status']
            self.client.update(kind, namespace, name, status, subresource='status')


class Doubles(object):
    def __init__(self, args):
        self.args = args
        self.client = Client(args.server, os.environ['GPUVIRT_WORLD_TOKEN'], args.ca)
        self.cluster = Cluster(self.client, args.delay)
        self.initial_delay = args.delay
        self.nodes = seed.parse_nodes(args.nodes)
        self.operator = GpuOperator(self.cluster)
        self.virt = VirtController(self.cluster)
        self.cluster.virt = self.virt
        self.faults = webhooks.Faults(self.client)
        self.crds = self._crds()
        self.ready = False
        self.lock = threading.Lock()
        for name, model, count in self.nodes:
            if model is not None:
                self.operator.add_node(name, model, count)

    # ------------------------------------------------------------------ CRDs
    def _crds(self):
        crds = []
        for path in sorted(glob.glob(os.path.join(self.args.crds, '*.yaml'))):
            base = os.path.basename(path)
            if base.startswith('clusterpolicy-') and base != 'clusterpolicy-%s.yaml' % self.args.gpu_operator_crd:
                continue
            if base.startswith('harvester') and not self.args.harvester:
                continue
            with open(path) as stream:
                crds.extend(d for d in yaml.safe_load_all(stream) if d)
        return crds

    def install_crds(self, replace=False):
        """Create the world's CRDs; with ``replace``, also put back one a test replaced by another version (told
        apart by the generator's annotations, e.g. ClusterPolicy v25.3 instead of v25.10)."""
        wanted = []
        for crd in self.crds:
            name = crd['metadata']['name']
            current = self.client.get(CRDS, None, name)
            if current is not None and replace and _provenance(current) != _provenance(crd):
                self._delete(CRDS, None, name)
                deadline = time.monotonic() + 60
                while self.client.get(CRDS, None, name) is not None and time.monotonic() < deadline:
                    time.sleep(0.05)
                current = None
            if current is None:
                self.client.create(CRDS, crd)
            wanted.append(name)
        deadline = time.monotonic() + 60
        for name in wanted:
            while True:
                crd = self.client.get(CRDS, None, name) or {}
                conditions = {c['type']: c['status'] for c in (crd.get('status') or {}).get('conditions') or []}
                if conditions.get('Established') == 'True':
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError('CRD %s was not Established within 60 s: %s' % (name, crd.get('status')))
                time.sleep(0.05)

    # ------------------------------------------------------------------ seed / reset
    def seed(self):
        for name in seed.SEEDED_NAMESPACES:
            if self.client.get(NAMESPACES, None, name) is None:
                self.client.create(NAMESPACES, {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': name}})
        for index, (name, model, count) in enumerate(self.nodes):
            self._put(NODES, seed.node_object(name, model, count, index))
        if not self.args.no_cluster_policy:
            self._put(CLUSTER_POLICIES, self._policy_object())
        if not self.args.no_kubevirt:
            self._put(KUBEVIRTS, seed.kubevirt_object(self.args.kubevirt_version,
                                                      [g for g in self.args.feature_gates.split(',') if g]))
        self.operator.immediate = True
        self.virt.immediate = True
        try:
            for name, model, _count in self.nodes:
                if model is not None:
                    self.operator.schedule(name)
        finally:
            self.operator.immediate = False
            self.virt.immediate = False

    def _policy_object(self):
        policy = seed.cluster_policy_object()
        crd = next((c for c in self.crds if c['spec']['names']['kind'] == 'ClusterPolicy'), None)
        if crd is not None:  # only the fields this chart version's CRD has (sandboxWorkloads.mode came in v26.3.0)
            schema = crd['spec']['versions'][0]['schema']['openAPIV3Schema']['properties']['spec']
            sandbox = schema['properties'].get('sandboxWorkloads', {}).get('properties', {})
            if 'mode' not in sandbox:
                policy['spec']['sandboxWorkloads'].pop('mode', None)
            _fill_required(policy['spec'], schema)
        return policy

    def _put(self, kind, obj):
        """Create ``obj`` or make the stored one equal to it (metadata labels/annotations, spec, status)."""
        namespace, name = obj['metadata'].get('namespace'), obj['metadata']['name']
        status = obj.get('status')
        body = {k: v for k, v in obj.items() if k != 'status'}
        current = self.client.get(kind, namespace, name)
        if current is None:
            current = self.client.create(kind, body)
        else:
            def mutate(stored):
                stored['metadata']['labels'] = obj['metadata'].get('labels') or {}
                stored['metadata']['annotations'] = obj['metadata'].get('annotations') or {}
                stored['metadata'].pop('finalizers', None)
                for key in ('spec',):
                    if key in obj:
                        stored[key] = obj[key]
                    else:
                        stored.pop(key, None)
            self.client.update(kind, namespace, name, mutate)
        if status is not None:
            def set_status(stored):
                stored['status'] = status
            self.client.update(kind, namespace, name, set_status, subresource='status')

    def reset(self):
        """Back to the seeded cluster: objects the tests made go, seeded ones get their seeded content again."""
        with self.lock:
            self.faults.clear()
            self.cluster.controller_delay = self.initial_delay
            self.operator.applied.clear()
            self.operator.events.clear()
            for key in list(self.virt.placements):
                self.virt.placements.pop(key, None)
            wanted_crds = {c['metadata']['name'] for c in self.crds}
            for crd in self.client.request('GET', CRDS.path()).get('items') or []:
                if crd['metadata']['name'] not in wanted_crds:
                    self._delete(CRDS, None, crd['metadata']['name'])
            self.install_crds(replace=True)
            seeded_nodes = {n[0] for n in self.nodes}
            for kind, keep in self._clean_kinds():
                try:
                    items = self.client.request('GET', kind.path()).get('items') or []
                except ApiError as exc:
                    if exc.status == 404:
                        continue
                    raise
                for obj in items:
                    meta = obj['metadata']
                    if not keep(meta, seeded_nodes):
                        self._delete(kind, meta.get('namespace'), meta['name'])
            for namespace in self.client.request('GET', NAMESPACES.path()).get('items') or []:
                name = namespace['metadata']['name']
                if name not in SYSTEM_NAMESPACES + seed.SEEDED_NAMESPACES:
                    self._delete(NAMESPACES, None, name)
            self.seed()
        return self.wait_settled()

    def _clean_kinds(self):
        def system(meta, _nodes):
            return meta.get('namespace') in ('kube-system', 'kube-public', 'kube-node-lease')

        def seeded_node(meta, nodes):
            return meta['name'] in nodes
        kinds = [(SECRETS, system), (CONFIGMAPS, system), (VMS, system), (VMIS, system),
                 (CLUSTER_POLICIES, lambda meta, _n: False), (KUBEVIRTS, lambda meta, _n: False), (NODES, seeded_node)]
        for crd in self.crds:
            names = crd['spec']['names']
            version = next(v['name'] for v in crd['spec']['versions'] if v.get('storage'))
            kind = Kind(crd['spec']['group'], version, names['plural'], names['kind'], crd['spec']['scope'] == 'Namespaced')
            if kind.plural not in ('clusterpolicies', 'kubevirts', 'virtualmachines', 'virtualmachineinstances'):
                kinds.append((kind, system))
        return kinds

    def _delete(self, kind, namespace, name):
        try:
            obj = self.client.get(kind, namespace, name)
            if obj is not None and obj['metadata'].get('finalizers'):
                self.client.request('PATCH', kind.path(namespace, name), {'metadata': {'finalizers': None}},
                                    content_type='application/merge-patch+json')
            self.client.request('DELETE', kind.path(namespace, name))
        except ApiError as exc:
            if exc.status not in (404, 409):
                raise

    # ------------------------------------------------------------------ namespace controller
    def on_namespace(self, kind, _before, after):
        """kube-controller-manager's namespace controller: a namespace being deleted loses its objects, then its
        ``kubernetes`` finalizer (pkg/controller/namespace/deletion/namespaced_resources_deleter.go)."""
        if kind != NAMESPACES or after is None or not after['metadata'].get('deletionTimestamp'):
            return
        name = after['metadata']['name']
        for clean, _keep in self._clean_kinds():
            if not clean.namespaced:
                continue
            try:
                items = self.client.request('GET', clean.path(name)).get('items') or []
            except ApiError:
                continue
            for obj in items:
                self._delete(clean, name, obj['metadata']['name'])
        finalize = self.client.get(NAMESPACES, None, name)
        if finalize is None:
            return
        finalize['spec']['finalizers'] = [f for f in finalize['spec'].get('finalizers') or [] if f != 'kubernetes']
        try:
            self.client.request('PUT', NAMESPACES.path(None, name, 'finalize'), finalize)
        except ApiError as exc:
            if exc.status not in (404, 409):
                raise

    def wait_settled(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.cluster.loop.idle() and not any(self.cluster.loop.pending(n) for n in self._timer_names()):
                return True
            time.sleep(0.05)
        return False

    def _timer_names(self):
        names = ['node/' + n[0] for n in self.nodes] + ['vgpu/' + n[0] for n in self.nodes]
        return names

    # ------------------------------------------------------------------ start
    def start(self):
        self.install_crds()
        webhook_server = webhooks.WebhookServer(self.args.webhook_port, self.args.webhook_cert, self.args.webhook_key,
                                                self.virt, self.faults)
        webhook_server.start()
        webhooks.register(self.client, self.args.webhook_port, self.args.ca)
        self.seed()
        self.cluster.handlers = [self._observe]
        for kind in (NODES, CLUSTER_POLICIES, KUBEVIRTS, VMS, NAMESPACES):
            self.cluster.watch(kind)
        for informer in self.cluster.informers.values():
            informer.synced.wait(30)
        self.cluster.loop.start()
        self.wait_settled()
        self.ready = True

    def _observe(self, kind, before, after):
        if kind in (NODES, CLUSTER_POLICIES):
            self.operator.observe(kind, before, after)
        if kind in (VMS, NODES, KUBEVIRTS):
            self.virt.observe(kind, before, after)
        if kind == NAMESPACES:
            self.on_namespace(kind, before, after)

    def control(self, method, what, body):
        if what == 'health':
            return {'ready': self.ready, 'settled': self.cluster.loop.idle()}
        if what == 'operator':
            if method == 'POST' and body and 'delay' in body:
                self.cluster.controller_delay = float(body['delay'])
            return dict(self.operator.state(), vms=self.virt.state())
        if what == 'failures' and method == 'POST':
            body.setdefault('times', 1)
            body.setdefault('status', 500)
            self.faults.add_failure(body)
            return self.faults.state()
        if what == 'conflicts' and method == 'POST':
            body.setdefault('times', 1)
            self.faults.add_conflict(body)
            return self.faults.state()
        if what == 'faults':
            return self.faults.state()
        if what == 'reset' and method == 'POST':
            return {'settled': self.reset()}
        if what == 'settled':
            return {'settled': self.wait_settled(float((body or {}).get('timeout', 30)))}
        raise KeyError(what)


def _provenance(crd):
    annotations = crd['metadata'].get('annotations') or {}
    return {k: v for k, v in annotations.items() if k.startswith('gpuvirt.test/')}


def _fill_required(value, schema):
    """Give ``value`` every field ``schema`` requires (objects recursively; the zero value of other types), as
    the chart's rendering of the ClusterPolicy does with its defaults."""
    zero = {'string': '', 'boolean': False, 'integer': 0, 'number': 0, 'array': []}
    for name in schema.get('required') or []:
        sub = (schema.get('properties') or {}).get(name) or {}
        if name not in value:
            if 'default' in sub:
                value[name] = sub['default']
            elif sub.get('enum'):
                value[name] = sub['enum'][0]
            else:
                value[name] = {} if sub.get('type') == 'object' else zero.get(sub.get('type'), '')
    for name, sub in (schema.get('properties') or {}).items():
        if isinstance(value.get(name), dict) and sub.get('type') == 'object':
            _fill_required(value[name], sub)


def serve_control(doubles, port):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args):
            pass

        def _answer(self, method):
            length = int(self.headers.get('Content-Length') or 0)
            body = json.loads(self.rfile.read(length) or b'null') if length else None
            what = self.path.split('?')[0][len('/_emulator/'):].strip('/')
            try:
                code, answer = 200, doubles.control(method, what, body)
            except KeyError:
                code, answer = 404, {'error': 'no hook %s %s' % (method, self.path)}
            except Exception as exc:  # pylint: disable=broad-except
                LOG.exception('hook %s failed', what)
                code, answer = 500, {'error': str(exc)}
            data = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            self._answer('GET')

        def do_POST(self):  # noqa: N802
            self._answer('POST')

        def do_DELETE(self):  # noqa: N802
            self._answer('DELETE')

    httpd = ThreadingHTTPServer(('127.0.0.1', port), Handler)
    httpd.daemon_threads = True
    return httpd


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.emulators.kube.doubles')
    parser.add_argument('--server', required=True)
    parser.add_argument('--ca', required=True)
    parser.add_argument('--webhook-cert', required=True)
    parser.add_argument('--webhook-key', required=True)
    parser.add_argument('--webhook-port', type=int, required=True)
    parser.add_argument('--control-port', type=int, required=True)
    parser.add_argument('--state')
    parser.add_argument('--crds', required=True)
    parser.add_argument('--gpu-operator-crd', default='v25.10')
    parser.add_argument('--harvester', action='store_true')
    parser.add_argument('--nodes', default='')
    parser.add_argument('--delay', type=float, default=0.5)
    parser.add_argument('--kubevirt-version', default='v1.9.0')
    parser.add_argument('--feature-gates', default='HostDevices')
    parser.add_argument('--no-kubevirt', action='store_true')
    parser.add_argument('--no-cluster-policy', action='store_true')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(threadName)s %(message)s')
    doubles = Doubles(args)
    httpd = serve_control(doubles, args.control_port)
    threading.Thread(target=httpd.serve_forever, name='control', daemon=True).start()
    doubles.start()
    LOG.info('ready: %d nodes, %d CRDs', len(doubles.nodes), len(doubles.crds))
    threading.Event().wait()


__all__ = ['main', 'catalog']
