"""host_gpu_info, host_gpu_sriov and host_gpu_driver with real ansible-playbook runs against the sysfs emulator."""
import os

import pytest

pytestmark = pytest.mark.integration


def addr(index, function=0, device=0):
    return '0000:%02x:%02x.%x' % (0x10 + 8 * index, device, function)


def task(module, name, **args):
    return {'name': name, 'gpuvirt.core.%s' % module: args}


def test_info_detects_backends_at_runtime(emulator, playbook):
    """The backend comes from sysfs, not the GPU model: an SR-IOV GPU is 'none' until its VFs exist (reference §3)."""
    emu = emulator('a10:2,t4:1,l40s:1')
    root = emu.root
    before = playbook([task('host_gpu_info', 'info', host_root=root)])['info']
    assert before['changed'] is False
    gpus = dict((g['address'], g) for g in before['gpus'])
    assert [g['index'] for g in before['gpus']] == [0, 1, 2, 3]
    assert [gpus[addr(i)]['vgpu_backend'] for i in range(4)] == ['none', 'none', 'mdev', 'none']
    t4 = gpus[addr(2)]
    assert t4['model'] == 'T4' and t4['device_id'] == '0x1eb8' and t4['driver'] == 'nvidia'
    assert t4['iommu_group_members'] == [addr(2, 1)] and t4['sriov']['capable'] is False
    four_q = [t for t in t4['vgpu_types'] if t['short_name'] == 'T4-4Q'][0]
    assert four_q == {'id': 'nvidia-232', 'name': 'GRID T4-4Q', 'short_name': 'T4-4Q', 'available_instances': 4,
                      'max_instances': 4, 'framebuffer_mib': 4096}
    assert before['iommu']['enabled'] is True and 'intel_iommu=on' in before['iommu']['parameters']
    assert emu.sriov_manage('-e', 'ALL').returncode == 0
    assert playbook([task('host_vgpu', 'a10', host_root=root, devices=[0], vgpu_type='A10-12Q', count=1),
                     task('host_vgpu', 'l40s', host_root=root, devices=[3], vgpu_type='L40S-12Q', count=2)]).rc == 0
    vf_vgpu = emu.layout()[addr(3)][0][0]
    emu.attach(vf_vgpu, vm='render-1')
    after = playbook([task('host_gpu_info', 'info', host_root=root)])['info']
    gpus = dict((g['address'], g) for g in after['gpus'])
    assert [gpus[addr(i)]['vgpu_backend'] for i in range(4)] == ['mdev', 'mdev', 'mdev', 'vendor_vfio']
    a10 = gpus[addr(0)]
    assert a10['sriov']['num_vfs'] == 24 and len(a10['sriov']['vfs']) == 24
    twelve = [t for t in a10['vgpu_types'] if t['short_name'] == 'A10-12Q'][0]
    assert twelve['available_instances'] == 1, 'two 12 GB vGPUs fit on an A10, one is there'
    assert [t for t in a10['vgpu_types'] if t['short_name'] == 'A10-4Q'][0]['available_instances'] == 0
    assert [(v['type_name'], v['in_use']) for v in a10['vgpus']] == [('NVIDIA A10-12Q', False)]
    l40s = gpus[addr(3)]
    assert sorted((v['id'], v['type_id'], v['type_name'], v['in_use'], v['vm']) for v in l40s['vgpus']) == sorted([
        (vf_vgpu, '1153', 'NVIDIA L40S-12Q', True, 'render-1'),
        (emu.layout()[addr(3)][1][0], '1153', 'NVIDIA L40S-12Q', False, None)])
    assert [t['short_name'] for t in l40s['vgpu_types'] if t['available_instances']] == ['L40S-12Q', 'L40S-12A', 'L40S-12C']


