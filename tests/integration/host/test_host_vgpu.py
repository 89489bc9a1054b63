"""gpuvirt.core.host_vgpu with real ansible-playbook runs against the sysfs emulator, on each backend:
mdev on the physical function (T4), mdev on SR-IOV VFs (A10), NVIDIA's vendor-specific VFIO (L40S).

The emulator's write log is the proof for "zero writes" (check mode, reruns, refusals) and its own state is the
ground truth the module's reports are compared with.
"""
import fcntl
import json
import os
import subprocess

import pytest

pytestmark = pytest.mark.integration


def addr(index, function=0, device=0):
    return '0000:%02x:%02x.%x' % (0x10 + 8 * index, device, function)


# backend -> (emulator GPUs, first layout (type, count), second layout, needs sriov-manage)
BACKENDS = {
    'mdev-pf': ('t4:1', ('T4-4Q', 4), ('T4-2Q', 3), False),
    'mdev-vf': ('a10:1', ('A10-4Q', 3), ('A10-6Q', 2), True),
    'vendor-vfio': ('l40s:1', ('L40S-8Q', 3), ('L40S-6Q', 2), True),
}


def vgpu_task(name, **args):
    return {'name': name, 'gpuvirt.core.host_vgpu': args}


def start(emulator, backend):
    gpus, first, second, sriov = BACKENDS[backend]
    emu = emulator(gpus)
    if sriov:
        assert emu.sriov_manage('-e', 'ALL').returncode == 0
    return emu, first, second


def new_writes(emu, before):
    return emu.writes()[before:]


def vgpu_ids(layout):
    return [vid for vid, _type in layout]


@pytest.mark.parametrize('backend', sorted(BACKENDS))
def test_lifecycle(emulator, playbook, backend):
    """create (check mode first), rerun, switch types, remove: exact changes, zero writes when nothing changes."""
    emu, (type1, count1), (type2, count2) = start(emulator, backend)
    gpu = addr(0)
    root = emu.root
    base = len(emu.writes())

    check = playbook([vgpu_task('create', host_root=root, devices=[gpu], vgpu_type=type1, count=count1)], check=True, diff=True)
    assert check.rc == 0, check.stdout
    assert check['create']['changed'] is True
    assert len(check['create']['created']) == count1
    assert check['create']['diff']['before'] == {}
    assert sorted(check['create']['diff']['after']) == sorted(check['create']['created'])
    assert new_writes(emu, base) == [], 'check mode writes nothing'

    run = playbook([vgpu_task('create', host_root=root, devices=[gpu], vgpu_type=type1, count=count1)])
    assert run.rc == 0, run.stdout
    result = run['create']
    assert result['changed'] is True and result['removed'] == [] and len(result['created']) == count1
    layout = emu.layout()[gpu]
    assert sorted(result['created']) == vgpu_ids(layout)
    reported = result['gpus'][0]['vgpus']
    assert sorted(v['id'] for v in reported) == vgpu_ids(layout)
    assert all(v['type_name'].endswith(type1) for v in reported)
    writes = new_writes(emu, base)
    assert len(writes) == count1 and all(w[2] == 'ok' for w in writes)

    base = len(emu.writes())
    again = playbook([vgpu_task('create', host_root=root, devices=[gpu], vgpu_type=type1, count=count1)])
    assert again.rc == 0 and again['create']['changed'] is False and again['create']['created'] == []
    assert new_writes(emu, base) == [], 'a rerun writes nothing'

    switch = playbook([vgpu_task('switch', host_root=root, devices=[0], vgpu_type=type2, count=count2)], diff=True)
    assert switch.rc == 0, switch.stdout
    assert sorted(switch['switch']['removed']) == vgpu_ids(layout)
    diff = switch['switch']['diff']
    if backend == 'vendor-vfio':   # a VF is reprogrammed: it appears on both sides with its old and new type
        assert all(diff['before'][vf]['type_id'] != diff['after'][vf]['type_id'] for vf in set(diff['before']) & set(diff['after']))
    else:
        assert sorted(diff['before']) == vgpu_ids(layout) and sorted(diff['after']) == sorted(switch['switch']['created'])
    assert len(switch['switch']['created']) == count2
    after = emu.layout()[gpu]
    assert len(after) == count2 and sorted(switch['switch']['created']) == vgpu_ids(after)
    assert len(new_writes(emu, base)) == count1 + count2

    base = len(emu.writes())
    gone = playbook([vgpu_task('remove', host_root=root, devices=[gpu], state='absent'),
                     vgpu_task('remove again', host_root=root, devices=[gpu], state='absent')])
    assert gone.rc == 0
    assert sorted(gone['remove']['removed']) == vgpu_ids(after) and gone['remove']['changed'] is True
    assert gone['remove again']['changed'] is False
    assert emu.layout()[gpu] == []
    assert len(new_writes(emu, base)) == count2


