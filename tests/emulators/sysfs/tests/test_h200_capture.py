"""The emulator against a real machine: ``--gpus h200@0000:00:06.0 --no-iommu`` must reproduce the sysfs of the real
NVIDIA H200 passed through to a VM, read on 2026-12-04 (the team's reference real-gpu-h200.md and its h200-capture/sys/;
the two files this test reads are kept next to it in h200-capture/, so the test needs nothing outside the repository):
the device directory entry by entry with its modes and sizes, the attribute values, the links, the uevent, the
identity bytes of the config space, the nvidia driver directory, no IOMMU groups and no mdev_bus.
"""
import os
import re
import stat

import pytest

pytestmark = pytest.mark.integration

CAPTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'h200-capture')
ADDRESS = '0000:00:06.0'
# values the platform assigns, not the GPU: the interrupt line, the (redacted) serial number
PLATFORM = ('irq', 'serial_number')
LS_RE = re.compile(r'^([-dlrwx]{10})\s+\d+\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\d+\s+[\d:]+\s+(\S+)(?: -> (\S+))?$')


def sections(path):
    """A capture file's ``# name`` sections -> {name: [lines]}."""
    out, name = {}, None
    with open(path) as handle:
        for line in handle.read().splitlines():
            if line.startswith('# '):
                name = line[2:]
                out[name] = []
            elif name is not None:
                out[name].append(line)
    return out


def listing(lines):
    """``ls -la`` lines -> {name: (mode string, size, link target)} without . and .."""
    out = {}
    for line in lines:
        match = LS_RE.match(line)
        if match and match.group(3) not in ('.', '..'):
            out[match.group(3)] = (match.group(1), int(match.group(2)), match.group(4))
    return out


@pytest.fixture
def h200(emulator):
    return emulator('h200@%s' % ADDRESS, no_iommu=True)


def test_device_directory_matches_the_capture(h200):
    captured = sections(os.path.join(CAPTURE, 'dev-%s.txt' % ADDRESS.replace(':', '_')))
    real = listing(captured['ls -la /sys/bus/pci/devices/%s' % ADDRESS])
    dev = os.path.join(h200.sys, 'bus/pci/devices', ADDRESS)
    emulated = {}
    for name in os.listdir(dev):
        info = os.lstat(os.path.join(dev, name))
        target = os.readlink(os.path.join(dev, name)) if stat.S_ISLNK(info.st_mode) else None
        emulated[name] = (stat.filemode(info.st_mode), info.st_size, target)
    assert sorted(emulated) == sorted(real)
    for name, (mode, size, target) in real.items():
        assert emulated[name][0] == mode, name
        if mode.startswith('-'):
            assert emulated[name][1] == size, name
        if target is not None:
            assert emulated[name][2] == target, name


def test_attribute_values_match_the_capture(h200):
    captured = sections(os.path.join(CAPTURE, 'dev-%s.txt' % ADDRESS.replace(':', '_')))
    dev = os.path.join(h200.sys, 'bus/pci/devices', ADDRESS)
    values = dict(line.rstrip('|').split('=', 1) for line in captured['attributes'] if '=' in line)
    assert len(values) > 20
    for name, value in values.items():
        if name in PLATFORM:
            continue
        with open(os.path.join(dev, name)) as handle:
            text = handle.read().rstrip('\n')
        assert text.replace('\n', '|') == value.rstrip('|'), name
    with open(os.path.join(dev, 'uevent')) as handle:
        assert handle.read().splitlines() == captured['uevent']
    for line in captured['links']:
        name, _arrow, target = line.partition(' -> ')
        path = os.path.join(dev, name)
        assert (os.readlink(path) if os.path.islink(path) else '') == target, name


def test_config_identity_and_driver_directory(h200):
    captured = sections(os.path.join(CAPTURE, 'dev-%s.txt' % ADDRESS.replace(':', '_')))
    real = bytes(int(b, 16) for line in captured['config (hex, first 256 bytes)'][:3] for b in line.split())
    with open(os.path.join(h200.sys, 'bus/pci/devices', ADDRESS, 'config'), 'rb') as handle:
        emulated = handle.read(48)
    # vendor, device, revision, class, header type, subsystem vendor and device
    for start, end in ((0, 4), (8, 12), (14, 15), (0x2c, 0x30)):
        assert emulated[start:end] == real[start:end], hex(start)
    with open(os.path.join(CAPTURE, 'driver-nvidia.txt')) as handle:
        real_driver = listing(handle.read().splitlines())
    driver = os.path.join(h200.sys, 'bus/pci/drivers/nvidia')
    assert sorted(os.listdir(driver)) == sorted(real_driver)
    for name, (mode, _size, _target) in real_driver.items():
        assert stat.filemode(os.lstat(os.path.join(driver, name)).st_mode) == mode, name
    # no IOMMU (no vIOMMU in the VM), no mdev_bus and no vfio-pci (datacenter driver), nvidia without nvidia_vgpu_vfio
    assert os.listdir(os.path.join(h200.sys, 'kernel/iommu_groups')) == []
    assert not os.path.exists(os.path.join(h200.sys, 'class/mdev_bus', ADDRESS))
    assert not os.path.exists(os.path.join(h200.sys, 'bus/pci/drivers/vfio-pci'))
    assert os.path.isdir(os.path.join(h200.sys, 'module/nvidia_uvm'))
    assert not os.path.exists(os.path.join(h200.sys, 'module/nvidia_vgpu_vfio'))
    with open(os.path.join(h200.sys, 'module/nvidia/version')) as handle:
        assert handle.read().strip() == '580.159.04'
