"""ESXi roles (vgpu_manager platform esxi, esxi_gpu_host) with real ansible-playbook runs against vcsim-gpu.

The simulator's hosts start without the NVIDIA vGPU Manager VIB (GPUs are "basic" graphics devices, no vGPU
profiles [S9 HostGraphicsInfoGraphicsType]) and with powered-on VMs; installing the VIB needs maintenance mode and
a reboot ([S1 §2.9], tests/emulators/vcsim/README.md). The control API (/gpusim/state, /gpusim/calls,
/gpusim/faults) shows what was written.
"""
import importlib.util
import os
import subprocess
import sys

import pytest

from tests.integration.worlds.vsphere import start_sim, stop_sim

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.path.join(REPO, '.build', 'collections')
VIB_VERSION = '550.127.06-1OEM.800.1.0.20613240'
WRITES = ('EnterMaintenanceMode_Task', 'ExitMaintenanceMode_Task', 'InstallHostPatchV2_Task', 'RebootHost_Task',
          'PowerOffVM_Task', 'PowerOnVM_Task', 'RelocateVM_Task', 'UpdateGraphicsConfig', 'UpdatePassthruConfig')


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VIBS = _load('gpuvirt_vibs', os.path.join(REPO, 'tests', 'emulators', 'vcsim', 'vib.py'))


@pytest.fixture
def sim():
    """One cluster DC0_C0 of two hosts without the vGPU Manager; VM1 on DC0_C0_H0 and VM0 on DC0_C0_H1, powered on
    (moved there: vcsim's own placement is random, and may leave a host without VMs)."""
    started = start_sim(clusters=1, hosts=2, vms=2, host_driver='none')
    started.place({'DC0_C0_RP0_VM1': 'DC0_C0_H0', 'DC0_C0_RP0_VM0': 'DC0_C0_H1'})
    yield started
    stop_sim(started)


@pytest.fixture
def vib(tmp_path):
    path = tmp_path / ('NVD-VGPU-800_%s_24000000.vib' % VIB_VERSION)
    VIBS.build_vib(str(path), 'NVD-VGPU-800', VIB_VERSION, summary='NVIDIA vGPU Manager')
    return 'file://%s' % path


def play(sim, tmp_path, role, role_vars, *extra, connection_env=True):
    """Run one role on localhost; the vCenter password goes in as a role variable unless connection_env."""
    lines = ['- hosts: localhost', '  gather_facts: false', '  roles:', '    - role: gpuvirt.core.%s' % role]
    lines += ['      %s: %s' % (k, v) for k, v in role_vars.items()]
    playbook = tmp_path / ('play-%s.yml' % role)
    playbook.write_text('\n'.join(lines) + '\n')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOWS='1', ANSIBLE_FORCE_COLOR='0')
    for key in ('VMWARE_HOST', 'VMWARE_PORT', 'VMWARE_USER', 'VMWARE_PASSWORD', 'VMWARE_VALIDATE_CERTS'):
        env.pop(key, None)
        if connection_env:
            env[key] = sim.env[key]
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % sys.executable, str(playbook)] + list(extra),
                          cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False, env=env)
    return proc


def recap(output):
    line = [x for x in output.splitlines() if x.startswith('localhost') and 'ok=' in x][-1]
    return dict(part.split('=') for part in line.split(':', 1)[1].split())


def writes(sim):
    calls = sim.calls()
    return dict((m, calls[m]) for m in WRITES if calls.get(m))


def manager_vars(vib_url, **more):
    out = {'vgpu_manager_platform': 'esxi', 'vgpu_manager_esxi_cluster': 'DC0_C0', 'vgpu_manager_esxi_vib_url': vib_url}
    out.update(more)
    return out


def test_vgpu_manager_refuses_running_vms_before_any_write(sim, vib, tmp_path):
    sim.reset_calls()
    proc = play(sim, tmp_path, 'vgpu_manager', manager_vars(vib))
    assert proc.returncode != 0, proc.stdout
    assert 'DC0_C0_H0 must enter maintenance mode but VMs are powered on: DC0_C0_RP0_VM1' in proc.stdout, proc.stdout[-3000:]
    assert writes(sim) == {}
    for host in sim.state().values():
        assert host['boots'] == 0 and 'NVD-VGPU-800' not in host['software']['installed']


