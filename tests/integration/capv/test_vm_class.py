"""vsphere_vm_class through real ansible-playbook runs against vcsim-gpu's vCenter REST API
(tests/emulators/vcsim/addon/vmclass.go): vCenter 7.0.3 (``devices``) and 8.0.3 (``config_spec``), both field
spellings, namespace assignment, rerun and check mode without writes, refusals before any write."""

MODULE = 'gpuvirt.core.vsphere_vm_class'
CLASSES = '/api/vcenter/namespace-management/virtual-machine-classes'


def task(label, **options):
    return {'name': label, MODULE: options}


def run(playbook, vcenter, tasks, check=False):
    return playbook(vcenter.sim, tasks, check=check)


def devices_of(info):
    """(vGPU profiles, passthrough) as the class stores them, from devices or config_spec."""
    devices = info.get('devices') or {}
    vgpus = [d['profile_name'] for d in devices.get('vgpu_devices') or []]
    passthrough = list(devices.get('dynamic_direct_path_io_devices') or devices.get('dynamic_direct_path_IO_devices') or [])
    for change in (info.get('config_spec') or {}).get('deviceChange') or []:
        backing = change['device']['backing']
        if backing['_typeName'] == 'VirtualPCIPassthroughVmiopBackingInfo':
            vgpus.append(backing['vgpu'])
        else:
            passthrough += [{'vendor_id': a['vendorId'], 'device_id': a['deviceId']} for a in backing['allowedDevice']]
    return vgpus, passthrough


def test_seed_004_class_namespace_rerun(playbook, vcenter):
    gpu01 = task('gpu01', id='gpu01', cpu_count=4, memory_mb=16384, vgpu_profiles=['A100-3-20C'], namespaces=['tak'])
    out = run(playbook, vcenter, [gpu01])['gpu01']
    assert out['changed'] and not out.get('failed'), out
    assert out['device_api'] == ('devices' if vcenter.version == '7.0.3.0' else 'config_spec')
    assert out['namespaces'] == ['tak']
    assert out['vm_class']['memory_reservation'] == 100
    stored = vcenter.vm_class('gpu01')
    assert stored['cpu_count'] == 4 and stored['memory_mb'] == 16384 and stored['memory_reservation'] == 100
    assert devices_of(stored) == (['grid_a100-3-20c'], [])
    if vcenter.version == '8.0.3.0':
        assert stored['config_spec']['memoryReservationLockedToMax'] is True
        assert stored['devices'] == {'vgpu_devices': [], 'dynamic_direct_path_io_devices': []}
    assert stored['namespaces'] == ['tak']
    assert vcenter.namespace('tak')['vm_service_spec'] == {'vm_classes': ['best-effort-small', 'gpu01'],
                                                           'content_libraries': ['lib-ubuntu']}
    assert vcenter.writes() == [('POST', CLASSES), ('PATCH', '/api/vcenter/namespaces/instances/tak')]

    vcenter.clear_log()
    again = run(playbook, vcenter, [dict(gpu01, name='again')])['again']
    assert not again['changed'] and again['changes'] == []
    assert vcenter.writes() == []


def test_check_mode_writes_nothing(playbook, vcenter):
    out = run(playbook, vcenter, [task('c', id='l40s-pt', cpu_count=16, memory_mb=65536,
                                       passthrough_devices=[{'vendor_id': 4318, 'device_id': '26b9', 'custom_label': 'l40s'}],
                                       namespaces=['tak'])], check=True)['c']
    assert out['changed'] and [c['action'] for c in out['changes']] == ['create', 'assign']
    assert out['vm_class']['passthrough_devices'] == [{'vendor_id': 4318, 'device_id': 9913, 'custom_label': 'l40s'}]
    assert out['diff']['after']['Namespace/tak']['vm_classes'] == ['best-effort-small', 'l40s-pt']
    assert vcenter.writes() == [] and vcenter.vm_class('l40s-pt') is None


def test_update_purge_and_delete(playbook, vcenter):
    vcenter.create_namespace('ml')
    base = dict(id='gpu01', cpu_count=4, memory_mb=16384, vgpu_profiles=['A100-3-20C'])
    run(playbook, vcenter, [task('create', namespaces=['tak', 'ml'], **base)])
    vcenter.clear_log()
    changed = {**base, 'vgpu_profiles': ['A100-7-40C'], 'namespaces': ['ml'], 'purge_namespaces': True}
    result = run(playbook, vcenter, [task('update', **changed)])
    out = result['update']
    assert [c['action'] for c in out['changes']] == ['update', 'unassign'] and out['namespaces'] == ['ml']
    assert devices_of(vcenter.vm_class('gpu01')) == (['grid_a100-7-40c'], [])
    assert vcenter.namespace('tak')['vm_service_spec'] == {'vm_classes': ['best-effort-small'], 'content_libraries': ['lib-ubuntu']}
    assert len(vcenter.writes()) == 2

    gone = run(playbook, vcenter, [task('delete', id='gpu01', state='absent')])['delete']
    assert gone['changed'] and [c['action'] for c in gone['changes']] == ['unassign', 'delete']
    assert vcenter.vm_class('gpu01') is None and vcenter.namespace('ml')['vm_service_spec']['vm_classes'] == []
    vcenter.clear_log()
    assert not run(playbook, vcenter, [task('again', id='gpu01', state='absent')])['again']['changed']
    assert vcenter.writes() == []


