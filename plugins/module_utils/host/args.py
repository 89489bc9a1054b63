# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument specs of the Linux host modules. ``HOST_COMMON`` is mirrored by the doc fragment
``gpuvirt.core.host``; each module adds its own options from the dicts below (documented in the module)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

HOST_COMMON = dict(
    host_root=dict(type='path', default='/'),
    lock_timeout=dict(type='int', default=60),
)

HOST_GPU_INFO = dict(
    devices=dict(type='raw', default='all'),
)

HOST_GPU_SRIOV = dict(
    devices=dict(type='raw', default='all'),
    state=dict(type='str', default='enabled', choices=['enabled', 'disabled']),
    force=dict(type='bool', default=False),
    sriov_manage=dict(type='path'),
    timeout=dict(type='int', default=60),
    retry_delay=dict(type='float', default=2.0),
)

HOST_GPU_DRIVER = dict(
    devices=dict(type='list', elements='str', required=True),
    driver=dict(type='str', required=True, choices=['vfio-pci', 'nvidia']),
    include_iommu_group=dict(type='bool', default=True),
    force=dict(type='bool', default=False),
    persist=dict(type='bool', default=False),
    persist_method=dict(type='str', default='driverctl', choices=['driverctl', 'modprobe']),
)

HOST_VGPU = dict(
    devices=dict(type='raw', default='all'),
    vgpu_type=dict(type='str'),
    count=dict(type='int'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    force=dict(type='bool', default=False),
    persist=dict(type='bool', default=False),
    mixed_size=dict(type='bool', default=False),
    config_file=dict(type='path'),
    selected_config=dict(type='str'),
)


def spec(extra):
    """The full argument spec of a module: the common options plus its own."""
    out = dict(HOST_COMMON)
    out.update(extra)
    return out
