"""The vSphere and VM class modules' Operations through plan.run, with no server: input checks before any connection,
and how a vSphere task ends up in the error kinds of plan.py (a fault: VsphereError, failed during apply; no end in
time: OutcomeUnknown)."""
import pytest
from pyVmomi import vim, vmodl

from ansible_collections.gpuvirt.core.plugins.module_utils import plan
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_gpu_info import VsphereGpuInfo
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_host_reboot import VsphereHostReboot
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_host_software import VsphereHostSoftware
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_vm_class import VsphereVmClass
from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_vm_gpu import VsphereVmGpu
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import VsphereError, wait_for_task
from tests.unit.fake_module import FakeModule, run

# Port 1 on 127.0.0.1: a connection attempt would fail with "cannot reach"; the refusals below come before it.
CONNECTION = dict(hostname='127.0.0.1', username='u', password='p', port=1, validate_certs=False, timeout=600)
SCOPE = dict(datacenter=None, cluster='c', esxi_hostname=None)
MAINTENANCE = dict(evacuate='none', maintenance_timeout=600, reboot_timeout=1800)


@pytest.mark.parametrize('operation, params, words', [
    (VsphereGpuInfo, dict(timeout=0, all_vms=False), 'timeout must be greater than 0 (seconds); got 0'),
    (VsphereVmGpu, dict(name='vm', uuid=None, moid=None, vgpu_profiles=None, passthrough_devices=None, state='present',
                        power_cycle=True, shutdown_timeout=-5, mmio_size_gb=None), 'shutdown_timeout must be greater than 0'),
    (VsphereHostReboot, dict(force=False, **dict(MAINTENANCE, reboot_timeout=0)), 'reboot_timeout must be greater than 0'),
    (VsphereHostSoftware, dict(reboot=True, packages=[{'name': 'NVD-VGPU-800', 'version': '1', 'url': 'https://x/a.zip'}], **MAINTENANCE),
     'url https://x/a.zip is not a .vib file'),
    (VsphereHostSoftware, dict(reboot=True, packages=[{'name': 'a', 'version': '1', 'url': 'https://x/a.vib'}] * 2, **MAINTENANCE),
     'package a is listed twice'),
])
def test_refusals_before_connecting(operation, params, words):
    options = dict(CONNECTION, **SCOPE)
    options.update(params)
    module = run(operation, **options)
    assert module.result is None and words in module.failed['msg'], module.failed
    assert 'cannot reach' not in module.failed['msg']


def test_missing_connection_options_are_named():
    options = dict(CONNECTION, all_vms=False, **SCOPE)
    options.update(hostname=None, password='')
    module = run(VsphereGpuInfo, **options)
    assert module.failed['msg'].startswith('missing vSphere connection option(s) hostname, password: ')


VM_CLASS = dict(CONNECTION, id='gpu01', cpu_count=4, memory_mb=16384, cpu_reservation=None, memory_reservation=None,
                description=None, vgpu_profiles=None, passthrough_devices=None, namespaces=[], purge_namespaces=False,
                device_api='auto', state='present')


@pytest.mark.parametrize('params, words', [
    (dict(timeout=-1), 'timeout must be greater than 0'),
    (dict(id='GPU_01'), "id 'GPU_01' is not a valid VM class id"),
    (dict(passthrough_devices=[{'vendor_id': 'nvidia', 'device_id': 1}]), "passthrough_devices[0].vendor_id 'nvidia' is not a PCI id"),
])
def test_vm_class_refusals_before_the_login(params, words):
    module = run(VsphereVmClass, **dict(VM_CLASS, **params))
    assert module.result is None and words in module.failed['msg'], module.failed


def test_vm_class_unreachable_vcenter_names_the_class():
    module = run(VsphereVmClass, **VM_CLASS)
    assert module.failed['msg'].startswith('vCenter 127.0.0.1, VM class gpu01: cannot reach vCenter at https://127.0.0.1:1')


class Info(object):
    def __init__(self, state, error=None):
        self.state = state
        self.error = error
        self.result = 'done'


class Task(object):
    _moId = 'task-7'

    def __init__(self, info):
        self.info = info


