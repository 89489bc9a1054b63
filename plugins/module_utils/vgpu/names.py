# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vGPU type-name grammar and the spellings each ecosystem uses.

Pure functions, no I/O, Python 3.8+.

Grammar (NVIDIA vgpu-device-manager pkg/types/vgpu_type.go, reference facts section 4):

* time-sliced: ``<GPU>-<GB><S>``; GB is ``0`` (512 MiB, e.g. ``M60-0Q``) or a number without a
  leading zero; S is the series ``Q``, ``C``, ``B`` or ``A``.
* MIG-backed: ``<GPU>-<G>-<GB><S>[ME|NOME|MEALL|GFX]``; G is the number of compute slices (1-9).

The GPU token is letters and digits, optionally followed by dash-separated parts that start with a
letter (``RTX6000-Ada``), so ``A100-3-20C`` is unambiguously MIG-backed.

Spellings accepted for the same type (case-insensitive):

* short: ``A10-4Q`` (vgpu-device-manager configuration keys);
* driver: ``NVIDIA A10-4Q`` / ``GRID T4-1Q`` (mdev ``name`` file, vendor-VFIO ``creatable_vgpu_types``);
  tools take the last whitespace-separated word (go-nvlib parseMdevTypeName). Blackwell RTX PRO boards put
  the product before the short name (``NVIDIA RTX PRO 6000 Blackwell DC-48C``, PRODUCT_PREFIXES): the last
  word alone (``DC-48C``) does not say which board, the product words do;
