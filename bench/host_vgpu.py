"""Benchmark (not a test): 8 GPUs x 32 vGPUs created by ONE gpuvirt.core.host_vgpu call on the sysfs emulator.

For each SR-IOV flavour (mdev on VFs: 8 x A40, A40-1Q; vendor-specific VFIO: 8 x L40S, L40S-1Q) it mounts a fresh
emulated host, enables the VFs with sriov-manage (not timed), then runs the module directly (python + its JSON
arguments, the work Ansible ships to the host; no controller overhead) twice and prints the module's wall time and
the sysfs writes of each run. Target: under 2 s for the first call, 0 writes for the rerun.

    .venv/bin/python bench/host_vgpu.py [--gpus 8]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

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


def run_module(root, vgpu_type, workdir):
    args = os.path.join(workdir, 'args.json')
    with open(args, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': {'host_root': root, 'vgpu_type': vgpu_type, 'count': 32}}, handle)
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
        return {'flavour': model, 'vgpu_type': vgpu_type, 'gpus': gpus, 'created': created, 'first_s': first,
                'first_writes': first_writes, 'rerun_s': second, 'rerun_writes': second_writes, 'rerun_changed': again['changed']}
    finally:
        emulator('umount', root)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--gpus', type=int, default=8)
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(COLLECTIONS, 'ansible_collections', 'gpuvirt', 'core')):
        raise SystemExit('run `make setup` first (needs .build/collections/ansible_collections/gpuvirt/core)')
    rows = []
    with tempfile.TemporaryDirectory(prefix='bench-host-vgpu-') as workdir:
        for model, vgpu_type in (('a40', 'A40-1Q'), ('l40s', 'L40S-1Q')):
            rows.append(bench(model, vgpu_type, args.gpus, workdir))
    print('%-6s %-8s %5s %8s %10s %8s %9s %13s' % ('gpus', 'type', 'vGPUs', 'time s', 'writes', 'rerun s', 'rerun wr', 'rerun changed'))
    for row in rows:
        print('%-6s %-8s %5d %8.2f %10d %8.2f %9d %13s' % ('%dx%s' % (row['gpus'], row['flavour']), row['vgpu_type'], row['created'],
                                                           row['first_s'], row['first_writes'], row['rerun_s'], row['rerun_writes'],
                                                           row['rerun_changed']))
    print('target: first call < 2 s, rerun 0 writes (times include Python start-up and the emulator FUSE round trips)')


if __name__ == '__main__':
    main()
