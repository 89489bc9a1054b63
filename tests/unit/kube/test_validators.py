"""Pure validators of issue 18: gridd.conf settings, KubeVirt feature gates per release, selectors, timeouts."""
import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils.kube import featuregates, kubevirt, licensing
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError, check_not_negative, check_positive


@pytest.mark.parametrize('extra, words', [
    ({'ServerAddress': 'x\nFeatureType=0'}, ['gridd_conf.ServerAddress', 'line break']),
    ({'Bad Key=1\n': 'x'}, ['Bad Key=1']),
    ({'FeatureType': 4}, ['FeatureType', 'feature_type']),
    ({'featuretype': 2}, ['featuretype']),
    ({'ServerPort': 0}, ['gridd_conf.ServerPort', '0']),
    ({'ServerPort': True}, ['gridd_conf.ServerPort']),
    ({'EnableUI': 'yes'}, ['gridd_conf.EnableUI', 'yes']),
    ({'LingerInterval': 10081}, ['gridd_conf.LingerInterval', '10081']),
    ({'Servaddress': 'ls'}, ['Servaddress']),
    ({'enableui': True}, ['enableui', 'EnableUI']),
    ({'ProxyCredentialsFilePath': 'creds'}, ['gridd_conf.ProxyCredentialsFilePath', 'creds']),
    ({'ServerAddress': {'a': 1}}, ['gridd_conf.ServerAddress']),
    ({'ServerAddress': None}, ['gridd_conf.ServerAddress']),
])
def test_gridd_conf_refuses_naming_the_key_and_value(extra, words):
    with pytest.raises(PlanError) as info:
        licensing.gridd_conf(1, extra)
    for word in words:
        assert word in info.value.msg


def test_gridd_conf_accepts_the_documented_settings():
    conf = licensing.gridd_conf(2, {'ServerAddress': 'ls.lab', 'ServerPort': '7070', 'EnableUI': 'TRUE', 'LicenseInterval': 1440,
                                    'ProxyUserName': 'svc user', 'ClientConfigTokenPath': '/etc/nvidia/ClientConfigToken/'})
    assert conf.splitlines()[1:] == ['FeatureType=2', 'ClientConfigTokenPath=/etc/nvidia/ClientConfigToken/', 'EnableUI=TRUE',
                                     'LicenseInterval=1440', 'ProxyUserName=svc user', 'ServerAddress=ls.lab', 'ServerPort=7070']
    with pytest.raises(PlanError, match='feature_type 3'):
        licensing.gridd_conf(3)


def test_feature_gate_table_follows_kubevirt_releases():
    assert featuregates.state_of('HostDevices', (1, 9)) == 'alpha'
    assert featuregates.state_of('GPU', (1, 3)) == 'listed' and featuregates.state_of('GPU', (1, 4)) == 'ga'
    assert featuregates.state_of('DisableMDEVConfiguration', (1, 7)) == 'alpha'
    assert featuregates.state_of('DisableMDEVConfiguration', (1, 8)) == 'deprecated'
    assert featuregates.state_of('VGPULiveMigration', (1, 8)) is None
    assert featuregates.state_of('NonRootExperimental', (1, 1)) == 'listed'
    assert featuregates.state_of('NonRootExperimental', (1, 9)) is None
    assert len(featuregates.gates_of((1, 9))) == 84


@pytest.mark.parametrize('gates, version, error, warning', [
    (['HostDevices'], 'v1.9.0', None, None),
    (['HostDevicez'], 'v1.9.0', 'did you mean HostDevices', None),
    (['hostdevices'], 'v1.9.2', 'did you mean HostDevices', None),
    (['Passt'], 'v1.9.0', 'discontinued', None),
    (['VGPULiveMigration'], 'v1.8.1', 'not a feature gate of KubeVirt v1.8.1', None),
    (['DisableMDEVConfiguration'], 'v1.9.0', None, 'deprecated'),
    (['DisableMDEVConfiguration'], 'v1.7.0', None, None),
    (['GPU'], 'v1.9.0', None, 'redundant'),
    (['HostDevices'], None, None, 'reports no version'),
    (['Bogus'], None, "'Bogus' is not a feature gate of any KubeVirt release", 'reports no version'),
    (['HostDevices'], 'v1.12.0', None, 'checked against v1.9'),
    ([''], 'v1.9.0', 'feature_gates[0]', None),
])
def test_check_gates(gates, version, error, warning):
    errors, warnings = featuregates.check_gates(gates, version)
    if error is None:
        assert errors == []
    else:
        assert len(errors) == 1 and error in errors[0] and 'feature_gates[0]' in errors[0]
    if warning is None:
        assert warnings == []
    else:
        assert any(warning in w for w in warnings), warnings


