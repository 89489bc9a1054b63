"""Issue 14: the host modules on real layouts -- every NVIDIA GPU wherever it sits, indexed in PCI order, the captured
H200 VM (reference/real-gpu-h200.md: 0000:00:06.0, no IOMMU, datacenter driver) -- and their refusals before any
write (a host root without sys/, negative or out-of-range indices, no file written in check mode)."""
import os

import pytest

pytestmark = pytest.mark.integration


def task(module, name, **args):
    return {'name': name, 'gpuvirt.core.%s' % module: args}


def test_h200_vm_layout(emulator, playbook):
    """The captured machine, where the module used to return gpus: [] (the reference's h200-capture/host_gpu_info.json)."""
    emu = emulator('h200@0000:00:06.0', no_iommu=True)
    info = playbook([task('host_gpu_info', 'info', host_root=emu.root)])['info']
    assert [(g['address'], g['index'], g['device_id'], g['subsystem_id'], g['model'], g['driver']) for g in info['gpus']] == [
        ('0000:00:06.0', 0, '0x2335', '0x18bf', 'H200X', 'nvidia')]
    gpu = info['gpus'][0]
    assert gpu['iommu_group'] is None and gpu['iommu_group_members'] == [] and gpu['numa_node'] == '-1'
    assert gpu['sriov']['capable'] is False and gpu['vgpu_backend'] == 'none' and gpu['vgpu_types'] == []
    assert info['iommu']['enabled'] is False and info['iommu']['parameters'] == []
    assert info['driver'] == {'loaded': True, 'version': '580.159.04', 'kind': 'datacenter'}
    assert info['vgpu_backends'] == ['none']


def test_gpus_anywhere_in_pci_order(emulator, playbook):
    """A GPU at device number 1 (not :00.0) is found; indices follow the PCI address, as go-nvlib numbers them."""
    emu = emulator('a10:1,t4@0000:08:01.0')
    info = playbook([task('host_gpu_info', 'info', host_root=emu.root)])['info']
    assert [(g['address'], g['index'], g['model']) for g in info['gpus']] == [('0000:08:01.0', 0, 'T4'), ('0000:10:00.0', 1, 'A10')]
    assert info['driver']['kind'] == 'vgpu_manager'
    one = playbook([task('host_gpu_info', 'info', host_root=emu.root, devices=[1])])['info']
    assert [g['address'] for g in one['gpus']] == ['0000:10:00.0']


NO_SYS = [
    ('host_vgpu', {'vgpu_type': 'T4-4Q', 'count': 1}),
    ('host_vgpu', {'state': 'absent'}),
    ('host_gpu_sriov', {'state': 'enabled'}),
    ('host_gpu_sriov', {'state': 'disabled'}),
    ('host_gpu_driver', {'driver': 'vfio-pci', 'devices': ['0000:10:00.0']}),
    ('host_gpu_info', {}),
]


@pytest.mark.parametrize('check', [False, True])
def test_host_root_without_sys_is_refused(check, playbook, tmp_path):
    """Every host module says so (before: host_vgpu said "GPUs: none", state=absent and host_gpu_sriov succeeded)."""
    root = tmp_path / 'not-a-host'
    root.mkdir()
    tasks = [dict(task(module, 'run%d' % n, host_root=str(root), **args), ignore_errors=True) for n, (module, args) in enumerate(NO_SYS)]
    out = playbook(tasks, check=check)
    for n, (module, _args) in enumerate(NO_SYS):
        assert out['run%d' % n].get('failed') is True and 'has no sys/bus/pci/devices' in out['run%d' % n]['msg'], (module, out['run%d' % n])
    assert os.listdir(str(root)) == [], 'nothing may be created under a host root that is not one'


INDEXED = [
    ('host_vgpu', {'vgpu_type': 'T4-4Q', 'count': 1}),
    ('host_vgpu', {'state': 'absent'}),
    ('host_gpu_sriov', {'state': 'disabled'}),
    ('host_gpu_info', {}),
]


def test_negative_and_out_of_range_indices(emulator, playbook):
    """devices: [-2] selected the second GPU from the end and wrote to it; now every module refuses it, naming it."""
    emu = emulator('t4:2')
    cases = [(module, args, devices) for module, args in INDEXED for devices in ([-2], [-1], [2], ['-1'], [0, -1])]
    tasks = [dict(task(module, 'run%d' % n, host_root=emu.root, devices=devices, **args), ignore_errors=True)
             for n, (module, args, devices) in enumerate(cases)]
    out = playbook(tasks)
    for n, case in enumerate(cases):
        result = out['run%d' % n]
        assert result.get('failed') is True and 'devices' in result['msg'], (case, result)
    assert emu.writes() == []


