"""capv_machine_template_gpu through real ansible-playbook runs against the Kubernetes test world holding Cluster API
objects (a real API server with the generated CAPV v1.16.1 / Cluster API v1.13.1 v1beta1 CRDs, so a field their
schemas do not have would be pruned or refused, and the CAPV VSphereMachineTemplate webhook double).

What is checked comes from the world itself: the stored objects and the API server's audit log (every write)."""
import copy

from tests.integration.worlds.kube import DEPLOYMENTS, NAMESPACE, TEMPLATES, WORKER_TEMPLATE

MODULE = 'gpuvirt.core.capv_machine_template_gpu'


def task(label, **options):
    """One module call whose result is saved as ``label``."""
    options.setdefault('namespace', NAMESPACE)
    options.setdefault('name', 'w1-worker')
    return {'name': label, MODULE: options}


def run(playbook, capi, tasks, check=False):
    return playbook(None, tasks, check=check, env=capi.env, connection=False)


def test_create_rollout_rerun_and_source_untouched(playbook, capi):
    source_before = capi.template('w1-worker')
    deployment_before = capi.deployment()
    result = run(playbook, capi, [task('gpu', pci_devices=[{'vgpu_profile': 'A100-3-20C'}], machine_deployment='w1-md-0')])
    out = result['gpu']
    assert not out.get('failed'), out
    name = out['template_name']
    assert out['changed'] and out['created'] and name.startswith('w1-worker-gpu-')
    assert out['pci_devices'] == [{'vGPUProfile': 'grid_a100-3-20c'}]
    assert out['machine_deployment']['rollout'] and out['machine_deployment']['infrastructure_ref']['name'] == name
    assert capi.writes() == [('POST', TEMPLATES), ('PATCH', '%s/w1-md-0' % DEPLOYMENTS)]

    created = capi.template(name)
    expected_spec = copy.deepcopy(WORKER_TEMPLATE['spec']['template']['spec'])
    expected_spec['pciDevices'] = [{'vGPUProfile': 'grid_a100-3-20c'}]
    assert created['spec'] == {'template': {'spec': expected_spec}}
    assert created['metadata']['labels'] == WORKER_TEMPLATE['metadata']['labels']
    assert created['metadata']['annotations'] == {'gpuvirt.core/source-template': 'w1-worker'}
    assert capi.template('w1-worker') == source_before  # not even its resourceVersion moved

    deployment = capi.deployment()
    assert deployment['spec']['template']['spec']['infrastructureRef'] == dict(
        deployment_before['spec']['template']['spec']['infrastructureRef'], name=name)
    assert deployment['metadata']['generation'] == deployment_before['metadata']['generation'] + 1
    rest = dict(deployment['spec'], template={'metadata': deployment['spec']['template']['metadata'], 'spec': dict(
        deployment['spec']['template']['spec'], infrastructureRef=deployment_before['spec']['template']['spec']['infrastructureRef'])})
    assert rest == deployment_before['spec']

    capi.control.reset()
    again = run(playbook, capi, [task('gpu', pci_devices=[{'vgpu_profile': 'NVIDIA A100-3-20C'}], machine_deployment='w1-md-0')])['gpu']
    assert not again['changed'] and again['template_name'] == name and not again['created']
    assert not again['machine_deployment']['rollout']
    assert capi.writes() == []
    assert all(r['method'] == 'GET' for r in capi.control.requests())


def test_check_mode_writes_nothing_and_predicts_the_name(playbook, capi):
    checked = run(playbook, capi, [task('gpu', pci_devices=[{'vendor_id': 4318, 'device_id': '2236', 'custom_label': 'a10'}],
                                        hardware_version='vmx-17', machine_deployment='w1-md-0')], check=True)['gpu']
    assert checked['changed'] and checked['created']
    assert [c['action'] for c in checked['changes']] == ['create', 'update']
    assert checked['machine_deployment']['infrastructure_ref']['name'] == checked['template_name']
    target = 'VSphereMachineTemplate/%s/%s' % (NAMESPACE, checked['template_name'])
    assert checked['diff']['after'][target]['spec.template.spec']['pciDevices'] == [
        {'vendorId': 4318, 'deviceId': 8758, 'customLabel': 'a10'}]
    assert capi.writes() == []
    assert capi.templates() == ['w1-worker']

    applied = run(playbook, capi, [task('gpu', pci_devices=[{'vendor_id': '0x10de', 'device_id': 8758, 'custom_label': 'a10'}],
                                        hardware_version='vmx-17', machine_deployment='w1-md-0')])['gpu']
    assert applied['template_name'] == checked['template_name']
    assert capi.template(applied['template_name'])['spec']['template']['spec']['hardwareVersion'] == 'vmx-17'


def test_changing_the_profile_rolls_forward_from_the_earlier_gpu_template(playbook, capi):
    first = run(playbook, capi, [task('a', pci_devices=[{'vgpu_profile': 'A10-4Q'}], machine_deployment='w1-md-0')])['a']
    second = run(playbook, capi, [task('b', pci_devices=[{'vgpu_profile': 'A10-8Q'}], machine_deployment='w1-md-0')])['b']
    assert second['changed'] and second['template_name'] not in (first['template_name'], 'w1-worker')
    assert capi.deployment()['spec']['template']['spec']['infrastructureRef']['name'] == second['template_name']
    assert capi.templates() == sorted(['w1-worker', first['template_name'], second['template_name']])
    assert capi.template(first['template_name'])['spec']['template']['spec']['pciDevices'] == [{'vGPUProfile': 'grid_a10-4q'}]


