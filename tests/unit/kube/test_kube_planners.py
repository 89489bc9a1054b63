"""Pure planners of the Kubernetes modules: KubeVirt permittedHostDevices, node labels and readiness, licensing.

Facts: gpu-virtualization-facts.md §5 (labels, resource names [S8]), §6 (KubeVirt [S6]), §7 (gridd.conf).
"""
import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils.kube import gpus, kubevirt, licensing, nodes
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError, WaitError


def node(name, labels=None, allocatable=None):
    return {'metadata': {'name': name, 'labels': dict(labels or {})},
            'status': {'allocatable': dict(allocatable or {}), 'capacity': dict(allocatable or {})}}


A10_NODE = node('gpu-1', {'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-A10'}, {'nvidia.com/gpu': '2'})


@pytest.mark.parametrize('pci_name, resource', [
    ('GA102GL [A10]', 'nvidia.com/GA102GL_A10'),
    ('TU104GL [Tesla T4]', 'nvidia.com/TU104GL_TESLA_T4'),
    ('AD102GL [L40S]', 'nvidia.com/AD102GL_L40S'),
    ('GA100 [A100 PCIe 80GB]', 'nvidia.com/GA100_A100_PCIE_80GB'),
])
def test_passthrough_resource_names_follow_the_sandbox_plugin(pci_name, resource):
    assert gpus.passthrough_resource_name(pci_name) == resource


@pytest.mark.parametrize('labels, allocatable, model', [
    ({'nvidia.com/gpu.product': 'NVIDIA-A10'}, {}, 'A10'),
    ({'nvidia.com/gpu.product': 'Tesla-T4'}, {}, 'T4'),
    ({'nvidia.com/gpu.product': 'NVIDIA-L40S'}, {}, 'L40S'),
    ({'nvidia.com/gpu.product': 'NVIDIA-H100'}, {}, 'H100XL'),  # 2339, the SXM5 94 GB [S15]; not the H100 PCIe
    ({'nvidia.com/gpu.product': 'NVIDIA-H100-PCIe'}, {}, 'H100'),
    ({'nvidia.com/gpu.product': 'NVIDIA-H20-3e'}, {}, 'H20X'),  # not the H20 its first word names
    ({'nvidia.com/gpu.product': 'NVIDIA-H200'}, {}, 'H200X'),
    ({'feature.node.kubernetes.io/pci-0302_10de_2236.present': 'true'}, {}, 'A10'),
    ({}, {'nvidia.com/NVIDIA_L40S-24Q': '4'}, 'L40S'),
    ({}, {'nvidia.com/GA102GL_A10': '1'}, 'A10'),
    ({}, {}, None),
])
def test_gpu_model_from_labels_or_resources(labels, allocatable, model):
    found = gpus.gpu_model(node('n', labels, allocatable))
    assert (found.name if found else None) == model


def test_entries_are_validated_and_completed():
    assert kubevirt.normalise_entry('pci_host_devices', 0, {'selector': '10de:2236'}) == {
        'pciVendorSelector': '10DE:2236', 'resourceName': 'nvidia.com/GA102GL_A10'}
    assert kubevirt.normalise_entry('mediated_devices', 0, {'selector': 'nvidia.com/NVIDIA_A10-12Q'}) == {
        'mdevNameSelector': 'NVIDIA A10-12Q', 'resourceName': 'nvidia.com/NVIDIA_A10-12Q'}
    assert kubevirt.normalise_entry('mediated_devices', 0, {'selector': 'GRID T4-1Q'})['resourceName'] == 'nvidia.com/GRID_T4-1Q'
    for option, selector in (('pci_host_devices', '10DE2236'), ('pci_host_devices', 'zzzz:2236'),
                             ('mediated_devices', 'A10-5Q'), ('mediated_devices', 'nvidia-558')):
        with pytest.raises(PlanError) as failure:
            kubevirt.normalise_entry(option, 3, {'selector': selector})
        assert '%s[3]' % option in failure.value.msg and selector in failure.value.msg
    with pytest.raises(PlanError):
        kubevirt.normalise_entry('pci_host_devices', 0, {'selector': '8086:1234'})  # no resource name known


