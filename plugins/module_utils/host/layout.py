# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_vgpu's planner: the desired vGPU layout per GPU -> an ordered plan of sysfs writes with their undo.

Pure with respect to the host: it reads only the :class:`Inventory` and the catalog; the changes it returns carry the
writes as closures. All validation happens here, before the first write (design: the spine):
unknown or malformed devices and types, a type the GPU does not offer, capacity, equal-size / MIG rules (the
catalog's ``check_fit``), SR-IOV GPUs without VFs, and vGPUs in use by a running VM (refused without ``force``).

Per GPU the layout is exact, like NVIDIA's vgpu-device-manager: what is asked stays or is created, everything else
on that GPU is removed. Existing vGPUs of a wanted type are kept (never recreated), so a second run plans nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import uuid as uuidlib

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import OutcomeUnknown, Plan, PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.pci import normalize_address
from ansible_collections.gpuvirt.core.plugins.module_utils.host import boot_tools, vdm_config
from ansible_collections.gpuvirt.core.plugins.module_utils.host.inventory import HostRoot, parse_creatable, short_name
from ansible_collections.gpuvirt.core.plugins.module_utils.host.sysfs import SysfsWriteTimeout
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import VgpuError, check_fit, gpu_models, parse

MDEVCTL_DIR = 'etc/mdevctl.d'
REMOVE_TIMEOUT = 30


def gpu_list(inv):
    return ', '.join('%d=%s (%s)' % (g.index, g.address, g.model_token or g.function.device_id) for g in inv.gpus) or 'none'


def select_gpus(inv, devices, option='devices'):
    """``all``, PCI addresses or GPU indices (NVIDIA PFs sorted by address, like nvidia-smi) -> [Gpu]."""
    if devices is None or devices == 'all' or devices == ['all']:
        return list(inv.gpus)
    if isinstance(devices, str):
        devices = [d.strip() for d in devices.split(',') if d.strip()]
    elif not isinstance(devices, list):
        devices = [devices]
    selected = []
    for item in devices:
        gpu = None
        if isinstance(item, int) and not isinstance(item, bool) or (isinstance(item, str) and item.strip().lstrip('-').isdigit()):
            index = int(item)
            if index < 0:
                raise PlanError('%s: %r is not a GPU index: indices count from 0 in PCI address order (no negative indices); '
                                'GPUs on this host: %s' % (option, item, gpu_list(inv)))
            if index >= len(inv.gpus):
                raise PlanError('%s: there is no GPU with index %d; GPUs on this host: %s' % (option, index, gpu_list(inv)))
            gpu = inv.gpus[index]
        else:
            address = normalize_address(item) if isinstance(item, str) else None
            if address is None:
                raise PlanError("%s: %r is not a PCI address (DDDD:BB:SS.F such as 0000:3b:00.0), a GPU index or 'all'"
                                % (option, item))
            gpu = inv.gpu(address)
            if gpu is None:
                owner = inv.gpu_of(address)
                if owner is not None:
                    raise PlanError('%s: %s is not a GPU but a function of GPU %s; give the GPU address %s'
                                    % (option, address, owner.address, owner.address))
                raise PlanError('%s: no NVIDIA GPU at %s; GPUs on this host: %s' % (option, address, gpu_list(inv)))
        if gpu not in selected:
            selected.append(gpu)
    return selected


def catalog_model(gpu):
    """The catalog GpuModel of a GPU, from its driver type names or else its PCI device id; None if unknown."""
    found = gpu_models(gpu.model_token) if gpu.model_token else []
    if not found:
        try:
            found = gpu_models(int(gpu.function.device_id, 16), subsystem_id=gpu.function.subsystem_id or None)
        except ValueError:
            found = []
    return found[0] if len(found) == 1 else None


def offers(gpu, vtype):
    """Does the GPU's catalog model offer ``vtype`` (A10-4Q on an A10, not on an L40S)?"""
    model = catalog_model(gpu)
    return model is not None and model.max_instances(vtype) > 0


def resolve_type(spelling, option='vgpu_type'):
    try:
        return parse(spelling)
    except VgpuError as exc:
        raise PlanError('%s: %s' % (option, exc))


def _require_backend(gpu):
    if gpu.backend != 'none':
        return
    name = '%s (index %d, %s)' % (gpu.address, gpu.index, gpu.model_token or 'device %s' % gpu.function.device_id)
    if gpu.function.driver != 'nvidia':
        raise PlanError('GPU %s is bound to %s, not to the NVIDIA vGPU manager: bind it back with gpuvirt.core.host_gpu_driver '
                        '(driver: nvidia) before creating vGPUs' % (name, gpu.function.driver or 'no driver'))
    if gpu.sriov_capable and not gpu.vfs:
        raise PlanError('GPU %s supports SR-IOV but has no virtual functions enabled, and its vGPUs live on VFs: enable them '
                        'first with gpuvirt.core.host_gpu_sriov (state: enabled)' % name)
    raise PlanError('GPU %s offers no vGPU types (no mdev types and no vendor-specific VFIO files): is the NVIDIA vGPU '
                    'manager (host driver) installed and loaded?' % name)


class LayoutPlanner(object):
    """Builds the plan; ``forced`` collects the in-use vGPUs a ``force: true`` run removes."""

    def __init__(self, host, inv, force=False, persist=False, mixed_size=False, remove_timeout=REMOVE_TIMEOUT):
        self.host = host
        self.remove_timeout = remove_timeout
        self.inv = inv
        self.force = force
        self.persist = persist
        self.mixed_size = mixed_size
        self.plan = Plan()
        self.unknown_gpus = set()
        self.forced = []
        self.final = {}          # gpu address -> [(id, type_id, parent)] after the plan

    def report(self):
        """Result keys of every changing host module: ``removed`` (ids of the vGPUs the plan removes) and ``forced``
        (what ``force: true`` removed or changed while a VM used it)."""
        return {'removed': [c.target for c in self.plan.changes if c.action == 'remove'], 'forced': self.forced}

    # -- desired state --------------------------------------------------------------------------------------------
    def desired_for(self, gpu, wanted):
        """``wanted``: [(VgpuType, count or None)] -> [(VgpuType, count, host type or None)] validated for ``gpu``."""
        _require_backend(gpu)
        model = catalog_model(gpu)
        name = '%s (index %d, %s)' % (gpu.address, gpu.index, model.name if model else gpu.model_token or gpu.function.device_id)
        out = []
        for vtype, count in wanted:
            if model is not None and model.max_instances(vtype) == 0:
                offered = ', '.join(t.canonical for t in model.vgpu_types())
                raise PlanError('vGPU type %s is not offered by GPU %s; it offers: %s' % (vtype.canonical, name, offered),
                                gpu=gpu.address)
            host_type = gpu.type_by_short(vtype.canonical)
            if host_type is None and gpu.backend == 'mdev':
                offered = ', '.join(t.short for t in gpu.types)
                raise PlanError('vGPU type %s is not offered by the driver on GPU %s; mdev types there: %s'
                                % (vtype.canonical, name, offered), gpu=gpu.address)
            limit = vtype.max_instances or 0
            if host_type is not None and host_type.max_instance:
                limit = min(limit, host_type.max_instance) if limit else host_type.max_instance
            if gpu.parents != [gpu.address]:
                limit = min(limit, len(gpu.parents)) if limit else len(gpu.parents)
            if count is None:
                count = limit
            if count < 0:
                raise PlanError('count must be 0 or more, got %d' % count)
            out.append((vtype, count, host_type))
        pairs = [(vtype, count) for vtype, count, _h in out if count]
        if model is not None and pairs:
            fit = check_fit(model, pairs, mixed_size=self.mixed_size)
            if not fit.ok:
                raise PlanError('the vGPU layout %s does not fit on GPU %s: %s' % (
                    ', '.join('%s x%d' % (t.canonical, n) for t, n in pairs), name, '; '.join(fit.reasons)), gpu=gpu.address)
        for vtype, count, host_type in out:
            if host_type is not None and host_type.max_instance is not None and count > host_type.max_instance:
                raise PlanError('%s x%d: the driver on GPU %s allows at most %d' % (vtype.canonical, count, name, host_type.max_instance))
            if model is None and host_type is not None:
                self._check_available(gpu, name, vtype, count, host_type)
        total = sum(count for _t, count, _h in out)
        if gpu.parents != [gpu.address] and total > len(gpu.parents):
            raise PlanError('%d vGPUs need %d virtual functions bound to nvidia, GPU %s has %d (one vGPU per VF)'
                            % (total, total, name, len(gpu.parents)))
        return out

    @staticmethod
    def _check_available(gpu, name, vtype, count, host_type):
        """A GPU the catalog does not know: what its driver says is still creatable (``available_instances``) bounds
        the new vGPUs of a type, when no vGPU of another type is removed first (that would change the driver's count)."""
        same = len([v for v in gpu.vgpus if v.type_id == host_type.type_id])
        if any(v.type_id != host_type.type_id for v in gpu.vgpus):
            return
        if count - same > host_type.available_instances:
            raise PlanError('%s x%d: the driver on GPU %s lists %d more available (available_instances) beside the %d there'
                            % (vtype.canonical, count, name, host_type.available_instances, same), gpu=gpu.address)

    # -- the plan -----------------------------------------------------------------------------------------------------
    def _key(self, gpu, vgpu, desired):
        if vgpu.type_name:
            return vgpu.short.upper()
        for vtype, _count, host_type in desired:
            if host_type is not None and host_type.type_id == vgpu.type_id:
                return vtype.canonical.upper()
        return 'ID:%s' % vgpu.type_id

    def layout(self, gpu, desired):
        """Plan ``gpu`` to hold exactly ``desired`` ([(VgpuType, count, host type)])."""
        want = dict((vtype.canonical.upper(), count) for vtype, count, _h in desired)
        groups = {}
        for vgpu in gpu.vgpus:
            groups.setdefault(self._key(gpu, vgpu, desired), []).append(vgpu)
        keep, remove = [], []
        for key in sorted(groups):
            ordered = sorted(groups[key], key=lambda v: (not v.in_use, v.parent, v.id))
            n = want.get(key, 0)
            keep.extend(ordered[:n])
            remove.extend(ordered[n:])
        self._refuse_in_use(gpu, remove)
        for vgpu in remove:
            self._remove(gpu, vgpu)
        busy = set(v.parent for v in keep)
        free = [p for p in gpu.parents if p not in busy] if gpu.parents != [gpu.address] else None
        final = [(v.id, v.type_id, v.parent) for v in keep]
        for vtype, count, host_type in desired:
            have = len([v for v in keep if self._key(gpu, v, desired) == vtype.canonical.upper()])
            for _n in range(count - have):
                if free is None:
                    parent = gpu.address
                else:
                    parent = free.pop(0)
                final.append(self._create(gpu, vtype, host_type, parent))
        self.final[gpu.address] = final

    def remove_all(self, gpu, vtype=None):
        """state=absent: remove every vGPU (of ``vtype`` when given) on ``gpu``."""
        doomed = [v for v in gpu.vgpus if vtype is None or v.short.upper() == vtype.canonical.upper()
                  or (v.type_name is None and gpu.type_by_short(vtype.canonical) is not None
                      and gpu.type_by_short(vtype.canonical).type_id == v.type_id)]
        self._refuse_in_use(gpu, doomed)
        for vgpu in doomed:
            self._remove(gpu, vgpu)
        self.final[gpu.address] = [(v.id, v.type_id, v.parent) for v in gpu.vgpus if v not in doomed]

    def _refuse_in_use(self, gpu, vgpus):
        used = [v for v in vgpus if v.in_use]
        if not used:
            return
        listing = ', '.join('%s (%s, used by VM %s)' % (v.id, v.type_name or v.type_id, v.vm) for v in used)
        if not self.force:
            raise PlanError('refusing to remove or replace vGPUs in use on GPU %s: %s; shut the VMs down, or set force: true '
                            '(the kernel may still refuse while a VM holds the device)' % (gpu.address, listing),
                            in_use=[v.as_dict() for v in used])
        self.forced.extend(v.as_dict() for v in used)
        self.plan.warnings.append('force: removing vGPUs in use on GPU %s: %s' % (gpu.address, listing))

    def _real(self, address):
        return self.inv.functions[address].real

    def _remove(self, gpu, vgpu):
        before = vgpu.as_dict()
        details = {'gpu': gpu.address, 'type_id': vgpu.type_id, 'type_name': vgpu.type_name, 'parent': vgpu.parent}
        if vgpu.in_use:
            details['forced'] = True
        if gpu.backend == 'mdev':
            parent_real = self._real(vgpu.parent)
            remove_path = os.path.join(parent_real, vgpu.id, 'remove')
            create_path = os.path.join(parent_real, 'mdev_supported_types', vgpu.type_id, 'create')
            apply = (lambda: self._remove_in_use(remove_path, vgpu)) if vgpu.in_use else (lambda: self.host.write(remove_path, '1\n'))
            self.plan.add('remove', vgpu.id, before=before, after=None, details=details, apply=apply,
                          undo=lambda: self.host.write(create_path, vgpu.id + '\n'))
        else:
            path = os.path.join(self._real(vgpu.id), 'nvidia', 'current_vgpu_type')
            self.plan.add('remove', vgpu.id, before=before, after=None, details=details,
                          apply=lambda: self.host.write(path, '0\n'),
                          undo=lambda: self.host.write(path, '%s\n' % vgpu.type_id))

    def _remove_in_use(self, remove_path, vgpu):
        """The ``remove`` of a vGPU a VM holds: the kernel blocks it until the VM lets go, so it is given
        ``remove_timeout`` seconds; then the outcome is unknown (the removal may still happen) and the run says so."""
        try:
            self.host.write_timed(remove_path, '1\n', self.remove_timeout)
        except SysfsWriteTimeout as exc:
            raise OutcomeUnknown('vGPU %s is still held by VM %s: %s' % (vgpu.id, vgpu.vm, exc), vgpu=vgpu.id, vm=vgpu.vm,
                                 waiting_pid=exc.pid)

    def _create(self, gpu, vtype, host_type, parent):
        type_id = host_type.type_id if host_type is not None else None
        type_name = host_type.name if host_type is not None else '%s %s' % (vtype.driver_prefix, vtype.canonical)
        details = {'gpu': gpu.address, 'type_id': type_id, 'type_name': type_name, 'parent': parent}
        if gpu.backend == 'mdev':
            new_id = str(uuidlib.uuid4())
            parent_real = self._real(parent)
            create_path = os.path.join(parent_real, 'mdev_supported_types', type_id, 'create')
            remove_path = os.path.join(parent_real, new_id, 'remove')
            self.plan.add('create', new_id, before=None, details=details,
                          after={'id': new_id, 'type_id': type_id, 'type_name': type_name, 'parent': parent},
                          apply=lambda: self.host.write(create_path, new_id + '\n'),
                          undo=lambda: self.host.write(remove_path, '1\n'))
            return (new_id, type_id, parent)
        path = os.path.join(self._real(parent), 'nvidia', 'current_vgpu_type')
        creatable = os.path.join(self._real(parent), 'nvidia', 'creatable_vgpu_types')
        state = {'id': type_id}

        def program():
            if state['id'] is None:
                state['id'] = _lookup_id(creatable, vtype.canonical)
            self.host.write(path, '%s\n' % state['id'])
            return state['id']

        self.plan.add('create', parent, before=None, details=details,
                      after={'id': parent, 'type_id': type_id, 'type_name': type_name, 'parent': parent},
                      apply=program, undo=lambda: self.host.write(path, '0\n'))
        return (parent, type_id, parent)

    # -- mdevctl definitions [reference §1: /etc/mdevctl.d/<parent>/<uuid>, JSON, mdev_type is the type id] ------------
    def persistence(self, gpus):
        """Define (``start: auto``) every final vGPU of ``gpus`` when ``persist``; always drop definitions of vGPUs that
        no longer exist on those GPUs' parents, so no stale definition is left behind."""
        base = self.host.path(MDEVCTL_DIR)
        defined = False
        for gpu in gpus:
            if gpu.backend != 'mdev':
                if self.persist and gpu.backend == 'vendor_vfio':
                    self.plan.warnings.append(
                        'persist: GPU %s uses the vendor-specific VFIO framework, which mdevctl cannot persist and which '
                        'resets current_vgpu_type at boot; re-run this task at boot (e.g. from a systemd unit) after '
                        'host_gpu_sriov' % gpu.address)
                continue
            final = self.final.get(gpu.address, [(v.id, v.type_id, v.parent) for v in gpu.vgpus])
            wanted = dict(((parent, vid), type_id) for vid, type_id, parent in final)
            for parent in gpu.parents + ([gpu.address] if gpu.address not in gpu.parents else []):
                for vid in HostRoot.listdir(os.path.join(base, parent)):
                    path = os.path.join(base, parent, vid)
                    if (parent, vid) not in wanted and os.path.isfile(path):
                        self._undefine(path, parent, vid)
            if not self.persist:
                continue
            if gpu.sriov_capable:
                self.plan.warnings.append('persist: the mdevctl definitions on GPU %s are on VFs: they only start at boot '
                                          'once sriov-manage has enabled the VFs again' % gpu.address)
            defined = defined or bool(wanted)
            for (parent, vid), type_id in sorted(wanted.items()):
                path = os.path.join(base, parent, vid)
                current = _read_json(path)
                if current is not None and current.get('mdev_type') == type_id and current.get('start') == 'auto':
                    continue
                attrs = current.get('attrs', []) if isinstance(current, dict) else []
                self._define(path, parent, vid, {'mdev_type': type_id, 'start': 'auto', 'attrs': attrs}, current)
        warning = defined and boot_tools.missing_warning(self.host, 'mdevctl')
        if warning:
            self.plan.warnings.append(warning)

    def _define(self, path, parent, vid, content, previous):
        def apply():
            _write_json(path, content)

        def undo():
            if previous is None:
                os.unlink(path)
            else:
                _write_json(path, previous)
        self.plan.add('define', 'mdevctl.d/%s/%s' % (parent, vid), before=previous, after=content, apply=apply, undo=undo,
                      details={'path': os.path.join(MDEVCTL_DIR, parent, vid)})

    def _undefine(self, path, parent, vid):
        previous = _read_json(path)
        with open(path) as handle:
            raw = handle.read()

        def undo():
            with open(path, 'w') as out:
                out.write(raw)
        self.plan.add('undefine', 'mdevctl.d/%s/%s' % (parent, vid), before=previous if previous is not None else raw, after=None,
                      apply=lambda: os.unlink(path), undo=undo, details={'path': os.path.join(MDEVCTL_DIR, parent, vid)})


def plan_vgpu(host, inv, state='present', devices='all', vgpu_type=None, count=None, force=False, persist=False, mixed_size=False,
              config_file=None, selected_config=None, config=None, remove_timeout=REMOVE_TIMEOUT):
    """host_vgpu's plan from its options (``config``: the content of ``config_file``, read by the caller) and the
    inventory -> (LayoutPlanner, [Gpu] in scope). Every refusal is a PlanError raised here, before the first write."""
    planner = LayoutPlanner(host, inv, force=force, persist=persist, mixed_size=mixed_size, remove_timeout=remove_timeout)
    if state == 'absent':
        if config_file or count is not None:
            raise PlanError('state=absent removes vGPUs (all, or those of vgpu_type) from devices; count and config_file '
                            'only apply to state=present')
        vtype = resolve_type(vgpu_type) if vgpu_type else None
        gpus = select_gpus(inv, devices)
        for gpu in gpus:
            planner.remove_all(gpu, vtype)
    else:
        if config_file:
            targets = _wanted_from_config(planner, inv, devices, config, selected_config)
        else:
            targets = [(gpu, planner.desired_for(gpu, types)) for gpu, types in _wanted(planner, inv, devices, vgpu_type, count)]
        for gpu, desired in targets:
            planner.layout(gpu, desired)
        gpus = [gpu for gpu, _d in targets]
    planner.persistence(gpus)
    return planner, gpus


class DriverType(object):
    """A vGPU type of a GPU the catalog does not know, as its driver lists it (name, ``description``): the planner
    trusts ``max_instance`` and ``available_instances`` instead of the catalog's rules."""

    driver_prefix = 'NVIDIA'

    def __init__(self, host_type):
        self.canonical = host_type.short
        self.max_instances = host_type.max_instance
        self.framebuffer_mib = host_type.framebuffer_mib


def wanted_type(planner, gpu, spelling, option):
    """The type ``spelling`` on ``gpu``: from the catalog, or for a GPU the catalog does not know, from the types its
    driver lists (warned once per GPU)."""
    if catalog_model(gpu) is not None or gpu.backend == 'none':
        return resolve_type(spelling, option)
    host_type = gpu.type_by_short(spelling.split()[-1] if spelling.split() else spelling)
    if host_type is None:
        raise PlanError('%s: vGPU type %s is not offered by the driver on GPU %s (device %s, not in the catalog); it lists: %s'
                        % (option, spelling, gpu.address, gpu.function.device_id, ', '.join(t.short for t in gpu.types) or 'nothing'),
                        gpu=gpu.address)
    if gpu.address not in planner.unknown_gpus:
        planner.unknown_gpus.add(gpu.address)
        planner.plan.warnings.append('GPU %s (device %s, subsystem %s) is not in the vGPU catalog: planning from the types its driver '
                                     'lists (available_instances, description) without the catalog\'s placement rules'
                                     % (gpu.address, gpu.function.device_id, gpu.function.subsystem_id))
    return DriverType(host_type)


def _wanted_from_config(planner, inv, devices, config, selected_config):
    """[(Gpu, [(type, count)])] from a vgpu-device-manager configuration, as ``nvidia-vgpu-dm apply`` walks it: every
    entry matching a GPU is checked against it in order (an entry with a type the GPU lacks, or a layout that does not
    fit, fails the run naming the entry); the last one is the GPU's layout."""
    entries = vdm_config.select(config, selected_config)
    gpus = select_gpus(inv, devices)
    chosen = vdm_config.matching(entries, gpus)
    out = []
    for gpu in gpus:
        desired = None
        for entry in chosen.get(gpu.address, []):
            option = 'config_file %s' % entry.name
            types = [(wanted_type(planner, gpu, name, option), number) for name, number in entry.types.items()]
            try:
                desired = planner.desired_for(gpu, types)
            except PlanError as exc:
                raise PlanError('%s (GPU index %d, %s): %s' % (option, gpu.index, gpu.address, exc.msg), **exc.details)
        if desired is not None:
            out.append((gpu, desired))
    return out


def _wanted(planner, inv, devices, vgpu_type, count):
    """[(Gpu, [(type, count or None)])] for state=present from vgpu_type and count."""
    if not vgpu_type:
        raise PlanError('state=present needs vgpu_type (with optional count) or config_file + selected_config')
    gpus = select_gpus(inv, devices)
    if devices in (None, 'all', ['all']):
        # 'all' with a type means every GPU of the model that offers it (a host may mix models)
        vtype = resolve_type(vgpu_type)
        gpus = [gpu for gpu in gpus if offers(gpu, vtype)]
        if not gpus:
            raise PlanError('vgpu_type %s: no GPU on this host offers it; GPUs: %s' % (vtype.canonical, gpu_list(inv)))
    return [(gpu, [(wanted_type(planner, gpu, vgpu_type, 'vgpu_type'), count)]) for gpu in gpus]


def _lookup_id(creatable_path, canonical):
    listed = parse_creatable(HostRoot.read(creatable_path, ''))
    for type_id, name in listed:
        if short_name(name).upper() == canonical.upper():
            return type_id
    raise RuntimeError('vGPU type %s is not in %s (lists: %s)' % (canonical, creatable_path, ', '.join(n for _i, n in listed) or 'nothing'))


def _read_json(path):
    try:
        with open(path) as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else None
    except (IOError, OSError, ValueError):
        return None


def _write_json(path, content):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    tmp = path + '.tmp'
    with open(tmp, 'w') as handle:
        handle.write(json.dumps(content, indent=2) + '\n')
    os.rename(tmp, path)
