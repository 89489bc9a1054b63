"""`make demo`'s lab, run as users run it: every workflow against the emulators (sysfs, vcsim-gpu, the Kubernetes
test world with real helm and a chart repository), twice.

scripts/demo.sh itself fails when the second run changes anything, writes to the KVM host's sysfs or prints a
secret; this test runs it and checks what it reports.
"""
import os
import re
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_demo_lab_converges_then_changes_nothing(tmp_path):
    env = dict(os.environ, GPU_REPORT_DIR=str(tmp_path / 'report'))
    proc = subprocess.run(['bash', os.path.join(REPO, 'scripts', 'demo.sh')], cwd=REPO, env=env, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    out = proc.stdout
    assert proc.returncode == 0, out[-6000:]
    first, second = out.split('=== 3.2 ')
    # run 1 changed the KVM host and localhost (vSphere, Kubernetes); run 2 changed nothing anywhere
    assert re.search(r'kvm-1 +: ok=\d+ +changed=[1-9]', first)
    assert re.search(r'localhost +: ok=\d+ +changed=[1-9]', first)
    recap = re.findall(r'^(\S+) +: ok=\d+ +changed=(\d+) ', second.split('=== 4.')[0], re.M)
    assert sorted(host for host, _c in recap) == ['kvm-1', 'localhost']
    assert all(changed == '0' for _h, changed in recap)
    assert re.search(r'KVM sysfs writes: run 1 [1-9]\d*, run 2 0', out)
    # the capacity plan (catalog only) and the report of the lab
    assert re.search(r'kvm-a10-01 +2 x A10 +A10-4Q', out)
    assert (tmp_path / 'report' / 'gpu-report.html').is_file()
    markdown = (tmp_path / 'report' / 'gpu-report.md').read_text()
    assert re.search(r'\| A10-4Q \| 14 \|', markdown)  # 12 on the KVM host's A10s + 2 in the vSphere VM
    assert re.search(r'\| L40S-8Q \| 4 \|', markdown)
    # every emulator was stopped
    assert 'sysfs emulator stopped' in out and 'stopped the Kubernetes test world' in out
    assert 'stopped the chart repository' in out