def test_refusals_before_any_write(playbook, vcenter):
    result = run(playbook, vcenter, [
        task('profile', id='gpu01', cpu_count=4, memory_mb=16384, vgpu_profiles=['A100-5Q']),
        task('reservation', id='gpu01', cpu_count=4, memory_mb=16384, memory_reservation=50, vgpu_profiles=['A100-4C']),
        task('bad_id', id='GPU_01', cpu_count=4, memory_mb=16384),
        task('no_size', id='gpu01', vgpu_profiles=['A100-4C']),
        task('namespace', id='gpu01', cpu_count=4, memory_mb=16384, namespaces=['nope']),
        task('config_spec_old', id='gpu01', cpu_count=4, memory_mb=16384, vgpu_profiles=['A100-4C'], device_api='config_spec'),
    ])
    assert "vgpu_profiles[0] 'A100-5Q'" in result['profile']['msg']
    assert 'memory_reservation must be 100' in result['reservation']['msg']
    assert "id 'GPU_01'" in result['bad_id']['msg']
    assert 'needs cpu_count and memory_mb' in result['no_size']['msg']
    assert 'namespace nope does not exist' in result['namespace']['msg']
    if vcenter.version == '7.0.3.0':
        assert 'needs vCenter 8.0.2' in result['config_spec_old']['msg']
    else:
        assert not result['config_spec_old'].get('failed')
        vcenter.api('DELETE', CLASSES + '/gpu01')
    assert [w for w in vcenter.writes() if w[0] != 'DELETE'] == ([] if vcenter.version == '7.0.3.0' else [('POST', CLASSES)])
    assert vcenter.vm_class('gpu01') is None


def test_legacy_field_spelling_is_followed(playbook, vcenter_803):
    vcenter_803.control('POST', 'config', {'key_style': 'legacy'})
    out = run(playbook, vcenter_803, [task('pt', id='a10-pt', cpu_count=8, memory_mb=32768, device_api='devices',
                                           passthrough_devices=[{'vendor_id': '10de', 'device_id': '2236'}])])['pt']
    assert out['changed'] and not out.get('failed'), out
    stored = vcenter_803.vm_class('a10-pt')
    assert stored['memory_MB'] == 32768 and 'memory_mb' not in stored
    assert stored['devices']['dynamic_direct_path_IO_devices'] == [{'vendor_id': 4318, 'device_id': 8758}]
    vcenter_803.clear_log()
    again = run(playbook, vcenter_803, [task('again', id='a10-pt', cpu_count=8, memory_mb=32768, device_api='devices',
                                             passthrough_devices=[{'vendor_id': 4318, 'device_id': 8758}])])['again']
    assert not again['changed'] and vcenter_803.writes() == []


def test_failed_namespace_update_undoes_the_class(playbook, vcenter_803):
    vcenter_803.control('POST', 'faults', {'method': 'PATCH', 'path': '/api/vcenter/namespaces/instances/tak', 'status': 500,
                                           'error_type': 'ERROR', 'message': 'Supervisor is reconfiguring'})
    out = run(playbook, vcenter_803, [task('gpu', id='gpu01', cpu_count=4, memory_mb=16384, vgpu_profiles=['A100-4C'],
                                           namespaces=['tak'])])['gpu']
    assert out['failed'] and out['state_restored'] and 'Supervisor is reconfiguring' in out['msg']
    assert vcenter_803.vm_class('gpu01') is None
    assert [w[0] for w in vcenter_803.writes()] == ['POST', 'PATCH', 'DELETE']


def test_wrong_password_is_a_clear_error(playbook, vcenter_803):
    out = playbook(vcenter_803.sim, [task('login', id='gpu01', cpu_count=1, memory_mb=1024)],
                   env={'VMWARE_PASSWORD': 'wrong'})['login']
    assert out['failed'] and 'refused the login of %s (401)' % vcenter_803.env['VMWARE_USER'] in out['msg']
    assert 'wrong' not in out['msg']
