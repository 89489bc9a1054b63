"""Unit tests of the CAPV template planner (plugins/module_utils/capv/template.py): CAPV's webhook rules [S10]
(reference gpu-virtualization-facts.md §9), profile validation with the catalog, naming by hash, the copy
that leaves the source untouched and the MachineDeployment rollout."""
import copy

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.gpuvirt.core.plugins.module_utils.capv import template as capv
from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError, execute


def source_template(name='workers', **spec_extra):
    spec = {
        'cloneMode': 'linkedClone', 'datacenter': 'dc0', 'datastore': 'ds0', 'diskGiB': 25, 'folder': 'f',
        'memoryMiB': 8192, 'network': {'devices': [{'dhcp4': True, 'networkName': 'VM Network'}]}, 'numCPUs': 2,
        'os': 'Linux', 'powerOffMode': 'trySoft', 'resourcePool': 'rp', 'server': 'vc', 'template': 'ubuntu-2004-efi',
        'thumbprint': 'AA:BB',
    }
    spec.update(spec_extra)
    return {
        'apiVersion': 'infrastructure.cluster.x-k8s.io/v1beta1', 'kind': 'VSphereMachineTemplate',
        'metadata': {'name': name, 'namespace': 'capi', 'uid': 'u-1', 'resourceVersion': '7', 'generation': 1,
                     'creationTimestamp': '2026-01-01T00:00:00Z', 'managedFields': [{'manager': 'kubectl'}],
                     'labels': {'cluster.x-k8s.io/cluster-name': 'w1'},
                     'annotations': {'kubectl.kubernetes.io/last-applied-configuration': '{}', 'team': 'ml'},
                     'ownerReferences': [{'apiVersion': 'cluster.x-k8s.io/v1beta1', 'kind': 'Cluster', 'name': 'w1', 'uid': 'c-1'}]},
        'spec': {'template': {'spec': spec}},
    }


def deployment(template='workers', kind='VSphereMachineTemplate'):
    return {'metadata': {'name': 'md-0', 'namespace': 'capi', 'resourceVersion': '9'},
            'spec': {'replicas': 2, 'template': {'spec': {'infrastructureRef': {
                'apiVersion': 'infrastructure.cluster.x-k8s.io/v1beta1', 'kind': kind, 'name': template}}}}}


class Writer(object):
    """Records the writes the planner delegates (the planner itself does no I/O)."""

    def __init__(self, fail_on=None):
        self.calls = []
        self.fail_on = fail_on

    def _record(self, call):
        self.calls.append(call)
        if self.fail_on == call[0]:
            raise RuntimeError('injected %s failure' % call[0])

    def create(self, body):
        self._record(('create', body['metadata']['name'], body))

    def delete(self, name):
        self._record(('delete', name))

    def point(self, md, template, expected):
        self._record(('point', md, template, expected))


def request(devices, **kwargs):
    return capv.TemplateRequest('capi', kwargs.pop('name', 'workers'), devices, **kwargs)


# -- webhook rules, per item --------------------------------------------------------------------------
@pytest.mark.parametrize('item, fragment', [
    ({'vgpu_profile': 'A100-3-20C', 'vendor_id': 4318}, 'together with vendor_id/device_id'),
    ({'vgpu_profile': 'A100-3-20C', 'device_id': 8433}, 'together with vendor_id/device_id'),
    ({'vgpu_profile': 'A100-3-20C', 'vendor_id': 4318, 'device_id': 8433}, 'together with vendor_id/device_id'),
    ({'vendor_id': 4318}, 'device_id is missing'),
    ({'device_id': 8433}, 'vendor_id is missing'),
    ({}, 'it has neither'),
    ({'custom_label': 'gpu'}, 'it has neither'),
])
def test_each_webhook_rule_is_refused_naming_the_item(item, fragment):
    with pytest.raises(PlanError) as err:
        request([{'vgpu_profile': 'A10-4Q'}, item])
    assert 'pci_devices[1]' in err.value.msg
    assert fragment in err.value.msg
    assert capv.WEBHOOK_PCI_MESSAGE in err.value.msg


def test_custom_label_with_a_profile_is_refused():
    with pytest.raises(PlanError, match=r'pci_devices\[0\]: custom_label only applies'):
        request([{'vgpu_profile': 'A10-4Q', 'custom_label': 'x'}])


