# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host programs that act at boot on the files the host modules persist, and whether a host has them.

The modules write files, never run these programs: mdevctl's udev rule starts the ``start: auto`` definitions in
``/etc/mdevctl.d`` when their parent device appears (reference §1, [S3]), and driverctl's udev rule binds the
devices named in ``/etc/driverctl.d`` at boot. Without the package, the files are written and nothing reads them:
a host reboots without its vGPUs or with its GPU back on the nvidia driver. The udev rule, not the command, is what
acts at boot, so it is what is looked for (file names as the Debian and Fedora/RHEL packages install them).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

UDEV_RULE_DIRS = ('etc/udev/rules.d', 'run/udev/rules.d', 'usr/local/lib/udev/rules.d', 'usr/lib/udev/rules.d',
                  'lib/udev/rules.d')
BOOT_RULES = {'mdevctl': '60-mdevctl.rules', 'driverctl': '05-driverctl.rules'}
WHAT_IT_STARTS = {
    'mdevctl': 'the vGPU definitions written in /etc/mdevctl.d will not be started at boot',
    'driverctl': 'the overrides written in /etc/driverctl.d will not bind the devices to vfio-pci at boot',
}


def installed(host, tool):
    """Whether ``tool``'s udev rule is under the host root (``host``: a HostRoot)."""
    return any(os.path.isfile(host.path(directory, BOOT_RULES[tool])) for directory in UDEV_RULE_DIRS)


def missing_warning(host, tool):
    """A warning for the plan when ``tool`` is not installed on the host, else None."""
    if installed(host, tool):
        return None
    return ('persist: %s is not installed on the host (no %s udev rule): %s; install the %s package'
            % (tool, BOOT_RULES[tool], WHAT_IT_STARTS[tool], tool))
