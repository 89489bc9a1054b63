# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Mirrors SPECS["host"] in plugins/module_utils/args.py.
    DOCUMENTATION = r'''
options:
  host_root:
    description:
      - The root under which the host's C(sys/), C(proc/), C(etc/) and C(usr/lib/nvidia/sriov-manage) are found.
      - Use the default on the KVM host itself; set it when the module runs in a container that mounts the host (for example C(/host)).
    type: path
    default: /
  lock_timeout:
    description:
      - Seconds to wait for the per-host lock (C(host_root/run/gpuvirt-host.lock)) that serializes gpuvirt.core runs on one host.
      - 0 tries the lock once without waiting; a negative value is refused.
    type: int
    default: 60
notes:
  - Reads the host through sysfs only (one walk per run); the vGPU backend (C(mdev) or NVIDIA's vendor-specific VFIO) is detected at runtime.
  - Needs root on the KVM host to change anything.
'''
