"""scripts/debian-tree.sh and scripts/debian-root.sh with something mounted under the tree.

debootstrap once left ``proc`` mounted inside the cached tree (its unmount at exit fails while the mount is
busy) and the role tests' ``cp -a`` of that tree read /proc/<pid>/task/<tid>/pagemap until the disk was full.
Each case runs in a mount namespace of its own (``unshare --mount``; with ``--map-root-user`` when not root),
so whatever it mounts disappears with it, even when the case fails half-way; afterwards the host must have
nothing mounted under the case's directory.
"""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TREE = os.path.join(REPO, 'scripts', 'debian-tree.sh')
ROOT = os.path.join(REPO, 'scripts', 'debian-root.sh')

# A debootstrap double: makes a small tree, mounts a tmpfs at proc with a big "pagemap" in it, keeps the
# mount busy (a process whose working directory is inside it, its pid in $HOLDER_PID) and exits with
# $DEBOOTSTRAP_RC, the way the real one can leave proc behind.
DEBOOTSTRAP = r'''#!/bin/bash
set -eu
target=${!#}
mkdir -p "$target/proc" "$target/sys" "$target/dev" "$target/etc" "$target/usr/bin"
echo bookworm > "$target/etc/debian_version"
mount -t tmpfs proc "$target/proc"
head -c 4194304 /dev/zero > "$target/proc/pagemap"
(cd "$target/proc" && exec sleep 60) </dev/null >/dev/null 2>&1 &
echo $! > "$HOLDER_PID"
exit "${DEBOOTSTRAP_RC:-0}"
'''


def _in_namespace(script, tmp_path, env=None):
    """Run a bash script in a private mount namespace; returns (exit status, stdout + stderr)."""
    prefix = ['unshare', '--mount', '--propagation', 'private']
    if os.geteuid() != 0:
        prefix.append('--map-root-user')
    full_env = dict(os.environ, TREE_SH=TREE, ROOT_SH=str(tmp_path / 'repo' / 'scripts' / 'debian-root.sh'),
                    T=str(tmp_path), GPUVIRT_UNMOUNT_TRIES='2', GPUVIRT_UNMOUNT_DELAY='0', **(env or {}))
    proc = subprocess.run(prefix + ['bash', '-c', textwrap.dedent(script)], cwd=REPO, env=full_env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False,
                          timeout=120)
    return proc.returncode, proc.stdout


@pytest.fixture
def work(tmp_path):
    # debian-root.sh makes its tree in <its repository>/.cache: the scripts run from a copy in tmp_path, so no
    # case ever touches this checkout's cached tree.
    os.makedirs(str(tmp_path / 'repo' / 'scripts'))
    for script in (TREE, ROOT):
        shutil.copy(script, str(tmp_path / 'repo' / 'scripts'))
    yield tmp_path
    leftover = subprocess.run(['bash', TREE, 'mounts', str(tmp_path)], stdout=subprocess.PIPE,
                              universal_newlines=True, check=True).stdout
    assert leftover == '', 'mounts leaked out of the test namespace: %s' % leftover


def _small_tree(root):
    for name in ('etc', 'usr/bin', 'proc', 'sys', 'dev/pts'):
        os.makedirs(os.path.join(str(root), name))
    (root / 'etc' / 'hostname').write_text('guest\n')
    (root / 'usr' / 'bin' / 'tool').write_text('#!/bin/sh\n')


def test_copy_refuses_a_tree_with_proc_mounted_and_does_not_descend(work):
    _small_tree(work / 'tree')
    rc, out = _in_namespace('''
        set -u
        mount -t tmpfs proc "$T/tree/proc"
        head -c 4194304 /dev/zero > "$T/tree/proc/pagemap"
        bash "$TREE_SH" check "$T/tree"; echo "check=$?"
        bash "$TREE_SH" copy "$T/tree" "$T/copy"; echo "copy=$?"
        test -e "$T/copy/proc/pagemap" && echo "pagemap copied"
        bash "$TREE_SH" unmount "$T/tree"; echo "unmount=$?"
        bash "$TREE_SH" copy "$T/tree" "$T/copy"; echo "copy after unmount=$?"
        exit 0
    ''', work)
    assert rc == 0, out
    assert 'check=1' in out, out
    assert 'copy=1' in out, out
    assert 'mounted under %s' % (work / 'tree') in out and str(work / 'tree' / 'proc') in out, out
    assert 'pagemap copied' not in out, out
    assert 'unmount=0' in out and 'copy after unmount=0' in out, out
    assert (work / 'copy' / 'etc' / 'hostname').read_text() == 'guest\n'
    assert os.listdir(str(work / 'copy' / 'proc')) == []


def test_python_helper_raises_instead_of_copying_through_a_mount(work):
    _small_tree(work / 'tree')
    rc, out = _in_namespace('''
        set -eu
        mount -t tmpfs proc "$T/tree/proc"
        head -c 4194304 /dev/zero > "$T/tree/proc/pagemap"
        "$PYTHON" - <<'PY'
        import os
        from tests.debian_tree import TreeError, copy_tree, remove_tree
        t = os.environ['T']
        try:
            copy_tree(t + '/tree', t + '/copy')
        except TreeError as error:
            print('copy refused:', error)
        try:
            remove_tree(t + '/tree')
        except TreeError as error:
            print('remove refused:', error)
        print('pagemap still there:', os.path.exists(t + '/tree/proc/pagemap'))
        print('pagemap copied:', os.path.exists(t + '/copy/proc/pagemap'))
        PY
    ''', work, env={'PYTHON': sys.executable})
    assert rc == 0, out
    assert 'copy refused:' in out and 'remove refused:' in out, out
    assert 'pagemap still there: True' in out and 'pagemap copied: False' in out, out


