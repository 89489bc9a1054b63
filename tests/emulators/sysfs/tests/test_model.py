"""The sysfs emulator's model without FUSE: the kernel and NVIDIA rules it encodes (sections as in its docstrings)."""
import errno

import pytest

from tests.emulators.sysfs.gpus import GPUS, parse_gpus
from tests.emulators.sysfs.model import Host

UUID1 = '11111111-2222-3333-4444-555555555555'
UUID2 = '11111111-2222-3333-4444-666666666666'


def host(spec='a10:1,t4:1,l40s:1'):
    return Host(parse_gpus(spec))


def errno_of(func, *args):
    with pytest.raises(OSError) as info:
        func(*args)
    return info.value.errno


def test_parse_gpus():
    assert [g.token for g in parse_gpus('a10:2,t4:1')] == ['a10', 'a10', 't4']
    for bad in ('x100:1', 'a10:zero', 'a10:0', ''):
        with pytest.raises(ValueError):
            parse_gpus(bad)


def test_type_tables_follow_the_reference():
    """max_instance = min(FB / size, 32); A10 ids 588.. and L40S 1145.. as in reference §1/§3."""
    a10 = dict((t.short_name, t) for t in GPUS['a10'].types)
    assert a10['A10-4Q'].type_id == 593 and a10['A10-4Q'].max_instance == 6 and a10['A10-24C'].type_id == 614
    l40s = dict((t.short_name, t) for t in GPUS['l40s'].types)
    assert l40s['L40S-1Q'].max_instance == 32 and l40s['L40S-48Q'].type_id == 1156 and l40s['L40S-3B'].type_id == 2164
    assert GPUS['a10'].description(a10['A10-4Q']) == 'num_heads=4, frl_config=60, framebuffer=4096M, max_resolution=7680x4320, max_instance=6'


def test_addresses_and_groups():
    h = host()
    assert h.resolve('/bus/pci/devices/0000:10:00.0') == '/devices/pci0000:00/0000:00:01.0/0000:10:00.0'
    group = h.resolve('/bus/pci/devices/0000:10:00.0/iommu_group').rsplit('/', 1)[1]
    assert sorted(h.listdir('/kernel/iommu_groups/%s/devices' % group)) == ['0000:10:00.0', '0000:10:00.1']


def test_bind_unbind_errors():
    h = host('t4:1')
    gpu = '0000:10:00.0'
    assert errno_of(h.write_path, '/bus/pci/drivers/nvidia/bind', gpu) == errno.EBUSY
    assert errno_of(h.write_path, '/bus/pci/drivers/nvidia/bind', '0000:77:00.0') == errno.ENODEV
    assert errno_of(h.write_path, '/bus/pci/drivers/vfio-pci/unbind', gpu) == errno.ENODEV
    h.write_path('/bus/pci/drivers/nvidia/unbind', gpu + '\n')
    assert errno_of(h.write_path, '/bus/pci/drivers/vfio-pci/bind', gpu) == errno.ENODEV, 'vfio-pci has no id for it'
    h.write_path('/bus/pci/drivers/vfio-pci/new_id', '10de 1eb8')
    assert h.devices[gpu].driver == 'vfio-pci', 'new_id probes unbound matching devices'
    assert errno_of(h.write_path, '/bus/pci/drivers/vfio-pci/new_id', '10de 1eb8') == errno.EEXIST
    assert errno_of(h.write_path, '/bus/pci/drivers/vfio-pci/remove_id', '10de 9999') == errno.ENODEV
    assert [w[3] for w in h.writes] == ['EBUSY', 'ENODEV', 'ENODEV', 'ok', 'ENODEV', 'ok', 'EEXIST', 'ENODEV']


def test_driver_override_rules():
    h = host('t4:1')
    path = '/bus/pci/devices/0000:10:00.0/driver_override'
    assert h.read_path(path) == '(null)\n'
    h.write_path(path, 'vfio-pci\nignored')
    assert h.read_path(path) == 'vfio-pci\n'
    assert errno_of(h.write_path, path, 'x' * 4096) == errno.EINVAL
    h.write_path(path, '\n')
    assert h.read_path(path) == '(null)\n'


def test_sriov_numvfs_needs_a_driver_with_sriov_configure():
    h = host('a10:1')
    path = '/bus/pci/devices/0000:10:00.0/sriov_numvfs'
    assert errno_of(h.write_path, path, '4') == errno.ENOENT
    assert errno_of(h.write_path, path, '25') == errno.ERANGE
    assert errno_of(h.write_path, path, 'x') == errno.EINVAL
    h.write_path('/bus/pci/drivers/nvidia/unbind', '0000:10:00.0')
    h.write_path('/bus/pci/drivers/pci-pf-stub/new_id', '10de 2236')
    assert h.devices['0000:10:00.0'].driver == 'pci-pf-stub'
    h.write_path(path, '4')
    assert [vf.driver for vf in h.gpus[0].vfs] == ['nvidia'] * 4
    assert errno_of(h.write_path, path, '8') == errno.EBUSY
    h.write_path(path, '4')
    h.write_path(path, '0')
    assert h.gpus[0].vfs == []


