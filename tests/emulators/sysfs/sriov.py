"""The SR-IOV part of the sysfs model: enabling and disabling VFs through ``sriov_numvfs`` with the kernel's rules,
VF autoprobe, and the SR-IOV entries of a device directory [kernel drivers/pci/iov.c sriov_numvfs_store;
reference §2]. :class:`SriovMixin` is one part of :class:`model.Host`.
"""

import errno

from .pci import NVIDIA, PciDevice
from .tree import Attr, _err, _link, _ro, _text


class SriovMixin(object):
    """Virtual functions of SR-IOV GPUs (a part of :class:`model.Host`)."""

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

    def _sriov_entries(self, dev, here):
        """A device directory's SR-IOV entries: the PF's sriov_* attributes and virtfnN links, a VF's physfn link."""
        entries = {}
        if dev.kind == 'gpu' and dev.gpu.spec.sriov:
            gpu = dev.gpu
            entries.update({
                'sriov_totalvfs': _ro(gpu.spec.total_vfs),
                'sriov_numvfs': Attr(show=_text(lambda: len(gpu.vfs)), store=lambda t: self.store_sriov_numvfs(gpu, t)),
                'sriov_offset': _ro(4),
                'sriov_stride': _ro(1),
                'sriov_vf_device': _ro('%04x' % gpu.spec.device_id),
                'sriov_drivers_autoprobe': Attr(show=_text(lambda: int(gpu.autoprobe)), store=lambda t: self.store_sriov_autoprobe(gpu, t)),
            })
            for vf in gpu.vfs:
                entries['virtfn%d' % vf.vf_index] = _link(here, self.dev_path(vf))
        if dev.kind == 'vf':
            entries['physfn'] = _link(here, self.dev_path(dev.gpu.pf))
        return entries
