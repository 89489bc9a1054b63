"""The thin FUSE layer: maps file operations onto :class:`model.Host`, one operation at a time under a lock.

Every file is opened with ``direct_io`` and the mount uses zero attribute/entry timeouts, so readers always see
the current state (sysfs attributes are computed on each read) and a writer gets the errno of the store
(``echo bad > create`` prints "Invalid argument"), as with the kernel [reference: test-infrastructure, FUSE].
"""

import errno
import os
import stat
import threading
import time

import mfusepy

from .model import Attr

BOOT_NS = 1_700_000_000 * 10**9


class SysfsOperations(mfusepy.Operations):
    use_ns = True

    def __init__(self, host, lock=None):
        self.host = host
        self.lock = lock or threading.Lock()

    def _node(self, path):
        node = self.host.lookup(path)
        if node is None:
            raise mfusepy.FuseOSError(errno.ENOENT)
        return node

    def getattr(self, path, fh=None):
        with self.lock:
            node = self._node(path)
            times = {'st_atime': BOOT_NS, 'st_mtime': BOOT_NS, 'st_ctime': BOOT_NS, 'st_uid': 0, 'st_gid': 0}
            if node.kind == 'dir':
                times.update(st_mode=stat.S_IFDIR | 0o755, st_nlink=2, st_size=0)
            elif node.kind == 'link':
                times.update(st_mode=stat.S_IFLNK | 0o777, st_nlink=1, st_size=len(node.target))
            else:
                times.update(st_mode=stat.S_IFREG | node.mode, st_nlink=1, st_size=node.size)
            return times

    def readdir(self, path, fh):
        with self.lock:
            node = self._node(path)
            if node.kind != 'dir':
                raise mfusepy.FuseOSError(errno.ENOTDIR)
            return ['.', '..'] + list(node.children())

    def readlink(self, path):
        with self.lock:
            node = self._node(path)
            if node.kind != 'link':
                raise mfusepy.FuseOSError(errno.EINVAL)
            return node.target

    def open(self, path, fi):
        """kernfs_fop_open(): no ``show`` -> reading refused, no ``store`` -> writing refused, EACCES even for root."""
        with self.lock:
            node = self._node(path)
            if not isinstance(node, Attr):
                raise mfusepy.FuseOSError(errno.EISDIR)
            mode = fi.flags & os.O_ACCMODE
            if mode in (os.O_RDONLY, os.O_RDWR) and node.show is None:
                raise mfusepy.FuseOSError(errno.EACCES)
            if mode in (os.O_WRONLY, os.O_RDWR) and node.store is None:
                raise mfusepy.FuseOSError(errno.EACCES)
            fi.direct_io = 1
            fi.fh = 0
            return 0

    def read(self, path, size, offset, fh):
        with self.lock:
            data = self._node(path).read()
            return data[offset:offset + size]

    def write(self, path, data, offset, fh):
        """One write(2). A write a ``--block`` fault holds waits here, outside the lock (the other file operations go
        on), until the fault is cleared or the VM holding the device is detached -- as the kernel's
        vfio_unregister_group_dev() blocks a remove until the VM lets go; then it is stored as usual."""
        while True:
            with self.lock:
                if not self.host.blocked('/sys' + path):
                    break
            time.sleep(0.02)
        with self.lock:
            try:
                self.host.write(path, data)
            except OSError as exc:
                raise mfusepy.FuseOSError(exc.errno)
            return len(data)

    def truncate(self, path, length, fh=None):
        """``echo x > attr`` opens with O_TRUNC; sysfs ignores the truncation."""
        with self.lock:
            self._node(path)
            return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        return 0

    def statfs(self, path):
        return {'f_bsize': 4096, 'f_frsize': 4096, 'f_namemax': 255}


def serve(host, mountpoint, lock):
    """Run the filesystem in the foreground until unmounted or signalled (SIGTERM/SIGINT unmount cleanly)."""
    # threads: a write held by a --block fault must not stop the other operations (each still runs under the lock)
    mfusepy.FUSE(SysfsOperations(host, lock), mountpoint, raw_fi=True, foreground=True, nothreads=False,
                 fsname='sysfs-emulator', attr_timeout=0, entry_timeout=0, negative_timeout=0)
