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
import os
import subprocess
import sys

from tests import gobuild

HERE = os.path.dirname(os.path.abspath(__file__))
GOBUILD = os.path.join(HERE, 'gobuild')
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
CACHE = os.path.join(REPO, '.cache', 'peers', 'vgpu-device-manager')
PACKAGE = 'github.com/NVIDIA/vgpu-device-manager/cmd/nvidia-vgpu-dm'
NAME = 'nvidia-vgpu-dm'


def ensure(log=sys.stderr):
    """Build nvidia-vgpu-dm once; return the path of the binary."""
    folder = gobuild.build(GOBUILD, CACHE, {NAME: PACKAGE}, NAME, cgo=True, extra=[gobuild.source_of(os.path.abspath(__file__))], log=log)
    return os.path.join(folder, NAME)


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
