"""The vendor-specific VFIO part of the sysfs model (no mdev): a VF's ``nvidia/`` directory with
``creatable_vgpu_types`` and ``current_vgpu_type`` and their rules [S1 §2.10.8.2, S5 testdata, reference §3].
:class:`VendorVfioMixin` is one part of :class:`model.Host`.
"""

import errno

from .tree import Attr, Dir, _err, _ro, _text


class VendorVfioMixin(object):
    """vGPUs programmed on the VFs of vendor-VFIO GPUs (a part of :class:`model.Host`)."""

    def is_vendor_vf(self, dev):
        """``VF/nvidia/`` exists on a VF of a vendor-VFIO GPU once sriov-manage bound it to nvidia [S1 §2.10.8.2]."""
        return dev.kind == 'vf' and dev.driver == 'nvidia' and dev.gpu.spec.flavour == 'vendor-vfio' and self.driver_kind == 'vgpu'

    def creatable(self, vf):
        """``creatable_vgpu_types``: empty on a programmed VF; on siblings only types compatible with what exists;
        empty when the GPU is full [S1 §2.10.8.2, reference §3]."""
        if vf.vgpu_type is not None:
            return []
        return [t for t in vf.gpu.spec.types if self.gpu_room(vf.gpu, t) > 0]

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

    def _vendor_entries(self, dev):
        """A vendor-VFIO VF's entries once bound to nvidia: ``nvidia/`` and its vfio-dev node."""
        entries = {}
        if self.is_vendor_vf(dev):
            entries['nvidia'] = Dir(lambda: self._vendor_dir(dev))
            entries['vfio-dev'] = Dir({'vfio%d' % dev.vf_index: Dir({'dev': _ro('511:%d' % dev.vf_index), 'uevent': _ro('')})})
        return entries

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
