# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vGPU profile filters: vgpu_profile, vgpu_max_instances, vgpu_fits (docs in the .yml files beside this one)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gpuvirt.core.plugins.module_utils.vgpu import (
    VgpuError,
    check_fit,
    count_types,
    max_instances,
    parse,
    remaining,
)


def vgpu_profile(spelling):
    """Any spelling of a vGPU type -> {canonical, gpu, framebuffer_mib, series, mig, slices, suffix, max_instances, names}."""
    try:
        return parse(spelling).as_dict()
    except VgpuError as err:
        raise AnsibleFilterError('vgpu_profile: %s' % err)


def vgpu_max_instances(spelling, gpu=None):
    """Max vGPUs of that type per physical GPU; with ``gpu``, 0 when that GPU does not offer it."""
    try:
        return max_instances(spelling, gpu)
    except VgpuError as err:
        raise AnsibleFilterError('vgpu_max_instances: %s' % err)


def vgpu_fits(gpu, vgpus=None, existing=None, mixed_size=False):
    """Do ``existing`` + ``vgpus`` fit on one ``gpu``; what still fits after them."""
    try:
        requested = count_types(existing) + count_types(vgpus)
        result = check_fit(gpu, requested, mixed_size=mixed_size)
        return {
            'ok': result.ok,
            'reasons': result.reasons,
            'gpu': result.gpu,
            'counts': result.counts,
            'remaining': remaining(gpu, requested, mixed_size=mixed_size) if result.ok else {},
        }
    except VgpuError as err:
        raise AnsibleFilterError('vgpu_fits: %s' % err)


class FilterModule:
    """gpuvirt.core vGPU filters."""

    def filters(self):
        return {
            'vgpu_profile': vgpu_profile,
            'vgpu_max_instances': vgpu_max_instances,
            'vgpu_fits': vgpu_fits,
        }
