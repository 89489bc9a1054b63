"""The write log and fault injection of the sysfs model: every write(2) is logged with its result, and a write
can be made to fail with a chosen errno (the ``nth`` next one, or those whose path matches a glob).
:class:`FaultsMixin` is one part of :class:`model.Host`.
"""

import errno
import fnmatch

from .tree import _err


class FaultsMixin(object):
    """Writes: logged, maybe faulted, then stored (a part of :class:`model.Host`)."""

    def add_fault(self, errno_name, nth=None, path=None, times=None):
        """Make the ``nth`` next write, or writes whose path matches the glob ``path`` (``times`` of them, all when
        None), fail with ``errno_name`` (``EBUSY``, ``EIO``...). ``BLOCK`` (with ``path``): matching writes to a
        device a VM holds wait until it is detached or the faults are cleared (see :meth:`blocked`)."""
        if isinstance(errno_name, str) and errno_name.upper() == 'BLOCK':
            if path is None:
                raise ValueError('a BLOCK fault needs a path glob')
            self.faults.append({'errno': 'BLOCK', 'at': None, 'path': path, 'times': None})
            return
        code = getattr(errno, errno_name.upper(), None) if isinstance(errno_name, str) else errno_name
        if not isinstance(code, int):
            raise ValueError('unknown errno %r' % (errno_name,))
        if (nth is None) == (path is None):
            raise ValueError('give exactly one of nth or path')
        self.faults.append({'errno': code, 'at': len(self.writes) + nth if nth else None, 'path': path, 'times': times})

    def blocked(self, path):
        """Does a BLOCK fault hold this write? Only while the mdev or PCI device the path belongs to is in use: the
        real kernel blocks a remove/unbind of a device whose VFIO group a VM holds [drivers/vfio/vfio_main.c]."""
        for fault in self.faults:
            if fault['errno'] == 'BLOCK' and fnmatch.fnmatchcase(path, fault['path']):
                return any(('/%s/' % key.split(':', 1)[1]) in path for key in self.in_use)
        return False

    def _fault_for(self, path):
        seq = len(self.writes) + 1
        for fault in self.faults:
            if fault['errno'] == 'BLOCK':
                continue
            if fault['at'] is not None and fault['at'] == seq:
                self.faults.remove(fault)
                return fault['errno']
            if fault['path'] is not None and fnmatch.fnmatchcase(path, fault['path']):
                if fault['times'] is not None:
                    fault['times'] -= 1
                    if fault['times'] <= 0:
                        self.faults.remove(fault)
                return fault['errno']
        return None

    def write(self, path, data):
        """A write(2) to ``path`` (the resolved path under the mount): logged, maybe faulted, then stored."""
        text = data.decode('utf-8', 'replace') if isinstance(data, bytes) else data
        node = self.lookup(path)
        if node is None:
            raise _err(errno.ENOENT)
        if node.kind != 'file' or node.store is None:
            raise _err(errno.EACCES)
        code = self._fault_for('/sys' + path)
        try:
            if code is not None:
                raise _err(code)
            try:
                node.store(text)
            finally:
                self.changed()
        except OSError as exc:
            self.writes.append((len(self.writes) + 1, '/sys' + path, text, errno.errorcode.get(exc.errno, str(exc.errno))))
            raise
        self.writes.append((len(self.writes) + 1, '/sys' + path, text, 'ok'))
