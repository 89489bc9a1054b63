"""Go programs the tests run, built from a go.mod of the project on first use into ``.cache/``.

``build(...)`` is the one way every test world builds its Go programs (the Kubernetes world's etcd, kube-apiserver,
kubectl and helm; NVIDIA's vgpu-device-manager; the vSphere simulator): ``go build`` with the machine's Go in the
folder that holds the pinned go.mod/go.sum, into ``<cache>/<digest>/``, where the digest covers every file of that
folder plus ``extra`` (link flags, the caller's own source), so a changed pin builds anew and an unchanged one is
reused. Builds go to a staging folder renamed into place, under a file lock: concurrent callers wait for one build.
"""
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time


def digest(gobuild, extra=()):
    """16 hex digits over the files under ``gobuild`` (names and contents) and the ``extra`` strings/bytes."""
    sha = hashlib.sha256()
    for item in extra:
        sha.update(item if isinstance(item, bytes) else str(item).encode())
    for root, dirs, files in os.walk(gobuild):
        dirs.sort()
        for name in sorted(files):
            with open(os.path.join(root, name), 'rb') as stream:
                sha.update(os.path.relpath(os.path.join(root, name), gobuild).encode() + b'\0' + stream.read())
    return sha.hexdigest()[:16]


def pinned(gomod_dir, module):
    """The version ``<gomod_dir>/go.mod`` requires for ``module`` (``k8s.io/kubernetes`` -> ``v1.37.2``), read from the
    file, not from the network; RuntimeError when it is not pinned there."""
    with open(os.path.join(gomod_dir, 'go.mod')) as stream:
        found = re.search(r'^\s*(?:require\s+)?%s\s+(v\S+)' % re.escape(module), stream.read(), re.M)
    if not found:
        raise RuntimeError('%s/go.mod does not require %s' % (gomod_dir, module))
    return found.group(1)


def source_of(path):
    """The bytes of a file, for ``extra`` (a builder's own source: a changed build recipe builds anew)."""
    with open(path, 'rb') as stream:
        return stream.read()


def build(gobuild, cache, programs, what, ldflags='-s -w', cgo=False, extra=(), log=sys.stderr):
    """Build ``programs`` ({output name: Go package}) from ``gobuild`` once; return the folder that holds them.

    ``what`` names the build in messages; RuntimeError when Go is missing or the build fails (never a skip).
    """
    target = os.path.join(cache, digest(gobuild, (ldflags, cgo) + tuple(extra)))

    def complete(folder):
        return all(os.access(os.path.join(folder, name), os.X_OK) for name in programs)
    if complete(target):
        return target
    if not shutil.which('go'):
        raise RuntimeError('go is missing: %s is built from %s with Go >= 1.26' % (what, gobuild))
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, 'build.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if complete(target):
            return target
        staging = target + '.partial'
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        env = dict(os.environ, CGO_ENABLED='1' if cgo else '0', GOFLAGS='-mod=readonly', GOWORK='off')
        command = ['go', 'build', '-trimpath', '-ldflags', ldflags, '-o', staging + os.sep] + list(programs.values())
        started = time.monotonic()
        print('building %s from %s (first use; later runs reuse %s)' % (what, gobuild, target), file=log, flush=True)
        proc = subprocess.run(command, cwd=gobuild, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              check=False)
        if proc.returncode != 0:
            raise RuntimeError('go build of %s failed (%s):\n%s' % (what, ' '.join(command), proc.stdout))
        missing = [name for name in programs if not os.access(os.path.join(staging, name), os.X_OK)]
        if missing:
            raise RuntimeError('go build did not produce %s in %s' % (', '.join(missing), staging))
        shutil.rmtree(target, ignore_errors=True)
        os.rename(staging, target)
        print('built in %.0f s' % (time.monotonic() - started), file=log, flush=True)
    return target
