# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's inventory plugins share: reading the source once (or from the inventory cache), adding
the hosts with their variables and default groups, then ``compose``, ``groups`` and ``keyed_groups``.

A plugin subclasses :class:`GpuInventory` and implements ``fetch()``: a list of host records, plain JSON-able
dicts ``{'name': host name, 'vars': {...}, 'groups': [default group names]}`` (what the cache stores), raising
:class:`ansible.errors.AnsibleParserError` with a clear message when the source cannot be read.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable


def group_word(text):
    """``sharedDirect`` -> ``shared_direct``, ``A100-PCIE-40GB`` -> ``a100_pcie_40gb``, ``vm-vgpu`` -> ``vm_vgpu``."""
    text = re.sub(r'([a-z])([A-Z])', r'\1_\2', str(text))
    return re.sub(r'[^a-z0-9]+', '_', text.lower()).strip('_')


class GpuInventory(BaseInventoryPlugin, Constructable, Cacheable):
    """Base of the GPU inventory plugins; subclasses set ``NAME`` and ``FILE_SUFFIXES`` and implement ``fetch()``."""

    NAME = None
    FILE_SUFFIXES = ()

    def verify_file(self, path):
        """Only inventory files named after the plugin (``lab.vsphere_gpu_hosts.yml``, ``vsphere_gpu_hosts.yaml``)."""
        if not super(GpuInventory, self).verify_file(path):
            return False
        return path.endswith(tuple(suffix + ext for suffix in self.FILE_SUFFIXES for ext in ('.yml', '.yaml')))

    def fetch(self):
        raise NotImplementedError

    def parse(self, inventory, loader, path, cache=True):
        super(GpuInventory, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        update_cache = self.get_option('cache') and not cache
        records = None
        if use_cache:
            try:
                records = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if records is None:
            records = self.fetch()
        if update_cache:
            self._cache[cache_key] = records
        self.populate(records)

    def populate(self, records):
        strict = self.get_option('strict')
        default_groups = self.get_option('default_groups')
        for record in records:
            host = self.inventory.add_host(record['name'])
            for key, value in sorted(record['vars'].items()):
                self.inventory.set_variable(host, key, value)
            if default_groups:
                for group in record['groups']:
                    self.inventory.add_group(group)
                    self.inventory.add_child(group, host)
            hostvars = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option('compose'), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), hostvars, host, strict=strict)
