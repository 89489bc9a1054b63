# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Observe: one walk of a host's sysfs (and ``/proc``) into an :class:`Inventory` of its NVIDIA GPUs.

What is read, and why (reference facts sheet sections):

- ``/sys/bus/pci/devices/*/{vendor,class}``: NVIDIA (0x10de) VGA or 3D controllers (class 0x0300xx, 0x0302xx) that are
  not VFs (no ``physfn``) are GPUs, at any address (go-nvlib's ``GetGPUs`` rule; a GPU passed through to a VM sits at
  ``0000:00:06.0``, reference/real-gpu-h200.md), indexed in PCI address order as go-nvlib and nvidia-smi number them;
  their ``device``, ``subsystem_device``, ``driver``, ``driver_override``, ``iommu_group``, ``numa_node``,
  ``sriov_totalvfs``/``sriov_numvfs`` and ``virtfnN`` links (§2).
- The driver: ``/sys/module/nvidia/version``; the vGPU manager shows ``/sys/module/nvidia_vgpu_vfio`` or a vGPU
  backend, the datacenter driver neither (the real H200 capture: modules ``nvidia`` and ``nvidia_uvm`` only).
- The vGPU backend is detected at runtime, never from the GPU model (§3): a GPU whose PF or VFs are listed in
  ``/sys/class/mdev_bus`` uses ``mdev``; one whose VFs have ``nvidia/creatable_vgpu_types`` uses ``vendor_vfio``;
  otherwise ``none`` (for an SR-IOV GPU this means its VFs are not enabled yet).
- mdev types: ``mdev_supported_types/<id>/{name,description,available_instances}`` read on ONE parent per GPU (all
  VFs of a GPU offer the same types; ``available_instances`` of a free VF is 1 or 0 and the same on every free VF,
  §1/§2), so a GPU with 32 VFs costs one directory, not 32.
- mdevs: ``/sys/bus/mdev/devices/<uuid>`` resolved to its parent (dirname of the real path, as go-nvlib does) and its
  ``mdev_type`` link's basename (the type id, as mdevctl reads it) (§1).
- vendor VFIO: ``VF/nvidia/current_vgpu_type`` of each VF and ``creatable_vgpu_types`` of one free VF per GPU,
  parsed in both formats of §3. The name of a programmed type cannot be read back from sysfs (§3): names seen in
  any list are remembered in a small cache file under the host root (see :class:`TypeNameCache`).
- In use: a running VM keeps its VFIO group open, so ``/proc/<pid>/fd`` holds ``/dev/vfio/<group>`` (or the
  ``/dev/vfio/devices/vfioN`` cdev); an mdev's ``nvidia/vm_name`` also names its VM [S5].
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

from ansible_collections.gpuvirt.core.plugins.module_utils.pci import NVIDIA_VENDOR_SYSFS, hex_id
from ansible_collections.gpuvirt.core.plugins.module_utils.host.sysfs import HostRoot
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import VgpuError, gpu_models, parse, parse_name

CACHE_FILE = 'var/lib/gpuvirt/vfio-vgpu-types.json'
GPU_CLASSES = ('0x0300', '0x0302')      # VGA and 3D controllers (go-nvlib: PCIVgaControllerClass, PCI3dControllerClass)
DESCRIPTION_RE = re.compile(r'(\w+)=([^,]+)')
CREATABLE_TABLE_RE = re.compile(r'^\s*(\d+)\s*:\s*(.+?)\s*$')
CREATABLE_DOC_RE = re.compile(r'^\s*(.+?)\s+(\d+)\s*$')


def parse_creatable(text):
    """``creatable_vgpu_types`` -> [(id, name)]. Accepts the header + ``1145  : NVIDIA L40S-1B`` table of real hosts and
    NVIDIA's doc example ``NVIDIA A40-1Q 557`` (reference §3 [CONFLICT]: parse leniently)."""
    out = []
    for line in (text or '').splitlines():
        if not line.strip() or line.strip().lower().startswith('id'):
            continue
        match = CREATABLE_TABLE_RE.match(line)
        if match:
            out.append((match.group(1), match.group(2)))
            continue
        match = CREATABLE_DOC_RE.match(line)
        if match:
            out.append((match.group(2), match.group(1).strip()))
    return out


def parse_description(text):
    """NVIDIA's ``description``: ``num_heads=4, frl_config=60, framebuffer=4096M, ..., max_instance=4`` -> dict."""
    return dict((k, v.strip()) for k, v in DESCRIPTION_RE.findall(text or ''))


def short_name(name):
    """The driver's type name -> short type: the last whitespace token (go-nvlib's rule, reference §1)."""
    return (name or '').split()[-1] if (name or '').split() else ''


class TypeNameCache(object):
    """Vendor-VFIO type id -> name per PCI device id, remembered from ``creatable_vgpu_types`` lists.

    Needed because a programmed VF lists nothing and a full GPU lists nothing anywhere (reference §3); NVIDIA's own
    tools ask NVML instead, which is not available here.
    """

    def __init__(self, host):
        self.path = host.path(CACHE_FILE)
        self.data = {}
        try:
            with open(self.path) as handle:
                loaded = json.load(handle)
            if isinstance(loaded, dict):
                self.data = dict((k, dict(v)) for k, v in loaded.items() if isinstance(v, dict))
        except (IOError, OSError, ValueError):
            self.data = {}
        self.dirty = False

    def learn(self, device_key, pairs):
        known = self.data.setdefault(device_key, {})
        for type_id, name in pairs:
            if known.get(type_id) != name:
                known[type_id] = name
                self.dirty = True

    def names(self, device_key):
        return self.data.get(device_key, {})

    def save(self):
        """Write the cache when it learned something; returns True when it wrote."""
        if not self.dirty:
            return False
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as handle:
            json.dump(self.data, handle, indent=1, sort_keys=True)
        os.rename(tmp, self.path)
        self.dirty = False
        return True


class VgpuType(object):
    """A vGPU type as one GPU offers it (``type_id`` is ``nvidia-N`` for mdev, the numeric id for vendor VFIO)."""

    def __init__(self, type_id, name, available_instances=0, max_instance=None, framebuffer_mib=None):
        self.type_id = type_id
        self.name = name
        self.short = short_name(name)
        self.available_instances = available_instances
        self.max_instance = max_instance
        self.framebuffer_mib = framebuffer_mib

    def as_dict(self):
        return {'id': self.type_id, 'name': self.name, 'short_name': self.short, 'available_instances': self.available_instances,
                'max_instances': self.max_instance, 'framebuffer_mib': self.framebuffer_mib}


class Vgpu(object):
    """An existing vGPU: ``id`` is the mdev UUID or the VF address (vendor VFIO)."""

    def __init__(self, vgpu_id, type_id, type_name, parent, group=None, vm=None):
        self.id = vgpu_id
        self.type_id = type_id
        self.type_name = type_name
        self.parent = parent
        self.group = group
        self.vm = vm

    @property
    def in_use(self):
        return bool(self.vm)

    @property
    def short(self):
        return short_name(self.type_name)

    def as_dict(self):
        return {'id': self.id, 'type_id': self.type_id, 'type_name': self.type_name, 'parent': self.parent, 'in_use': self.in_use,
                'vm': self.vm or None}


class Function(object):
    """A PCI function the modules care about (GPU PF, VF or another member of a GPU's IOMMU group)."""

    subsystem_id = None
    subsystem_vendor_id = None

    def __init__(self, address, real, vendor_id, device_id, cls, driver, override, group, vm=None):
        self.address = address
        self.real = real
        self.vendor_id = vendor_id
        self.device_id = device_id
        self.cls = cls
        self.driver = driver
        self.override = override
        self.group = group
        self.vm = vm
        self.gpu_pf = False


class Gpu(object):
    def __init__(self, function, index):
        self.function = function
        self.index = index
        self.address = function.address
        self.real = function.real
        self.total_vfs = 0
        self.num_vfs = 0
        self.sriov_capable = False
        self.vfs = []
        self.group_members = []
        self.numa_node = None
        self.backend = 'none'
        self.parents = []
        self.types = []
        self.vgpus = []
        self.model_token = None

    @property
    def device_key(self):
        return '%s:%s' % (hex_id(self.function.vendor_id), hex_id(self.function.device_id))

    def type_by_short(self, short):
        for vtype in self.types:
            if vtype.short.upper() == short.upper():
                return vtype
        return None

    def free_vfs(self):
        """VFs that can take a vGPU and have none (mdev flavour: no mdev on it; vendor VFIO: current_vgpu_type 0)."""
        used = set(v.parent for v in self.vgpus) if self.backend == 'mdev' else set(v.id for v in self.vgpus)
        return [vf for vf in self.vfs if vf.address not in used and vf.address in self.parents]

    def as_dict(self):
        fn = self.function
        return {
            'address': self.address, 'index': self.index, 'vendor_id': fn.vendor_id, 'device_id': fn.device_id,
            'subsystem_id': fn.subsystem_id, 'model': self.model_token, 'driver': fn.driver, 'driver_override': fn.override, 'iommu_group': fn.group,
            'iommu_group_members': list(self.group_members), 'numa_node': self.numa_node,
            'sriov': {'capable': self.sriov_capable, 'total_vfs': self.total_vfs, 'num_vfs': self.num_vfs,
                      'vfs': [vf.address for vf in self.vfs]},
            'vgpu_backend': self.backend, 'vgpu_types': [t.as_dict() for t in self.types],
            'vgpus': [v.as_dict() for v in self.vgpus], 'in_use': bool(fn.vm),
        }


class Inventory(object):
    def __init__(self, host):
        self.host = host
        self.gpus = []
        self.functions = {}
        self.groups_present = False
        self.cmdline = ''
        self.cache = None
        self.driver = {'loaded': False, 'version': None, 'vgpu_manager': False}

    def gpu(self, address):
        for gpu in self.gpus:
            if gpu.address == address:
                return gpu
        return None

    def gpu_of(self, address):
        """The GPU owning a PF, VF or group member address, or None."""
        for gpu in self.gpus:
            if gpu.address == address or address in [vf.address for vf in gpu.vfs] or address in gpu.group_members:
                return gpu
        return None

    def driver_info(self):
        """``{loaded, version, kind}``: kind ``vgpu_manager``, ``datacenter`` (the nvidia module without the vGPU manager)
        or ``none`` (no nvidia module)."""
        vgpu = self.driver['vgpu_manager'] or any(g.backend != 'none' for g in self.gpus)
        kind = 'vgpu_manager' if vgpu else ('datacenter' if self.driver['loaded'] else 'none')
        return {'loaded': self.driver['loaded'], 'version': self.driver['version'], 'kind': kind}

    def iommu(self):
        words = self.cmdline.split()
        params = [w for w in words if w.split('=')[0] in ('intel_iommu', 'amd_iommu', 'iommu', 'vfio-pci.ids', 'vfio_pci.ids')]
        return {'enabled': self.groups_present, 'cmdline': self.cmdline, 'parameters': params,
                'passthrough_mode': 'iommu=pt' in words}


def _users(host):
    """{iommu group (str): VM name} of processes holding ``/dev/vfio/<group>``, plus {'cdev:<N>': name}."""
    users = {}
    proc = host.path('proc')
    for pid in HostRoot.listdir(proc):
        if not pid.isdigit():
            continue
        fd_dir = os.path.join(proc, pid, 'fd')
        targets = []
        for fd in HostRoot.listdir(fd_dir):
            try:
                targets.append(os.readlink(os.path.join(fd_dir, fd)))
            except (IOError, OSError):
                continue
        vfio = [t for t in targets if t.startswith('/dev/vfio/')]
        if not vfio:
            continue
        name = _vm_name(os.path.join(proc, pid)) or 'pid %s' % pid
        for target in vfio:
            rest = target[len('/dev/vfio/'):]
            if rest.isdigit():
                users[rest] = name
            elif rest.startswith('devices/vfio') and rest[len('devices/vfio'):].isdigit():
                users['cdev:' + rest[len('devices/vfio'):]] = name
    return users


def _vm_name(proc_dir):
    raw = HostRoot.read(os.path.join(proc_dir, 'cmdline'), '') or ''
    args = raw.split('\0')
    for index, arg in enumerate(args):
        if arg == '-name' and index + 1 < len(args):
            value = args[index + 1]
            for part in value.split(','):
                if part.startswith('guest='):
                    return part[len('guest='):]
            return value.split(',')[0]
    return (HostRoot.read(os.path.join(proc_dir, 'comm'), '') or '').strip() or None


def _resolve(link):
    """The real path behind a sysfs link, with one readlink (sysfs links are relative and the directories they pass
    through are real), instead of os.path.realpath's lstat of every component."""
    try:
        return os.path.normpath(os.path.join(os.path.dirname(link), os.readlink(link)))
    except (IOError, OSError):
        return os.path.realpath(link)


def _function(host, address, users, real=None, light=False):
    """A PCI function; ``light`` (VFs) reads only what the modules need: driver, IOMMU group, VFIO users."""
    real = real or _resolve(host.sys_path('bus/pci/devices', address))
    group = host.link_name(os.path.join(real, 'iommu_group'))
    if light:
        fn = Function(address, real, None, None, None, host.link_name(os.path.join(real, 'driver')), None, group)
    else:
        override = host.read(os.path.join(real, 'driver_override'))
        fn = Function(address, real, host.read(os.path.join(real, 'vendor'), ''), host.read(os.path.join(real, 'device'), ''),
                      host.read(os.path.join(real, 'class'), ''), host.link_name(os.path.join(real, 'driver')),
                      None if override in (None, '(null)', '') else override, group)
    fn.vm = users.get(group) if group else None
    if fn.vm is None and users:
        for node in HostRoot.listdir(os.path.join(real, 'vfio-dev')):
            if node.startswith('vfio') and users.get('cdev:' + node[4:]):
                fn.vm = users['cdev:' + node[4:]]
    return fn


def scan(host, with_types=True, names_from=None):
    """Walk the host once and return an :class:`Inventory`.

    ``with_types=False`` skips the vGPU type listings (a re-read after a change); type names of vGPUs then come from
    ``names_from``, the inventory read before the change.
    """
    inv = Inventory(host)
    users = _users(host)
    inv.groups_present = bool(HostRoot.listdir(host.sys_path('kernel/iommu_groups')))
    inv.cmdline = (HostRoot.read(host.path('proc/cmdline'), '') or '').strip()
    inv.cache = TypeNameCache(host)
    mdev_bus = set(HostRoot.listdir(host.sys_path('class/mdev_bus')))
    module = host.sys_path('module', 'nvidia')
    inv.driver = {'loaded': os.path.isdir(module), 'version': HostRoot.read(os.path.join(module, 'version')),
                  'vgpu_manager': os.path.isdir(host.sys_path('module', 'nvidia_vgpu_vfio'))}
    devices_dir = host.sys_path('bus/pci/devices')
    for address in sorted(HostRoot.listdir(devices_dir), key=_pci_order):
        base = os.path.join(devices_dir, address)
        if HostRoot.read(os.path.join(base, 'vendor')) != NVIDIA_VENDOR_SYSFS:
            continue
        cls = HostRoot.read(os.path.join(base, 'class'), '')
        if cls[:6] not in GPU_CLASSES or os.path.islink(os.path.join(base, 'physfn')):
            continue
        gpu = Gpu(_function(host, address, users), len(inv.gpus))
        gpu.function.subsystem_id = HostRoot.read(os.path.join(gpu.real, 'subsystem_device'))
        gpu.function.subsystem_vendor_id = HostRoot.read(os.path.join(gpu.real, 'subsystem_vendor'))
        inv.functions[address] = gpu.function
        _sriov(host, gpu, users, inv)
        gpu.numa_node = HostRoot.read(os.path.join(gpu.real, 'numa_node'))
        if gpu.function.group is not None:
            members = HostRoot.listdir(host.sys_path('kernel/iommu_groups', gpu.function.group, 'devices'))
            gpu.group_members = [m for m in members if m != address]
            for member in gpu.group_members:
                if member not in inv.functions:
                    inv.functions[member] = _function(host, member, users)
        _backend(host, gpu, mdev_bus)
        inv.gpus.append(gpu)
    _mdevs(host, inv, users)
    described = {}
    for gpu in inv.gpus:
        if gpu.backend == 'vendor_vfio':
            _vendor_vfio(gpu)
        if with_types:
            _types(host, gpu, inv.cache, described)
        elif names_from is not None and names_from.gpu(gpu.address) is not None:
            _names_from(gpu, names_from.gpu(gpu.address), inv.cache)
        gpu.model_token = _model_token(gpu)
    return inv


def _pci_order(address):
    """go-nvlib's order (and so nvidia-smi's and vgpu-device-manager's GPU indices): the address as one hex number."""
    digits = address.replace(':', '').replace('.', '')
    try:
        return (int(digits, 16), address)
    except ValueError:
        return (-1, address)


def _names_from(gpu, before, cache):
    gpu.types = before.types
    names = dict((t.type_id, t.name) for t in before.types)
    names.update(cache.names(gpu.device_key))
    known = dict((v.id, v.type_name) for v in before.vgpus)
    for vgpu in gpu.vgpus:
        vgpu.type_name = names.get(vgpu.type_id) or known.get(vgpu.id)


def _sriov(host, gpu, users, inv):
    total = HostRoot.read(os.path.join(gpu.real, 'sriov_totalvfs'))
    if total is None:
        return
    gpu.sriov_capable = True
    gpu.total_vfs = int(total or 0)
    gpu.num_vfs = int(HostRoot.read(os.path.join(gpu.real, 'sriov_numvfs'), '0') or 0)
    links = [n for n in HostRoot.listdir(gpu.real) if n.startswith('virtfn') and n[6:].isdigit()]
    for name in sorted(links, key=lambda n: int(n[6:])):
        real = _resolve(os.path.join(gpu.real, name))
        vf_address = os.path.basename(real)
        vf = _function(host, vf_address, users, real=real, light=True)
        vf.vendor_id, vf.device_id, vf.cls = gpu.function.vendor_id, gpu.function.device_id, gpu.function.cls
        gpu.vfs.append(vf)
        inv.functions[vf_address] = vf


def _backend(host, gpu, mdev_bus):
    """Runtime detection (reference §3): mdev parents, else vendor-VFIO files on the VFs, else none."""
    parents = [gpu.address] if gpu.address in mdev_bus else []
    parents += [vf.address for vf in gpu.vfs if vf.address in mdev_bus]
    if parents:
        gpu.backend = 'mdev'
        gpu.parents = parents
    elif gpu.vfs and os.path.exists(os.path.join(gpu.vfs[0].real, 'nvidia', 'creatable_vgpu_types')):
        gpu.backend = 'vendor_vfio'
        gpu.parents = [vf.address for vf in gpu.vfs if vf.driver == 'nvidia']


def _mdevs(host, inv, users):
    by_parent = {}
    for gpu in inv.gpus:
        for parent in gpu.parents if gpu.backend == 'mdev' else []:
            by_parent[parent] = gpu
    mdev_dir = host.sys_path('bus/mdev/devices')
    for uuid in HostRoot.listdir(mdev_dir):
        link = os.path.join(mdev_dir, uuid)
        if not os.path.islink(link):
            continue
        real = _resolve(link)
        parent = os.path.basename(os.path.dirname(real))
        gpu = by_parent.get(parent)
        if gpu is None:
            continue
        type_id = host.link_name(os.path.join(real, 'mdev_type'))
        group = host.link_name(os.path.join(real, 'iommu_group'))
        vm = users.get(group) if group else None
        vm = vm or (HostRoot.read(os.path.join(real, 'nvidia', 'vm_name'), '') or '').strip() or None
        gpu.vgpus.append(Vgpu(uuid, type_id, None, parent, group, vm))


def _vendor_vfio(gpu):
    for vf in gpu.vfs:
        current = (HostRoot.read(os.path.join(vf.real, 'nvidia', 'current_vgpu_type'), '0') or '0').strip()
        if current not in ('', '0'):
            gpu.vgpus.append(Vgpu(vf.address, current, None, vf.address, vf.group, vf.vm))


def _types(host, gpu, cache, described):
    if gpu.backend == 'mdev':
        _mdev_types(host, gpu, described.setdefault(gpu.function.device_id, {}))
    elif gpu.backend == 'vendor_vfio':
        _vendor_types(host, gpu, cache)
    names = dict((t.type_id, t.name) for t in gpu.types)
    if gpu.backend == 'vendor_vfio':
        names.update(cache.names(gpu.device_key))
    for vgpu in gpu.vgpus:
        if vgpu.type_name is None and vgpu.type_id in names:
            vgpu.type_name = names[vgpu.type_id]
        if vgpu.type_name is None and gpu.backend == 'mdev':
            real = _resolve(host.sys_path('bus/mdev/devices', vgpu.id))
            vgpu.type_name = HostRoot.read(os.path.join(real, 'mdev_type', 'name'))


def _mdev_types(host, gpu, described):
    """Types of the GPU from one parent; ``available_instances`` for the GPU (see module doc). ``name`` and
    ``description`` are the same on every GPU of one model, so they are read once per PCI device id."""
    used_parents = set(v.parent for v in gpu.vgpus)
    if gpu.parents == [gpu.address]:
        probe, free = gpu.address, None
    else:
        free_parents = [p for p in gpu.parents if p not in used_parents]
        probe = free_parents[0] if free_parents else gpu.parents[0]
        free = len(free_parents)
    base = os.path.join(_resolve(host.sys_path('bus/pci/devices', probe)), 'mdev_supported_types')
    for type_id in HostRoot.listdir(base):
        if type_id not in described:
            desc = parse_description(HostRoot.read(os.path.join(base, type_id, 'description'), ''))
            described[type_id] = (HostRoot.read(os.path.join(base, type_id, 'name'), '') or '', desc)
        name, desc = described[type_id]
        avail = int(HostRoot.read(os.path.join(base, type_id, 'available_instances'), '0') or 0)
        max_instance = int(desc['max_instance']) if desc.get('max_instance', '').isdigit() else None
        framebuffer = desc.get('framebuffer', '')
        fb = int(framebuffer[:-1]) if framebuffer.endswith('M') and framebuffer[:-1].isdigit() else None
        if free is not None:
            room = (max_instance - len(gpu.vgpus)) if max_instance is not None else free
            avail = min(free, room) if avail > 0 else 0
        gpu.types.append(VgpuType(type_id, name, avail, max_instance, fb))


def _vendor_types(host, gpu, cache):
    """Types from the first free VF's ``creatable_vgpu_types`` (all free VFs of a GPU list the same, §3)."""
    free = gpu.free_vfs()
    listed = []
    if free:
        listed = parse_creatable(HostRoot.read(os.path.join(free[0].real, 'nvidia', 'creatable_vgpu_types'), ''))
    cache.learn(gpu.device_key, listed)
    existing = len(gpu.vgpus)
    seen = set()
    for type_id, name in listed:
        seen.add(type_id)
        max_instance = fb = None
        try:
            vtype = parse(short_name(name))
            max_instance, fb = vtype.max_instances, vtype.framebuffer_mib
        except ValueError:
            pass
        room = (max_instance - existing) if max_instance is not None else len(free)
        gpu.types.append(VgpuType(type_id, name, max(0, min(len(free), room)), max_instance, fb))
    for type_id, name in sorted(cache.names(gpu.device_key).items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
        if type_id not in seen:
            gpu.types.append(VgpuType(type_id, name, 0, None, None))


def _model_token(gpu):
    """The catalog GPU token from the driver's type names (``NVIDIA A10-4Q`` -> ``A10``), else from the PCI device id
    when the catalog has exactly one GPU with it (A2 and A16 share one), else None."""
    for vtype in gpu.types:
        try:
            return parse_name(vtype.short).gpu
        except VgpuError:
            continue
    try:
        models = gpu_models(int(gpu.function.device_id, 16), subsystem_id=gpu.function.subsystem_id or None)
    except ValueError:
        models = []
    return models[0].name if len(models) == 1 else None
