"""The PCI part of the sysfs model: PCI functions, GPUs and drivers, the driver core (probe, bind, unbind,
driver_override, new_id/remove_id, autoprobe) and the PCI directories (``/devices/pci0000:00``, ``/bus/pci``,
``/kernel/iommu_groups``, ``/module``) [kernel drivers/pci/pci-sysfs.c, pci-driver.c, drivers/base/bus.c, dd.c].

:class:`PciMixin` is one part of :class:`model.Host`; the device directory takes its SR-IOV, mdev and vendor-VFIO
entries from the other parts (``_sriov_entries``, ``_mdev_entries``, ``_vendor_entries``).
"""

import errno
import posixpath
import struct

from .tree import PAGE_SIZE, Attr, Dir, Link, _err, _link, _ro, _text

NVIDIA = 0x10de
DRIVER_VERSION = '550.90.05'           # the vGPU manager's nvidia module
DATACENTER_VERSION = '580.159.04'      # the datacenter driver of reference/real-gpu-h200.md
# BARs of the real H200 in a VM (reference/real-gpu-h200.md, ``resource``): BAR0 16 MiB, BAR2 256 GiB, BAR4 32 MiB,
# all memory, 64-bit, prefetchable (0x14220c)
H200_GUEST_BARS = [(0x104002000000, 0x104002ffffff, 0x14220c), (0, 0, 0), (0x100000000000, 0x103fffffffff, 0x14220c), (0, 0, 0),
                   (0x104000000000, 0x104001ffffff, 0x14220c)]
IORESOURCE_PREFETCH = 0x2000


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
        self.reset_methods = self.reset_allowed()
        self.enabled = None         # ``enable`` written by hand (None: follows the driver binding)
        self.bars = None            # [(start, end, flags)] when not the default table
        # vendor-specific VFIO state of a VF [S1 §2.10.8.2]
        self.vgpu_type = None
        self.vgpu_params = ''

    def reset_allowed(self):
        """Reset methods the kernel finds: FLR on GPU functions and VFs; a secondary bus reset only with a bridge above
        (none for a device on the root bus, as the captured H200 shows: ``reset_method`` is ``flr``) [pci.c]."""
        if self.kind == 'vf' or (self.kind in ('gpu', 'audio') and self.port is None):
            return ['flr']
        return ['flr', 'bus'] if self.kind in ('gpu', 'audio') else []

    @property
    def multifunction(self):
        return self.kind == 'gpu' and self.gpu is not None and self.gpu.audio is not None


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


