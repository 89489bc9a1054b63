# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_gpu_sriov: enable or disable the virtual functions of SR-IOV GPUs through NVIDIA's ``sriov-manage``.

NVIDIA: enable VFs only with ``/usr/lib/nvidia/sriov-manage -e ADDR`` (never by writing ``sriov_numvfs``), ``-d``
disables; the script can exit 0 without enabling anything (a failing ``echo`` does not stop it) and since 17.4 may
time out on NVLink systems, so the module verifies that ``sriov_numvfs`` and the ``virtfnN`` links really changed
and re-runs it until ``timeout`` (reference §2).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import time

from ansible_collections.gpuvirt.core.plugins.module_utils import plan as spine
from ansible_collections.gpuvirt.core.plugins.module_utils.host import layout
from ansible_collections.gpuvirt.core.plugins.module_utils.host.sysfs import HostRoot

SRIOV_MANAGE = 'usr/lib/nvidia/sriov-manage'


def vf_count(host, address):
    """(sriov_numvfs, number of virtfnN links) read fresh from sysfs."""
    real = host.realpath(host.sys_path('bus/pci/devices', address))
    num = HostRoot.read(os.path.join(real, 'sriov_numvfs'), '0') or '0'
    links = [n for n in HostRoot.listdir(real) if n.startswith('virtfn')]
    return int(num) if num.isdigit() else 0, len(links)


class SriovRunner(object):
    """Runs sriov-manage for one GPU and checks the result, retrying until the deadline. ``run_command`` runs an argv
    and returns (rc, stdout, stderr), as AnsibleModule.run_command does."""

    def __init__(self, run_command, host, script, timeout, delay):
        self.run_command = run_command
        self.host = host
        self.script = script
        self.timeout = timeout
        self.delay = delay
        self.attempts = {}

    def ensure(self, address, enable, total):
        deadline = time.time() + max(0, self.timeout)
        outputs = []
        while True:
            rc, out, err = self.run_command([self.script, '-e' if enable else '-d', address])
            self.attempts[address] = self.attempts.get(address, 0) + 1
            outputs.append(('rc=%d %s %s' % (rc, out.strip(), err.strip())).strip())
            num, links = vf_count(self.host, address)
            done = (num == total and links == total) if enable else (num == 0 and links == 0)
            if done:
                return self.attempts[address]
            if time.time() >= deadline:
                raise RuntimeError('%s %s: sriov-manage ran %d time(s) but sriov_numvfs is %d with %d VF link(s) (want %d); '
                                   'its output: %s' % ('enabling VFs on' if enable else 'disabling VFs on', address,
                                                       self.attempts[address], num, links, total if enable else 0,
                                                       ' | '.join(outputs[-3:])))
            time.sleep(self.delay)


def plan_sriov(host, inv, runner, state='enabled', devices='all', force=False):
    """host_gpu_sriov's plan -> LayoutPlanner: one enable/disable change per SR-IOV GPU whose state differs (run by
    ``runner``), preceded on disable by the removal of its vGPUs (with ``force``). Refusals are PlanErrors, raised here."""
    selected = layout.select_gpus(inv, devices)
    explicit = devices not in (None, 'all', ['all'])
    planner = layout.LayoutPlanner(host, inv, force=force)
    targets = []
    for gpu in selected:
        if not gpu.sriov_capable:
            if explicit:
                raise spine.PlanError('GPU %s (%s) has no SR-IOV: its vGPUs use mdev on the GPU itself, nothing to %s'
                                      % (gpu.address, gpu.model_token or gpu.function.device_id, 'enable' if state == 'enabled' else 'disable'))
            continue
        enabled = gpu.num_vfs > 0
        if (state == 'enabled') == enabled:
            if enabled and gpu.num_vfs != gpu.total_vfs:
                planner.plan.warnings.append('GPU %s has %d of %d VFs enabled (not by sriov-manage?); left as is'
                                             % (gpu.address, gpu.num_vfs, gpu.total_vfs))
            continue
        _refusals(gpu, state, force, planner)
        targets.append(gpu)
    for gpu in targets:
        address, total = gpu.address, gpu.total_vfs
        if state == 'disabled' and gpu.vgpus:
            planner.remove_all(gpu)
        enable = state == 'enabled'
        planner.plan.add('enable' if enable else 'disable', address,
                         before={'num_vfs': gpu.num_vfs}, after={'num_vfs': total if enable else 0},
                         details={'command': '%s %s %s' % (runner.script, '-e' if enable else '-d', address)},
                         apply=lambda address=address, enable=enable, total=total: runner.ensure(address, enable, total),
                         undo=lambda address=address, enable=enable, total=total: runner.ensure(address, not enable, total))
    planner.persistence(targets if state == 'disabled' else [])
    if planner.plan and not (os.path.isfile(runner.script) and os.access(runner.script, os.X_OK)):
        raise spine.PlanError('sriov-manage not found or not executable at %s: install the NVIDIA vGPU manager (host '
                              'driver) or set sriov_manage' % runner.script)
    if planner.plan:
        _refuse_other_tree(host, runner.script)
    return planner


def _refuse_other_tree(host, script):
    """NVIDIA's sriov-manage hard-codes ``/sys``: with a ``host_root`` whose ``sys/`` is another tree than this
    machine's ``/sys`` (not the same PCI devices), running it would change the wrong host. Allowed: the same tree (a
    container with the host's sysfs at ``host_root/sys``), or a script that names ``host_root/sys`` (one written for
    that tree, as the sysfs emulator's is)."""
    if os.path.realpath(host.root) == '/':
        return
    mine = HostRoot.listdir('/sys/bus/pci/devices')
    theirs = HostRoot.listdir(host.sys_path('bus', 'pci', 'devices'))
    if mine == theirs:
        return
    text = HostRoot.read(script, '') or ''
    if os.path.realpath(host.sys) in text or host.sys in text:
        return
    raise spine.PlanError('sriov-manage (%s) acts on /sys, but host_root %s holds another PCI tree (%d devices there, %d in /sys): '
                          'running it would change this machine, not that host. Run the module on the host (host_root /), in '
                          'a container that mounts the host sysfs at host_root/sys, or set sriov_manage to a script that '
                          'acts on %s' % (script, host.root, len(theirs), len(mine), host.sys))


def _refusals(gpu, state, force, planner):
    name = '%s (%s)' % (gpu.address, gpu.model_token or gpu.function.device_id)
    if gpu.function.vm and not force:
        raise spine.PlanError('GPU %s is used by VM %s (passthrough); refusing to change its SR-IOV state without force'
                              % (name, gpu.function.vm))
    if state == 'enabled' and gpu.function.driver == 'vfio-pci' and not force:
        raise spine.PlanError('GPU %s is bound to vfio-pci (passthrough); sriov-manage would rebind it to nvidia. Bind it back '
                              'with gpuvirt.core.host_gpu_driver (driver: nvidia) or set force: true' % name)
    if state == 'disabled':
        if gpu.vgpus and not force:
            raise spine.PlanError('GPU %s still has %d vGPU(s) (%s); remove them first (gpuvirt.core.host_vgpu state=absent) or '
                                  'set force: true to remove them with the VFs' % (name, len(gpu.vgpus), ', '.join(v.id for v in gpu.vgpus)),
                                  vgpus=[v.as_dict() for v in gpu.vgpus])
        used = [vf for vf in gpu.vfs if vf.vm]
        if used and not force:
            raise spine.PlanError('VFs of GPU %s are used by running VMs (%s); refusing to disable SR-IOV'
                                  % (name, ', '.join('%s: %s' % (vf.address, vf.vm) for vf in used)))
