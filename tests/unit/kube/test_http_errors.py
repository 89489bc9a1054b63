"""The one HTTP client core (module_utils/http_client.py) under the Kubernetes and vCenter REST clients: error answers keep
their API's error class and attributes; a write that was sent and got no answer is an unknown outcome (plan.OutcomeUnknown),
the same on a read, or a server that cannot be reached, is a plain error. A real HTTP server on 127.0.0.1."""
import json
import socket
import threading

import pytest
from http.server import BaseHTTPRequestHandler, HTTPServer

from ansible_collections.gpuvirt.core.plugins.module_utils.kube.client import KubeClient, KubeError, KubeNoAnswer
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import OutcomeUnknown
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere_rest.client import RestClient, RestError, RestNoAnswer


class Handler(BaseHTTPRequestHandler):
    """/conflict: a Kubernetes 409 Status; /vc-missing: a vCenter 404 error; /hang-up: reads the request, closes without
    an answer; anything else: {"ok": true}."""

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        if length:
            self.rfile.read(length)
        if self.path.startswith('/hang-up'):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.path.startswith('/conflict'):
            status, body = 409, {'kind': 'Status', 'reason': 'Conflict', 'message': 'the object has been modified'}
        elif self.path.startswith('/vc-missing'):
            status, body = 404, {'error_type': 'NOT_FOUND', 'messages': [{'default_message': 'no such VM class'}]}
        else:
            status, body = 200, {'ok': True}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PATCH = do_POST = do_DELETE = _answer


@pytest.fixture
def server():
    httpd = HTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


class Configuration(object):
    verify_ssl = False
    ssl_ca_cert = cert_file = key_file = None

    def __init__(self, host):
        self.host = host

    def auth_settings(self):
        return {}


def kube(url):
    return KubeClient({'api_key': 'token', 'request_timeout': 5}, configuration=Configuration(url))


class Rest(RestClient):
    def __init__(self, url):
        super(Rest, self).__init__({'hostname': 'vc', 'username': 'u', 'password': 'p', 'timeout': 5})
        self.url = url

    @property
    def base(self):
        return self.url


def test_answers_and_error_answers_keep_their_api_error_class(server):
    client = kube(server)
    assert client.get('/api/v1/nodes') == {'ok': True}
    with pytest.raises(KubeError) as refused:
        client.merge_patch('/conflict', {'metadata': {}})
    assert refused.value.conflict and refused.value.status == 409 and refused.value.message == 'the object has been modified'
    assert not isinstance(refused.value, OutcomeUnknown)
    rest = Rest(server)
    with pytest.raises(RestError) as missing:
        rest.get('/vc-missing')
    assert missing.value.not_found and missing.value.error_type == 'NOT_FOUND' and missing.value.message == 'no such VM class'
    assert rest.get_optional('/vc-missing') is None
    assert (client.calls, rest.calls) == (2, 2)


def test_a_write_without_an_answer_is_an_unknown_outcome_a_read_is_not(server):
    client = kube(server)
    with pytest.raises(KubeNoAnswer) as lost:
        client.merge_patch('/hang-up', {'metadata': {}})
    assert isinstance(lost.value, KubeError) and isinstance(lost.value, OutcomeUnknown)
    assert lost.value.status == 0 and 'PATCH /hang-up was sent' in lost.value.msg and 'unknown' in lost.value.msg
    with pytest.raises(KubeError) as read:
        client.get('/hang-up')
    assert not isinstance(read.value, OutcomeUnknown) and read.value.message.startswith('cannot reach the Kubernetes API at %s' % server)
    with pytest.raises(RestNoAnswer):
        Rest(server).post('/hang-up', {'a': 1})


def test_a_server_that_cannot_be_reached_changed_nothing(server):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        closed = 'http://127.0.0.1:%d' % sock.getsockname()[1]  # bound, not listening: connection refused
        with pytest.raises(KubeError) as refused:
            kube(closed).merge_patch('/x', {})
        with pytest.raises(RestError) as rest_refused:
            Rest(closed).delete('/x')
    for error in (refused.value, rest_refused.value):
        assert error.status == 0 and not isinstance(error, OutcomeUnknown)
    assert refused.value.message.startswith('cannot reach the Kubernetes API at %s' % closed)
    assert rest_refused.value.message.startswith('cannot reach vCenter at %s' % closed)
