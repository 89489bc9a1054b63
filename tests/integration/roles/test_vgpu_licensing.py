"""vgpu_licensing against a copy of a debootstrapped Debian guest: the token never reaches the output."""
import os
import shutil
import subprocess
import sys

import pytest

from tests.debian_tree import copy_tree, debian_base, remove_tree

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
DOUBLES = os.path.join(REPO, 'tests', 'emulators', 'guest')
TOKEN = 'TOKEN-7f3a9c-never-print-me'


@pytest.fixture(scope='module')
def guest(tmp_path_factory):
    """A fresh guest tree with the nvidia-smi / nvidia-gridd / systemctl doubles."""
    root = copy_tree(debian_base(), tmp_path_factory.mktemp('guest') / 'root')
    for name in ('systemctl', 'nvidia-gridd', 'nvidia-smi'):
        shutil.copy(os.path.join(DOUBLES, name), os.path.join(root, 'usr', 'bin', name))
    os.makedirs(os.path.join(root, 'etc', 'nvidia-double'))
    with open(os.path.join(root, 'etc', 'nvidia-double', 'vgpu_type'), 'w') as f:
        f.write('NVIDIA A100D-3-40C\n')
    with open(os.path.join(root, 'etc', 'systemd', 'system', 'nvidia-gridd.service'), 'w') as f:
        f.write('[Service]\nExecStart=/usr/bin/nvidia-gridd\n')
    yield root
    remove_tree(root)


def _play(guest, tmp_path, *extra):
    playbook = tmp_path / 'license.yml'
    playbook.write_text("""
- hosts: guest
  gather_facts: false
  roles:
    - role: gpuvirt.core.vgpu_licensing
      vgpu_licensing_token_file: "%s"
      vgpu_licensing_check_delay: 0
  post_tasks:
    - ansible.builtin.debug:
        var: vgpu_licensing_status
""" % (tmp_path / 'client_configuration_token_11-22-2026.tok'))
    (tmp_path / 'client_configuration_token_11-22-2026.tok').write_text(TOKEN + '\n')
    inventory = tmp_path / 'hosts'
    inventory.write_text('guest ansible_connection=community.general.chroot ansible_host=%s '
                         'ansible_python_interpreter=/usr/bin/python3\n' % guest)
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', str(inventory), str(playbook)] + list(extra),
                          cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False, env=dict(os.environ, ANSIBLE_NOCOWS='1', ANSIBLE_FORCE_COLOR='0'))
    return proc


def test_token_file_installed_licensed_and_never_printed(guest, tmp_path):
    proc = _play(guest, tmp_path, '-vvv', '--diff')
    assert proc.returncode == 0, proc.stdout
    assert TOKEN not in proc.stdout
    with open(os.path.join(guest, 'etc', 'nvidia', 'ClientConfigToken', 'client_configuration_token.tok')) as f:
        assert f.read().strip() == TOKEN
    mode = os.stat(os.path.join(guest, 'etc', 'nvidia', 'ClientConfigToken', 'client_configuration_token.tok')).st_mode
    assert mode & 0o777 == 0o600
    # C-series vGPU with FeatureType 1 -> Virtual Compute Server, licensed
    assert '"product": "NVIDIA Virtual Compute Server"' in proc.stdout
    assert '"licensed": true' in proc.stdout

    again = _play(guest, tmp_path, '-vvv', '--diff')
    assert again.returncode == 0, again.stdout
    assert TOKEN not in again.stdout
    assert 'changed=0' in again.stdout
