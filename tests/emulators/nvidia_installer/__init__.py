"""Test doubles for NVIDIA's vGPU Manager on a Linux KVM host (reference gpu-virtualization-facts.md §1-3, [S1 §2.10]).

- :func:`build_run` writes ``NVIDIA-Linux-x86_64-<version>-vgpu-kvm.run``: a self-extracting archive (MD5-checked like
  makeself) whose ``nvidia-installer`` refuses what the real one refuses (not root, nouveau loaded, no ``cc``/``make``,
  no kernel headers, no ``dkms`` with ``--dkms``, an older module in use) and really builds an (empty) ``nvidia``
  kernel module with Kbuild, through DKMS with ``--dkms``, so ``modinfo -F version nvidia`` reports ``<version>``.
- :func:`build_deb` writes ``nvidia-vgpu-ubuntu-<branch>_<version>_amd64.deb`` (a real package made with dpkg-deb,
  ``Depends: dkms``) whose postinst builds the module through DKMS for every kernel with headers and loads nothing.
- Both install the host side ``nvidia-smi``, ``nvidia-vgpud``, ``nvidia-vgpu-mgr``, ``/usr/lib/nvidia/sriov-manage``
  and the two systemd units (``payload/``).
- :func:`prepare_host` turns a copy of a debootstrapped Debian tree into a KVM host for a chroot connection: the kernel's
  view under ``/proc`` and ``/sys`` as plain files (running kernel, command line, CPU vendor, NVIDIA GPUs on the PCI
  bus, nouveau loaded), Debian's ``/etc/default/grub``, and the doubles for ``systemctl`` (tests/emulators/guest),
  ``update-grub``, ``update-initramfs`` and a reboot (``host/``).
"""

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile

from tests.emulators.sysfs.gpus import GPUS as SYSFS_GPUS

HERE = os.path.dirname(os.path.abspath(__file__))
PAYLOAD = os.path.join(HERE, 'payload')
HOST = os.path.join(HERE, 'host')
GUEST = os.path.join(os.path.dirname(HERE), 'guest')

# The payload files and where the installer puts them (documentation; nvidia-installer does the copying).
PAYLOAD_FILES = ('nvidia-installer', 'nvidia-smi', 'nvidia-vgpud', 'nvidia-vgpu-mgr', 'sriov-manage',
                 'nvidia-vgpud.service', 'nvidia-vgpu-mgr.service', 'kernel/nvidia.c.in', 'kernel/Kbuild',
                 'kernel/dkms.conf.in')

# The GPUs prepare_host can put on the bus: the sysfs emulator's catalog (PCI device id, sriov_totalvfs; T4 is
# pre-Ampere, without SR-IOV), so both doubles agree on what an A10 or an L40S is.
GPUS = dict((token, ('0x%04x' % spec.device_id, spec.total_vfs)) for token, spec in SYSFS_GPUS.items())
CPU_VENDORS = {'intel': ('GenuineIntel', 'Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz'),
               'amd': ('AuthenticAMD', 'AMD EPYC 7413 24-Core Processor')}
DEFAULT_GRUB = '''# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.
# For full documentation of the options in this file, see:
#   info -f grub -n 'Simple configuration'

GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""
'''


def _render(path, version):
    with open(path) as handle:
        return handle.read().replace('@VERSION@', version)


