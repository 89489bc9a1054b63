"""GPU models the sysfs emulator can put on its fake PCI bus, and their NVIDIA vGPU types.

The emulator keeps its own data on purpose: it is a test double of the host, so it must not share tables with
the collection code it checks. Sources (see the project's reference facts sheet):

- PCI ids, the A2 PF/VF attribute values and the vGPU type name / description format: [S1 §2.10.8], [S5 testdata]
  (reference §1, §2, §4).
- Type ids (``nvidia-N`` directories and vendor-VFIO ids): the community/NVIDIA tables quoted in reference §1 (A10,
  A40, A2) and §3 (L40S). They are driver-release dependent; the collection must never hard-code them. T4 ids follow
  the NVIDIA vGPU 11-16 tables (``nvidia-222`` ... ``nvidia-234``, ``nvidia-319`` ... ``nvidia-321``) and L40S C-series
  ids are not in the reference: both are marked ``[UNVERIFIED]`` in the README.
- Capacity: ``max_instance`` = min(framebuffer / profile size, 32) (reference §4 table; 1Q on 48 GB GPUs = 32).
- ``sriov_totalvfs`` = the GPU's largest vGPU count (reference §2: A2 16, A40 32; ``[UNVERIFIED as a rule]``).
"""

import collections
import re

VgpuTypeSpec = collections.namedtuple('VgpuTypeSpec', 'type_id short_name framebuffer_mib series max_instance num_heads frl_config max_resolution')


class GpuSpec(object):
    """One GPU model: PCI identity, memory, SR-IOV and the vGPU flavour its driver offers.

    ``flavour`` is one of ``mdev-pf`` (pre-Ampere: mdev types on the physical function, reference §1/§2),
    ``mdev-vf`` (SR-IOV, mdev types on each VF, one vGPU per VF, reference §2) and ``vendor-vfio`` (SR-IOV with
    NVIDIA's vendor-specific VFIO framework, ``VF/nvidia/*`` files and no mdev, reference §3).
    """

    def __init__(self, token, model, device_id, subsystem_device, audio_device_id, framebuffer_gb, flavour, total_vfs,
                 name_prefix, type_ids, link_speed='16.0 GT/s PCIe'):
        self.token = token
        self.model = model
        self.device_id = device_id
        self.subsystem_device = subsystem_device
        self.audio_device_id = audio_device_id
        self.framebuffer_mib = framebuffer_gb * 1024
        self.flavour = flavour
        self.total_vfs = total_vfs
        self.name_prefix = name_prefix
        self.types = [_type_spec(model, framebuffer_gb, type_id, profile) for profile, type_id in type_ids]
        self.types_by_id = dict((t.type_id, t) for t in self.types)
        self.link_speed = link_speed

    @property
    def sriov(self):
        return self.total_vfs > 0

    def type_name(self, vgpu_type):
        """The ``name`` file: ``GRID T4-1Q`` on older drivers, ``NVIDIA A10-4Q`` on current ones (reference §1)."""
        return '%s %s' % (self.name_prefix, vgpu_type.short_name)

    def description(self, vgpu_type):
        """The ``description`` file, NVIDIA's one-line format (reference §1, real A2 values)."""
        return 'num_heads=%d, frl_config=%d, framebuffer=%dM, max_resolution=%s, max_instance=%d' % (
            vgpu_type.num_heads, vgpu_type.frl_config, vgpu_type.framebuffer_mib, vgpu_type.max_resolution, vgpu_type.max_instance)


