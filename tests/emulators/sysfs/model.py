"""A pure-Python model of the part of Linux sysfs that GPU virtualization touches, with the kernel's and NVIDIA's
behaviour on writes. No FUSE here: ``fusefs.py`` is a thin layer that maps file operations onto :class:`Host`.

Paths are relative to the sysfs mount (``/bus/pci/devices`` means ``ROOT/sys/bus/pci/devices``). Section marks
refer to the project's reference facts sheet: [S1] NVIDIA vGPU user guide, [S2] the kernel's mdev ABI document,
[S5] Harvester's real-host testdata; "kernel" marks behaviour taken from the Linux sources named in the docstring
(drivers/pci/pci-sysfs.c, pci-driver.c, iov.c, drivers/base/bus.c, dd.c, drivers/vfio/mdev/).

Errors are raised as ``OSError(errno)``: through FUSE the writer sees exactly that errno, as with the kernel.
"""

import errno
import fnmatch
import posixpath
import re
import struct
import uuid as uuidlib

NVIDIA = 0x10de
DRIVER_VERSION = '550.90.05'
PAGE_SIZE = 4096

UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')


def _err(code):
    return OSError(code, '%s' % errno.errorcode.get(code, code))


# --- the virtual file tree ---------------------------------------------------------------------------------------

class Dir(object):
    """A directory whose entries are computed from the state each time (sysfs is a view of kernel objects)."""

    kind = 'dir'
    __slots__ = ('entries',)

    def __init__(self, entries):
        self.entries = entries

    def children(self):
        return self.entries() if callable(self.entries) else self.entries


class Attr(object):
    """A sysfs attribute. ``show`` returns the text (or bytes), ``store`` takes the written text.

    Like kernfs, an attribute without ``show`` cannot be opened for reading and one without ``store`` cannot be
    opened for writing (EACCES at open, even for root) [kernel fs/kernfs/file.c kernfs_fop_open].
    """

    kind = 'file'
    __slots__ = ('show', 'store', 'size')

    def __init__(self, show=None, store=None, size=PAGE_SIZE):
        self.show = show
        self.store = store
        self.size = size

    @property
    def mode(self):
        return (0o444 if self.show else 0) | (0o200 if self.store else 0)

    def read(self):
        if self.show is None:
            raise _err(errno.EACCES)
        data = self.show()
        return data if isinstance(data, bytes) else data.encode()


class Link(object):
    """A relative symlink, as sysfs writes them."""

    kind = 'link'
    __slots__ = ('target',)

    def __init__(self, target):
        self.target = target


def _text(value):
    return lambda: '%s\n' % (value() if callable(value) else value)


def _ro(value):
    return Attr(show=_text(value))


def _link(from_dir, to_path):
    return Link(posixpath.relpath(to_path, from_dir))


# --- kernel objects ----------------------------------------------------------------------------------------------

class PciDevice(object):
    """One PCI function. ``kind`` is ``bridge``, ``gpu`` (an NVIDIA PF), ``audio``, ``vf`` or ``other``."""

    def __init__(self, address, vendor, device, cls, kind, port=None, subsystem_vendor=0, subsystem_device=0,
                 revision=0xa1, numa_node=0, group=None, gpu=None, vf_index=None):
        self.address = address
        self.vendor = vendor
        self.device = device
        self.cls = cls
        self.kind = kind
        self.port = port            # address of the parent bridge (None: on the root complex)
        self.subsystem_vendor = subsystem_vendor
        self.subsystem_device = subsystem_device
        self.revision = revision
        self.numa_node = numa_node
        self.group = group
        self.gpu = gpu
        self.vf_index = vf_index
        self.driver = None
        self.override = None
        self.reset_methods = ['flr'] if kind == 'vf' else (['flr', 'bus'] if kind in ('gpu', 'audio') else [])
        # vendor-specific VFIO state of a VF [S1 §2.10.8.2]
        self.vgpu_type = None
        self.vgpu_params = ''

    @property
    def multifunction(self):
        return self.kind == 'gpu' and self.gpu is not None and self.gpu.audio is not None


class Mdev(object):
    """A mediated device [S2]: lives under its parent's directory, has a type and its own IOMMU group."""

    def __init__(self, uuid, parent, vgpu_type, group):
        self.uuid = uuid
        self.parent = parent
        self.vgpu_type = vgpu_type
        self.group = group
        self.params = ''
        self.vm_name = ''


class Gpu(object):
    """A physical GPU: its PF, audio function, VFs (when SR-IOV is enabled) and spec."""

    def __init__(self, spec, pf, audio):
        self.spec = spec
        self.pf = pf
        self.audio = audio
        self.vfs = []
        self.autoprobe = True


class Driver(object):
    """A PCI driver: static matching, dynamic ids (``new_id``) and whether it can configure SR-IOV.

    nvidia.ko has no ``sriov_configure``: that is why NVIDIA's sriov-manage binds ``pci-pf-stub`` around the
    ``sriov_numvfs`` write [reference §2].
    """

    def __init__(self, name, module, static_match=None, sriov_configure=False):
        self.name = name
        self.module = module
        self.static_match = static_match
        self.sriov_configure = sriov_configure
        self.dynids = []

    def matches(self, dev):
        """pci_match_device(): driver_override wins; then dynamic ids; then the static table [kernel pci-driver.c]."""
        if dev.override is not None:
            return dev.override == self.name
        for vendor, device in self.dynids:
            if vendor in (dev.vendor, 0xffffffff) and device in (dev.device, 0xffffffff):
                return True
        return bool(self.static_match and self.static_match(dev))


