"""playbooks/kvm_vgpu_host.yml on the sysfs emulator, with the passthrough GPU given in its short form."""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV_BIN = os.path.dirname(sys.executable)


def test_short_passthrough_address_is_kept_out_of_sriov(emulator, tmp_path):
    emu = emulator('a10:1,t4:1')
    extra = tmp_path / 'lab.yml'
    # A10 at 0000:10:00.0 (SR-IOV capable), T4 at 0000:18:00.0. The A10 is passed through, written without its
    # domain: the playbook must not then try to enable its VFs (sriov-manage would refuse a GPU on vfio-pci).
    extra.write_text('kvm_vgpu_hosts: localhost\nkvm_vgpu_host_root: %s\n'
                     'kvm_vgpu_passthrough: ["10:00.0"]\n'
                     'kvm_vgpu_layout: [{devices: ["18:00.0"], vgpu_type: T4-2Q, count: 2}]\n' % emu.root)
    proc = subprocess.run([os.path.join(VENV_BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % sys.executable, '-e', '@%s' % extra,
                           'playbooks/kvm_vgpu_host.yml'], cwd=REPO, check=False, universal_newlines=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=dict(os.environ, ANSIBLE_NOCOWS='1', ANSIBLE_FORCE_COLOR='0'))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert 'Enable the SR-IOV virtual functions' in proc.stdout
    with open(os.path.join(emu.root, 'sys', 'bus', 'pci', 'devices', '0000:10:00.0', 'driver_override')) as handle:
        assert handle.read().strip() == 'vfio-pci'
    assert not os.path.exists(os.path.join(emu.root, 'sys', 'bus', 'pci', 'devices', '0000:10:00.0', 'virtfn0'))
