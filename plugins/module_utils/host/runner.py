# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry points of the host modules' logic: host_gpu_info and host_vgpu (host_gpu_sriov: sriov.py, host_gpu_driver:
binding.py), plus the per-host lock every changing module holds from observe to apply."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fcntl
import os
import time
import traceback

from ansible_collections.gpuvirt.core.plugins.module_utils import plan as spine
from ansible_collections.gpuvirt.core.plugins.module_utils.host import inventory, layout, vdm_config
from ansible_collections.gpuvirt.core.plugins.module_utils.host.sysfs import HostRoot

LOCK_FILE = 'run/gpuvirt-host.lock'


class HostLock(object):
    """An exclusive flock on ``host_root/run/gpuvirt-host.lock``: two runs on one host serialize (observe -> apply)."""

    def __init__(self, host, timeout):
        self.path = host.path(LOCK_FILE)
        self.timeout = timeout
        self.handle = None

    def __enter__(self):
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        self.handle = open(self.path, 'a')
        deadline = time.time() + max(0, self.timeout)
        while True:
            try:
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.time() >= deadline:
                    self.handle.close()
                    raise spine.PlanError('another gpuvirt.core run holds %s on this host; waited %ss (lock_timeout)'
                                          % (self.path, self.timeout))
                time.sleep(0.1)

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()
        return False


class ModuleFailure(Exception):
    """A failure to report with fail_json, carrying its result keys."""

    def __init__(self, msg, **details):
        super(ModuleFailure, self).__init__(msg)
        self.msg = msg
        self.details = details


def finish(module, body):
    """Run ``body()`` -> result dict; PlanError/ModuleFailure become fail_json, called outside the ``except`` block so
    Ansible does not present a planned refusal as a crash."""
    failure = None
    try:
        # lock_timeout, timeout: before any lock or write; 0 is "try once, do not wait" on a host
        spine.check_not_negative(module.params, 'lock_timeout', 'timeout')
        result = body()
    except spine.PlanError as exc:
        failure = (exc.msg, exc.details)
    except ModuleFailure as exc:
        failure = (exc.msg, exc.details)
    except Exception as exc:  # pylint: disable=broad-except
        failure = ('%s: %s' % (exc.__class__.__name__, exc), {'exception': traceback.format_exc()})
    if failure is not None:
        module.fail_json(msg=failure[0], **failure[1])
    module.exit_json(**result)


def apply_failure(exc, **extra):
    """The ModuleFailure for a failed apply: the spine's report of what is left, plus ``extra``."""
    details = exc.report()
    details.update(extra)
    return ModuleFailure(exc.message(), changed=bool(exc.applied), **details)


def planned_result(module, planner, outcome):
    """The result keys every changing host module returns (``changed``, ``changes``, ``diff``, ``removed``, ``forced``),
    after passing the plan's warnings to the module."""
    result = outcome.result(diff=module._diff)  # pylint: disable=protected-access
    result['removed'] = [c.target for c in planner.plan.changes if c.action == 'remove']
    result['forced'] = planner.forced
    for warning in planner.plan.warnings:
        module.warn(warning)
    return result


# --- host_gpu_info -----------------------------------------------------------------------------------------------

def run_info(module):
    host = HostRoot(module.params['host_root'])

    def body():
        if not os.path.isdir(host.sys_path('bus', 'pci', 'devices')):
            raise ModuleFailure('host_root %s has no sys/bus/pci/devices: is it the root of a Linux host (or a mount of one)?'
                                % host.root)
        inv = inventory.scan(host)
        gpus = layout.select_gpus(inv, module.params['devices'])
        return dict(changed=False, gpus=[g.as_dict() for g in gpus], iommu=inv.iommu(), vgpu_backends=sorted(set(g.backend for g in gpus)))
    finish(module, body)


# --- host_vgpu ---------------------------------------------------------------------------------------------------