@pytest.mark.parametrize('backend', sorted(BACKENDS))
def test_replaces_only_what_differs(emulator, playbook, backend):
    """Growing a layout keeps every existing vGPU (same ids) and creates only the missing ones."""
    emu, (type1, _count), _second = start(emulator, backend)
    root = emu.root
    assert playbook([vgpu_task('two', host_root=root, vgpu_type=type1, count=2)]).rc == 0
    first = vgpu_ids(emu.layout()[addr(0)])
    base = len(emu.writes())
    grow = playbook([vgpu_task('three', host_root=root, vgpu_type=type1, count=3)])
    assert grow.rc == 0 and grow['three']['removed'] == [] and len(grow['three']['created']) == 1
    now = vgpu_ids(emu.layout()[addr(0)])
    assert set(first) < set(now) and len(now) == 3
    assert len(new_writes(emu, base)) == 1


@pytest.mark.parametrize('backend', sorted(BACKENDS))
def test_default_count_is_the_most_that_fit(emulator, playbook, backend):
    emu, (type1, count1), _second = start(emulator, backend)
    expected = {'T4-4Q': 4, 'A10-4Q': 6, 'L40S-8Q': 6}[type1]
    run = playbook([vgpu_task('fill', host_root=emu.root, vgpu_type='NVIDIA %s' % type1)])
    assert run.rc == 0, run.stdout
    assert len(run['fill']['created']) == expected == len(emu.layout()[addr(0)])


def test_refusals_before_any_write(emulator, playbook, tmp_path):
    """Bad input fails before the first write, with a message naming the input."""
    emu = emulator('a10:2,t4:1,l40s:1')
    assert emu.sriov_manage('-e', addr(0)).returncode == 0
    assert emu.sriov_manage('-e', addr(3)).returncode == 0
    base = len(emu.writes())
    root = emu.root
    mixed = tmp_path / 'mixed.yaml'
    mixed.write_text('version: v1\nvgpu-configs:\n  mixed:\n    - devices: [2]\n      vgpu-devices: {"T4-4Q": 2, "T4-2Q": 2}\n')
    cases = {
        'over capacity': (dict(devices=[addr(2)], vgpu_type='T4-4Q', count=5), ['T4-4Q x5', 'at most 4']),
        'over capacity vendor': (dict(devices=[addr(3)], vgpu_type='L40S-24Q', count=3), ['L40S-24Q x3', 'at most 2']),
        'mixed sizes': (dict(config_file=str(mixed), selected_config='mixed'), ['equal-size', 'T4-4Q', 'T4-2Q']),
        'unknown type': (dict(devices=[addr(2)], vgpu_type='T4-5Q'), ['T4-5Q']),
        'type of another GPU': (dict(devices=[addr(2)], vgpu_type='A10-4Q', count=1), ['A10-4Q', addr(2)]),
        'unknown device': (dict(devices=['0000:99:00.0'], vgpu_type='T4-4Q'), ['0000:99:00.0']),
        'malformed address': (dict(devices=['3b:00'], vgpu_type='T4-4Q'), ["'3b:00'", 'not a PCI address']),
        'index out of range': (dict(devices=[7], vgpu_type='T4-4Q'), ['index 7']),
        'a VF is not a GPU': (dict(devices=[addr(0, 4)], vgpu_type='A10-4Q'), [addr(0, 4), 'give the GPU address %s' % addr(0)]),
        'SR-IOV without VFs': (dict(devices=[addr(1)], vgpu_type='A10-4Q'), [addr(1), 'host_gpu_sriov']),
        'more vGPUs than VFs': (dict(devices=[addr(0)], vgpu_type='A10-1Q', count=25), ['A10-1Q x25']),
    }
    tasks = [dict(vgpu_task(name, host_root=root, **args), ignore_errors=True) for name, (args, _words) in cases.items()]
    run = playbook(tasks)
    for name, (_args, words) in cases.items():
        result = run[name]
        assert result.get('failed') is True, (name, result)
        assert result.get('exception', '(traceback unavailable)') == '(traceback unavailable)', (name, result)  # no traceback
        for word in words:
            assert word in result['msg'], (name, word, result['msg'])
    assert new_writes(emu, base) == []


