"""vgpu_manager (KVM) against a copy of a debootstrapped Debian tree through the chroot connection, the path the
molecule scenario does not take: a .deb already on the host, an AMD CPU, a pre-Ampere GPU (no SR-IOV), nouveau
loaded and no permission to reboot. The role must install the packages and the .deb for real, report why a reboot
is needed (reference gpu-virtualization-facts.md §2, [S1 §2.10]: parameters, nouveau, a driver installed but not
loaded), change nothing on a second run, and finish the job after the host reboots (the reboot double applies
what a boot changes)."""
import hashlib
import json
import os
import subprocess
import sys

import pytest

from tests.debian_tree import copy_tree, debian_base, remove_tree

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
VERSION = '550.127.06'
DEB = 'nvidia-vgpu-ubuntu-550_%s_amd64.deb' % VERSION


def _run(*argv, **kwargs):
    return subprocess.run(list(argv), check=True, stdout=subprocess.PIPE, universal_newlines=True, **kwargs).stdout


@pytest.fixture(scope='module')
def host(tmp_path_factory):
    """A KVM host tree (AMD CPU, one T4, nouveau loaded) with the .deb installer double in /root."""
    root = copy_tree(debian_base(), tmp_path_factory.mktemp('kvm') / 'root')
    try:
        _run('chroot', root, 'apt-get', 'update', '-qq')
        depends = _run('chroot', root, 'apt-cache', 'depends', 'linux-headers-amd64')
        kernel = [line.split('linux-headers-', 1)[1].strip() for line in depends.splitlines() if 'Depends: linux-headers-' in line][0]
        _run(sys.executable, '-m', 'tests.emulators.nvidia_installer', 'host', root, '--kernel', kernel, '--cpu', 'amd',
             '--gpus', 't4:1', cwd=REPO)
        deb = _run(sys.executable, '-m', 'tests.emulators.nvidia_installer', 'deb', '--version', VERSION,
                   '--out', os.path.join(root, 'root'), cwd=REPO).strip()
        with open(deb, 'rb') as handle:
            checksum = hashlib.sha256(handle.read()).hexdigest()
        yield {'root': root, 'kernel': kernel, 'checksum': checksum}
    finally:
        remove_tree(root)


def _play(host, tmp_path, name='play'):
    playbook = tmp_path / ('%s.yml' % name)
    playbook.write_text("""
- hosts: kvm_host
  gather_facts: false
  roles:
    - role: gpuvirt.core.vgpu_manager
      vgpu_manager_installer: /root/%s
      vgpu_manager_installer_remote_src: true
      vgpu_manager_installer_checksum: "%s"
      vgpu_manager_kernel_release: "%s"
  post_tasks:
    - ansible.builtin.copy:
        content: "{{ {'required': vgpu_manager_reboot_required, 'reasons': vgpu_manager_reboot_reasons,
                      'result': vgpu_manager_result} | to_json }}"
        dest: "%s"
      delegate_to: localhost
      changed_when: false
""" % (DEB, host['checksum'], host['kernel'], tmp_path / ('%s.json' % name)))
    inventory = tmp_path / 'hosts'
    inventory.write_text('kvm_host ansible_connection=community.general.chroot ansible_host=%s '
                         'ansible_python_interpreter=/usr/bin/python3\n' % host['root'])
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', str(inventory), str(playbook)], cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False,
                          env=dict(os.environ, ANSIBLE_NOCOWS='1', ANSIBLE_FORCE_COLOR='0'))
    assert proc.returncode == 0, proc.stdout[-6000:]
    with open(str(tmp_path / ('%s.json' % name))) as handle:
        return proc.stdout, json.load(handle)


def _read(host, path):
    with open(os.path.join(host['root'], path.lstrip('/'))) as handle:
        return handle.read()


def _exists(host, path):
    return os.path.lexists(os.path.join(host['root'], path.lstrip('/')))


def test_deb_without_reboot_reports_then_completes_after_the_reboot(host, tmp_path):
    out, report = _play(host, tmp_path, 'first')
    # real packages: the headers of the picked kernel, DKMS, the compiler and the .deb (through apt)
    status = _run('chroot', host['root'], 'dpkg-query', '-W', '-f', '${Package} ${Version} ${Status}\n',
                  'linux-headers-' + host['kernel'], 'dkms', 'gcc', 'make', 'nvidia-vgpu-ubuntu-550')
    assert status.count('install ok installed') == 5, status
    assert 'nvidia-vgpu-ubuntu-550 %s install ok installed' % VERSION in status
    # the .deb's postinst built the module with DKMS for that kernel; nothing loaded it
    assert _run('chroot', host['root'], 'modinfo', '-k', host['kernel'], '-F', 'version', 'nvidia').strip() == VERSION
    assert not _exists(host, '/sys/module/nvidia')
    # AMD parameters, nouveau blacklisted, initramfs and grub regenerated, no reboot
    assert 'amd_iommu=on iommu=pt' in _read(host, '/etc/default/grub.d/60-gpuvirt-vgpu-manager.cfg')
    assert 'amd_iommu=on iommu=pt' in _read(host, '/boot/grub/grub.cfg')
    assert 'blacklist nouveau' in _read(host, '/boot/initrd.img-%s' % host['kernel'])
    assert not _exists(host, '/var/log/host-reboot-double.log')
    # the report: three reasons, in words
    assert report['required'] is True
    reasons = ' | '.join(report['reasons'])
    assert 'the kernel command line lacks amd_iommu=on iommu=pt' in reasons
    assert 'nouveau is loaded' in reasons
    assert 'the vGPU Manager %s is installed for %s but no NVIDIA driver is loaded' % (VERSION, host['kernel']) in reasons
    assert len(report['reasons']) == 3
    # services enabled (their units came with the .deb) but not started without the driver; a T4 has no SR-IOV
    assert _exists(host, '/etc/systemd/system/multi-user.target.wants/nvidia-vgpu-mgr.service')
    assert not _exists(host, '/var/lib/systemctl-double/nvidia-vgpu-mgr.active')
    assert not _exists(host, '/etc/systemd/system/nvidia-sriov-vfs.service')
    assert report['result']['sriov_gpus'] == [] and report['result']['driver_version'] == ''

    out, again = _play(host, tmp_path, 'second')
    assert 'changed=0' in out, out[-3000:]
    assert again['reasons'] == report['reasons']

    # the host reboots (by hand, or another play): the parameters, the blacklist and the driver take effect
    subprocess.run(['chroot', host['root'], 'host-reboot'], check=True)
    out, after = _play(host, tmp_path, 'third')
    assert after['required'] is False and after['reasons'] == []
    assert after['result']['driver_version'] == VERSION
    assert after['result']['host_vgpu_modes'] == ['Non SR-IOV']
    # the reboot already started the enabled services: nothing left to change
    assert 'changed=0' in out, out[-3000:]
    assert _exists(host, '/var/lib/systemctl-double/nvidia-vgpu-mgr.active')
    assert _exists(host, '/var/lib/systemctl-double/nvidia-vgpud.active')
