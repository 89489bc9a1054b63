"""playbooks/gpu_report.yml against the lab's emulators: the sysfs emulator (a KVM host), vcsim-gpu (vSphere) and the
Kubernetes test world (a real API server with the GPU Operator's node double), plus a KVM host that cannot be
reached. The report must show what the emulators hold (their own state is the ground truth), show the unreachable
host, keep credentials out, and a rerun must change nothing.
"""
import json
import os
import re
import uuid

import pytest
import yaml

from tests.integration.worlds import free_port
from tests.integration.worlds.kube import start_emulator, stop_emulator
from tests.integration.worlds.sysfs import Emulator as SysfsEmulator
from tests.integration.worlds.vsphere import start_sim, stop_sim

pytestmark = pytest.mark.integration

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
PLAYBOOK = os.path.join(REPO_ROOT, 'playbooks', 'gpu_report.yml')
REPORT_TASK = 'Write the GPU capacity report'


class KvmHost(SysfsEmulator):
    """The sysfs emulator as an administrator's hands leave it: vGPUs created by hand."""

    def type_dir(self, parent, short_name):
        """The mdev type directory of ``parent`` whose ``name`` ends in ``short_name`` (reference §1)."""
        base = os.path.join(self.sys, 'class', 'mdev_bus', parent, 'mdev_supported_types')
        for type_id in sorted(os.listdir(base)):
            with open(os.path.join(base, type_id, 'name')) as handle:
                if handle.read().split()[-1] == short_name:
                    return os.path.join(base, type_id)
        raise AssertionError('%s offers no %s' % (parent, short_name))

    def create_mdev(self, parent, short_name):
        """What an administrator does by hand: echo UUID > .../create (reference §1)."""
        mdev_uuid = str(uuid.uuid4())
        with open(os.path.join(self.type_dir(parent, short_name), 'create'), 'w') as handle:
            handle.write(mdev_uuid)
        return mdev_uuid


@pytest.fixture
def kvm_host(tmp_path):
    emu = KvmHost(str(tmp_path / 'kvm-1'))
    emu.mount('t4:1,a10:1,l40s:1')
    try:
        yield emu
    finally:
        emu.umount()
        assert not os.path.ismount(emu.sys)


@pytest.fixture
def kube(tmp_path):
    emulator = start_emulator(tmp_path, nodes='gpu-1:a10:2,gpu-2:l40s:1,cpu-1')  # the first start builds the binaries
    try:
        yield emulator.kubeconfig
    finally:
        stop_emulator(emulator)


@pytest.fixture
def vcenter():
    sim = start_sim(clusters=1, hosts=2, vms=1, vm_version='vmx-19')
    try:
        yield sim
    finally:
        stop_sim(sim)


def prepare_vsphere(sim, playbook, tmp_path):
    """Shared Direct on both hosts, one VM with an A10-4Q vGPU (powered on), passthrough enabled on an A100 of the
    second host without applying it (reboot pending), with the collection's own modules."""
    env = sim.env
    connection = {'hostname': env['VMWARE_HOST'], 'port': int(env['VMWARE_PORT']), 'username': env['VMWARE_USER'],
                  'password': env['VMWARE_PASSWORD'], 'validate_certs': False}
    tasks = [{'name': 'Shared Direct on %s' % host, 'gpuvirt.core.vsphere_host_graphics': dict(connection, esxi_hostname=host,
              default_graphics_type='sharedDirect', assignment_policy='consolidation')} for host in ('DC0_C0_H0', 'DC0_C0_H1')]
    path = tmp_path / 'prepare-graphics.yml'
    path.write_text(yaml.safe_dump([{'name': 'vSphere graphics', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}]))
    playbook(str(path))
    for host in ('DC0_C0_H0', 'DC0_C0_H1'):
        sim.restart_hostengine(host)  # settings become active [S1 §2.9]
    vgpu = dict(connection, name='DC0_C0_RP0_VM0', vgpu_profiles=['grid_a10-4q'], power_cycle=True)
    passthrough = dict(connection, esxi_hostname='DC0_C0_H1', devices=[{'vendor_id': 4318, 'device_id': 8433, 'enabled': True}])
    tasks = [{'name': 'vGPU on the VM', 'gpuvirt.core.vsphere_vm_gpu': vgpu},
             {'name': 'Passthrough on H1', 'gpuvirt.core.vsphere_host_passthrough': passthrough}]
    path = tmp_path / 'prepare-vms.yml'
    path.write_text(yaml.safe_dump([{'name': 'vSphere VMs', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}]))
    playbook(str(path))
    return connection