def test_copy_leaves_out_proc_sys_dev_contents_and_keeps_the_rest(work):
    tree = work / 'tree'
    _small_tree(tree)
    (tree / 'proc' / 'stale').write_text('x')
    (tree / 'sys' / 'stale').write_text('x')
    (tree / 'dev' / 'pts' / 'stale').write_text('x')
    (tree / 'dev' / 'console').write_text('')  # stands for the device nodes a chroot needs
    os.symlink('/proc/self/fd', str(tree / 'dev' / 'fd'))
    subprocess.run(['bash', TREE, 'copy', str(tree), str(work / 'copy')], check=True)
    copy = work / 'copy'
    assert os.listdir(str(copy / 'proc')) == [] and os.listdir(str(copy / 'sys')) == []
    assert os.listdir(str(copy / 'dev' / 'pts')) == []
    assert (copy / 'dev' / 'console').exists() and os.readlink(str(copy / 'dev' / 'fd')) == '/proc/self/fd'
    assert (copy / 'usr' / 'bin' / 'tool').read_text() == '#!/bin/sh\n'


def test_copy_refuses_a_tree_over_the_size_limit(work):
    tree = work / 'tree'
    _small_tree(tree)
    (tree / 'big').write_bytes(b'\1' * (3 << 20))
    proc = subprocess.run(['bash', TREE, 'copy', str(tree), str(work / 'copy')], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False,
                          env=dict(os.environ, GPUVIRT_TREE_MAX_MB='1'))
    assert proc.returncode == 1 and 'over the 1 MB limit' in proc.stdout, proc.stdout
    assert not (work / 'copy').exists()


def test_unmount_falls_back_to_lazy_for_a_busy_mount(work):
    _small_tree(work / 'tree')
    rc, out = _in_namespace('''
        set -u
        mount -t tmpfs proc "$T/tree/proc"
        mount -t tmpfs inner "$T/tree/proc"
        (cd "$T/tree/proc" && exec sleep 60) </dev/null >/dev/null 2>&1 &
        holder=$!
        trap 'kill $holder' EXIT
        sleep 0.2
        bash "$TREE_SH" unmount "$T/tree"; echo "unmount=$?"
        echo "left=[$(bash "$TREE_SH" mounts "$T/tree")]"
        grep -c " $T/tree/" /proc/self/mountinfo
        exit 0
    ''', work)
    assert rc == 0, out
    assert 'lazy unmount' in out and 'unmount=0' in out and 'left=[]' in out, out
    assert out.rstrip().endswith('\n0'), out


@pytest.mark.parametrize('debootstrap_rc', [0, 1])
def test_debian_root_leaves_nothing_mounted_even_when_debootstrap_fails(work, debootstrap_rc):
    base = work / 'repo' / '.cache' / 'debian-bookworm'
    bindir = work / 'bin'
    bindir.mkdir()
    (bindir / 'debootstrap').write_text(DEBOOTSTRAP)
    os.chmod(str(bindir / 'debootstrap'), 0o755)
    rc, out = _in_namespace('''
        set -u
        trap 'kill $(cat "$HOLDER_PID") 2>/dev/null' EXIT
        bash "$ROOT_SH" > "$T/stdout"; echo "debian-root=$?"
        echo "left=[$(bash "$TREE_SH" mounts "$T/repo/.cache/debian-bookworm")]"
        exit 0
    ''', work, env={'PATH': '%s:%s' % (bindir, os.environ['PATH']),
                    'HOLDER_PID': str(work / 'holder.pid'), 'DEBOOTSTRAP_RC': str(debootstrap_rc)})
    assert rc == 0, out
    assert 'left=[]' in out, out
    assert 'lazy unmount' in out, out
    if debootstrap_rc:
        assert 'debian-root=1' in out and 'debootstrap failed' in out, out
        assert not (base / '.complete').exists()
    else:
        assert 'debian-root=0' in out, out
        assert (work / 'stdout').read_text().strip() == str(base)
        assert (base / '.complete').exists()
        assert os.listdir(str(base / 'proc')) == []


def test_debian_root_refuses_a_cached_tree_with_a_mount_under_it(work):
    base = work / 'repo' / '.cache' / 'debian-bookworm'
    _small_tree(base)
    (base / '.complete').write_text('')
    rc, out = _in_namespace('''
        set -u
        mount -t tmpfs proc "$T/repo/.cache/debian-bookworm/proc"
        bash "$ROOT_SH" > "$T/stdout"; echo "debian-root=$?"
        echo "left=[$(bash "$TREE_SH" mounts "$T/repo/.cache/debian-bookworm")]"
        exit 0
    ''', work)
    assert rc == 0, out
    assert 'debian-root=1' in out and 'refusing the cached tree' in out, out
    assert str(base / 'proc') in out, out
    assert (work / 'stdout').read_text() == ''
    assert 'left=[%s]' % (base / 'proc') in out, out  # refused and left alone, not quietly unmounted
