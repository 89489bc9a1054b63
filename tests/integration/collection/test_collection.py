"""The collection as users get it: built with ansible-galaxy, installed, its docs rendered, the demo plan."""
import json
import os
import re
import subprocess
import sys
import tarfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)


def _run(cmd, env=None, cwd=REPO):
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    assert proc.returncode == 0, '%s failed (%d):\n%s' % (' '.join(cmd), proc.returncode, proc.stdout)
    return proc.stdout


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """Build the tarball and install it into an empty collections path, as a user would."""
    work = tmp_path_factory.mktemp('galaxy')
    _run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(work), REPO])
    tarball = work / 'gpuvirt-core-0.1.0.tar.gz'
    assert tarball.is_file()
    dest = work / 'collections'
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(dest))
    # --no-deps: kubernetes.core comes from the `ansible` package here (no Galaxy server is reachable)
    _run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--no-deps', '-p', str(dest), str(tarball)], env=env)
    return tarball, dest / 'ansible_collections' / 'gpuvirt' / 'core', env


def test_tarball_has_the_collection_and_nothing_local(installed):
    tarball = installed[0]
    with tarfile.open(str(tarball)) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile('MANIFEST.json'))
    assert manifest['collection_info']['namespace'] == 'gpuvirt'
    assert manifest['collection_info']['name'] == 'core'
    assert manifest['collection_info']['version'] == '0.1.0'
    assert 'kubernetes.core' in manifest['collection_info']['dependencies']
    for required in ('meta/runtime.yml', 'plugins/module_utils/plan.py', 'plugins/filter/vgpu.py', 'README.md'):
        assert required in names, required
    local = [n for n in names if re.match(r'^(\.venv|\.build|\.cache|\.git)(/|$)', n)]
    assert local == []


def test_installed_filter_docs_render(installed):
    path, env = installed[1:]
    assert (path / 'plugins' / 'module_utils' / 'vgpu').is_dir()
    out = _run([os.path.join(BIN, 'ansible-doc'), '-t', 'filter', 'gpuvirt.core.vgpu_profile'], env=env)
    assert 'vgpu_profile' in out and 'framebuffer_mib' in out
    out = _run([os.path.join(BIN, 'ansible-doc'), '-t', 'filter', 'gpuvirt.core.vgpu_max_instances'], env=env)
    assert 'max_instances' in out.lower() or 'max instances' in out.lower()


def test_installed_filter_works_in_a_playbook(installed, tmp_path):
    env = installed[2]
    playbook = tmp_path / 'p.yml'
    playbook.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: "{{ 'NVIDIA A10-4Q' | gpuvirt.core.vgpu_profile | to_json }}|{{ 'GRID T4-1Q' | gpuvirt.core.vgpu_max_instances }}"
""")
    out = _run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(playbook)], env=env)
    assert '"canonical": "A10-4Q"' in out.replace('\\"', '"')
    assert '|16"' in out


def test_capacity_plan_playbook_prints_the_plan():
    """`make demo`'s first step: the capacity plan of the sample inventory, numbers per reference facts §4."""
    env = dict(os.environ, ANSIBLE_NOCOWS='1', ANSIBLE_FORCE_COLOR='0')
    out = _run([os.path.join(BIN, 'ansible-playbook'), '-i', 'playbooks/inventories/capacity_sample.yml',
                'playbooks/capacity_plan.yml'], env=env)
    lines = {m.group(1): m.group(0) for m in re.finditer(r'"(\S+)\s+\d+ x .*?"', out)}
    # A10-4Q: 6 per GPU, 2 GPUs -> 12 >= 10 wanted
    assert re.search(r'kvm-a10-01 +2 x A10 +A10-4Q +4096 MiB +6 per GPU +capacity +12 +wanted +10 +OK', lines['kvm-a10-01'])
    # T4-2Q: 8 per GPU
    assert re.search(r'kvm-t4-01 +1 x T4 +T4-2Q +2048 MiB +8 per GPU +capacity +8 +wanted +8 +OK', lines['kvm-t4-01'])
    # L40S-1Q: 32 per GPU (the 32-vGPU cap on a 48 GB GPU), 4 GPUs -> 128
    assert re.search(r'esxi-l40s-01 +4 x L40S +L40S-1Q +1024 MiB +32 per GPU +capacity +128 +wanted +100 +OK', out)
    assert re.search(r'esxi-l40s-01 +2 x L40S +L40S-48Q +49152 MiB +1 per GPU +capacity +2 +wanted +2 +OK', out)
    # A100 80GB MIG 3-40C: 2 per GPU, 8 GPUs -> 16 < 20
    assert re.search(r'k8s-a100-01 +8 x A100D +A100D-3-40C +40960 MiB +2 per GPU +capacity +16 +wanted +20 +SHORT by 4', out)
    # H100-10C: 8 per GPU
    assert re.search(r'tanzu-h100-01 +2 x H100 +H100-10C +10240 MiB +8 per GPU +capacity +16 +wanted +16 +OK', out)
    assert re.search(r'182 vGPU slots on 19 GPUs for 156 wanted;\s*short by 4', out)
