"""Patch semantics of the Kubernetes API server, by content type.

- ``application/merge-patch+json``: RFC 7386 JSON merge patch (``null`` deletes, objects merge, lists replace).
- ``application/json-patch+json``: RFC 6902 JSON patch; a failed ``test`` or a bad path is 422 Invalid.
- ``application/strategic-merge-patch+json``: built-in kinds only (415 on custom resources). Modelled as a merge
  patch plus the list-merge keys of the fields the emulated kinds have (``metadata.finalizers`` merged as a set,
  ``metadata.ownerReferences`` by ``uid``, ``status.conditions`` / ``status.addresses`` by ``type``) and the
  ``$patch: delete|replace`` directives; other lists are replaced. [test-infrastructure.md: kmock lacks SMP
  list semantics; this is the subset the emulated kinds need]
- ``application/apply-patch+yaml``: server-side apply, modelled as a merge that never deletes (no ``null``),
  creating a missing object. Field ownership conflicts are not modelled.
"""
import copy

import jsonpatch
import jsonpointer

MERGE = 'application/merge-patch+json'
JSON_PATCH = 'application/json-patch+json'
STRATEGIC = 'application/strategic-merge-patch+json'
APPLY = 'application/apply-patch+yaml'
PATCH_TYPES = (JSON_PATCH, MERGE, STRATEGIC, APPLY)
CUSTOM_PATCH_TYPES = (JSON_PATCH, MERGE, APPLY)

_SMP_LIST_KEYS = {
    ('metadata', 'ownerReferences'): 'uid',
    ('status', 'conditions'): 'type',
    ('status', 'addresses'): 'type',
}
_SMP_SET_LISTS = {('metadata', 'finalizers')}


class PatchError(ValueError):
    """The patch could not be applied; ``code`` is 400 (malformed) or 422 (does not apply)."""

    def __init__(self, message, code=422):
        super().__init__(message)
        self.code = code


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target, operations):
    if not isinstance(operations, list):
        raise PatchError('json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp', code=400)
    try:
        return jsonpatch.apply_patch(target, operations, in_place=False)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise PatchError('the server rejected our request due to an error in our request: %s' % exc) from None
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise PatchError('the server rejected our request due to an error in our request: %s' % exc) from None


def strategic_merge_patch(target, patch, path=()):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get('$patch') == 'replace':
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != '$patch'}
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith('$'):
            continue
        here = path + (key,)
        if value is None or (isinstance(value, dict) and value.get('$patch') == 'delete'):
            result.pop(key, None)
        elif isinstance(value, list) and here[-2:] in _SMP_LIST_KEYS:
            result[key] = _merge_list_by_key(result.get(key) or [], value, _SMP_LIST_KEYS[here[-2:]])
        elif isinstance(value, list) and here[-2:] in _SMP_SET_LISTS:
            merged = list(result.get(key) or [])
            merged += [item for item in value if item not in merged]
            result[key] = merged
        else:
            result[key] = strategic_merge_patch(result.get(key), value, here)
    return result


def _merge_list_by_key(current, patch, merge_key):
    result = [copy.deepcopy(item) for item in current]
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise PatchError('map: %r does not contain declared merge key: %s' % (item, merge_key), code=400)
        index = next((i for i, old in enumerate(result) if old.get(merge_key) == item[merge_key]), None)
        if item.get('$patch') == 'delete':
            if index is not None:
                del result[index]
        elif index is None:
            result.append({k: v for k, v in item.items() if k != '$patch'})
        else:
            result[index] = merge_patch(result[index], item)
    return result


def apply_patch(target, applied):
    """Server-side apply as a non-deleting merge (lists are atomic)."""
    if not isinstance(applied, dict):
        return copy.deepcopy(applied)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in applied.items():
        if value is not None:
            result[key] = apply_patch(result.get(key), value)
    return result


def fields_v1(obj):
    """The ``fieldsV1`` set of a managedFields entry: ``f:<key>`` for every map key, lists as leaves."""
    if not isinstance(obj, dict):
        return {}
    return {'f:' + key: fields_v1(value) for key, value in obj.items()
            if key not in ('apiVersion', 'kind') and not (isinstance(value, dict) and not value and key != 'metadata')}
