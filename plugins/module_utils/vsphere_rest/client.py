# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vCenter REST (``/api``) client: one session per run, explicit requests, always logged out.

Why not the vSphere Automation SDK packages: their bindings are generated per vCenter release (the VM class
``devices`` and ``config_spec`` fields exist only in some of them), they pull a large dependency tree into every
controller and execution environment, and they hide the HTTP calls a module makes. Here each call is one
``open_url`` request with an explicit method, path and JSON body, so a module's calls are the ones it plans and
are counted.

Session: ``POST /api/session`` with basic auth returns the session id (a JSON string), sent back in the
``vmware-api-session-id`` header; ``DELETE /api/session`` ends it. Errors are ``{"error_type", "messages":
[{"default_message", ...}]}`` [S12].
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.gpuvirt.core.plugins.module_utils import http_client
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import required_connection

SESSION_HEADER = 'vmware-api-session-id'


class RestError(http_client.RequestError):
    """A failed request: ``status`` (0 when the server could not be reached), ``error_type`` (NOT_FOUND...)."""

    def __init__(self, message, status=0, error_type='', method='', path=''):
        super(RestError, self).__init__(message, status=status, reason=error_type, method=method, path=path)

    @property
    def error_type(self):
        return self.reason


RestNoAnswer = http_client.no_answer_class(RestError, 'RestNoAnswer')


def _error_message(body, fallback):
    if isinstance(body, dict):
        messages = [m.get('default_message') for m in body.get('messages') or [] if isinstance(m, dict)]
        messages = [m for m in messages if m]
        if messages:
            return ' '.join(messages)
    return fallback


class RestClient(http_client.JsonClient):
    """``with RestClient(params) as api:`` logs in, ``api.get/post/patch/delete(path, body)``, always logs out."""

    error_class = RestError
    no_answer_class = RestNoAnswer
    service = 'vCenter'

    def __init__(self, params):
        super(RestClient, self).__init__()
        self.params = params
        self.session = None

    @property
    def base(self):
        return 'https://%s:%d' % (self.params['hostname'], self.params.get('port') or 443)

    def login(self):
        """Start the session (POST /api/session with basic auth). RestError naming the host on failure."""
        missing = required_connection(self.params)
        if missing:
            raise RestError('missing vSphere connection option(s) %s: set them on the task or in the VMWARE_HOST, '
                            'VMWARE_USER, VMWARE_PASSWORD environment variables' % ', '.join(missing))
        try:
            session = self._send('POST', '/api/session', auth=True)
        except RestError as exc:
            if exc.status == 401:
                raise RestError('vCenter %s refused the login of %s (401): check username and password'
                                % (self.params['hostname'], self.params['username']), status=401)
            raise
        if not isinstance(session, str) or not session:
            raise RestError('vCenter %s answered the login without a session id: is it a vCenter Server 7.0 or later?'
                            % self.params['hostname'])
        self.session = session
        return self

    def logout(self):
        """End the session, if any (errors ignored: the session expires on its own)."""
        if self.session is not None:
            try:
                self._send('DELETE', '/api/session')
            except RestError:
                pass
            self.session = None

    def __enter__(self):
        return self.login()

    def __exit__(self, *exc_info):
        self.logout()
        return False

    def _send(self, method, path, body=None, auth=False):
        headers = {}
        if self.session is not None:
            headers[SESSION_HEADER] = self.session
        return self.send(method, path, body=body, headers=headers, validate_certs=self.params.get('validate_certs', True),
                         url_username=self.params['username'] if auth else None,
                         url_password=self.params['password'] if auth else None,
                         force_basic_auth=auth, timeout=self.params.get('timeout') or 600,
                         changes=False if auth else None)  # a login changes no state

    def http_error(self, exc, body, method, path):
        error_type = body.get('error_type', '') if isinstance(body, dict) else ''
        return RestError(_error_message(body, str(exc.reason or exc)), status=exc.code, error_type=error_type,
                         method=method, path=path)

    def unreachable(self, reason):
        hint = ''
        if 'CERTIFICATE_VERIFY_FAILED' in str(reason):
            hint = ' (the certificate is not trusted: add its CA, or set validate_certs=false in a lab)'
        return 'cannot reach vCenter at %s: %s%s' % (self.base, reason, hint)

    # -- verbs --------------------------------------------------------------------------------------------
    def get(self, path):
        return self._send('GET', path)

    def get_optional(self, path):
        try:
            return self.get(path)
        except RestError as exc:
            if exc.not_found:
                return None
            raise

    def post(self, path, body):
        return self._send('POST', path, body)

    def patch(self, path, body):
        return self._send('PATCH', path, body)

    def delete(self, path):
        return self._send('DELETE', path)

    def version(self):
        """vCenter's version as a tuple of ints, e.g. (8, 0, 2, 100) for 8.0.2.00100."""
        info = self.get('/api/appliance/system/version') or {}
        parts = []
        for part in str(info.get('version', '')).split('.'):
            try:
                parts.append(int(part))
            except ValueError:
                break
        if len(parts) < 3:
            raise RestError('cannot read the vCenter version from /api/appliance/system/version (got %r)' % info.get('version'))
        return tuple(parts)


def item_path(collection, identifier):
    """``collection/<identifier>`` with the identifier URL-quoted."""
    return '%s/%s' % (collection, quote(identifier, safe=''))


describe_error = http_client.describe_error