def cr(version='v1.9.0', permitted=None, gates=('HostDevices',)):
    return {'metadata': {'name': 'kubevirt', 'resourceVersion': '7'},
            'spec': {'configuration': {'permittedHostDevices': permitted or {},
                                       'developerConfiguration': {'featureGates': list(gates)}}},
            'status': {'observedKubeVirtVersion': version}}


PCI = [{'pciVendorSelector': '10DE:2236', 'resourceName': 'nvidia.com/GA102GL_A10', 'externalResourceProvider': True}]


def test_plan_adds_entries_and_is_idempotent():
    patch, before, after = kubevirt.desired_configuration(cr(), PCI, [], 'present')[:3]
    assert patch == {'spec': {'configuration': {'permittedHostDevices': {'pciHostDevices': PCI}}}}
    assert before['permittedHostDevices'] == {} and after['permittedHostDevices'] == {'pciHostDevices': PCI}
    done = cr(permitted={'pciHostDevices': [dict(PCI[0], pciVendorSelector='10de:2236')]})
    assert kubevirt.desired_configuration(done, PCI, [], 'present')[0] is None  # selectors compare case-insensitively


def test_plan_absent_removes_only_named_entries_and_keeps_the_others():
    other = {'pciVendorSelector': '10DE:26B9', 'resourceName': 'nvidia.com/AD102GL_L40S'}
    current = cr(permitted={'pciHostDevices': [PCI[0], other], 'usb': [{'resourceName': 'kubevirt.io/usb'}]})
    patch = kubevirt.desired_configuration(current, [{'resourceName': 'nvidia.com/GA102GL_A10'}], [], 'absent')[0]
    assert patch['spec']['configuration']['permittedHostDevices']['pciHostDevices'] == [other]
    assert patch['spec']['configuration']['permittedHostDevices']['usb'] == [{'resourceName': 'kubevirt.io/usb'}]


@pytest.mark.parametrize('version, field, gates', [
    ('v1.9.0', {'enabled': False}, ['HostDevices']),
    ('v1.8.0', {'enabled': False}, ['HostDevices']),
    ('v1.2.1', None, ['HostDevices', 'DisableMDEVConfiguration']),
])
def test_disable_mdev_configuration_depends_on_the_kubevirt_version(version, field, gates):
    patch = kubevirt.desired_configuration(cr(version), [], [], 'present', disable_mdev_configuration=True)[0]
    configuration = patch['spec']['configuration']
    assert configuration.get('mediatedDevicesConfiguration') == field
    assert (configuration.get('developerConfiguration') or {}).get('featureGates', ['HostDevices']) == gates


def test_discovery_uses_nonzero_resources_only():
    nodes_ = [node('gpu-1', {}, {'nvidia.com/NVIDIA_A10-4Q': '12', 'nvidia.com/gpu': '0', 'nvidia.com/GA102GL_A10': '0'}),
              node('gpu-2', {}, {'nvidia.com/AD102GL_L40S': '1'}),
              node('gpu-3', {}, {'nvidia.com/SOMETHING_NEW': '1'})]
    pci, mdev, warnings = kubevirt.discover(nodes_)
    assert [e['resourceName'] for e in mdev] == ['nvidia.com/NVIDIA_A10-4Q']
    assert pci == [{'pciVendorSelector': '10DE:26B9', 'resourceName': 'nvidia.com/AD102GL_L40S', 'externalResourceProvider': True}]
    assert len(warnings) == 1 and 'gpu-3' in warnings[0] and 'nvidia.com/SOMETHING_NEW' in warnings[0]


def test_node_label_plan_validates_before_writing():
    planned = nodes.plan_labels([A10_NODE], 'vm-vgpu', 'NVIDIA A10-4Q')
    assert planned == [(A10_NODE, {'nvidia.com/gpu.workload.config': 'vm-vgpu', 'nvidia.com/vgpu.config': 'A10-4Q'})]
    done = node('gpu-1', dict(A10_NODE['metadata']['labels'], **planned[0][1]))
    assert nodes.plan_labels([done], 'vm-vgpu', 'A10-4Q') == []
    with pytest.raises(PlanError) as failure:
        nodes.plan_labels([A10_NODE], 'vm-vgpu', 'L40S-4Q')
    assert 'A10-4Q' in failure.value.details['valid_configs']
    with pytest.raises(PlanError):
        nodes.plan_labels([A10_NODE], None, 'A10-4Q')  # not a vm-vgpu node
    assert nodes.plan_labels([A10_NODE], 'vm-vgpu', 'my-custom', validate=False)[0][1]['nvidia.com/vgpu.config'] == 'my-custom'