def test_webhook_rules_and_bad_input_are_refused_before_any_write(playbook, capi):
    cases = {
        'profile_and_ids': ([{'vgpu_profile': 'A10-4Q', 'vendor_id': 4318, 'device_id': 8758}], 'together with vendor_id/device_id'),
        'vendor_only': ([{'vendor_id': 4318}], 'device_id is missing'),
        'device_only': ([{'device_id': 8758}], 'vendor_id is missing'),
        'empty_item': ([{}], 'it has neither'),
        'label_with_profile': ([{'vgpu_profile': 'A10-4Q', 'custom_label': 'x'}], 'custom_label only applies'),
        'too_many': ([{'vgpu_profile': 'A10-4Q'}] * 129, 'at most 128'),
        'long_label': ([{'vendor_id': 4318, 'device_id': 8758, 'custom_label': 'x' * 1025}], '1 to 1024'),
        'unknown_profile': ([{'vgpu_profile': 'A10-5Q'}], "'A10-5Q'"),
        'unknown_gpu': ([{'vgpu_profile': 'grid_zz9-4q'}], "'grid_zz9-4q'"),
        'bad_id': ([{'vendor_id': 4318, 'device_id': 'not-hex'}], 'device_id'),
    }
    tasks = [task(key, pci_devices=devices) for key, (devices, _fragment) in cases.items()]
    tasks.append(task('bad_version', pci_devices=[{'vgpu_profile': 'A10-4Q'}], hardware_version='17'))
    tasks.append(task('old_version', pci_devices=[{'vendor_id': 4318, 'device_id': 8758}], hardware_version='vmx-15'))
    tasks.append(task('missing_source', name='nope', pci_devices=[{'vgpu_profile': 'A10-4Q'}]))
    tasks.append(task('missing_md', pci_devices=[{'vgpu_profile': 'A10-4Q'}], machine_deployment='nope'))
    result = run(playbook, capi, tasks)
    for key, (_devices, fragment) in cases.items():
        assert result[key]['failed'] and fragment in result[key]['msg'], (key, result[key])
        assert 'pci_devices[' in result[key]['msg'] or key == 'too_many'
        assert 'Traceback' not in result[key]['msg']
    assert "hardware_version '17'" in result['bad_version']['msg']
    assert 'too old for Dynamic DirectPath' in result['old_version']['msg']
    assert 'VSphereMachineTemplate default/nope not found' in result['missing_source']['msg']
    assert 'MachineDeployment default/nope not found' in result['missing_md']['msg']
    assert capi.writes() == []
    assert capi.templates() == ['w1-worker']


def test_a_source_the_webhook_would_refuse_and_a_foreign_deployment_are_refused(playbook, capi):
    bad = copy.deepcopy(WORKER_TEMPLATE)
    bad['metadata']['name'] = 'with-provider-id'
    bad['spec']['template']['spec']['providerID'] = 'vsphere://4201'
    capi._call('POST', TEMPLATES, bad)  # pylint: disable=protected-access
    other = copy.deepcopy(WORKER_TEMPLATE)
    other['metadata']['name'] = 'other'
    capi._call('POST', TEMPLATES, other)  # pylint: disable=protected-access
    capi.control.reset()
    result = run(playbook, capi, [
        task('provider_id', name='with-provider-id', pci_devices=[{'vgpu_profile': 'A10-4Q'}]),
        task('foreign', name='other', pci_devices=[{'vgpu_profile': 'A10-4Q'}], machine_deployment='w1-md-0'),
    ])
    assert 'providerID: cannot be set in templates' in result['provider_id']['msg']
    assert 'uses VSphereMachineTemplate w1-worker, not other' in result['foreign']['msg']
    assert capi.writes() == []


def test_failed_rollout_deletes_the_template_it_created(playbook, capi):
    capi.control.inject_failure('PATCH', '%s/w1-md-0' % DEPLOYMENTS, status=500, message='etcd unavailable')
    out = run(playbook, capi, [task('gpu', pci_devices=[{'vgpu_profile': 'A10-4Q'}], machine_deployment='w1-md-0')])['gpu']
    assert out['failed'] and not out['changed'] and out['state_restored']
    assert 'etcd unavailable' in out['msg'] and 'nothing was left changed' in out['msg']
    assert [w[0] for w in capi.writes()] == ['POST', 'PATCH', 'DELETE']
    assert capi.templates() == ['w1-worker']
    assert capi.deployment()['spec']['template']['spec']['infrastructureRef']['name'] == 'w1-worker'


def test_concurrent_writer_on_the_deployment_is_retried_not_overwritten(playbook, capi):
    capi.control.inject_conflict('%s/w1-md-0' % DEPLOYMENTS, patch={'spec': {'replicas': 5}})
    out = run(playbook, capi, [task('gpu', pci_devices=[{'vgpu_profile': 'A10-4Q'}], machine_deployment='w1-md-0')])['gpu']
    assert out['changed'] and not out.get('failed'), out
    deployment = capi.deployment()
    assert deployment['spec']['replicas'] == 5  # the other writer's change survives
    assert deployment['spec']['template']['spec']['infrastructureRef']['name'] == out['template_name']
