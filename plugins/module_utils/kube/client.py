# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Kubernetes API client: kubeconfig loading through the ``kubernetes`` library, requests through
Ansible's ``open_url``.

Why not the ``kubernetes`` client for the requests: its generated API layer changed shape between releases (the
token moved from ``api_key['authorization']`` to ``api_key['BearerToken']``, PATCH content types are chosen
for the caller), and ``DynamicClient`` costs discovery calls before the first real request. Here every request
is one explicit HTTP call with an explicit content type, so a module's API calls are exactly the ones it plans
(one GET and at most one PATCH), and the count is reported.

``kubernetes`` is imported lazily, only to read kubeconfig files (contexts, exec plugins, client certificates).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode
from ansible.module_utils.urls import open_url

MERGE_PATCH = 'application/merge-patch+json'
MAX_CONFLICT_RETRIES = 5


class KubeError(Exception):
    """An API request failed. ``status`` is the HTTP code (0 when the server could not be reached), ``reason``
    the Status reason (NotFound, Conflict, ...)."""

    def __init__(self, message, status=0, reason='', method='', path=''):
        super(KubeError, self).__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.method = method
        self.path = path

    @property
    def conflict(self):
        return self.status == 409 and self.reason == 'Conflict'

    @property
    def not_found(self):
        return self.status == 404


class KubeConfigError(Exception):
    """The connection settings could not be turned into a working configuration."""


def _load_configuration(params):
    """A ``kubernetes.client.Configuration`` from the module's connection options, like kubernetes.core."""
    try:
        from kubernetes import client as k8s_client, config as k8s_config  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise KubeConfigError('the "kubernetes" Python library is required on the host running this module '
                              '(pip install "kubernetes>=30.1.0")')
    configuration = k8s_client.Configuration()
    kubeconfig = params.get('kubeconfig')
    context = params.get('context')
    explicit_host = params.get('host')
    try:
        if isinstance(kubeconfig, dict):
            k8s_config.load_kube_config_from_dict(kubeconfig, context=context, client_configuration=configuration,
                                                  persist_config=False)
        elif kubeconfig:
            path = os.path.expanduser(str(kubeconfig))
            if not os.path.exists(path):
                raise KubeConfigError('kubeconfig %s does not exist' % path)
            k8s_config.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                        persist_config=False)
        elif not explicit_host:
            default = os.path.expanduser(os.environ.get('KUBECONFIG', '~/.kube/config').split(os.pathsep)[0])
            if os.path.exists(default):
                k8s_config.load_kube_config(config_file=default, context=context, client_configuration=configuration,
                                            persist_config=False)
            else:
                k8s_config.load_incluster_config(client_configuration=configuration)
    except KubeConfigError:
        raise
    except Exception as exc:  # kubernetes raises ConfigException and plain errors for bad files
        raise KubeConfigError('cannot load the Kubernetes configuration: %s' % exc)
    if explicit_host:
        configuration.host = explicit_host
    return configuration


def _auth_headers(configuration, api_key):
    if api_key:
        return {'Authorization': 'Bearer %s' % api_key}
    headers = {}
    for setting in configuration.auth_settings().values():
        if setting.get('in') == 'header' and setting.get('value'):
            headers[setting['key'].title() if setting['key'] == 'authorization' else setting['key']] = setting['value']
    return headers


