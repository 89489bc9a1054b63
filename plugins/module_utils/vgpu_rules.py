# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules for the vGPUs of one VM, in one place: vsphere_vm_gpu (vsphere/planners.py), vsphere_vm_class
(tanzu/vmclass.py) and capv_machine_template_gpu (capv/template.py) call :func:`check_vm_vgpus` before the first write.

NVIDIA's multi-vGPU rules (reference gpu-virtualization-facts.md §4, [S1 §2.11-2.12]; the catalog in vgpu/):

1. no MIG-backed vGPU together with a time-sliced one (vgpu-device-manager: "cannot mix time-sliced and MIG-backed vGPU
   devices"; one VM's vGPUs share that restriction);
2. all vGPUs of one VM on the same board type (A10-4Q with T4-4Q can never power on);
3. all of the same series (Q, C, B, A);
4. time-sliced vGPUs all of the same size, unless the host runs mixed-size mode on those GPUs (vGPU 17+, Turing and
   later per the catalog). Without a host (a VM class, a machine template) different sizes are refused where the
   architecture has no mixed-size mode at all, and accepted otherwise (the host they land on must run it);
5. with a host (or a cluster): they fit on its GPUs of that board (:func:`vgpu.check_fit` per GPU, first fit, each GPU
   in its own mode); 20 x A10-24Q never fit on two A10s.

Pure, no I/O. Every refusal is a :class:`~plan.PlanError` naming the profiles and the rule.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.gpuvirt.core.plugins.module_utils import vgpu
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError


def _parse(profiles):
    parsed = []
    for spelling in profiles:
        try:
            parsed.append((spelling, vgpu.parse(spelling, strict=False)))
        except vgpu.VgpuError as exc:
            raise PlanError('vGPU profile %r is not a vGPU type of the catalog: %s' % (spelling, exc), vgpu_profile=str(spelling))
    return parsed


def _names(items):
    return ', '.join(spelling for spelling, _vtype in items)


def vm_vgpu_problems(profiles, gpus=None):
    """What breaks the rules (list of texts, [] when none) for one VM's vGPU ``profiles`` (any catalog spelling).

    ``gpus``: None (no host known), or the GPUs the VM's host (or cluster) offers for vGPUs: [{'device_id' (PCI device
    id), 'mixed_size' (bool: the GPU runs mixed-size mode), 'name' (optional, for messages)}].
    """
    parsed = _parse(profiles)
    if len(parsed) < 2 and gpus is None:
        return []
    problems = []
    mig = [(s, t) for s, t in parsed if t.mig]
    sliced = [(s, t) for s, t in parsed if not t.mig]
    if mig and sliced:
        problems.append('MIG-backed %s and time-sliced %s cannot be mixed in one VM' % (_names(mig), _names(sliced)))
    boards = sorted(set(t.model or t.gpu for _s, t in parsed))
    if len(boards) > 1:
        problems.append('all vGPUs of one VM must be on the same board type, got %s'
                        % '; '.join('%s: %s' % (b, _names([(s, t) for s, t in parsed if (t.model or t.gpu) == b])) for b in boards))
    series = sorted(set(t.series for _s, t in parsed))
    if len(series) > 1:
        problems.append('all vGPUs of one VM must be of the same series, got %s'
                        % '; '.join('%s: %s' % (x, _names([(s, t) for s, t in parsed if t.series == x])) for x in series))
    if problems:
        return problems
    sizes = sorted(set(t.framebuffer_mib for _s, t in sliced))
    if len(sizes) > 1:
        model = vgpu.gpu_model(boards[0])
        if gpus is None:
            if not model.mixed_size_capable:
                problems.append('vGPUs of different sizes (%s) need mixed-size mode, which %s (%s) does not have: use one size'
                                % (_names(sliced), model.name, model.architecture))
        else:
            same_board = [g for g in gpus if g['device_id'] in model.device_ids]
            if same_board and not any(g.get('mixed_size') for g in same_board):
                problems.append('vGPUs of different sizes (%s) need the host to run mixed-size mode on its %s GPUs '
                                '(vsphere_host_graphics vgpu_mode: mixedSize), it runs equal-size mode: use one size' % (_names(sliced), model.name))
    if problems or gpus is None:
        return problems
    return _capacity_problems(parsed, boards[0], gpus)


def _capacity_problems(parsed, board, gpus):
    model = vgpu.gpu_model(board)
    same_board = [g for g in gpus if g['device_id'] in model.device_ids]
    if not same_board:
        return []  # the caller says there is no GPU for the profile (vsphere planners: "no GPU in Shared Direct mode")
    placed = [[] for _g in same_board]
    for spelling, vtype in sorted(parsed, key=lambda item: -item[1].framebuffer_mib):
        for index, gpu in enumerate(same_board):
            if vgpu.check_fit(model, placed[index] + [vtype], mixed_size=bool(gpu.get('mixed_size'))):
                placed[index].append(vtype)
                break
        else:
            return ['%d vGPU(s) (%s) do not fit on the %d %s GPU(s) there (%s); at most %d x %s fit on one %s'
                    % (len(parsed), _names(parsed), len(same_board), model.name,
                       ', '.join(g.get('name') or '%04x' % g['device_id'] for g in same_board),
                       model.max_instances(vtype), vtype.canonical, model.name)]
    return []


def check_vm_vgpus(profiles, owner, gpus=None, **details):
    """:class:`~plan.PlanError` naming ``owner`` ('VM vm1 on host h1', 'VM class gpu01'), the profiles and each broken
    rule; nothing when the profiles follow them (:func:`vm_vgpu_problems`)."""
    problems = vm_vgpu_problems(list(profiles or []), gpus)
    if problems:
        raise PlanError('%s: vGPU profiles %s break NVIDIA\'s multi-vGPU rules: %s' % (owner, ', '.join(profiles), '; '.join(problems)),
                        vgpu_profiles=list(profiles), **details)
