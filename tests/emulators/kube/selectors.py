"""Label and field selectors as the Kubernetes API server evaluates them on LIST and WATCH.

Label selector grammar (k8s.io/apimachinery/pkg/labels): comma-separated requirements, each one of
``key``, ``!key``, ``key=value``, ``key==value``, ``key!=value``, ``key in (v1,v2)``, ``key notin (v1,v2)``.
``!=`` and ``notin`` also match objects without the key. A malformed selector is a 400 BadRequest.

Field selectors support ``=``, ``==`` and ``!=`` on the fields a resource registers; every resource supports
``metadata.name`` and ``metadata.namespace``; an unknown field is a 400 BadRequest
("field label not supported: ...").
"""
import re

from .errors import bad_request

_KEY = r'(?:[A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?'
_VALUE = r'(?:[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?'
_SET_RE = re.compile(r'^\s*(?P<key>%s)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)\s*$' % _KEY)
_CMP_RE = re.compile(r'^\s*(?P<key>%s)\s*(?P<op>==|=|!=)\s*(?P<value>%s)\s*$' % (_KEY, _VALUE))
_EXISTS_RE = re.compile(r'^\s*(?P<neg>!?)\s*(?P<key>%s)\s*$' % _KEY)
_VALUE_RE = re.compile('^%s$' % _VALUE)

# Fields each kind registers for field selectors beyond metadata.name / metadata.namespace.
EXTRA_FIELDS = {
    'Node': {'spec.unschedulable': lambda o: str(bool(o.get('spec', {}).get('unschedulable', False))).lower()},
    'Secret': {'type': lambda o: o.get('type', '')},
    'Namespace': {'status.phase': lambda o: o.get('status', {}).get('phase', '')},
}


def _split_requirements(selector):
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, ''
    for char in selector:
        if char == '(':
            depth += 1
        elif char == ')':
            depth -= 1
        if char == ',' and depth == 0:
            parts.append(current)
            current = ''
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def parse_label_selector(selector):
    """Return a list of ``(key, op, values)``; op in exists, !exists, in, notin."""
    requirements = []
    for part in _split_requirements(selector or ''):
        match = _SET_RE.match(part)
        if match:
            values = [v.strip() for v in match.group('values').split(',') if v.strip()]
            if not values or not all(_VALUE_RE.match(v) for v in values):
                raise bad_request('unable to parse requirement: values of %r must be valid label values' % part.strip())
            requirements.append((match.group('key'), match.group('op'), set(values)))
            continue
        match = _CMP_RE.match(part)
        if match:
            op = 'notin' if match.group('op') == '!=' else 'in'
            requirements.append((match.group('key'), op, {match.group('value')}))
            continue
        match = _EXISTS_RE.match(part)
        if match:
            requirements.append((match.group('key'), '!exists' if match.group('neg') else 'exists', None))
            continue
        raise bad_request('unable to parse requirement: found %r, expected a label selector requirement' % part.strip())
    return requirements


def labels_match(requirements, labels):
    labels = labels or {}
    for key, op, values in requirements:
        if op == 'exists' and key not in labels:
            return False
        if op == '!exists' and key in labels:
            return False
        if op == 'in' and labels.get(key) not in values:
            return False
        if op == 'notin' and key in labels and labels[key] in values:
            return False
    return True


def parse_field_selector(selector, kind):
    """Return a list of ``(getter, negate, value)``; unknown fields are a 400 as on a real API server."""
    fields = {
        'metadata.name': lambda o: o.get('metadata', {}).get('name', ''),
        'metadata.namespace': lambda o: o.get('metadata', {}).get('namespace', ''),
    }
    fields.update(EXTRA_FIELDS.get(kind, {}))
    terms = []
    for part in [p for p in (selector or '').split(',') if p.strip()]:
        match = re.match(r'^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$', part)
        if not match:
            raise bad_request('invalid selector: %r; can\'t understand %r' % (selector, part))
        field, op, value = match.groups()
        if field not in fields:
            raise bad_request('field label not supported: %s' % field)
        terms.append((fields[field], op == '!=', value))
    return terms


def fields_match(terms, obj):
    for getter, negate, value in terms:
        if (getter(obj) == value) == negate:
            return False
    return True
