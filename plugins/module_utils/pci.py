# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PCI identities shared by every backend: NVIDIA's vendor id, PCI vendor/device ids and PCI addresses.

Ids come in several spellings: vSphere and CAPV write integers (``4318``), sysfs writes ``0x10de``, Kubernetes labels
and KubeVirt selectors write ``10de``. Addresses come as ``3b:00.0`` (vSphere, lspci) or ``0000:3b:00.0`` (sysfs).
Pure, no I/O.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

NVIDIA_VENDOR_ID = 0x10DE
NVIDIA_VENDOR_HEX = '%04x' % NVIDIA_VENDOR_ID          # '10de': Kubernetes labels, KubeVirt selectors
NVIDIA_VENDOR_SYSFS = '0x%04x' % NVIDIA_VENDOR_ID      # '0x10de': /sys/bus/pci/devices/*/vendor

ADDRESS_RE = re.compile(r'^(?:(?P<domain>[0-9a-fA-F]{4}):)?(?P<bus>[0-9a-fA-F]{2}):(?P<slot>[0-9a-fA-F]{2})\.(?P<fn>[0-7])$')
_HEX_RE = re.compile(r'^(0x)?[0-9a-fA-F]+$')


class PciIdError(ValueError):
    """A value that is not a PCI vendor or device id; the message names it (callers turn it into a PlanError)."""


def u16(value):
    """An id as an unsigned 16-bit number: HostPciDevice ids are signed shorts in the vSphere API (0x10de stays 4318,
    0x8000 and up would be negative); None and 0 are 0."""
    return int(value or 0) & 0xFFFF


def parse_id(value, what):
    """A PCI vendor/device id from an int (decimal, as vSphere and CAPV write them) or a hex string ('10de', '0x10de');
    :class:`PciIdError` naming ``what`` otherwise."""
    if isinstance(value, bool):
        raise PciIdError('%s %r is not a PCI id' % (what, value))
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().lower()
        try:
            number = int(text[2:] if text.startswith('0x') else text, 16)
        except ValueError:
            raise PciIdError('%s %r is not a PCI id: use an integer (4318) or hex digits ("10de", "0x10de")' % (what, value))
    if not 0 < number <= 0xffff:
        raise PciIdError('%s %r is out of range for a PCI id' % (what, value))
    return number


def as_int(value, default=None):
    """Integers from ints, decimal strings, hex strings ('0x10de', '10de') and Kubernetes quantities ('4'); ``default``
    for anything else (booleans included)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        if _HEX_RE.match(text):
            return int(text, 16)
    return default


def hex_id(value):
    """A PCI id as four lower-case hex digits, or '' when unknown. Strings are hex (sysfs, labels), ints are ids."""
    if isinstance(value, bool) or value is None:
        return ''
    if isinstance(value, int):
        return '%04x' % (value & 0xFFFF)
    text = str(value).strip().lower()
    if text.startswith('0x'):
        text = text[2:]
    return text if re.match(r'^[0-9a-f]{1,4}$', text) else ''


def is_nvidia(vendor):
    """True for NVIDIA's vendor id in any spelling (int, '10de', '0x10de')."""
    return hex_id(vendor) == NVIDIA_VENDOR_HEX


def normalize_address(text):
    """``3b:00.0`` / ``0000:3B:00.0`` -> ``0000:3b:00.0``; None when it is not a PCI address."""
    if not isinstance(text, str):
        return None
    match = ADDRESS_RE.match(text.strip())
    if not match:
        return None
    return '%s:%s:%s.%s' % ((match.group('domain') or '0000').lower(), match.group('bus').lower(), match.group('slot').lower(),
                            match.group('fn'))


def full_address(text):
    """An address as vSphere reports it (``3b:00.0`` or ``0000:3B:00.0``) with its domain, lower case; unlike
    :func:`normalize_address` anything else is kept as given (lower case); None when empty."""
    if text is None or text == '':
        return None
    value = str(text).strip().lower()
    return '0000:' + value if value.count(':') == 1 else value