def test_report_of_the_emulated_lab(kvm_host, kube, vcenter, playbook, chromium, artifacts, tmp_path):
    # a KVM host as an administrator leaves it: VFs enabled on the A10, two T4-2Q and one A10-4Q, one T4-2Q in use
    state = kvm_host.state()
    address = dict((g['model'].upper(), g['address']) for g in state['gpus'])
    enabled = kvm_host.sriov_manage('-e', address['A10'])
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    in_use = kvm_host.create_mdev(address['T4'], 'T4-2Q')
    kvm_host.create_mdev(address['T4'], 'T4-2Q')
    vfs = [vf['address'] for g in kvm_host.state()['gpus'] if g['address'] == address['A10'] for vf in g['vfs']]
    kvm_host.create_mdev(vfs[0], 'A10-4Q')
    kvm_host.attach(in_use)
    connection = prepare_vsphere(vcenter, playbook, tmp_path)

    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('[gpu_kvm_hosts]\n'
                         'kvm-1 ansible_connection=local gpu_host_root=%s gpu_report_site="Lab KVM"\n'
                         'kvm-2 ansible_host=127.0.0.1 ansible_port=%d ansible_connection=ssh ansible_user=nobody\n'
                         % (kvm_host.root, free_port()))
    dest = str(tmp_path / 'out' / 'lab.html')
    os.makedirs(os.path.dirname(dest))
    saved = str(tmp_path / 'out' / 'facts.json')
    extra = {'gpu_report_dest': dest, 'gpu_report_title': 'Emulated lab', 'gpu_report_save_facts': saved,
             'gpu_report_vcenters': [dict(connection, site='Lab vCenter')],
             'gpu_report_clusters': [{'site': 'Lab Kubernetes', 'kubeconfig': kube}]}
    first = playbook(PLAYBOOK, inventory=str(inventory), extra_vars=extra)
    report = first.result(REPORT_TASK)
    assert report['changed'] is True and report['markdown_dest'] == str(tmp_path / 'out' / 'lab.md')

    with open(dest) as handle:
        html = handle.read()
    with open(report['markdown_dest']) as handle:
        markdown = handle.read()
    # credentials never reach the report files or the report task's arguments
    assert connection['password'] not in html and connection['password'] not in markdown
    assert connection['password'] not in json.dumps(report)

    summary = report['summary']
    # KVM ground truth, from the emulator's state
    assert '## Lab KVM' in markdown
    assert re.search(r'`%s` T4 \(vGPU\) — `\[##\.\.\.\.\.\.\]` — 2 of 8 slots used — vGPUs: 2 × T4-2Q' % re.escape(address['T4']), markdown)
    assert re.search(r'`%s` A10 \(vGPU\) — `\[#\.\.\.\.\.\]` — 1 of 6 slots used — vGPUs: 1 × A10-4Q' % re.escape(address['A10']), markdown)
    assert re.search(r'`%s` L40S \(not ready for vGPUs\)' % re.escape(address['L40S']), markdown)
    assert '### kvm-2 — **FAILED to answer**: unreachable' in markdown
    assert 'offers other counts than the catalog' not in markdown  # the emulated driver and the catalog agree
    assert {'site': 'KVM hosts', 'host': 'kvm-2'}.items() <= report['failed_hosts'][0].items()
    # vSphere: what vsphere_gpu_info returned, and the VM's vGPU on an A10
    vsphere = first.result('Read GPUs, host graphics and GPU VMs from each vCenter')['results'][0]
    vsphere_gpus = sum(len(h['gpus']) for h in vsphere['hosts'])
    assert '## Lab vCenter' in markdown
    assert summary['vgpus_by_type'] == {'A10-4Q': 2, 'T4-2Q': 2}
    assert summary['hosts_failed'] == 1
    assert summary['reboot_pending'] == 1 and 'DC0_C0_H1 — **reboot pending**' in markdown
    # Kubernetes: the nodes' resources as the world's GPU Operator double advertises them
    nodes = first.result('Read GPU nodes, KubeVirt devices and the ClusterPolicy from each Kubernetes cluster')['results'][0]['nodes']
    resources = {}
    for node in nodes:
        for name, value in node['capacity'].items():
            resources.setdefault(name, {'capacity': 0, 'allocatable': 0})['capacity'] += int(value)
        for name, value in node['allocatable'].items():
            resources.setdefault(name, {'capacity': 0, 'allocatable': 0})['allocatable'] += int(value)
    assert summary['kubernetes_resources'] == resources and resources
    assert summary['gpus'] == 3 + vsphere_gpus
    assert summary['hosts'] == 2 + len(vsphere['hosts']) + len(nodes)

    # a rerun on unchanged facts writes nothing
    again = playbook(PLAYBOOK, inventory=str(inventory), extra_vars=extra)
    assert again.result(REPORT_TASK)['changed'] is False and again.stats['localhost']['changed'] == 0

    # the saved facts (what the demo steps keep) render the same page with no emulator and no inventory
    with open(saved) as handle:
        facts = json.load(handle)
    assert connection['password'] not in json.dumps(facts)
    again_dest = str(tmp_path / 'out' / 'from-saved.html')
    playbook(PLAYBOOK, extra_vars={'gpu_report_facts': facts, 'gpu_report_dest': again_dest, 'gpu_report_title': 'Emulated lab'})
    with open(again_dest) as handle:
        assert handle.read() == html

    for width in (1280, 390):
        assert chromium.open(dest, width) == ['file://' + dest]
        assert chromium.evaluate('document.documentElement.scrollWidth') <= width
        assert chromium.evaluate("document.querySelector('[data-stat=gpus]').innerText") == str(summary['gpus'])
        chromium.screenshot(os.path.join(artifacts, 'emulated-lab-%d.png' % width), width)