def test_sriov_enable_disable(emulator, playbook):
    """enable (check mode first), rerun, refusal with vGPUs, force, and a transient sriov-manage failure retried."""
    emu = emulator('a10:1,t4:1')
    root = emu.root
    check = playbook([task('host_gpu_sriov', 'enable', host_root=root)], check=True)
    assert check['enable']['changed'] is True and emu.writes() == []
    emu.fault('EIO', path='*/sriov_numvfs', times=1)   # sriov-manage exits 0 although nothing was enabled
    run = playbook([task('host_gpu_sriov', 'enable', host_root=root, retry_delay=0.1)])
    assert run.rc == 0, run.stdout
    assert run['enable']['attempts'] == {addr(0): 2}
    assert run['enable']['gpus'] == [{'address': addr(0), 'total_vfs': 24, 'num_vfs': 24, 'vfs': run['enable']['gpus'][0]['vfs']}]
    base = len(emu.writes())
    again = playbook([task('host_gpu_sriov', 'enable', host_root=root)])
    assert again['enable']['changed'] is False and len(emu.writes()) == base
    refused = playbook([dict(task('host_gpu_sriov', 'non-SR-IOV GPU', host_root=root, devices=[addr(1)]), ignore_errors=True)])
    assert 'has no SR-IOV' in refused['non-SR-IOV GPU']['msg']
    assert playbook([task('host_vgpu', 'vgpus', host_root=root, devices=[0], vgpu_type='A10-8Q', count=2, persist=True)]).rc == 0
    base = len(emu.writes())
    refused = playbook([dict(task('host_gpu_sriov', 'disable', host_root=root, state='disabled'), ignore_errors=True)])
    assert refused['disable']['failed'] is True and 'still has 2 vGPU' in refused['disable']['msg']
    assert len(emu.writes()) == base
    forced = playbook([task('host_gpu_sriov', 'disable', host_root=root, state='disabled', force=True)])
    assert forced.rc == 0, forced.stdout
    assert len(forced['disable']['removed']) == 2 and emu.layout()[addr(0)] == []
    assert emu.state()['gpus'][0]['vfs'] == []
    definitions = [f for d, _s, files in os.walk(os.path.join(root, 'etc/mdevctl.d')) for f in files]
    assert definitions == [], 'no stale mdevctl definition after the forced disable'


def test_sriov_gives_up_after_timeout(emulator, playbook):
    emu = emulator('l40s:1')
    emu.fault('EIO', path='*/sriov_numvfs')
    run = playbook([dict(task('host_gpu_sriov', 'enable', host_root=emu.root, timeout=0), ignore_errors=True)])
    result = run['enable']
    assert result['failed'] is True and 'sriov_numvfs is 0' in result['msg'] and 'Input/output error' in result['msg']
    assert result['state_restored'] is True


def test_driver_vfio_and_back(emulator, playbook):
    """vfio-pci for the GPU and its audio function, rerun, check mode, driverctl persistence, and back to nvidia."""
    emu = emulator('t4:1')
    root = emu.root
    gpu, audio = addr(0), addr(0, 1)
    check = playbook([task('host_gpu_driver', 'vfio', host_root=root, devices=[gpu], driver='vfio-pci')], check=True)
    assert check['vfio']['changed'] is True and emu.writes() == []
    run = playbook([task('host_gpu_driver', 'vfio', host_root=root, devices=[gpu], driver='vfio-pci', persist=True)])
    assert run.rc == 0, run.stdout
    assert not [w for w in run['vfio'].get('warnings', []) if 'driverctl is not installed' in w]
    assert sorted((d['address'], d['driver'], d['driver_override']) for d in run['vfio']['devices']) == [
        (gpu, 'vfio-pci', 'vfio-pci'), (audio, 'vfio-pci', 'vfio-pci')]
    for address in (gpu, audio):
        with open(os.path.join(root, 'etc/driverctl.d/pci-%s' % address)) as handle:
            assert handle.read() == 'vfio-pci\n'
    paths = [(os.path.basename(w[0]), w[1].strip()) for w in emu.writes()]
    assert paths == [('unbind', gpu), ('driver_override', 'vfio-pci'), ('drivers_probe', gpu),
                     ('unbind', audio), ('driver_override', 'vfio-pci'), ('drivers_probe', audio)]
    base = len(emu.writes())
    again = playbook([task('host_gpu_driver', 'vfio', host_root=root, devices=[gpu], driver='vfio-pci', persist=True)])
    assert again['vfio']['changed'] is False and len(emu.writes()) == base
    info = playbook([task('host_gpu_info', 'info', host_root=root)])['info']
    assert info['gpus'][0]['vgpu_backend'] == 'none' and info['gpus'][0]['driver'] == 'vfio-pci'
    emu.attach(gpu, vm='passthrough-vm')
    refused = playbook([dict(task('host_gpu_driver', 'back', host_root=root, devices=[gpu], driver='nvidia'), ignore_errors=True)])
    assert 'passthrough-vm' in refused['back']['msg'] and len(emu.writes()) == base
    emu.detach(gpu)
    back = playbook([task('host_gpu_driver', 'back', host_root=root, devices=[gpu], driver='nvidia', persist=True)])
    assert back.rc == 0
    assert sorted((d['address'], d['driver'], d['driver_override']) for d in back['back']['devices']) == [
        (gpu, 'nvidia', None), (audio, 'snd_hda_intel', None)]
    assert not os.path.exists(os.path.join(root, 'etc/driverctl.d/pci-%s' % gpu))


