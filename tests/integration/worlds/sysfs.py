"""The sysfs emulator as the tests drive it: a host root mounted through the emulator's stable command line
(``python -m tests.emulators.sysfs mount|umount|attach|writes|fault|state``), and the ``emulator`` fixture.

A plain module: the conftests of tests/integration/host and tests/emulators/sysfs/tests import the fixture from here."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


class Emulator(object):
    """A mounted emulator: ROOT, and the emulator's commands."""

    def __init__(self, root):
        self.root = root
        self.sys = os.path.join(root, 'sys')

    def cli(self, *args, check=True):
        proc = subprocess.run([sys.executable, '-m', 'tests.emulators.sysfs'] + list(args), cwd=REPO,
                              capture_output=True, text=True, timeout=120, check=False)
        if check and proc.returncode != 0:
            raise AssertionError('emulator %s failed: %s%s' % (args[0], proc.stdout, proc.stderr))
        return proc

    def mount(self, gpus, creatable_format='table', no_iommu=False, driver=None):
        self.cli('mount', self.root, '--gpus', gpus, '--creatable-format', creatable_format,
                 *((['--no-iommu'] if no_iommu else []) + (['--driver', driver] if driver else [])))

    def umount(self):
        self.cli('umount', self.root)

    def writes(self):
        """Every write so far: [(path, value, result)]."""
        out = self.cli('writes', self.root, '--json').stdout
        return [(w['path'], w['value'], w['result']) for w in (json.loads(line) for line in out.splitlines() if line.strip())]

    def state(self):
        return json.loads(self.cli('state', self.root).stdout)

    def attach(self, device, vm=None):
        args = ['attach', self.root, device] + (['--vm', vm] if vm else [])
        return self.cli(*args)

    def detach(self, device):
        return self.cli('detach', self.root, device)

    def fault(self, errno_name, nth=None, path=None, times=None):
        args = ['fault', self.root, '--errno', errno_name]
        if nth is not None:
            args += ['--nth', str(nth)]
        if path is not None:
            args += ['--path', path]
        if times is not None:
            args += ['--times', str(times)]
        self.cli(*args)

    def clear_faults(self):
        self.cli('fault', self.root, '--clear')

    def sriov_manage(self, *args):
        return subprocess.run([os.path.join(self.root, 'usr/lib/nvidia/sriov-manage')] + list(args), capture_output=True,
                              text=True, timeout=60, check=False)

    def read(self, rel):
        with open(os.path.join(self.sys, rel)) as handle:
            return handle.read()

    def layout(self):
        """{gpu address: sorted [(vgpu id, type)]} from the emulator's own state (the ground truth)."""
        out = {}
        for gpu in self.state()['gpus']:
            items = [(m['uuid'], m['type']) for m in gpu['mdevs']]
            items += [(vf['address'], str(vf['vgpu_type'])) for vf in gpu['vfs'] if vf['vgpu_type']]
            out[gpu['address']] = sorted(items)
        return out


@pytest.fixture
def emulator(tmp_path):
    """A factory: ``emulator('a10:2,t4:1,l40s:1')`` mounts a fresh host root; every mount is unmounted at teardown."""
    mounted = []

    def start(gpus='a10:2,t4:1,l40s:1', creatable_format='table', no_iommu=False, driver=None):
        emu = Emulator(str(tmp_path / ('root%d' % len(mounted))))
        emu.mount(gpus, creatable_format, no_iommu=no_iommu, driver=driver)
        mounted.append(emu)
        return emu

    yield start
    for emu in mounted:
        emu.umount()
        assert not os.path.ismount(emu.sys)