def _wanted(module, inv):
    """[(Gpu, [(VgpuType, count or None)])] for state=present, from the options or the config file."""
    params = module.params
    if params['config_file']:
        data = vdm_config.load(params['config_file'])
        entries = vdm_config.select(data, params['selected_config'])
        gpus = layout.select_gpus(inv, params['devices'])
        chosen = vdm_config.layouts(entries, gpus)
        out = []
        for gpu in gpus:
            if gpu.address in chosen:
                out.append((gpu, [(layout.resolve_type(name, 'config_file %s: vgpu-devices' % params['selected_config']), count)
                                  for name, count in chosen[gpu.address].items()]))
        return out
    if not params['vgpu_type']:
        raise spine.PlanError('state=present needs vgpu_type (with optional count) or config_file + selected_config')
    vtype = layout.resolve_type(params['vgpu_type'])
    gpus = layout.select_gpus(inv, params['devices'])
    if params['devices'] in (None, 'all', ['all']):
        # 'all' with a type means every GPU of the model that offers it (a host may mix models)
        gpus = [gpu for gpu in gpus if layout.offers(gpu, vtype)]
        if not gpus:
            raise spine.PlanError('vgpu_type %s: no GPU on this host offers it; GPUs: %s' % (vtype.canonical, layout.gpu_list(inv)))
    return [(gpu, [(vtype, params['count'])]) for gpu in gpus]


def plan_vgpu(module, host, inv):
    params = module.params
    planner = layout.LayoutPlanner(host, inv, force=params['force'], persist=params['persist'], mixed_size=params['mixed_size'])
    if params['state'] == 'absent':
        if params['config_file'] or params['count'] is not None:
            raise spine.PlanError('state=absent removes vGPUs (all, or those of vgpu_type) from devices; count and config_file '
                                  'only apply to state=present')
        vtype = layout.resolve_type(params['vgpu_type']) if params['vgpu_type'] else None
        gpus = layout.select_gpus(inv, params['devices'])
        for gpu in gpus:
            planner.remove_all(gpu, vtype)
    else:
        targets = [(gpu, planner.desired_for(gpu, wanted)) for gpu, wanted in _wanted(module, inv)]
        for gpu, desired in targets:
            planner.layout(gpu, desired)
        gpus = [gpu for gpu, _d in targets]
    planner.persistence(gpus)
    return planner, gpus


def run_vgpu(module):
    params = module.params
    host = HostRoot(params['host_root'])

    def body():
        if params['config_file'] and params['vgpu_type']:
            raise ModuleFailure('give either vgpu_type or config_file, not both')
        if bool(params['config_file']) != bool(params['selected_config']):
            raise ModuleFailure('config_file and selected_config go together')
        with HostLock(host, params['lock_timeout']):
            inv = inventory.scan(host)
            planner, gpus = plan_vgpu(module, host, inv)
            try:
                outcome = spine.execute(planner.plan, module.check_mode)
            except spine.ApplyError as exc:
                after = inventory.scan(host, with_types=False, names_from=inv)
                raise apply_failure(exc, **_apply_report(exc, after, gpus))
            if not module.check_mode:
                inv.cache.save()
            result = planned_result(module, planner, outcome)
            result['created'] = [c.target for c in planner.plan.changes if c.action == 'create']
            if planner.plan and not module.check_mode:
                after = inventory.scan(host, with_types=False, names_from=inv)
                result['gpus'] = _layout([after.gpu(g.address) for g in gpus])
            else:
                result['gpus'] = _planned_layout(gpus, planner)
            return result
    finish(module, body)


def _layout(gpus):
    return [{'address': g.address, 'index': g.index, 'vgpu_backend': g.backend, 'vgpus': [v.as_dict() for v in g.vgpus]}
            for g in gpus if g is not None]


def _planned_layout(gpus, planner):
    out = []
    for gpu in gpus:
        final = planner.final.get(gpu.address)
        if final is None:
            out.extend(_layout([gpu]))
            continue
        known = dict((v.id, v) for v in gpu.vgpus)
        vgpus = []
        for vid, type_id, parent in final:
            if vid in known:
                vgpus.append(known[vid].as_dict())
            else:
                vgpus.append({'id': vid, 'type_id': type_id, 'type_name': None, 'parent': parent, 'in_use': False, 'vm': None})
        out.append({'address': gpu.address, 'index': gpu.index, 'vgpu_backend': gpu.backend, 'vgpus': vgpus})
    return out


def _apply_report(exc, after, gpus):
    """What the module leaves behind after a failed apply: the spine's report plus the re-read layout."""
    report = {}
    report['created'] = [c.target for c in exc.applied if c.action == 'create']
    report['removed'] = [c.target for c in exc.applied if c.action == 'remove']
    report['gpus'] = _layout([after.gpu(g.address) for g in gpus])
    return report
