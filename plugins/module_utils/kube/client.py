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

import os

from ansible.module_utils.six.moves.urllib.parse import quote, urlencode

from ansible_collections.gpuvirt.core.plugins.module_utils import http_client
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import Operation

MERGE_PATCH = 'application/merge-patch+json'
MAX_CONFLICT_RETRIES = 5


class KubeError(http_client.RequestError):
    """An API request failed. ``status`` is the HTTP code (0 when the server could not be reached), ``reason``
    the Status reason (NotFound, Conflict, ...)."""

    @property
    def conflict(self):
        return self.status == 409 and self.reason == 'Conflict'


KubeNoAnswer = http_client.no_answer_class(KubeError, 'KubeNoAnswer')


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


class KubeClient(http_client.JsonClient):
    """``request()`` and a few verbs over one API server; ``calls`` counts the requests made."""

    error_class = KubeError
    no_answer_class = KubeNoAnswer
    service = 'the Kubernetes API'

    def __init__(self, params, configuration=None):
        super(KubeClient, self).__init__()
        self.params = params
        self._configuration = configuration

    @property
    def configuration(self):
        if self._configuration is None:
            self._configuration = _load_configuration(self.params)
        return self._configuration

    @property
    def server(self):
        # An explicit host wins: the kubernetes library's refresh_api_key_hook (called by auth_settings()) loads the
        # kubeconfig again and puts its server back into the configuration.
        return (self.params.get('host') or self.configuration.host).rstrip('/')

    base = server

    def request(self, method, path, body=None, content_type=http_client.JSON, query=None):
        """One API call; returns the decoded JSON body (None when empty). Raises :class:`KubeError` (and
        :class:`KubeNoAnswer`, an unknown outcome, when a write got no answer)."""
        configuration = self.configuration
        url = self.server + path
        query = dict((k, v) for k, v in (query or {}).items() if v not in (None, ''))
        if method in ('POST', 'PUT', 'PATCH'):
            # A field the server's schema does not have is an error, not silently dropped (Kubernetes >= 1.25;
            # older servers ignore the parameter). A typo in a module then fails instead of doing nothing.
            query.setdefault('fieldValidation', 'Strict')
        if query:
            url += '?' + urlencode(sorted(query.items()))
        validate = self.params.get('validate_certs')
        if validate is None:
            validate = bool(getattr(configuration, 'verify_ssl', True))
        return self.send(method, path, body=body, content_type=content_type, url=url,
                         headers=_auth_headers(configuration, self.params.get('api_key')), validate_certs=validate,
                         timeout=self.params.get('request_timeout') or 30,
                         ca_path=self.params.get('ca_cert') or getattr(configuration, 'ssl_ca_cert', None),
                         client_cert=self.params.get('client_cert') or getattr(configuration, 'cert_file', None),
                         client_key=self.params.get('client_key') or getattr(configuration, 'key_file', None))

    def not_json(self, method, path):
        return 'the Kubernetes API at %s answered %s %s with something that is not JSON' % (self.server, method, path)

    def http_error(self, exc, body, method, path):
        status = body if isinstance(body, dict) else {}
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


class KubeOperation(Operation):
    """Base of the Kubernetes modules' operations: ``self.client``, a :class:`KubeClient` over the module's connection
    options (it reads the kubeconfig at the first request), and ``request_timeout`` checked before anything."""

    positive = ('request_timeout',)

    def __init__(self, module):
        super(KubeOperation, self).__init__(module)
        self.client = KubeClient(self.params)


def path_for(api_version, plural, name=None, namespace=None):
    """``/api/v1/nodes/gpu-1``, ``/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt``."""
    base = '/api/%s' % api_version if '/' not in api_version else '/apis/%s' % api_version
    if namespace:
        base += '/namespaces/%s' % quote(namespace, safe='')
    base += '/%s' % plural
    if name:
        base += '/%s' % quote(name, safe='')
    return base


def patch_with_retry(client, path, build_patch, current=None, retries=MAX_CONFLICT_RETRIES):
    """Apply a merge patch guarded by ``metadata.resourceVersion``; on 409 Conflict read again and rebuild.

    ``current`` is the object as observed, used for the first attempt (None: GET it first); ``build_patch(current)``
    returns the merge patch to send (without the precondition) or None when the object already is as wanted.
    Returns ``(object after, conflicts seen)``.
    """
    conflicts = 0
    while True:
        if current is None:
            current = client.get(path)
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


describe_error = http_client.describe_error
