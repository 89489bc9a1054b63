"""A pure-Python model of the part of Linux sysfs that GPU virtualization touches, with the kernel's and NVIDIA's
behaviour on writes. No FUSE here: ``fusefs.py`` is a thin layer that maps file operations onto :class:`Host`.

Paths are relative to the sysfs mount (``/bus/pci/devices`` means ``ROOT/sys/bus/pci/devices``). Section marks
refer to the project's reference facts sheet: [S1] NVIDIA vGPU user guide, [S2] the kernel's mdev ABI document,
[S5] Harvester's real-host testdata; "kernel" marks behaviour taken from the Linux sources named in the docstring
(drivers/pci/pci-sysfs.c, pci-driver.c, iov.c, drivers/base/bus.c, dd.c, drivers/vfio/mdev/).

Errors are raised as ``OSError(errno)``: through FUSE the writer sees exactly that errno, as with the kernel.

:class:`Host` is made of parts, one module each: ``pci.py`` (PCI functions, drivers, the driver core and the PCI
directories), ``sriov.py`` (VFs), ``mdev.py`` (mediated devices), ``vendor_vfio.py`` (the vendor-specific VFIO
framework) and ``faults.py`` (the write log and fault injection); ``tree.py`` holds the file tree's nodes. Here:
the host's set-up, the vGPU capacity both vGPU flavours share, the VM side, path lookups and the state summary.
"""


import errno
import posixpath
import re

from .faults import FaultsMixin
from .mdev import UUID_RE, Mdev, MdevMixin, new_uuid
from .pci import DRIVER_VERSION, H200_GUEST_BARS, NVIDIA, Driver, Gpu, PciDevice, PciMixin
from .sriov import SriovMixin
from .tree import PAGE_SIZE, Attr, Dir, Link, _err
from .vendor_vfio import VendorVfioMixin

__all__ = ['Attr', 'DRIVER_VERSION', 'Dir', 'Driver', 'Gpu', 'Host', 'Link', 'Mdev', 'NVIDIA', 'PAGE_SIZE', 'PciDevice',
           'UUID_RE', 'new_uuid']


class Host(PciMixin, SriovMixin, MdevMixin, VendorVfioMixin, FaultsMixin):
    """The whole emulated host: PCI devices, drivers, IOMMU groups, mdevs, SR-IOV, in-use marks, write log, faults."""

    def __init__(self, specs, creatable_format='table', no_iommu=False, driver=None):
        """``specs``: GpuSpecs, or (GpuSpec, pinned address or None) pairs (``gpus.parse_placements``).

        ``no_iommu``: the layout of a VM with a passed-through GPU (reference/real-gpu-h200.md): no IOMMU groups,
        ``numa_node`` -1, and by default the datacenter driver. ``driver``: ``vgpu`` (NVIDIA's vGPU manager: mdev
        types or vendor-VFIO files, the ``nvidia_vgpu_vfio`` module) or ``datacenter`` (the plain ``nvidia`` module
        of the capture: no vGPU files at all)."""
        self.devices = {}
        self.order = []
        self.gpus = []
        self.mdevs = {}
        self.in_use = {}            # 'mdev:<uuid>' or 'pci:<address>' -> VM name
        self.writes = []            # (seq, path, value, result)
        self.faults = []
        self.removed = []           # PCI devices removed through their ``remove`` file, back on ``rescan``
        self.creatable_format = creatable_format
        self.no_iommu = no_iommu
        self.driver_kind = driver or ('datacenter' if no_iommu else 'vgpu')
        if self.driver_kind not in ('vgpu', 'datacenter'):
            raise ValueError('driver must be vgpu or datacenter, got %r' % (driver,))
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
            if no_iommu and drv.name in ('pci-pf-stub', 'vfio-pci'):
                continue        # not loaded in the captured VM (no /sys/bus/pci/drivers/vfio-pci)
            self.drivers[drv.name] = drv
        placements = [item if isinstance(item, tuple) else (item, None) for item in specs]
        pinned = set(address for _spec, address in placements if address)
        numa_guest = -1 if no_iommu else None
        self._add(PciDevice('0000:00:00.0', 0x8086, 0x2020, 0x060000, 'other', group=self._group()))
        port = self._add(PciDevice('0000:00:1c.0', 0x8086, 0xa190, 0x060400, 'bridge', group=self._group()))
        self._add(PciDevice('0000:02:00.0', 0x1a03, 0x2000, 0x030000, 'other', port=port.address, subsystem_vendor=0x1a03,
                            subsystem_device=0x2000, revision=0x41, group=self._group()))
        for index, (spec, address) in enumerate(placements):
            numa = numa_guest if numa_guest is not None else (0 if index < max(1, len(placements) // 2) else 1)
            if address is None:
                bus = 0x10 + 8 * index
                address = '0000:%02x:00.0' % bus
            port_address = None
            if address[5:7] != '00':
                port_address = '0000:00:%02x.0' % (index + 1)
                if port_address in pinned or port_address in self.devices:
                    port_address = '0000:00:%02x.0' % (0x1d + index % 3)
                if port_address not in self.devices:
                    self._add(PciDevice(port_address, 0x8086, 0x2030, 0x060400, 'bridge', group=self._group()))
            if address in self.devices:
                raise ValueError('--gpus: %s is already taken by another device of the emulated host' % address)
            group = self._group()
            pf = PciDevice(address, NVIDIA, spec.device_id, 0x030200, 'gpu', port=port_address,
                           subsystem_vendor=NVIDIA, subsystem_device=spec.subsystem_device, numa_node=numa, group=group)
            audio = None
            if spec.audio_device_id is not None and address.endswith('.0'):
                audio = PciDevice(address[:-1] + '1', NVIDIA, spec.audio_device_id, 0x040300, 'audio', port=port_address,
                                  subsystem_vendor=NVIDIA, subsystem_device=spec.subsystem_device, numa_node=numa, group=group)
            if spec.token == 'h200':
                pf.bars = H200_GUEST_BARS
            gpu = Gpu(spec, pf, audio)
            pf.gpu = gpu
            self._add(pf)
            if audio is not None:
                audio.gpu = gpu
                self._add(audio)
            self.gpus.append(gpu)
        for address in list(self.order):
            self._autoprobe(self.devices[address])

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

    def store_vgpu_params(self, key, obj, text):
        """``vgpu_params``: plugin parameters; a single space clears; not while the vGPU runs (EBUSY) [S1]."""
        self._busy(key)
        value = text.strip()
        if isinstance(obj, Mdev):
            obj.params = value
        else:
            obj.vgpu_params = value

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

    def root(self):
        return Dir(lambda: {
            'devices': Dir({'pci0000:00': Dir(self._root_complex), 'system': Dir({}), 'virtual': Dir({})}),
            'bus': Dir({'pci': Dir(self._bus_pci), 'mdev': Dir(self._bus_mdev)}),
            'class': Dir({'mdev_bus': Dir(self._class_mdev_bus), 'pci_bus': Dir({})}),
            'kernel': Dir({'iommu_groups': Dir(self._iommu_groups)}),
            'module': Dir(self._modules),
        })

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
