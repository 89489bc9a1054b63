# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubeVirt ``permittedHostDevices``: validate and derive entries, plan the one merge patch (pure, no I/O).

Facts §6 [S6]: ``spec.configuration.permittedHostDevices.pciHostDevices[]`` = {pciVendorSelector "10DE:2236",
resourceName, externalResourceProvider}; ``mediatedDevices[]`` = {mdevNameSelector "NVIDIA A10-12Q",
resourceName, externalResourceProvider}; ``externalResourceProvider: true`` when the NVIDIA sandbox device plugin
advertises the resource (seed 003). Feature gates live in ``developerConfiguration.featureGates``;
``DisableMDEVConfiguration`` is deprecated since v1.8.0 in favour of ``mediatedDevicesConfiguration.enabled:
false``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re

from ansible_collections.gpuvirt.core.plugins.module_utils import pci, vgpu
from ansible_collections.gpuvirt.core.plugins.module_utils.kube import featuregates, gpus
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError

PCI_SELECTOR = re.compile(r'^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$')
MDEV_CONFIG_FIELD_SINCE = (1, 8, 0)
DISABLE_MDEV_GATE = 'DisableMDEVConfiguration'
KINDS = {
    'pci_host_devices': ('pciHostDevices', 'pciVendorSelector'),
    'mediated_devices': ('mediatedDevices', 'mdevNameSelector'),
}


def _parse_version(text):
    match = re.match(r'^v?(\d+)\.(\d+)(?:\.(\d+))?', text or '')
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def kubevirt_version(cr):
    status = cr.get('status') or {}
    return status.get('observedKubeVirtVersion') or status.get('operatorVersion') or status.get('targetKubeVirtVersion')


def normalise_entry(option, index, entry, removing=False):
    """One user entry -> the CR's form. Raises PlanError naming the bad input."""
    field, selector_key = KINDS[option]
    where = '%s[%d]' % (option, index)
    selector = entry.get('selector')
    resource = entry.get('resource_name')
    if removing and not selector and resource:
        return {'resourceName': resource}
    if not selector:
        raise PlanError('%s: selector is required' % where)
    if option == 'pci_host_devices':
        if not PCI_SELECTOR.match(selector):
            raise PlanError('%s: selector %r is not a PCI vendor:device id; write it as VVVV:DDDD in hex, e.g. "10DE:2236"'
                            % (where, selector))
        selector = selector.upper()
        if not resource:
            vendor, device = selector.lower().split(':')
            if vendor != pci.NVIDIA_VENDOR_HEX or device not in gpus.PCI_DEVICE_NAMES:
                raise PlanError('%s: no resource_name given and %s is not an NVIDIA GPU this collection knows the '
                                'sandbox device plugin name of; give resource_name' % (where, selector))
            resource = gpus.passthrough_resource_name(gpus.PCI_DEVICE_NAMES[device])
    else:
        try:
            vtype = vgpu.parse(selector)
        except vgpu.VgpuError as exc:
            raise PlanError('%s: selector %r is not a vGPU type name: %s' % (where, selector, exc))
        words = selector.split('/')[-1].replace('_', ' ').split()
        prefix = words[0].upper() if len(words) > 1 else vtype.driver_prefix
        selector = '%s %s' % (prefix, vtype.canonical)
        if not resource:
            resource = gpus.RESOURCE_PREFIX + selector.replace(' ', '_')
    if not re.match(r'^[A-Za-z0-9.-]+/[A-Za-z0-9._-]+$', resource):
        raise PlanError('%s: resource_name %r is not an extended resource name such as "nvidia.com/GA102GL_A10"' % (where, resource))
    out = {selector_key: selector, 'resourceName': resource}
    if entry.get('external_resource_provider') is not None:
        out['externalResourceProvider'] = bool(entry['external_resource_provider'])
    return out


