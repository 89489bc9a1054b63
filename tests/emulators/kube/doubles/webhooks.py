"""Admission webhooks the test world registers as ValidatingWebhookConfigurations, served over TLS on 127.0.0.1.

- ``virtualmachine-validator.kubevirt.io`` (KubeVirt's virt-api, VirtualMachine CREATE/UPDATE): :mod:`.virt`.
- ``kubevirt-update-validator.kubevirt.io`` / ``kubevirt-create-validator.kubevirt.io`` (KubeVirt's virt-operator,
  KubeVirt CR UPDATE / CREATE; the update one answers with admission warnings too): :mod:`.kubevirt_cr`.
- ``validation.vspheremachinetemplate.infrastructure.x-k8s.io`` (CAPV, VSphereMachineTemplate CREATE/UPDATE):
  ``spec.template.spec.pciDevices[i]`` needs either deviceId + vendorId or vGPUProfile; on UPDATE
  ``spec.template.spec`` is immutable (CAPV internal/webhooks/vspheremachinetemplate.go, validatePCIDevices).
- ``faults.gpuvirt.test`` (the test world's own, every write, failurePolicy Ignore): the hook through which tests
  make the API server fail a write (an injected status) or make another writer change an object while a write is
  in flight, so the write's resourceVersion precondition fails with 409 as it would in a busy cluster.
"""
import base64
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import kubevirt_cr
from .runtime import KUBEVIRTS, WEBHOOKS

CAPV_WEBHOOK = 'validation.vspheremachinetemplate.infrastructure.x-k8s.io'
KUBEVIRT_WEBHOOK = 'virtualmachine-validator.kubevirt.io'
FAULTS_WEBHOOK = 'faults.gpuvirt.test'


def configurations(port, ca_file):
    with open(ca_file, 'rb') as stream:
        ca_bundle = base64.b64encode(stream.read()).decode()

    def hook(name, path, rules, failure='Fail'):
        return {'name': name, 'clientConfig': {'url': 'https://127.0.0.1:%d%s' % (port, path), 'caBundle': ca_bundle},
                'rules': rules, 'failurePolicy': failure, 'matchPolicy': 'Equivalent', 'sideEffects': 'None',
                'admissionReviewVersions': ['v1'], 'timeoutSeconds': 10}
    return [
        {'apiVersion': 'admissionregistration.k8s.io/v1', 'kind': 'ValidatingWebhookConfiguration',
         'metadata': {'name': 'virt-api-validator'},
         'webhooks': [hook(KUBEVIRT_WEBHOOK, '/virtualmachines-validate', [
             {'operations': ['CREATE', 'UPDATE'], 'apiGroups': ['kubevirt.io'], 'apiVersions': ['v1'],
              'resources': ['virtualmachines']}])]},
        {'apiVersion': 'admissionregistration.k8s.io/v1', 'kind': 'ValidatingWebhookConfiguration',
         'metadata': {'name': 'virt-operator-validator'},
         'webhooks': [hook(kubevirt_cr.UPDATE_WEBHOOK, kubevirt_cr.UPDATE_PATH, [
             {'operations': ['UPDATE'], 'apiGroups': ['kubevirt.io'], 'apiVersions': ['v1'], 'resources': ['kubevirts']}]),
             hook(kubevirt_cr.CREATE_WEBHOOK, kubevirt_cr.CREATE_PATH, [
                 {'operations': ['CREATE'], 'apiGroups': ['kubevirt.io'], 'apiVersions': ['v1'], 'resources': ['kubevirts']}])]},
        {'apiVersion': 'admissionregistration.k8s.io/v1', 'kind': 'ValidatingWebhookConfiguration',
         'metadata': {'name': 'capv-validating-webhook-configuration'},
         'webhooks': [hook(CAPV_WEBHOOK, '/validate-infrastructure-cluster-x-k8s-io-v1beta1-vspheremachinetemplate', [
             {'operations': ['CREATE', 'UPDATE'], 'apiGroups': ['infrastructure.cluster.x-k8s.io'],
              'apiVersions': ['v1beta1'], 'resources': ['vspheremachinetemplates']}])]},
        {'apiVersion': 'admissionregistration.k8s.io/v1', 'kind': 'ValidatingWebhookConfiguration',
         'metadata': {'name': 'gpuvirt-test-faults'},
         'webhooks': [hook(FAULTS_WEBHOOK, '/faults', [
             {'operations': ['CREATE', 'UPDATE', 'DELETE'], 'apiGroups': ['*'], 'apiVersions': ['*'],
              'resources': ['*/*']}], failure='Ignore')]},
    ]


