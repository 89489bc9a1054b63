# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Linux host still lacks before NVIDIA vGPU can work on it, from one :class:`inventory.Inventory` (pure).

Each finding names the check, the GPU (or none for the host), what was seen and what to do:

- ``gpus``: no NVIDIA GPU on the PCI bus;
- ``iommu``: no IOMMU groups (VT-d/AMD-Vi off, ``intel_iommu=on``/``amd_iommu=on`` missing from the kernel command
  line, or a VM without a virtual IOMMU); vGPUs and passthrough are VFIO devices and need it (reference §1, §2);
- ``driver``: no ``nvidia`` module, or the datacenter driver instead of NVIDIA's vGPU Manager (no
  ``nvidia_vgpu_vfio``, no vGPU types: the real H200 capture, reference/real-gpu-h200.md);
- ``sriov``: a GPU whose vGPUs live on SR-IOV virtual functions (Ampere and later, the catalog's architecture rules)
  without an SR-IOV capability (a VM with a passed-through GPU, or SR-IOV/ARI off in the firmware), or with the
  capability and no VFs enabled yet under the vGPU Manager (``sriov-manage -e``, host_gpu_sriov);
- ``backend``: the vGPU Manager is loaded but a GPU offers no vGPU types (bound to another driver, e.g. vfio-pci).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.host.layout import catalog_model

IOMMU_PARAMETERS = ('intel_iommu=on', 'amd_iommu=on')


def _finding(check, gpu, msg):
    return {'check': check, 'gpu': gpu.address if gpu is not None else None, 'msg': msg}


def missing(inv):
    """[{check, gpu, msg}] in the order an operator fixes them: GPUs, IOMMU, driver, SR-IOV, backend."""
    out = []
    if not inv.gpus:
        out.append(_finding('gpus', None, 'no NVIDIA GPU (vendor 0x10de, class 0x0300/0x0302) on the PCI bus'))
    iommu = inv.iommu()
    if not iommu['enabled']:
        on = [p for p in iommu['parameters'] if p in IOMMU_PARAMETERS]
        why = ('the kernel command line has %s but no IOMMU group exists: is VT-d/AMD-Vi on in the firmware?' % ', '.join(on) if on
               else 'the kernel command line has no intel_iommu=on / amd_iommu=on (or, in a VM, there is no virtual IOMMU)')
        out.append(_finding('iommu', None, 'IOMMU off: no IOMMU groups; %s. vGPUs and passthrough GPUs are VFIO devices and '
                                           'need it: enable VT-d/AMD-Vi, add intel_iommu=on (or amd_iommu=on) iommu=pt, reboot' % why))
    driver = inv.driver_info()
    if inv.gpus and driver['kind'] == 'none':
        out.append(_finding('driver', None, 'no NVIDIA driver loaded (no /sys/module/nvidia): install NVIDIA\'s vGPU Manager '
                                            '(host driver), e.g. with the gpuvirt.core.vgpu_manager role'))
    elif driver['kind'] == 'datacenter':
        out.append(_finding('driver', None, 'the NVIDIA datacenter driver %s is loaded, not the vGPU Manager (no nvidia_vgpu_vfio, '
                                            'no vGPU types): install NVIDIA\'s vGPU Manager (host driver) instead'
                                            % (driver['version'] or '(version unknown)')))
    for gpu in inv.gpus:
        model = catalog_model(gpu)
        name = '%s (%s)' % (gpu.address, model.name if model is not None else 'device %s' % gpu.function.device_id)
        if model is not None and model.sriov and not gpu.sriov_capable:
            out.append(_finding('sriov', gpu, 'GPU %s runs vGPUs on SR-IOV virtual functions (%s) but shows no SR-IOV capability '
                                              '(no sriov_totalvfs): a VM with a passed-through GPU, or SR-IOV/ARI off in the '
                                              'firmware' % (name, model.architecture)))
        elif gpu.sriov_capable and not gpu.vfs and driver['kind'] == 'vgpu_manager' and gpu.function.driver == 'nvidia':
            out.append(_finding('sriov', gpu, 'GPU %s has no virtual functions enabled: enable them with sriov-manage -e (the '
                                              'gpuvirt.core.host_gpu_sriov module, state: enabled)' % name))
        elif driver['kind'] == 'vgpu_manager' and gpu.backend == 'none' and not gpu.sriov_capable:
            out.append(_finding('backend', gpu, 'GPU %s offers no vGPU types (bound to %s): bind it to nvidia '
                                                '(gpuvirt.core.host_gpu_driver, driver: nvidia)' % (name, gpu.function.driver or 'no driver')))
    return out
