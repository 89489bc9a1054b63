"""The Kubernetes API emulator: kmock's KubernetesEmulator made faithful where the modules need it.

kmock 0.8 provides the HTTP server (aiohttp on 127.0.0.1), request parsing into resource/namespace/name,
the reaction DSL (in-process tests can still put ``emulator['patch', ...] << 503`` in front of everything),
discovery from ``resources`` and the object store with history (``emulator.objects``). This subclass replaces
its write path and list/fetch/watch handlers with the API server's behaviour, each item listed as missing from
stock kmock in test-infrastructure.md ("What it lacks, each checked"):

- server fields: ``uid``, ``creationTimestamp``, ``resourceVersion`` (one cluster-wide counter) and
  ``generation`` (custom resources and CRDs; bumped when anything outside metadata/status changes);
  ``managedFields`` (manager from ``fieldManager`` or the user agent);
- PUT (replace): 409 Conflict on a stale ``metadata.resourceVersion``; custom resources refuse an update
  without one (422); the status subresource rules (main endpoint keeps status, ``/status`` only changes status);
- PATCH by content type (see :mod:`.patching`): merge, JSON patch (failed ``test`` = 422 Invalid), strategic
  merge (415 UnsupportedMediaType on custom resources), server-side apply (creates a missing object, needs
  ``fieldManager``); a patch carrying ``metadata.resourceVersion`` is a precondition (409 when stale);
- a write that changes nothing does not bump ``resourceVersion`` (the API server skips no-op updates);
- LIST: ``labelSelector`` and ``fieldSelector``, ``kind: <Kind>List`` and ``apiVersion``, the list's
  ``resourceVersion``; items of built-in kinds carry no kind/apiVersion (typed lists), custom ones do;
- create: namespace from the URL (400 when the body names another), 404 when the namespace does not exist,
  409 AlreadyExists, 422 on invalid names/labels; Secret ``stringData`` merged into base64 ``data``;
- CRDs: creating or deleting a CustomResourceDefinition adds or removes its resources from discovery;
- errors are ``kind: Status`` with the standard reasons (NotFound, AlreadyExists, Conflict, Invalid,
  BadRequest, UnsupportedMediaType, MethodNotAllowed, Unauthorized);
- bearer-token authentication (401 otherwise), so kubeconfig credentials really matter.

Test hooks (under ``/_emulator/``, not part of the Kubernetes API, not authenticated, not logged): the request
log, injected concurrent writes (the next write to an object is preceded by someone else's change, so a client
holding the old resourceVersion gets a real 409) and injected failures. The GPU Operator's node behaviour lives
in :mod:`.operator`.
"""
import asyncio
import base64
import binascii
import collections
import copy
import datetime
import json
import re
import uuid

import aiohttp.web
import attrs
import kmock
import yaml
from kmock._internal import apps  # the base request routing that KubernetesEmulator's _handle wraps
from kmock._internal import parsing

from . import errors, patching, selectors
from .errors import ApiStatusError
from .operator import GpuOperator
from .resources import BUILTIN_KINDS, Kind, kinds_from_crd
from .virt import VirtController, schema_causes

CONTROL_PREFIX = '/_emulator/'
WRITE_VERBS = ('create', 'update', 'patch', 'delete')
_DNS_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
_LABEL_NAME = re.compile(r'^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$')
_LABEL_VALUE = re.compile(r'^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$')
_DATA_KEY = re.compile(r'^[-._a-zA-Z0-9]+$')


_KMOCK_PARSE_PATH = parsing.parse_path


def _parse_path(path):
    """kmock 0.8 reads ``/api/v1/namespaces`` and ``/api/v1/namespaces/NAME`` as a namespace prefix without a
    resource (and crashes on the first). The API server treats them as the ``namespaces`` resource itself, with
    ``status`` and ``finalize`` as its subresources."""
    parts = path.strip('/').split('/')
    if parts[:3] == ['api', 'v1', 'namespaces'] and (len(parts) <= 4 or (len(parts) == 5 and parts[4] in ('status', 'finalize'))):
        return parsing.ParsedPath(group='', version='v1', plural='namespaces', namespace=None,
                                  name=parts[3] if len(parts) > 3 else None, subresource=parts[4] if len(parts) > 4 else None)
    return _KMOCK_PARSE_PATH(path)


parsing.parse_path = _parse_path