def test_check_mode_writes_no_file(emulator, playbook):
    """Check mode creates nothing under the host root (before: the lock file host_root/run/gpuvirt-host.lock)."""
    emu = emulator('t4:1,l40s:1')
    assert emu.sriov_manage('-e', 'ALL').returncode == 0

    def files():
        return sorted(os.path.join(d, f) for d, _s, fs in os.walk(emu.root)
                      if not d.startswith(emu.sys) and '.sysfs-emulator' not in d for f in fs)
    before, writes = files(), len(emu.writes())
    out = playbook([task('host_vgpu', 'vgpu', host_root=emu.root, devices=[0], vgpu_type='T4-4Q', count=2, persist=True),
                    task('host_vgpu', 'l40s', host_root=emu.root, devices=[1], vgpu_type='L40S-4Q', count=2),
                    task('host_gpu_sriov', 'sriov', host_root=emu.root, state='disabled'),
                    task('host_gpu_driver', 'driver', host_root=emu.root, driver='vfio-pci', devices=['0000:10:00.0'],
                         persist=True)], check=True)
    assert [out[name]['changed'] for name in ('vgpu', 'l40s', 'sriov', 'driver')] == [True, True, True, True]
    assert files() == before and not os.path.exists(os.path.join(emu.root, 'run', 'gpuvirt-host.lock'))
    assert len(emu.writes()) == writes


def test_forced_remove_of_a_held_vgpu_does_not_hang(emulator, playbook):
    """A real kernel blocks the remove of a vGPU a VM holds until the VM lets go (the emulator's BLOCK fault): the
    module gives up after remove_timeout, says what happened (outcome unknown, the VM, what is left to do) and the
    removal completes once the VM is gone."""
    emu = emulator('t4:1')
    assert playbook([task('host_vgpu', 'make', host_root=emu.root, vgpu_type='T4-4Q', count=2)]).rc == 0
    held = emu.layout()['0000:10:00.0'][0][0]
    emu.attach(held, vm='db-1')
    emu.fault('BLOCK', path='*/%s/remove' % held)
    try:
        out = playbook([dict(task('host_vgpu', 'swap', host_root=emu.root, vgpu_type='T4-8Q', count=1, force=True,
                                  remove_timeout=1), ignore_errors=True)])['swap']
    finally:       # the VM lets go: the waiting write completes (and the emulator can be unmounted)
        emu.detach(held)
        emu.clear_faults()
    assert out['failed'] is True and 'still held by VM db-1' in out['msg'], out
    assert out['outcome_unknown'] == [held] and out['vm'] == 'db-1'
    assert held in [c['target'] for c in out['remaining_changes'] if c['action'] == 'remove']
    assert held in [v['id'] for v in out['gpus'][0]['vgpus']]
    final = playbook([task('host_vgpu', 'swap', host_root=emu.root, vgpu_type='T4-8Q', count=1)])['swap']
    assert [v['type_name'] for v in final['gpus'][0]['vgpus']] == ['GRID T4-8Q']
    assert held not in [v['id'] for v in final['gpus'][0]['vgpus']]


def test_modprobe_names_the_other_devices_it_would_claim(emulator, playbook):
    """ids=10de:1eb8 for one T4 also takes the other T4 (with its vGPUs) at the next boot: warn, naming it."""
    emu = emulator('t4:2')
    assert playbook([task('host_vgpu', 'make', host_root=emu.root, devices=[1], vgpu_type='T4-4Q', count=2)]).rc == 0
    out = playbook([task('host_gpu_driver', 'vfio', host_root=emu.root, driver='vfio-pci', devices=['0000:10:00.0'],
                         persist=True, persist_method='modprobe')], check=True)
    warning = [w for w in out['vfio'].get('warnings', []) if 'persist_method modprobe' in w]
    assert len(warning) == 1 and '0000:18:00.0 (GPU, driver nvidia, 2 active vGPU(s))' in warning[0], out['vfio']
    assert '0000:18:00.1' in warning[0] and '0000:10:00.1' not in warning[0].split('also binds')[1]


def test_sriov_manage_of_another_tree_is_not_run(emulator, playbook, tmp_path):
    """NVIDIA's sriov-manage hard-codes /sys: a script under host_root that does not act on host_root/sys would change
    this machine, not the emulated host; refused before running it (the emulator's own script names ROOT/sys)."""
    emu = emulator('a10:1')
    script = tmp_path / 'sriov-manage'
    script.write_text('#!/bin/sh\n# acts on /sys/bus/pci/devices, as NVIDIA\'s does\ntouch %s\n' % (tmp_path / 'ran'))
    script.chmod(0o755)
    out = playbook([dict(task('host_gpu_sriov', 'enable', host_root=emu.root, sriov_manage=str(script)), ignore_errors=True)])['enable']
    assert out['failed'] is True and 'acts on /sys' in out['msg'], out
    assert not (tmp_path / 'ran').exists() and emu.writes() == []
