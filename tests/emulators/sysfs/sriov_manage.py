"""The emulator's ``ROOT/usr/lib/nvidia/sriov-manage``: NVIDIA's script, re-implemented over ``ROOT/sys``.

It does what NVIDIA's bash script does [reference §2, S1, S5] and nothing more, through the FUSE mount (so every
write is in the write log and subject to fault injection):

- ``-e ADDR``: a GPU that already has VFs prints "GPU at ADDR already has VFs enabled." and exits 0; otherwise
  "Enabling VFs on ADDR", then the pci-pf-stub dance (unbind the PF, ``new_id`` + ``bind`` to pci-pf-stub, write
  ``sriov_totalvfs`` to ``sriov_numvfs``, unbind and ``remove_id``, bind back to nvidia) and every VF bound to nvidia.
- ``-d ADDR``: "already has VFs disabled." or "Disabling VFs on ADDR": unbind each VF from vfio-pci / nvidia, then the
  same dance writing 0.
- ``-e ALL`` / ``-d ALL``: every NVIDIA display/3D function 0, stopping at the first failure.
- Like the bash original, a failing ``echo`` prints "write error: ..." on stderr and the script goes on: the exit
  status is 0 even when no VF appeared. An unknown address exits 1 with no message; a device without SR-IOV exits 0
  silently; a non-display function exits 1 with "This is not a VGA or 3D controller. Exiting.".
"""

import os
import re
import sys

USAGE = """Usage:
    /usr/lib/nvidia/sriov-manage <-e|-d> <ssss:bb:dd.f|ALL>
        Enable/disable Virtual functions on the GPU specified by the PCI_ID=ssss:bb:dd.f.
        If 'ALL' is specified in place of PCI_ID, operate on all the nvidia GPUs in the system.

    /usr/lib/nvidia/sriov-manage -h
        Print this help.
"""


