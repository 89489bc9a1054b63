"""The vcsim GPU add-on, checked with pyvmomi: it must behave like the vSphere behaviour the reference describes
(reference/gpu-virtualization-facts.md §4, §8; reference/test-infrastructure.md "vSphere")."""
import pytest
from pyVmomi import vim, vmodl

pytestmark = pytest.mark.integration

A10, T4, A100 = 0x2236, 0x1eb8, 0x20f1


def vgpu_spec(profile, key=-200, operation='add'):
    device = vim.vm.device.VirtualPCIPassthrough(key=key, backing=vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(vgpu=profile))
    return vim.vm.device.VirtualDeviceSpec(operation=operation, device=device)


def dynamic_spec(device_id, label=None, key=-201):
    backing = vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo(
        allowedDevice=[vim.vm.device.VirtualPCIPassthrough.AllowedDevice(vendorId=0x10de, deviceId=device_id)], deviceName='')
    if label:
        backing.customLabel = label
    return vim.vm.device.VirtualDeviceSpec(operation='add', device=vim.vm.device.VirtualPCIPassthrough(key=key, backing=backing))


def task_fault(sim, task):
    """The fault a task ends with (the call itself succeeds, like vSphere)."""
    with pytest.raises(vmodl.MethodFault) as caught:
        sim.wait(task)
    return caught.value


def test_up_prints_connection_and_negotiates_new_api(sim):
    assert sim.env['VMWARE_HOST'] == '127.0.0.1'
    assert sim.env['VMWARE_VALIDATE_CERTS'] == 'false'
    # 8.0.3.0: pyvmomi keeps DynamicBackingInfo and vgpuMode (test-infrastructure.md "ALWAYS pass -api-version")
    assert sim.si._stub.versionId == '"urn:vim25/8.0.3.0"'  # pylint: disable=protected-access
    assert sim.si.RetrieveContent().about.apiVersion == '8.0.3.0'


def test_reading_unset_properties_returns_unset(sim):
    # vcsim answers a Fetch of an unset property with a response no client reads (the add-on answers unset)
    vm = sim.vm('DC0_C0_RP0_VM0')
    assert vm.snapshot is None
    assert vm.runtime.powerState == 'poweredOn'  # the connection is still usable


def test_wrong_password_is_refused(sim):
    from pyVim.connect import SmartConnect
    from tests.integration.worlds.vsphere import NO_TLS_CHECK
    with pytest.raises(vim.fault.InvalidLogin):
        SmartConnect(host='127.0.0.1', port=sim.port, user=sim.env['VMWARE_USER'], pwd='wrong', sslContext=NO_TLS_CHECK)


def test_hosts_have_gpus_with_consistent_graphics_and_passthrough_info(sim):
    host = sim.host('DC0_C0_H0')
    gpus = [d for d in host.hardware.pciDevice if d.vendorId == 0x10de]
    assert [(d.id, d.deviceId) for d in gpus] == [('0000:3b:00.0', A10), ('0000:5e:00.0', A10), ('0000:86:00.0', T4), ('0000:af:00.0', A100)]
    assert all(d.classId == 0x0302 and d.vendorName == 'NVIDIA Corporation' for d in gpus)
    assert len(host.hardware.pciDevice) == 43 + 4
    manager = host.configManager.graphicsManager
    # after the NVIDIA VIB the host default is Shared [S1 §2.9]
    assert manager.graphicsConfig.hostDefaultGraphicsType == 'shared'
    assert [(g.pciId, g.graphicsType, g.vgpuMode) for g in manager.graphicsInfo] == [(d.id, 'shared', 'none') for d in gpus]
    assert [g.memorySizeInKB for g in host.config.graphicsInfo] == [24 * 1024 * 1024] * 2 + [16 * 1024 * 1024, 40 * 1024 * 1024]
    profiles = host.config.sharedPassthruGpuTypes
    assert 'grid_a10-4q' in profiles and 'grid_t4-16q' in profiles and 'grid_a100-3-20c' in profiles
    assert 'grid_a100-4q' not in profiles  # A100 has no Q-series [facts §4]
    assert [c.vgpu for c in host.config.sharedGpuCapabilities] == list(profiles)
    capable = dict((p.id, (p.passthruCapable, p.passthruEnabled, p.passthruActive)) for p in host.config.pciPassthruInfo)
    assert capable['0000:af:00.0'] == (True, False, False)
    assert capable['0000:00:00.0'][0] is False
    assert manager.IsSharedGraphicsActive() is True
    # per-host objects, not the shared "ha-" references stock vcsim leaves dangling
    assert manager._moId != sim.host('DC0_C0_H1').configManager.graphicsManager._moId  # pylint: disable=protected-access