# --- the host ----------------------------------------------------------------------------------------------------

class Host(object):
    """The whole emulated host: PCI devices, drivers, IOMMU groups, mdevs, SR-IOV, in-use marks, write log, faults."""

    def __init__(self, specs, creatable_format='table'):
        self.devices = {}
        self.order = []
        self.gpus = []
        self.mdevs = {}
        self.in_use = {}            # 'mdev:<uuid>' or 'pci:<address>' -> VM name
        self.writes = []            # (seq, path, value, result)
        self.faults = []
        self.creatable_format = creatable_format
        self.bus_autoprobe = True
        self._next_group = 0
        self._cache = {}
        self._listing = {}
        self.drivers = {}
        for drv in [
            Driver('pcieport', 'pcieport', lambda d: d.cls >> 8 == 0x0604),
            Driver('nvidia', 'nvidia', lambda d: d.vendor == NVIDIA and d.cls >> 16 == 0x03),
            Driver('snd_hda_intel', 'snd_hda_intel', lambda d: d.cls >> 8 == 0x0403),
            Driver('ast', 'ast', lambda d: d.vendor == 0x1a03 and d.cls >> 16 == 0x03),
            Driver('pci-pf-stub', 'pci_pf_stub', None, sriov_configure=True),
            Driver('vfio-pci', 'vfio_pci', None, sriov_configure=True),
        ]:
            self.drivers[drv.name] = drv
        self._add(PciDevice('0000:00:00.0', 0x8086, 0x2020, 0x060000, 'other', group=self._group()))
        port = self._add(PciDevice('0000:00:1c.0', 0x8086, 0xa190, 0x060400, 'bridge', group=self._group()))
        self._add(PciDevice('0000:02:00.0', 0x1a03, 0x2000, 0x030000, 'other', port=port.address, subsystem_vendor=0x1a03,
                            subsystem_device=0x2000, revision=0x41, group=self._group()))
        for index, spec in enumerate(specs):
            bus = 0x10 + 8 * index
            port = self._add(PciDevice('0000:00:%02x.0' % (index + 1), 0x8086, 0x2030, 0x060400, 'bridge', group=self._group()))
            group = self._group()
            numa = 0 if index < max(1, len(specs) // 2) else 1
            pf = PciDevice('0000:%02x:00.0' % bus, NVIDIA, spec.device_id, 0x030200, 'gpu', port=port.address,
                           subsystem_vendor=NVIDIA, subsystem_device=spec.subsystem_device, numa_node=numa, group=group)
            audio = PciDevice('0000:%02x:00.1' % bus, NVIDIA, spec.audio_device_id, 0x040300, 'audio', port=port.address,
                              subsystem_vendor=NVIDIA, subsystem_device=spec.subsystem_device, numa_node=numa, group=group)
            gpu = Gpu(spec, pf, audio)
            pf.gpu = audio.gpu = gpu
            self._add(pf)
            self._add(audio)
            self.gpus.append(gpu)
        for address in list(self.order):
            self._autoprobe(self.devices[address])

    # -- bookkeeping
    def _group(self):
        self._next_group += 1
        return self._next_group - 1

    def _add(self, dev):
        self.devices[dev.address] = dev
        self.order.append(dev.address)
        return dev

    def sorted_devices(self):
        return [self.devices[a] for a in sorted(self.order)]

    # -- paths of kernel objects
    def dev_path(self, dev):
        if dev.port is None:
            return '/devices/pci0000:00/%s' % dev.address
        return '%s/%s' % (self.dev_path(self.devices[dev.port]), dev.address)

    def mdev_path(self, mdev):
        return '%s/%s' % (self.dev_path(mdev.parent), mdev.uuid)

    # -- vGPU capacity [S1 §2.10.8, §2.11; reference §1, §3, §4]
    def gpu_vgpus(self, gpu):
        """The vGPU types in place on a physical GPU, whatever the flavour."""
        parents = [gpu.pf] + gpu.vfs
        out = [m.vgpu_type for m in self.mdevs.values() if m.parent in parents]
        out.extend(vf.vgpu_type for vf in gpu.vfs if vf.vgpu_type is not None)
        return out

    def gpu_room(self, gpu, vgpu_type):
        """How many more of ``vgpu_type`` fit on the GPU in equal-size mode.

        A time-sliced vGPU drives every type of another framebuffer size to 0; types of the same size (A/B/C/Q)
        may mix, as the real A2 dump shows [reference §1 equal-size rule, S5]; the count is bounded by the type's
        ``max_instance`` [reference §4].
        """
        existing = self.gpu_vgpus(gpu)
        if any(t.framebuffer_mib != vgpu_type.framebuffer_mib for t in existing):
            return 0
        return max(0, vgpu_type.max_instance - len(existing))

    def is_mdev_parent(self, dev):
        """mdev types appear on the PF of a legacy GPU, or on each VF of an mdev-flavour SR-IOV GPU, only while it
        is bound to nvidia; never on an SR-IOV PF [S1 §2.10.8.1, reference §2]."""
        if dev.driver != 'nvidia' or dev.gpu is None:
            return False
        flavour = dev.gpu.spec.flavour
        return (flavour == 'mdev-pf' and dev.kind == 'gpu') or (flavour == 'mdev-vf' and dev.kind == 'vf')

    def is_vendor_vf(self, dev):
        """``VF/nvidia/`` exists on a VF of a vendor-VFIO GPU once sriov-manage bound it to nvidia [S1 §2.10.8.2]."""
        return dev.kind == 'vf' and dev.driver == 'nvidia' and dev.gpu.spec.flavour == 'vendor-vfio'

    def available_instances(self, dev, vgpu_type):
        room = self.gpu_room(dev.gpu, vgpu_type)
        if dev.kind == 'vf':       # one vGPU per VF [reference §2]
            return 0 if any(m.parent is dev for m in self.mdevs.values()) else min(room, 1)
        return room

    def creatable(self, vf):
        """``creatable_vgpu_types``: empty on a programmed VF; on siblings only types compatible with what exists;
        empty when the GPU is full [S1 §2.10.8.2, reference §3]."""
        if vf.vgpu_type is not None:
            return []
        return [t for t in vf.gpu.spec.types if self.gpu_room(vf.gpu, t) > 0]

    # -- driver core [kernel drivers/base/bus.c, dd.c, drivers/pci/pci-driver.c]
    def _can_probe(self, dev):
        """pci_device_can_probe(): a VF only probes when its PF allows autoprobe, unless driver_override is set."""
        return dev.kind != 'vf' or dev.gpu.autoprobe or dev.override is not None

    def _probe(self, dev, drv):
        if not self._can_probe(dev):
            raise _err(errno.ENODEV)
        dev.driver = drv.name

    def _autoprobe(self, dev):
        """device_attach(): bind the first matching driver, in registration order; no match is not an error."""
        if dev.driver is not None or not self._can_probe(dev):
            return
        for drv in self.drivers.values():
            if drv.matches(dev):
                self._probe(dev, drv)
                return

    def _busy(self, key):
        if key in self.in_use:
            raise _err(errno.EBUSY)

    def _release(self, dev):
        """Unbind ``dev`` from its driver with the side effects of the NVIDIA driver's remove().

        A device held by a running VM (its VFIO group open) refuses with EBUSY [issue model; the real kernel
        blocks in vfio_unregister_group_dev until the VM lets go, see README]; mdevs on it are removed, a
        vendor-VFIO VF loses its vGPU type [reference §3: current_vgpu_type resets on re-enumeration].
        """
        self._busy('pci:%s' % dev.address)
        on_dev = [m for m in self.mdevs.values() if m.parent is dev]
        for m in on_dev:
            self._busy('mdev:%s' % m.uuid)
        for m in on_dev:
            del self.mdevs[m.uuid]
        dev.vgpu_type = None
        dev.vgpu_params = ''
        dev.driver = None

    # -- SR-IOV [kernel drivers/pci/iov.c sriov_numvfs_store; reference §2]
    def vf_address(self, gpu, index):
        """VF n routing id = PF routing id + offset + n * stride (offset 4, stride 1) [reference §2]."""
        bus, devfn = int(gpu.pf.address[5:7], 16), 4 + index
        return '%s:%02x:%02x.%x' % (gpu.pf.address[:4], bus, devfn >> 3, devfn & 7)

    def _enable_vfs(self, gpu, count):
        for index in range(count):
            vf = PciDevice(self.vf_address(gpu, index), NVIDIA, gpu.spec.device_id, 0x030200, 'vf', port=gpu.pf.port,
                           subsystem_vendor=NVIDIA, subsystem_device=0, numa_node=gpu.pf.numa_node, group=self._group(),
                           gpu=gpu, vf_index=index)
            gpu.vfs.append(vf)
            self._add(vf)
        for vf in gpu.vfs:
            self._autoprobe(vf)

    def _disable_vfs(self, gpu):
        for vf in gpu.vfs:
            self._busy('pci:%s' % vf.address)
            for m in self.mdevs.values():
                if m.parent is vf:
                    self._busy('mdev:%s' % m.uuid)
        for vf in gpu.vfs:
            for m in [m for m in self.mdevs.values() if m.parent is vf]:
                del self.mdevs[m.uuid]
            del self.devices[vf.address]
            self.order.remove(vf.address)
        gpu.vfs = []

    # -- attribute stores ------------------------------------------------------------------------------------------
    @staticmethod
    def _name(text):
        """Kernel sysfs_streq()-style: a trailing newline does not count."""
        return text[:-1] if text.endswith('\n') else text

    def store_bind(self, drv, text):
        """bind_store(): unknown device or no match -> ENODEV; device already bound -> EBUSY [kernel bus.c, dd.c]."""
        dev = self.devices.get(self._name(text))
        if dev is None or not drv.matches(dev):
            raise _err(errno.ENODEV)
        if dev.driver is not None:
            raise _err(errno.EBUSY)
        self._probe(dev, drv)

    def store_unbind(self, drv, text):
        """unbind_store(): unknown device or bound to another driver -> ENODEV [kernel bus.c]."""
        dev = self.devices.get(self._name(text))
        if dev is None or dev.driver != drv.name:
            raise _err(errno.ENODEV)
        self._release(dev)

    @staticmethod
    def _parse_id(text):
        fields = text.split()
        if len(fields) < 2:
            raise _err(errno.EINVAL)
        try:
            return int(fields[0], 16), int(fields[1], 16)
        except ValueError:
            raise _err(errno.EINVAL)

    def store_new_id(self, drv, text):
        """new_id_store(): "vendor device ..." in hex; an id already there -> EEXIST; then every unbound matching
        device is probed, as driver_attach() does [kernel pci-driver.c]."""
        ident = self._parse_id(text)
        if ident in drv.dynids:
            raise _err(errno.EEXIST)
        drv.dynids.append(ident)
        for dev in self.sorted_devices():
            if dev.driver is None and drv.matches(dev) and self._can_probe(dev):
                dev.driver = drv.name

    def store_remove_id(self, drv, text):
        """remove_id_store(): an id that was never added -> ENODEV [kernel pci-driver.c]."""
        ident = self._parse_id(text)
        if ident not in drv.dynids:
            raise _err(errno.ENODEV)
        drv.dynids.remove(ident)

    def store_drivers_probe(self, text):
        """drivers_probe: unknown address -> ENODEV; a bound device is left alone; no match is not an error [bus.c]."""
        dev = self.devices.get(self._name(text))
        if dev is None:
            raise _err(errno.ENODEV)
        self._autoprobe(dev)

    def store_driver_override(self, dev, text):
        """driver_override_store(): >= PAGE_SIZE -> EINVAL; cut at the first newline; empty clears [pci-sysfs.c]."""
        if len(text) >= PAGE_SIZE:
            raise _err(errno.EINVAL)
        value = text.split('\n', 1)[0]
        dev.override = value or None

    @staticmethod
    def _uint(text, base=10, limit=0xffffffff):
        try:
            value = int(text.strip(), base)
        except ValueError:
            raise _err(errno.EINVAL)
        if value < 0 or value > limit:
            raise _err(errno.ERANGE if value > limit else errno.EINVAL)
        return value

    def store_sriov_numvfs(self, gpu, text):
        """sriov_numvfs_store() [kernel iov.c]: not a number -> EINVAL; above sriov_totalvfs -> ERANGE; same value ->
        no-op; no driver, or a driver without sriov_configure (nvidia) -> ENOENT; enabling while VFs exist -> EBUSY."""
        count = self._uint(text, limit=0xffff)
        if count > gpu.spec.total_vfs:
            raise _err(errno.ERANGE)
        if count == len(gpu.vfs):
            return
        drv = self.drivers.get(gpu.pf.driver) if gpu.pf.driver else None
        if drv is None or not drv.sriov_configure:
            raise _err(errno.ENOENT)
        if count == 0:
            self._disable_vfs(gpu)
            return
        if gpu.vfs:
            raise _err(errno.EBUSY)
        self._enable_vfs(gpu, count)

    def store_sriov_autoprobe(self, gpu, text):
        value = text.strip().lower()
        if value not in ('0', '1', 'y', 'n', 'yes', 'no', 'on', 'off'):
            raise _err(errno.EINVAL)
        gpu.autoprobe = value in ('1', 'y', 'yes', 'on')

    def store_mdev_create(self, parent, vgpu_type, text):
        """create_store() [kernel drivers/vfio/mdev/mdev_sysfs.c, S2]: a UUID of 36 characters (+ newline) else
        EINVAL; a UUID already used -> EEXIST; NVIDIA refuses a type with no instance left (equal-size rule or GPU
        full) -> EINVAL [S1; errno UNVERIFIED, see README]."""
        if len(text) not in (36, 37) or not UUID_RE.match(text[:36]) or (len(text) == 37 and text[36] != '\n'):
            raise _err(errno.EINVAL)
        value = text[:36].lower()
        if value in self.mdevs:
            raise _err(errno.EEXIST)
        if self.available_instances(parent, vgpu_type) < 1:
            raise _err(errno.EINVAL)
        self.mdevs[value] = Mdev(value, parent, vgpu_type, self._group())

    def store_mdev_remove(self, mdev, text):
        """remove_store(): kstrtoul else EINVAL; 0 does nothing; a vGPU in use by a VM -> EBUSY [S2, issue model]."""
        value = self._uint(text, base=0)
        if not value:
            return
        self._busy('mdev:%s' % mdev.uuid)
        del self.mdevs[mdev.uuid]

    def store_current_vgpu_type(self, vf, text):
        """``current_vgpu_type`` [S1 §2.10.8.2, S5]: 0 deletes (EBUSY while a VM uses it); an id that is not in
        ``creatable_vgpu_types`` fails (EINVAL) and the value stays as it was; a programmed VF lists nothing, so
        reprogramming needs a delete first."""
        value = self._uint(text)
        if value == 0:
            if vf.vgpu_type is not None:
                self._busy('pci:%s' % vf.address)
                vf.vgpu_type = None
                vf.vgpu_params = ''
            return
        wanted = [t for t in self.creatable(vf) if t.type_id == value]
        if not wanted:
            raise _err(errno.EINVAL)
        vf.vgpu_type = wanted[0]

    def store_vgpu_params(self, key, obj, text):
        """``vgpu_params``: plugin parameters; a single space clears; not while the vGPU runs (EBUSY) [S1]."""
        self._busy(key)
        value = text.strip()
        if isinstance(obj, Mdev):
            obj.params = value
        else:
            obj.vgpu_params = value

    def store_reset_method(self, dev, text):
        value = text.strip()
        if value == 'default':
            dev.reset_methods = ['flr'] if dev.kind == 'vf' else ['flr', 'bus']
            return
        methods = value.split()
        allowed = ['flr'] if dev.kind == 'vf' else ['flr', 'bus']
        if not methods or any(m not in allowed for m in methods):
            raise _err(errno.EINVAL)
        dev.reset_methods = methods

    # -- the VM side (the emulator's attach/detach commands) ----------------------------------------------------------
    def attach(self, device, vm_name):
        """Mark a vGPU or PCI device as used by a running VM; return the IOMMU group the VM holds open.

        Only something a VM can really open is accepted: an existing mdev, a programmed vendor-VFIO VF, or a
        device bound to vfio-pci [S1 §2.10.8, reference §3 VM attach].
        """
        key, group = self._vm_device(device)
        if key in self.in_use:
            raise ValueError('%s is already used by VM %s' % (device, self.in_use[key]))
        self.in_use[key] = vm_name
        self.changed()
        if key.startswith('mdev:'):
            self.mdevs[key[5:]].vm_name = vm_name
        return group

    def detach(self, device):
        key, group = self._vm_device(device)
        if key not in self.in_use:
            raise ValueError('%s is not used by a VM' % device)
        del self.in_use[key]
        self.changed()
        if key.startswith('mdev:'):
            self.mdevs[key[5:]].vm_name = ''
        return group

    def _vm_device(self, device):
        name = device.strip().lower()
        if name in self.mdevs:
            return 'mdev:%s' % name, self.mdevs[name].group
        if re.match(r'^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$', name):
            name = '0000:' + name
        dev = self.devices.get(name)
        if dev is None:
            raise ValueError('no vGPU or PCI device %s on this host' % device)
        if dev.driver == 'vfio-pci' or (self.is_vendor_vf(dev) and dev.vgpu_type is not None):
            return 'pci:%s' % dev.address, dev.group
        raise ValueError('%s is bound to %s and has no vGPU programmed: a VM cannot open it through VFIO'
                         % (dev.address, dev.driver or 'no driver'))

    # -- writes: log and fault injection ------------------------------------------------------------------------------
    def add_fault(self, errno_name, nth=None, path=None, times=None):
        """Make the ``nth`` next write, or writes whose path matches the glob ``path`` (``times`` of them, all when
        None), fail with ``errno_name`` (``EBUSY``, ``EIO``...)."""
        code = getattr(errno, errno_name.upper(), None) if isinstance(errno_name, str) else errno_name
        if not isinstance(code, int):
            raise ValueError('unknown errno %r' % (errno_name,))
        if (nth is None) == (path is None):
            raise ValueError('give exactly one of nth or path')
        self.faults.append({'errno': code, 'at': len(self.writes) + nth if nth else None, 'path': path, 'times': times})

    def _fault_for(self, path):
        seq = len(self.writes) + 1
        for fault in self.faults:
            if fault['at'] is not None and fault['at'] == seq:
                self.faults.remove(fault)
                return fault['errno']
            if fault['path'] is not None and fnmatch.fnmatchcase(path, fault['path']):
                if fault['times'] is not None:
                    fault['times'] -= 1
                    if fault['times'] <= 0:
                        self.faults.remove(fault)
                return fault['errno']
        return None

    def write(self, path, data):
        """A write(2) to ``path`` (the resolved path under the mount): logged, maybe faulted, then stored."""
        text = data.decode('utf-8', 'replace') if isinstance(data, bytes) else data
        node = self.lookup(path)
        if node is None:
            raise _err(errno.ENOENT)
        if node.kind != 'file' or node.store is None:
            raise _err(errno.EACCES)
        code = self._fault_for('/sys' + path)
        try:
            if code is not None:
                raise _err(code)
            try:
                node.store(text)
            finally:
                self.changed()
        except OSError as exc:
            self.writes.append((len(self.writes) + 1, '/sys' + path, text, errno.errorcode.get(exc.errno, str(exc.errno))))
            raise
        self.writes.append((len(self.writes) + 1, '/sys' + path, text, 'ok'))

    # -- lookups ------------------------------------------------------------------------------------------------------
    def lookup(self, path):
        """The node at ``path`` without following symlinks (the kernel resolves them before FUSE sees a path).

        Directory listings are cached until the next write: the tree's shape only changes on a write (attribute
        values are still computed on every read).
        """
        key = path.rstrip('/') or '/'
        if key in self._cache:
            return self._cache[key]
        if key == '/':
            node = self.root()
        else:
            parent = self.lookup(posixpath.dirname(key))
            if parent is None or parent.kind != 'dir':
                return None
            if parent not in self._listing:
                self._listing[parent] = parent.children()
            node = self._listing[parent].get(posixpath.basename(key))
        if node is not None:
            self._cache[key] = node
        return node

    def changed(self):
        """Forget cached listings: called after every write that went through and on attach/detach."""
        self._cache = {}
        self._listing = {}

    def resolve(self, path, follow_last=True, _depth=0):
        """Like the kernel's path walk: follow symlinks in the middle (and at the end when ``follow_last``)."""
        if _depth > 40:
            raise _err(errno.ELOOP)
        parts = [p for p in path.split('/') if p]
        current = '/'
        for index, part in enumerate(parts):
            candidate = posixpath.join(current, part)
            node = self.lookup(candidate)
            if node is None:
                raise _err(errno.ENOENT)
            if node.kind == 'link' and (follow_last or index < len(parts) - 1):
                candidate = posixpath.normpath(posixpath.join(current, node.target))
                return self.resolve(posixpath.join(candidate, *parts[index + 1:]) if index + 1 < len(parts) else candidate,
                                    follow_last, _depth + 1)
            current = candidate
        return current

    def read_path(self, path):
        """Read a file through symlinks: for tests of the model without FUSE."""
        node = self.lookup(self.resolve(path))
        if node is None or node.kind != 'file':
            raise _err(errno.EISDIR if node is not None else errno.ENOENT)
        return node.read().decode()

    def write_path(self, path, text):
        self.write(self.resolve(path), text)

    def listdir(self, path):
        node = self.lookup(self.resolve(path))
        if node is None or node.kind != 'dir':
            raise _err(errno.ENOTDIR)
        return list(node.children())

    # -- the tree -----------------------------------------------------------------------------------------------------
    def root(self):
        return Dir(lambda: {
            'devices': Dir({'pci0000:00': Dir(self._root_complex), 'system': Dir({}), 'virtual': Dir({})}),
            'bus': Dir({'pci': Dir(self._bus_pci), 'mdev': Dir(self._bus_mdev)}),
            'class': Dir({'mdev_bus': Dir(self._class_mdev_bus), 'pci_bus': Dir({})}),
            'kernel': Dir({'iommu_groups': Dir(self._iommu_groups)}),
            'module': Dir(self._modules),
        })

    def _root_complex(self):
        entries = {'uevent': Attr(show=lambda: '', store=self._store_uevent)}
        for dev in self.sorted_devices():
            if dev.port is None:
                entries[dev.address] = Dir(lambda dev=dev: self._device_dir(dev))
        return entries

    def _bus_pci(self):
        devices_dir = '/bus/pci/devices'
        return {
            'devices': Dir(lambda: dict((d.address, _link(devices_dir, self.dev_path(d))) for d in self.sorted_devices())),
            'drivers': Dir(lambda: dict((name, Dir(lambda drv=drv: self._driver_dir(drv))) for name, drv in self.drivers.items())),
            'drivers_probe': Attr(store=self.store_drivers_probe),
            'drivers_autoprobe': Attr(show=_text(lambda: int(self.bus_autoprobe)), store=self._store_bus_autoprobe),
            'uevent': Attr(store=self._store_uevent),
        }

    def _store_bus_autoprobe(self, text):
        value = text.strip()
        if value not in ('0', '1'):
            raise _err(errno.EINVAL)
        self.bus_autoprobe = value == '1'

    @staticmethod
    def _store_uevent(text):
        if text.strip() not in ('add', 'remove', 'change', 'move', 'online', 'offline', 'bind', 'unbind'):
            raise _err(errno.EINVAL)

    def _driver_dir(self, drv):
        here = '/bus/pci/drivers/%s' % drv.name
        entries = {
            'bind': Attr(store=lambda text: self.store_bind(drv, text)),
            'unbind': Attr(store=lambda text: self.store_unbind(drv, text)),
            'new_id': Attr(store=lambda text: self.store_new_id(drv, text)),
            'remove_id': Attr(store=lambda text: self.store_remove_id(drv, text)),
            'uevent': Attr(store=self._store_uevent),
            'module': _link(here, '/module/%s' % drv.module),
        }
        for dev in self.sorted_devices():
            if dev.driver == drv.name:
                entries[dev.address] = _link(here, self.dev_path(dev))
        return entries

    def _bus_mdev(self):
        here = '/bus/mdev/devices'
        drv_dir = '/bus/mdev/drivers/nvidia-vgpu-vfio'
        return {
            'devices': Dir(lambda: dict((u, _link(here, self.mdev_path(m))) for u, m in sorted(self.mdevs.items()))),
            'drivers': Dir(lambda: {'nvidia-vgpu-vfio': Dir(lambda: dict(
                [('uevent', Attr(store=self._store_uevent))]
                + [(u, _link(drv_dir, self.mdev_path(m))) for u, m in sorted(self.mdevs.items())]))}),
            'drivers_probe': Attr(store=lambda text: None),
            'drivers_autoprobe': _ro(1),
        }

    def _class_mdev_bus(self):
        here = '/class/mdev_bus'
        return dict((d.address, _link(here, self.dev_path(d))) for d in self.sorted_devices() if self.is_mdev_parent(d))

    def _iommu_groups(self):
        members = {}
        for dev in self.sorted_devices():
            members.setdefault(dev.group, []).append(self.dev_path(dev))
        for m in self.mdevs.values():
            members.setdefault(m.group, []).append(self.mdev_path(m))
        out = {}
        for group in sorted(members):
            here = '/kernel/iommu_groups/%d/devices' % group
            out[str(group)] = Dir(lambda paths=members[group], here=here: {
                'devices': Dir(lambda: dict((posixpath.basename(p), _link(here, p)) for p in paths)),
                'type': _ro('DMA'),
                'reserved_regions': _ro('0x00000000fee00000 0x00000000feefffff msi'),
            })
        return out

    def _modules(self):
        out = {}
        for drv in self.drivers.values():
            out[drv.module] = Dir({'refcnt': _ro(0), 'initstate': _ro('live')})
        out['nvidia'] = Dir({'version': _ro(DRIVER_VERSION), 'refcnt': _ro(0), 'initstate': _ro('live')})
        out['nvidia_vgpu_vfio'] = Dir({'refcnt': _ro(0), 'initstate': _ro('live')})
        return out

    # -- one PCI device directory
    def _device_dir(self, dev):
        here = self.dev_path(dev)
        entries = {
            'vendor': _ro('0x%04x' % dev.vendor),
            'device': _ro('0x%04x' % dev.device),
            'class': _ro('0x%06x' % dev.cls),
            'subsystem_vendor': _ro('0x%04x' % dev.subsystem_vendor),
            'subsystem_device': _ro('0x%04x' % dev.subsystem_device),
            'revision': _ro('0x%02x' % dev.revision),
            'irq': _ro(0 if dev.kind == 'vf' else 16),
            'numa_node': _ro(dev.numa_node),
            'local_cpulist': _ro('0-15' if dev.numa_node == 0 else '16-31'),
            'local_cpus': _ro('0000ffff' if dev.numa_node == 0 else 'ffff0000'),
            'enable': _ro(1 if dev.driver else 0),
            'msi_bus': _ro(1),
            'broken_parity_status': _ro(0),
            'd3cold_allowed': _ro(1),
            'power_state': _ro('D0'),
            'dma_mask_bits': _ro(64 if dev.vendor == NVIDIA else 32),
            'consistent_dma_mask_bits': _ro(64 if dev.vendor == NVIDIA else 32),
            'modalias': _ro('pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X' % (
                dev.vendor, dev.device, dev.subsystem_vendor, dev.subsystem_device, dev.cls >> 16, (dev.cls >> 8) & 0xff, dev.cls & 0xff)),
            'uevent': Attr(show=lambda: self._uevent(dev), store=self._store_uevent),
            'driver_override': Attr(show=_text(lambda: dev.override or '(null)'), store=lambda t: self.store_driver_override(dev, t)),
            'config': Attr(show=lambda: self._config(dev), size=4096 if dev.kind != 'other' else 256),
            'resource': _ro(self._resource(dev)),
            'subsystem': _link(here, '/bus/pci'),
            'iommu_group': _link(here, '/kernel/iommu_groups/%d' % dev.group),
            'power': Dir({'control': _ro('on'), 'runtime_status': _ro('active' if dev.driver else 'suspended')}),
        }
        if dev.kind != 'other' or dev.cls >> 8 == 0x0300:
            entries.update({
                'current_link_speed': _ro('16.0 GT/s PCIe' if dev.kind != 'bridge' else '8.0 GT/s PCIe'),
                'current_link_width': _ro(16), 'max_link_speed': _ro('16.0 GT/s PCIe'), 'max_link_width': _ro(16)})
        if dev.cls >> 8 == 0x0300:
            entries['boot_vga'] = _ro(1 if dev.vendor != NVIDIA else 0)
        if dev.reset_methods:
            entries['reset_method'] = Attr(show=_text(lambda: ' '.join(dev.reset_methods)), store=lambda t: self.store_reset_method(dev, t))
            entries['reset'] = Attr(store=lambda t: self._store_reset(dev, t))
        if dev.driver:
            entries['driver'] = _link(here, '/bus/pci/drivers/%s' % dev.driver)
        if dev.kind == 'bridge':
            for child in self.sorted_devices():
                if child.port == dev.address:
                    entries[child.address] = Dir(lambda child=child: self._device_dir(child))
        if dev.kind == 'gpu' and dev.gpu.spec.sriov:
            gpu = dev.gpu
            entries.update({
                'sriov_totalvfs': _ro(gpu.spec.total_vfs),
                'sriov_numvfs': Attr(show=_text(lambda: len(gpu.vfs)), store=lambda t: self.store_sriov_numvfs(gpu, t)),
                'sriov_offset': _ro(4),
                'sriov_stride': _ro(1),
                'sriov_vf_device': _ro('%04x' % gpu.spec.device_id),
                'sriov_drivers_autoprobe': Attr(show=_text(lambda: int(gpu.autoprobe)), store=lambda t: self.store_sriov_autoprobe(gpu, t)),
                'ari_enabled': _ro(1),
            })
            for vf in gpu.vfs:
                entries['virtfn%d' % vf.vf_index] = _link(here, self.dev_path(vf))
        if dev.kind == 'vf':
            entries['physfn'] = _link(here, self.dev_path(dev.gpu.pf))
        if self.is_mdev_parent(dev):
            entries['mdev_supported_types'] = Dir(lambda: self._types_dir(dev))
            for m in sorted(self.mdevs.values(), key=lambda m: m.uuid):
                if m.parent is dev:
                    entries[m.uuid] = Dir(lambda m=m: self._mdev_dir(m))
        if self.is_vendor_vf(dev):
            entries['nvidia'] = Dir(lambda: self._vendor_dir(dev))
            entries['vfio-dev'] = Dir({'vfio%d' % dev.vf_index: Dir({'dev': _ro('511:%d' % dev.vf_index), 'uevent': _ro('')})})
        return entries

    def _store_reset(self, dev, text):
        if self._uint(text, base=0) != 1:
            return
        self._busy('pci:%s' % dev.address)

    def _uevent(self, dev):
        lines = []
        if dev.driver:
            lines.append('DRIVER=%s' % dev.driver)
        lines += ['PCI_CLASS=%X' % dev.cls, 'PCI_ID=%04X:%04X' % (dev.vendor, dev.device),
                  'PCI_SUBSYS_ID=%04X:%04X' % (dev.subsystem_vendor, dev.subsystem_device), 'PCI_SLOT_NAME=%s' % dev.address]
        return '\n'.join(lines) + '\n'

    @staticmethod
    def _resource(dev):
        rows = []
        if dev.kind in ('gpu', 'vf'):
            rows = [(0xd2000000, 0xd2ffffff, 0x40200), (0, 0, 0), (0x380000000000, 0x380fffffffff, 0x14220c), (0, 0, 0),
                    (0x381000000000, 0x381001ffffff, 0x14220c)]
        elif dev.kind == 'audio':
            rows = [(0xd3080000, 0xd3083fff, 0x40200)]
        rows += [(0, 0, 0)] * (13 - len(rows))
        return '\n'.join('0x%016x 0x%016x 0x%016x' % r for r in rows)

    def _config(self, dev):
        """PCI configuration space header (type 0 or 1), enough for lspci -n to identify the device."""
        header = 0x01 if dev.kind == 'bridge' else 0x00
        if dev.multifunction:
            header |= 0x80
        data = bytearray(256)
        struct.pack_into('<HHHHB', data, 0, dev.vendor, dev.device, 0x0407 if dev.driver else 0, 0x0010, dev.revision)
        data[9] = dev.cls & 0xff
        data[10] = (dev.cls >> 8) & 0xff
        data[11] = (dev.cls >> 16) & 0xff
        data[14] = header
        if header & 0x7f == 0:
            struct.pack_into('<HH', data, 0x2c, dev.subsystem_vendor, dev.subsystem_device)
            data[0x3d] = 1
        size = 4096 if dev.kind != 'other' else 256
        return bytes(data) + bytes(size - 256)

    # -- mdev directories [S2, S1 §2.10.8.1, S5]
    def _types_dir(self, dev):
        spec = dev.gpu.spec
        return dict(('nvidia-%d' % t.type_id, Dir(lambda t=t: self._type_dir(dev, t))) for t in spec.types)

    def _type_dir(self, dev, vgpu_type):
        spec = dev.gpu.spec
        here = '%s/mdev_supported_types/nvidia-%d/devices' % (self.dev_path(dev), vgpu_type.type_id)
        return {
            'name': _ro(spec.type_name(vgpu_type)),
            'description': _ro(spec.description(vgpu_type)),
            'available_instances': _ro(lambda: self.available_instances(dev, vgpu_type)),
            'device_api': _ro('vfio-pci'),
            'create': Attr(store=lambda text: self.store_mdev_create(dev, vgpu_type, text)),
            'devices': Dir(lambda: dict((m.uuid, _link(here, self.mdev_path(m))) for m in sorted(self.mdevs.values(), key=lambda m: m.uuid)
                                        if m.parent is dev and m.vgpu_type is vgpu_type)),
        }

    def _mdev_dir(self, mdev):
        here = self.mdev_path(mdev)
        return {
            'mdev_type': _link(here, '%s/mdev_supported_types/nvidia-%d' % (self.dev_path(mdev.parent), mdev.vgpu_type.type_id)),
            'driver': _link(here, '/bus/mdev/drivers/nvidia-vgpu-vfio'),
            'iommu_group': _link(here, '/kernel/iommu_groups/%d' % mdev.group),
            'subsystem': _link(here, '/bus/mdev'),
            'remove': Attr(store=lambda text: self.store_mdev_remove(mdev, text)),
            'uevent': Attr(show=lambda: 'MDEV_TYPE=nvidia-%d\nDRIVER=nvidia-vgpu-vfio\n' % mdev.vgpu_type.type_id, store=self._store_uevent),
            'nvidia': Dir({
                'vgpu_params': Attr(show=_text(lambda: mdev.params), store=lambda t: self.store_vgpu_params('mdev:%s' % mdev.uuid, mdev, t)),
                'vm_name': _ro(lambda: mdev.vm_name),
            }),
            'power': Dir({'control': _ro('auto'), 'runtime_status': _ro('unsupported')}),
        }

    # -- vendor-specific VFIO directory [S1 §2.10.8.2, S5 testdata, reference §3]
    def _vendor_dir(self, vf):
        return {
            'creatable_vgpu_types': Attr(show=lambda: self._creatable_text(vf)),
            'current_vgpu_type': Attr(show=_text(lambda: vf.vgpu_type.type_id if vf.vgpu_type else 0),
                                      store=lambda t: self.store_current_vgpu_type(vf, t)),
            'vgpu_params': Attr(show=_text(lambda: vf.vgpu_params), store=lambda t: self.store_vgpu_params('pci:%s' % vf.address, vf, t)),
            'gpu_instance_id': _ro(-1),
            'placement_id': _ro(lambda: 0 if vf.vgpu_type is None else vf.vf_index),
            'warm_update': _ro(0),
        }

    def _creatable_text(self, vf):
        """Two formats exist [reference §3]: real L40S testdata ``ID    : vGPU Name`` header then ``1145  : NVIDIA
        L40S-1B``; NVIDIA's doc example ``NVIDIA A40-1Q 557``. An empty list is an empty file."""
        types = self.creatable(vf)
        if not types:
            return ''
        spec = vf.gpu.spec
        if self.creatable_format == 'doc':
            return ''.join('%s %d\n' % (spec.type_name(t), t.type_id) for t in types)
        return 'ID    : vGPU Name\n' + ''.join('%-5d : %s\n' % (t.type_id, spec.type_name(t)) for t in types)

    # -- a summary for the CLI and for tests
    def state(self):
        out = {'gpus': [], 'in_use': dict(self.in_use), 'writes': len(self.writes)}
        for gpu in self.gpus:
            out['gpus'].append({
                'address': gpu.pf.address, 'model': gpu.spec.token, 'driver': gpu.pf.driver,
                'vfs': [{'address': vf.address, 'driver': vf.driver, 'vgpu_type': vf.vgpu_type.type_id if vf.vgpu_type else 0}
                        for vf in gpu.vfs],
                'mdevs': sorted([{'uuid': m.uuid, 'parent': m.parent.address, 'type': 'nvidia-%d' % m.vgpu_type.type_id}
                                 for m in self.mdevs.values() if m.parent.gpu is gpu], key=lambda m: (m['parent'], m['uuid'])),
            })
        return out


def new_uuid():
    return str(uuidlib.uuid4())