def test_vf_autoprobe_off_needs_override():
    h = host('a10:1')
    h.write_path('/bus/pci/drivers/nvidia/unbind', '0000:10:00.0')
    h.write_path('/bus/pci/devices/0000:10:00.0/driver_override', 'pci-pf-stub')
    h.write_path('/bus/pci/drivers_probe', '0000:10:00.0')
    h.write_path('/bus/pci/devices/0000:10:00.0/sriov_drivers_autoprobe', '0')
    h.write_path('/bus/pci/devices/0000:10:00.0/sriov_numvfs', '2')
    assert [vf.driver for vf in h.gpus[0].vfs] == [None, None]
    assert errno_of(h.write_path, '/bus/pci/drivers/nvidia/bind', '0000:10:00.4') == errno.ENODEV


def test_mdev_equal_size_and_errors():
    h = host('t4:1')
    types = '/class/mdev_bus/0000:10:00.0/mdev_supported_types'
    assert errno_of(h.write_path, types + '/nvidia-232/create', 'bad') == errno.EINVAL
    assert errno_of(h.write_path, types + '/nvidia-232/create', UUID1 + 'x') == errno.EINVAL
    h.write_path(types + '/nvidia-232/create', UUID1 + '\n')
    assert errno_of(h.write_path, types + '/nvidia-232/create', UUID1) == errno.EEXIST
    assert h.read_path(types + '/nvidia-231/available_instances') == '0\n'
    assert errno_of(h.write_path, types + '/nvidia-231/create', UUID2) == errno.EINVAL
    assert h.read_path(types + '/nvidia-320/available_instances') == '0\n', 'T4-8C: another framebuffer size'
    assert h.read_path(types + '/nvidia-319/available_instances') == '3\n', 'T4-4C shares the 4 GB size'
    h.write_path('/bus/mdev/devices/%s/remove' % UUID1, '0')
    assert UUID1 in h.mdevs, 'writing 0 to remove does nothing'
    assert errno_of(h.write_path, '/bus/mdev/devices/%s/remove' % UUID1, 'x') == errno.EINVAL
    h.write_path('/bus/mdev/devices/%s/remove' % UUID1, '1')
    assert h.mdevs == {}


def test_vendor_vfio_rules():
    h = host('l40s:1')
    gpu = h.gpus[0]
    h._enable_vfs(gpu, 4)  # pylint: disable=protected-access
    vf0, vf1 = '/bus/pci/devices/0000:10:00.4/nvidia', '/bus/pci/devices/0000:10:00.5/nvidia'
    assert errno_of(h.write_path, vf0 + '/current_vgpu_type', '4242') == errno.EINVAL
    assert h.read_path(vf0 + '/current_vgpu_type') == '0\n'
    h.write_path(vf0 + '/current_vgpu_type', '1153')
    assert h.read_path(vf0 + '/creatable_vgpu_types') == ''
    assert errno_of(h.write_path, vf0 + '/current_vgpu_type', '1153') == errno.EINVAL, 'reprogramming needs a delete first'
    assert '1153  : NVIDIA L40S-12Q' in h.read_path(vf1 + '/creatable_vgpu_types')
    h.write_path(vf1 + '/current_vgpu_type', '1153')
    h.write_path('/bus/pci/devices/0000:10:00.6/nvidia/current_vgpu_type', '1163')
    h.write_path('/bus/pci/devices/0000:10:00.7/nvidia/current_vgpu_type', '1153')
    assert h.gpu_room(gpu, gpu.spec.types_by_id[1153]) == 0
    h.attach('0000:10:00.4', 'vm1')
    assert errno_of(h.write_path, vf0 + '/current_vgpu_type', '0') == errno.EBUSY
    assert errno_of(h.write_path, vf0 + '/vgpu_params', 'enable_uvm=1') == errno.EBUSY
    h.detach('0000:10:00.4')
    h.write_path(vf0 + '/vgpu_params', 'frame_rate_limiter=0, disable_vnc=1')
    assert h.read_path(vf0 + '/vgpu_params') == 'frame_rate_limiter=0, disable_vnc=1\n'
    h.write_path(vf0 + '/vgpu_params', ' ')
    assert h.read_path(vf0 + '/vgpu_params') == '\n'


def test_attach_only_what_a_vm_can_open():
    h = host('t4:1')
    with pytest.raises(ValueError):
        h.attach('0000:10:00.0', 'vm')       # bound to nvidia, no vGPU: nothing for VFIO
    with pytest.raises(ValueError):
        h.attach('0000:99:00.0', 'vm')
    h.write_path('/class/mdev_bus/0000:10:00.0/mdev_supported_types/nvidia-232/create', UUID1)
    group = h.attach(UUID1, 'vm')
    assert group == h.mdevs[UUID1].group
    with pytest.raises(ValueError):
        h.attach(UUID1, 'other')


def test_faults_by_position_and_path():
    h = host('t4:1')
    path = '/bus/pci/devices/0000:10:00.0/driver_override'
    h.add_fault('EIO', nth=2)
    h.write_path(path, 'a')
    assert errno_of(h.write_path, path, 'b') == errno.EIO
    h.write_path(path, 'c')
    h.add_fault('EBUSY', path='*/driver_override', times=1)
    assert errno_of(h.write_path, path, 'd') == errno.EBUSY
    h.write_path(path, 'e')
    assert [w[3] for w in h.writes] == ['ok', 'EIO', 'ok', 'EBUSY', 'ok']
    assert h.read_path(path) == 'e\n'
    with pytest.raises(ValueError):
        h.add_fault('ENOTANERRNO', nth=1)