def test_a_failed_task_fails_the_change_and_a_task_without_end_is_an_unknown_outcome():
    assert wait_for_task(Task(Info(vim.TaskInfo.State.success)), 'x') == 'done'
    fault = vim.fault.InvalidState(msg='the host is not in maintenance mode')
    with pytest.raises(VsphereError) as failed:
        wait_for_task(Task(Info(vim.TaskInfo.State.error, fault)), 'reboot host h1')
    assert failed.value.msg == 'reboot host h1 failed: InvalidState: the host is not in maintenance mode'
    assert not isinstance(failed.value, plan.PlanError)  # raised during apply, not a refusal
    with pytest.raises(plan.OutcomeUnknown) as unknown:
        wait_for_task(Task(Info(vim.TaskInfo.State.running)), 'reconfigure VM vm1', timeout=-1)
    assert unknown.value.msg == 'reconfigure VM vm1 did not finish within -1 seconds (task task-7)'

    the_plan = plan.Plan()
    the_plan.add('reconfigure', 'vm1', apply=lambda: wait_for_task(Task(Info(vim.TaskInfo.State.running)), 'reconfigure VM vm1', -1))
    with pytest.raises(plan.ApplyError) as error:
        plan.execute(the_plan)
    assert error.value.outcome_unknown and 'did not finish' in error.value.msg


def guarded_operation():
    from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.connection import VsphereOperation
    params = dict(CONNECTION)
    params['timeout'] = 3
    return VsphereOperation(FakeModule(**params))


def test_a_call_without_answer_is_an_unknown_outcome_and_nothing_is_undone_after_it():
    import socket
    operation = guarded_operation()
    undone = []
    the_plan = plan.Plan()
    the_plan.add('power_off', 'vm1', apply=lambda: None, undo=lambda: undone.append('vm1'))

    def slow():
        raise socket.timeout('timed out')
    the_plan.add('reconfigure', 'vm1', apply=slow, undo=lambda: undone.append('reconfigure'))
    for change in the_plan:
        operation.guard(change)
    with pytest.raises(plan.ApplyError) as error:
        plan.execute(the_plan)
    assert error.value.outcome_unknown and operation.connection_lost and undone == []
    assert 'no answer within 3 s from vCenter/ESXi 127.0.0.1:1 (TimeoutError: timed out): the vCenter was slow or unreachable' in error.value.msg
    report = error.value.report()
    assert report['state_restored'] is False and [c['action'] for c in report['applied']] == ['power_off']
    assert report['undo_failed'] == [] and report['undone'] == []


@pytest.mark.parametrize('exc, kind', [
    (ConnectionResetError(104, 'Connection reset by peer'), plan.OutcomeUnknown),
    (__import__('http.client').client.RemoteDisconnected('Remote end closed connection without response'), plan.OutcomeUnknown),
    (ConnectionRefusedError(111, 'Connection refused'), VsphereError),
])
def test_transport_errors(exc, kind):
    operation = guarded_operation()

    def fail():
        raise exc
    with pytest.raises(kind) as error:
        operation.call('reconfigure VM vm1', fail)
    if kind is VsphereError:
        assert not isinstance(error.value, plan.OutcomeUnknown) and 'the request was not sent' in error.value.msg
    else:
        assert 'the connection failed' in error.value.msg
    assert operation.connection_lost


def test_faults_are_one_line_with_their_type_and_the_object():
    fault = vim.fault.HostConfigFault(msg='A specified parameter was not correct:\n  config.deviceType\n', faultMessage=[])
    operation = guarded_operation()

    def fail():
        raise fault
    with pytest.raises(VsphereError) as error:
        operation.call('update_graphics DC0_C0_H0', fail)
    assert error.value.msg == 'update_graphics DC0_C0_H0 failed: HostConfigFault: A specified parameter was not correct: config.deviceType'
    bare = vim.fault.InvalidState(faultMessage=[vmodl.LocalizableMessage(key='k', message='the host is\\nbusy')])
    with pytest.raises(VsphereError) as error:
        wait_for_task(Task(Info(vim.TaskInfo.State.error, bare)), 'reboot host h1')
    assert error.value.msg == 'reboot host h1 failed: InvalidState: the host is\\nbusy'


def test_host_graphics_skips_gpu_less_hosts_with_a_warning():
    from ansible_collections.gpuvirt.core.plugins.module_utils.operations.vsphere_host_graphics import VsphereHostGraphics
    operation = VsphereHostGraphics(FakeModule(**dict(CONNECTION, **dict(SCOPE, default_graphics_type='sharedDirect', assignment_policy=None,
                                                                         devices=[]))))
    record = {'name': 'cpu-host', 'gpus': [], 'graphics': {'default_type': 'shared', 'assignment_policy': 'performance', 'devices': []}}
    the_plan = operation.changes({'hosts': [(None, record)], 'vgpu_mode_supported': True})
    assert not the_plan and the_plan.warnings == ['host cpu-host has no NVIDIA GPU: its graphics settings were left alone']