class Script(object):
    def __init__(self, sysfs):
        self.sysfs = sysfs
        self.devices = os.path.join(sysfs, 'bus', 'pci', 'devices')
        self.drivers = os.path.join(sysfs, 'bus', 'pci', 'drivers')

    def read(self, *parts):
        with open(os.path.join(*parts)) as handle:
            return handle.read().strip()

    def echo(self, value, *parts):
        """``echo value > file``: on failure print bash's message and carry on (status 1)."""
        try:
            fd = os.open(os.path.join(*parts), os.O_WRONLY | os.O_TRUNC)
            try:
                os.write(fd, ('%s\n' % value).encode())   # one write(2), as bash's echo does
            finally:
                os.close(fd)
            return 0
        except OSError as exc:
            sys.stderr.write('sriov-manage: echo: write error: %s\n' % os.strerror(exc.errno or 5))
            return 1

    def sanitize(self, gpu):
        """``lspci -D -d 10de: -s ADDR``: full address of an NVIDIA function, or None."""
        text = gpu.strip().lower()
        if re.match(r'^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$', text):
            text = '0000:' + text
        if not re.match(r'^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$', text):
            return None
        if not os.path.exists(os.path.join(self.devices, text)):
            return None
        if self.read(self.devices, text, 'vendor') != '0x10de':
            return None
        return text

    def driver_of(self, addr):
        link = os.path.join(self.devices, addr, 'driver')
        return os.path.basename(os.readlink(link)) if os.path.islink(link) else None

    def ident(self, addr):
        return '%s %s' % (self.read(self.devices, addr, 'vendor')[2:], self.read(self.devices, addr, 'device')[2:])

    def set_numvfs(self, gpu, count):
        status = 0
        current = self.driver_of(gpu)
        if current:
            status = self.echo(gpu, self.drivers, current, 'unbind')
        ident = self.ident(gpu)
        self.echo(ident, self.drivers, 'pci-pf-stub', 'new_id')
        if not os.path.exists(os.path.join(self.drivers, 'pci-pf-stub', gpu)):
            self.echo(gpu, self.drivers, 'pci-pf-stub', 'bind')
        self.echo(count, self.devices, gpu, 'sriov_numvfs')
        self.echo(gpu, self.drivers, 'pci-pf-stub', 'unbind')
        self.echo(ident, self.drivers, 'pci-pf-stub', 'remove_id')
        self.echo(gpu, self.drivers, 'nvidia', 'bind')
        return status

    def vfs(self, gpu):
        base = os.path.join(self.devices, gpu)
        links = sorted((int(n[6:]), n) for n in os.listdir(base) if n.startswith('virtfn'))
        return [os.path.basename(os.readlink(os.path.join(base, name))) for _index, name in links]

    def check(self, gpu):
        """input_sanity_check(): no SR-IOV -> exit 0 silently; not class 03 -> exit 1."""
        if not os.path.exists(os.path.join(self.devices, gpu, 'sriov_numvfs')):
            raise SystemExit(0)
        if not self.read(self.devices, gpu, 'class').startswith('0x03'):
            sys.stderr.write('This is not a VGA or 3D controller. Exiting.\n')
            raise SystemExit(1)
        if not os.path.isdir(os.path.join(self.drivers, 'pci-pf-stub')):
            raise SystemExit(1)

    def enable(self, gpu):
        self.check(gpu)
        if self.read(self.devices, gpu, 'sriov_numvfs') != '0':
            print('GPU at %s already has VFs enabled.' % gpu)
            return 0
        print('Enabling VFs on %s' % gpu)
        self.set_numvfs(gpu, self.read(self.devices, gpu, 'sriov_totalvfs'))
        for vf in self.vfs(gpu):
            if not os.path.exists(os.path.join(self.drivers, 'nvidia', vf)):
                current = self.driver_of(vf)
                if current:
                    self.echo(vf, self.drivers, current, 'unbind')
                self.echo(vf, self.drivers, 'nvidia', 'bind')
        return 0

    def disable(self, gpu):
        self.check(gpu)
        if self.read(self.devices, gpu, 'sriov_numvfs') == '0':
            print('GPU at %s already has VFs disabled.' % gpu)
            return 0
        print('Disabling VFs on %s' % gpu)
        for vf in self.vfs(gpu):
            for drv in ('vfio-pci', 'nvidia'):
                if os.path.exists(os.path.join(self.drivers, drv, vf)):
                    self.echo(vf, self.drivers, drv, 'unbind')
        self.set_numvfs(gpu, 0)
        return 0

    def all_gpus(self):
        out = []
        for addr in sorted(os.listdir(self.devices)):
            if addr.endswith('.0') and self.read(self.devices, addr, 'vendor') == '0x10de' \
                    and self.read(self.devices, addr, 'class')[:6] in ('0x0300', '0x0302') \
                    and not os.path.islink(os.path.join(self.devices, addr, 'physfn')):
                out.append(addr)
        return out


def main(sysfs, argv):
    script = Script(sysfs)
    operation = target = None
    args = list(argv)
    while args:
        flag = args.pop(0)
        if flag == '-h':
            sys.stderr.write(USAGE)
            return 0
        if flag in ('-e', '-d') and args:
            operation, target = flag, args.pop(0)
        else:
            sys.stderr.write(USAGE)
            return 1
    if operation is None:
        sys.stderr.write(USAGE)
        return 1
    action = script.enable if operation == '-e' else script.disable
    if target.lower() == 'all':
        for gpu in script.all_gpus():
            status = _run(action, gpu)
            if status:
                return status
        return 0
    gpu = script.sanitize(target)
    if gpu is None:
        return 1
    return _run(action, gpu)


def _run(action, gpu):
    """One GPU, as the original's ``"$0" -e "$gpu"`` sub-shell: its ``exit`` ends only that GPU's run."""
    try:
        return action(gpu)
    except SystemExit as exc:
        return exc.code