def test_vgpu_manager_check_then_power_off_install_reboot_and_second_run(sim, vib, tmp_path):
    role_vars = manager_vars(vib, vgpu_manager_esxi_evacuate='true', vgpu_manager_esxi_evacuate_mode='power_off')
    sim.reset_calls()
    check = play(sim, tmp_path, 'vgpu_manager', role_vars, '--check', '--diff')
    assert check.returncode == 0, check.stdout
    assert recap(check.stdout)['changed'] == '1'
    assert writes(sim) == {}, 'check mode wrote'

    first = play(sim, tmp_path, 'vgpu_manager', role_vars)
    assert first.returncode == 0, first.stdout
    state = sim.state()
    for name, host in state.items():
        assert host['boots'] == 1, name
        assert host['software']['running']['NVD-VGPU-800'] == VIB_VERSION
        assert host['software']['vgpu_manager_loaded'] and not host['software']['reboot_required']
        assert all(g['graphics_type'] == 'shared' for g in host['gpus'])  # the manager's default after install
    for name in ('DC0_C0_RP0_VM0', 'DC0_C0_RP0_VM1'):
        assert sim.vm(name).runtime.powerState == 'poweredOff'  # power_off leaves them off, as documented
    for name in state:
        assert not sim.host(name).runtime.inMaintenanceMode

    sim.reset_calls()
    second = play(sim, tmp_path, 'vgpu_manager', role_vars)
    assert second.returncode == 0, second.stdout
    assert recap(second.stdout)['changed'] == '0'
    assert writes(sim) == {}


def test_failed_install_is_undone(sim, vib, tmp_path):
    """The install fails on the first host: its VMs are powered on again and it leaves maintenance mode."""
    sim.inject('InstallHostPatchV2_Task', 'PlatformConfigFault', message='[InstallationError] injected', count=1)
    before = dict((v, sim.vm(v).runtime.powerState) for v in ('DC0_C0_RP0_VM0', 'DC0_C0_RP0_VM1'))
    role_vars = manager_vars(vib, vgpu_manager_esxi_evacuate='true', vgpu_manager_esxi_evacuate_mode='power_off')
    proc = play(sim, tmp_path, 'vgpu_manager', role_vars)
    assert proc.returncode != 0
    assert 'injected' in proc.stdout and 'state_restored' in proc.stdout, proc.stdout[-3000:]
    assert dict((v, sim.vm(v).runtime.powerState) for v in before) == before
    # the first host's VM (VM1) was powered off and on again; the second host was never reached
    assert writes(sim) == {'PowerOffVM_Task': 1, 'EnterMaintenanceMode_Task': 1, 'InstallHostPatchV2_Task': 1,
                           'ExitMaintenanceMode_Task': 1, 'PowerOnVM_Task': 1}, writes(sim)
    for name, host in sim.state().items():
        assert not sim.host(name).runtime.inMaintenanceMode, name
        assert host['boots'] == 0


def test_esxi_gpu_host_password_never_in_vvv_output(sim, vib, tmp_path):
    password = sim.env['VMWARE_PASSWORD']
    role_vars = {
        'esxi_gpu_host_vcenter_hostname': sim.env['VMWARE_HOST'], 'esxi_gpu_host_vcenter_port': sim.env['VMWARE_PORT'],
        'esxi_gpu_host_vcenter_username': sim.env['VMWARE_USER'], 'esxi_gpu_host_vcenter_password': "'%s'" % password,
        'esxi_gpu_host_vcenter_validate_certs': 'false', 'esxi_gpu_host_cluster': 'DC0_C0',
        'esxi_gpu_host_vgpu_manager_vib_url': vib, 'esxi_gpu_host_passthrough_devices': '[{device_id: "20f1"}]',
    }
    refused = play(sim, tmp_path, 'esxi_gpu_host', role_vars, '-vvv', '--diff', connection_env=False)
    assert refused.returncode != 0 and 'VMs are powered on' in refused.stdout
    role_vars.update(esxi_gpu_host_evacuate='true', esxi_gpu_host_evacuate_mode='migrate')
    done = play(sim, tmp_path, 'esxi_gpu_host', role_vars, '-vvv', '--diff', connection_env=False)
    assert done.returncode == 0, done.stdout[-5000:]
    again = play(sim, tmp_path, 'esxi_gpu_host', role_vars, '-vvv', '--diff', connection_env=False)
    assert again.returncode == 0 and recap(again.stdout)['changed'] == '0'
    for proc in (refused, done, again):
        assert password not in proc.stdout
    assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in done.stdout  # the module invocation was masked, not absent
    for name, host in sim.state().items():
        assert host['boots'] == 1, name  # VIB, graphics and passthrough activated by one reboot
        assert host['default_type'] == 'sharedDirect'
        assert [g['passthru_active'] for g in host['gpus'] if g['model'] == 'a100'] == [True]
