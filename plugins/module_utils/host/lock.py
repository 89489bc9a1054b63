# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-host lock every changing host module holds from observe to the result, and the Operation base of the host
modules (``host_root``, ``lock_timeout``; the lock as the session)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fcntl
import os
import time

from ansible_collections.gpuvirt.core.plugins.module_utils import plan as spine
from ansible_collections.gpuvirt.core.plugins.module_utils.host.sysfs import HostRoot

LOCK_FILE = 'run/gpuvirt-host.lock'


class HostLock(object):
    """An exclusive flock on ``host_root/run/gpuvirt-host.lock``: two runs on one host serialize (observe -> apply).

    ``create=False`` (check mode) writes nothing: it locks the file when it exists (so a check-mode run does not read
    a host another run is changing) and runs without a lock otherwise."""

    def __init__(self, host, timeout, create=True):
        self.path = host.path(LOCK_FILE)
        self.timeout = timeout
        self.create = create
        self.handle = None

    def __enter__(self):
        if not self.create:
            try:
                self.handle = open(self.path, 'r')
            except (IOError, OSError):
                return self
        else:
            directory = os.path.dirname(self.path)
            if not os.path.isdir(directory):
                os.makedirs(directory)
            self.handle = open(self.path, 'a')
        deadline = time.time() + max(0, self.timeout)
        while True:
            try:
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.time() >= deadline:
                    self.handle.close()
                    raise spine.PlanError('another gpuvirt.core run holds %s on this host; waited %ss (lock_timeout)'
                                          % (self.path, self.timeout))
                time.sleep(0.1)

    def __exit__(self, *exc):
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
        return False


class HostOperation(spine.Operation):
    """What every host module shares: ``self.host`` under ``host_root``; ``lock_timeout`` and ``timeout`` (where the
    module has it) are 0 ("try once, do not wait") or more; the host lock is the session (:attr:`locks` False: none)."""

    not_negative = ('lock_timeout', 'timeout')
    locks = True

    def __init__(self, module):
        super(HostOperation, self).__init__(module)
        self.host = HostRoot(self.params['host_root'])

    def session(self):
        """Refuses a host root without ``sys/bus/pci/devices`` before anything else (and before the lock file is
        created under it); then the host lock (none in check mode unless the lock file exists)."""
        require_sysfs(self.host)
        if not self.locks:
            return super(HostOperation, self).session()
        return HostLock(self.host, self.params['lock_timeout'], create=not self.check_mode)


def require_sysfs(host):
    """PlanError unless ``host_root/sys/bus/pci/devices`` is a directory (every host module reads the PCI bus there)."""
    if not os.path.isdir(host.sys_path('bus', 'pci', 'devices')):
        raise spine.PlanError('host_root %s has no sys/bus/pci/devices: is it the root of a Linux host (or a mount of one, '
                              'e.g. /host with /sys bind-mounted at /host/sys)?' % host.root)