def test_gpu_models_are_selectable(sim_factory):
    sim = sim_factory(hosts=1, vms=0, gpus='l40s:1,h100:2')
    host = sim.host('DC0_C0_H0')
    assert [d.deviceId for d in host.hardware.pciDevice if d.vendorId == 0x10de] == [0x26b9, 0x2331, 0x2331]
    assert 'grid_l40s-3b' in host.config.sharedPassthruGpuTypes and 'grid_h100-7-80c' in host.config.sharedPassthruGpuTypes


def test_graphics_config_becomes_active_only_after_reboot_or_hostengine_restart(sim):
    host = sim.host('DC0_C0_H0')
    manager = host.configManager.graphicsManager
    manager.UpdateGraphicsConfig(vim.host.GraphicsConfig(
        hostDefaultGraphicsType='sharedDirect', sharedPassthruAssignmentPolicy='consolidation',
        deviceType=[vim.host.GraphicsConfig.DeviceType(deviceId='0000:86:00.0', graphicsType='shared')]))
    assert manager.graphicsConfig.hostDefaultGraphicsType == 'sharedDirect'
    assert host.config.graphicsConfig.sharedPassthruAssignmentPolicy == 'consolidation'
    assert set(g.graphicsType for g in manager.graphicsInfo) == {'shared'}  # not active yet
    # RebootHost_Task needs maintenance mode unless forced
    assert isinstance(task_fault(sim, host.RebootHost_Task(False)), vim.fault.InvalidState)
    sim.reboot('DC0_C0_H0')
    assert [(g.pciId, g.graphicsType, g.vgpuMode) for g in manager.graphicsInfo] == [
        ('0000:3b:00.0', 'sharedDirect', 'sameSize'), ('0000:5e:00.0', 'sharedDirect', 'sameSize'),
        ('0000:86:00.0', 'shared', 'none'), ('0000:af:00.0', 'sharedDirect', 'sameSize')]
    assert sim.state()['DC0_C0_H0']['boots'] == 1
    # nv-hostengine restart on the other host
    other = sim.host('DC0_C0_H1').configManager.graphicsManager
    other.UpdateGraphicsConfig(vim.host.GraphicsConfig(hostDefaultGraphicsType='sharedDirect', sharedPassthruAssignmentPolicy='performance'))
    sim.restart_hostengine('DC0_C0_H1')
    assert set(g.graphicsType for g in other.graphicsInfo) == {'sharedDirect'}


def test_vgpu_mode_takes_effect_on_refresh_and_bad_values_are_refused(sim):
    sim.shared_direct('DC0_C0_H0')
    manager = sim.host('DC0_C0_H0').configManager.graphicsManager
    manager.UpdateGraphicsConfig(vim.host.GraphicsConfig(
        hostDefaultGraphicsType='sharedDirect', sharedPassthruAssignmentPolicy='performance',
        deviceType=[vim.host.GraphicsConfig.DeviceType(deviceId='0000:3b:00.0', graphicsType='sharedDirect', vgpuMode='mixedSize')]))
    assert manager.graphicsInfo[0].vgpuMode == 'sameSize'
    manager.RefreshGraphicsManager()
    assert manager.graphicsInfo[0].vgpuMode == 'mixedSize'
    with pytest.raises(vmodl.fault.InvalidArgument):
        manager.UpdateGraphicsConfig(vim.host.GraphicsConfig(hostDefaultGraphicsType='direct', sharedPassthruAssignmentPolicy='performance'))
    with pytest.raises(vmodl.fault.InvalidArgument):
        manager.UpdateGraphicsConfig(vim.host.GraphicsConfig(
            hostDefaultGraphicsType='sharedDirect', sharedPassthruAssignmentPolicy='performance',
            deviceType=[vim.host.GraphicsConfig.DeviceType(deviceId='0000:99:00.0', graphicsType='shared')]))