def _type_spec(model, framebuffer_gb, type_id, profile):
    """Build a type from its profile (``4Q``): heads, frame-rate limiter and resolution follow the A2 pattern of
    reference §1 (B: 45 fps; Q: 4 heads, 5120x2880 at 1 GB, 7680x4320 above; A and C: 1 head)."""
    size_gb, series = int(profile[:-1]), profile[-1]
    max_instance = min(framebuffer_gb // size_gb, 32)
    if series == 'Q':
        heads, resolution = 4, ('5120x2880' if size_gb == 1 else '7680x4320')
    elif series == 'B':
        heads, resolution = 4, '5120x2880'
    elif series == 'A':
        heads, resolution = 1, '1280x1024'
    else:
        heads, resolution = 1, '4096x2400'
    frl = 45 if series == 'B' else 60
    return VgpuTypeSpec(type_id, '%s-%s' % (model, profile), size_gb * 1024, series, max_instance, heads, frl, resolution)


def _ids(first, profiles):
    return [(p, first + i) for i, p in enumerate(profiles)]


_T4 = (_ids(222, ['1B', '2B']) + _ids(225, ['1A', '2A', '4A', '8A', '16A']) + _ids(230, ['1Q', '2Q', '4Q', '8Q', '16Q'])
       + _ids(319, ['4C', '8C', '16C']))
_A10 = (_ids(588, ['1B', '2B', '1Q', '2Q', '3Q', '4Q', '6Q', '8Q', '12Q', '24Q', '1A', '2A', '3A', '4A', '6A', '8A', '12A', '24A'])
        + _ids(610, ['4C', '6C', '8C', '12C', '24C']))
_A40 = (_ids(555, ['1B', '2B', '1Q', '2Q', '3Q', '4Q', '6Q', '8Q', '12Q', '16Q', '24Q', '48Q'])
        + _ids(567, ['1A', '2A', '3A', '4A', '6A', '8A', '12A', '16A', '24A', '48A']) + _ids(581, ['4C', '6C', '8C', '12C', '16C', '24C', '48C']))
_A2 = _ids(742, ['1B', '2B', '1Q', '2Q', '4Q', '8Q', '16Q', '1A', '2A', '4A', '8A', '16A', '4C', '8C', '16C'])
_L40S = (_ids(1145, ['1B', '2B', '1Q', '2Q', '3Q', '4Q', '6Q', '8Q', '12Q', '16Q', '24Q', '48Q'])
         + _ids(1157, ['1A', '2A', '3A', '4A', '6A', '8A', '12A', '16A', '24A', '48A']) + [('3B', 2164)]
         + _ids(1167, ['4C', '6C', '8C', '12C', '16C', '24C', '48C']))

GPUS = dict((g.token, g) for g in [
    GpuSpec('t4', 'T4', 0x1eb8, 0x12a2, 0x10f8, 16, 'mdev-pf', 0, 'GRID', _T4),
    GpuSpec('a10', 'A10', 0x2236, 0x1482, 0x1aef, 24, 'mdev-vf', 24, 'NVIDIA', _A10),
    GpuSpec('a40', 'A40', 0x2235, 0x145a, 0x1aef, 48, 'mdev-vf', 32, 'NVIDIA', _A40),
    GpuSpec('a2', 'A2', 0x25b6, 0x157e, 0x2291, 16, 'mdev-vf', 16, 'NVIDIA', _A2),
    GpuSpec('l40s', 'L40S', 0x26b9, 0x1851, 0x22ba, 48, 'vendor-vfio', 32, 'NVIDIA', _L40S),
    # the real H200 SXM of reference/real-gpu-h200.md: 0x2335 / subsystem 0x18bf, no audio function, PCIe Gen5; its
    # vGPU types are not in the emulator's sources, so it offers none (flavour 'none', no SR-IOV capability shown)
    GpuSpec('h200', 'H200', 0x2335, 0x18bf, None, 141, 'none', 0, 'NVIDIA', [], link_speed='32.0 GT/s PCIe'),
])

ADDRESS_RE = re.compile(r'^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$')


def parse_placements(text):
    """``a10:2,t4:1,h200@0000:00:06.0`` -> [(GpuSpec, pinned address or None)] in that order.

    ``MODEL@ADDRESS`` pins one GPU at a PCI address (``DDDD:BB:SS.F`` or ``BB:SS.F``); on bus 00 it sits on the root
    complex with no port above it, as a GPU passed through to a VM does (reference/real-gpu-h200.md)."""
    out = []
    for item in [p.strip() for p in text.split(',') if p.strip()]:
        item, _at, address = item.partition('@')
        token, _sep, count = item.partition(':')
        token = token.lower()
        if token not in GPUS:
            raise ValueError('unknown GPU %r in --gpus; known: %s' % (token, ', '.join(sorted(GPUS))))
        try:
            n = int(count or '1')
        except ValueError:
            raise ValueError('bad count in --gpus item %r (want MODEL:COUNT or MODEL@ADDRESS)' % item)
        if n < 1:
            raise ValueError('count must be >= 1 in --gpus item %r' % item)
        pinned = None
        if address:
            match = ADDRESS_RE.match(address.strip().lower())
            if not match or n != 1:
                raise ValueError('--gpus item %r: MODEL@ADDRESS pins one GPU at DDDD:BB:SS.F (e.g. h200@0000:00:06.0)'
                                 % (item + '@' + address))
            pinned = '%s:%s:%s.%s' % (match.group(1) or '0000', match.group(2), match.group(3), match.group(4))
            if pinned in [a for _s, a in out]:
                raise ValueError('--gpus pins two GPUs at %s' % pinned)
        out.extend([(GPUS[token], pinned)] * n)
    if not out:
        raise ValueError('--gpus names no GPU')
    if len(out) > 64:
        raise ValueError('at most 64 GPUs')
    return out


def parse_gpus(text):
    """``a10:2,t4:1,l40s:1`` -> [GpuSpec, GpuSpec, GpuSpec, GpuSpec] in that order (bus numbers follow it)."""
    return [spec for spec, _address in parse_placements(text)]