def _payload_tar(version, names):
    """A gzip'd tar of the payload files, @VERSION@ filled in, with their modes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:gz') as tar:
        for name in names:
            data = _render(os.path.join(PAYLOAD, name), version).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if os.access(os.path.join(PAYLOAD, name), os.X_OK) else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def build_run(version, outdir):
    """Write the .run archive double for ``version`` into ``outdir``; return its path."""
    payload = _payload_tar(version, PAYLOAD_FILES)
    header = '#!/bin/sh\n' + _render(os.path.join(PAYLOAD, 'run-header.sh.in'), version)
    header = header.replace('@MD5@', hashlib.md5(payload).hexdigest())
    skip = header.count('\n') + 1
    header = header.replace('@SKIP@', str(skip))
    path = os.path.join(outdir, 'NVIDIA-Linux-x86_64-%s-vgpu-kvm.run' % version)
    with open(path, 'wb') as handle:
        handle.write(header.encode() + payload)
    os.chmod(path, 0o755)
    return path


def build_deb(version, outdir):
    """Write the Ubuntu .deb double for ``version`` (package ``nvidia-vgpu-ubuntu-<branch>``) with dpkg-deb."""
    branch = version.split('.')[0]
    package = 'nvidia-vgpu-ubuntu-%s' % branch
    work = tempfile.mkdtemp()
    try:
        layout = {
            'usr/bin/nvidia-smi': 'nvidia-smi',
            'usr/bin/nvidia-vgpud': 'nvidia-vgpud',
            'usr/bin/nvidia-vgpu-mgr': 'nvidia-vgpu-mgr',
            'usr/lib/nvidia/sriov-manage': 'sriov-manage',
            'lib/systemd/system/nvidia-vgpud.service': 'nvidia-vgpud.service',
            'lib/systemd/system/nvidia-vgpu-mgr.service': 'nvidia-vgpu-mgr.service',
            'usr/src/nvidia-%s/nvidia.c' % version: 'kernel/nvidia.c.in',
            'usr/src/nvidia-%s/Kbuild' % version: 'kernel/Kbuild',
            'usr/src/nvidia-%s/dkms.conf' % version: 'kernel/dkms.conf.in',
            'DEBIAN/postinst': 'deb-postinst',
            'DEBIAN/prerm': 'deb-prerm',
        }
        for dest, src in layout.items():
            path = os.path.join(work, dest)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'w') as handle:
                handle.write(_render(os.path.join(PAYLOAD, src), version))
            os.chmod(path, 0o755 if os.access(os.path.join(PAYLOAD, src), os.X_OK) else 0o644)
        with open(os.path.join(work, 'DEBIAN', 'control'), 'w') as handle:
            handle.write('Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: gpuvirt.core test double '
                         '<nobody@example.invalid>\nDepends: dkms\nSection: kernel\nPriority: optional\n'
                         'Description: NVIDIA vGPU Manager for KVM (test double)\n'
                         ' Registers the vGPU Manager kernel module with DKMS and installs nvidia-smi,\n'
                         ' nvidia-vgpud, nvidia-vgpu-mgr and sriov-manage.\n' % (package, version))
        path = os.path.join(outdir, '%s_%s_amd64.deb' % (package, version))
        subprocess.run(['dpkg-deb', '--root-owner-group', '-Zgzip', '--build', work, path], check=True,
                       stdout=subprocess.DEVNULL)
        return path
    finally:
        shutil.rmtree(work)


def _write(root, rel, content, mode=0o644):
    path = os.path.join(root, rel.lstrip('/'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(content)
    os.chmod(path, mode)
    return path


def _install(root, src, rel):
    path = os.path.join(root, rel.lstrip('/'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copy(src, path)
    os.chmod(path, 0o755)


def parse_gpus(spec):
    """``a10:1,t4:1`` -> [('a10', 0x2236, 24), ...] one entry per GPU."""
    out = []
    for item in filter(None, (spec or '').split(',')):
        token, _sep, count = item.partition(':')
        if token not in GPUS:
            raise ValueError('unknown GPU %r (known: %s)' % (token, ', '.join(sorted(GPUS))))
        out.extend([(token,) + GPUS[token]] * int(count or 1))
    return out


def prepare_host(root, kernel, cpu='intel', gpus='a10:1', nouveau=True, cmdline_extra=''):
    """Make the Debian tree at ``root`` a KVM host for a chroot connection (see the module docstring)."""
    if cpu not in CPU_VENDORS:
        raise ValueError('cpu must be one of %s' % ', '.join(sorted(CPU_VENDORS)))
    _install(root, os.path.join(GUEST, 'systemctl'), 'usr/bin/systemctl')
    for name, rel in (('update-grub', 'usr/sbin/update-grub'), ('update-initramfs', 'usr/sbin/update-initramfs'),
                      ('host-reboot', 'usr/local/sbin/host-reboot')):
        _install(root, os.path.join(HOST, name), rel)
    vendor, model = CPU_VENDORS[cpu]
    cpuinfo = ''.join('processor\t: %d\nvendor_id\t: %s\ncpu family\t: 6\nmodel name\t: %s\nflags\t\t: fpu vme de pse '
                      'msr pae vmx svm\n\n' % (n, vendor, model) for n in range(2))
    _write(root, 'proc/cpuinfo', cpuinfo)
    _write(root, 'proc/sys/kernel/osrelease', kernel + '\n')
    _write(root, 'proc/sys/kernel/random/boot_id', '0f0e0d0c-0b0a-4908-8706-050403020100\n')
    _write(root, 'etc/default/grub', DEFAULT_GRUB)
    os.makedirs(os.path.join(root, 'etc', 'default', 'grub.d'), exist_ok=True)
    for n, (_token, device, total_vfs) in enumerate(parse_gpus(gpus)):
        address = '0000:%02x:00.0' % (0x41 + n)
        real = 'sys/devices/pci0000:40/0000:40:%02x.1/%s' % (1 + n, address)
        _write(root, real + '/vendor', '0x10de\n')
        _write(root, real + '/device', device + '\n')
        _write(root, real + '/class', '0x030200\n')
        _write(root, real + '/subsystem_vendor', '0x10de\n')
        _write(root, real + '/numa_node', '0\n')
        if total_vfs:
            _write(root, real + '/sriov_totalvfs', '%d\n' % total_vfs)
            _write(root, real + '/sriov_numvfs', '0\n')
        link = os.path.join(root, 'sys', 'bus', 'pci', 'devices', address)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink('../../../devices/pci0000:40/0000:40:%02x.1/%s' % (1 + n, address), link)
    if nouveau:
        os.makedirs(os.path.join(root, 'sys', 'module', 'nouveau'), exist_ok=True)
    subprocess.run(['chroot', root, '/usr/sbin/update-initramfs', '-c', '-k', kernel], check=True,
                   stderr=subprocess.DEVNULL)
    subprocess.run(['chroot', root, '/usr/sbin/update-grub'], check=True, stderr=subprocess.DEVNULL)
    with open(os.path.join(root, 'boot', 'grub', 'grub.cfg')) as handle:
        linux = [line.split(None, 1)[1] for line in handle if line.strip().startswith('linux')][0]
    image, _sep, args = linux.strip().partition(' ')
    _write(root, 'proc/cmdline', ' '.join(('BOOT_IMAGE=%s %s %s' % (image, args, cmdline_extra)).split()) + '\n')
    # the double logs of that set-up are not the role's
    for log in ('update-grub-double.log', 'update-initramfs-double.log'):
        try:
            os.unlink(os.path.join(root, 'var', 'log', log))
        except OSError:
            pass
