"""NVIDIA's own vgpu-device-manager as a peer of host_vgpu: ``nvidia-vgpu-dm apply`` (built from its Go module, pinned in
tests/peers/vgpu_device_manager/gobuild) and ``gpuvirt.core.host_vgpu`` get the same config files on two identical
emulated hosts; the end states (vGPU types and counts per GPU) must be the same and host_vgpu must not write more.

The tool sees the emulator as /sys in a private mount namespace (tests/peers/vgpu_device_manager/binaries.py). It is
also the emulator's check: a real client of the NVIDIA driver's sysfs reads and writes it.
"""
import collections
import time

import pytest

from tests.peers.vgpu_device_manager import binaries

pytestmark = pytest.mark.integration

GPUS = 't4:1,a2:1'        # index 0: T4 (mdev on the PF); index 1: A2 (mdev on its 16 SR-IOV VFs)
CONFIG = '''version: v1
vgpu-configs:
  first:
    - devices: all
      device-filter: "0x1EB810DE"
      vgpu-devices: {"T4-4Q": 4}
    - devices: [1]
      vgpu-devices: {"A2-4Q": 2, "A2-4C": 2}
  # several entries for one GPU: applied in order, the last one decides (the A2 is left alone)
  layered:
    - devices: all
      device-filter: ["0x1EB810DE", "0x26B910DE"]
      vgpu-devices: {"T4-2Q": 2}
    - devices: [0]
      vgpu-devices: {"T4-2Q": 8}
  # the first entry is fine for the T4, the second names a type the A2 lacks
  broken:
    - devices: [0]
      vgpu-devices: {"T4-16Q": 1}
    - devices: [1]
      vgpu-devices: {"T4-1Q": 1}
'''


def end_state(emu):
    """{gpu address: {type id: count}} from the emulator's own state."""
    return dict((gpu, dict(collections.Counter(t for _v, t in items))) for gpu, items in emu.layout().items())


def run_both(ours, theirs, playbook, config, label):
    """Apply ``label`` with host_vgpu on ``ours`` and nvidia-vgpu-dm on ``theirs``: (our result, their process, our
    writes, their writes)."""
    before_ours, before_theirs = len(ours.writes()), len(theirs.writes())
    started = time.monotonic()
    args = {'host_root': ours.root, 'config_file': config, 'selected_config': label}
    result = playbook([{'name': 'apply', 'gpuvirt.core.host_vgpu': args, 'ignore_errors': True}])['apply']
    middle = time.monotonic()
    proc = binaries.apply(theirs.root, config, label)
    print('%s: host_vgpu (ansible-playbook) %.1f s, nvidia-vgpu-dm %.1f s' % (label, middle - started, time.monotonic() - middle))
    return result, proc, ours.writes()[before_ours:], theirs.writes()[before_theirs:]


def test_same_end_state_as_nvidia_vgpu_device_manager(emulator, playbook, tmp_path):
    config = tmp_path / 'vgpu-config.yaml'
    config.write_text(CONFIG)
    ours, theirs = emulator(GPUS), emulator(GPUS)
    for emu in (ours, theirs):
        assert emu.sriov_manage('-e', 'ALL').returncode == 0

    for label, rerun in (('first', True), ('layered', False)):
        result, proc, our_writes, their_writes = run_both(ours, theirs, playbook, str(config), label)
        assert proc.returncode == 0, (label, proc.stderr[-3000:])
        assert not result.get('failed'), (label, result)
        assert end_state(ours) == end_state(theirs), label
        assert all(w[2] == 'ok' for w in our_writes + their_writes), label
        assert len(our_writes) <= len(their_writes), (label, len(our_writes), len(their_writes))
        if rerun:
            again, proc, our_writes, their_writes = run_both(ours, theirs, playbook, str(config), label)
            assert proc.returncode == 0 and again['changed'] is False, label
            assert our_writes == [] and their_writes == [], label

    # 'layered' from 'first': vgpu-device-manager clears and recreates a GPU once per matching entry
    # 'broken': both fail; vgpu-device-manager has already rebuilt the T4 by then, host_vgpu refused before any write
    before = end_state(ours)
    result, proc, our_writes, their_writes = run_both(ours, theirs, playbook, str(config), 'broken')
    assert proc.returncode != 0 and 'vGPU type T4-1Q is not supported' in proc.stderr, proc.stderr[-2000:]
    assert result['failed'] is True and 'vgpu-configs.broken[1]' in result['msg'] and 'T4-1Q' in result['msg'], result
    assert our_writes == [] and end_state(ours) == before
    assert their_writes and end_state(theirs) != before