* KubeVirt / mdevctl selector: ``NVIDIA_A10-4Q`` (spaces replaced by ``_``);
* Kubernetes resource: ``nvidia.com/NVIDIA_A10-4Q``;
* vSphere profile: ``grid_a10-4q`` (newer releases reportedly ``nvidia_l40s-8q``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

SERIES = ('Q', 'C', 'B', 'A')
SERIES_NAMES = {
    'Q': 'virtual workstation (RTX vWS)',
    'C': 'compute (vCS / NVIDIA AI Enterprise)',
    'B': 'business virtual desktop (vPC)',
    'A': 'virtual applications (vApps)',
}
MIG_SUFFIXES = ('ME', 'NOME', 'MEALL', 'GFX')
# Words that may precede the short name: driver "name" files and KubeVirt/Kubernetes
# spellings use NVIDIA or GRID, very old XenServer-era tools used "Tesla"; vSphere
# profiles use grid_ or nvidia_.
NAME_PREFIXES = ('NVIDIA', 'GRID', 'TESLA')
# Driver type names whose GPU part is several words: the words before the short name, as the driver writes
# them (issue 15: "NVIDIA RTX PRO 6000 Blackwell DC-48C"). Both boards use the token DC in the short name.
PRODUCT_PREFIXES = ('NVIDIA RTX PRO 6000 Blackwell', 'NVIDIA RTX PRO 4500 Blackwell')
_PRODUCT_PREFIX_KEYS = dict((tuple(p.upper().split()), p) for p in PRODUCT_PREFIXES)
KUBERNETES_DOMAIN = 'nvidia.com'

_GPU = r'(?P<gpu>[A-Z0-9]+(?:-[A-Z][A-Z0-9]*)*)'
_GB = r'(?P<gb>0|[1-9][0-9]*)'
TIME_SLICED_RE = re.compile(r'^' + _GPU + r'-' + _GB + r'(?P<series>[QCBA])$')
MIG_BACKED_RE = re.compile(r'^' + _GPU + r'-(?P<slices>[1-9])-' + _GB + r'(?P<series>[QCBA])(?P<suffix>MEALL|NOME|ME|GFX)?$')
# Loose shape used only to explain why a name was rejected.
_LOOSE_RE = re.compile(r'^' + _GPU + r'-(?:(?P<slices>[0-9]+)-)?(?P<gb>[0-9]+)(?P<rest>[A-Z]*)$')
_TYPE_ID_RE = re.compile(r'^NVIDIA-[0-9]+$')


class VgpuError(ValueError):
    """A vGPU type, GPU model or placement request that cannot be understood or satisfied."""


class ParsedName:
    """The fields of a vGPU type name, before it is checked against the GPU catalog."""

    __slots__ = ('gpu', 'gb', 'series', 'slices', 'suffix', 'spelling', 'prefix')

    def __init__(self, gpu, gb, series, slices=None, suffix='', spelling=None, prefix=''):
        self.gpu = gpu
        self.prefix = prefix  # one of PRODUCT_PREFIXES when the spelling carried it, else ''
        self.gb = gb
        self.series = series
        self.slices = slices
        self.suffix = suffix or ''
        self.spelling = spelling

    @property
    def mig(self):
        return self.slices is not None

    def short(self, gpu_token=None):
        return short_name(gpu_token or self.gpu, self.gb, self.series, self.slices, self.suffix)

    def __repr__(self):
        return 'ParsedName(%r)' % self.short()


def short_name(gpu, gb, series, slices=None, suffix=''):
    """Build the short (canonical) name: ``A10-4Q`` or ``A100-3-20C``."""
    if slices is None:
        return '%s-%d%s' % (gpu, gb, series)
    return '%s-%d-%d%s%s' % (gpu, slices, gb, series, suffix or '')


def framebuffer_mib(gb):
    """Framebuffer of a vGPU type from the GB number in its name (0 means 512 MiB)."""
    return 512 if gb == 0 else gb * 1024


def ecosystem_names(short, driver_prefix='NVIDIA'):
    """Every spelling of one type: short, driver, kubernetes, kubevirt, vsphere.

    ``driver_prefix`` is what the driver writes before the short name: ``NVIDIA``, ``GRID`` or a product
    (``NVIDIA RTX PRO 6000 Blackwell``); KubeVirt and Kubernetes replace its spaces by ``_``.
    """
    driver = '%s %s' % (driver_prefix, short)
    selector = driver.replace(' ', '_')
    return {
        'short': short,
        'driver': driver,
        'kubernetes': '%s/%s' % (KUBERNETES_DOMAIN, selector),
        'kubevirt': selector,
        'vsphere': 'grid_%s' % short.lower(),
    }


def _explain(name):
    """A human-readable reason why ``name`` (upper-cased short name) does not match the grammar."""
    loose = _LOOSE_RE.match(name)
    if loose:
        rest = loose.group('rest')
        slices = loose.group('slices')
        if slices is not None and not re.match(r'^[1-9]$', slices):
            return 'compute slices must be a single digit 1-9, got %s' % slices
        if len(loose.group('gb')) > 1 and loose.group('gb').startswith('0'):
            return 'framebuffer size %s has a leading zero' % loose.group('gb')
        if not rest:
            return 'the series letter is missing (one of %s)' % ', '.join(SERIES)
        if rest[0] not in SERIES:
            return 'unknown series %r (one of %s)' % (rest[0], ', '.join(SERIES))
        if slices is None:
            return 'unexpected %r after the series: only MIG-backed types carry a suffix' % rest[1:]
        return 'unknown MIG suffix %r (one of %s)' % (rest[1:], ', '.join(MIG_SUFFIXES))
    if name.startswith('-'):
        return 'the GPU name is missing'
    if name.endswith('-'):
        return 'the name ends with "-"; expected <GPU>-<GB><series>'
    if '-' not in name:
        return 'expected <GPU>-<GB><series> or <GPU>-<slices>-<GB><series>'
    return 'expected <GPU>-<GB><series> (e.g. A10-4Q) or <GPU>-<slices>-<GB><series>[ME|NOME|MEALL|GFX] (e.g. A100-3-20C)'


def split_spelling(spelling):
    """Strip ecosystem decorations; return the upper-cased short name.

    Raises VgpuError, naming the input, when the decorations are not ones in use.
    """
    return split_prefix(spelling)[1]


def split_prefix(spelling):
    """(product prefix or '', upper-cased short name): split_spelling that keeps a PRODUCT_PREFIXES match."""
    if not isinstance(spelling, str):
        raise VgpuError('vGPU type must be a string such as "A10-4Q", got %r' % (spelling,))
    text = spelling.strip()
    if not text:
        raise VgpuError('empty vGPU type %r: expected a name such as "A10-4Q"' % (spelling,))
    body = text
    if '/' in body:
        domain, _sep, body = body.partition('/')
        if domain.lower() != KUBERNETES_DOMAIN or '/' in body or not body:
            raise VgpuError('invalid vGPU type %r: a Kubernetes resource name must look like "nvidia.com/NVIDIA_A10-4Q"' % (spelling,))
    words = body.replace('_', ' ').split()
    if not words:
        raise VgpuError('invalid vGPU type %r: no type name in it; expected a name such as "A10-4Q"' % (spelling,))
    prefix = _PRODUCT_PREFIX_KEYS.get(tuple(word.upper() for word in words[:-1]), '')
    for word in ([] if prefix else words[:-1]):
        if word.upper() not in NAME_PREFIXES:
            raise VgpuError('invalid vGPU type %r: unexpected word %r before the type name (allowed: %s)'
                            % (spelling, word, ', '.join(NAME_PREFIXES)))
    name = words[-1].upper()
    if _TYPE_ID_RE.match(name) and len(words) == 1:
        raise VgpuError('invalid vGPU type %r: "nvidia-<N>" is a driver-specific mdev type id, not a type name; '
                        'read the type\'s "name" file (e.g. "NVIDIA A10-4Q")' % (spelling,))
    return prefix, name


def parse_name(spelling):
    """Parse any spelling into a ParsedName (grammar only, no catalog check)."""
    prefix, name = split_prefix(spelling)
    match = TIME_SLICED_RE.match(name)
    if match:
        return ParsedName(match.group('gpu'), int(match.group('gb')), match.group('series'), spelling=spelling, prefix=prefix)
    match = MIG_BACKED_RE.match(name)
    if match:
        return ParsedName(match.group('gpu'), int(match.group('gb')), match.group('series'),
                          slices=int(match.group('slices')), suffix=match.group('suffix') or '', spelling=spelling, prefix=prefix)
    raise VgpuError('malformed vGPU type %r: %s' % (spelling, _explain(name)))


class VgpuType:
    """One vGPU type, resolved against the catalog.

    Attributes: canonical ('A10-4Q'), gpu ('A10', the token of the name), framebuffer_mib, series
    ('Q'|'C'|'B'|'A'), mig (bool), slices (int or None), suffix ('' or ME/NOME/MEALL/GFX), driver_prefix
    ('NVIDIA', 'GRID' or a product such as 'NVIDIA RTX PRO 6000 Blackwell'), max_instances (per physical
    GPU; None when the GPU is not in the catalog), model (the catalog GPU's name; None when unknown: it
    differs from ``gpu`` where two boards share a token, e.g. DC).

    framebuffer_mib is the size in the name (``gb`` x 1024), except for MIG-backed types whose GPU
    instance memory the driver reports differently (H200X-1-18C: 16384 MiB, not 18432).
    """

    __slots__ = ('canonical', 'gpu', 'gb', 'framebuffer_mib', 'series', 'slices', 'suffix', 'driver_prefix', 'max_instances', 'model')

    def __init__(self, gpu, gb, series, slices=None, suffix='', driver_prefix='NVIDIA', max_instances=None, model=None, memory_mib=None):
        if series not in SERIES:
            raise VgpuError('unknown series %r for GPU %r (one of %s)' % (series, gpu, ', '.join(SERIES)))
        if suffix and slices is None:
            raise VgpuError('suffix %r is only valid on MIG-backed types (GPU %r)' % (suffix, gpu))
        self.gpu = gpu
        self.gb = gb
        self.series = series
        self.slices = slices
        self.suffix = suffix or ''
        self.canonical = short_name(gpu, gb, series, slices, self.suffix)
        self.framebuffer_mib = memory_mib or framebuffer_mib(gb)
        self.driver_prefix = driver_prefix
        self.max_instances = max_instances
        self.model = model

    @property
    def mig(self):
        return self.slices is not None

    def names(self):
        """{'short', 'driver', 'kubernetes', 'kubevirt', 'vsphere'} spellings of this type."""
        return ecosystem_names(self.canonical, self.driver_prefix)

    def as_dict(self):
        """The vgpu_profile filter's result."""
        return {
            'canonical': self.canonical,
            'gpu': self.gpu,
            'framebuffer_mib': self.framebuffer_mib,
            'series': self.series,
            'mig': self.mig,
            'slices': self.slices,
            'suffix': self.suffix,
            'max_instances': self.max_instances,
            'names': self.names(),
        }

    def __eq__(self, other):
        if isinstance(other, VgpuType):
            return self.canonical == other.canonical
        return NotImplemented

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash(self.canonical)

    def __str__(self):
        return self.canonical

    def __repr__(self):
        return 'VgpuType(%r)' % self.canonical
