# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Placement rules: does a set of vGPUs fit on one physical GPU, and what still fits.

Pure, no I/O, Python 3.8+. Rules (reference facts section 4, [S1] sections 2.11-2.12, [S4]):

1. Every type must be offered by the GPU (its name carries the GPU token: A10-4Q is not an L40S type).
2. Time-sliced and MIG-backed vGPUs never share a physical GPU (vgpu-device-manager: "cannot mix
   time-sliced and MIG-backed vGPU devices on the same GPU").
3. At most GpuModel.max_vgpus vGPUs per physical GPU: 32 up to Hopper, 48 on Blackwell ([S4] DC-1-2Q = 48).
4. Each type at most its maximum instances per GPU.
5. Time-sliced, equal-size mode (the default): every vGPU has the same framebuffer size. Since vGPU 17,
   A/B/Q/C types of the same size may mix (the real A2 host runs A2-4C, A2-4Q and A2-4A together); all
   vGPUs of that size together stay within the smallest maximum among the mixed types.
6. Time-sliced, mixed-size mode (vGPU 17+, per architecture: Turing and later; Volta is disputed so refused
   here; NVIDIA's current Turing type page says the T4 lacks it, [CONFLICT] noted in gpus.py): sizes
   may differ. Conservative model, because NVIDIA's mixed-size placement tables are not in the
   catalog: the sum of framebuffers must not exceed the GPU's framebuffer, and each type is limited to
   the largest power of two not above its equal-size maximum (this matches every mixed-size count
   NVIDIA publishes for H100/H100 NVL, e.g. 4C 23 -> 16, 6C 15 -> 8, 16C 5 -> 4, and is at or below
   the H200's). The driver may therefore accept a little more than this module promises, never less.
7. MIG-backed: types may differ; the GPU instances they need must fit the compute slices (7; A30 4;
   RTX PRO 6000 Blackwell 4; RTX PRO 4500 Blackwell and RTX 6000D 2) and memory slices (8; A30 4; the
   RTX PRO boards as compute), and at most one +me profile fits (it holds all media engines). Before
   Blackwell one vGPU is one GPU instance. On Blackwell RTX PRO boards a GPU instance holds several
   time-sliced vGPUs of one type (DC-1-8Q: three 8 GB vGPUs in a 24 GB 1g instance); conservative model:
   one type per GPU instance, so a type needs ceil(count / per instance) instances. GFX and non-GFX
   instances are not otherwise restricted here (no source gives a rule).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu.gpus import gpu_model, parse
from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu.names import VgpuError, VgpuType


class FitResult:
    """``ok`` (bool) and ``reasons`` (list of str naming the offending types); truthy when ok."""

    __slots__ = ('ok', 'reasons', 'gpu', 'counts')

    def __init__(self, ok, reasons, gpu=None, counts=None):
        self.ok = ok
        self.reasons = list(reasons)
        self.gpu = gpu
        self.counts = dict(counts or {})

    def __bool__(self):
        return self.ok

    __nonzero__ = __bool__

    def as_dict(self):
        return {'ok': self.ok, 'reasons': list(self.reasons), 'gpu': self.gpu, 'counts': dict(self.counts)}

    def __repr__(self):
        return 'FitResult(ok=%r, reasons=%r)' % (self.ok, self.reasons)


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _merge(pairs):
    totals = {}
    order = []
    for vtype, count in pairs:
        if vtype not in totals:
            totals[vtype] = 0
            order.append(vtype)
        totals[vtype] += count
    return [(vtype, totals[vtype]) for vtype in order if totals[vtype]]


def count_types(vgpu_types):
    """Normalise a request into an ordered list of (VgpuType, count).

    Accepts None, one spelling or VgpuType, a list (a type may repeat; an item may also be a
    (type, count) pair) or a mapping {type: count} (counts are integers or strings of digits).
    Spellings are parsed leniently (strict=False) so that a type of another GPU is reported by
    check_fit as not offered; a malformed spelling raises VgpuError.
    """
    if vgpu_types is None:
        return []
    if isinstance(vgpu_types, (str, VgpuType)):
        vgpu_types = [vgpu_types]
    if hasattr(vgpu_types, 'items'):
        pairs = list(vgpu_types.items())
    else:
        try:
            pairs = [tuple(item) if isinstance(item, (list, tuple)) and len(item) == 2 else (item, 1) for item in vgpu_types]
        except TypeError:
            raise VgpuError('expected a list of vGPU types or a mapping of type to count, got %r' % (vgpu_types,))
    parsed = []
    for spelling, count in pairs:
        if isinstance(count, str) and count.strip().isdigit():
            count = int(count)  # Kubernetes quantities and YAML strings such as "6"
        if not _is_count(count):
            raise VgpuError('count for vGPU type %r must be a non-negative integer, got %r' % (spelling, count))
        parsed.append((parse(spelling, strict=False), count))
    return _merge(parsed)


def mixed_size_limit(model, vtype):
    """Conservative per-type maximum in mixed-size mode: largest power of two <= equal-size maximum."""
    equal = model.max_instances(vtype)
    limit = 1
    if equal == 0:
        return 0
    while limit * 2 <= equal:
        limit *= 2
    return limit


def _listing(pairs):
    return ', '.join('%s x%d' % (vtype.canonical, count) for vtype, count in pairs)


def _time_sliced_reasons(model, pairs, mixed_size, limit_of):
    reasons = []
    by_size = {}
    for vtype, count in pairs:
        by_size.setdefault(vtype.framebuffer_mib, []).append((vtype, count))
    if mixed_size:
        if not model.mixed_size_capable:
            reasons.append('mixed-size mode is not available on %s (%s): it needs vGPU 17 on a Turing or later GPU; '
                           'use one framebuffer size' % (model.name, model.architecture))
        used = sum(vtype.framebuffer_mib * count for vtype, count in pairs)
        if used > model.framebuffer_mib:
            reasons.append('mixed-size mode: %s need %d MiB of framebuffer, %s has %d MiB'
                           % (_listing(pairs), used, model.name, model.framebuffer_mib))
    elif len(by_size) > 1:
        sizes = '; '.join('%d MiB: %s' % (size, ', '.join(t.canonical for t, _n in by_size[size])) for size in sorted(by_size))
        reasons.append('equal-size mode: all time-sliced vGPUs on one %s must have the same framebuffer size, got %s; '
                       'use one size or enable mixed-size mode' % (model.name, sizes))
    for size in sorted(by_size):
        group = by_size[size]
        if len(group) < 2:
            continue
        allowed = min(limit_of(vtype) for vtype, _count in group)
        total = sum(count for _vtype, count in group)
        if total > allowed:
            reasons.append('%d vGPUs of %d MiB (%s) exceed the %d that fit on one %s'
                           % (total, size, _listing(group), allowed, model.name))
    return reasons


def _instances(count, profile):
    """GPU instances that ``count`` vGPUs of one MIG-backed type need."""
    return -(-count // profile.per_instance)


def _mig_reasons(model, pairs):
    reasons = []
    profiles = [(vtype, count, model.mig_profile(vtype)) for vtype, count in pairs]
    compute = sum(profile.slices * _instances(count, profile) for _vtype, count, profile in profiles)
    if compute > model.compute_slices:
        reasons.append('MIG-backed %s need %d compute slices, %s has %d'
                       % (_listing(pairs), compute, model.name, model.compute_slices))
    memory = sum(profile.memory_slices * _instances(count, profile) for _vtype, count, profile in profiles)
    if memory > model.memory_slices:
        reasons.append('MIG-backed %s need %d memory slices, %s has %d'
                       % (_listing(pairs), memory, model.name, model.memory_slices))
    media = [(vtype, _instances(count, profile)) for vtype, count, profile in profiles if profile.media_extensions]
    if sum(count for _vtype, count in media) > 1:
        reasons.append('only one media-extension (+me) MIG profile fits on one %s, got %s' % (model.name, _listing(media)))
    return reasons


def _reasons(model, pairs, mixed_size):
    """Every rule broken by ``pairs`` (merged (VgpuType, count) list) on ``model``."""
    reasons = []
    offered = []
    for vtype, count in pairs:
        if model.max_instances(vtype) == 0:
            reasons.append('%s is not offered by %s (%s); its types look like %s'
                           % (vtype.canonical, model.name, model.description, ', '.join(t.canonical for t in model.vgpu_types()[:3])))
        else:
            offered.append((vtype, count))
    time_sliced = [(vtype, count) for vtype, count in offered if not vtype.mig]
    mig = [(vtype, count) for vtype, count in offered if vtype.mig]
    if time_sliced and mig:
        reasons.append('time-sliced (%s) and MIG-backed (%s) vGPUs cannot share one %s'
                       % (_listing(time_sliced), _listing(mig), model.name))
    total = sum(count for _vtype, count in offered)
    if total > model.max_vgpus:
        reasons.append('%d vGPUs (%s) exceed the limit of %d per physical GPU' % (total, _listing(offered), model.max_vgpus))

    def limit_of(vtype):
        if mixed_size and not vtype.mig:
            return mixed_size_limit(model, vtype)
        return model.max_instances(vtype)

    for vtype, count in offered:
        limit = limit_of(vtype)
        if count > limit:
            mode = ' in mixed-size mode (conservative)' if mixed_size and not vtype.mig else ''
            reasons.append('%s x%d: at most %d fit on one %s%s' % (vtype.canonical, count, limit, model.name, mode))
    if time_sliced:
        reasons.extend(_time_sliced_reasons(model, time_sliced, mixed_size, limit_of))
    if mig:
        reasons.extend(_mig_reasons(model, mig))
    return reasons


def check_fit(gpu, vgpu_types, mixed_size=False):
    """Does this set of vGPUs fit on one physical GPU? Returns FitResult(ok, reasons).

    gpu: GpuModel, name token or PCI device id. vgpu_types: list of spellings/VgpuType (repeats count)
    or a mapping {type: count}. mixed_size: the GPU is in mixed-size mode (see module docstring).
    """
    model = gpu_model(gpu)
    pairs = count_types(vgpu_types)
    reasons = _reasons(model, pairs, bool(mixed_size))
    return FitResult(not reasons, reasons, gpu=model.name, counts=dict((vtype.canonical, count) for vtype, count in pairs))


def remaining(gpu, existing_vgpu_types, mixed_size=False):
    """What still fits next to the existing vGPUs: {canonical type: how many more} (only > 0).

    Each type is considered on its own (adding 3 x A10-4Q is possible, or 2 x A10-4C, not both).
    Returns {} when the existing set itself does not fit.
    """
    model = gpu_model(gpu)
    mixed_size = bool(mixed_size)
    base = count_types(existing_vgpu_types)
    if _reasons(model, base, mixed_size):
        return {}
    result = {}
    for vtype in model.vgpu_types():
        low, high = 0, vtype.max_instances
        while low < high:
            middle = (low + high + 1) // 2
            if not _reasons(model, _merge(base + [(vtype, middle)]), mixed_size):
                low = middle
            else:
                high = middle - 1
        if low:
            result[vtype.canonical] = low
    return result
