# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and writing a Linux host's sysfs under a host root (``/`` or a mounted host in a container).

Every write goes through :meth:`HostRoot.write`, which turns the kernel's errno into a :class:`SysfsWriteError`
naming the file, the value and what the errno means there.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os


class SysfsWriteError(Exception):
    """A write to a sysfs attribute failed; ``errno`` is the kernel's answer."""

    def __init__(self, path, value, err):
        self.path = path
        self.value = value
        self.errno = err
        name = errno.errorcode.get(err, str(err))
        super(SysfsWriteError, self).__init__('writing %r to %s failed: %s (%s)' % (value.strip(), path, os.strerror(err) if err else '?', name))


class HostRoot(object):
    """Paths and I/O under a host root."""

    def __init__(self, root):
        self.root = root or '/'
        self.sys = os.path.join(self.root, 'sys')

    def path(self, *parts):
        return os.path.join(self.root, *[p.lstrip('/') for p in parts])

    def sys_path(self, *parts):
        return os.path.join(self.sys, *[p.lstrip('/') for p in parts])

    @staticmethod
    def read(path, default=None):
        """The attribute's text without the trailing newline; ``default`` when it is missing or unreadable."""
        try:
            with open(path, 'r') as handle:
                return handle.read().rstrip('\n')
        except (IOError, OSError):
            return default

    @staticmethod
    def listdir(path):
        try:
            return sorted(os.listdir(path))
        except (IOError, OSError):
            return []

    @staticmethod
    def link_name(path):
        """Basename of a symlink's target (``driver`` -> ``nvidia``), or None."""
        try:
            return os.path.basename(os.readlink(path))
        except (IOError, OSError):
            return None

    @staticmethod
    def realpath(path):
        return os.path.realpath(path)

    def write(self, path, value):
        """One write(2) of ``value`` to ``path``; raises SysfsWriteError with the errno."""
        try:
            fd = os.open(path, os.O_WRONLY)
        except (IOError, OSError) as exc:
            raise SysfsWriteError(path, value, exc.errno)
        try:
            os.write(fd, value.encode('utf-8'))
        except (IOError, OSError) as exc:
            raise SysfsWriteError(path, value, exc.errno)
        finally:
            os.close(fd)