def discover(nodes):
    """Entries for the GPU resources the nodes advertise (non-zero allocatable). Returns (pci, mdev, warnings)."""
    pci, mdev, warnings = {}, {}, []
    for node in sorted(nodes, key=lambda n: n['metadata']['name']):
        node_name = node['metadata']['name']
        allocatable = gpus.nonzero((node.get('status') or {}).get('allocatable'))
        for resource in sorted(allocatable):
            if resource == gpus.CONTAINER_RESOURCE:
                continue
            vtype = gpus.vgpu_type_of_resource(resource)
            if vtype is not None:
                selector = resource[len(gpus.RESOURCE_PREFIX):].replace('_', ' ')
                mdev.setdefault(resource, {'mdevNameSelector': selector, 'resourceName': resource,
                                           'externalResourceProvider': True})
                continue
            device = gpus.PASSTHROUGH_RESOURCES.get(resource)
            if device is None:
                ids = gpus.nfd_device_ids(node)
                device = ids[0] if len(ids) == 1 else None
            if device is None:
                warnings.append('node %s advertises %s but its PCI device id is unknown (no NFD device label, not in the '
                                'catalog); list it in pci_host_devices with its selector' % (node_name, resource))
                continue
            pci.setdefault(resource, {'pciVendorSelector': gpus.pci_selector(device), 'resourceName': resource,
                                      'externalResourceProvider': True})
    return list(pci.values()), list(mdev.values()), warnings


def _same(existing, wanted, selector_key):
    if wanted.get(selector_key) is None:
        return existing.get('resourceName') == wanted['resourceName']
    return (str(existing.get(selector_key, '')).lower() == wanted[selector_key].lower()
            and existing.get('resourceName') == wanted['resourceName'])


def merge_entries(current, wanted, selector_key, state):
    """The new list: present adds/updates the wanted entries (keeping others and their order); absent removes
    only the named ones."""
    result = [copy.deepcopy(e) for e in current or []]
    for entry in wanted:
        matches = [i for i, existing in enumerate(result) if _same(existing, entry, selector_key)]
        if state == 'absent':
            result = [e for i, e in enumerate(result) if i not in matches]
        elif matches:
            for i in matches:
                if 'externalResourceProvider' in entry and result[i].get('externalResourceProvider', False) != entry['externalResourceProvider']:
                    result[i]['externalResourceProvider'] = entry['externalResourceProvider']
        else:
            result.append(copy.deepcopy(entry))
    return result


def desired_configuration(cr, pci, mdev, state, feature_gates=None, disable_mdev_configuration=None):
    """Pure planner: ``(patch, before, after, warnings)``; ``patch`` is the merge patch of
    ``spec.configuration`` (lists sent whole) or None when the CR already is as wanted."""
    configuration = (cr.get('spec') or {}).get('configuration') or {}
    permitted = configuration.get('permittedHostDevices') or {}
    gates = list((configuration.get('developerConfiguration') or {}).get('featureGates') or [])
    mdev_config = configuration.get('mediatedDevicesConfiguration') or {}
    warnings = []
    new_permitted = dict(permitted)
    for option, wanted in (('pci_host_devices', pci), ('mediated_devices', mdev)):
        field, selector_key = KINDS[option]
        if wanted:
            merged = merge_entries(permitted.get(field), wanted, selector_key, state)
            if merged:
                new_permitted[field] = merged
            else:
                new_permitted.pop(field, None)
    new_gates = list(gates)
    for gate in feature_gates or []:
        if gate not in new_gates:
            new_gates.append(gate)
    new_mdev_config = dict(mdev_config)
    if disable_mdev_configuration is not None:
        version = _parse_version(kubevirt_version(cr))
        if version is not None and version >= MDEV_CONFIG_FIELD_SINCE:
            new_mdev_config['enabled'] = not disable_mdev_configuration
            if disable_mdev_configuration and DISABLE_MDEV_GATE in new_gates:
                warnings.append('KubeVirt %s lists the deprecated %s feature gate; mediatedDevicesConfiguration.enabled '
                                'is set to false instead (remove the gate when convenient)' % (kubevirt_version(cr), DISABLE_MDEV_GATE))
        else:
            if version is None:
                warnings.append('the KubeVirt CR reports no version; using the %s feature gate' % DISABLE_MDEV_GATE)
            if disable_mdev_configuration and DISABLE_MDEV_GATE not in new_gates:
                new_gates.append(DISABLE_MDEV_GATE)
            elif not disable_mdev_configuration and DISABLE_MDEV_GATE in new_gates:
                new_gates.remove(DISABLE_MDEV_GATE)
    patch = {}
    if new_permitted != permitted:
        patch['permittedHostDevices'] = dict((k, new_permitted.get(k)) for k in set(permitted) | set(new_permitted))
    if new_gates != gates:
        patch['developerConfiguration'] = {'featureGates': new_gates}
    if new_mdev_config != mdev_config:
        patch['mediatedDevicesConfiguration'] = new_mdev_config
    before = {'permittedHostDevices': permitted, 'featureGates': gates, 'mediatedDevicesConfiguration': mdev_config}
    after = {'permittedHostDevices': new_permitted, 'featureGates': new_gates, 'mediatedDevicesConfiguration': new_mdev_config}
    return ({'spec': {'configuration': patch}} if patch else None), before, after, warnings