class KubeClient(object):
    """``request()`` and a few verbs over one API server; ``calls`` counts the requests made."""

    def __init__(self, params, configuration=None):
        self.params = params
        self._configuration = configuration
        self.calls = 0

    @property
    def configuration(self):
        if self._configuration is None:
            self._configuration = _load_configuration(self.params)
        return self._configuration

    @property
    def server(self):
        return self.configuration.host.rstrip('/')

    def request(self, method, path, body=None, content_type='application/json', query=None):
        """One API call; returns the decoded JSON body (None when empty). Raises :class:`KubeError`."""
        timeout = self.params.get('request_timeout')
        if timeout is not None and timeout <= 0:
            raise KubeConfigError('request_timeout must be greater than 0 (seconds); got %r' % (timeout,))
        configuration = self.configuration
        url = self.server + path
        query = dict((k, v) for k, v in (query or {}).items() if v not in (None, ''))
        if method in ('POST', 'PUT', 'PATCH'):
            # A field the server's schema does not have is an error, not silently dropped (Kubernetes >= 1.25;
            # older servers ignore the parameter). A typo in a module then fails instead of doing nothing.
            query.setdefault('fieldValidation', 'Strict')
        if query:
            url += '?' + urlencode(sorted(query.items()))
        headers = {'Accept': 'application/json', 'User-Agent': 'gpuvirt.core'}
        headers.update(_auth_headers(configuration, self.params.get('api_key')))
        data = None
        if body is not None:
            data = json.dumps(body, sort_keys=True)
            headers['Content-Type'] = content_type
        validate = self.params.get('validate_certs')
        if validate is None:
            validate = bool(getattr(configuration, 'verify_ssl', True))
        self.calls += 1
        try:
            response = open_url(url, data=data, headers=headers, method=method, validate_certs=validate,
                                timeout=self.params.get('request_timeout') or 30,
                                ca_path=self.params.get('ca_cert') or getattr(configuration, 'ssl_ca_cert', None),
                                client_cert=self.params.get('client_cert') or getattr(configuration, 'cert_file', None),
                                client_key=self.params.get('client_key') or getattr(configuration, 'key_file', None),
                                follow_redirects='none')
            text = response.read()
        except HTTPError as exc:
            raise self._http_error(exc, method, path)
        except URLError as exc:
            raise KubeError('cannot reach the Kubernetes API at %s: %s' % (self.server, getattr(exc, 'reason', exc)),
                            method=method, path=path)
        except (OSError, ValueError) as exc:
            raise KubeError('cannot reach the Kubernetes API at %s: %s' % (self.server, exc), method=method, path=path)
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise KubeError('the Kubernetes API at %s answered %s %s with something that is not JSON'
                            % (self.server, method, path), method=method, path=path)

    @staticmethod
    def _http_error(exc, method, path):
        try:
            status = json.loads(exc.read())
        except Exception:  # pylint: disable=broad-except
            status = {}
        if not isinstance(status, dict):
            status = {}
        message = status.get('message') or str(exc.reason or exc)
        reason = status.get('reason') or ''
        if 'strict decoding error: ' in message:  # fieldValidation=Strict: the server quotes the whole object first
            message = 'the API server\'s schema refuses %s %s: %s' % (method, path, message.split('strict decoding error: ', 1)[1])
        # an admission webhook's refusal may name its fields only in the status causes (KubeVirt's do)
        causes = (status.get('details') or {}).get('causes') if isinstance(status.get('details'), dict) else None
        fields = []
        for cause in causes if isinstance(causes, list) else []:
            field = cause.get('field') if isinstance(cause, dict) else None
            if field and field not in message and field not in fields:
                fields.append(field)
        if fields:
            message = '%s (field%s: %s)' % (message, 's' if len(fields) > 1 else '', ', '.join(fields))
        if exc.code == 401:
            message = 'the API server refused the credentials (401 Unauthorized); check kubeconfig/context/api_key'
        elif exc.code == 403:
            message = 'forbidden (403): %s' % message
        return KubeError(message, status=exc.code, reason=reason, method=method, path=path)

    # -- verbs ------------------------------------------------------------------------------------------
    def get(self, path):
        return self.request('GET', path)

    def get_optional(self, path):
        """The object, or None when it (or its resource type) does not exist."""
        try:
            return self.get(path)
        except KubeError as exc:
            if exc.not_found:
                return None
            raise

    def list(self, path, label_selector=None, field_selector=None):
        return self.request('GET', path, query={'labelSelector': label_selector, 'fieldSelector': field_selector})

    def create(self, path, body):
        return self.request('POST', path, body=body)

    def merge_patch(self, path, body):
        return self.request('PATCH', path, body=body, content_type=MERGE_PATCH)


def path_for(api_version, plural, name=None, namespace=None):
    """``/api/v1/nodes/gpu-1``, ``/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt``."""
    base = '/api/%s' % api_version if '/' not in api_version else '/apis/%s' % api_version
    if namespace:
        base += '/namespaces/%s' % quote(namespace, safe='')
    base += '/%s' % plural
    if name:
        base += '/%s' % quote(name, safe='')
    return base


def patch_with_retry(client, path, read, build_patch, retries=MAX_CONFLICT_RETRIES):
    """Apply a merge patch guarded by ``metadata.resourceVersion``; on 409 Conflict read again and rebuild.

    ``read()`` returns the current object, ``build_patch(current)`` the merge patch to send (without the
    precondition) or None when the object already is as wanted. Returns ``(object after, conflicts seen)``.
    """
    current = None
    conflicts = 0
    while True:
        if current is None:
            current = read()
        patch = build_patch(current)
        if patch is None:
            return current, conflicts
        patch.setdefault('metadata', {})['resourceVersion'] = current['metadata']['resourceVersion']
        try:
            return client.merge_patch(path, patch), conflicts
        except KubeError as exc:
            if not exc.conflict or conflicts >= retries:
                raise
            conflicts += 1
            current = None


def describe_error(exc, what):
    """A user message for a failed call about ``what`` (e.g. 'KubeVirt kubevirt/kubevirt')."""
    if isinstance(exc, KubeError) and exc.status:
        return '%s: %s %s failed with %s %s: %s' % (what, exc.method, exc.path, exc.status, exc.reason or '', exc.message)
    return '%s: %s' % (what, exc)
