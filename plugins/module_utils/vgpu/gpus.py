# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GPU catalog: models, PCI ids, framebuffer and the vGPU types each offers.

Pure data and lookups, no I/O, Python 3.8+.

Sources (the keys of the project's reference facts, section 4):

* [S4] NVIDIA vgpu-device-manager examples/config-example.yaml (the GPU Operator's default vGPU
  configuration): per-type maximum instances per GPU, device-filter ids.
* [S5] harvester/pcidevices A2 host dump (sriov_totalvfs=16, ``max_instance`` in the description files).
* [S1] NVIDIA vGPU 17 user guide (A40 example with 32 VFs; legacy GPUs use mdev on the PF).
* [S14] NVIDIA vGPU type pages (series meaning; Hopper page for the H200 and H100 NVL counts).
* NVIDIA AI Enterprise "vGPU Types Reference" pages (release 8; Blackwell page: RTX Pro 4500 SE tables).
* PCI device ids: [S4] device-filters and the pci.ids database (pciutils/pciids 2026.08.22, subsystem ids
  of 1e78); A2's subsystem id from the real A2 dump [S5]; the real H200 SXM (reference real-gpu-h200.md) for
  its product name, subsystem id and driver-reported MIG memory.

Rules visible in those tables and encoded below: max = min(floor(FB / size), max vGPUs per GPU) with
exceptions listed per row (H200-8C is 16, not 17); 32 vGPUs per GPU up to Hopper, 48 on Blackwell;
C-series starts at 4 GB; B-series is 1B/2B only (L40S adds 3B; M60 has 0B); A-series counts equal Q
counts of the same size; the compute GPUs offer only C-series types. Facts no source confirmed are marked
[UNVERIFIED] in the row's source.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import re

from ansible_collections.gpuvirt.core.plugins.module_utils.pci import NVIDIA_VENDOR_ID
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu.names import (
    SERIES,
    VgpuError,
    VgpuType,
    parse_name,
    short_name,
    split_spelling,
)

# The pre-Blackwell cap, kept for callers; the per-architecture value is GpuModel.max_vgpus.
MAX_VGPUS_PER_GPU = 32
LEGACY_DRIVER_PREFIX = 'GRID'


class Architecture:
    """Rules that differ per GPU architecture.

    sriov: vGPUs live on SR-IOV virtual functions (Ampere and later) instead of mdevs on the PF.
    max_vgpus: vGPUs per physical GPU, all types together: 32 up to Hopper, 48 on Blackwell ([S4]
    config-example DC-1-2Q = 48; NVIDIA Blackwell vGPU type pages).
    mixed_size: mixed-size mode is offered. One NVIDIA page says Volta and later, another Turing and later
    ([CONFLICT] in the reference, section 4); we take Turing and later. [CONFLICT] NVIDIA AI Enterprise's
    current Turing vGPU type page says the T4 does not support it; kept as Turing and later until a real
    Turing host settles it (the gpu report relies on it).
    mig_time_sliced: a MIG GPU instance may hold several time-sliced vGPUs (Blackwell RTX PRO: DC-1-8Q is
    three 8 GB vGPUs in each 24 GB 1g instance); before Blackwell one MIG-backed vGPU is one GPU instance.
    mig_series: series of MIG-backed types (C only before Blackwell; Q and C, also with GFX, on Blackwell).
    """

    __slots__ = ('name', 'sriov', 'max_vgpus', 'mixed_size', 'mig_time_sliced', 'mig_series')

    def __init__(self, name, sriov, max_vgpus, mixed_size, mig_time_sliced=False, mig_series=('C',)):
        self.name = name
        self.sriov = sriov
        self.max_vgpus = max_vgpus
        self.mixed_size = mixed_size
        self.mig_time_sliced = mig_time_sliced
        self.mig_series = mig_series

    def __repr__(self):
        return 'Architecture(%r)' % self.name


ARCHITECTURES = dict((a.name, a) for a in (
    Architecture('Maxwell', False, 32, False),
    Architecture('Volta', False, 32, False),
    Architecture('Turing', False, 32, True),
    Architecture('Ampere', True, 32, True),
    Architecture('Ada', True, 32, True),
    Architecture('Hopper', True, 32, True),
    Architecture('Blackwell', True, 48, True, mig_time_sliced=True, mig_series=('Q', 'C')),
))
SRIOV_ARCHITECTURES = tuple(a for a in ARCHITECTURES if ARCHITECTURES[a].sriov)
MIXED_SIZE_ARCHITECTURES = tuple(a for a in ARCHITECTURES if ARCHITECTURES[a].mixed_size)


class MigProfile:
    """A MIG-backed vGPU type offered by a GPU.

    slices: compute slices of its GPU instance; gb: the vGPU size in the type name; series, suffix;
    max_instances: vGPUs of this type per GPU; memory_slices: memory slices of its GPU instance;
    instance_gb: nominal size of the GPU instance (= gb unless several vGPUs share the instance);
    per_instance: vGPUs of this type one GPU instance holds (1 before Blackwell);
    memory_mib: GPU instance memory as the driver reports it (``nvidia-smi mig -lgip``), None when no
    source gives it; the nominal size stays in the name only.
    """

    __slots__ = ('slices', 'gb', 'suffix', 'max_instances', 'memory_slices', 'series', 'instance_gb', 'per_instance', 'memory_mib')

    def __init__(self, slices, gb, suffix, max_instances, memory_slices, series='C', instance_gb=None, memory_mib=None):
        self.slices = slices
        self.gb = gb
        self.suffix = suffix
        self.max_instances = max_instances
        self.memory_slices = memory_slices
        self.series = series
        self.instance_gb = instance_gb or gb
        self.per_instance = max(1, self.instance_gb // gb) if gb else 1
        self.memory_mib = memory_mib

    @property
    def media_extensions(self):
        """True for +me profiles: they own the GPU's only set of media engines."""
        return self.suffix in ('ME', 'MEALL')

    @property
    def graphics(self):
        """True for GFX profiles (Blackwell MIG instances with graphics)."""
        return self.suffix == 'GFX'

    @property
    def instance_profile(self):
        """The GPU instance profile name in nvidia-smi's form: '1g.18gb', '1g.18gb+me', '1g.24gb+gfx'."""
        extra = {'ME': '+me', 'MEALL': '+me.all', 'NOME': '-me', 'GFX': '+gfx'}.get(self.suffix, '')
        return '%dg.%dgb%s' % (self.slices, self.instance_gb, extra)


class GpuModel:
    """One GPU model of the catalog.

    ``name`` is unique in the catalog and, for all but one row, the token the driver uses in its vGPU type
    names (``A100D`` for the A100 80GB PCIe). ``token`` is that token: the RTX PRO 4500 Blackwell Server
    Edition (``RTXPRO4500-DC``) shares the token ``DC`` with the RTX PRO 6000 Blackwell Server Edition.
    ``device_ids``: every PCI device id of boards whose vGPU types carry the token; ``subsystem_ids``:
    subsystem device ids (vendor 10de) that tell this board from another one with the same device id.
    ``product_names``: what ``nvidia-smi`` prints as Product Name; ``pci_name``: the pci.ids device name.
    """

    def __init__(self, name, description, device_ids, framebuffer_gb, architecture, time_sliced, mig=(),
                 max_vfs=None, gpus_per_board=1, compute_slices=None, memory_slices=None, aliases=(), source='',
                 token=None, subsystem_ids=(), product_names=(), pci_name=None, driver_prefix=None, mig_memory_mib=None):
        self.name = name
        self.token = token or name
        self.description = description
        self.vendor_id = NVIDIA_VENDOR_ID
        self.device_ids = tuple(device_ids)
        self.subsystem_ids = tuple(subsystem_ids)
        self.framebuffer_gb = framebuffer_gb
        self.framebuffer_mib = framebuffer_gb * 1024
        self.architecture = architecture
        self.rules = ARCHITECTURES[architecture]
        self.sriov = self.rules.sriov
        self.legacy = not self.sriov
        self.max_vfs = max_vfs
        self.max_vgpus = self.rules.max_vgpus
        self.gpus_per_board = gpus_per_board
        self.mixed_size_capable = self.rules.mixed_size
        self.driver_prefix = driver_prefix or (LEGACY_DRIVER_PREFIX if self.legacy else 'NVIDIA')
        self.aliases = tuple(aliases)
        self.product_names = tuple(product_names)
        self.pci_name = pci_name
        self.source = source
        self._time_sliced = dict((series, dict(counts)) for series, counts in time_sliced.items() if counts)
        self.compute_slices = compute_slices
        self.memory_slices = memory_slices
        self._mig = {}
        memory = dict(mig_memory_mib or {})
        for entry in mig:
            if len(entry) == 4:  # (slices, GB, suffix, count): one C-series vGPU per GPU instance
                slices, gb, suffix, count = entry
                series, instance_gb = 'C', gb
            else:  # (slices, GB, series, suffix, count, instance GB)
                slices, gb, series, suffix, count, instance_gb = entry
            mem = int(round(float(instance_gb) * memory_slices / framebuffer_gb))
            self._mig[(slices, gb, series, suffix)] = MigProfile(slices, gb, suffix, count, mem, series=series, instance_gb=instance_gb,
                                                                 memory_mib=memory.get(instance_gb))
        self.mig_capable = bool(self._mig)

    # -- identity -----------------------------------------------------------------------------
    @property
    def device_ids_hex(self):
        """('2236',): four lower-case hex digits, as sysfs and pci.ids write them."""
        return tuple('%04x' % device for device in self.device_ids)

    @property
    def device_filters(self):
        """('0x223610DE',): vgpu-device-manager's device-filter form."""
        return tuple('0x%04X%04X' % (device, self.vendor_id) for device in self.device_ids)

    @property
    def passthrough_resource_name(self):
        """The NVIDIA sandbox device plugin's resource for the whole GPU (reference section 5, [S8]):
        nvidia.com/ + the pci.ids device name upper-cased, '/', '.' and spaces as '_', other non-alphanumerics dropped."""
        if not self.pci_name:
            return None
        text = re.sub(r'[/. ]', '_', self.pci_name.upper())
        return 'nvidia.com/' + re.sub(r'[^A-Z0-9_]', '', text)

    @property
    def series(self):
        """Series with time-sliced types, in Q, C, B, A order."""
        return tuple(series for series in SERIES if series in self._time_sliced)

    # -- offered types ------------------------------------------------------------------------
    def make_type(self, gb, series, slices=None, suffix='', count=0):
        """A VgpuType of this GPU (no check that it is offered; see max_instances)."""
        memory = None
        if slices is not None:
            profile = self._mig.get((slices, gb, series, suffix or ''))
            if profile is not None and profile.per_instance == 1:
                memory = profile.memory_mib
        return VgpuType(self.token, gb, series, slices=slices, suffix=suffix, driver_prefix=self.driver_prefix, max_instances=count,
                        model=self.name, memory_mib=memory)

    def vgpu_types(self):
        """Every vGPU type this GPU offers: time-sliced Q, B, A, C by size, then MIG-backed."""
        offered = []
        for series in ('Q', 'B', 'A', 'C'):
            for gb, count in sorted(self._time_sliced.get(series, {}).items()):
                offered.append(self.make_type(gb, series, count=count))
        for key in sorted(self._mig, key=lambda k: (k[0], k[1], k[2] != 'C', k[2], k[3])):
            profile = self._mig[key]
            offered.append(self.make_type(profile.gb, profile.series, slices=profile.slices, suffix=profile.suffix, count=profile.max_instances))
        return offered

    def mig_profiles(self):
        """Every MigProfile of this GPU."""
        return list(self._mig.values())

    def mig_profile(self, vgpu_type):
        """The MigProfile of a MIG-backed type of this GPU, or None."""
        vtype = parse(vgpu_type, strict=False)
        if not vtype.mig or vtype.gpu.upper() != self.token.upper():
            return None
        return self._mig.get((vtype.slices, vtype.gb, vtype.series, vtype.suffix))

    def max_instances(self, vgpu_type):
        """Maximum vGPUs of that type on one physical GPU in equal-size mode; 0 if not offered."""
        vtype = parse(vgpu_type, strict=False)
        if vtype.gpu.upper() != self.token.upper():
            return 0
        if vtype.mig:
            profile = self.mig_profile(vtype)
            return profile.max_instances if profile else 0
        return self._time_sliced.get(vtype.series, {}).get(vtype.gb, 0)

    def as_dict(self):
        return {
            'name': self.name,
            'token': self.token,
            'description': self.description,
            'architecture': self.architecture,
            'vendor_id': '%04x' % self.vendor_id,
            'vendor_id_decimal': self.vendor_id,
            'device_ids': list(self.device_ids_hex),
            'device_ids_decimal': list(self.device_ids),
            'device_filters': list(self.device_filters),
            'subsystem_ids': ['%04x' % sub for sub in self.subsystem_ids],
            'product_names': list(self.product_names),
            'pci_name': self.pci_name,
            'passthrough_resource_name': self.passthrough_resource_name,
            'framebuffer_mib': self.framebuffer_mib,
            'sriov': self.sriov,
            'max_vfs': self.max_vfs,
            'max_vgpus': self.max_vgpus,
            'mig_capable': self.mig_capable,
            'mixed_size_capable': self.mixed_size_capable,
            'gpus_per_board': self.gpus_per_board,
            'driver_prefix': self.driver_prefix,
            'vgpu_types': dict((t.canonical, t.max_instances) for t in self.vgpu_types()),
        }

    def __repr__(self):
        return 'GpuModel(%r)' % self.name

    def __str__(self):
        return self.name


# ------------------------------------------------------------------------------------------------
# Per-series tables ({framebuffer GB: max vGPUs per GPU}) as printed in [S4] examples/config-example.yaml
# and the reference table (section 4).
_Q8 = {0: 16, 1: 8, 2: 4, 4: 2, 8: 1}
_Q16 = {1: 16, 2: 8, 4: 4, 8: 2, 16: 1}
_C16 = {4: 4, 8: 2, 16: 1}
_Q24 = {1: 24, 2: 12, 3: 8, 4: 6, 6: 4, 8: 3, 12: 2, 24: 1}
_C24 = {4: 6, 6: 4, 8: 3, 12: 2, 24: 1}
_Q32 = {1: 32, 2: 16, 4: 8, 8: 4, 16: 2, 32: 1}
_C32 = {4: 8, 8: 4, 16: 2, 32: 1}
_Q48 = {1: 32, 2: 24, 3: 16, 4: 12, 6: 8, 8: 6, 12: 4, 16: 3, 24: 2, 48: 1}
_C48 = {4: 12, 6: 8, 8: 6, 12: 4, 16: 3, 24: 2, 48: 1}
_C48_RTX8000P = {4: 8, 6: 8, 8: 6, 12: 4, 16: 3, 24: 2, 48: 1}  # [S4] prints RTX8000P-4C: 8 (4Q: 12); kept as printed
_C_A100_40 = {4: 10, 5: 8, 8: 5, 10: 4, 20: 2, 40: 1}
_C_A100_80 = {4: 20, 8: 10, 10: 8, 16: 5, 20: 4, 40: 2, 80: 1}
_C_H100_64 = {4: 16, 8: 8, 16: 4, 32: 2, 64: 1}
_C_H100_80 = {4: 20, 5: 16, 8: 10, 10: 8, 16: 5, 20: 4, 40: 2, 80: 1}
_C_H100_94 = {4: 23, 6: 15, 11: 8, 15: 6, 23: 4, 47: 2, 94: 1}
_C_H20_96 = {4: 24, 6: 16, 8: 12, 12: 8, 16: 6, 24: 4, 32: 3, 48: 2, 96: 1}
_C_H200 = {4: 32, 7: 20, 8: 16, 14: 10, 17: 8, 28: 5, 35: 4, 70: 2, 141: 1}
# RTX PRO 6000 Blackwell Server Edition (96 GB): time-sliced Q from 3 GB, C from 8 GB, up to 48 per GPU.
_Q_DC96 = {3: 32, 4: 24, 6: 16, 8: 12, 12: 8, 16: 6, 24: 4, 32: 3, 48: 2, 96: 1}
_C_DC96 = {8: 12, 12: 8, 16: 6, 24: 4, 32: 3, 48: 2, 96: 1}

# MIG-backed types, one vGPU per GPU instance (C-series): (compute slices, GB, suffix, max per GPU).
_MIG_A30 = ((1, 6, '', 4), (2, 12, '', 2), (4, 24, '', 1), (1, 6, 'ME', 1), (2, 12, 'ME', 1))
_MIG_A100_40 = ((1, 5, '', 7), (1, 10, '', 4), (2, 10, '', 3), (3, 20, '', 2), (4, 20, '', 1), (7, 40, '', 1), (1, 5, 'ME', 1))


def _mig7(small, medium, large, full):
    """The seven-slice MIG-backed C types of A100 80GB/Hopper/Blackwell HGX: 1g, 1g (double memory), 2g, 3g, 4g, 7g, 1g+me."""
    return ((1, small, '', 7), (1, medium, '', 4), (2, medium, '', 3), (3, large, '', 2), (4, large, '', 1), (7, full, '', 1), (1, small, 'ME', 1))


_MIG_64 = _mig7(8, 16, 32, 64)
_MIG_80 = _mig7(10, 20, 40, 80)
_MIG_94 = _mig7(12, 24, 47, 94)
_MIG_96 = _mig7(12, 24, 48, 96)
_MIG_141 = _mig7(18, 35, 71, 141)
_MIG_144 = _mig7(18, 36, 72, 144)
_MIG_180 = _mig7(23, 45, 90, 180)
_MIG_189 = _mig7(24, 47, 95, 189)
_MIG_269 = _mig7(34, 67, 135, 269)
# GPU instance memory as the driver reports it, by nominal instance GB: a real H200 SXM (0x2335), driver
# 580.159.04, `nvidia-smi mig -lgip`: 16.00 / 32.50 / 69.75 / 140.00 GiB (reference real-gpu-h200.md).
_MIG_MEMORY_H200 = {18: 16384, 35: 33280, 71: 71424, 141: 143360}


def _mig_shared(instances, sizes, gfx):
    """Blackwell RTX PRO MIG-backed types: several time-sliced vGPUs per GPU instance.

    instances: {compute slices: (instance GB, instances per GPU)}; sizes: {series: {slices: vGPU GB sizes}};
    gfx: the same types also exist with the GFX suffix. Max per GPU = instances x floor(instance GB / vGPU GB).
    """
    entries = []
    for series in sorted(sizes):
        for slices, gbs in sorted(sizes[series].items()):
            instance_gb, count = instances[slices]
            for gb in gbs:
                for suffix in ('', 'GFX') if gfx else ('',):
                    entries.append((slices, gb, series, suffix, count * (instance_gb // gb), instance_gb))
    return tuple(entries)


# RTX PRO 6000 Blackwell SE: 4 slices, 1g.24gb x4, 2g.48gb x2, 4g.96gb x1 ([S4] DC-1-2Q 48 ... DC-4-96Q 1, all also GFX).
_MIG_DC96 = _mig_shared({1: (24, 4), 2: (48, 2), 4: (96, 1)},
                        {'Q': {1: (2, 3, 4, 6, 8, 12, 24), 2: (12, 16, 24, 48), 4: (24, 32, 48, 96)},
                         'C': {1: (8, 12, 24), 2: (12, 16, 24, 48), 4: (24, 32, 48, 96)}}, gfx=True)
# RTX PRO 4500 Blackwell SE: 2 slices, 1g.16gb x2, 2g.32gb x1 (NVIDIA Blackwell page: DC-2-32C/16C/8C, DC-1-16C/8C).
_MIG_DC32 = _mig_shared({1: (16, 2), 2: (32, 1)}, {'Q': {1: (8, 16), 2: (8, 16, 32)}, 'C': {1: (8, 16), 2: (8, 16, 32)}}, gfx=False)
# RTX 6000D (84 GB): 2 slices, 1g.42gb x2, 2g.84gb x1 ([S4] 6000D-1-42C/Q 2, 6000D-2-84C/Q 1, also GFX).
_MIG_6000D = _mig_shared({1: (42, 2), 2: (84, 1)}, {'Q': {1: (42,), 2: (84,)}, 'C': {1: (42,), 2: (84,)}}, gfx=True)


def _graphics(q_counts, c_counts, b_sizes=(1, 2)):
    """Q, A (same counts as Q), B (the listed sizes, counts as Q) and C tables of a graphics GPU."""
    return {'Q': q_counts, 'A': dict(q_counts), 'B': dict((gb, q_counts[gb]) for gb in b_sizes), 'C': c_counts}


def _qc(q_counts, c_counts):
    """Q and C tables only: what [S4] lists for the GPUs added in issue 15 (A and B types: not in the sources used)."""
    return {'Q': q_counts, 'C': c_counts}


# product_names: the names NVIDIA's driver gives each device id (and subsystem id) in its table of supported GPUs
# [S15], the name nvidia-smi prints as Product Name ("NVIDIA H200" also a real capture, reference real-gpu-h200.md).
# Not in that table (it lists Turing and later): the Volta and Maxwell rows, whose names are the strings nvidia-smi
# commonly prints [UNVERIFIED: no capture in the project], and the RTX PRO 4500 (2c3a). pci_name: pci.ids.
_HOPPER_80 = dict(compute_slices=7, memory_slices=8)
_S4 = '[S4 config-example] type names and counts'
_PCI = 'pci.ids 2026.08.22'

_TABLE = (
    # Ampere, Ada: SR-IOV, vGPUs live on virtual functions.
    GpuModel('A2', 'NVIDIA A2 16GB PCIe', (0x25B6,), 16, 'Ampere', _graphics(_Q16, _C16), max_vfs=16, subsystem_ids=(0x157E,),
             product_names=('NVIDIA A2',), pci_name='GA107GL [A2 / A16]',
             source='[S4 config-example] counts; [S5 A2 dump] sriov_totalvfs=16, subsystem_device 0x157e, A2-1B/4Q/4A/4C max_instance; '
                    'device 25b6 shared with A16'),
    GpuModel('A16', 'NVIDIA A16 (4 x 16GB GPUs per board)', (0x25B6,), 16, 'Ampere', _graphics(_Q16, _C16), gpus_per_board=4,
             subsystem_ids=(0x14A9,), product_names=('NVIDIA A16',), pci_name='GA107GL [A2 / A16]',
             source='[S4 config-example] A16 counts per GPU; reference section 4 (4 GPUs per board, device 25b6 shared with A2); '
                    '[S15] 25b6 subsystem 10de:14a9 "NVIDIA A16", 10de:157e "NVIDIA A2"'),
    GpuModel('A10', 'NVIDIA A10 24GB PCIe', (0x2236,), 24, 'Ampere', _graphics(_Q24, _C24), product_names=('NVIDIA A10',), pci_name='GA102GL [A10]',
             source='[S4 config-example] counts and device-filter 0x223610DE; decimal 8758'),
    GpuModel('L4', 'NVIDIA L4 24GB PCIe', (0x27B8,), 24, 'Ada', _graphics(_Q24, _C24), product_names=('NVIDIA L4',), pci_name='AD104GL [L4]',
             source='[S4 config-example] counts and device-filter 0x27B810DE; decimal 10168'),
    GpuModel('A40', 'NVIDIA A40 48GB PCIe', (0x2235,), 48, 'Ampere', _graphics(_Q48, _C48), max_vfs=32, product_names=('NVIDIA A40',),
             pci_name='GA102GL [A40]',
             source='[S4 config-example] counts (1Q = 32: per-GPU cap); [S1] A40 example with 32 VFs; decimal 8757'),
    GpuModel('L40', 'NVIDIA L40 48GB PCIe', (0x26B5,), 48, 'Ada', _graphics(_Q48, _C48), product_names=('NVIDIA L40',), pci_name='AD102GL [L40]',
             source='[S4 config-example] counts and device-filter 0x26B510DE; decimal 9909'),
    GpuModel('L40S', 'NVIDIA L40S 48GB PCIe', (0x26B9,), 48, 'Ada', _graphics(_Q48, _C48, b_sizes=(1, 2, 3)), product_names=('NVIDIA L40S',),
             pci_name='AD102GL [L40S]',
             source='[S4 config-example] Q/C counts; [S5 L40S creatable_vgpu_types] 1B..48Q, 1A..48A, 3B; decimal 9913'),
    GpuModel('RTX6000-Ada', 'NVIDIA RTX 6000 Ada Generation 48GB', (0x26B1,), 48, 'Ada', _qc(_Q48, _C48),
             aliases=('RTX 6000 Ada',), product_names=('NVIDIA RTX 6000 Ada Generation',), pci_name='AD102GL [RTX 6000 Ada Generation]',
             source='[S4 config-example] RTX6000-Ada Q/C counts (A/B types not listed there, so not offered here); pci.ids 26b1'),
    GpuModel('RTX5000-Ada', 'NVIDIA RTX 5000 Ada Generation 32GB', (0x26B2,), 32, 'Ada', _qc(_Q32, _C32), aliases=('RTX 5000 Ada',),
             product_names=('NVIDIA RTX 5000 Ada Generation',), pci_name='AD102GL [RTX 5000 Ada Generation]',
             source=_S4 + ', device-filter 0x26B210DE; ' + _PCI + ' 26b2'),
    GpuModel('RTX5880-Ada', 'NVIDIA RTX 5880 Ada Generation 48GB', (0x26B3,), 48, 'Ada', _qc(_Q48, _C48), aliases=('RTX 5880 Ada',),
             product_names=('NVIDIA RTX 5880 Ada Generation',), pci_name='AD102GL [RTX 5880 Ada Generation]',
             source=_S4 + ', device-filter 0x26B310DE; ' + _PCI + ' 26b3'),
    GpuModel('L2', 'NVIDIA L2 24GB PCIe', (0x27B6,), 24, 'Ada', _qc(_Q24, _C24), product_names=('NVIDIA L2',), pci_name='AD104GL [L2]',
             source=_S4 + ', device-filter 0x27B610DE; ' + _PCI + ' 27b6'),
    GpuModel('L20', 'NVIDIA L20 48GB PCIe', (0x26BA,), 48, 'Ada', _qc(_Q48, _C48), product_names=('NVIDIA L20',), pci_name='AD102GL [L20]',
             source=_S4 + ', device-filter 0x26BA10DE; ' + _PCI + ' 26ba'),
    GpuModel('RTXA5000', 'NVIDIA RTX A5000 24GB', (0x2231,), 24, 'Ampere', _qc(_Q24, _C24), aliases=('RTX A5000',),
             product_names=('NVIDIA RTX A5000',), pci_name='GA102GL [RTX A5000]',
             source=_S4 + ', device-filter 0x223110DE; ' + _PCI + ' 2231'),
    GpuModel('RTXA5500', 'NVIDIA RTX A5500 24GB', (0x2233,), 24, 'Ampere', _qc(_Q24, _C24), aliases=('RTX A5500',),
             product_names=('NVIDIA RTX A5500',), pci_name='GA102GL [RTX A5500]',
             source=_S4 + ', device-filter 0x223310DE; ' + _PCI + ' 2233'),
    GpuModel('RTXA6000', 'NVIDIA RTX A6000 48GB', (0x2230,), 48, 'Ampere', _qc(_Q48, _C48), aliases=('RTX A6000',),
             product_names=('NVIDIA RTX A6000',), pci_name='GA102GL [RTX A6000]',
             source=_S4 + ', device-filter 0x223010DE; ' + _PCI + ' 2230'),
    # Ampere and Hopper compute GPUs: C-series only, MIG-backed types.
    GpuModel('A30', 'NVIDIA A30 24GB PCIe', (0x20B7, 0x20B9), 24, 'Ampere', {'C': _C24}, mig=_MIG_A30, compute_slices=4, memory_slices=4,
             aliases=('A30X',), product_names=('NVIDIA A30',), pci_name='GA100GL [A30 PCIe]',
             source='[S4 config-example] A30 time-sliced and MIG counts, device-filters 0x20B710DE and 0x20B910DE (A30X converged '
                    'accelerator, pci.ids 20b9); reference section 4; decimal 8375'),
    GpuModel('A100', 'NVIDIA A100 40GB PCIe', (0x20F1,), 40, 'Ampere', {'C': _C_A100_40}, mig=_MIG_A100_40, compute_slices=7, memory_slices=8,
             aliases=('A100 40GB', 'A100 PCIe 40GB'), product_names=('NVIDIA A100-PCIE-40GB',), pci_name='GA100 [A100 PCIe 40GB]',
             source='[S4 config-example] A100 counts, device-filter 0x20F110DE; decimal 8433'),
    GpuModel('A100X', 'NVIDIA A100 40GB SXM4', (0x20B0,), 40, 'Ampere', {'C': _C_A100_40}, mig=_MIG_A100_40, compute_slices=7, memory_slices=8,
             aliases=('A100 SXM4 40GB',), product_names=('NVIDIA A100-SXM4-40GB', 'NVIDIA A100-PG509-200'), pci_name='GA100 [A100 SXM4 40GB]',
             source='[S4 config-example] A100X counts, device-filter 0x20B010DE; reference section 4 (SXM4 20b0 = "A100X")'),
    GpuModel('A100D', 'NVIDIA A100 80GB PCIe', (0x20B5, 0x20B8), 80, 'Ampere', {'C': _C_A100_80}, mig=_MIG_80, compute_slices=7, memory_slices=8,
             aliases=('A100 80GB', 'A100 PCIe 80GB'), product_names=('NVIDIA A100 80GB PCIe',), pci_name='GA100 [A100 PCIe 80GB]',
             source='[S4 config-example] A100D counts incl. A100D-1-10CME, device-filters 0x20B510DE and 0x20B810DE (the A100X '
                    'converged accelerator, pci.ids 20b8, uses the A100D types); decimal 8373'),
    GpuModel('A100DX', 'NVIDIA A100 80GB SXM4', (0x20B2,), 80, 'Ampere', {'C': _C_A100_80}, mig=_MIG_80, compute_slices=7, memory_slices=8,
             aliases=('A100 SXM4 80GB',), product_names=('NVIDIA A100-SXM4-80GB', 'NVIDIA PG509-210'), pci_name='GA100 [A100 SXM4 80GB]',
             source='[S4 config-example] A100DX counts, device-filter 0x20B210DE; reference section 4 (SXM4 20b2 = "A100DX")'),
    GpuModel('A800', 'NVIDIA A800 40GB PCIe', (0x20F6,), 40, 'Ampere', {'C': _C_A100_40}, mig=_MIG_A100_40, compute_slices=7, memory_slices=8,
             aliases=('A800 40GB',), product_names=('NVIDIA A800 40GB Active',), pci_name='GA100 [A800 40GB PCIe]',
             source=_S4 + ', device-filter 0x20F610DE; ' + _PCI + ' 20f6'),
    GpuModel('A800D', 'NVIDIA A800 80GB PCIe', (0x20F5, 0x20FD), 80, 'Ampere', {'C': _C_A100_80}, mig=_MIG_80, compute_slices=7, memory_slices=8,
             aliases=('A800 80GB', 'AX800'), product_names=('NVIDIA A800 80GB PCIe', 'NVIDIA A800 80GB PCIe LC', 'NVIDIA AX800'),
             pci_name='GA100 [A800 80GB PCIe]',
             source=_S4 + ', device-filters 0x20F510DE and 0x20FD10DE; ' + _PCI + ' 20f5, 20fd (AX800 Converged Accelerator)'),
    GpuModel('A800DX', 'NVIDIA A800 80GB SXM4', (0x20F3,), 80, 'Ampere', {'C': _C_A100_80}, mig=_MIG_80, compute_slices=7, memory_slices=8,
             aliases=('A800 SXM4 80GB',), product_names=('NVIDIA A800-SXM4-80GB',), pci_name='GA100 [A800-SXM4-80GB]',
             source=_S4 + ', device-filter 0x20F310DE; ' + _PCI + ' 20f3'),
    GpuModel('H100', 'NVIDIA H100 80GB PCIe', (0x2331,), 80, 'Hopper', {'C': _C_H100_80}, mig=_MIG_80, aliases=('H100 PCIe',),
             product_names=('NVIDIA H100 PCIe',), pci_name='GH100 [H100 PCIe]',
             source='[S4 config-example] H100 counts (16C = 5), device-filter 0x233110DE; decimal 9009', **_HOPPER_80),
    GpuModel('H100XM', 'NVIDIA H100 80GB SXM5', (0x2330, 0x2336), 80, 'Hopper', {'C': _C_H100_80}, mig=_MIG_80, aliases=('H100 SXM5', 'H100 SXM'),
             product_names=('NVIDIA H100 80GB HBM3',), pci_name='GH100[H100 SXM5 80GB]',
             source='[S4 config-example] H100XM counts, device-filters 0x233010DE and 0x233610DE (pci.ids 2336 "H100"); decimal 9008',
             **_HOPPER_80),
    GpuModel('H100XL', 'NVIDIA H100 94GB SXM5', (0x2339,), 94, 'Hopper', {'C': _C_H100_94}, mig=_MIG_94, aliases=('H100 SXM5 94GB',),
             product_names=('NVIDIA H100',), pci_name='GH100 [H100 SXM5 94GB]', source=_S4 + ', device-filter 0x233910DE; ' + _PCI + ' 2339', **_HOPPER_80),
    GpuModel('H100XS', 'NVIDIA H100 64GB SXM5', (0x2337,), 64, 'Hopper', {'C': _C_H100_64}, mig=_MIG_64, aliases=('H100 SXM5 64GB',),
             pci_name='GH100 [H100 SXM5 64GB]', source=_S4 + ', device-filter 0x233710DE; ' + _PCI + ' 2337', **_HOPPER_80),
    GpuModel('H100L', 'NVIDIA H100 NVL 94GB PCIe', (0x2321,), 94, 'Hopper', {'C': _C_H100_94}, mig=_MIG_94, aliases=('H100 NVL', 'H100NVL'),
             product_names=('NVIDIA H100 NVL',), pci_name='GH100 [H100L 94GB]',
             source='[S4 config-example] H100L counts, device-filter 0x232110DE; reference section 4 (H100L/NVL 94 GB, 2321)', **_HOPPER_80),
    GpuModel('H800', 'NVIDIA H800 80GB PCIe', (0x2322,), 80, 'Hopper', {'C': _C_H100_80}, mig=_MIG_80, aliases=('H800 PCIe',),
             product_names=('NVIDIA H800 PCIe',), pci_name='GH100 [H800 PCIe]', source=_S4 + ', device-filter 0x232210DE; ' + _PCI + ' 2322',
             **_HOPPER_80),
    GpuModel('H800XM', 'NVIDIA H800 80GB SXM5', (0x2324,), 80, 'Hopper', {'C': _C_H100_80}, mig=_MIG_80, aliases=('H800 SXM5',),
             product_names=('NVIDIA H800',), pci_name='GH100 [H800]', source=_S4 + ', device-filter 0x232410DE; ' + _PCI + ' 2324', **_HOPPER_80),
    GpuModel('H800L', 'NVIDIA H800L 94GB PCIe', (0x233A,), 94, 'Hopper', {'C': _C_H100_94}, mig=_MIG_94, aliases=('H800 NVL',),
             product_names=('NVIDIA H800 NVL',), pci_name='GH100 [H800L 94GB]', source=_S4 + ', device-filter 0x233A10DE; ' + _PCI + ' 233a', **_HOPPER_80),
    GpuModel('H20', 'NVIDIA H20 96GB', (0x2329,), 96, 'Hopper', {'C': _C_H20_96}, mig=_MIG_96, product_names=('NVIDIA H20',),
             pci_name='GH100 [H20]', source=_S4 + ', device-filter 0x232910DE; ' + _PCI + ' 2329', **_HOPPER_80),
    GpuModel('H20X', 'NVIDIA H20 141GB HBM3e', (0x232C,), 141, 'Hopper', {'C': _C_H200}, mig=_MIG_141, aliases=('H20 HBM3e',),
             product_names=('NVIDIA H20-3e',), pci_name='GH100 [H20 HBM3e]', mig_memory_mib=_MIG_MEMORY_H200,
             source=_S4 + ', device-filter 0x232C10DE; ' + _PCI + ' 232c; MIG memory as the H200 SXM [UNVERIFIED on an H20X]', **_HOPPER_80),
    GpuModel('H200', 'NVIDIA H200 NVL 141GB PCIe', (0x233B,), 141, 'Hopper', {'C': _C_H200}, mig=_MIG_141, aliases=('H200 NVL', 'H200NVL'),
             product_names=('NVIDIA H200 NVL',), pci_name='GH100 [H200 NVL]', mig_memory_mib=_MIG_MEMORY_H200,
             source='[S14] NVIDIA vGPU types, Hopper page: H200 NVL tables (8C = 16, 4C = 32 cap); [S4] device-filter 0x233B10DE; '
                    'pci.ids 233b; [S15] product name; MIG memory as the H200 SXM [UNVERIFIED on an NVL]', **_HOPPER_80),
    GpuModel('H200X', 'NVIDIA H200 141GB SXM5', (0x2335,), 141, 'Hopper', {'C': _C_H200}, mig=_MIG_141, aliases=('H200 SXM', 'H200 SXM5'),
             product_names=('NVIDIA H200',), pci_name='GH100 [H200 SXM 141GB]', mig_memory_mib=_MIG_MEMORY_H200,
             source='[S14] NVIDIA vGPU types, Hopper page: H200 SXM5 tables; [S4b] H200X-1-18C/H200X-141C names; [S4] device-filter '
                    '0x233510DE; real H200 (real-gpu-h200.md): Product Name "NVIDIA H200", 10de:2335 subsystem 10de:18bf, mig -lgip memory',
             **_HOPPER_80),
    GpuModel('GH200', 'NVIDIA GH200 96GB (Grace Hopper)', (0x2342,), 96, 'Hopper', {'C': {96: 1}}, mig=_MIG_96, aliases=('GH200 480GB',),
             product_names=('NVIDIA GH200 480GB', 'NVIDIA GH200 120GB'), pci_name='GH100 [GH200 120GB / 480GB]',
             source=_S4 + ' (time-sliced 96C only), device-filter 0x234210DE; ' + _PCI + ' 2342', **_HOPPER_80),
    GpuModel('GH200L', 'NVIDIA GH200 144GB HBM3e (Grace Hopper)', (0x2348,), 144, 'Hopper', {'C': {144: 1}}, mig=_MIG_144,
             aliases=('GH200 144GB',), product_names=('NVIDIA GH200 144G HBM3e',), pci_name='GH100 [GH200 144G HBM3e]',
             source=_S4 + ' (time-sliced 144C only), device-filter 0x234810DE; ' + _PCI + ' 2348', **_HOPPER_80),
    # Blackwell: SR-IOV, 48 vGPUs per GPU, MIG-backed Q and C types (also GFX) on the RTX PRO boards.
    GpuModel('B200X', 'NVIDIA B200 180GB SXM (HGX)', (0x2901,), 180, 'Blackwell', {'C': {180: 1}}, mig=_MIG_180, aliases=('B200',),
             product_names=('NVIDIA B200',), pci_name='GB100 [B200]',
             source=_S4 + ' (time-sliced 180C only), device-filter 0x290110DE; ' + _PCI + ' 2901; NVIDIA Blackwell vGPU types page (B200 HGX)',
             **_HOPPER_80),
    GpuModel('B300X', 'NVIDIA B300 269GB SXM6 (HGX)', (0x3182,), 269, 'Blackwell', {'C': {269: 1}}, mig=_MIG_269, aliases=('B300',),
             product_names=('NVIDIA B300 SXM6 AC',), pci_name='GB110 [B300 SXM6 AC]',
             source=_S4 + ' (time-sliced 269C only), device-filter 0x318210DE; ' + _PCI + ' 3182; NVIDIA Blackwell vGPU types page (B300 HGX)',
             **_HOPPER_80),
    GpuModel('GB200', 'NVIDIA GB200 189GB (Grace Blackwell)', (0x2941,), 189, 'Blackwell', {'C': {189: 1}}, mig=_MIG_189,
             product_names=('NVIDIA GB200',), pci_name='GB100 [HGX GB200]',
             source=_S4 + ' (time-sliced 189C only), device-filter 0x294110DE; ' + _PCI + ' 2941', **_HOPPER_80),
    GpuModel('DC', 'NVIDIA RTX PRO 6000 Blackwell Server Edition 96GB', (0x2BB5,), 96, 'Blackwell', _qc(_Q_DC96, _C_DC96), mig=_MIG_DC96,
             compute_slices=4, memory_slices=4, aliases=('RTX PRO 6000 Blackwell', 'RTX PRO 6000 Blackwell Server Edition', 'RTXPRO6000-DC'),
             product_names=('NVIDIA RTX PRO 6000 Blackwell Server Edition',), pci_name='GB202GL [RTX PRO 6000 Blackwell Server Edition]',
             driver_prefix='NVIDIA RTX PRO 6000 Blackwell',
             source=(_S4 + ' (DC-1-2Q = 48: the Blackwell per-GPU maximum), device-filter 0x2BB510DE; ' + _PCI + ' 2bb5; NVIDIA MIG user '
                     'guide: 4 instances; driver name "NVIDIA RTX PRO 6000 Blackwell DC-48C" (issue 15)')),
    GpuModel('RTXPRO4500-DC', 'NVIDIA RTX PRO 4500 Blackwell Server Edition 32GB', (0x2C3A,), 32, 'Blackwell',
             {'Q': {16: 2}, 'C': {8: 4, 16: 2, 32: 1}}, mig=_MIG_DC32, compute_slices=2, memory_slices=2, token='DC',
             aliases=('RTX PRO 4500 Blackwell', 'RTX PRO 4500 Blackwell Server Edition'),
             product_names=('NVIDIA RTX PRO 4500 Blackwell Server Edition',), pci_name='GB203GL [RTX PRO 4500 Blackwell Server Edition]',
             driver_prefix='NVIDIA RTX PRO 4500 Blackwell',
             source='NVIDIA Blackwell vGPU types page (RTX Pro 4500 SE 32 GB: DC-32C/16C/8C, DC-2-32C/16C/8C, DC-1-16C/8C); [S4] '
                    'DC-1-16C/Q 2, DC-2-8C/Q 4, DC-2-32C/Q 1 and device-filter 0x2C3A10DE with DC-16Q; ' + _PCI + ' 2c3a. '
                    '[CONFLICT] NVIDIA prints DC-1-16C 1 and DC-1-8C 2 (per GPU instance), [S4] DC-1-16C 2 (per GPU): per GPU here. '
                    '[UNVERIFIED] time-sliced Q other than 16Q, MIG-backed 1-8Q and 2-16Q, driver name prefix'),
    GpuModel('6000D', 'NVIDIA RTX 6000D 84GB', (0x2BB9,), 84, 'Blackwell', _qc({84: 1}, {84: 1}), mig=_MIG_6000D,
             compute_slices=2, memory_slices=2, aliases=('RTX 6000D',), product_names=('NVIDIA RTX 6000D',), pci_name='GB202GL [RTX 6000D]',
             source=(_S4 + ' (6000D-84C/Q, 6000D-1-42C/Q 2, 6000D-2-84C/Q 1, also GFX), device-filter 0x2BB910DE; ' + _PCI + ' 2bb9; '
                     '[UNVERIFIED] driver name prefix')),
    # Legacy (pre-Ampere): no SR-IOV, vGPUs are mdevs on the physical function; the driver names them "GRID ...".
    GpuModel('T4', 'NVIDIA T4 16GB PCIe', (0x1EB8,), 16, 'Turing', _graphics(_Q16, _C16), aliases=('Tesla T4',), product_names=('Tesla T4',),
             pci_name='TU104GL [Tesla T4]',
             source='[S4 config-example] T4 counts, device-filter 0x1EB810DE; seed 000 grid_t4-1a; decimal 7864'),
    GpuModel('RTX6000P', 'NVIDIA Quadro RTX 6000 passive 24GB', (0x1E78,), 24, 'Turing', _qc(_Q24, _C24), subsystem_ids=(0x13D9,),
             aliases=('Quadro RTX 6000',), product_names=('Quadro RTX 6000',), pci_name='TU102GL [Quadro RTX 6000/8000]',
             source=_S4 + ', device-filter 0x1E7810DE (shared with RTX8000P); ' + _PCI + ' 1e78 subsystem 10de:13d9 "Quadro RTX 6000"'),
    GpuModel('RTX8000P', 'NVIDIA Quadro RTX 8000 passive 48GB', (0x1E78,), 48, 'Turing', _qc(_Q48, _C48_RTX8000P), subsystem_ids=(0x13D8,),
             aliases=('Quadro RTX 8000',), product_names=('Quadro RTX 8000',), pci_name='TU102GL [Quadro RTX 6000/8000]',
             source=(_S4 + ' (4C = 8, not 12, as printed), device-filter 0x1E7810DE (shared with RTX6000P); ' + _PCI + ' 1e78 subsystem '
                     '10de:13d8 "Quadro RTX 8000"')),
    GpuModel('V100', 'NVIDIA V100 16GB PCIe', (0x1DB4,), 16, 'Volta', _graphics(_Q16, _C16), aliases=('Tesla V100',),
             product_names=('Tesla V100-PCIE-16GB',), pci_name='GV100GL [Tesla V100 PCIe 16GB]',
             source='[S4 config-example] V100 counts, device-filter 0x1DB410DE; reference section 4 (1db4, decimal 7604)'),
    GpuModel('V100X', 'NVIDIA V100 16GB SXM2', (0x1DB1,), 16, 'Volta', _graphics(_Q16, _C16), product_names=('Tesla V100-SXM2-16GB',),
             pci_name='GV100GL [Tesla V100 SXM2 16GB]',
             source='[S4 config-example] V100X counts, device-filter 0x1DB110DE; pci.ids 1db1 "Tesla V100 SXM2 16GB"'),
    GpuModel('V100L', 'NVIDIA V100 FHHL 16GB', (0x1DB3,), 16, 'Volta', _qc(_Q16, _C16), aliases=('V100 FHHL',),
             pci_name='GV100GL [Tesla V100 FHHL 16GB]', source=_S4 + ', device-filter 0x1DB310DE; ' + _PCI + ' 1db3'),
    GpuModel('V100D', 'NVIDIA V100 32GB PCIe', (0x1DB6,), 32, 'Volta', _graphics(_Q32, _C32), aliases=('V100 32GB',),
             product_names=('Tesla V100-PCIE-32GB',), pci_name='GV100GL [Tesla V100 PCIe 32GB]',
             source='[S4 config-example] V100D counts, device-filter 0x1DB610DE; seed 000 grid_v100d-4c; reference section 4 (1db6, decimal 7606)'),
    GpuModel('V100DX', 'NVIDIA V100 32GB SXM2', (0x1DB5,), 32, 'Volta', _graphics(_Q32, _C32), product_names=('Tesla V100-SXM2-32GB',),
             pci_name='GV100GL [Tesla V100 SXM2 32GB]',
             source='[S4 config-example] V100DX counts, device-filter 0x1DB510DE; pci.ids 1db5 "Tesla V100 SXM2 32GB"'),
    GpuModel('V100S', 'NVIDIA V100S 32GB PCIe', (0x1DF6,), 32, 'Volta', _graphics(_Q32, _C32), product_names=('Tesla V100S-PCIE-32GB',),
             pci_name='GV100GL [Tesla V100S PCIe 32GB]',
             source='[S4 config-example] V100S counts, device-filter 0x1DF610DE; reference section 4 (1df6)'),
    GpuModel('M60', 'NVIDIA Tesla M60 (2 x 8GB GPUs per board)', (0x13F2,), 8, 'Maxwell',
             {'Q': _Q8, 'A': {1: 8, 2: 4, 4: 2, 8: 1}, 'B': {0: 16, 1: 8, 2: 4}}, gpus_per_board=2, aliases=('Tesla M60',),
             product_names=('Tesla M60',), pci_name='GM204GL [Tesla M60]',
             source='reference section 4 (M60-0Q = 512 MiB) and 1; M60 mdev description files (max_instance 16 for 0B/0Q, 8 for 1A/1B); pci.ids 13f2'),
)


def _key(text):
    """Lookup key of a GPU name: upper case, without NVIDIA/Tesla/GRID and separators."""
    words = re.split(r'[\s_]+', text.strip().upper())
    while len(words) > 1 and words[0] in ('NVIDIA', 'TESLA', 'GRID'):
        words = words[1:]
    return re.sub(r'[\s_-]+', '', ''.join(words))


def _product_key(text):
    """Lookup key of an nvidia-smi product name: upper case, spaces and dashes alike (the NVIDIA/Tesla word kept), so
    GPU Feature Discovery's label form of it (``nvidia.com/gpu.product=NVIDIA-H20-3e``) finds it too."""
    return ' '.join(re.split(r'[\s-]+', text.strip().upper())).strip()


_BY_NAME = {}
_BY_TOKEN = {}
_BY_KEY = {}
_BY_PRODUCT = {}
_BY_DEVICE = {}
for _model in _TABLE:
    _BY_NAME[_model.name.upper()] = _model
    _BY_TOKEN.setdefault(_model.token.upper(), []).append(_model)
    for _alias in (_model.name,) + _model.aliases:
        _BY_KEY[_key(_alias)] = _model
    for _alias in _model.product_names:
        _BY_PRODUCT[_product_key(_alias)] = _model
    for _device in _model.device_ids:
        _BY_DEVICE.setdefault(_device, []).append(_model)
del _model, _alias, _device

_ALL_NAMES = tuple(sorted(set(t.canonical for m in _TABLE for t in m.vgpu_types()),
                          key=[t.canonical for m in _TABLE for t in m.vgpu_types()].index))


def all_gpu_models():
    """Every GpuModel of the catalog, in table order."""
    return list(_TABLE)


def all_vgpu_type_names():
    """Every canonical vGPU type name the catalog knows (each once, also where two boards share a token)."""
    return list(_ALL_NAMES)


def _close(word, pool, limit=4):
    upper = dict((p.upper(), p) for p in pool)
    return [upper[m] for m in difflib.get_close_matches(word.upper(), list(upper), n=limit, cutoff=0.6)]


def _did_you_mean(candidates):
    return '; did you mean %s?' % ', '.join(candidates) if candidates else ''


_PCI_PATTERNS = (
    (re.compile(r'^(?:0x)?([0-9a-f]{4})$', re.I), None),                  # 2236, 0x2236
    (re.compile(r'^([0-9a-f]{4}):([0-9a-f]{4})$', re.I), 'vendor:device'),   # 10de:2236
    (re.compile(r'^0x([0-9a-f]{4})([0-9a-f]{4})$', re.I), 'device+vendor'),  # 0x223610DE (device-filter, nvidia-smi Device Id)
)
# modalias: pci:v000010DEd00002335sv000010DEsd000018BFbc03sc02i00 (sysfs and udev, real H200 capture)
_MODALIAS = re.compile(r'^pci:v0000([0-9a-f]{4})d0000([0-9a-f]{4})sv0000([0-9a-f]{4})sd0000([0-9a-f]{4})', re.I)
# vendor:device:subvendor:subdevice (lspci -n -v style, uevent PCI_ID + PCI_SUBSYS_ID joined)
_FULL_ID = re.compile(r'^([0-9a-f]{4}):([0-9a-f]{4})[: ]([0-9a-f]{4}):([0-9a-f]{4})$', re.I)


def _check_vendor(text, vendor):
    if int(vendor, 16) != NVIDIA_VENDOR_ID:
        raise VgpuError('PCI id %r is not an NVIDIA device (vendor %s, NVIDIA is 10de)' % (text, vendor.lower()))


def _pci_candidates(text):
    """Device ids a string may denote (hex first, then decimal); raises on a foreign vendor."""
    for pattern, form in _PCI_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        if form is None:
            found = [int(match.group(1), 16)]
            if text.isdigit():
                found.append(int(text))
            return found
        vendor, device = (match.group(1), match.group(2)) if form == 'vendor:device' else (match.group(2), match.group(1))
        _check_vendor(text, vendor)
        return [int(device, 16)]
    if text.isdigit():
        return [int(text)]
    return []


def _full_id(text):
    """(device, subsystem device) of a modalias or vendor:device:subvendor:subdevice string, else None."""
    match = _MODALIAS.match(text) or _FULL_ID.match(text)
    if not match:
        return None
    _check_vendor(text, match.group(1))
    return int(match.group(2), 16), int(match.group(4), 16)


def _subsystem(value):
    """A subsystem device id from 0x18bf, '18bf', '10de:18bf' or nvidia-smi's '0x18BF10DE'; None passes."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    for pattern, form in _PCI_PATTERNS:
        match = pattern.match(text)
        if match:
            if form is None:
                return int(match.group(1), 16)
            return int(match.group(2) if form == 'vendor:device' else match.group(1), 16)
    raise VgpuError('subsystem id %r: expected a PCI subsystem device id such as "157e", "10de:157e" or "0x157E10DE"' % (value,))


def _by_subsystem(models, subsystem):
    """Narrow models sharing a device id by the subsystem id; unchanged when it tells nothing."""
    if subsystem is None or len(models) < 2:
        return models
    return [m for m in models if subsystem in m.subsystem_ids] or models


def gpu_models(token_or_pci_id, subsystem_id=None):
    """Every catalog GPU matching a name or PCI id; [] when none.

    A2 and A16 share device 25b6 (the Quadro RTX 6000/8000 passive boards 1e78): the subsystem id, given
    as ``subsystem_id`` or inside a modalias / ``10de:25b6:10de:157e`` string, tells them apart.
    """
    if isinstance(token_or_pci_id, GpuModel):
        return [token_or_pci_id]
    if isinstance(token_or_pci_id, VgpuType):
        if token_or_pci_id.model and token_or_pci_id.model.upper() in _BY_NAME:
            return [_BY_NAME[token_or_pci_id.model.upper()]]
        return list(_BY_TOKEN.get(token_or_pci_id.gpu.upper(), [])[:1])
    if isinstance(token_or_pci_id, bool):
        return []
    subsystem = _subsystem(subsystem_id)
    if isinstance(token_or_pci_id, int):
        return _by_subsystem(list(_BY_DEVICE.get(token_or_pci_id, [])), subsystem)
    if not isinstance(token_or_pci_id, str) or not token_or_pci_id.strip():
        return []
    text = token_or_pci_id.strip()
    model = _BY_PRODUCT.get(_product_key(text)) or _BY_KEY.get(_key(text))
    if model is not None:
        return [model]
    full = _full_id(text)
    if full is not None:
        return _by_subsystem(list(_BY_DEVICE.get(full[0], [])), full[1] if subsystem is None else subsystem)
    for device in _pci_candidates(text):
        if device in _BY_DEVICE:
            return _by_subsystem(list(_BY_DEVICE[device]), subsystem)
    return []


def gpu_model(token_or_pci_id, subsystem_id=None):
    """The GpuModel for a name or PCI id.

    Names: an nvidia-smi product name ('NVIDIA H200' is the SXM board, H200X), a type-name token in any
    case and with or without NVIDIA/Tesla ('a10', 'A100DX', 'H200' = the H200 NVL's token) or an alias
    ('H100 NVL'). PCI ids: '2236', '0x2236', '10de:2236', '0x223610DE', 8758, a modalias or
    '10de:25b6:10de:157e'; ``subsystem_id`` ('157e', '0x157E10DE') decides between boards sharing a device id.

    Raises VgpuError naming the input when it is unknown or ambiguous.
    """
    found = gpu_models(token_or_pci_id, subsystem_id)
    if len(found) == 1:
        return found[0]
    if found:
        raise VgpuError('GPU %r is ambiguous: PCI device %s is %s; name the GPU or give its subsystem id (%s)'
                        % (token_or_pci_id, found[0].device_ids_hex[0], ' or '.join(m.name for m in found),
                           ', '.join('%s: %s' % (m.name, '/'.join('%04x' % s for s in m.subsystem_ids) or '?') for m in found)))
    if isinstance(token_or_pci_id, str) and token_or_pci_id.strip():
        names = [m.name for m in _TABLE] + [a for m in _TABLE for a in m.aliases]
        raise VgpuError('unknown GPU %r: not a catalog GPU name or NVIDIA PCI device id%s'
                        % (token_or_pci_id, _did_you_mean(_close(token_or_pci_id.strip(), names))))
    raise VgpuError('unknown GPU %r: expected a GPU name such as "A10" or a PCI device id such as "2236"' % (token_or_pci_id,))


def _models_for(parsed):
    """Catalog GPUs whose type names carry the parsed token, narrowed by a product prefix when given."""
    models = _BY_TOKEN.get(parsed.gpu, [])
    if parsed.prefix:
        models = [m for m in models if m.driver_prefix.upper() == parsed.prefix.upper()]
    return models


def parse(spelling, strict=True):
    """Parse any spelling of a vGPU type into a VgpuType.

    strict (default): the GPU must be in the catalog and offer the type. strict=False accepts any
    name that follows the grammar (for GPUs newer than this catalog); its max_instances is then the
    catalog's value or None when unknown.
    Where two boards share a token (DC: RTX PRO 6000 and 4500 Blackwell), the driver's product words
    decide ('NVIDIA RTX PRO 4500 Blackwell DC-16C'); a short name goes to the first board, in table
    order, that offers it.
    Raises VgpuError whose message contains the input and, where close, the nearest valid names.
    """
    if isinstance(spelling, VgpuType):
        if strict and spelling.max_instances is None:
            return parse(spelling.canonical, strict=True)
        return spelling
    try:
        parsed = parse_name(spelling)
    except VgpuError as err:
        guess = None
        try:
            guess = split_spelling(spelling)
        except VgpuError:
            pass
        raise VgpuError(str(err) + _did_you_mean(_close(guess, _ALL_NAMES) if guess else []))
    models = _models_for(parsed)
    if not models:
        if not strict:
            return VgpuType(parsed.gpu, parsed.gb, parsed.series, parsed.slices, parsed.suffix)
        tokens = sorted(_BY_TOKEN)
        close_tokens = [_BY_TOKEN[t][0].token for t in _close(parsed.gpu, tokens)]
        close_names = [short_name(t, parsed.gb, parsed.series, parsed.slices, parsed.suffix) for t in close_tokens]
        close_names = [n for n in close_names if n in _ALL_NAMES] or close_tokens
        raise VgpuError('unknown vGPU type %r: GPU %r is not in the catalog%s' % (spelling, parsed.gpu, _did_you_mean(close_names)))
    for model in models:
        vtype = model.make_type(parsed.gb, parsed.series, parsed.slices, parsed.suffix)
        count = model.max_instances(vtype)
        if count:
            return model.make_type(parsed.gb, parsed.series, parsed.slices, parsed.suffix, count=count)
    model = models[0]
    vtype = model.make_type(parsed.gb, parsed.series, parsed.slices, parsed.suffix)
    if not strict:
        vtype.max_instances = None
        return vtype
    offered = [t.canonical for m in models for t in m.vgpu_types()]
    series_offered = tuple(sorted(set(s for m in models for s in m.series), key=SERIES.index))
    mig_series = set(p.series for m in models for p in m.mig_profiles())
    name = ' / '.join(m.name for m in models)
    if parsed.series not in series_offered and not (parsed.mig and parsed.series in mig_series):
        why = '%s offers no %s-series types (series offered: %s)' % (name, parsed.series, ', '.join(series_offered or sorted(mig_series)))
    elif parsed.mig and not any(m.mig_capable for m in models):
        why = '%s has no MIG-backed types' % name
    else:
        why = '%s does not offer %s' % (name, vtype.canonical)
    raise VgpuError('unknown vGPU type %r: %s%s' % (spelling, why, _did_you_mean(_close(vtype.canonical, offered))))


def max_instances(vgpu_type_or_spelling, gpu=None, subsystem_id=None):
    """Max vGPUs of that type per physical GPU (equal-size mode); 0 if ``gpu`` does not offer it."""
    if gpu is None:
        return parse(vgpu_type_or_spelling).max_instances
    return gpu_model(gpu, subsystem_id).max_instances(parse(vgpu_type_or_spelling, strict=False))