def check_unique(option, raw, entries):
    """No selector twice in one option (spellings compared after normalising: ``A10-24Q`` = ``NVIDIA A10-24Q``),
    so one selector never gets two resource names. PlanError naming both items."""
    selector_key = KINDS[option][1]
    seen = {}
    for index, entry in enumerate(entries):
        if entry.get(selector_key) is None:
            continue
        key = entry[selector_key].lower()
        if key in seen:
            first = seen[key]
            spelled = (raw[first].get('selector'), raw[index].get('selector'))
            if entries[first]['resourceName'] != entry['resourceName']:
                raise PlanError('%s[%d] (selector %r) and %s[%d] (selector %r) are the same device %s with two resource names, '
                                '%s and %s; KubeVirt advertises a selector as one resource: keep one of them'
                                % ((option, first, spelled[0], option, index, spelled[1], entry[selector_key],
                                    entries[first]['resourceName'], entry['resourceName'])))
            raise PlanError('%s[%d] (selector %r) repeats %s[%d] (selector %r): list each selector once'
                            % (option, index, spelled[1], option, first, spelled[0]))
        seen[key] = index


def check_against_cr(cr, option, raw, entries):
    """With state=present: a selector the CR already permits under another resource name is refused (the CR would
    list the selector twice); PlanError naming the item and the CR's entry."""
    field, selector_key = KINDS[option]
    permitted = (((cr.get('spec') or {}).get('configuration') or {}).get('permittedHostDevices') or {}).get(field) or []
    for index, entry in enumerate(entries):
        for existing in permitted:
            if (str(existing.get(selector_key, '')).lower() == entry[selector_key].lower()
                    and existing.get('resourceName') != entry['resourceName']):
                raise PlanError('%s[%d]: selector %r (%s) is already permitted in the KubeVirt CR as resource %s, not %s; '
                                'remove that entry first (state=absent) or give resource_name %s'
                                % (option, index, raw[index].get('selector'), entry[selector_key], existing.get('resourceName'),
                                   entry['resourceName'], existing.get('resourceName')))


def check_feature_gates(cr, feature_gates):
    """Feature gates against the KubeVirt release the CR reports (status.observedKubeVirtVersion): unknown and
    discontinued gates are a PlanError naming them, deprecated and GA ones warnings. Returns the warnings."""
    for index, gate in enumerate(feature_gates or []):
        if gate in (feature_gates or [])[:index]:
            raise PlanError('feature_gates[%d] %r is listed twice' % (index, gate))
    errors, warnings = featuregates.check_gates(feature_gates, kubevirt_version(cr))
    if errors:
        raise PlanError('; '.join(errors) + ' (nothing was changed)', feature_gate_errors=errors,
                        kubevirt_version=kubevirt_version(cr))
    return warnings


def wanted_entries(params, nodes):
    """The pci and mdev entries the options ask for (explicit ones first, then discovered). Raises PlanError."""
    removing = params['state'] == 'absent'
    lists = {}
    for option in KINDS:
        lists[option] = [normalise_entry(option, i, e, removing) for i, e in enumerate(params.get(option) or [])]
        check_unique(option, params.get(option) or [], lists[option])
    warnings = []
    if params.get('discover'):
        if removing:
            raise PlanError('discover cannot be combined with state=absent: name the entries to remove')
        pci, mdev, warnings = discover(nodes)
        for option, found in (('pci_host_devices', pci), ('mediated_devices', mdev)):
            selector_key = KINDS[option][1]
            for entry in found:
                if not any(_same(e, entry, selector_key) for e in lists[option]):
                    lists[option].append(entry)
    default_external = params.get('external_resource_provider')
    if not removing:
        for option in KINDS:
            for entry in lists[option]:
                entry.setdefault('externalResourceProvider', default_external)
    return lists['pci_host_devices'], lists['mediated_devices'], warnings