@pytest.mark.parametrize('backend', sorted(BACKENDS))
def test_in_use_vgpu(emulator, playbook, backend):
    """A vGPU a running VM uses is never removed without force; nothing is touched. With force the kernel still
    refuses (EBUSY) and the module undoes its own changes. Keeping it while adding others needs no force."""
    emu, (type1, _count), (type2, count2) = start(emulator, backend)
    root = emu.root
    assert playbook([vgpu_task('two', host_root=root, vgpu_type=type1, count=2)]).rc == 0
    before = emu.layout()
    busy = vgpu_ids(before[addr(0)])[0]
    emu.attach(busy, vm='db-server')
    base = len(emu.writes())

    refused = playbook([dict(vgpu_task('switch', host_root=root, vgpu_type=type2, count=count2), ignore_errors=True)])
    result = refused['switch']
    assert result['failed'] is True and busy in result['msg'] and 'db-server' in result['msg'] and 'force' in result['msg']
    assert new_writes(emu, base) == [] and emu.layout() == before

    shrink = playbook([dict(vgpu_task('shrink', host_root=root, vgpu_type=type1, count=1), ignore_errors=True)])
    assert shrink['shrink']['changed'] is True and shrink['shrink']['removed'] != [busy]
    assert busy in vgpu_ids(emu.layout()[addr(0)]), 'the in-use vGPU is the one kept'

    base = len(emu.writes())
    forced = playbook([dict(vgpu_task('force', host_root=root, vgpu_type=type2, count=count2, force=True), ignore_errors=True)])
    result = forced['force']
    assert result['failed'] is True and result['state_restored'] is True
    assert 'busy' in result['msg'].lower()
    assert [w[2] for w in new_writes(emu, base)][-1] == 'EBUSY' or 'EBUSY' in [w[2] for w in new_writes(emu, base)]
    assert vgpu_ids(emu.layout()[addr(0)]) == [busy]
    assert sorted(v['id'] for v in result['gpus'][0]['vgpus']) == [busy]


@pytest.mark.parametrize('backend', sorted(BACKENDS))
def test_fault_at_each_write_position(emulator, playbook, backend):
    """2 x type1 -> 3 x type2 is 2 removals then 3 creations; an EIO/EBUSY at any of the 5 writes leaves the GPU as it
    was (the module undoes its own writes) and the module's report matches the emulator's state."""
    emu, (type1, _c1), (type2, _c2) = start(emulator, backend)
    root = emu.root
    assert playbook([vgpu_task('initial', host_root=root, vgpu_type=type1, count=2)]).rc == 0
    initial = emu.layout()
    for position in range(1, 6):
        errno_name = 'EIO' if position % 2 else 'EBUSY'
        base = len(emu.writes())
        emu.fault(errno_name, nth=position)
        run = playbook([dict(vgpu_task('change', host_root=root, vgpu_type=type2, count=3), ignore_errors=True)])
        result = run['change']
        assert result['failed'] is True, (position, result)
        assert result['state_restored'] is True, (position, result)
        assert errno_name in result['msg'], (position, result['msg'])
        writes = new_writes(emu, base)
        assert writes[position - 1][2] == errno_name
        assert all(w[2] == 'ok' for i, w in enumerate(writes) if i != position - 1)
        assert emu.layout() == initial, position
        reported = dict((g['address'], sorted(v['id'] for v in g['vgpus'])) for g in result['gpus'])
        assert reported == dict((a, vgpu_ids(items)) for a, items in initial.items() if a in reported)
        emu.clear_faults()