def test_passthrough_is_active_after_reboot_unless_apply_now(sim):
    host = sim.host('DC0_C0_H0')
    system = host.configManager.pciPassthruSystem

    def info(device):
        return next((p.passthruEnabled, p.passthruActive) for p in system.pciPassthruInfo if p.id == device)

    system.UpdatePassthruConfig([vim.host.PciPassthruConfig(id='0000:af:00.0', passthruEnabled=True)])
    assert info('0000:af:00.0') == (True, False)
    assert host.capability.deviceRebindWithoutRebootSupported is False
    system.Refresh()
    assert info('0000:af:00.0') == (True, False)
    sim.reboot('DC0_C0_H0')
    assert info('0000:af:00.0') == (True, True)
    # an active passthrough GPU is "direct" and offers no vGPU profiles
    assert next(g.graphicsType for g in host.config.graphicsInfo if g.pciId == '0000:af:00.0') == 'direct'
    assert not any(p.startswith('grid_a100') for p in host.config.sharedPassthruGpuTypes)
    system.UpdatePassthruConfig([vim.host.PciPassthruConfig(id='0000:86:00.0', passthruEnabled=True, applyNow=True)])
    assert info('0000:86:00.0') == (True, True)
    with pytest.raises(vmodl.fault.InvalidArgument):
        system.UpdatePassthruConfig([vim.host.PciPassthruConfig(id='0000:99:00.0', passthruEnabled=True)])
    with pytest.raises(vim.fault.HostConfigFault):
        system.UpdatePassthruConfig([vim.host.PciPassthruConfig(id='0000:00:00.0', passthruEnabled=True)])


def test_pci_devices_change_only_on_a_powered_off_vm(sim):
    vm = sim.vm('DC0_C0_RP0_VM0')
    assert vm.runtime.powerState == 'poweredOn'
    fault = task_fault(sim, vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=[vgpu_spec('grid_a10-4q')])))
    assert isinstance(fault, vim.fault.InvalidPowerState)
    assert sim.gpu_devices('DC0_C0_RP0_VM0') == []
    sim.power_off('DC0_C0_RP0_VM0')
    sim.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=[vgpu_spec('grid_a10-4q')])))
    assert [d.backing.vgpu for d in sim.gpu_devices('DC0_C0_RP0_VM0')] == ['grid_a10-4q']


def test_profile_must_be_offered_by_the_vms_host(sim):
    vm = sim.power_off('DC0_C0_RP0_VM0')
    fault = task_fault(sim, vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=[vgpu_spec('grid_a40-4q')])))
    assert isinstance(fault, vim.fault.InvalidDeviceSpec)
    assert 'grid_a40-4q' in fault.msg and 'grid_a10-4q' in fault.msg


def test_dynamic_directpath_needs_vmx_17(sim_factory):
    sim = sim_factory(hosts=1, vms=1)  # stock vcsim VMs are vmx-13
    vm = sim.power_off('DC0_C0_RP0_VM0')
    assert vm.config.version == 'vmx-13'
    fault = task_fault(sim, vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=[dynamic_spec(A100)])))
    assert isinstance(fault, vim.fault.DeviceUnsupportedForVmVersion) and fault.expectedVersion == 'vmx-17'
    sim.wait(vm.UpgradeVM_Task('vmx-19'))  # stock vcsim always wrote vmx-13
    assert vm.config.version == 'vmx-19'
    assert isinstance(task_fault(sim, vm.UpgradeVM_Task('vmx-17')), vim.fault.AlreadyUpgraded)
    sim.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=[dynamic_spec(A100)])))
    backing = sim.gpu_devices('DC0_C0_RP0_VM0')[0].backing
    assert isinstance(backing, vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo)
    assert [(a.vendorId, a.deviceId) for a in backing.allowedDevice] == [(0x10de, A100)]


