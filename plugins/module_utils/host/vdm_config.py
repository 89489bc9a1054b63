# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NVIDIA vgpu-device-manager's configuration file format (reference §5; NVIDIA/vgpu-device-manager api/spec/v1/spec.go,
helpers.go, pkg/types/device.go, cmd/nvidia-vgpu-dm/assert and apply, read at v0.4.2 and v0.5.0).

    version: v1
    vgpu-configs:
      <label>:
        - devices: all | [0, 1]          # GPU indices: NVIDIA GPUs in PCI address order (go-nvlib's GetGPUs)
          device-filter: "0x223610DE"    # optional; string or list; 0x<device><vendor>[:0x<subsystem device><vendor>]
          vgpu-devices: {"A10-4Q": 6}    # short type names, counts > 0

What is checked, and how entries apply, as ``nvidia-vgpu-dm apply`` does:

- the file: only ``version`` and ``vgpu-configs`` at the top, ``version: v1``, the selected label present. Only the
  selected label's entries are validated (required ``devices`` and ``vgpu-devices``, ``devices`` exactly ``all`` or a
  list of indices, counts > 0, known fields only, filters of the form above): the other labels may name GPUs or
  types this host (or the catalog) does not know, as NVIDIA's default file of 711 labels does.
- ``device-filter``: without a subsystem part it matches the device and vendor ids; with one (v0.5.0, NVIDIA's way
  to tell an A2 from an A16: ``0x25B610DE:0x157E10DE``) all four ids must match.
- every entry is walked in order and applied to each GPU it matches (filter and ``devices``); each application
  fails when the GPU lacks one of the entry's types and otherwise replaces the GPU's layout, so the last matching
  entry decides the end state and an earlier entry with a type the GPU lacks fails the run. GPUs no entry matches
  are left alone.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.gpuvirt.core.plugins.module_utils.pci import as_int
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError

ENTRY_KEYS = ('devices', 'device-filter', 'vgpu-devices')


def load(path):
    """Read YAML (or JSON) from ``path``; PlanError naming the file on any problem."""
    try:
        with open(path) as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        raise PlanError('config_file: cannot read %s: %s' % (path, exc))
    try:
        import yaml
    except ImportError:
        yaml = None
    try:
        data = yaml.safe_load(text) if yaml is not None else json.loads(text)
    except Exception as exc:  # pylint: disable=broad-except
        raise PlanError('config_file: %s is not valid %s: %s' % (path, 'YAML' if yaml is not None else 'JSON (PyYAML is missing)', exc))
    return data


class Entry(object):
    """One entry of the selected label: ``number`` (its position), ``devices`` (``'all'`` or [index]), ``filters``
    ([(device << 16 | vendor, subsystem device << 16 | subsystem vendor or None)] or None) and ``types``."""

    def __init__(self, label, number, devices, filters, types):
        self.label = label
        self.number = number
        self.devices = devices
        self.filters = filters
        self.types = types

    @property
    def name(self):
        return 'vgpu-configs.%s[%d]' % (self.label, self.number)

    def matches(self, gpu):
        """devices and device-filter (helpers.go MatchesDevices, MatchesDeviceFilter; device.go Matches)."""
        if self.devices != 'all' and gpu.index not in self.devices:
            return False
        if not self.filters:
            return True
        ident = _gpu_ids(gpu)
        return any(ident[0] == primary and (sub is None or ident[1] == sub) for primary, sub in self.filters)


def _gpu_ids(gpu):
    fn = gpu.function
    primary = (as_int(fn.device_id, 0) << 16) | as_int(fn.vendor_id, 0)
    sub = (as_int(fn.subsystem_id, 0) << 16) | as_int(getattr(fn, 'subsystem_vendor_id', None) or fn.vendor_id, 0)
    return primary, sub