def test_v1beta2_size_limits():
    with pytest.raises(PlanError, match='at most 128'):
        request([{'vgpu_profile': 'A10-4Q'}] * 129)
    assert len(request([{'vgpu_profile': 'A10-4Q'}] * 128).devices) == 128
    with pytest.raises(PlanError, match=r'custom_label must be 1 to 1024'):
        request([{'vendor_id': 4318, 'device_id': 8758, 'custom_label': 'x' * 1025}])
    with pytest.raises(PlanError, match=r'custom_label must be 1 to 1024'):
        request([{'vendor_id': 4318, 'device_id': 8758, 'custom_label': ''}])
    with pytest.raises(PlanError, match=r'vgpu_profile must be 1 to 1024'):
        request([{'vgpu_profile': ''}])


@pytest.mark.parametrize('version', ['17', 'vmx17', 'vmx-0', 'vmx-100', 'VMX-17'])
def test_hardware_version_format(version):
    with pytest.raises(PlanError, match='hardware_version %r' % version):
        request([{'vgpu_profile': 'A10-4Q'}], hardware_version=version)


# -- profiles and ids -----------------------------------------------------------------------------------
@pytest.mark.parametrize('spelling, profile', [
    ('A100-3-20C', 'grid_a100-3-20c'), ('NVIDIA A10-4Q', 'grid_a10-4q'), ('grid_v100d-4c', 'grid_v100d-4c'),
    ('GRID T4-1A', 'grid_t4-1a'), ('nvidia.com/NVIDIA_A10-4Q', 'grid_a10-4q'),
])
def test_profiles_in_any_spelling_become_vsphere_strings(spelling, profile):
    assert request([{'vgpu_profile': spelling}]).devices == [{'vGPUProfile': profile}]


@pytest.mark.parametrize('spelling', ['A10-5Q', 'XX-4Q', 'A100-4Q', 'grid_t4-3q', 'nonsense'])
def test_unknown_profiles_are_refused_naming_the_input(spelling):
    with pytest.raises(PlanError) as err:
        request([{'vgpu_profile': spelling}])
    assert repr(spelling) in err.value.msg and 'pci_devices[0].vgpu_profile' in err.value.msg


def test_ids_decimal_or_hex():
    devices = request([{'vendor_id': 4318, 'device_id': 8758}, {'vendor_id': '10de', 'device_id': '0x2236', 'custom_label': 'a10'}]).devices
    assert devices == [{'vendorId': 4318, 'deviceId': 8758}, {'vendorId': 4318, 'deviceId': 8758, 'customLabel': 'a10'}]
    with pytest.raises(PlanError, match=r'pci_devices\[0\].device_id'):
        request([{'vendor_id': 4318, 'device_id': 'zz'}])
    with pytest.raises(PlanError, match='out of range'):
        request([{'vendor_id': 4318, 'device_id': 0x10000}])


# -- whole-spec webhook rules ------------------------------------------------------------------------------
def test_webhook_causes_cover_create_rules():
    spec = {'pciDevices': [{'vGPUProfile': 'grid_a10-4q', 'vendorId': 4318}, {'deviceId': 1}], 'hardwareVersion': 'vmx-170',
            'providerID': 'vsphere://x', 'network': {'devices': [{'ipAddrs': ['10.0.0.2/24']}]}}
    fields = [cause[0] for cause in capv.webhook_causes(spec)]
    assert fields == ['spec.template.spec.pciDevices[0]', 'spec.template.spec.pciDevices[1]',
                      'spec.template.spec.hardwareVersion', 'spec.template.spec.providerID',
                      'spec.template.spec.network.devices[0].ipAddrs']
    assert capv.webhook_causes(source_template()['spec']['template']['spec']) == []


def test_a_source_the_webhook_would_refuse_is_refused_before_any_write():
    writer = Writer()
    with pytest.raises(PlanError, match='providerID: cannot be set in templates'):
        capv.plan_template(request([{'vgpu_profile': 'A10-4Q'}]), source_template(providerID='vsphere://1'), None, None, writer)
    assert writer.calls == []


def test_old_hardware_version_with_dynamic_directpath_is_refused():
    with pytest.raises(PlanError, match='too old for Dynamic DirectPath'):
        capv.plan_template(request([{'vendor_id': 4318, 'device_id': 8758}]), source_template(hardwareVersion='vmx-15'),
                           None, None, Writer())
    with pytest.raises(PlanError, match='too old for Dynamic DirectPath'):
        capv.plan_template(request([{'vendor_id': 4318, 'device_id': 8758}], hardware_version='vmx-13'),
                           source_template(), None, None, Writer())