def test_absurd_memory_reservation_is_refused(sim):
    vm = sim.vm('DC0_C0_RP0_VM0')
    memory = vm.config.hardware.memoryMB
    fault = task_fault(sim, vm.ReconfigVM_Task(vim.vm.ConfigSpec(memoryAllocation=vim.ResourceAllocationInfo(reservation=memory * 1000))))
    assert isinstance(fault, vmodl.fault.InvalidArgument)


def test_vgpu_power_on_needs_locked_memory_and_shared_direct(sim):
    vm = sim.power_off('DC0_C0_RP0_VM0')
    host = vm.runtime.host.name
    sim.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=[vgpu_spec('grid_a10-4q')])))
    fault = task_fault(sim, vm.PowerOnVM_Task())
    assert isinstance(fault, vim.fault.GenericVmConfigFault) and 'memory reservation' in fault.msg
    sim.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(memoryReservationLockedToMax=True)))
    fault = task_fault(sim, vm.PowerOnVM_Task())
    assert isinstance(fault, vim.fault.InsufficientResourcesFault)
    assert 'graphics resource available in the parent resource pool is insufficient' in fault.msg  # [S1 §2.9]
    assert vm.runtime.powerState == 'poweredOff'
    sim.shared_direct(host)
    sim.wait(vm.PowerOnVM_Task())
    gpus = dict((g['id'], g) for g in sim.state()[host]['gpus'])
    assert gpus['0000:3b:00.0']['vms'] == ['DC0_C0_RP0_VM0']
    info = dict((g.pciId, [v.name for v in g.vm]) for g in sim.host(host).config.graphicsInfo)
    assert info['0000:3b:00.0'] == ['DC0_C0_RP0_VM0']
    sim.wait(vm.PowerOffVM_Task())
    assert sim.state()[host]['gpus'][0]['vms'] is None  # released on power-off


def _vgpu_vm(sim, name, profiles):
    vm = sim.power_off(name)
    changes = [vgpu_spec(p, key=-200 - i) for i, p in enumerate(profiles)]
    sim.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(memoryReservationLockedToMax=True, deviceChange=changes)))
    return vm


def test_placement_follows_policy_equal_size_and_capacity(sim_factory):
    sim = sim_factory(hosts=1, vms=4, gpus='a10:2', vm_version='vmx-19')
    sim.shared_direct('DC0_C0_H0')
    names = ['DC0_C0_RP0_VM%d' % i for i in range(4)]
    for name in names:
        sim.power_off(name)
    # performance: spread over the GPUs with the fewest vGPUs
    for name in names[:2]:
        sim.wait(_vgpu_vm(sim, name, ['grid_a10-12q']).PowerOnVM_Task())
    gpus = sim.state()['DC0_C0_H0']['gpus']
    assert [len(g['vms'] or []) for g in gpus] == [1, 1]
    # equal size: a 4Q does not fit next to 12Q vGPUs
    fault = task_fault(sim, _vgpu_vm(sim, names[2], ['grid_a10-4q']).PowerOnVM_Task())
    assert isinstance(fault, vim.fault.InsufficientResourcesFault)
    # capacity: A10 holds two 12Q; a third does not fit anywhere
    sim.wait(_vgpu_vm(sim, names[3], ['grid_a10-12q']).PowerOnVM_Task())
    fault = task_fault(sim, _vgpu_vm(sim, names[2], ['grid_a10-12q']).PowerOnVM_Task())
    assert isinstance(fault, vim.fault.InsufficientResourcesFault)


def test_consolidation_fills_one_gpu_first(sim_factory):
    sim = sim_factory(hosts=1, vms=2, gpus='a10:2', vm_version='vmx-19')
    manager = sim.host('DC0_C0_H0').configManager.graphicsManager
    manager.UpdateGraphicsConfig(vim.host.GraphicsConfig(hostDefaultGraphicsType='sharedDirect', sharedPassthruAssignmentPolicy='consolidation'))
    sim.restart_hostengine('DC0_C0_H0')
    for name in ('DC0_C0_RP0_VM0', 'DC0_C0_RP0_VM1'):
        sim.power_off(name)
    for name in ('DC0_C0_RP0_VM0', 'DC0_C0_RP0_VM1'):
        sim.wait(_vgpu_vm(sim, name, ['grid_a10-4q']).PowerOnVM_Task())
    assert [len(g['vms'] or []) for g in sim.state()['DC0_C0_H0']['gpus']] == [2, 0]


