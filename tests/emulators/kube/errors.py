"""API errors as the Kubernetes API server returns them: a ``Status`` object with the standard reasons.

Reasons and codes are metav1.StatusReason (k8s.io/apimachinery/pkg/apis/meta/v1/types.go): NotFound 404,
AlreadyExists 409, Conflict 409, Invalid 422, BadRequest 400, UnsupportedMediaType 415, MethodNotAllowed 405,
Unauthorized 401, InternalError 500. Messages follow the API server's wording so clients and users see what they
would see on a real cluster (e.g. ``configmaps "x" not found``).
"""
import attrs
import kmock


@attrs.frozen
class ApiStatusError(kmock.KubernetesError):
    """A failure rendered as a ``kind: Status`` body; ``details`` is the Status ``details`` (name, group, kind)."""


def status_body(code, reason, message, details=None):
    body = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
            'message': message, 'reason': reason, 'code': code}
    if details:
        body['details'] = details
    return body


def _details(kind, name):
    details = {}
    if name:
        details['name'] = name
    if kind is not None:
        if kind.group:
            details['group'] = kind.group
        details['kind'] = kind.plural
    return details


def not_found(kind, name):
    return ApiStatusError(404, 'NotFound', '%s "%s" not found' % (kind.qualified, name), _details(kind, name))


def resource_not_found():
    return ApiStatusError(404, 'NotFound', 'the server could not find the requested resource', {})


def namespace_not_found(namespace):
    return ApiStatusError(404, 'NotFound', 'namespaces "%s" not found' % namespace, {'name': namespace, 'kind': 'namespaces'})


def already_exists(kind, name):
    return ApiStatusError(409, 'AlreadyExists', '%s "%s" already exists' % (kind.qualified, name), _details(kind, name))


def conflict(kind, name):
    return ApiStatusError(409, 'Conflict', 'Operation cannot be fulfilled on %s "%s": the object has been modified; '
                          'please apply your changes to the latest version and try again' % (kind.qualified, name),
                          _details(kind, name))


def invalid(kind, name, causes):
    """422 Invalid; ``causes`` is a list of ``(field, message)``."""
    text = '; '.join('%s: %s' % (field, message) if field else message for field, message in causes)
    details = _details(kind, name)
    details['causes'] = [{'field': field, 'message': message, 'reason': 'FieldValueInvalid'} for field, message in causes]
    what = kind.kind if kind is not None else 'object'
    return ApiStatusError(422, 'Invalid', '%s "%s" is invalid: %s' % (what, name or '', text), details)


def bad_request(message):
    return ApiStatusError(400, 'BadRequest', message, {})


def unsupported_media_type(content_type, accepted):
    return ApiStatusError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media '
                          'types include: %s' % ', '.join(accepted), {})


def method_not_allowed(method):
    return ApiStatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource (%s)' % method, {})


def unauthorized():
    return ApiStatusError(401, 'Unauthorized', 'Unauthorized', {})
