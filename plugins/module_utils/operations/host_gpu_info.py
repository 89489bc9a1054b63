# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_gpu_info: one walk of the host's sysfs, reported (reads only, no host lock)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils.host import inventory, layout, readiness
from ansible_collections.gpuvirt.core.plugins.module_utils.host.lock import HostOperation


class HostGpuInfo(HostOperation):
    """Result: ``gpus`` (the selected GPUs), ``iommu``, ``vgpu_backends``, ``driver`` and ``vgpu_readiness`` (the
    whole host)."""

    reads_only = True
    locks = False

    def observe(self):
        inv = inventory.scan(self.host)
        return inv, layout.select_gpus(inv, self.params['devices'])

    def result(self, current, outcome):
        inv, gpus = current
        return dict(gpus=[g.as_dict() for g in gpus], iommu=inv.iommu(), vgpu_backends=sorted(set(g.backend for g in gpus)),
                    driver=inv.driver_info(), vgpu_readiness=_readiness(inv))


def _readiness(inv):
    found = readiness.missing(inv)
    return {'ready': not found, 'missing': found}