def capv_template_denial(request):
    obj = request.get('object') or {}
    spec = ((obj.get('spec') or {}).get('template') or {}).get('spec') or {}
    causes = []
    for index, device in enumerate(spec.get('pciDevices') or []):
        profile = device.get('vGPUProfile') or ''
        device_id, vendor_id = device.get('deviceId'), device.get('vendorId')
        if profile and device_id is None and vendor_id is None:
            continue
        if not profile and device_id is not None and vendor_id is not None:
            continue
        causes.append(('spec.template.spec.pciDevices[%d]' % index,
                       'Invalid value: %s: should have either deviceId + vendorId or vGPUProfile set' % json.dumps(device)))
    if request.get('operation') == 'UPDATE':
        old = (((request.get('oldObject') or {}).get('spec') or {}).get('template') or {}).get('spec')
        if old != spec:
            causes.append(('spec.template.spec', 'Forbidden: VSphereMachineTemplate spec.template.spec field is '
                                                 'immutable. Please create a new resource instead.'))
    if not causes:
        return None
    name = (obj.get('metadata') or {}).get('name', '')
    details = ', '.join('%s: %s' % cause for cause in causes)
    details = '[%s]' % details if len(causes) > 1 else details
    return {'code': 422, 'reason': 'Invalid',
            'message': 'VSphereMachineTemplate.infrastructure.cluster.x-k8s.io "%s" is invalid: %s' % (name, details),
            'details': {'name': name, 'group': 'infrastructure.cluster.x-k8s.io', 'kind': 'VSphereMachineTemplate',
                        'causes': [{'reason': 'FieldValueInvalid', 'field': f, 'message': m} for f, m in causes]}}


class Faults(object):
    """Injected failures and concurrent writes, matched on the request's method and path."""

    def __init__(self, client):
        self.client = client
        self.lock = threading.Lock()
        self.failures = []
        self.conflicts = []

    def clear(self):
        with self.lock:
            self.failures, self.conflicts = [], []

    def add_failure(self, spec):
        with self.lock:
            self.failures.append(dict(spec))

    def add_conflict(self, spec):
        with self.lock:
            self.conflicts.append(dict(spec))

    def state(self):
        with self.lock:
            return {'failures': list(self.failures), 'conflicts': list(self.conflicts)}

    @staticmethod
    def _path(request):
        resource = request.get('resource') or {}
        group, version = resource.get('group'), resource.get('version')
        path = '/apis/%s/%s' % (group, version) if group else '/api/%s' % version
        if request.get('namespace'):
            path += '/namespaces/%s' % request['namespace']
        path += '/%s' % resource.get('resource')
        if request.get('name'):
            path += '/%s' % request['name']
        if request.get('subResource'):
            path += '/%s' % request['subResource']
        return path

    def review(self, request, user):
        if user == 'gpuvirt-controllers':
            return None
        method = {'CREATE': 'POST', 'DELETE': 'DELETE'}.get(request.get('operation'), 'PATCH')
        path = self._path(request)
        with self.lock:
            failure = next((f for f in self.failures if f['times'] > 0 and f['path'] == path
                            and f['method'] in (method, 'PUT' if method == 'PATCH' else method, '*')), None)
            if failure is not None:
                failure['times'] -= 1
            conflict = None if failure else next((c for c in self.conflicts if c['times'] > 0 and c['path'] == path), None)
            if conflict is not None:
                conflict['times'] -= 1
        if failure is not None:
            return {'code': failure['status'], 'reason': failure.get('reason', 'InternalError'),
                    'message': failure.get('message', 'injected failure')}
        if conflict is not None:
            patch = conflict.get('patch') or {'metadata': {'annotations': {'gpuvirt.test/concurrent-writer': str(conflict['times'])}}}
            self.client.request('PATCH', path, patch, content_type='application/merge-patch+json')
        return None


class WebhookServer(object):
    def __init__(self, port, cert, key, virt, faults):
        self.virt = virt
        self.faults = faults
        server = self
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *_args):
                pass

            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get('Content-Length') or 0)
                review = json.loads(self.rfile.read(length) or b'{}')
                request = review.get('request') or {}
                try:
                    status, warnings = server.decide(self.path, request)
                except Exception as exc:  # pylint: disable=broad-except
                    status, warnings = {'code': 500, 'reason': 'InternalError', 'message': 'webhook double failed: %s' % exc}, []
                response = {'uid': request.get('uid'), 'allowed': status is None}
                if status is not None:
                    response['status'] = dict(status, status='Failure')
                if warnings:
                    response['warnings'] = list(warnings)
                body = json.dumps({'apiVersion': 'admission.k8s.io/v1', 'kind': 'AdmissionReview',
                                   'response': response}).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(('127.0.0.1', port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)

    def decide(self, path, request):
        """``(status or None, warnings)``: the denial (None to allow) and the admission warnings of a request."""
        if path.startswith('/virtualmachines-validate'):
            return self.virt.admit(request.get('object') or {}), []
        if path.startswith(kubevirt_cr.UPDATE_PATH):
            return kubevirt_cr.admit_update(request.get('oldObject') or {}, request.get('object') or {})
        if path.startswith(kubevirt_cr.CREATE_PATH):
            existing = self.faults.client.request('GET', KUBEVIRTS.path()).get('items') or []
            return kubevirt_cr.admit_create(existing)
        if path.startswith('/validate-infrastructure-cluster-x-k8s-io-v1beta1-vspheremachinetemplate'):
            return capv_template_denial(request), []
        if path.startswith('/faults'):
            return self.faults.review(request, (request.get('userInfo') or {}).get('username')), []
        return {'code': 404, 'reason': 'NotFound', 'message': 'no webhook at %s' % path}, []

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, name='webhooks', daemon=True).start()


def register(client, port, ca_file):
    for config in configurations(port, ca_file):
        current = client.get(WEBHOOKS, None, config['metadata']['name'])
        if current is None:
            client.create(WEBHOOKS, config)
        else:
            config['metadata']['resourceVersion'] = current['metadata']['resourceVersion']
            client.request('PUT', WEBHOOKS.path(None, config['metadata']['name']), config)