class PciMixin(object):
    """PCI devices, drivers and their sysfs directories (a part of :class:`model.Host`)."""

    def _group(self):
        self._next_group += 1
        return self._next_group - 1

    def _add(self, dev):
        self.devices[dev.address] = dev
        self.order.append(dev.address)
        return dev

    def sorted_devices(self):
        return [self.devices[a] for a in sorted(self.order)]

    def dev_path(self, dev):
        if dev.port is None:
            return '/devices/pci0000:00/%s' % dev.address
        return '%s/%s' % (self.dev_path(self.devices[dev.port]), dev.address)

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

    def store_reset_method(self, dev, text):
        value = text.strip()
        allowed = dev.reset_allowed()
        if value == 'default':
            dev.reset_methods = allowed
            return
        methods = value.split()
        if not methods or any(m not in allowed for m in methods):
            raise _err(errno.EINVAL)
        dev.reset_methods = methods

    def _root_complex(self):
        entries = {'uevent': Attr(show=lambda: '', store=self._store_uevent)}
        for dev in self.sorted_devices():
            if dev.port is None:
                entries[dev.address] = Dir(lambda dev=dev: self._device_dir(dev))
        return entries

    def _bus_pci(self):
        devices_dir = '/bus/pci/devices'
        return {
            'rescan': Attr(store=self.store_rescan),
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

    def _iommu_groups(self):
        if self.no_iommu:
            return {}           # the directory exists, empty, on a kernel without an IOMMU (the captured VM)
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
        if self.driver_kind == 'vgpu':
            out['nvidia'] = Dir({'version': _ro(DRIVER_VERSION), 'refcnt': _ro(0), 'initstate': _ro('live')})
            out['nvidia_vgpu_vfio'] = Dir({'refcnt': _ro(0), 'initstate': _ro('live')})
        else:                   # the capture's /proc/modules: nvidia and nvidia_uvm, no vfio, no nvidia_vgpu_vfio
            out['nvidia'] = Dir({'version': _ro(DATACENTER_VERSION), 'refcnt': _ro(1), 'initstate': _ro('live')})
            out['nvidia_uvm'] = Dir({'refcnt': _ro(0), 'initstate': _ro('live')})
        return out

    def _device_dir(self, dev):
        """A device's directory, entry by entry as the captured H200 shows it (reference/h200-capture/sys): modes
        included (``remove`` 0220, ``rescan``/``reset`` 0200, ``resourceN`` 0600, ``serial_number`` 0400) [pci-sysfs.c]."""
        here = self.dev_path(dev)
        entries = {
            'vendor': _ro('0x%04x' % dev.vendor),
            'device': _ro('0x%04x' % dev.device),
            'class': _ro('0x%06x' % dev.cls),
            'subsystem_vendor': _ro('0x%04x' % dev.subsystem_vendor),
            'subsystem_device': _ro('0x%04x' % dev.subsystem_device),
            'revision': _ro('0x%02x' % dev.revision),
            'irq': _ro(0 if dev.kind == 'vf' else 16),
            'numa_node': Attr(show=_text(lambda: dev.numa_node), store=lambda t: self._store_numa_node(dev, t), mode=0o644),
            'local_cpulist': _ro('0-15' if dev.numa_node in (0, -1) else '16-31'),
            # a cpumask of nr_cpu_ids bits: 16 CPUs in the captured VM ('ffff'), 32 on the emulated host
            'local_cpus': _ro('ffff' if self.no_iommu else ('0000ffff' if dev.numa_node == 0 else 'ffff0000')),
            'enable': Attr(show=_text(lambda: self._enabled(dev)), store=lambda t: self._store_enable(dev, t), mode=0o644),
            'msi_bus': Attr(show=_text(1), store=self._store_flag, mode=0o644),
            'broken_parity_status': Attr(show=_text(0), store=self._store_flag, mode=0o644),
            'd3cold_allowed': Attr(show=_text(1), store=self._store_flag, mode=0o644),
            'power_state': _ro('D0'),
            # 52 on the real H200 (the capture; the DMA mask the nvidia driver sets), 32 for the others here
            'dma_mask_bits': _ro(52 if dev.vendor == NVIDIA else 32),
            'consistent_dma_mask_bits': _ro(52 if dev.vendor == NVIDIA else 32),
            'modalias': _ro(self._modalias(dev)),
            'uevent': Attr(show=lambda: self._uevent(dev), store=self._store_uevent),
            'driver_override': Attr(show=_text(lambda: dev.override or '(null)'), store=lambda t: self.store_driver_override(dev, t)),
            'config': Attr(show=lambda: self._config(dev), store=lambda t: None, size=4096 if dev.kind != 'other' else 256, mode=0o644),
            'resource': _ro(self._resource(dev)),
            'remove': Attr(store=lambda t: self.store_remove(dev, t), mode=0o220),
            'rescan': Attr(store=self.store_rescan, mode=0o200),
            'subsystem': _link(here, '/bus/pci'),
            'link': Dir({}),
            'msi_irqs': Dir({} if not dev.driver else {'41' if dev.kind == 'gpu' else '40': _ro('msix')}),
            'power': Dir({'control': _ro('on'), 'runtime_status': _ro('active' if dev.driver else 'suspended')}),
            'ari_enabled': _ro(1 if dev.kind == 'gpu' and dev.gpu.spec.sriov else 0),
        }
        if not self.no_iommu:
            entries['iommu_group'] = _link(here, '/kernel/iommu_groups/%d' % dev.group)
        if dev.port is None and dev.kind != 'other':
            # ACPI companion of a device on the root bus (the capture: ../../LNXSYSTM:00/LNXSYBUS:00/PNP0A08:00/device:06)
            entries['firmware_node'] = Link('../../LNXSYSTM:00/LNXSYBUS:00/PNP0A08:00/device:%02x' % int(dev.address[8:10], 16))
        if dev.kind == 'gpu':
            entries['serial_number'] = Attr(show=_text('00-00-00-00-00-00-00-00'), mode=0o400)
        for index, (start, end, flags) in enumerate(self._bars(dev)):
            if end:
                entries['resource%d' % index] = Attr(size=end - start + 1, mode=0o600)
                if flags & IORESOURCE_PREFETCH:
                    entries['resource%d_wc' % index] = Attr(size=end - start + 1, mode=0o600)
        if dev.kind != 'other' or dev.cls >> 8 == 0x0300:
            # a VF's Link Status/Capabilities registers are RsvdZ: the kernel shows "Unknown" and width 0 [PCIe SR-IOV 1.1]
            speed = 'Unknown' if dev.kind == 'vf' else (dev.gpu.spec.link_speed if dev.gpu is not None else
                                                        ('16.0 GT/s PCIe' if dev.kind != 'bridge' else '8.0 GT/s PCIe'))
            width = 0 if dev.kind == 'vf' else 16
            entries.update({
                'current_link_speed': _ro(speed), 'current_link_width': _ro(width),
                'max_link_speed': _ro('Unknown' if dev.kind == 'vf' else (speed if dev.gpu is not None else '16.0 GT/s PCIe')),
                'max_link_width': _ro(width)})
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
        entries.update(self._sriov_entries(dev, here))
        entries.update(self._mdev_entries(dev))
        entries.update(self._vendor_entries(dev))
        return entries

    @staticmethod
    def _modalias(dev):
        return 'pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X' % (
            dev.vendor, dev.device, dev.subsystem_vendor, dev.subsystem_device, dev.cls >> 16, (dev.cls >> 8) & 0xff, dev.cls & 0xff)

    def _enabled(self, dev):
        return dev.enabled if dev.enabled is not None else (1 if dev.driver else 0)

    def _store_enable(self, dev, text):
        """enable_store(): kstrtoul else EINVAL; 1 enables, 0 disables a device enabled by hand only [pci-sysfs.c]."""
        value = self._uint(text, base=0)
        dev.enabled = 1 if value else 0

    def _store_flag(self, text):
        self._uint(text, base=0)

    def _store_numa_node(self, dev, text):
        """numa_node_store(): kstrtoint else EINVAL; a node that is not online -> EINVAL (nodes 0-1 here) [pci-sysfs.c]."""
        try:
            node = int(text.strip(), 0)
        except ValueError:
            raise _err(errno.EINVAL)
        if node != -1 and node not in (0, 1):
            raise _err(errno.EINVAL)
        dev.numa_node = node

    def store_remove(self, dev, text):
        """remove_store(): kstrtoul else EINVAL; 0 does nothing; else the device (and, for a PF, its VFs and mdevs)
        leaves the bus until a ``rescan`` [pci-sysfs.c, remove.c]. A device a VM holds: EBUSY here (see README)."""
        if not self._uint(text, base=0):
            return
        gpu = dev.gpu if dev.kind == 'gpu' else None
        if gpu is not None and gpu.vfs:
            self._disable_vfs(gpu)
        if dev.driver:
            self._release(dev)
        del self.devices[dev.address]
        self.order.remove(dev.address)
        self.removed.append(dev)

    def store_rescan(self, text):
        """rescan_store() (device or bus): devices removed through ``remove`` come back and are probed [pci-sysfs.c]."""
        if not self._uint(text, base=0):
            return
        back, self.removed = self.removed, []
        for dev in back:
            self._add(dev)
        for dev in back:
            self._autoprobe(dev)

    def _bars(self, dev):
        if dev.bars is not None:
            return dev.bars
        if dev.kind in ('gpu', 'vf'):
            return [(0xd2000000, 0xd2ffffff, 0x40200), (0, 0, 0), (0x380000000000, 0x380fffffffff, 0x14220c), (0, 0, 0),
                    (0x381000000000, 0x381001ffffff, 0x14220c)]
        if dev.kind == 'audio':
            return [(0xd3080000, 0xd3083fff, 0x40200)]
        return []

    def _store_reset(self, dev, text):
        if self._uint(text, base=0) != 1:
            return
        self._busy('pci:%s' % dev.address)

    def _uevent(self, dev):
        lines = []
        if dev.driver:
            lines.append('DRIVER=%s' % dev.driver)
        lines += ['PCI_CLASS=%X' % dev.cls, 'PCI_ID=%04X:%04X' % (dev.vendor, dev.device),
                  'PCI_SUBSYS_ID=%04X:%04X' % (dev.subsystem_vendor, dev.subsystem_device), 'PCI_SLOT_NAME=%s' % dev.address,
                  'MODALIAS=%s' % self._modalias(dev)]
        return '\n'.join(lines) + '\n'

    def _resource(self, dev):
        rows = list(self._bars(dev))
        # BARs 0-5 and the ROM, plus the SR-IOV and bridge windows on a kernel with CONFIG_PCI_IOV (13 rows); the
        # captured VM's kernel prints 7 rows [pci-sysfs.c resource_show]
        rows += [(0, 0, 0)] * ((7 if self.no_iommu else 13) - len(rows))
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