def parse_filter(text):
    """``0x25B610DE`` or ``0x25B610DE:0x157E10DE`` -> (primary, subsystem or None); ValueError otherwise. Numbers as
    strconv.ParseUint(s, 0, 32) reads them (hex with 0x; decimal)."""
    parts = text.strip().split(':')
    if len(parts) > 2 or not all(parts):
        raise ValueError(text)
    numbers = []
    for part in parts:
        value = int(part, 0)
        if not 0 <= value <= 0xffffffff:
            raise ValueError(text)
        numbers.append(value)
    return numbers[0], (numbers[1] if len(numbers) == 2 else None)


def select(data, label, path='config_file'):
    """Check the file's top level and the selected label and return that label's entries as [:class:`Entry`]."""
    if not isinstance(data, dict):
        raise PlanError('%s: expected a mapping with version and vgpu-configs' % path)
    unknown = sorted(set(data) - set(['version', 'vgpu-configs']))
    if unknown:
        raise PlanError('%s: unknown field(s) %s (allowed: version, vgpu-configs)' % (path, ', '.join(map(str, unknown))))
    if data.get('version') != 'v1':
        raise PlanError('%s: version must be v1, got %r' % (path, data.get('version')))
    configs = data.get('vgpu-configs')
    if not isinstance(configs, dict) or not configs:
        raise PlanError('%s: vgpu-configs must be a non-empty mapping of label to a list of entries' % path)
    if label not in configs:
        raise PlanError('selected_config: %r is not in %s; labels there: %s' % (label, path, ', '.join(sorted(map(str, configs)))))
    return _entries(path, label, configs[label])


def _entries(path, name, entries):
    where = '%s: vgpu-configs.%s' % (path, name)
    if not isinstance(entries, list) or not entries:
        raise PlanError('%s must be a list with at least one entry' % where)
    out = []
    for number, entry in enumerate(entries):
        here = '%s[%d]' % (where, number)
        if not isinstance(entry, dict):
            raise PlanError('%s must be a mapping with devices and vgpu-devices' % here)
        unknown = sorted(set(entry) - set(ENTRY_KEYS))
        if unknown:
            raise PlanError('%s: unknown field(s) %s (allowed: %s)' % (here, ', '.join(map(str, unknown)), ', '.join(ENTRY_KEYS)))
        for required in ('devices', 'vgpu-devices'):
            if required not in entry:
                raise PlanError('%s: %s is required' % (here, required))
        devices = entry['devices']
        if isinstance(devices, str):
            if devices != 'all':
                raise PlanError("%s: devices must be 'all' or a list of GPU indices, got %r" % (here, devices))
        elif not isinstance(devices, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in devices):
            raise PlanError("%s: devices must be 'all' or a list of GPU indices, got %r" % (here, devices))
        filters = entry.get('device-filter')
        parsed = None
        if filters is not None:
            filters = [filters] if isinstance(filters, str) else filters
            if not isinstance(filters, list) or not all(isinstance(f, str) for f in filters):
                raise PlanError('%s: device-filter must be a string or a list of strings such as "0x223610DE"' % here)
            parsed = []
            for item in filters:
                try:
                    parsed.append(parse_filter(item))
                except ValueError:
                    raise PlanError('%s: device-filter %r is not of the form 0x<device><vendor>[:0x<subsystem device><subsystem '
                                    'vendor>] (e.g. 0x25B610DE or 0x25B610DE:0x157E10DE)' % (here, item))
        types = entry['vgpu-devices']
        if not isinstance(types, dict) or not types:
            raise PlanError('%s: vgpu-devices must be a non-empty mapping of vGPU type to count' % here)
        for type_name, count in types.items():
            if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
                raise PlanError('%s: vgpu-devices.%s must be a count greater than 0, got %r' % (here, type_name, count))
        out.append(Entry(name, number, devices, parsed or None, dict((str(k), v) for k, v in types.items())))
    return out


def matching(entries, gpus):
    """{gpu address: [Entry]}: every entry matching each GPU, in the file's order (apply walks them in that order)."""
    result = {}
    for entry in entries:
        for gpu in gpus:
            if entry.matches(gpu):
                result.setdefault(gpu.address, []).append(entry)
    return result
