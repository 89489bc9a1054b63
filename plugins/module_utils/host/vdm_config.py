# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NVIDIA vgpu-device-manager's configuration file format (reference §5, [S4] api/spec/v1/spec.go).

    version: v1
    vgpu-configs:
      <label>:
        - devices: all | [0, 1]          # GPU indices: NVIDIA PFs sorted by PCI address
          device-filter: "0x223610DE"    # optional; string or list, 0x<device><vendor>
          vgpu-devices: {"A10-4Q": 6}    # short type names, counts > 0

Validation follows the original: only ``version`` and ``vgpu-configs`` at the top, ``version: v1``, each label has at
least one entry, ``devices`` and ``vgpu-devices`` are required, ``devices`` is exactly ``all`` or a list of indices,
counts are > 0, unknown fields are rejected. Like ``nvidia-vgpu-dm apply``, every entry matching a GPU is applied in
order, so the last matching entry decides that GPU's layout; GPUs no entry matches are left alone.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.gpuvirt.core.plugins.module_utils.pci import hex_id
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


def select(data, label, path='config_file'):
    """Validate the whole file and return the entries of ``label`` as [(devices, filters, {type: count})]."""
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
    parsed = {}
    for name, entries in configs.items():
        parsed[name] = _entries(path, name, entries)
    if label not in parsed:
        raise PlanError('selected_config: %r is not in %s; labels there: %s' % (label, path, ', '.join(sorted(map(str, parsed)))))
    return parsed[label]


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
        if filters is not None:
            filters = [filters] if isinstance(filters, str) else filters
            if not isinstance(filters, list) or not all(isinstance(f, str) for f in filters):
                raise PlanError('%s: device-filter must be a string or a list of strings such as "0x223610DE"' % here)
            for item in filters:
                if not item.lower().startswith('0x') or len(item) != 10:
                    raise PlanError('%s: device-filter %r is not of the form 0x<device><vendor> (e.g. 0x223610DE)' % (here, item))
        types = entry['vgpu-devices']
        if not isinstance(types, dict) or not types:
            raise PlanError('%s: vgpu-devices must be a non-empty mapping of vGPU type to count' % here)
        for type_name, count in types.items():
            if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
                raise PlanError('%s: vgpu-devices.%s must be a count greater than 0, got %r' % (here, type_name, count))
        out.append((devices, [f.lower() for f in filters] if filters else None, dict((str(k), v) for k, v in types.items())))
    return out


def layouts(entries, gpus):
    """{gpu address: {type: count}} for the GPUs the entries match (last matching entry wins)."""
    result = {}
    for gpu in gpus:
        ident = '0x%s%s' % (hex_id(gpu.function.device_id), hex_id(gpu.function.vendor_id))
        for devices, filters, types in entries:
            if devices != 'all' and gpu.index not in devices:
                continue
            if filters and ident not in filters:
                continue
            result[gpu.address] = types
    return result
