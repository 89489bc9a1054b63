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
import time


class SysfsWriteError(Exception):
    """A write to a sysfs attribute failed; ``errno`` is the kernel's answer."""

    def __init__(self, path, value, err):
        self.path = path
        self.value = value
        self.errno = err
        name = errno.errorcode.get(err, str(err))
        super(SysfsWriteError, self).__init__('writing %r to %s failed: %s (%s)' % (value.strip(), path, os.strerror(err) if err else '?', name))


class SysfsWriteTimeout(Exception):
    """A write did not return within its timeout; it goes on in process ``pid`` and may still take effect."""

    def __init__(self, path, value, timeout, pid):
        self.path = path
        self.value = value
        self.pid = pid
        super(SysfsWriteTimeout, self).__init__(
            'writing %r to %s did not return within %ss: the kernel blocks it while a VM holds the device; it completes '
            'when the VM lets go (process %d waits for it)' % (value.strip(), path, timeout, pid))


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

    def write_timed(self, path, value, timeout):
        """:meth:`write` that gives up waiting after ``timeout`` seconds (SysfsWriteTimeout).

        For writes the kernel may block indefinitely (an mdev ``remove`` while a VM holds the vGPU: the kernel's
        vfio_unregister_group_dev() waits for the VM, uninterruptibly once signalled). The write is made by a forked
        child that holds no other descriptor, so this process can exit while the kernel still waits."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:    # child: the write alone, its errno through the pipe
            code = 0
            try:
                os.close(read_end)
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                os.closerange(3, write_end)         # nothing of the module's (its result pipe) stays open in the child
                os.closerange(write_end + 1, 65536)
                self.write(path, value)
            except SysfsWriteError as exc:
                code = exc.errno or errno.EIO
            except BaseException:  # pylint: disable=broad-except
                code = errno.EIO
            try:
                os.write(write_end, str(code).encode())
            finally:
                os._exit(0)
        os.close(write_end)
        deadline = time.time() + max(0, timeout)
        try:
            while True:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    answer = os.read(read_end, 16).decode() or str(errno.EIO)
                    if int(answer):
                        raise SysfsWriteError(path, value, int(answer))
                    return
                if time.time() >= deadline:
                    raise SysfsWriteTimeout(path, value, timeout, pid)
                time.sleep(0.01)
        finally:
            os.close(read_end)

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