def test_failed_undo_reports_what_exists(emulator, playbook):
    """When the undo itself fails, the module says so and reports the layout that really exists."""
    emu = emulator('t4:1')
    root = emu.root
    assert playbook([vgpu_task('initial', host_root=root, vgpu_type='T4-4Q', count=2)]).rc == 0
    emu.fault('EIO', nth=3)                          # the first creation, after the two removals
    emu.fault('EIO', path='*/nvidia-232/create')     # re-creating the removed T4-4Q vGPUs fails too
    run = playbook([dict(vgpu_task('change', host_root=root, vgpu_type='T4-2Q', count=3), ignore_errors=True)])
    result = run['change']
    assert result['failed'] is True and result['state_restored'] is False
    assert result['changed'] is True
    assert [c['action'] for c in result['applied']] == ['remove', 'remove']
    assert 'still in effect' in result['msg']
    assert result['gpus'][0]['vgpus'] == [] == emu.layout()[addr(0)]


@pytest.mark.parametrize('gpus,gpu_type,count,sriov', [('t4:1', 'T4-4Q', 2, False), ('a10:1', 'A10-4Q', 3, True)])
def test_persist_with_real_mdevctl(emulator, playbook, gpus, gpu_type, count, sriov):
    """persist writes mdevctl definitions the real mdevctl lists; switching and removing leave no stale definition."""
    emu = emulator(gpus)
    if sriov:
        emu.sriov_manage('-e', 'ALL')
    root = emu.root

    def defined():
        proc = subprocess.run(['unshare', '-m', 'sh', '-c', 'mount --bind %s /etc/mdevctl.d && mdevctl list -d --dumpjson'
                               % os.path.join(root, 'etc/mdevctl.d')], capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        out = {}
        for parent_block in json.loads(proc.stdout or '[]'):
            for parent, items in parent_block.items():
                for item in items:
                    for vid, cfg in item.items():
                        out[vid] = (parent, cfg['mdev_type'], cfg['start'])
        return out

    run = playbook([vgpu_task('persist', host_root=root, vgpu_type=gpu_type, count=count, persist=True)])
    assert run.rc == 0, run.stdout
    assert not [w for w in run['persist'].get('warnings', []) if 'mdevctl is not installed' in w]
    layout = emu.layout()[addr(0)]
    assert defined() == dict((vid, (vid_parent, vtype, 'auto')) for (vid, vtype), vid_parent in
                             zip(layout, [v['parent'] for v in sorted(run['persist']['gpus'][0]['vgpus'], key=lambda v: v['id'])]))
    base = len(emu.writes())
    assert playbook([vgpu_task('again', host_root=root, vgpu_type=gpu_type, count=count, persist=True)])['again']['changed'] is False
    assert new_writes(emu, base) == []
    smaller = gpu_type.replace('4Q', '2Q')
    switch = playbook([vgpu_task('switch', host_root=root, vgpu_type=smaller, count=1, persist=True)])
    assert switch.rc == 0
    now = defined()
    assert set(now) == set(vgpu_ids(emu.layout()[addr(0)])) and len(now) == 1
    gone = playbook([vgpu_task('absent', host_root=root, state='absent')])
    assert gone.rc == 0 and defined() == {}


def test_persist_on_a_host_without_mdevctl_warns_that_nothing_starts_the_definitions(emulator, playbook):
    """The definitions are written all the same (mdevctl can be installed later), and the warning says what is
    missing; check mode and a rerun warn too, as the host still lacks it."""
    emu = emulator('a10:1')
    os.unlink(os.path.join(emu.root, 'usr/lib/udev/rules.d/60-mdevctl.rules'))
    emu.sriov_manage('-e', 'ALL')
    for check in (True, False, False):
        run = playbook([vgpu_task('persist', host_root=emu.root, vgpu_type='A10-4Q', count=2, persist=True)], check=check)
        assert run.rc == 0, run.stdout
        warnings = [w for w in run['persist'].get('warnings', []) if 'mdevctl is not installed' in w]
        assert len(warnings) == 1 and '60-mdevctl.rules' in warnings[0] and 'install the mdevctl package' in warnings[0]
    assert len(os.listdir(os.path.join(emu.root, 'etc/mdevctl.d'))) == 3  # scripts.d and the two VFs' parents
    unpersisted = playbook([vgpu_task('plain', host_root=emu.root, vgpu_type='A10-4Q', count=2)])
    assert not [w for w in unpersisted['plain'].get('warnings', []) if 'mdevctl' in w]


def test_vendor_vfio_persist_warns(emulator, playbook):
    emu = emulator('l40s:1')
    emu.sriov_manage('-e', 'ALL')
    run = playbook([vgpu_task('persist', host_root=emu.root, vgpu_type='L40S-4Q', count=2, persist=True)])
    assert run.rc == 0
    assert any('vendor-specific VFIO' in w for w in run['persist'].get('warnings', []))
    assert os.listdir(os.path.join(emu.root, 'etc/mdevctl.d')) == ['scripts.d']


def test_vgpu_device_manager_config(emulator, playbook, tmp_path):
    """config_file + selected_config in vgpu-device-manager's format; device-filter and indices; rerun writes nothing;
    invalid files are refused before any write."""
    emu = emulator('a10:1,t4:1,l40s:1')
    emu.sriov_manage('-e', 'ALL')
    root = emu.root
    config = tmp_path / 'vgpu.yaml'
    config.write_text('''version: v1
vgpu-configs:
  default:
    - devices: all
      device-filter: ["0x223610DE"]
      vgpu-devices: {"A10-4Q": 6}
    - devices: [1]
      vgpu-devices: {"T4-8Q": 2}
    - devices: all
      device-filter: "0x26B910DE"
      vgpu-devices: {"L40S-24Q": 1, "L40S-24A": 1}
  small:
    - devices: all
      vgpu-devices: {"T4-1Q": 16}
''')
    run = playbook([vgpu_task('apply', host_root=root, config_file=str(config), selected_config='default')])
    assert run.rc == 0, run.stdout
    layout = emu.layout()
    assert [t for _v, t in layout[addr(0)]] == ['nvidia-593'] * 6
    assert [t for _v, t in layout[addr(1)]] == ['nvidia-233'] * 2
    assert sorted(t for _v, t in layout[addr(2)]) == ['1155', '1165']
    base = len(emu.writes())
    again = playbook([vgpu_task('apply', host_root=root, config_file=str(config), selected_config='default')])
    assert again['apply']['changed'] is False and new_writes(emu, base) == []
    bad = tmp_path / 'bad.yaml'
    bad.write_text('version: v1\nvgpu-configs:\n  x:\n    - devices: all\n      vgpu-devices: {"T4-1Q": 0}\n      extra: 1\n')
    refused = playbook([dict(vgpu_task('bad', host_root=root, config_file=str(bad), selected_config='x'), ignore_errors=True),
                        dict(vgpu_task('label', host_root=root, config_file=str(config), selected_config='nope'), ignore_errors=True)])
    assert 'extra' in refused['bad']['msg'] and 'nope' in refused['label']['msg'] and 'default' in refused['label']['msg']
    assert new_writes(emu, base) == []


def test_lock_serializes_runs(emulator, playbook):
    """A second run waits for the host lock and gives up after lock_timeout with a clear message."""
    emu = emulator('t4:1')
    lock_path = os.path.join(emu.root, 'run/gpuvirt-host.lock')
    with open(lock_path, 'a') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        run = playbook([dict(vgpu_task('locked', host_root=emu.root, vgpu_type='T4-4Q', lock_timeout=0), ignore_errors=True)])
    assert run['locked']['failed'] is True and 'gpuvirt-host.lock' in run['locked']['msg']
    assert emu.writes() == []


def test_all_means_every_gpu_of_the_model(emulator, playbook):
    """devices: all with a type acts on the GPUs that offer it and leaves the other models alone."""
    emu = emulator('a10:2,t4:1,l40s:1')
    run = playbook([vgpu_task('t4 only', host_root=emu.root, vgpu_type='T4-8Q'),
                    dict(vgpu_task('nobody', host_root=emu.root, vgpu_type='A40-4Q'), ignore_errors=True)])
    assert run['t4 only']['changed'] is True and len(run['t4 only']['created']) == 2
    assert [len(v) for _a, v in sorted(emu.layout().items())] == [0, 0, 2, 0]
    assert [g['address'] for g in run['t4 only']['gpus']] == [addr(2)]
    assert 'no GPU on this host offers it' in run['nobody']['msg'] and 'A40-4Q' in run['nobody']['msg']
