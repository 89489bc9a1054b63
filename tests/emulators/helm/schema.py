"""values.schema.json validation as helm 3 does it (gojsonschema), for the subset of JSON Schema charts use:
``type``, ``properties``, ``additionalProperties: false``, ``required``, ``enum``, ``items``.

Messages follow helm's output::

    values don't meet the specifications of the schema(s) in the following chart(s):
    gpu-operator:
    - (root): Additional property foo is not allowed
    - sandboxWorkloads.defaultWorkload: sandboxWorkloads.defaultWorkload must be one of the following: "container", ...
    - vgpuManager.enabled: Invalid type. Expected: boolean, given: string
"""
import json

_JSON_TYPES = (('boolean', bool), ('integer', int), ('number', (int, float)), ('string', str), ('array', list),
               ('object', dict), ('null', type(None)))


def _type_name(value):
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int):
        return 'integer'
    for name, python_type in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _matches(value, expected):
    if expected == 'integer':
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == 'number':
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == 'boolean':
        return isinstance(value, bool)
    return isinstance(value, dict(_JSON_TYPES)[expected])


def validate(schema, value, path=''):
    """Every violation as ``field: message``, in document order."""
    errors = []
    where = path or '(root)'
    expected = schema.get('type')
    if expected is not None:
        types = expected if isinstance(expected, list) else [expected]
        if not any(_matches(value, t) for t in types):
            errors.append('%s: Invalid type. Expected: %s, given: %s' % (where, ', '.join(types), _type_name(value)))
            return errors
    if 'enum' in schema and value not in schema['enum']:
        errors.append('%s: %s must be one of the following: %s' % (where, where, ', '.join(json.dumps(v) for v in schema['enum'])))
    if isinstance(value, dict):
        properties = schema.get('properties', {})
        for key in schema.get('required', []):
            if key not in value:
                errors.append('%s: %s is required' % (where, key))
        for key in value:
            child = '%s.%s' % (path, key) if path else key
            if key in properties:
                errors.extend(validate(properties[key], value[key], child))
            elif schema.get('additionalProperties') is False:
                errors.append('%s: Additional property %s is not allowed' % (where, key))
    if isinstance(value, list) and isinstance(schema.get('items'), dict):
        for index, item in enumerate(value):
            errors.extend(validate(schema['items'], item, '%s.%d' % (path, index) if path else str(index)))
    return errors


def report(chart_name, errors):
    return ("values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n%s"
            % (chart_name, '\n'.join('- ' + e for e in errors)))
