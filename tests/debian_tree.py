"""The debootstrapped Debian tree that role tests play through a chroot connection.

``debian_base()`` is the read-only base (scripts/debian-root.sh, which leaves nothing mounted under it);
``copy_tree()`` and ``remove_tree()`` go through scripts/debian-tree.sh, the one place that copies such a tree:
it refuses a tree with a mount under it, never crosses a file system boundary, leaves out proc/, sys/ and
dev's subdirectories, and checks the copy's size, so a stray mount cannot turn a copy into hundreds of GB.
"""
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEBIAN_ROOT = os.path.join(REPO, 'scripts', 'debian-root.sh')
DEBIAN_TREE = os.path.join(REPO, 'scripts', 'debian-tree.sh')


class TreeError(RuntimeError):
    """A tree that cannot be made, copied or removed safely (the message says why)."""


def _script(*argv, **kwargs):
    proc = subprocess.run(['bash'] + list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False, **kwargs)
    if proc.returncode != 0:
        raise TreeError('%s failed (exit %d):\n%s' % (' '.join(argv), proc.returncode, proc.stderr))
    return proc.stdout


def debian_base():
    """The path of the read-only Debian bookworm base tree (made on first use)."""
    return _script(DEBIAN_ROOT).strip()


def copy_tree(src, dest, **kwargs):
    """Make ``dest`` a copy of the tree ``src``; raises TreeError instead of copying through a mount."""
    _script(DEBIAN_TREE, 'copy', str(src), str(dest), **kwargs)
    return str(dest)


def remove_tree(path, **kwargs):
    """Remove a tree without crossing into anything mounted under it."""
    _script(DEBIAN_TREE, 'remove', str(path), **kwargs)
