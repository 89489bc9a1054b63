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
* PCI device ids: the pci.ids database (Debian pciutils) and the reference's decimal list.

Rules visible in those tables and encoded below: max = min(floor(FB / size), 32) with exceptions
listed per row (H200-8C is 16, not 17); C-series starts at 4 GB; B-series is 1B/2B only (L40S adds 3B;
M60 has 0B); A-series counts equal Q counts of the same size; A100/A30/H100/H100 NVL/H200 offer
only C-series types.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import re

from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu.names import (
    SERIES,
    VgpuError,
    VgpuType,
    parse_name,
    short_name,
    split_spelling,
)

NVIDIA_VENDOR_ID = 0x10DE
MAX_VGPUS_PER_GPU = 32
SRIOV_ARCHITECTURES = ('Ampere', 'Ada', 'Hopper')
# Mixed-size mode: one NVIDIA page says Volta and later, another Turing and later ([CONFLICT] in the
# reference, section 4). We take the stricter reading: Turing and later.
MIXED_SIZE_ARCHITECTURES = ('Turing', 'Ampere', 'Ada', 'Hopper')
LEGACY_DRIVER_PREFIX = 'GRID'


class MigProfile:
    """A MIG-backed vGPU type offered by a GPU: compute slices, memory slices, max per GPU."""

    __slots__ = ('slices', 'gb', 'suffix', 'max_instances', 'memory_slices')

    def __init__(self, slices, gb, suffix, max_instances, memory_slices):
        self.slices = slices
        self.gb = gb
        self.suffix = suffix
        self.max_instances = max_instances
        self.memory_slices = memory_slices

    @property
    def media_extensions(self):
        """True for +me profiles: they own the GPU's only set of media engines."""
        return self.suffix in ('ME', 'MEALL')