# -- the copy and its name -----------------------------------------------------------------------------------
def test_creation_copies_everything_else_and_leaves_the_source_untouched():
    source = source_template(customVMXKeys={'keep': 'me'})
    pristine = copy.deepcopy(source)
    writer = Writer()
    the_plan, name, spec = capv.plan_template(
        request([{'vgpu_profile': 'A100-3-20C'}], hardware_version='vmx-19', custom_vmx_keys={'pciPassthru.use64bitMMIO': True}),
        source, None, None, writer)
    assert source == pristine
    assert name.startswith('workers-gpu-') and len(name) == len('workers-gpu-') + 10
    assert [c.action for c in the_plan] == ['create']
    execute(the_plan)
    body = writer.calls[0][2]
    assert body['metadata'] == {
        'name': name, 'namespace': 'capi', 'labels': {'cluster.x-k8s.io/cluster-name': 'w1'},
        'annotations': {'team': 'ml', capv.SOURCE_ANNOTATION: 'workers'},
        'ownerReferences': pristine['metadata']['ownerReferences']}
    expected = copy.deepcopy(pristine['spec']['template']['spec'])
    expected.update({'pciDevices': [{'vGPUProfile': 'grid_a100-3-20c'}], 'hardwareVersion': 'vmx-19',
                     'customVMXKeys': {'keep': 'me', 'pciPassthru.use64bitMMIO': 'TRUE'}})
    assert body['spec'] == {'template': {'spec': expected}} and spec == expected
    assert source == pristine


def test_name_is_stable_and_changes_with_any_setting():
    spec = source_template()['spec']['template']['spec']
    first = capv.template_name('workers', capv.desired_spec(spec, [{'vGPUProfile': 'grid_a10-4q'}]))
    assert first == capv.template_name('workers', capv.desired_spec(spec, [{'vGPUProfile': 'grid_a10-4q'}]))
    assert first != capv.template_name('workers', capv.desired_spec(spec, [{'vGPUProfile': 'grid_a10-8q'}]))
    changed_source = dict(spec, template='ubuntu-2204-efi')
    assert first != capv.template_name('workers', capv.desired_spec(changed_source, [{'vGPUProfile': 'grid_a10-4q'}]))
    # a template made by this module as the source: the name derives from its base, never nests
    assert capv.template_name(first, capv.desired_spec(spec, [{'vGPUProfile': 'grid_a10-4q'}])) == first


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r'[a-z0-9]([a-z0-9-]{0,80}[a-z0-9])?', fullmatch=True))
def test_names_are_dns_labels(source_name):
    name = capv.template_name(source_name, {'pciDevices': [{'vGPUProfile': 'grid_a10-4q'}]})
    assert len(name) <= 63
    assert name[0].isalnum() and name[-1].isalnum()
    assert capv.GENERATED_SUFFIX.match(name)


def test_rerun_with_the_template_present_plans_nothing():
    source = source_template()
    req = request([{'vgpu_profile': 'A10-4Q'}])
    first, name, spec = capv.plan_template(req, source, None, None, Writer())
    existing = capv.new_template(source, name, spec)
    again, name_again = capv.plan_template(req, source, existing, None, Writer())[:2]
    assert not again and name_again == name and len(first) == 1


def test_a_foreign_object_under_the_generated_name_is_refused():
    source = source_template()
    req = request([{'vgpu_profile': 'A10-4Q'}])
    _plan, name, spec = capv.plan_template(req, source, None, None, Writer())
    foreign = capv.new_template(source, name, dict(spec, numCPUs=64))
    with pytest.raises(PlanError, match='already exists with a different spec'):
        capv.plan_template(req, source, foreign, None, Writer())


def test_source_that_already_fits_is_returned_as_is():
    source = source_template(pciDevices=[{'vGPUProfile': 'grid_a10-4q'}])
    the_plan, name, _spec = capv.plan_template(request([{'vgpu_profile': 'A10-4Q'}]), source, None, None, Writer())
    assert not the_plan and name == 'workers'


def test_empty_list_removes_the_gpus_in_a_new_template():
    source = source_template(pciDevices=[{'vGPUProfile': 'grid_a10-4q'}])
    _plan, name, spec = capv.plan_template(request([]), source, None, None, Writer())
    assert 'pciDevices' not in spec and name != 'workers'


def test_missing_source_is_refused():
    with pytest.raises(PlanError, match='VSphereMachineTemplate capi/workers not found'):
        capv.plan_template(request([{'vgpu_profile': 'A10-4Q'}]), None, None, None, Writer())


