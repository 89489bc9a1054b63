# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_gpu_driver: bind GPUs (and the rest of their IOMMU group) to ``vfio-pci`` for passthrough, or back to ``nvidia``.

The kernel interface, as driverctl uses it [kernel pci-sysfs.c / bus.c; Debian driverctl]: unbind from the current
driver (``drivers/<drv>/unbind``), set ``driver_override`` (``vfio-pci``, or empty to clear), then
``/sys/bus/pci/drivers_probe`` and check the ``driver`` link. Each device is one change whose apply is transactional:
if a step fails, the steps already done for that device are reverted before the error is raised, and the spine undoes
the devices done before it.

Persistence: ``driverctl`` method writes ``host_root/etc/driverctl.d/pci-<address>`` containing the driver name, the
file driverctl's udev rule reads at boot; ``modprobe`` method writes ``options vfio-pci ids=...`` and a ``softdep`` in
``host_root/etc/modprobe.d/gpuvirt-vfio.conf`` (this binds every device with those ids, not one address).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.gpuvirt.core.plugins.module_utils import plan as spine
from ansible_collections.gpuvirt.core.plugins.module_utils.pci import hex_id, normalize_address
from ansible_collections.gpuvirt.core.plugins.module_utils.host import boot_tools, layout
from ansible_collections.gpuvirt.core.plugins.module_utils.host.sysfs import HostRoot

DRIVERCTL_DIR = 'etc/driverctl.d'
MODPROBE_FILE = 'etc/modprobe.d/gpuvirt-vfio.conf'


class Binder(object):
    """The writes for one function, with their own rollback."""

    def __init__(self, host, fn, target):
        self.host = host
        self.fn = fn
        self.target = target

    def _driver(self):
        return self.host.link_name(os.path.join(self.fn.real, 'driver'))

    def _override(self):
        value = HostRoot.read(os.path.join(self.fn.real, 'driver_override'))
        return None if value in (None, '(null)', '') else value

    def _apply_state(self, driver, override):
        """Bring the function to (bound to ``driver``, ``driver_override`` = ``override``), driverctl's way."""
        current = self._driver()
        addr = self.fn.address
        if current is not None and current != driver:
            self.host.write(self.host.sys_path('bus/pci/drivers', current, 'unbind'), addr)
        if self._override() != override:
            self.host.write(os.path.join(self.fn.real, 'driver_override'), (override or '') + '\n')
        if self._driver() is None:
            self.host.write(self.host.sys_path('bus/pci/drivers_probe'), addr)
        if driver is not None and self._driver() != driver:
            raise RuntimeError('%s: drivers_probe left it bound to %s, not %s' % (addr, self._driver() or 'no driver', driver))

    def apply(self):
        before = (self.fn.driver, self.fn.override)
        want_driver = self.target if self.target == 'vfio-pci' or self.fn.gpu_pf else None
        override = 'vfio-pci' if self.target == 'vfio-pci' else None
        try:
            self._apply_state(want_driver, override)
        except Exception:
            self._restore(before)
            raise
        return self._driver()

    def undo(self):
        self._restore((self.fn.driver, self.fn.override))

    def _restore(self, before):
        driver, override = before
        current = self._driver()
        if current is not None and current != driver:
            self.host.write(self.host.sys_path('bus/pci/drivers', current, 'unbind'), self.fn.address)
        if self._override() != override:
            self.host.write(os.path.join(self.fn.real, 'driver_override'), (override or '') + '\n')
        if driver is not None and self._driver() is None:
            self.host.write(self.host.sys_path('bus/pci/drivers', driver, 'bind'), self.fn.address)


def _targets(inv, devices, include_group):
    out = []
    for item in devices:
        address = normalize_address(item)
        if address is None:
            raise spine.PlanError('devices: %r is not a PCI address (DDDD:BB:SS.F such as 0000:3b:00.0)' % (item,))
        gpu = inv.gpu_of(address)
        fn = inv.functions.get(address)
        if fn is None or gpu is None:
            raise spine.PlanError('devices: no NVIDIA GPU or GPU function at %s; GPUs on this host: %s' % (address, layout.gpu_list(inv)))
        if address in [vf.address for vf in gpu.vfs]:
            raise spine.PlanError('devices: %s is an SR-IOV virtual function of GPU %s; its driver is managed by the NVIDIA vGPU '
                                  'manager (use gpuvirt.core.host_vgpu), not host_gpu_driver' % (address, gpu.address))
        members = [gpu.address] + gpu.group_members if include_group else [address]
        for member in members:
            if member not in [t[1] for t in out]:
                out.append((gpu, member))
    return out