def _now():
    return datetime.datetime.now(tz=datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _content_type(request):
    value = request.headers.get('Content-Type', '') or ''
    return value.split(';')[0].strip().lower()


@attrs.define(kw_only=True)
class KubeApiEmulator(kmock.KubernetesEmulator):
    """A Kubernetes API server for tests; ``token`` (if set) is the bearer token every API request needs."""

    token: str | None = None
    controller_delay: float = 0.5
    seeder: object = None  # callable(emulator) filling the initial cluster; reset() calls it again

    kinds: dict = attrs.field(factory=dict, init=False)
    log: list = attrs.field(factory=list, init=False)
    resource_version: int = attrs.field(default=1000, init=False)
    conflicts: list = attrs.field(factory=list, init=False)
    failures: list = attrs.field(factory=list, init=False)
    operator: GpuOperator = attrs.field(default=None, init=False)
    virt: VirtController = attrs.field(default=None, init=False)
    _tasks: set = attrs.field(factory=set, init=False)
    initial_delay: float = attrs.field(default=0.5, init=False)
    events: collections.deque = attrs.field(factory=lambda: collections.deque(maxlen=5000), init=False)

    def __attrs_post_init__(self):
        super().__attrs_post_init__()
        self.initial_delay = self.controller_delay
        self.fallback[kmock.method.PUT] << self._serve_replace  # pylint: disable=expression-not-assigned
        for kind in BUILTIN_KINDS:
            self.register_kind(kind)
        self.operator = GpuOperator(self)
        self.virt = VirtController(self)

    # ------------------------------------------------------------------ kinds and storage
    def register_kind(self, kind):
        self.kinds[(kind.group, kind.version, kind.plural)] = kind
        self.resources[kind.resource] = kind.info()

    def kind(self, group, version, plural):
        return self.kinds.get((group, version, plural))

    def kind_of(self, api_version, kind_name):
        for kind in self.kinds.values():
            if kind.api_version == api_version and kind.kind == kind_name:
                return kind
        return None

    def _kind_for(self, request):
        resource = request.resource
        kind = self.kinds.get((resource.group, resource.version, resource.plural)) if resource else None
        if kind is None:
            raise errors.resource_not_found()
        if request.subresource not in (None, '') and request.subresource not in kind.subresources:
            raise errors.resource_not_found()
        if kind.namespaced is False and request.namespace:
            raise errors.resource_not_found()
        return kind

    def _key(self, kind, namespace, name):
        return (kind.resource, namespace if kind.namespaced else None, name)

    def get(self, kind, namespace, name):
        """The stored object (a deep copy) or None."""
        key = self._key(kind, namespace, name)
        if key not in self.objects or self.objects[key].deleted:
            return None
        return copy.deepcopy(self.objects[key].raw)

    def items(self, kind, namespace=None):
        found = []
        for (resource, obj_ns, _name), obj in self.objects.items():
            if resource == kind.resource and not obj.deleted and (namespace is None or obj_ns == namespace):
                found.append(copy.deepcopy(obj.raw))
        found.sort(key=lambda o: (o['metadata'].get('namespace', ''), o['metadata']['name']))
        return found

    def next_resource_version(self):
        self.resource_version += 1
        return str(self.resource_version)

    def _put(self, kind, obj, event):
        meta = obj['metadata']
        key = self._key(kind, meta.get('namespace'), meta['name'])
        if key in self.objects:
            self.objects[key].history.append(obj)
        else:
            self.objects[key] = obj
        self._publish(kind, event, obj)

    def _publish(self, kind, event, obj):
        """Record a watch event (watches from an older resourceVersion replay it) and send it to the current
        watchers of every served version of the kind, in write order."""
        if event == 'DELETED':
            obj = copy.deepcopy(obj)
            obj['metadata']['resourceVersion'] = self.next_resource_version()
        self.events.append((int(obj['metadata']['resourceVersion']), (kind.group, kind.plural), event, copy.deepcopy(obj)))
        for other in self.kinds.values():
            if (other.group, other.plural) == (kind.group, kind.plural):
                bus = self._buses[other.resource]
                if bus.consumer_count:
                    task = asyncio.get_running_loop().create_task(bus.put({'type': event, 'object': self._external(other, obj)}))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    def _external(self, kind, obj):
        obj = copy.deepcopy(obj)
        obj['apiVersion'] = kind.api_version
        obj['kind'] = kind.kind
        return obj

    def seed(self, kind, obj):
        """Store ``obj`` as if created through the API (server fields filled), without logging a request."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault('metadata', {})
        if not kind.namespaced:
            meta.pop('namespace', None)
        self._server_fields_on_create(kind, obj, manager='emulator-seed')
        self._put(kind, obj, 'ADDED')
        self._after_write(kind, None, obj)
        return obj

    def controller_update(self, kind, namespace, name, mutate):
        """A write by an in-cluster controller (the emulated GPU Operator): ``mutate(obj)`` edits a copy.

        Bumps resourceVersion when something changed (so clients holding the old one get 409) and emits a
        watch event; not a client request, so not in the request log.
        """
        current = self.get(kind, namespace, name)
        if current is None:
            return None
        updated = copy.deepcopy(current)
        mutate(updated)
        if updated == current:
            return current
        updated['metadata']['resourceVersion'] = self.next_resource_version()
        if kind.generation and self._spec_changed(current, updated):
            updated['metadata']['generation'] = current['metadata'].get('generation', 1) + 1
        self._put(kind, updated, 'MODIFIED')
        if kind.kind == 'Node':  # virt-controller looks again at VMs waiting for device resources
            self.virt.observe(kind, current, updated)
        return updated

    def reset(self):
        """Back to the seeded cluster (the ``seeder`` given at start-up), with an empty request log and no
        injections. resourceVersion keeps counting up, as it would on a real cluster."""
        for task in list(self.operator.tasks.values()) + list(self.operator.policy_tasks.values()) + list(self.virt.tasks.values()):
            task.cancel()
        self.objects.clear()
        for key in [k for k, kind in self.kinds.items() if not kind.builtin]:
            kind = self.kinds.pop(key)
            if kind.resource in self.resources:
                del self.resources[kind.resource]
        self.operator = GpuOperator(self)
        self.virt = VirtController(self)
        del self.log[:], self.conflicts[:], self.failures[:]
        self.events.clear()
        self.controller_delay = self.initial_delay
        if self.seeder is not None:
            self.seeder(self)

    # ------------------------------------------------------------------ request entry
    async def _handle(self, request):
        path = request.url.path
        if path.startswith(CONTROL_PREFIX):
            return await self._control(request, path[len(CONTROL_PREFIX):])
        entry = self._log_entry(request)
        self.log.append(entry)
        try:
            self._check_auth(request)
            self._injected_failure(request)
            response = await apps.RawHandler._handle(self, request)  # pylint: disable=protected-access
        except kmock.KubernetesError as exc:
            entry['status'] = exc.status
            raise
        except Exception:
            entry['status'] = 500
            raise
        entry['status'] = response.status
        return response

    async def __call__(self, raw_request):
        response = await super().__call__(raw_request)
        if self._errors:
            del self._errors[-1][:]  # errors become responses; do not accumulate them in a long-lived server
        return response

    async def _render_error(self, exc):
        if isinstance(exc, kmock.KubernetesError):
            body = errors.status_body(exc.status, exc.reason, exc.message, exc.details)
            return aiohttp.web.json_response(body, status=exc.status)
        return await super()._render_error(exc)

    def _check_auth(self, request):
        if self.token is None:
            return
        if request.headers.get('Authorization', '') != 'Bearer ' + self.token:
            raise errors.unauthorized()

    def _log_entry(self, request):
        verb = 'discovery'
        if request.resource is not None and request.resource.plural:
            verb = {'GET': 'get', 'POST': 'create', 'PUT': 'update', 'PATCH': 'patch', 'DELETE': 'delete'}.get(
                request.method.value, request.method.value.lower())
            if verb == 'get' and request.params.get('watch') in ('true', '1'):
                verb = 'watch'
            elif verb == 'get' and not request.name:
                verb = 'list'
        return {
            'id': len(self.log), 'method': request.method.value, 'path': request.url.path,
            'query': dict(request.params), 'content_type': _content_type(request), 'verb': verb,
            'write': verb in WRITE_VERBS and request.params.get('dryRun') != 'All',
            'dry_run': request.params.get('dryRun') == 'All', 'user_agent': request.headers.get('User-Agent', ''),
            'status': None, 'injected': None,
        }

    def _injected_failure(self, request):
        for failure in self.failures:
            if failure['times'] > 0 and failure['method'] == request.method.value and failure['path'] == request.url.path:
                failure['times'] -= 1
                self.log[-1]['injected'] = 'failure'
                raise ApiStatusError(failure['status'], failure.get('reason', 'InternalError'),
                                     failure.get('message', 'injected failure'), {})

    def _injected_conflict(self, request, kind, namespace, name):
        """Someone else writes the object first: the concurrent writer of the acceptance tests."""
        for conflict in self.conflicts:
            if conflict['times'] > 0 and conflict['path'] == request.url.path:
                conflict['times'] -= 1
                patch = conflict.get('patch') or {'metadata': {'annotations': {'emulator/concurrent-writer': str(uuid.uuid4())}}}
                self.controller_update(kind, namespace, name, lambda obj: obj.update(patching.merge_patch(obj, patch)))
                self.log[-1]['injected'] = 'conflict'

    # ------------------------------------------------------------------ reads
    async def _serve_fetch(self, request):
        kind = self._kind_for(request)
        obj = self.get(kind, request.namespace, request.name)
        if obj is None:
            raise errors.not_found(kind, request.name)
        return self._external(kind, obj)

    async def _serve_list(self, request):
        kind = self._kind_for(request)
        labels = selectors.parse_label_selector(request.params.get('labelSelector', ''))
        fields = selectors.parse_field_selector(request.params.get('fieldSelector', ''), kind.kind)
        items = []
        for obj in self.items(kind, request.namespace):
            if selectors.labels_match(labels, obj['metadata'].get('labels')) and selectors.fields_match(fields, obj):
                if kind.builtin:
                    obj.pop('apiVersion', None)
                    obj.pop('kind', None)
                else:
                    obj = self._external(kind, obj)
                items.append(obj)
        return {'kind': kind.kind + 'List', 'apiVersion': kind.api_version,
                'metadata': {'resourceVersion': str(self.resource_version)}, 'items': items}

    async def _serve_watch(self, request):
        kind = self._kind_for(request)
        labels = selectors.parse_label_selector(request.params.get('labelSelector', ''))
        fields = selectors.parse_field_selector(request.params.get('fieldSelector', ''), kind.kind)
        timeout = float(request.params.get('timeoutSeconds') or 1800)

        def wanted(obj):
            meta = obj.get('metadata', {})
            if request.namespace and meta.get('namespace') != request.namespace:
                return False
            if request.name and meta.get('name') != request.name:
                return False
            return selectors.labels_match(labels, meta.get('labels')) and selectors.fields_match(fields, obj)

        bus = self._buses[kind.resource]
        marker = await bus.mark()
        yield b''
        try:
            since = request.params.get('resourceVersion')
            if since in (None, '', '0'):
                for obj in self.items(kind, request.namespace):
                    if wanted(obj):
                        yield {'type': 'ADDED', 'object': self._external(kind, obj)}
                last = self.resource_version
            else:
                last = int(since)
                for version, key, event, obj in list(self.events):
                    if version > last and key == (kind.group, kind.plural) and wanted(obj):
                        yield {'type': event, 'object': self._external(kind, obj)}
                last = max(last, self.resource_version)
            deadline = asyncio.get_running_loop().time() + timeout
            stream = bus.stream(since=marker).__aiter__()
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    return
                try:
                    event = await asyncio.wait_for(stream.__anext__(), remaining)
                except (asyncio.TimeoutError, StopAsyncIteration):
                    return
                if int(event['object']['metadata']['resourceVersion']) > last and wanted(event['object']):
                    yield event
        finally:
            await bus.unmark(marker)

    # ------------------------------------------------------------------ writes
    def _body(self, request):
        if request.data is None or not isinstance(request.data, (dict, list)):
            try:
                return json.loads(request.text)
            except ValueError:
                raise errors.bad_request("couldn't get version/kind; json parse error: invalid body") from None
        return request.data

    def _check_type(self, kind, body):
        api_version, kind_name = body.get('apiVersion'), body.get('kind')
        if api_version and api_version != kind.api_version:
            raise errors.bad_request('the API version in the data (%s) does not match the expected API version (%s)'
                                     % (api_version, kind.api_version))
        if kind_name and kind_name != kind.kind:
            raise errors.bad_request('the kind in the data (%s) does not match the expected kind (%s)' % (kind_name, kind.kind))

    async def _serve_create(self, request):
        kind = self._kind_for(request)
        body = self._body(request)
        if not isinstance(body, dict):
            raise errors.bad_request('the body of a create must be an object')
        self._check_type(kind, body)
        obj = copy.deepcopy(body)
        meta = obj.setdefault('metadata', {})
        if kind.namespaced:
            if meta.get('namespace') and request.namespace and meta['namespace'] != request.namespace:
                raise errors.bad_request('the namespace of the provided object does not match the namespace sent on the request')
            meta['namespace'] = request.namespace or meta.get('namespace') or 'default'
        else:
            meta.pop('namespace', None)
        if not meta.get('name') and meta.get('generateName'):
            meta['name'] = meta['generateName'] + uuid.uuid4().hex[:5]
        if not meta.get('name'):
            raise errors.invalid(kind, '', [('metadata.name', 'Required value: name or generateName is required')])
        if kind.namespaced and self.get(self.kind('', 'v1', 'namespaces'), None, meta['namespace']) is None:
            raise errors.namespace_not_found(meta['namespace'])
        if self.get(kind, meta.get('namespace'), meta['name']) is not None:
            raise errors.already_exists(kind, meta['name'])
        if kind.has_status and not kind.builtin:
            obj.pop('status', None)  # the status subresource owns status
        if kind.kind == 'Namespace':
            obj['status'] = {'phase': 'Active'}
        self._normalise(kind, obj)
        self._validate(kind, obj)
        self._server_fields_on_create(kind, obj, manager=self._manager(request), operation='Update')
        if request.params.get('dryRun') == 'All':
            return kmock.Response(status=201, payload=self._external(kind, obj))
        self._put(kind, obj, 'ADDED')
        self._after_write(kind, None, obj)
        return kmock.Response(status=201, payload=self._external(kind, obj))

    async def _serve_replace(self, request):
        if request.resource is None or not request.name:
            raise errors.method_not_allowed('PUT')
        kind = self._kind_for(request)
        self._injected_conflict(request, kind, request.namespace, request.name)
        body = self._body(request)
        if not isinstance(body, dict):
            raise errors.bad_request('the body of an update must be an object')
        self._check_type(kind, body)
        meta = body.setdefault('metadata', {})
        if meta.get('name') != request.name:
            raise errors.bad_request('the name of the object (%s) does not match the name on the URL (%s)'
                                     % (meta.get('name'), request.name))
        current = self.get(kind, request.namespace, request.name)
        if current is None:
            raise errors.not_found(kind, request.name)
        sent_rv = meta.get('resourceVersion')
        if not sent_rv and not kind.builtin:
            raise errors.invalid(kind, request.name, [('metadata.resourceVersion',
                                                       'Invalid value: 0x0: must be specified for an update')])
        if sent_rv and sent_rv != current['metadata']['resourceVersion']:
            raise errors.conflict(kind, request.name)
        return self._commit_update(request, kind, current, copy.deepcopy(body))

    async def _serve_update(self, request):  # PATCH
        # kmock copies the status of a returned Response onto the reaction itself, so a PATCH that once
        # answered 201 (server-side apply creating an object) would answer 201 forever: always set it.
        result = await self._patch(request)
        return result if isinstance(result, kmock.Response) else kmock.Response(status=200, payload=result)

    async def _patch(self, request):
        kind = self._kind_for(request)
        content_type = _content_type(request)
        accepted = patching.PATCH_TYPES if kind.builtin else patching.CUSTOM_PATCH_TYPES
        if content_type not in accepted:
            raise errors.unsupported_media_type(content_type, accepted)
        self._injected_conflict(request, kind, request.namespace, request.name)
        if content_type == patching.APPLY:
            try:
                body = yaml.safe_load(request.text)
            except yaml.YAMLError as exc:
                raise errors.bad_request('error decoding YAML: %s' % exc) from None
            if not request.params.get('fieldManager'):
                raise errors.invalid(kind, request.name, [('fieldManager', 'Required value: is required for apply patch')])
        else:
            body = self._body(request)
        current = self.get(kind, request.namespace, request.name)
        if current is None:
            if content_type == patching.APPLY:
                return await self._apply_create(request, kind, body)
            raise errors.not_found(kind, request.name)
        source = self._external(kind, current)
        try:
            if content_type == patching.MERGE:
                patched = patching.merge_patch(source, body)
            elif content_type == patching.JSON_PATCH:
                patched = patching.json_patch(source, body)
            elif content_type == patching.STRATEGIC:
                patched = patching.strategic_merge_patch(source, body)
            else:
                patched = patching.apply_patch(source, body)
        except patching.PatchError as exc:
            if exc.code == 400:
                raise errors.bad_request(str(exc)) from None
            raise ApiStatusError(422, 'Invalid', str(exc), {'name': request.name, 'kind': kind.plural}) from None
        if not isinstance(patched, dict):
            raise errors.bad_request('the patch did not produce an object')
        sent_rv = (patched.get('metadata') or {}).get('resourceVersion')
        if sent_rv and sent_rv != current['metadata']['resourceVersion']:
            raise errors.conflict(kind, request.name)
        if (patched.get('metadata') or {}).get('name') != request.name:
            raise errors.invalid(kind, request.name, [('metadata.name', 'Invalid value: field is immutable')])
        self._check_type(kind, patched)
        operation = 'Apply' if content_type == patching.APPLY else 'Update'
        return self._commit_update(request, kind, current, patched, operation=operation, applied=body)

    async def _apply_create(self, request, kind, body):
        """Server-side apply of an object that does not exist creates it (201)."""
        if not isinstance(body, dict):
            raise errors.bad_request('the applied configuration must be an object')
        self._check_type(kind, body)
        obj = copy.deepcopy(body)
        meta = obj.setdefault('metadata', {})
        if meta.get('name') not in (None, request.name):
            raise errors.bad_request('the name of the object (%s) does not match the name on the URL (%s)'
                                     % (meta.get('name'), request.name))
        meta['name'] = request.name
        if kind.namespaced:
            meta['namespace'] = request.namespace
            if self.get(self.kind('', 'v1', 'namespaces'), None, request.namespace) is None:
                raise errors.namespace_not_found(request.namespace)
        if kind.has_status and not kind.builtin:
            obj.pop('status', None)
        self._normalise(kind, obj)
        self._validate(kind, obj)
        self._server_fields_on_create(kind, obj, manager=request.params['fieldManager'], operation='Apply', applied=body)
        if request.params.get('dryRun') != 'All':
            self._put(kind, obj, 'ADDED')
            self._after_write(kind, None, obj)
        return kmock.Response(status=201, payload=self._external(kind, obj))

    def _commit_update(self, request, kind, current, new, operation='Update', applied=None):
        new.setdefault('metadata', {})
        if request.subresource == 'status':
            status = new.get('status')
            new = copy.deepcopy(current)
            if status is None:
                new.pop('status', None)
            else:
                new['status'] = status
        elif kind.has_status:
            if 'status' in current:
                new['status'] = copy.deepcopy(current['status'])
            else:
                new.pop('status', None)
        meta, old_meta = new['metadata'], current['metadata']
        for field in ('uid', 'creationTimestamp', 'namespace', 'name', 'generation', 'managedFields'):
            if field in old_meta:
                meta[field] = copy.deepcopy(old_meta[field])
            else:
                meta.pop(field, None)
        meta['resourceVersion'] = old_meta['resourceVersion']
        new.pop('apiVersion', None)
        new.pop('kind', None)
        self._normalise(kind, new)
        self._validate(kind, new)
        if new == current:  # the API server skips no-op writes: same resourceVersion, no event
            return self._external(kind, current)
        if kind.generation and self._spec_changed(current, new):
            meta['generation'] = old_meta.get('generation', 1) + 1
        meta['resourceVersion'] = self.next_resource_version()
        self._record_manager(new, self._manager(request), operation, kind, applied if applied is not None else new)
        if request.params.get('dryRun') == 'All':
            return self._external(kind, new)
        self._put(kind, new, 'MODIFIED')
        self._after_write(kind, current, new)
        return self._external(kind, new)

    async def _serve_delete(self, request):
        kind = self._kind_for(request)
        self._injected_conflict(request, kind, request.namespace, request.name)
        current = self.get(kind, request.namespace, request.name)
        if current is None:
            raise errors.not_found(kind, request.name)
        if request.params.get('dryRun') == 'All':
            return self._external(kind, current)
        self._delete(kind, current)
        if kind.builtin:
            return {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Success',
                    'details': {'name': request.name, 'group': kind.group, 'kind': kind.plural,
                                'uid': current['metadata']['uid']}}
        return self._external(kind, current)

    def _delete(self, kind, obj):
        meta = obj['metadata']
        key = self._key(kind, meta.get('namespace'), meta['name'])
        self.objects[key].delete()
        self._publish(kind, 'DELETED', obj)
        if kind.kind == 'Namespace':  # namespace deletion removes what it contains
            for other in list(self.kinds.values()):
                if other.namespaced:
                    for child in self.items(other, meta['name']):
                        if self.get(other, meta['name'], child['metadata']['name']) is not None:
                            self._delete(other, child)
        self._after_write(kind, obj, None)

    # ------------------------------------------------------------------ object rules
    @staticmethod
    def _spec_changed(old, new):
        strip = ('metadata', 'status', 'apiVersion', 'kind')
        return {k: v for k, v in old.items() if k not in strip} != {k: v for k, v in new.items() if k not in strip}

    def _manager(self, request):
        manager = request.params.get('fieldManager')
        if manager:
            return manager
        agent = request.headers.get('User-Agent', '') or 'unknown'
        return agent.split('/')[0].split(' ')[0]

    def _server_fields_on_create(self, kind, obj, manager, operation='Update', applied=None):
        meta = obj['metadata']
        for field in ('uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'deletionTimestamp'):
            meta.pop(field, None)
        obj.pop('apiVersion', None)
        obj.pop('kind', None)
        meta['uid'] = str(uuid.uuid4())
        meta['creationTimestamp'] = _now()
        meta['resourceVersion'] = self.next_resource_version()
        if kind.generation:
            meta['generation'] = 1
        self._record_manager(obj, manager, operation, kind, applied if applied is not None else obj)

    @staticmethod
    def _record_manager(obj, manager, operation, kind, source):
        fields = copy.deepcopy(source) if isinstance(source, dict) else {}
        fields.pop('apiVersion', None)
        fields.pop('kind', None)
        fields_meta = fields.get('metadata') or {}
        for key in ('name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields'):
            fields_meta.pop(key, None)
        if not fields_meta:
            fields.pop('metadata', None)
        entries = [e for e in obj['metadata'].get('managedFields', []) if (e['manager'], e['operation']) != (manager, operation)]
        entries.append({'manager': manager, 'operation': operation, 'apiVersion': kind.api_version, 'time': _now(),
                        'fieldsType': 'FieldsV1', 'fieldsV1': patching.fields_v1(fields)})
        obj['metadata']['managedFields'] = entries

    def _normalise(self, kind, obj):
        """Type-specific defaulting: Secret ``stringData`` into ``data``, default Secret type."""
        if kind.kind == 'Secret':
            string_data = obj.pop('stringData', None) or {}
            if not isinstance(string_data, dict):
                raise errors.bad_request('json: cannot unmarshal stringData into Go struct field Secret.stringData of type map[string]string')
            data = obj.get('data') or {}
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            if data:
                obj['data'] = data
            obj.setdefault('type', 'Opaque')

    def _validate(self, kind, obj):
        meta = obj['metadata']
        name = meta.get('name', '')
        causes = []
        if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
            causes.append(('metadata.name', 'Invalid value: "%s": a lowercase RFC 1123 subdomain must consist of lower case '
                           'alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character' % name))
        for key, value in (meta.get('labels') or {}).items():
            prefix, label = key.rpartition('/')[::2]
            if not _LABEL_NAME.match(label) or len(label) > 63 or (prefix and not _DNS_SUBDOMAIN.match(prefix)):
                causes.append(('metadata.labels', 'Invalid value: "%s": name part must consist of alphanumeric characters, '
                               '\'-\', \'_\' or \'.\', and must start and end with an alphanumeric character' % key))
            if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
                causes.append(('metadata.labels', 'Invalid value: "%s": a valid label must be an empty string or consist of '
                               'alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric '
                               'character' % (value,)))
        if kind.kind in ('ConfigMap', 'Secret'):
            for key, value in (obj.get('data') or {}).items():
                if not _DATA_KEY.match(key):
                    causes.append(('data[%s]' % key, 'Invalid value: "%s": a valid config key must consist of alphanumeric '
                                   'characters, \'-\', \'_\' or \'.\'' % key))
                if not isinstance(value, str):
                    raise errors.bad_request('json: cannot unmarshal %s into Go struct field %s.data of type %s'
                                             % (type(value).__name__, kind.kind, 'string' if kind.kind == 'ConfigMap' else '[]uint8'))
                if kind.kind == 'Secret':
                    try:
                        base64.b64decode(value, validate=True)
                    except (binascii.Error, ValueError):
                        raise errors.bad_request('illegal base64 data in Secret data[%s]' % key) from None
        if kind.kind == 'KubeVirt':
            causes.extend(_validate_kubevirt(obj))
        if kind.kind == 'VirtualMachine':
            causes.extend(schema_causes(obj))
        if causes:
            raise errors.invalid(kind, name, causes)
        if kind.kind == 'VirtualMachine':
            self.virt.admit(obj)  # KubeVirt's validating webhook, after the schema

    def _after_write(self, kind, before, after):
        if kind.kind == 'CustomResourceDefinition':
            for old in kinds_from_crd(before or {}) if before else []:
                self.kinds.pop((old.group, old.version, old.plural), None)
                if old.resource in self.resources:
                    del self.resources[old.resource]
            for new in kinds_from_crd(after) if after else []:
                self.register_kind(new)
        self.operator.observe(kind, before, after)
        self.virt.observe(kind, before, after)

    # ------------------------------------------------------------------ test hooks
    async def _control(self, request, what):
        method = request.method.value
        if what == 'requests' and method == 'GET':
            return aiohttp.web.json_response({'requests': self.log})
        if what == 'requests' and method == 'DELETE':
            del self.log[:]
            return aiohttp.web.json_response({'requests': []})
        if what == 'conflicts' and method == 'POST':
            spec = request.data or {}
            self.conflicts.append({'path': spec['path'], 'times': int(spec.get('times', 1)), 'patch': spec.get('patch')})
            return aiohttp.web.json_response({'conflicts': self.conflicts})
        if what == 'failures' and method == 'POST':
            spec = dict(request.data or {})
            spec['times'] = int(spec.get('times', 1))
            spec['method'] = spec.get('method', 'PATCH').upper()
            self.failures.append(spec)
            return aiohttp.web.json_response({'failures': self.failures})
        if what == 'operator' and method == 'GET':
            return aiohttp.web.json_response(dict(self.operator.state(), virtual_machines=self.virt.state()))
        if what == 'operator' and method == 'POST':
            spec = request.data or {}
            if 'delay' in spec:
                self.controller_delay = float(spec['delay'])
            return aiohttp.web.json_response(self.operator.state())
        if what == 'reset' and method == 'POST':
            self.reset()
            return aiohttp.web.json_response({'ok': True, 'resourceVersion': str(self.resource_version)})
        if what == 'health':
            return aiohttp.web.json_response({'ok': True, 'resourceVersion': str(self.resource_version)})
        return aiohttp.web.json_response(errors.status_body(404, 'NotFound', 'unknown emulator hook %s' % what), status=404)


def _validate_kubevirt(obj):
    """The KubeVirt CRD's OpenAPI schema for permittedHostDevices [S6 types.go]: required selector and
    resourceName, string types, featureGates a list of strings."""
    causes = []
    config = (obj.get('spec') or {}).get('configuration') or {}
    permitted = config.get('permittedHostDevices') or {}
    required = {'pciHostDevices': 'pciVendorSelector', 'mediatedDevices': 'mdevNameSelector'}
    for field, selector in required.items():
        entries = permitted.get(field) or []
        if not isinstance(entries, list):
            causes.append(('spec.configuration.permittedHostDevices.%s' % field, 'Invalid value: must be an array'))
            continue
        for index, entry in enumerate(entries):
            where = 'spec.configuration.permittedHostDevices.%s[%d]' % (field, index)
            for key in (selector, 'resourceName'):
                if not isinstance(entry, dict) or not isinstance(entry.get(key), str) or not entry.get(key):
                    causes.append(('%s.%s' % (where, key), 'Required value'))
            if isinstance(entry, dict) and 'externalResourceProvider' in entry and not isinstance(entry['externalResourceProvider'], bool):
                causes.append(('%s.externalResourceProvider' % where, 'Invalid value: must be a boolean'))
    gates = ((config.get('developerConfiguration') or {}).get('featureGates'))
    if gates is not None and (not isinstance(gates, list) or not all(isinstance(g, str) for g in gates)):
        causes.append(('spec.configuration.developerConfiguration.featureGates', 'Invalid value: must be a list of strings'))
    return causes


__all__ = ['KubeApiEmulator', 'Kind', 'CONTROL_PREFIX']
