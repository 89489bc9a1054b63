"""NVIDIA's vgpu-device-manager (``nvidia-vgpu-dm``), built from its Go module pinned in ``gobuild/go.mod``, and a
way to run it against the sysfs emulator.

``ensure()`` builds ``nvidia-vgpu-dm`` with the machine's Go on first use into ``.cache/peers/vgpu-device-manager/
<digest>/`` (the digest covers go.mod, go.sum and tools.go) and returns its path; later calls reuse it. cgo is on:
the tool links NVIDIA's go-nvml (through mig-parted), which has no pure-Go build; go-nvml opens libnvidia-ml only when
called, and ``apply``/``assert`` never call it (they read sysfs through go-nvlib's nvpci and nvmdev).

``apply(root, config, label)`` runs ``nvidia-vgpu-dm apply`` in a private mount namespace where ROOT/sys (the
emulator's FUSE mount) is bind-mounted on ``/sys``: the tool hard-codes ``/sys`` as NVIDIA ships it.

    python -m tests.peers.vgpu_device_manager.binaries       # prints the binary's path (builds it first if needed)
"""
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GOBUILD = os.path.join(HERE, 'gobuild')
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
CACHE = os.path.join(REPO, '.cache', 'peers', 'vgpu-device-manager')
PACKAGE = 'github.com/NVIDIA/vgpu-device-manager/cmd/nvidia-vgpu-dm'
NAME = 'nvidia-vgpu-dm'


def digest():
    sha = hashlib.sha256()
    for name in sorted(os.listdir(GOBUILD)):
        with open(os.path.join(GOBUILD, name), 'rb') as stream:
            sha.update(name.encode() + b'\0' + stream.read())
    return sha.hexdigest()[:16]


def ensure(log=sys.stderr):
    """Build nvidia-vgpu-dm once; return the path of the binary."""
    target = os.path.join(CACHE, digest())
    binary = os.path.join(target, NAME)
    if os.access(binary, os.X_OK):
        return binary
    if not shutil.which('go'):
        raise RuntimeError('go is missing: the vgpu-device-manager peer is built from %s with Go >= 1.26' % GOBUILD)
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, 'build.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.access(binary, os.X_OK):
            return binary
        staging = target + '.partial'
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        env = dict(os.environ, CGO_ENABLED='1', GOFLAGS='-mod=readonly', GOWORK='off')
        command = ['go', 'build', '-trimpath', '-ldflags', '-s -w', '-o', staging + os.sep, PACKAGE]
        started = time.monotonic()
        print('building %s from %s (first use; later runs reuse %s)' % (NAME, GOBUILD, target), file=log, flush=True)
        proc = subprocess.run(command, cwd=GOBUILD, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError('go build of %s failed (%s):\n%s' % (NAME, ' '.join(command), proc.stdout))
        if not os.access(os.path.join(staging, NAME), os.X_OK):
            raise RuntimeError('go build did not produce %s in %s' % (NAME, staging))
        shutil.rmtree(target, ignore_errors=True)
        os.rename(staging, target)
        print('built in %.0f s' % (time.monotonic() - started), file=log, flush=True)
    return binary


def apply(root, config, label, timeout=300):
    """``nvidia-vgpu-dm apply -f CONFIG -c LABEL`` with ROOT/sys as /sys (a private mount namespace, gone when the
    command exits: nothing to unmount). Returns the CompletedProcess."""
    binary = ensure()
    script = 'mount --bind "$1" /sys && exec "$2" apply -f "$3" -c "$4"'
    return subprocess.run(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh',
                           os.path.join(root, 'sys'), binary, config, label],
                          capture_output=True, text=True, timeout=timeout, check=False)


if __name__ == '__main__':
    try:
        print(ensure())
    except RuntimeError as exc:
        sys.exit(str(exc))
