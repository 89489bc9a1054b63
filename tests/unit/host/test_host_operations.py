"""The host modules' Operations through plan.run, on a bare host root (no GPU): the result keys of host_gpu_info in
reads_only mode, and the refusals that need no host (input checks, a host_root that is not a Linux root)."""
import os

import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils.operations.host_gpu_info import HostGpuInfo
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.host_vgpu import HostVgpu
from tests.unit.fake_module import run


def test_info_reads_only_result_keys(tmp_path):
    os.makedirs(str(tmp_path / 'sys' / 'bus' / 'pci' / 'devices'))
    module = run(HostGpuInfo, host_root=str(tmp_path), lock_timeout=60, devices='all')
    assert module.failed is None
    assert sorted(module.result) == ['changed', 'driver', 'gpus', 'iommu', 'vgpu_backends', 'vgpu_readiness']
    assert module.result['driver'] == {'loaded': False, 'version': None, 'kind': 'none'}
    assert module.result['changed'] is False and module.result['gpus'] == [] and module.result['vgpu_backends'] == []
    assert not os.path.exists(str(tmp_path / 'run')), 'host_gpu_info takes no host lock'


def test_info_refuses_a_root_without_sysfs(tmp_path):
    module = run(HostGpuInfo, host_root=str(tmp_path), lock_timeout=60, devices='all')
    assert 'has no sys/bus/pci/devices' in module.failed['msg'] and module.result is None


@pytest.mark.parametrize('params,words', [
    (dict(lock_timeout=-1), 'lock_timeout must be 0'),
    (dict(vgpu_type='A10-4Q', config_file='/x.yaml', selected_config='a'), 'not both'),
    (dict(config_file='/x.yaml'), 'go together'),
])
def test_vgpu_refusals_before_the_lock(tmp_path, params, words):
    options = dict(host_root=str(tmp_path), lock_timeout=60, devices='all', vgpu_type=None, count=None, state='present',
                   force=False, persist=False, mixed_size=False, config_file=None, selected_config=None)
    options.update(params)
    module = run(HostVgpu, **options)
    assert words in module.failed['msg']
    assert not os.path.exists(str(tmp_path / 'run')), 'refused before the host lock'