class GpuModel:
    """One GPU model of the catalog.

    ``name`` is the token the driver uses in its vGPU type names (``A100D`` for the A100 80GB PCIe).
    """

    def __init__(self, name, description, device_ids, framebuffer_gb, architecture, time_sliced, mig=(),
                 max_vfs=None, gpus_per_board=1, compute_slices=None, memory_slices=None, aliases=(), source=''):
        self.name = name
        self.description = description
        self.vendor_id = NVIDIA_VENDOR_ID
        self.device_ids = tuple(device_ids)
        self.framebuffer_gb = framebuffer_gb
        self.framebuffer_mib = framebuffer_gb * 1024
        self.architecture = architecture
        self.sriov = architecture in SRIOV_ARCHITECTURES
        self.legacy = not self.sriov
        self.max_vfs = max_vfs
        self.gpus_per_board = gpus_per_board
        self.mixed_size_capable = architecture in MIXED_SIZE_ARCHITECTURES
        self.driver_prefix = LEGACY_DRIVER_PREFIX if self.legacy else 'NVIDIA'
        self.aliases = tuple(aliases)
        self.source = source
        self._time_sliced = dict((series, dict(counts)) for series, counts in time_sliced.items() if counts)
        self.compute_slices = compute_slices
        self.memory_slices = memory_slices
        self._mig = {}
        for slices, gb, suffix, count in mig:
            mem = int(round(float(gb) * memory_slices / framebuffer_gb))
            self._mig[(slices, gb, suffix)] = MigProfile(slices, gb, suffix, count, mem)
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
    def series(self):
        """Series with time-sliced types, in Q, C, B, A order."""
        return tuple(series for series in SERIES if series in self._time_sliced)

    # -- offered types ------------------------------------------------------------------------
    def make_type(self, gb, series, slices=None, suffix='', count=0):
        """A VgpuType of this GPU (no check that it is offered; see max_instances)."""
        return VgpuType(self.name, gb, series, slices=slices, suffix=suffix, driver_prefix=self.driver_prefix, max_instances=count)

    def vgpu_types(self):
        """Every vGPU type this GPU offers: time-sliced Q, B, A, C by size, then MIG-backed."""
        offered = []
        for series in ('Q', 'B', 'A', 'C'):
            for gb, count in sorted(self._time_sliced.get(series, {}).items()):
                offered.append(self.make_type(gb, series, count=count))
        for key in sorted(self._mig, key=lambda k: (k[0], k[1], k[2])):
            profile = self._mig[key]
            offered.append(self.make_type(profile.gb, 'C', slices=profile.slices, suffix=profile.suffix, count=profile.max_instances))
        return offered

    def mig_profile(self, vgpu_type):
        """The MigProfile of a MIG-backed type of this GPU, or None."""
        vtype = parse(vgpu_type, strict=False)
        if not vtype.mig or vtype.gpu.upper() != self.name.upper() or vtype.series != 'C':
            return None
        return self._mig.get((vtype.slices, vtype.gb, vtype.suffix))

    def max_instances(self, vgpu_type):
        """Maximum vGPUs of that type on one physical GPU in equal-size mode; 0 if not offered."""
        vtype = parse(vgpu_type, strict=False)
        if vtype.gpu.upper() != self.name.upper():
            return 0
        if vtype.mig:
            profile = self.mig_profile(vtype)
            return profile.max_instances if profile else 0
        return self._time_sliced.get(vtype.series, {}).get(vtype.gb, 0)

    def as_dict(self):
        return {
            'name': self.name,
            'description': self.description,
            'architecture': self.architecture,
            'vendor_id': '%04x' % self.vendor_id,
            'vendor_id_decimal': self.vendor_id,
            'device_ids': list(self.device_ids_hex),
            'device_ids_decimal': list(self.device_ids),
            'device_filters': list(self.device_filters),
            'framebuffer_mib': self.framebuffer_mib,
            'sriov': self.sriov,
            'max_vfs': self.max_vfs,
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
_C_A100_40 = {4: 10, 5: 8, 8: 5, 10: 4, 20: 2, 40: 1}
_C_A100_80 = {4: 20, 8: 10, 10: 8, 16: 5, 20: 4, 40: 2, 80: 1}
_C_H100_80 = {4: 20, 5: 16, 8: 10, 10: 8, 16: 5, 20: 4, 40: 2, 80: 1}
_C_H100_94 = {4: 23, 6: 15, 11: 8, 15: 6, 23: 4, 47: 2, 94: 1}
_C_H200 = {4: 32, 7: 20, 8: 16, 14: 10, 17: 8, 28: 5, 35: 4, 70: 2, 141: 1}

# MIG-backed types (all C-series): (compute slices, GB, suffix, max per GPU).
_MIG_A30 = ((1, 6, '', 4), (2, 12, '', 2), (4, 24, '', 1), (1, 6, 'ME', 1), (2, 12, 'ME', 1))
_MIG_A100_40 = ((1, 5, '', 7), (1, 10, '', 4), (2, 10, '', 3), (3, 20, '', 2), (4, 20, '', 1), (7, 40, '', 1), (1, 5, 'ME', 1))
_MIG_80 = ((1, 10, '', 7), (1, 20, '', 4), (2, 20, '', 3), (3, 40, '', 2), (4, 40, '', 1), (7, 80, '', 1), (1, 10, 'ME', 1))
_MIG_94 = ((1, 12, '', 7), (1, 24, '', 4), (2, 24, '', 3), (3, 47, '', 2), (4, 47, '', 1), (7, 94, '', 1), (1, 12, 'ME', 1))
_MIG_141 = ((1, 18, '', 7), (1, 35, '', 4), (2, 35, '', 3), (3, 71, '', 2), (4, 71, '', 1), (7, 141, '', 1), (1, 18, 'ME', 1))


def _graphics(q_counts, c_counts, b_sizes=(1, 2)):
    """Q, A (same counts as Q), B (the listed sizes, counts as Q) and C tables of a graphics GPU."""
    return {'Q': q_counts, 'A': dict(q_counts), 'B': dict((gb, q_counts[gb]) for gb in b_sizes), 'C': c_counts}


_TABLE = (
    # Ampere, Ada: SR-IOV, vGPUs live on virtual functions.
    GpuModel('A2', 'NVIDIA A2 16GB PCIe', (0x25B6,), 16, 'Ampere', _graphics(_Q16, _C16), max_vfs=16,
             source='[S4 config-example] counts; [S5 A2 dump] sriov_totalvfs=16, A2-1B/4Q/4A/4C max_instance; device 25b6 shared with A16'),
    GpuModel('A16', 'NVIDIA A16 (4 x 16GB GPUs per board)', (0x25B6,), 16, 'Ampere', _graphics(_Q16, _C16), gpus_per_board=4,
             source='[S4 config-example] A16 counts per GPU; reference section 4 (4 GPUs per board, device 25b6 shared with A2)'),
    GpuModel('A10', 'NVIDIA A10 24GB PCIe', (0x2236,), 24, 'Ampere', _graphics(_Q24, _C24),
             source='[S4 config-example] counts and device-filter 0x223610DE; decimal 8758'),
    GpuModel('L4', 'NVIDIA L4 24GB PCIe', (0x27B8,), 24, 'Ada', _graphics(_Q24, _C24),
             source='[S4 config-example] counts and device-filter 0x27B810DE; decimal 10168'),
    GpuModel('A40', 'NVIDIA A40 48GB PCIe', (0x2235,), 48, 'Ampere', _graphics(_Q48, _C48), max_vfs=32,
             source='[S4 config-example] counts (1Q = 32: per-GPU cap); [S1] A40 example with 32 VFs; decimal 8757'),
    GpuModel('L40', 'NVIDIA L40 48GB PCIe', (0x26B5,), 48, 'Ada', _graphics(_Q48, _C48),
             source='[S4 config-example] counts and device-filter 0x26B510DE; decimal 9909'),
    GpuModel('L40S', 'NVIDIA L40S 48GB PCIe', (0x26B9,), 48, 'Ada', _graphics(_Q48, _C48, b_sizes=(1, 2, 3)),
             source='[S4 config-example] Q/C counts; [S5 L40S creatable_vgpu_types] 1B..48Q, 1A..48A, 3B; decimal 9913'),
    GpuModel('RTX6000-Ada', 'NVIDIA RTX 6000 Ada Generation 48GB', (0x26B1,), 48, 'Ada', {'Q': _Q48, 'C': _C48},
             aliases=('RTX 6000 Ada',),
             source='[S4 config-example] RTX6000-Ada Q/C counts (A/B types not listed there, so not offered here); pci.ids 26b1'),
    # Ampere and Hopper compute GPUs: C-series only, MIG-backed types.
    GpuModel('A30', 'NVIDIA A30 24GB PCIe', (0x20B7,), 24, 'Ampere', {'C': _C24}, mig=_MIG_A30, compute_slices=4, memory_slices=4,
             source='[S4 config-example] A30 time-sliced and MIG counts; reference section 4; decimal 8375'),
    GpuModel('A100', 'NVIDIA A100 40GB PCIe', (0x20F1,), 40, 'Ampere', {'C': _C_A100_40}, mig=_MIG_A100_40, compute_slices=7, memory_slices=8,
             aliases=('A100 40GB', 'A100 PCIe 40GB'),
             source='[S4 config-example] A100 counts, device-filter 0x20F110DE; decimal 8433'),
    GpuModel('A100X', 'NVIDIA A100 40GB SXM4', (0x20B0,), 40, 'Ampere', {'C': _C_A100_40}, mig=_MIG_A100_40, compute_slices=7, memory_slices=8,
             aliases=('A100 SXM4 40GB',),
             source='[S4 config-example] A100X counts; reference section 4 (SXM4 20b0 = "A100X")'),
    GpuModel('A100D', 'NVIDIA A100 80GB PCIe', (0x20B5,), 80, 'Ampere', {'C': _C_A100_80}, mig=_MIG_80, compute_slices=7, memory_slices=8,
             aliases=('A100 80GB', 'A100 PCIe 80GB'),
             source='[S4 config-example] A100D counts incl. A100D-1-10CME, device-filter 0x20B510DE; decimal 8373'),
    GpuModel('A100DX', 'NVIDIA A100 80GB SXM4', (0x20B2,), 80, 'Ampere', {'C': _C_A100_80}, mig=_MIG_80, compute_slices=7, memory_slices=8,
             aliases=('A100 SXM4 80GB',),
             source='[S4 config-example] A100DX counts; reference section 4 (SXM4 20b2 = "A100DX")'),
    GpuModel('H100', 'NVIDIA H100 80GB PCIe', (0x2331,), 80, 'Hopper', {'C': _C_H100_80}, mig=_MIG_80, compute_slices=7, memory_slices=8,
             aliases=('H100 PCIe',),
             source='[S4 config-example] H100 counts (16C = 5), device-filter 0x233110DE; decimal 9009'),
    GpuModel('H100XM', 'NVIDIA H100 80GB SXM5', (0x2330,), 80, 'Hopper', {'C': _C_H100_80}, mig=_MIG_80, compute_slices=7, memory_slices=8,
             aliases=('H100 SXM5', 'H100 SXM'),
             source='[S4 config-example] H100XM counts, device-filter 0x233010DE; decimal 9008'),
    GpuModel('H100L', 'NVIDIA H100 NVL 94GB PCIe', (0x2321,), 94, 'Hopper', {'C': _C_H100_94}, mig=_MIG_94, compute_slices=7, memory_slices=8,
             aliases=('H100 NVL', 'H100NVL'),
             source='[S4 config-example] H100L counts; reference section 4 (H100L/NVL 94 GB, 2321)'),
    GpuModel('H200', 'NVIDIA H200 NVL 141GB PCIe', (0x233B,), 141, 'Hopper', {'C': _C_H200}, mig=_MIG_141, compute_slices=7, memory_slices=8,
             aliases=('H200 NVL', 'H200NVL'),
             source='[S14] NVIDIA vGPU types, Hopper page: H200 NVL tables (8C = 16, 4C = 32 cap); pci.ids 233b'),
    GpuModel('H200X', 'NVIDIA H200 141GB SXM5', (0x2335,), 141, 'Hopper', {'C': _C_H200}, mig=_MIG_141, compute_slices=7, memory_slices=8,
             aliases=('H200 SXM', 'H200 SXM5'),
             source='[S14] NVIDIA vGPU types, Hopper page: H200 SXM5 tables; [S4b] H200X-1-18C/H200X-141C names; pci.ids 2335'),
    # Legacy (pre-Ampere): no SR-IOV, vGPUs are mdevs on the physical function; the driver names them "GRID ...".
    GpuModel('T4', 'NVIDIA T4 16GB PCIe', (0x1EB8,), 16, 'Turing', _graphics(_Q16, _C16), aliases=('Tesla T4',),
             source='[S4 config-example] T4 counts, device-filter 0x1EB810DE; seed 000 grid_t4-1a; decimal 7864'),
    GpuModel('V100', 'NVIDIA V100 16GB PCIe', (0x1DB4,), 16, 'Volta', _graphics(_Q16, _C16), aliases=('Tesla V100',),
             source='[S4 config-example] V100 counts; reference section 4 (1db4, decimal 7604)'),
    GpuModel('V100X', 'NVIDIA V100 16GB SXM2', (0x1DB1,), 16, 'Volta', _graphics(_Q16, _C16),
             source='[S4 config-example] V100X counts; pci.ids 1db1 "Tesla V100 SXM2 16GB" (token-to-id mapping unverified)'),
    GpuModel('V100D', 'NVIDIA V100 32GB PCIe', (0x1DB6,), 32, 'Volta', _graphics(_Q32, _C32), aliases=('V100 32GB',),
             source='[S4 config-example] V100D counts; seed 000 grid_v100d-4c; reference section 4 (1db6 "V100D", decimal 7606)'),
    GpuModel('V100DX', 'NVIDIA V100 32GB SXM2', (0x1DB5,), 32, 'Volta', _graphics(_Q32, _C32),
             source='[S4 config-example] V100DX counts; pci.ids 1db5 "Tesla V100 SXM2 32GB" (token-to-id mapping unverified)'),
    GpuModel('V100S', 'NVIDIA V100S 32GB PCIe', (0x1DF6,), 32, 'Volta', _graphics(_Q32, _C32),
             source='[S4 config-example] V100S counts; reference section 4 (1df6)'),
    GpuModel('M60', 'NVIDIA Tesla M60 (2 x 8GB GPUs per board)', (0x13F2,), 8, 'Maxwell',
             {'Q': _Q8, 'A': {1: 8, 2: 4, 4: 2, 8: 1}, 'B': {0: 16, 1: 8, 2: 4}}, gpus_per_board=2, aliases=('Tesla M60',),
             source='reference section 4 (M60-0Q = 512 MiB) and 1; M60 mdev description files (max_instance 16 for 0B/0Q, 8 for 1A/1B); pci.ids 13f2'),
)


def _key(text):
    """Lookup key of a GPU name: upper case, without NVIDIA/Tesla/GRID and separators."""
    words = re.split(r'[\s_]+', text.strip().upper())
    while len(words) > 1 and words[0] in ('NVIDIA', 'TESLA', 'GRID'):
        words = words[1:]
    return re.sub(r'[\s_-]+', '', ''.join(words))


_BY_NAME = {}
_BY_KEY = {}
_BY_DEVICE = {}
for _model in _TABLE:
    _BY_NAME[_model.name.upper()] = _model
    for _alias in (_model.name,) + _model.aliases:
        _BY_KEY[_key(_alias)] = _model
    for _device in _model.device_ids:
        _BY_DEVICE.setdefault(_device, []).append(_model)
del _model, _alias, _device

_ALL_NAMES = tuple(t.canonical for m in _TABLE for t in m.vgpu_types())


def all_gpu_models():
    """Every GpuModel of the catalog, in table order."""
    return list(_TABLE)


def all_vgpu_type_names():
    """Every canonical vGPU type name the catalog knows."""
    return list(_ALL_NAMES)


def _close(word, pool, limit=4):
    upper = dict((p.upper(), p) for p in pool)
    return [upper[m] for m in difflib.get_close_matches(word.upper(), list(upper), n=limit, cutoff=0.6)]


def _did_you_mean(candidates):
    return '; did you mean %s?' % ', '.join(candidates) if candidates else ''


_PCI_PATTERNS = (
    (re.compile(r'^(?:0x)?([0-9a-f]{4})$', re.I), None),                  # 2236, 0x2236
    (re.compile(r'^([0-9a-f]{4}):([0-9a-f]{4})$', re.I), 'vendor:device'),   # 10de:2236
    (re.compile(r'^0x([0-9a-f]{4})([0-9a-f]{4})$', re.I), 'device+vendor'),  # 0x223610DE (device-filter)
)


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
        if int(vendor, 16) != NVIDIA_VENDOR_ID:
            raise VgpuError('PCI id %r is not an NVIDIA device (vendor %s, NVIDIA is 10de)' % (text, vendor.lower()))
        return [int(device, 16)]
    if text.isdigit():
        return [int(text)]
    return []


def gpu_models(token_or_pci_id):
    """Every catalog GPU matching a name or PCI device id (A2 and A16 share 25b6). [] when none."""
    if isinstance(token_or_pci_id, GpuModel):
        return [token_or_pci_id]
    if isinstance(token_or_pci_id, VgpuType):
        token_or_pci_id = token_or_pci_id.gpu
    if isinstance(token_or_pci_id, bool):
        return []
    if isinstance(token_or_pci_id, int):
        return list(_BY_DEVICE.get(token_or_pci_id, []))
    if not isinstance(token_or_pci_id, str) or not token_or_pci_id.strip():
        return []
    text = token_or_pci_id.strip()
    model = _BY_KEY.get(_key(text))
    if model is not None:
        return [model]
    for device in _pci_candidates(text):
        if device in _BY_DEVICE:
            return list(_BY_DEVICE[device])
    return []


def gpu_model(token_or_pci_id):
    """The GpuModel for a name token (any case, 'NVIDIA A10', 'A100DX', 'H100 NVL') or PCI device id
    ('2236', '0x2236', '10de:2236', '0x223610DE', 8758).

    Raises VgpuError naming the input when it is unknown or ambiguous.
    """
    found = gpu_models(token_or_pci_id)
    if len(found) == 1:
        return found[0]
    if found:
        raise VgpuError('GPU %r is ambiguous: PCI device %s is %s; name the GPU instead'
                        % (token_or_pci_id, found[0].device_ids_hex[0], ' or '.join(m.name for m in found)))
    if isinstance(token_or_pci_id, str) and token_or_pci_id.strip():
        names = [m.name for m in _TABLE] + [a for m in _TABLE for a in m.aliases]
        raise VgpuError('unknown GPU %r: not a catalog GPU name or NVIDIA PCI device id%s'
                        % (token_or_pci_id, _did_you_mean(_close(token_or_pci_id.strip(), names))))
    raise VgpuError('unknown GPU %r: expected a GPU name such as "A10" or a PCI device id such as "2236"' % (token_or_pci_id,))


def parse(spelling, strict=True):
    """Parse any spelling of a vGPU type into a VgpuType.

    strict (default): the GPU must be in the catalog and offer the type. strict=False accepts any
    name that follows the grammar (for GPUs newer than this catalog); its max_instances is then the
    catalog's value or None when unknown.
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
    model = _BY_NAME.get(parsed.gpu)
    if model is None:
        if not strict:
            return VgpuType(parsed.gpu, parsed.gb, parsed.series, parsed.slices, parsed.suffix)
        tokens = [m.name for m in _TABLE]
        close_tokens = _close(parsed.gpu, tokens)
        close_names = [short_name(t, parsed.gb, parsed.series, parsed.slices, parsed.suffix) for t in close_tokens]
        close_names = [n for n in close_names if n in _ALL_NAMES] or close_tokens
        raise VgpuError('unknown vGPU type %r: GPU %r is not in the catalog%s' % (spelling, parsed.gpu, _did_you_mean(close_names)))
    vtype = model.make_type(parsed.gb, parsed.series, parsed.slices, parsed.suffix)
    count = model.max_instances(vtype)
    if count:
        return model.make_type(parsed.gb, parsed.series, parsed.slices, parsed.suffix, count=count)
    if not strict:
        vtype.max_instances = None
        return vtype
    offered = [t.canonical for t in model.vgpu_types()]
    if parsed.series not in model.series and not (parsed.mig and model.mig_capable):
        why = '%s offers no %s-series types (series offered: %s)' % (model.name, parsed.series, ', '.join(model.series))
    elif parsed.mig and not model.mig_capable:
        why = '%s has no MIG-backed types' % model.name
    else:
        why = '%s does not offer %s' % (model.name, vtype.canonical)
    raise VgpuError('unknown vGPU type %r: %s%s' % (spelling, why, _did_you_mean(_close(vtype.canonical, offered))))


def max_instances(vgpu_type_or_spelling, gpu=None):
    """Max vGPUs of that type per physical GPU (equal-size mode); 0 if ``gpu`` does not offer it."""
    if gpu is None:
        return parse(vgpu_type_or_spelling).max_instances
    return gpu_model(gpu).max_instances(parse(vgpu_type_or_spelling, strict=False))