def test_readiness():
    vgpu_labels = {'nvidia.com/gpu.product': 'NVIDIA-A10', 'nvidia.com/vgpu.config.state': 'success'}
    stale = node('gpu-1', vgpu_labels, {'nvidia.com/NVIDIA_A10-12Q': '4'})
    assert nodes.readiness(stale, 'vm-vgpu', 'A10-4Q') == 'waiting'  # success of the previous config
    assert nodes.readiness(stale, 'vm-vgpu', 'default') == 'ready'  # default = A10-12Q (half the framebuffer)
    ready = node('gpu-1', vgpu_labels, {'nvidia.com/NVIDIA_A10-4Q': '12'})
    assert nodes.readiness(ready, 'vm-vgpu', 'A10-4Q') == 'ready'
    failed = node('gpu-1', {'nvidia.com/vgpu.config.state': 'failed'})
    assert nodes.readiness(failed, 'vm-vgpu', 'A10-4Q') == 'failed'
    assert nodes.readiness(failed, 'vm-vgpu', 'A10-4Q', trust_failed=False) == 'waiting'
    assert nodes.readiness(node('n', {}, {'nvidia.com/GA102GL_A10': '2'}), 'vm-passthrough', None) == 'ready'


def test_wait_times_out_naming_the_state():
    ticks = iter(range(100))
    pending = node('gpu-1', {'nvidia.com/vgpu.config.state': 'pending', 'nvidia.com/vgpu.config': 'A10-4Q'})
    with pytest.raises(WaitError) as failure:
        nodes.wait_ready(lambda: [pending], {'gpu-1': ('vm-vgpu', 'A10-4Q', True)}, timeout=3,
                         clock=lambda: next(ticks), pause=lambda s: None)
    assert 'timed out after 3s' in failure.value.msg and 'nvidia.com/vgpu.config.state=pending' in failure.value.msg


def test_license_content_and_plan():
    conf = licensing.gridd_conf(1, {'ServerPort': 7070, 'EnableUI': False})
    assert conf.splitlines()[1:] == ['FeatureType=1', 'EnableUI=false', 'ServerPort=7070']
    for bad in ({'FeatureType': 2}, {'Bad Key': 1}, {'X': 'a\nb'}):
        with pytest.raises(PlanError):
            licensing.gridd_conf(1, bad)
    desired = {licensing.GRIDD_KEY: conf, licensing.TOKEN_KEY: 't0k'}
    existing = {'data': licensing.encode('Secret', desired)}
    assert licensing.plan_license('Secret', existing, desired, 'present') is None
    assert licensing.plan_license('Secret', existing, dict(desired, **{licensing.TOKEN_KEY: 'new'}), 'present') == 'update'
    assert licensing.plan_license('ConfigMap', None, desired, 'present') == 'create'
    assert licensing.plan_license('Secret', existing, {}, 'absent') == 'delete'
    assert licensing.shown(desired)[licensing.TOKEN_KEY].startswith('sha256:')
    assert 't0k' not in str(licensing.shown(desired))


def test_hand_written_gridd_conf_with_the_same_settings_is_no_change():
    """Seed 003's `kubectl create configmap --from-file=gridd.conf` file: same settings, no comment line."""
    desired = {licensing.GRIDD_KEY: licensing.gridd_conf(1), licensing.TOKEN_KEY: 'tok'}
    by_hand = {'data': {licensing.GRIDD_KEY: 'FeatureType=1\n\n', licensing.TOKEN_KEY: 'tok'}}
    assert licensing.plan_license('ConfigMap', by_hand, desired, 'present') is None
    other = {'data': {licensing.GRIDD_KEY: '# x\nFeatureType=2\n', licensing.TOKEN_KEY: 'tok'}}
    assert licensing.plan_license('ConfigMap', other, desired, 'present') == 'update'
