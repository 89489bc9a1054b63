"""The mediated-device part of the sysfs model: mdev types on their parents, create/remove with the kernel's and
NVIDIA's rules, the mdev directories and ``/bus/mdev``, ``/class/mdev_bus`` [S2, S1 §2.10.8.1, S5;
kernel drivers/vfio/mdev/]. :class:`MdevMixin` is one part of :class:`model.Host`.
"""

import errno
import re
import uuid as uuidlib

from .tree import Attr, Dir, _err, _link, _ro, _text

UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')


class Mdev(object):
    """A mediated device [S2]: lives under its parent's directory, has a type and its own IOMMU group."""

    def __init__(self, uuid, parent, vgpu_type, group):
        self.uuid = uuid
        self.parent = parent
        self.vgpu_type = vgpu_type
        self.group = group
        self.params = ''
        self.vm_name = ''


def new_uuid():
    return str(uuidlib.uuid4())


class MdevMixin(object):
    """mdev parents, types and devices (a part of :class:`model.Host`)."""

    def mdev_path(self, mdev):
        return '%s/%s' % (self.dev_path(mdev.parent), mdev.uuid)

    def is_mdev_parent(self, dev):
        """mdev types appear on the PF of a legacy GPU, or on each VF of an mdev-flavour SR-IOV GPU, only while it
        is bound to nvidia; never on an SR-IOV PF [S1 §2.10.8.1, reference §2]."""
        if dev.driver != 'nvidia' or dev.gpu is None or self.driver_kind != 'vgpu':
            return False
        flavour = dev.gpu.spec.flavour
        return (flavour == 'mdev-pf' and dev.kind == 'gpu') or (flavour == 'mdev-vf' and dev.kind == 'vf')

    def available_instances(self, dev, vgpu_type):
        room = self.gpu_room(dev.gpu, vgpu_type)
        if dev.kind == 'vf':       # one vGPU per VF [reference §2]
            return 0 if any(m.parent is dev for m in self.mdevs.values()) else min(room, 1)
        return room

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

    def _mdev_entries(self, dev):
        """An mdev parent's entries: mdev_supported_types and a directory per mdev on it."""
        entries = {}
        if self.is_mdev_parent(dev):
            entries['mdev_supported_types'] = Dir(lambda: self._types_dir(dev))
            for m in sorted(self.mdevs.values(), key=lambda m: m.uuid):
                if m.parent is dev:
                    entries[m.uuid] = Dir(lambda m=m: self._mdev_dir(m))
        return entries

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
