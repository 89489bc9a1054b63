"""The sysfs emulator behind a real FUSE mount: shell writes get the kernel's errno, real tools (lspci, mdevctl, bash)
read it like a host, sriov-manage behaves like NVIDIA's, the write log and faults work.

Sections: [S1] NVIDIA vGPU guide, [S2] kernel mdev ABI, [S5] Harvester testdata; "reference §N" is the facts sheet.
"""
import json
import os
import subprocess
import uuid

import pytest

pytestmark = pytest.mark.integration


def addr(index, function=0, device=0):
    """The emulator puts GPU n (in --gpus order) on bus 0x10 + 8n."""
    return '0000:%02x:%02x.%x' % (0x10 + 8 * index, device, function)


A10, T4, L40S = addr(0), addr(2), addr(3)       # with the default a10:2,t4:1,l40s:1


def sh(command):
    """Run a shell command as an admin would; returns (rc, stderr)."""
    proc = subprocess.run(['bash', '-c', command], capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode, proc.stderr


def test_pci_tree_reads_like_a_host(emulator):
    """PCI attributes, links and IOMMU groups of a GPU and its audio function (reference §1, §2)."""
    emu = emulator()
    dev = os.path.join(emu.sys, 'bus/pci/devices', A10)
    assert open(os.path.join(dev, 'vendor')).read() == '0x10de\n'
    assert open(os.path.join(dev, 'device')).read() == '0x2236\n'
    assert open(os.path.join(dev, 'class')).read() == '0x030200\n'
    assert open(os.path.join(dev, 'driver_override')).read() == '(null)\n'
    assert os.path.basename(os.readlink(os.path.join(dev, 'driver'))) == 'nvidia'
    group = os.path.basename(os.readlink(os.path.join(dev, 'iommu_group')))
    members = sorted(os.listdir(os.path.join(emu.sys, 'kernel/iommu_groups', group, 'devices')))
    assert members == [A10, addr(0, 1)]
    assert open(os.path.join(dev, 'sriov_totalvfs')).read() == '24\n'
    assert open(os.path.join(dev, 'sriov_numvfs')).read() == '0\n'
    assert not os.path.exists(os.path.join(dev, 'mdev_supported_types')), 'no mdev types on an SR-IOV PF (reference §2)'
    assert os.listdir(os.path.join(emu.sys, 'class/mdev_bus')) == [T4], 'only the legacy T4 is an mdev parent before sriov-manage'
    # the sysfs path as a real kernel lays it out: bus/pci/devices/X -> ../../../devices/pci0000:00/<port>/X
    assert os.readlink(os.path.join(emu.sys, 'bus/pci/devices', A10)).startswith('../../../devices/pci0000:00/')


def test_lspci_reads_the_emulated_bus(emulator):
    """pciutils (real lspci) names the devices from their config space and shows the bound drivers."""
    emu = emulator('t4:1,l40s:1')
    proc = subprocess.run(['lspci', '-A', 'linux-sysfs', '-O', 'sysfs.path=%s' % os.path.join(emu.sys, 'bus/pci'), '-nnk'],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert '[10de:1eb8]' in proc.stdout and 'Tesla T4' in proc.stdout
    assert '[10de:26b9]' in proc.stdout
    assert 'Kernel driver in use: snd_hda_intel' in proc.stdout


def test_mdev_create_remove_with_kernel_errors(emulator):
    """echo UUID > create: EEXIST for a used UUID, EINVAL for a bad one; equal-size rule; remove [S2][S1 §2.10.8.1]."""
    T4 = addr(0)  # noqa: N806
    emu = emulator('t4:1')
    types = os.path.join(emu.sys, 'class/mdev_bus', T4, 'mdev_supported_types')
    assert open(os.path.join(types, 'nvidia-232/name')).read() == 'GRID T4-4Q\n'
    assert open(os.path.join(types, 'nvidia-232/device_api')).read() == 'vfio-pci\n'
    assert 'max_instance=4' in open(os.path.join(types, 'nvidia-232/description')).read()
    first = str(uuid.uuid4())
    assert sh('echo %s > %s/nvidia-232/create' % (first, types)) == (0, '')
    rc, err = sh('echo %s > %s/nvidia-232/create' % (first, types))
    assert rc == 1 and 'File exists' in err
    rc, err = sh('echo not-a-uuid > %s/nvidia-232/create' % types)
    assert rc == 1 and 'Invalid argument' in err
    assert open(os.path.join(types, 'nvidia-232/available_instances')).read() == '3\n'
    # equal-size: a 2 GB type is now 0, another 4 GB series still has room
    assert open(os.path.join(types, 'nvidia-231/available_instances')).read() == '0\n'
    assert open(os.path.join(types, 'nvidia-227/available_instances')).read() == '3\n'
    rc, err = sh('echo %s > %s/nvidia-231/create' % (uuid.uuid4(), types))
    assert rc == 1 and 'Invalid argument' in err
    link = os.path.join(emu.sys, 'bus/mdev/devices', first)
    assert os.path.islink(link)
    real = os.path.realpath(link)
    assert os.path.basename(os.path.dirname(real)) == T4, 'parent dir basename is the PCI address (go-nvlib, reference §1)'
    assert os.path.basename(os.readlink(os.path.join(link, 'mdev_type'))) == 'nvidia-232'
    assert os.listdir(os.path.join(types, 'nvidia-232/devices')) == [first]
    assert sh('echo 1 > %s/remove' % link) == (0, '')
    assert not os.path.exists(link)
    assert open(os.path.join(types, 'nvidia-231/available_instances')).read() == '8\n'
    written = emu.writes()
    assert [w[2] for w in written] == ['ok', 'EEXIST', 'EINVAL', 'EINVAL', 'ok']


def test_read_only_and_write_only_attributes_refuse(emulator):
    """kernfs: EACCES when opening an attribute the wrong way, even as root."""
    T4 = addr(0)  # noqa: N806
    emu = emulator('t4:1')
    rc, err = sh('echo 0x1234 > %s/bus/pci/devices/%s/vendor' % (emu.sys, T4))
    assert rc == 1 and 'Permission denied' in err
    rc, err = sh('cat %s/bus/pci/drivers/vfio-pci/bind' % emu.sys)
    assert rc == 1 and 'Permission denied' in err
    assert emu.writes() == []


def test_driver_binding_errors_and_override(emulator):
    """bind/unbind/new_id/drivers_probe/driver_override with the kernel's errors (bus.c, pci-driver.c, pci-sysfs.c)."""
    T4 = addr(0)  # noqa: N806
    emu = emulator('t4:1')
    drivers = os.path.join(emu.sys, 'bus/pci/drivers')
    rc, err = sh('echo %s > %s/nvidia/bind' % (T4, drivers))
    assert rc == 1 and 'Device or resource busy' in err, 'binding a bound device is EBUSY'
    rc, err = sh('echo 0000:99:00.0 > %s/nvidia/bind' % drivers)
    assert rc == 1 and 'No such device' in err
    rc, err = sh('echo %s > %s/vfio-pci/unbind' % (T4, drivers))
    assert rc == 1 and 'No such device' in err, 'unbind from a driver it is not bound to'
    rc, err = sh('echo 0000:99:00.0 > %s/bus/pci/drivers_probe' % emu.sys)
    assert rc == 1 and 'No such device' in err
    assert sh('echo vfio-pci > %s/bus/pci/devices/%s/driver_override' % (emu.sys, T4))[0] == 0
    assert sh('echo %s > %s/nvidia/unbind' % (T4, drivers))[0] == 0
    rc, err = sh('echo %s > %s/nvidia/bind' % (T4, drivers))
    assert rc == 1 and 'No such device' in err, 'driver_override makes other drivers not match'
    assert sh('echo %s > %s/bus/pci/drivers_probe' % (T4, emu.sys))[0] == 0
    assert os.path.basename(os.readlink(os.path.join(drivers, 'vfio-pci', T4))) == T4
    assert not os.path.exists(os.path.join(emu.sys, 'class/mdev_bus', T4)), 'no mdev types while bound to vfio-pci'
    rc, err = sh('echo "10de 10f8" > %s/vfio-pci/new_id' % drivers)
    assert rc == 0
    rc, err = sh('echo "10de 10f8" > %s/vfio-pci/new_id' % drivers)
    assert rc == 1 and 'File exists' in err
    rc, err = sh('echo "zz" > %s/vfio-pci/new_id' % drivers)
    assert rc == 1 and 'Invalid argument' in err
    # new_id binds unbound matching devices; the audio function is still on snd_hda_intel, so it stays there
    assert os.path.basename(os.readlink(os.path.join(emu.sys, 'bus/pci/devices', addr(0, 1), 'driver'))) == 'snd_hda_intel'


def test_sriov_numvfs_kernel_rules(emulator):
    """sriov_numvfs_store: ENOENT with nvidia bound (no sriov_configure), ERANGE above total (kernel iov.c)."""
    A10 = addr(0)  # noqa: N806
    emu = emulator('a10:1')
    numvfs = os.path.join(emu.sys, 'bus/pci/devices', A10, 'sriov_numvfs')
    rc, err = sh('echo 4 > %s' % numvfs)
    assert rc == 1 and 'No such file or directory' in err
    rc, err = sh('echo 99 > %s' % numvfs)
    assert rc == 1 and 'Numerical result out of range' in err


def test_sriov_manage_like_nvidia(emulator):
    """sriov-manage -e / -d, "already has VFs enabled", VFs from offset/stride bound to nvidia, mdev types on VFs only."""
    A10, T4 = addr(0), addr(1)  # noqa: N806
    emu = emulator('a10:1,t4:1,l40s:1')
    proc = emu.sriov_manage('-e', A10)
    assert proc.returncode == 0 and 'Enabling VFs on %s' % A10 in proc.stdout
    proc = emu.sriov_manage('-e', A10[5:])
    assert proc.returncode == 0 and 'GPU at %s already has VFs enabled.' % A10 in proc.stdout
    dev = os.path.join(emu.sys, 'bus/pci/devices', A10)
    assert open(os.path.join(dev, 'sriov_numvfs')).read() == '24\n'
    assert os.path.basename(os.readlink(os.path.join(dev, 'virtfn0'))) == addr(0, 4)
    assert os.path.basename(os.readlink(os.path.join(dev, 'virtfn4'))) == addr(0, 0, 1)
    assert os.path.basename(os.readlink(os.path.join(dev, 'virtfn23'))) == addr(0, 3, 3)
    vf = os.path.join(emu.sys, 'bus/pci/devices', addr(0, 4))
    assert os.path.basename(os.readlink(os.path.join(vf, 'physfn'))) == A10
    assert os.path.basename(os.readlink(os.path.join(vf, 'driver'))) == 'nvidia'
    assert open(os.path.join(vf, 'reset_method')).read() == 'flr\n'
    assert not os.path.exists(os.path.join(vf, 'sriov_totalvfs'))
    assert os.path.basename(os.readlink(os.path.join(dev, 'driver'))) == 'nvidia', 'PF back on nvidia after the pf-stub dance'
    assert len([p for p in os.listdir(os.path.join(emu.sys, 'class/mdev_bus')) if p.startswith(A10[:8])]) == 24
    paths = [w[0] for w in emu.writes()]
    assert any(p.endswith('/pci-pf-stub/new_id') for p in paths) and any(p.endswith('/sriov_numvfs') for p in paths)
    # a GPU without SR-IOV: the original exits 0 silently; an unknown address exits 1 silently
    proc = emu.sriov_manage('-e', T4)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, '', '')
    proc = emu.sriov_manage('-e', '0000:99:00.0')
    assert (proc.returncode, proc.stdout) == (1, '')
    proc = emu.sriov_manage('-d', A10)
    assert proc.returncode == 0 and 'Disabling VFs on %s' % A10 in proc.stdout
    assert open(os.path.join(dev, 'sriov_numvfs')).read() == '0\n'


def test_sriov_manage_exits_zero_when_the_write_fails(emulator):
    """Like the bash original, a failing echo is reported on stderr and the script still exits 0 (reference §2)."""
    A10 = addr(0)  # noqa: N806
    emu = emulator('a10:1')
    emu.fault('EIO', path='*/sriov_numvfs', times=1)
    proc = emu.sriov_manage('-e', A10)
    assert proc.returncode == 0
    assert 'Input/output error' in proc.stderr
    assert open(os.path.join(emu.sys, 'bus/pci/devices', A10, 'sriov_numvfs')).read() == '0\n'


def test_vendor_vfio_creatable_rules(emulator):
    """current_vgpu_type: invalid id fails and stays 0; programmed VF lists nothing; siblings shrink (reference §3)."""
    L40S = addr(0)  # noqa: N806
    emu = emulator('l40s:1')
    emu.sriov_manage('-e', L40S)
    vf0 = os.path.join(emu.sys, 'bus/pci/devices', addr(0, 4), 'nvidia')
    vf1 = os.path.join(emu.sys, 'bus/pci/devices', addr(0, 5), 'nvidia')
    assert not os.listdir(os.path.join(emu.sys, 'class/mdev_bus')), 'vendor VFIO: no mdev at all'
    listing = open(os.path.join(vf0, 'creatable_vgpu_types')).read()
    assert listing.startswith('ID    : vGPU Name\n') and '1150  : NVIDIA L40S-4Q\n' in listing
    rc, err = sh('echo 999 > %s/current_vgpu_type' % vf0)
    assert rc == 1 and 'Invalid argument' in err
    assert open(os.path.join(vf0, 'current_vgpu_type')).read() == '0\n'
    assert sh('echo 1150 > %s/current_vgpu_type' % vf0)[0] == 0
    assert open(os.path.join(vf0, 'creatable_vgpu_types')).read() == ''
    names = [line.split(':')[1].strip() for line in open(os.path.join(vf1, 'creatable_vgpu_types')).read().splitlines()[1:]]
    assert names == ['NVIDIA L40S-4Q', 'NVIDIA L40S-4A', 'NVIDIA L40S-4C'], 'siblings keep only the same framebuffer size'
    rc, err = sh('echo 1147 > %s/current_vgpu_type' % vf1)
    assert rc == 1 and 'Invalid argument' in err
    assert sh('echo 0 > %s/current_vgpu_type' % vf0)[0] == 0
    assert '1147  : NVIDIA L40S-1Q' in open(os.path.join(vf1, 'creatable_vgpu_types')).read()


def test_vendor_vfio_doc_format(emulator):
    """The emulator can also print NVIDIA's doc format (``NVIDIA L40S-1Q 1147``) of creatable_vgpu_types."""
    L40S = addr(0)  # noqa: N806
    emu = emulator('l40s:1', creatable_format='doc')
    emu.sriov_manage('-e', L40S)
    text = open(os.path.join(emu.sys, 'bus/pci/devices', addr(0, 4), 'nvidia/creatable_vgpu_types')).read()
    assert 'NVIDIA L40S-1Q 1147\n' in text and not text.startswith('ID')


def test_in_use_refuses_with_ebusy(emulator):
    """attach marks a vGPU used by a VM: remove/reprogram/unbind fail with EBUSY; a /proc entry holds its VFIO group."""
    T4, L40S = addr(0), addr(1)  # noqa: N806
    emu = emulator('t4:1,l40s:1')
    types = os.path.join(emu.sys, 'class/mdev_bus', T4, 'mdev_supported_types')
    mdev = str(uuid.uuid4())
    assert sh('echo %s > %s/nvidia-232/create' % (mdev, types))[0] == 0
    out = emu.attach(mdev, vm='win10').stdout
    assert 'win10' in out
    link = os.path.join(emu.sys, 'bus/mdev/devices', mdev)
    assert open(os.path.join(link, 'nvidia/vm_name')).read() == 'win10\n'
    group = os.path.basename(os.readlink(os.path.join(link, 'iommu_group')))
    fds = []
    for pid in os.listdir(os.path.join(emu.root, 'proc')):
        fd_dir = os.path.join(emu.root, 'proc', pid, 'fd')
        if os.path.isdir(fd_dir):
            fds += [os.readlink(os.path.join(fd_dir, fd)) for fd in os.listdir(fd_dir)]
    assert '/dev/vfio/%s' % group in fds
    rc, err = sh('echo 1 > %s/remove' % link)
    assert rc == 1 and 'Device or resource busy' in err
    rc, err = sh('echo %s > %s/bus/pci/drivers/nvidia/unbind' % (T4, emu.sys))
    assert rc == 1 and 'Device or resource busy' in err
    emu.detach(mdev)
    assert sh('echo 1 > %s/remove' % link)[0] == 0
    # vendor VFIO: a programmed VF in use cannot be cleared; a VF with no vGPU cannot be attached
    emu.sriov_manage('-e', L40S)
    vf = os.path.join(emu.sys, 'bus/pci/devices', addr(1, 4), 'nvidia/current_vgpu_type')
    assert emu.cli('attach', emu.root, addr(1, 4), check=False).returncode == 1
    assert sh('echo 1150 > %s' % vf)[0] == 0
    emu.attach(addr(1, 4))
    rc, err = sh('echo 0 > %s' % vf)
    assert rc == 1 and 'Device or resource busy' in err
    rc, err = sh('echo 0 > %s/bus/pci/devices/%s/sriov_numvfs' % (emu.sys, L40S))
    assert rc == 1


def test_write_log_and_fault_injection(emulator):
    """``writes`` lists path, value, result; ``fault --nth`` and ``--path`` fail chosen writes with a chosen errno."""
    T4 = addr(0)  # noqa: N806
    emu = emulator('t4:1')
    override = os.path.join(emu.sys, 'bus/pci/devices', T4, 'driver_override')
    emu.fault('EIO', nth=2)
    assert sh('echo vfio-pci > %s' % override)[0] == 0
    rc, err = sh('echo vfio-pci > %s' % override)
    assert rc == 1 and 'Input/output error' in err
    assert sh('echo vfio-pci > %s' % override)[0] == 0
    emu.fault('EBUSY', path='*/driver_override')
    assert sh('echo nvidia > %s' % override)[0] == 1
    assert sh('echo nvidia > %s' % override)[0] == 1
    emu.clear_faults()
    assert sh('echo "" > %s' % override)[0] == 0
    log = emu.writes()
    assert [w[2] for w in log] == ['ok', 'EIO', 'ok', 'EBUSY', 'EBUSY', 'ok']
    assert log[0] == ('/sys/devices/pci0000:00/0000:00:01.0/%s/driver_override' % T4, 'vfio-pci\n', 'ok')
    text = emu.cli('writes', emu.root).stdout.splitlines()[1]
    path, value, result = text.split('\t')
    assert path.endswith('/driver_override') and json.loads(value) == 'vfio-pci\n' and result == 'EIO'


def test_mdevctl_reads_definitions_in_a_private_namespace(emulator, tmp_path):
    """The real mdevctl (1.2.0 ignores MDEVCTL_ENV_ROOT) lists definitions under ROOT/etc/mdevctl.d when it is
    bind-mounted over /etc/mdevctl.d in a private mount namespace (test-infrastructure reference)."""
    T4 = addr(0)  # noqa: N806
    emu = emulator('t4:1')
    mdev = str(uuid.uuid4())
    path = os.path.join(emu.root, 'etc/mdevctl.d', T4)
    os.makedirs(path)
    with open(os.path.join(path, mdev), 'w') as handle:
        json.dump({'mdev_type': 'nvidia-232', 'start': 'auto', 'attrs': []}, handle)
    proc = subprocess.run(['unshare', '-m', 'sh', '-c', 'mount --bind %s /etc/mdevctl.d && mdevctl list -d --dumpjson'
                           % os.path.join(emu.root, 'etc/mdevctl.d')], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [{T4: [{mdev: {'mdev_type': 'nvidia-232', 'start': 'auto', 'attrs': []}}]}]


def test_umount_stops_the_daemon(emulator, tmp_path):
    """``umount`` unmounts sys/ and stops the daemon whose PID is recorded under ROOT."""
    emu = emulator('t4:1')
    with open(os.path.join(emu.root, '.sysfs-emulator/pid')) as handle:
        pid = int(handle.read())
    emu.umount()
    assert not os.path.ismount(emu.sys)
    assert not os.path.exists('/proc/%d' % pid) or open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()[0] == 'Z'
    emu.mount('t4:1')
