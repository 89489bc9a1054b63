"""playbooks/gpu_host_check.yml (read-only) on the sysfs emulator: the captured H200 VM (reference/real-gpu-h200.md:
0000:00:06.0, no IOMMU, the datacenter driver, no SR-IOV capability) is reported as it is, with what vGPU still
needs; a vGPU host is reported ready; nothing is written (the emulator's write log, the files under the root)."""
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV_BIN = os.path.dirname(sys.executable)


def check(emu, *extra):
    """Run the playbook with the json callback; {task name: result} for localhost, and the files under ROOT."""
    before = files(emu)
    proc = subprocess.run([os.path.join(VENV_BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % sys.executable, '-e', 'gpu_host_check_root=%s' % emu.root]
                          + list(extra) + ['playbooks/gpu_host_check.yml'], cwd=REPO, check=False, universal_newlines=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=dict(os.environ, ANSIBLE_STDOUT_CALLBACK='json', ANSIBLE_NOCOWS='1', ANSIBLE_FORCE_COLOR='0'))
    out = json.loads(proc.stdout)
    results = dict((t['task']['name'], t['hosts'].get('localhost', {})) for play in out['plays'] for t in play['tasks'])
    assert files(emu) == before and emu.writes() == [], 'the check changes nothing'
    return proc.returncode, results


def files(emu):
    return sorted(os.path.join(d, f) for d, _s, fs in os.walk(emu.root) if not d.startswith(emu.sys) and '.sysfs-emulator' not in d
                  for f in fs)


def test_h200_vm_as_captured(emulator):
    emu = emulator('h200@0000:00:06.0', no_iommu=True)
    rc, results = check(emu)
    assert rc == 0
    gpus = results['Report the GPUs (address, model, driver, IOMMU group, SR-IOV, vGPU backend)']['msg']
    assert len(gpus) == 1 and gpus[0].startswith('0000:00:06.0 | H200X | 0x2335 | nvidia | None | ') and gpus[0].endswith(' | none')
    host = results['Report the host (driver, IOMMU, vGPU backends)']['msg']
    assert host[0] == 'NVIDIA driver: datacenter 580.159.04' and host[1].startswith('IOMMU: off (no IOMMU groups)')
    missing = results['Report what is missing before vGPU can work']['msg']
    assert len(missing) == 3, missing
    assert 'IOMMU off' in missing[0] and 'no intel_iommu=on' in missing[0]
    assert 'datacenter driver 580.159.04' in missing[1] and 'not the vGPU Manager' in missing[1]
    assert '0000:00:06.0 (H200X)' in missing[2] and 'no SR-IOV capability' in missing[2]
    rc, results = check(emu, '-e', 'gpu_host_check_strict=true')
    assert rc != 0 and 'IOMMU off' in results['Fail when something is missing (gpu_host_check_strict)']['msg']


def test_vgpu_hosts(emulator):
    emu = emulator('t4:1,a10:1')
    rc, results = check(emu)
    assert rc == 0
    host = results['Report the host (driver, IOMMU, vGPU backends)']['msg']
    assert host[0] == 'NVIDIA driver: vgpu_manager 550.90.05' and 'intel_iommu=on' in host[1]
    missing = results['Report what is missing before vGPU can work']['msg']
    assert len(missing) == 1 and '0000:18:00.0 (A10) has no virtual functions enabled' in missing[0], missing
    assert emu.sriov_manage('-e', 'ALL').returncode == 0
    emu_writes = len(emu.writes())
    before = files(emu)
    proc = subprocess.run([os.path.join(VENV_BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % sys.executable, '-e', 'gpu_host_check_root=%s' % emu.root,
                           '-e', 'gpu_host_check_strict=true', 'playbooks/gpu_host_check.yml'], cwd=REPO, check=False,
                          universal_newlines=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=dict(os.environ, ANSIBLE_NOCOWS='1', ANSIBLE_FORCE_COLOR='0'))
    assert proc.returncode == 0 and 'ready for vGPU' in proc.stdout, proc.stdout[-3000:]
    assert len(emu.writes()) == emu_writes and files(emu) == before