# -- warnings -------------------------------------------------------------------------------------------
def test_large_bar_and_hardware_version_warnings():
    the_plan = capv.plan_template(request([{'vendor_id': 4318, 'device_id': 8433}, {'vendor_id': 4318, 'device_id': 8433}]),
                                  source_template(), None, None, Writer())[0]
    text = ' '.join(the_plan.warnings)
    assert 'pciPassthru.64bitMMIOSizeGB: "128"' in text and '80 GB' in text
    assert 'vmx-17' in text
    quiet = capv.plan_template(request([{'vendor_id': 4318, 'device_id': 8433}], hardware_version='vmx-17',
                                       custom_vmx_keys={'pciPassthru.use64bitMMIO': 'TRUE', 'pciPassthru.64bitMMIOSizeGB': 64}),
                               source_template(), None, None, Writer())[0]
    assert quiet.warnings == []
    unknown = capv.plan_template(request([{'vendor_id': 4318, 'device_id': 0x1234}], hardware_version='vmx-17'),
                                 source_template(), None, None, Writer())[0]
    assert 'not a GPU of the catalog' in unknown.warnings[0]


# -- MachineDeployment rollout -------------------------------------------------------------------------------
def test_rollout_creates_then_repoints_and_undoes_in_reverse_on_failure():
    req = request([{'vgpu_profile': 'A10-4Q'}], machine_deployment='md-0')
    writer = Writer()
    the_plan, name, _spec = capv.plan_template(req, source_template(), None, deployment(), writer)
    assert [c.action for c in the_plan] == ['create', 'update']
    assert the_plan.changes[1].details == {'rollout': True, 'from_template': 'workers', 'to_template': name}
    execute(the_plan)
    assert [c[0] for c in writer.calls] == ['create', 'point'] and writer.calls[1] == ('point', 'md-0', name, 'workers')

    failing = Writer(fail_on='point')
    the_plan = capv.plan_template(req, source_template(), None, deployment(), failing)[0]
    with pytest.raises(Exception) as err:
        execute(the_plan)
    assert [c[0] for c in failing.calls] == ['create', 'point', 'delete']
    assert err.value.clean


def test_deployment_already_on_the_template_plans_nothing():
    req = request([{'vgpu_profile': 'A10-4Q'}], machine_deployment='md-0')
    _plan, name, spec = capv.plan_template(req, source_template(), None, deployment(), Writer())
    existing = capv.new_template(source_template(), name, spec)
    assert not capv.plan_template(req, source_template(), existing, deployment(name), Writer())[0]


def test_deployment_on_an_earlier_gpu_template_of_the_source_is_rolled_forward():
    req = request([{'vgpu_profile': 'A10-8Q'}], machine_deployment='md-0')
    the_plan, name, _spec = capv.plan_template(req, source_template(), None, deployment('workers-gpu-0123456789'), Writer(),
                                               templates_from_source={'workers-gpu-0123456789'})
    assert the_plan.changes[1].before == {'infrastructureRef': {'kind': 'VSphereMachineTemplate', 'name': 'workers-gpu-0123456789'}}
    assert the_plan.changes[1].after['infrastructureRef']['name'] == name


def test_deployment_on_another_template_or_kind_is_refused():
    req = request([{'vgpu_profile': 'A10-4Q'}], machine_deployment='md-0')
    with pytest.raises(PlanError, match='uses VSphereMachineTemplate control-plane, not workers'):
        capv.plan_template(req, source_template(), None, deployment('control-plane'), Writer())
    with pytest.raises(PlanError, match='from a DockerMachineTemplate'):
        capv.plan_template(req, source_template(), None, deployment(kind='DockerMachineTemplate'), Writer())
    with pytest.raises(PlanError, match='MachineDeployment capi/md-0 not found'):
        capv.plan_template(req, source_template(), None, None, Writer())


def test_multi_vgpu_rules_are_checked_before_any_write():
    with pytest.raises(PlanError) as error:
        request([{'vgpu_profile': 'A100-3-20C'}, {'vgpu_profile': 'A100-4C'}])
    assert error.value.msg.startswith("VSphereMachineTemplate capi/workers: vGPU profiles grid_a100-3-20c, grid_a100-4c break NVIDIA's "
                                      "multi-vGPU rules: MIG-backed grid_a100-3-20c and time-sliced grid_a100-4c cannot be mixed in one VM")
    assert request([{'vgpu_profile': 'A10-4Q'}, {'vgpu_profile': 'A10-8Q'}]).devices  # Ampere: mixed-size exists
