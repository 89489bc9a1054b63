"""Benchmark (not a test): 8 GPUs x 32 vGPUs created by ONE gpuvirt.core.host_vgpu call on the sysfs emulator, next to
NVIDIA's vgpu-device-manager doing the same.

For each SR-IOV flavour (mdev on VFs: 8 x A40, A40-1Q; vendor-specific VFIO: 8 x L40S, L40S-1Q) it mounts a fresh
emulated host, enables the VFs with sriov-manage (not timed), then runs the module directly (python + its JSON
arguments, the work Ansible ships to the host; no controller overhead) twice with a vgpu-device-manager config file
(``devices: all``, ``{TYPE: 32}``) and prints the module's wall time and the sysfs writes of each run. For the mdev
flavour it then does the same with ``nvidia-vgpu-dm apply`` (tests/peers/vgpu_device_manager, built on first use) on
a second fresh host with the same file, and prints both and their ratio (vgpu-device-manager drives mdev only; the
vendor-specific VFIO row has no peer). Target: no more writes than vgpu-device-manager, faster, 0 writes on a rerun.

    .venv/bin/python bench/host_vgpu.py [--gpus 8]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, '.build', 'collections')
MODULE = os.path.join(REPO, 'plugins', 'modules', 'host_vgpu.py')


def emulator(*args):
    proc = subprocess.run([sys.executable, '-m', 'tests.emulators.sysfs'] + list(args), cwd=REPO, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit('emulator %s failed: %s%s' % (args[0], proc.stdout, proc.stderr))
    return proc.stdout


def writes(root):
    return len(emulator('writes', root).splitlines())


def config_file(vgpu_type, workdir):
    path = os.path.join(workdir, 'vgpu-config-%s.yaml' % vgpu_type)
    with open(path, 'w') as handle:
        handle.write('version: v1\nvgpu-configs:\n  bench:\n    - devices: all\n      vgpu-devices: {"%s": 32}\n' % vgpu_type)
    return path


def run_module(root, vgpu_type, workdir):
    args = os.path.join(workdir, 'args.json')
    with open(args, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': {'host_root': root, 'config_file': config_file(vgpu_type, workdir),
                                           'selected_config': 'bench'}}, handle)
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, MODULE, args], capture_output=True, text=True, env=env, cwd=workdir, check=False)
    elapsed = time.perf_counter() - start
    result = json.loads(proc.stdout)
    if result.get('failed'):
        raise SystemExit('module failed: %s' % result.get('msg'))
    return elapsed, result


def bench(model, vgpu_type, gpus, workdir):
    root = os.path.join(workdir, model)
    emulator('mount', root, '--gpus', '%s:%d' % (model, gpus))
    try:
        subprocess.run([os.path.join(root, 'usr/lib/nvidia/sriov-manage'), '-e', 'ALL'], check=True, capture_output=True)
        base = writes(root)
        first, result = run_module(root, vgpu_type, workdir)
        first_writes = writes(root) - base
        created = len(result['created'])
        base = writes(root)
        second, again = run_module(root, vgpu_type, workdir)
        second_writes = writes(root) - base
        return {'tool': 'host_vgpu', 'flavour': model, 'vgpu_type': vgpu_type, 'gpus': gpus, 'created': created, 'first_s': first,
                'first_writes': first_writes, 'rerun_s': second, 'rerun_writes': second_writes, 'rerun_changed': again['changed']}
    finally:
        emulator('umount', root)


def bench_peer(model, vgpu_type, gpus, workdir):
    """The same with nvidia-vgpu-dm apply (ROOT/sys as /sys in a private mount namespace)."""
    from tests.peers.vgpu_device_manager import binaries
    binaries.ensure()
    root = os.path.join(workdir, model + '-peer')
    emulator('mount', root, '--gpus', '%s:%d' % (model, gpus))
    try:
        subprocess.run([os.path.join(root, 'usr/lib/nvidia/sriov-manage'), '-e', 'ALL'], check=True, capture_output=True)
        timings = []
        for _run in range(2):
            base = writes(root)
            start = time.perf_counter()
            proc = binaries.apply(root, config_file(vgpu_type, workdir), 'bench', timeout=3600)
            timings.append((time.perf_counter() - start, writes(root) - base))
            if proc.returncode:
                raise SystemExit('nvidia-vgpu-dm failed: %s' % proc.stderr[-2000:])
        created = len([line for line in emulator('writes', root).splitlines() if '/create\t' in line])
        return {'tool': 'nvidia-vgpu-dm', 'flavour': model, 'vgpu_type': vgpu_type, 'gpus': gpus, 'created': created,
                'first_s': timings[0][0], 'first_writes': timings[0][1], 'rerun_s': timings[1][0], 'rerun_writes': timings[1][1],
                'rerun_changed': timings[1][1] > 0}
    finally:
        emulator('umount', root)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--gpus', type=int, default=8)
    parser.add_argument('--no-peer', action='store_true', help='skip nvidia-vgpu-dm')
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(COLLECTIONS, 'ansible_collections', 'gpuvirt', 'core')):
        raise SystemExit('run `make setup` first (needs .build/collections/ansible_collections/gpuvirt/core)')
    rows = []
    with tempfile.TemporaryDirectory(prefix='bench-host-vgpu-') as workdir:
        for model, vgpu_type in (('a40', 'A40-1Q'), ('l40s', 'L40S-1Q')):
            rows.append(bench(model, vgpu_type, args.gpus, workdir))
            if model == 'a40' and not args.no_peer:
                rows.append(bench_peer(model, vgpu_type, args.gpus, workdir))
    print('%-15s %-6s %-8s %5s %8s %10s %8s %9s %13s' % ('tool', 'gpus', 'type', 'vGPUs', 'time s', 'writes', 'rerun s', 'rerun wr',
                                                         'rerun changed'))
    for row in rows:
        print('%-15s %-6s %-8s %5d %8.2f %10d %8.2f %9d %13s' % (
            row['tool'], '%dx%s' % (row['gpus'], row['flavour']), row['vgpu_type'], row['created'], row['first_s'], row['first_writes'],
            row['rerun_s'], row['rerun_writes'], row['rerun_changed']))
    ours = [r for r in rows if r['tool'] == 'host_vgpu' and r['flavour'] == 'a40']
    peer = [r for r in rows if r['tool'] == 'nvidia-vgpu-dm']
    if ours and peer:
        print('nvidia-vgpu-dm / host_vgpu: time %.1fx, writes %.2fx, rerun time %.1fx' % (
            peer[0]['first_s'] / ours[0]['first_s'], peer[0]['first_writes'] / max(1, ours[0]['first_writes']),
            peer[0]['rerun_s'] / ours[0]['rerun_s']))
    print('target: no more writes than nvidia-vgpu-dm and faster, rerun 0 writes (times include process start-up and the '
          'emulator FUSE round trips)')


if __name__ == '__main__':
    main()
