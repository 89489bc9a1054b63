"""The virtual file tree of the sysfs model: directories computed from the state on every lookup, attributes with
the kernel's show/store semantics, relative symlinks as sysfs writes them, and errors as ``OSError(errno)``."""

import errno
import posixpath

PAGE_SIZE = 4096


def _err(code):
    return OSError(code, '%s' % errno.errorcode.get(code, code))


class Dir(object):
    """A directory whose entries are computed from the state each time (sysfs is a view of kernel objects)."""

    kind = 'dir'
    __slots__ = ('entries',)

    def __init__(self, entries):
        self.entries = entries

    def children(self):
        return self.entries() if callable(self.entries) else self.entries


class Attr(object):
    """A sysfs attribute. ``show`` returns the text (or bytes), ``store`` takes the written text.

    Like kernfs, an attribute without ``show`` cannot be opened for reading and one without ``store`` cannot be
    opened for writing (EACCES at open, even for root) [kernel fs/kernfs/file.c kernfs_fop_open].
    """

    kind = 'file'
    __slots__ = ('show', 'store', 'size', 'fixed_mode')

    def __init__(self, show=None, store=None, size=PAGE_SIZE, mode=None):
        self.show = show
        self.store = store
        self.size = size
        self.fixed_mode = mode      # the kernel's mode where it is not 0444/0200 (``remove`` 0220, ``resource0`` 0600)

    @property
    def mode(self):
        if self.fixed_mode is not None:
            return self.fixed_mode
        return (0o444 if self.show else 0) | (0o200 if self.store else 0)

    def read(self):
        if self.show is None:
            raise _err(errno.EACCES)
        data = self.show()
        return data if isinstance(data, bytes) else data.encode()


class Link(object):
    """A relative symlink, as sysfs writes them."""

    kind = 'link'
    __slots__ = ('target',)

    def __init__(self, target):
        self.target = target


def _text(value):
    return lambda: '%s\n' % (value() if callable(value) else value)


def _ro(value):
    return Attr(show=_text(value))


def _link(from_dir, to_path):
    return Link(posixpath.relpath(to_path, from_dir))