def test_driverctl_persist_on_a_host_without_driverctl_warns(emulator, playbook):
    emu = emulator('t4:1')
    os.unlink(os.path.join(emu.root, 'usr/lib/udev/rules.d/05-driverctl.rules'))
    run = playbook([task('host_gpu_driver', 'vfio', host_root=emu.root, devices=[addr(0)], driver='vfio-pci', persist=True)])
    assert run.rc == 0, run.stdout
    warnings = [w for w in run['vfio'].get('warnings', []) if 'driverctl is not installed' in w]
    assert len(warnings) == 1 and '05-driverctl.rules' in warnings[0] and 'vfio-pci at boot' in warnings[0]
    assert os.path.exists(os.path.join(emu.root, 'etc/driverctl.d/pci-%s' % addr(0)))
    back = playbook([task('host_gpu_driver', 'back', host_root=emu.root, devices=[addr(0)], driver='nvidia', persist=True)])
    assert back.rc == 0 and not [w for w in back['back'].get('warnings', []) if 'driverctl' in w]


def test_driver_refusals_and_undo(emulator, playbook):
    """VFs, GPUs with VFs, GPUs with vGPUs are refused before any write; a failed bind is undone."""
    emu = emulator('a10:1,t4:1')
    root = emu.root
    emu.sriov_manage('-e', addr(0))
    assert playbook([task('host_vgpu', 'vgpu', host_root=root, devices=[1], vgpu_type='T4-8Q', count=1)]).rc == 0
    base = len(emu.writes())
    cases = {
        'a VF': (dict(devices=[addr(0, 4)], driver='vfio-pci'), 'virtual function'),
        'GPU with VFs': (dict(devices=[addr(0)], driver='vfio-pci'), 'disable them first'),
        'GPU with vGPUs': (dict(devices=[addr(1)], driver='vfio-pci'), 'has 1 vGPU'),
        'malformed': (dict(devices=['nonsense'], driver='vfio-pci'), "'nonsense'"),
    }
    run = playbook([dict(task('host_gpu_driver', name, host_root=root, **args), ignore_errors=True) for name, (args, _w) in cases.items()])
    for name, (_args, word) in cases.items():
        assert run[name]['failed'] is True and word in run[name]['msg'], (name, run[name]['msg'])
    assert len(emu.writes()) == base
    emu.fault('EIO', nth=5)    # 1: remove the vGPU (force), 2-4: the GPU's unbind, override, probe; 5: the audio's unbind
    failed = playbook([dict(task('host_gpu_driver', 'bind', host_root=root, devices=[addr(1)], driver='vfio-pci', force=True),
                            ignore_errors=True)])
    result = failed['bind']
    assert result['failed'] is True and result['state_restored'] is True, result
    state = emu.state()['gpus'][1]
    assert state['driver'] == 'nvidia' and len(state['mdevs']) == 1, 'the vGPU removed by force is re-created by the undo'
    info = playbook([task('host_gpu_info', 'info', host_root=root)])['info']
    t4 = info['gpus'][1]
    assert t4['driver'] == 'nvidia' and t4['driver_override'] is None


def test_driver_modprobe_persistence(emulator, playbook):
    """persist_method=modprobe: one options line with the ids of the GPU and its audio function, removed again."""
    emu = emulator('t4:1')
    root = emu.root
    conf = os.path.join(root, 'etc/modprobe.d/gpuvirt-vfio.conf')
    run = playbook([task('host_gpu_driver', 'vfio', host_root=root, devices=[addr(0)], driver='vfio-pci', persist=True,
                         persist_method='modprobe')], diff=True)
    assert run.rc == 0, run.stdout
    with open(conf) as handle:
        text = handle.read()
    assert 'options vfio-pci ids=10de:10f8,10de:1eb8\n' in text and 'softdep nvidia pre: vfio-pci\n' in text
    assert run['vfio']['diff']['after']['gpuvirt-vfio.conf'].startswith('# written by gpuvirt.core')
    assert run['vfio']['diff']['before'][addr(0)] == {'driver': 'nvidia', 'driver_override': None}
    again = playbook([task('host_gpu_driver', 'vfio', host_root=root, devices=[addr(0)], driver='vfio-pci', persist=True,
                           persist_method='modprobe')])
    assert again['vfio']['changed'] is False
    back = playbook([task('host_gpu_driver', 'back', host_root=root, devices=[addr(0)], driver='nvidia', persist=True,
                          persist_method='modprobe')])
    assert back.rc == 0 and not os.path.exists(conf)