def test_selectors_once_and_one_resource_name_each():
    raw = [{'selector': 'A10-24Q', 'resource_name': 'nvidia.com/A10_24Q'}, {'selector': 'NVIDIA A10-24Q'}]
    entries = [kubevirt.normalise_entry('mediated_devices', i, e) for i, e in enumerate(raw)]
    with pytest.raises(PlanError, match=r'mediated_devices\[0\].*mediated_devices\[1\].*two resource names'):
        kubevirt.check_unique('mediated_devices', raw, entries)
    raw = [{'selector': '10DE:2236'}, {'selector': '10de:2236'}]
    entries = [kubevirt.normalise_entry('pci_host_devices', i, e) for i, e in enumerate(raw)]
    with pytest.raises(PlanError, match=r"pci_host_devices\[1\] \(selector '10de:2236'\) repeats"):
        kubevirt.check_unique('pci_host_devices', raw, entries)
    cr = {'spec': {'configuration': {'permittedHostDevices': {'pciHostDevices': [
        {'pciVendorSelector': '10DE:2236', 'resourceName': 'nvidia.com/A10'}]}}}}
    with pytest.raises(PlanError, match=r'pci_host_devices\[0\].*already permitted.*nvidia.com/A10'):
        kubevirt.check_against_cr(cr, 'pci_host_devices', raw[:1], entries[:1])
    kubevirt.check_against_cr(cr, 'pci_host_devices', [{'selector': '10de:2236', 'resource_name': 'nvidia.com/A10'}],
                              [{'pciVendorSelector': '10DE:2236', 'resourceName': 'nvidia.com/A10'}])


def test_feature_gates_against_the_cr_version():
    cr = {'status': {'observedKubeVirtVersion': 'v1.9.0'}}
    with pytest.raises(PlanError, match='HostDevicez'):
        kubevirt.check_feature_gates(cr, ['HostDevices', 'HostDevicez'])
    with pytest.raises(PlanError, match=r'feature_gates\[1\]'):
        kubevirt.check_feature_gates(cr, ['HostDevices', 'HostDevices'])
    assert kubevirt.check_feature_gates(cr, ['HostDevices']) == []


@pytest.mark.parametrize('params, name', [
    ({'wait_timeout': -1}, 'wait_timeout'), ({'wait_sleep': 0.0}, 'wait_sleep'), ({'request_timeout': 0}, 'request_timeout'),
    ({'lock_timeout': -3}, 'lock_timeout'), ({'maintenance_timeout': 0}, 'maintenance_timeout'),
    ({'timeout': -600}, 'timeout'), ({'shutdown_timeout': 0}, 'shutdown_timeout'), ({'reboot_timeout': -1}, 'reboot_timeout'),
])
def test_timeouts_must_be_positive(params, name):
    with pytest.raises(PlanError) as info:
        check_positive(params)
    assert info.value.msg.startswith('%s must be greater than 0' % name) and repr(list(params.values())[0]) in info.value.msg
    check_positive({name: 1, 'other_timeout': -1})
    check_positive({name: None})


def test_host_waits_may_be_zero_but_not_negative():
    """On a host, lock_timeout 0 tries the lock once and timeout 0 runs sriov-manage once: both are meaningful."""
    check_not_negative({'lock_timeout': 0, 'timeout': 0}, 'lock_timeout', 'timeout')
    for name in ('lock_timeout', 'timeout'):
        with pytest.raises(PlanError) as info:
            check_not_negative({name: -1}, 'lock_timeout', 'timeout')
        assert info.value.msg.startswith('%s must be 0 (do not wait) or more' % name)