def test_dynamic_directpath_power_on_needs_a_free_active_matching_device(sim):
    vm = sim.power_off('DC0_C0_RP0_VM0')
    host = vm.runtime.host
    sim.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(memoryReservationLockedToMax=True, deviceChange=[dynamic_spec(A100, label='train')])))
    fault = task_fault(sim, vm.PowerOnVM_Task())
    assert isinstance(fault, vim.fault.GenericVmConfigFault) and '10de:20f1' in fault.msg
    system = host.configManager.pciPassthruSystem
    system.UpdatePassthruConfig([vim.host.PciPassthruConfig(id='0000:af:00.0', passthruEnabled=True, applyNow=True)])
    assert isinstance(task_fault(sim, vm.PowerOnVM_Task()), vim.fault.GenericVmConfigFault)  # label differs
    system.UpdatePassthruConfig([vim.host.PciPassthruConfig(id='0000:af:00.0', passthruEnabled=True, applyNow=True, hardwareLabel='train')])
    sim.wait(vm.PowerOnVM_Task())
    assert sim.gpu_devices('DC0_C0_RP0_VM0')[0].backing.assignedId == '0000:af:00.0'
    # a device in use cannot be rebound now
    with pytest.raises(vim.fault.ResourceInUse):
        system.UpdatePassthruConfig([vim.host.PciPassthruConfig(id='0000:af:00.0', passthruEnabled=False, applyNow=True)])


def test_fault_injection_and_call_counts(sim):
    vm = sim.vm('DC0_C0_RP0_VM1')
    sim.reset_calls()
    sim.inject('ReconfigVM_Task', 'GenericVmConfigFault', message='injected', target='DC0_C0_RP0_VM1', count=1)
    fault = task_fault(sim, vm.ReconfigVM_Task(vim.vm.ConfigSpec(annotation='first')))
    assert isinstance(fault, vim.fault.GenericVmConfigFault) and fault.msg == 'injected'
    assert vm.config.annotation != 'first'  # the failed reconfigure changed nothing
    sim.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(annotation='second')))  # count=1: only the first call fails
    assert vm.config.annotation == 'second'
    sim.inject('UpdateGraphicsConfig', 'HostConfigFault', message='no', count=0)
    manager = sim.host('DC0_C0_H0').configManager.graphicsManager
    for attempt in (1, 2):
        with pytest.raises(vim.fault.HostConfigFault):
            manager.UpdateGraphicsConfig(vim.host.GraphicsConfig(hostDefaultGraphicsType='sharedDirect', sharedPassthruAssignmentPolicy='performance'))
        assert sim.calls()['UpdateGraphicsConfig'] == attempt
    calls = sim.calls()
    assert calls['ReconfigVM_Task'] == 2 and calls['UpdateGraphicsConfig'] == 2


def test_method_delay_acts_on_the_state_at_its_end(sim_factory):
    """--method-delay METHOD:MS: the request is taken (counted) at once, then validated and answered after the delay,
    like a slow vCenter; a VM powered on during a delayed ReconfigVM gets InvalidPowerState, not the vGPU."""
    import threading  # pylint: disable=import-outside-toplevel
    from tests.integration.worlds.vsphere import wait_until  # pylint: disable=import-outside-toplevel
    sim = sim_factory(clusters=1, hosts=1, vms=1, vm_version='vmx-19', method_delay='ReconfigVM_Task:4000')
    name = 'DC0_C0_RP0_VM0'
    vm = sim.power_off(name)
    sim.reset_calls()
    outcome = {}

    def reconfigure():
        try:
            outcome['result'] = sim.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=[vgpu_spec('grid_a10-4q')])))
        except vmodl.MethodFault as exc:
            outcome['fault'] = exc
    worker = threading.Thread(target=reconfigure)
    worker.start()
    wait_until(lambda: sim.calls().get('ReconfigVM_Task'), 'the ReconfigVM_Task request to be taken')
    other = start_second_session(sim)
    try:
        power = other.vm(name)
        other.wait(power.PowerOnVM_Task())
    finally:
        other.close()
    worker.join(60)
    assert not worker.is_alive()
    assert isinstance(outcome.get('fault'), vim.fault.InvalidPowerState), outcome
    assert sim.gpu_devices(name) == []


