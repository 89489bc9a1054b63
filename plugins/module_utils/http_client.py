# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP/JSON client core under the Kubernetes client (``kube/client.py``) and the vCenter REST client
(``vsphere_rest/client.py``): request building, ``open_url``, timeouts, JSON decoding, error mapping, call counting.

Each request is one explicit ``open_url`` call (no redirects followed) with a JSON body and an explicit content type,
so a module's calls are the ones it plans, and :attr:`JsonClient.calls` counts them.

Errors, one taxonomy (:class:`RequestError` and its subclasses, one per API):

- the server answered with an HTTP error: the API's error class, built by :meth:`JsonClient.http_error` from the
  decoded error body (``status`` is the HTTP code);
- the server could not be reached, or the request could not be sent (connection refused, name resolution, TLS,
  a timeout while connecting or sending): the API's error class with ``status`` 0, the request did not take effect;
- a write (POST, PUT, PATCH, DELETE) was sent and no answer came (a timeout or a reset while waiting for or reading
  the response): :attr:`JsonClient.no_answer_class`, which is both the API's error class and
  :class:`~plan.OutcomeUnknown`, so :func:`plan.run` reads the state again and reports ``outcome_unknown``. The same
  on a read is the plain error (nothing was changed);
- an answer that is not JSON: the API's error class.

urllib sends the request inside ``URLError`` handling (anything failing before the response is awaited is wrapped in
``URLError``) and waits for and reads the response outside it: a bare ``OSError`` or ``http.client.HTTPException``
therefore means the request went out.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible.module_utils.six.moves.http_client import HTTPException
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import OutcomeUnknown

USER_AGENT = 'gpuvirt.core'
JSON = 'application/json'
WRITE_METHODS = ('POST', 'PUT', 'PATCH', 'DELETE')


class RequestError(Exception):
    """A failed request: ``status`` is the HTTP code (0 when no HTTP answer came), ``reason`` the API's short error
    code (Kubernetes ``Status.reason``, vCenter ``error_type``), ``method`` and ``path`` the request."""

    def __init__(self, message, status=0, reason='', method='', path=''):
        super(RequestError, self).__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.method = method
        self.path = path

    @property
    def not_found(self):
        return self.status == 404


def no_answer_class(error_class, name):
    """The "write sent, no answer" class of an API: a subclass of ``error_class`` and of :class:`plan.OutcomeUnknown`
    (callers catching the API's errors still catch it; :func:`plan.run` sees an unknown outcome)."""
    return type(name, (error_class, OutcomeUnknown), {
        '__doc__': 'A write request was sent and no answer came: it may or may not have taken effect.'})


def decode_body(text):
    """The JSON value of an error body, or None when it is empty or not JSON."""
    try:
        return json.loads(text)
    except Exception:  # pylint: disable=broad-except
        return None


class JsonClient(object):
    """Base of the API clients. Subclasses set :attr:`error_class`, :attr:`no_answer_class` and :attr:`service`
    (``'the Kubernetes API'``, ``'vCenter'``) and may override :meth:`http_error` and :meth:`unreachable`."""

    error_class = RequestError
    no_answer_class = None
    service = 'the server'

    def __init__(self):
        self.calls = 0

    @property
    def base(self):
        """``https://host:port`` (no trailing slash)."""
        raise NotImplementedError

    def http_error(self, exc, body, method, path):
        """The error for an HTTP error answer; ``body`` is the decoded error body (None when not JSON)."""
        return self.error_class(str(exc.reason or exc), status=exc.code, method=method, path=path)

    def unreachable(self, reason):
        """The message when no HTTP answer came."""
        return 'cannot reach %s at %s: %s' % (self.service, self.base, reason)

    def send(self, method, path, body=None, content_type=JSON, url=None, headers=None, changes=None, **transport):
        """One request; the decoded JSON answer (None when empty). ``url`` defaults to ``base + path``; ``changes``
        (default: a write method) says whether the request changes the system, so that no answer is an unknown outcome;
        ``transport`` goes to ``open_url`` (timeout, validate_certs, client certificates, basic auth)."""
        all_headers = {'Accept': JSON, 'User-Agent': USER_AGENT}
        all_headers.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body, sort_keys=True)
            all_headers['Content-Type'] = content_type
        self.calls += 1
        try:
            response = open_url(url or self.base + path, data=data, headers=all_headers, method=method, follow_redirects='none',
                                **transport)
            text = response.read()
        except HTTPError as exc:
            raise self.http_error(exc, decode_body(exc.read()), method, path)
        except URLError as exc:  # raised before the request was (wholly) sent: it did not take effect
            raise self.error_class(self.unreachable(getattr(exc, 'reason', exc)), method=method, path=path)
        except (OSError, HTTPException) as exc:  # sent; the answer did not come (timeout, reset) or broke off
            if (method in WRITE_METHODS if changes is None else changes) and self.no_answer_class is not None:
                raise self.no_answer_class('%s; %s %s was sent and got no answer: whether it took effect is unknown'
                                           % (self.unreachable(str(exc) or exc.__class__.__name__), method, path), method=method, path=path)
            raise self.error_class(self.unreachable(exc), method=method, path=path)
        except ValueError as exc:
            raise self.error_class(self.unreachable(exc), method=method, path=path)
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise self.error_class(self.not_json(method, path), method=method, path=path)

    def not_json(self, method, path):
        return '%s answered %s %s with something that is not JSON' % (self.service, method, path)


def describe_error(exc, what):
    """A user message for a failed call about ``what``: the request and HTTP answer when there was one."""
    if isinstance(exc, RequestError) and exc.status:
        return '%s: %s %s failed with %s %s: %s' % (what, exc.method, exc.path, exc.status, exc.reason or '', exc.message)
    return '%s: %s' % (what, exc)