def plan_binding(host, inv, driver, devices, include_iommu_group=True, force=False, persist=False, persist_method='driverctl'):
    """host_gpu_driver's plan -> LayoutPlanner: one bind change per function (after removing the GPU's vGPUs with
    ``force``), the mdevctl clean-up and, with ``persist``, the driverctl or modprobe files. Refusals are PlanErrors."""
    target = driver
    if not os.path.isdir(host.sys_path('bus/pci/drivers', target)):
        raise spine.PlanError('driver %s is not loaded on this host (no sys/bus/pci/drivers/%s): load it first (modprobe %s)'
                              % (target, target, target.replace('-', '_')))
    planner = layout.LayoutPlanner(host, inv, force=force)
    pairs = _targets(inv, devices, include_iommu_group)
    for gpu, address in pairs:
        fn = inv.functions[address]
        fn.gpu_pf = address == gpu.address
        if fn.gpu_pf and target == 'vfio-pci':
            if gpu.vfs:
                raise spine.PlanError('GPU %s has %d SR-IOV VFs enabled; disable them first (gpuvirt.core.host_gpu_sriov state=disabled)'
                                      % (gpu.address, len(gpu.vfs)))
            if gpu.vgpus:
                if not force:
                    raise spine.PlanError('GPU %s has %d vGPU(s) (%s); remove them first (gpuvirt.core.host_vgpu state=absent) or set '
                                          'force: true' % (gpu.address, len(gpu.vgpus), ', '.join(v.id for v in gpu.vgpus)))
                planner.remove_all(gpu)
        if _done(fn, target):
            continue
        if fn.vm:
            if not force:
                raise spine.PlanError('%s is used by running VM %s; refusing to rebind it without force' % (address, fn.vm))
            planner.forced.append({'id': address, 'vm': fn.vm})
            planner.plan.warnings.append('force: rebinding %s used by VM %s' % (address, fn.vm))
        binder = Binder(host, fn, target)
        planner.plan.add('bind', address, before={'driver': fn.driver, 'driver_override': fn.override},
                         after={'driver': target if (target == 'vfio-pci' or fn.gpu_pf) else 'default',
                                'driver_override': 'vfio-pci' if target == 'vfio-pci' else None},
                         apply=binder.apply, undo=binder.undo, details={'gpu': gpu.address, 'driver': target})
    planner.persistence([gpu for gpu in inv.gpus if gpu.address in [g.address for g, _a in pairs]])
    if persist:
        _persist(host, planner.plan, [(inv.functions[a], g) for g, a in pairs], target, persist_method)
        if persist_method == 'modprobe' and target == 'vfio-pci':
            _warn_other_claims(inv, planner.plan, [a for _g, a in pairs])
    return planner


def _warn_other_claims(inv, plan, addresses):
    """``options vfio-pci ids=`` claims every device with those ids at the next boot, not the addresses asked: name the
    other GPUs and group members it would also take from their driver (with their vGPUs)."""
    ids = set(_ident(inv.functions[a]) for a in addresses)
    vfs = set(vf.address for gpu in inv.gpus for vf in gpu.vfs)
    others = []
    for address in sorted(inv.functions):
        fn = inv.functions[address]
        if address in addresses or address in vfs or _ident(fn) not in ids:
            continue
        gpu = inv.gpu(address)
        what = 'GPU, driver %s' % (fn.driver or 'none') if gpu is not None else 'driver %s' % (fn.driver or 'none')
        if gpu is not None and gpu.vgpus:
            what += ', %d active vGPU(s)' % len(gpu.vgpus)
        if fn.vm:
            what += ', used by VM %s' % fn.vm
        others.append('%s (%s)' % (address, what))
    if others:
        plan.warnings.append('persist_method modprobe writes "options vfio-pci ids=%s", which at the next boot also binds to '
                             'vfio-pci every other device with those ids: %s; use persist_method: driverctl to bind by address'
                             % (','.join(sorted(ids)), ', '.join(others)))


def _ident(fn):
    return '%s:%s' % (hex_id(fn.vendor_id), hex_id(fn.device_id))


def _done(fn, target):
    if target == 'vfio-pci':
        return fn.driver == 'vfio-pci' and fn.override == 'vfio-pci'
    if fn.gpu_pf:
        return fn.driver == 'nvidia' and fn.override is None
    return fn.override is None and fn.driver not in (None, 'vfio-pci')


def _persist(host, plan, functions, target, method):
    if method == 'driverctl':
        warning = target == 'vfio-pci' and boot_tools.missing_warning(host, 'driverctl')
        if warning:
            plan.warnings.append(warning)
        for fn, _gpu in functions:
            path = host.path(DRIVERCTL_DIR, 'pci-%s' % fn.address)
            current = HostRoot.read(path)
            wanted = 'vfio-pci' if target == 'vfio-pci' else None
            if current == wanted or (current is None and wanted is None):
                continue
            _file_change(plan, path, None if wanted is None else wanted + '\n', current, 'driverctl.d/pci-%s' % fn.address)
        return
    path = host.path(MODPROBE_FILE)
    current = HostRoot.read(path)
    ids = set()
    for line in (current or '').splitlines():
        if line.startswith('options vfio-pci ids='):
            ids.update(i for i in line.split('=', 1)[1].split(',') if i)
    mine = set(_ident(fn) for fn, _gpu in functions)
    ids = (ids | mine) if target == 'vfio-pci' else (ids - mine)
    wanted = None
    if ids:
        wanted = ('# written by gpuvirt.core.host_gpu_driver\noptions vfio-pci ids=%s\nsoftdep nvidia pre: vfio-pci\n'
                  'softdep snd_hda_intel pre: vfio-pci\n' % ','.join(sorted(ids)))
    if (current or None) != (wanted.rstrip('\n') if wanted else None):
        _file_change(plan, path, wanted, current, os.path.basename(path))


def _file_change(plan, path, content, previous, target):
    def write(text):
        if text is None:
            if os.path.exists(path):
                os.unlink(path)
            return
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        with open(path, 'w') as handle:
            handle.write(text)

    plan.add('persist', target, before=previous, after=content.rstrip('\n') if content else None,
             apply=lambda: write(content), undo=lambda: write(None if previous is None else previous + '\n'),
             details={'path': path})