def start_second_session(sim):
    """A second pyvmomi session to the same simulator (the first one is busy in another thread)."""
    from tests.integration.worlds.vsphere import Sim  # pylint: disable=import-outside-toplevel
    return Sim(sim.env)


def test_forced_reboot_takes_the_running_vms_down(sim):
    # RebootHost_Task(force=true) reboots "even if there are virtual machines running" [S9]; force=false needs
    # maintenance mode. The add-on used to refuse a forced reboot while VMs ran.
    vm = _vgpu_vm(sim, 'DC0_C0_RP0_VM0', ['grid_a10-4q'])
    host = vm.runtime.host
    sim.shared_direct(host.name)
    sim.wait(vm.PowerOnVM_Task())
    assert sim.state()[host.name]['gpus'][0]['vms'] == ['DC0_C0_RP0_VM0']
    assert isinstance(task_fault(sim, host.RebootHost_Task(False)), vim.fault.InvalidState)
    assert vm.runtime.powerState == 'poweredOn'
    sim.wait(host.RebootHost_Task(True))
    assert vm.runtime.powerState == 'poweredOff'
    state = sim.state()[host.name]
    assert state['boots'] == 1 and state['gpus'][0]['vms'] is None  # what the VM held is released


def test_pci_devices_sit_on_the_pci_controller_with_vsphere_labels(sim):
    vm = _vgpu_vm(sim, 'DC0_C0_RP0_VM0', ['grid_a10-4q', 'grid_a10-4q'])
    devices = sim.gpu_devices('DC0_C0_RP0_VM0')
    assert [(d.controllerKey, d.deviceInfo.label) for d in devices] == [(100, 'PCI device 0'), (100, 'PCI device 1')]
    controller = next(d for d in vm.config.hardware.device if d.key == 100)
    assert isinstance(controller, vim.vm.device.VirtualPCIController)
    assert set(d.key for d in devices) <= set(controller.device)


def test_vgpu_backing_fields_of_api_8_read_back(sim):
    vm = sim.power_off('DC0_C0_RP0_VM0')
    backing = vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo(
        vgpu='grid_a10-4q', migrateSupported=True, enhancedMigrateCapability=True, vgpuMigrateDataSizeMB=512)
    spec = vim.vm.device.VirtualDeviceSpec(operation='add', device=vim.vm.device.VirtualPCIPassthrough(key=-200, backing=backing))
    sim.wait(vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=[spec])))
    read = sim.gpu_devices('DC0_C0_RP0_VM0')[0].backing
    assert (read.vgpu, read.migrateSupported, read.enhancedMigrateCapability, read.vgpuMigrateDataSizeMB) == ('grid_a10-4q', True, True, 512)


def test_unset_apply_now_follows_the_rebind_capability_for_the_in_use_check_too(sim):
    vm = _vgpu_vm(sim, 'DC0_C0_RP0_VM0', ['grid_a10-4q'])
    host = vm.runtime.host
    sim.shared_direct(host.name)
    sim.wait(vm.PowerOnVM_Task())
    gpu = sim.state()[host.name]['gpus'][0]['id']
    system = host.configManager.pciPassthruSystem
    assert host.capability.deviceRebindWithoutRebootSupported is False
    with pytest.raises(vim.fault.ResourceInUse):  # now: the GPU a running VM uses cannot be rebound
        system.UpdatePassthruConfig([vim.host.PciPassthruConfig(id=gpu, passthruEnabled=True, applyNow=True)])
    # unset: like applyNow=false on this host (no rebind without reboot), so it is accepted for the next boot
    system.UpdatePassthruConfig([vim.host.PciPassthruConfig(id=gpu, passthruEnabled=True)])
    info = next(p for p in system.pciPassthruInfo if p.id == gpu)
    assert (info.passthruEnabled, info.passthruActive) == (True, False)
