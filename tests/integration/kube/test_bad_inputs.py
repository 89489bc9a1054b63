"""Issue 18: every bad input of the Kubernetes, CAPV and VM-class modules is refused before the first write.

One table of bad inputs; all cases of one module run in ONE ansible-playbook run (``ignore_errors`` per task) to keep
the suite fast. Each case must fail, with a message naming the bad input (the expected words of the table), with no
traceback and no MODULE FAILURE; and the whole run must have written nothing: the kube-apiserver's audit log shows no
write (Kubernetes and CAPV modules), vcsim-gpu's request log no write (vsphere_vm_class).
"""
import json

import pytest

from tests.integration.worlds.kube import CapiCluster
from tests.integration.worlds.vsphere import VCenter, start_sim, stop_sim

TOKEN = 'eyJhbGciOiJSUzI1NiJ9.BAD-INPUT-TEST-TOKEN.c2lnbmF0dXJl'
NODE = {'nodes': ['gpu-1'], 'workload': 'vm-vgpu'}
LICENSE = {'token': TOKEN}
TEMPLATE = {'name': 'w1-worker', 'namespace': 'default', 'pci_devices': [{'vgpu_profile': 'A10-4Q'}]}
VMCLASS = {'id': 'gpu-class', 'cpu_count': 2, 'memory_mb': 4096, 'memory_reservation': 100}


def case(module, base, args, *expected, **options):
    """One bad input: ``args`` over the module's ``base`` arguments (a value of None removes the key)."""
    merged = dict(base)
    merged.update(args)
    merged = dict((k, v) for k, v in merged.items() if v is not None)
    return dict(module=module, args=merged, expected=expected, **options)


CASES = [
    # k8s_gpu_node
    case('k8s_gpu_node', NODE, {'wait': True, 'wait_timeout': -1}, 'wait_timeout', '-1'),
    case('k8s_gpu_node', NODE, {'wait': True, 'wait_timeout': 0}, 'wait_timeout', '0'),
    case('k8s_gpu_node', NODE, {'wait': True, 'wait_sleep': 0}, 'wait_sleep'),
    case('k8s_gpu_node', NODE, {'wait': True, 'wait_sleep': -0.5}, 'wait_sleep', '-0.5'),
    case('k8s_gpu_node', NODE, {'request_timeout': 0}, 'request_timeout'),
    case('k8s_gpu_node', NODE, {'request_timeout': -5}, 'request_timeout', '-5'),
    case('k8s_gpu_node', NODE, {'label_selector': 'nvidia.com/gpu.present=true'}, 'mutually exclusive', 'label_selector'),
    case('k8s_gpu_node', NODE, {'nodes': ['gpu-1', 'gpu-1']}, 'nodes[1]', 'gpu-1'),
    case('k8s_gpu_node', NODE, {'nodes': ['']}, 'nodes[0]'),
    case('k8s_gpu_node', NODE, {'nodes': ['gpu-9']}, 'gpu-9'),
    case('k8s_gpu_node', NODE, {'workload': 'vm-gpu'}, 'workload', 'vm-gpu'),
    case('k8s_gpu_node', NODE, {'vgpu_config': 'A10-99Q'}, 'A10-99Q'),
    case('k8s_gpu_node', NODE, {'vgpu_config': 'bogus'}, 'bogus'),
    case('k8s_gpu_node', NODE, {'vgpu_config': 'L40S-4Q'}, 'L40S-4Q'),
    case('k8s_gpu_node', NODE, {'vgpu_config': 'A100-3-20C'}, 'A100-3-20C'),
    case('k8s_gpu_node', NODE, {'workload': 'container', 'vgpu_config': 'A10-4Q'}, 'vgpu_config', 'workload'),
    case('k8s_gpu_node', NODE, {'vgpu_config': 'my config!', 'validate_vgpu_config': False}, 'my config!'),
    case('k8s_gpu_node', NODE, {'vgpu_config': 'x' * 64, 'validate_vgpu_config': False}, 'vgpu_config'),
    case('k8s_gpu_node', NODE, {'nodes': ['cpu-1'], 'workload': 'vm-passthrough'}, 'cpu-1'),
    case('k8s_gpu_node', NODE, {'nodes': None, 'label_selector': 'a in ('}, 'label_selector', 'a in ('),
    case('k8s_gpu_node', NODE, {'nodes': None, 'label_selector': 'gpuvirt.test/none=x'}, 'gpuvirt.test/none=x'),
    case('k8s_gpu_node', NODE, {'nodes': None}, 'nodes', 'label_selector'),
    case('k8s_gpu_node', NODE, {'workload': None}, 'workload', 'vgpu_config'),
    case('k8s_gpu_node', NODE, {'wait_timeout': 'soon'}, 'wait_timeout'),
    # kubevirt_host_devices (the world's KubeVirt CR reports v1.9.0)
    case('kubevirt_host_devices', {}, {'mediated_devices': [{'selector': 'A10-24Q', 'resource_name': 'nvidia.com/A10_24Q'},
                                                            {'selector': 'NVIDIA A10-24Q'}]},
         'mediated_devices[1]', 'two resource names'),
    case('kubevirt_host_devices', {}, {'pci_host_devices': [{'selector': '10DE:2236'}, {'selector': '10de:2236'}]},
         'pci_host_devices[1]', '10de:2236'),
    case('kubevirt_host_devices', {}, {'feature_gates': ['HostDevicez']}, 'HostDevicez', 'HostDevices'),
    case('kubevirt_host_devices', {}, {'feature_gates': ['hostdevices']}, 'hostdevices', 'HostDevices'),
    case('kubevirt_host_devices', {}, {'feature_gates': ['']}, 'feature_gates[0]'),
    case('kubevirt_host_devices', {}, {'feature_gates': ['Passt']}, 'Passt', 'discontinued'),
    case('kubevirt_host_devices', {}, {'feature_gates': ['ExperimentalVirtiofsSupport']}, 'ExperimentalVirtiofsSupport'),
    case('kubevirt_host_devices', {}, {'feature_gates': ['NonRootExperimental']}, 'NonRootExperimental', 'v1.9.0'),
    case('kubevirt_host_devices', {}, {'feature_gates': ['HostDevices', 'HostDevices']}, 'feature_gates[1]'),
    case('kubevirt_host_devices', {}, {'pci_host_devices': [{'selector': 'zz:yy'}]}, 'zz:yy'),
    case('kubevirt_host_devices', {}, {'pci_host_devices': [{'selector': '10DE2236'}]}, '10DE2236'),
    case('kubevirt_host_devices', {}, {'pci_host_devices': [{'selector': '10DE:FFFF'}]}, '10DE:FFFF'),
    case('kubevirt_host_devices', {}, {'pci_host_devices': [{'selector': '10DE:2236', 'resource_name': 'bad name'}]}, 'bad name'),
    case('kubevirt_host_devices', {}, {'mediated_devices': [{'selector': 'A10-99Q'}]}, 'A10-99Q'),
    case('kubevirt_host_devices', {}, {'mediated_devices': [{'resource_name': 'nvidia.com/NVIDIA_A10-24Q'}]},
         'mediated_devices[0]', 'selector'),
    case('kubevirt_host_devices', {}, {'discover': True, 'state': 'absent'}, 'discover', 'state=absent'),
    case('kubevirt_host_devices', {}, {}, 'nothing to do', 'feature_gates'),
    case('kubevirt_host_devices', {}, {'feature_gates': ['HostDevices'], 'request_timeout': 0}, 'request_timeout'),
    case('kubevirt_host_devices', {}, {'feature_gates': ['HostDevices'], 'namespace': 'nope'}, 'nope'),
    case('kubevirt_host_devices', {}, {'feature_gates': ['HostDevices'], 'state': 'gone'}, 'state', 'gone'),
    case('kubevirt_host_devices', {}, {'pci_host_devices': [{'selectr': '10DE:2236'}]}, 'selectr'),
    case('kubevirt_host_devices', {}, {'feature_gates': 'HostDevices,GPUz'}, 'GPUz'),
    # vgpu_license
    case('vgpu_license', LICENSE, {'gridd_conf': {'ServerAddress': 'x\nFeatureType=0'}}, 'gridd_conf.ServerAddress', 'line break'),
    case('vgpu_license', LICENSE, {'gridd_conf': {'Bad Key=1\n': 'x'}}, 'Bad Key=1'),
    case('vgpu_license', LICENSE, {'gridd_conf': {'FeatureType': 4}}, 'FeatureType', 'feature_type'),
    case('vgpu_license', LICENSE, {'gridd_conf': {'ServerPort': 70000}}, 'gridd_conf.ServerPort', '70000'),
    case('vgpu_license', LICENSE, {'gridd_conf': {'ServerPort': 'abc'}}, 'gridd_conf.ServerPort', 'abc'),
    case('vgpu_license', LICENSE, {'gridd_conf': {'EnableUI': 'maybe'}}, 'gridd_conf.EnableUI', 'maybe'),
    case('vgpu_license', LICENSE, {'gridd_conf': {'LicenseInterval': 5}}, 'gridd_conf.LicenseInterval', '5'),
    case('vgpu_license', LICENSE, {'gridd_conf': {'Bogus': 1}}, 'Bogus'),
    case('vgpu_license', LICENSE, {'gridd_conf': {'serveraddress': 'ls.lab'}}, 'serveraddress', 'ServerAddress'),
    case('vgpu_license', LICENSE, {'gridd_conf': {'ServerAddress': ['a', 'b']}}, 'gridd_conf.ServerAddress'),
    case('vgpu_license', LICENSE, {'gridd_conf': {'ClientConfigTokenPath': 'relative/dir'}}, 'gridd_conf.ClientConfigTokenPath',
         'relative/dir'),
    case('vgpu_license', LICENSE, {'gridd_conf': {'ServerAddress': ''}}, 'gridd_conf.ServerAddress'),
    case('vgpu_license', LICENSE, {'gridd_conf': {'ServerAddress': 'ls .lab'}}, 'gridd_conf.ServerAddress', 'ls .lab'),
    case('vgpu_license', LICENSE, {'feature_type': 3}, 'feature_type', '3'),
    case('vgpu_license', LICENSE, {'token': '   '}, 'token'),
    case('vgpu_license', LICENSE, {'token': None, 'token_file': '/nonexistent/client.tok'}, '/nonexistent/client.tok'),
    case('vgpu_license', LICENSE, {'token_file': '/nonexistent/client.tok'}, 'mutually exclusive', 'token_file'),
    case('vgpu_license', LICENSE, {'kind': 'Pod'}, 'kind', 'Pod'),
    case('vgpu_license', LICENSE, {'request_timeout': -1}, 'request_timeout', '-1'),
    case('vgpu_license', LICENSE, {'token': None}, 'token', 'token_file'),
    # capv_machine_template_gpu (seed 000's w1-worker template and w1-md-0 MachineDeployment)
    case('capv_machine_template_gpu', TEMPLATE, {'pci_devices': [{'vgpu_profile': 'A10-99Q'}]}, 'pci_devices[0]', 'A10-99Q'),
    case('capv_machine_template_gpu', TEMPLATE, {'pci_devices': [{'vgpu_profile': 'A10-4Q', 'vendor_id': '10de'}]}, 'pci_devices[0]'),
    case('capv_machine_template_gpu', TEMPLATE, {'pci_devices': [{'vendor_id': '10de'}]}, 'pci_devices[0]', 'device_id'),
    case('capv_machine_template_gpu', TEMPLATE, {'pci_devices': [{'vendor_id': 'zz', 'device_id': '2236'}]}, 'vendor_id', 'zz'),
    case('capv_machine_template_gpu', TEMPLATE, {'pci_devices': [{'vgpu_profile': ''}]}, 'vgpu_profile'),
    case('capv_machine_template_gpu', TEMPLATE, {'pci_devices': [{'vgpu_profile': 'A10-4Q', 'custom_label': 'x'}]}, 'custom_label'),
    case('capv_machine_template_gpu', TEMPLATE, {'hardware_version': 'vmx17'}, 'hardware_version', 'vmx17'),
    case('capv_machine_template_gpu', TEMPLATE, {'custom_vmx_keys': {'bad key': 'x'}}, 'custom_vmx_keys', 'bad key'),
    case('capv_machine_template_gpu', TEMPLATE, {'custom_vmx_keys': {'pciPassthru.use64bitMMIO': 'TRUE\nx=1'}},
         'custom_vmx_keys.pciPassthru.use64bitMMIO'),
    case('capv_machine_template_gpu', TEMPLATE, {'custom_vmx_keys': {'pciPassthru.64bitMMIOSizeGB': [64]}},
         'custom_vmx_keys.pciPassthru.64bitMMIOSizeGB'),
    case('capv_machine_template_gpu', TEMPLATE, {'name': 'Bad_Name'}, 'name', 'Bad_Name'),
    case('capv_machine_template_gpu', TEMPLATE, {'name': 'nope'}, 'nope'),
    case('capv_machine_template_gpu', TEMPLATE, {'namespace': 'Bad NS'}, 'namespace', 'Bad NS'),
    case('capv_machine_template_gpu', TEMPLATE, {'machine_deployment': 'nope'}, 'nope'),
    case('capv_machine_template_gpu', TEMPLATE, {'machine_deployment': 'Bad!'}, 'machine_deployment', 'Bad!'),
    case('capv_machine_template_gpu', TEMPLATE, {'template_api_version': 'v9zz'}, 'template_api_version', 'v9zz'),
    case('capv_machine_template_gpu', TEMPLATE, {'request_timeout': 0}, 'request_timeout'),
    case('capv_machine_template_gpu', TEMPLATE, {'pci_devices': None}, 'pci_devices'),
    # vsphere_vm_class (vcsim-gpu, vCenter 8.0.3)
    case('vsphere_vm_class', VMCLASS, {'id': 'Bad_ID'}, 'id', 'Bad_ID'),
    case('vsphere_vm_class', VMCLASS, {'cpu_count': 0}, 'cpu_count'),
    case('vsphere_vm_class', VMCLASS, {'memory_reservation': 150}, 'memory_reservation', '150'),
    case('vsphere_vm_class', VMCLASS, {'vgpu_profiles': ['bogus']}, 'vgpu_profiles[0]', 'bogus'),
    case('vsphere_vm_class', VMCLASS, {'passthrough_devices': [{'vendor_id': 'zz', 'device_id': 1}]}, 'vendor_id', 'zz'),
    case('vsphere_vm_class', VMCLASS, {'namespaces': ['Bad_NS']}, 'namespaces[0]', 'Bad_NS'),
    case('vsphere_vm_class', VMCLASS, {'namespaces': ['tak', 'tak']}, 'namespaces[1]', 'tak'),
    case('vsphere_vm_class', VMCLASS, {'namespaces': ['nope']}, 'nope'),
    case('vsphere_vm_class', VMCLASS, {'timeout': 0}, 'timeout'),
    case('vsphere_vm_class', VMCLASS, {'timeout': -30}, 'timeout', '-30'),
    case('vsphere_vm_class', VMCLASS, {'device_api': 'pci'}, 'device_api', 'pci'),
    case('vsphere_vm_class', VMCLASS, {'cpu_count': None, 'memory_mb': None}, 'cpu_count', 'memory_mb'),
    case('vsphere_vm_class', VMCLASS, {'vgpu_profiles': ['A10-4Q'], 'memory_reservation': 50}, 'memory_reservation'),
]

FORBIDDEN = ('Traceback', 'MODULE FAILURE', 'Module failed', 'module_stderr')


def ids(module):
    return [c for c in CASES if c['module'] == module]


def bad_input_play(cases):
    """One play: each case a task with ignore_errors, registered as out_N; then all results saved."""
    tasks = []
    for index, item in enumerate(cases):
        tasks.append({'name': 'case %d' % index, 'gpuvirt.core.%s' % item['module']: item['args'],
                      'register': 'out_%d' % index, 'ignore_errors': True})
    saved = dict(('out_%d' % i, '{{ out_%d | default(None) }}' % i) for i in range(len(cases)))
    tasks.append({'name': 'save results', 'ansible.builtin.copy': {'content': '{{ saved | to_json }}', 'dest': '{{ result_file }}',
                                                                   'mode': '0600'},
                  'vars': {'saved': saved}, 'check_mode': False})
    return json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}], indent=1)


def check_results(cases, run):
    assert run.results, run.output
    problems = []
    for index, item in enumerate(cases):
        out = run.results['out_%d' % index] or {}
        text = json.dumps(out)
        msg = out.get('msg') or ''
        where = 'case %d %s %s' % (index, item['module'], json.dumps(item['args']))
        if not out.get('failed'):
            problems.append('%s did not fail: %s' % (where, text[:300]))
            continue
        if out.get('changed'):
            problems.append('%s reports changed: %s' % (where, msg))
        missing = [word for word in item['expected'] if word not in msg]
        if missing:
            problems.append('%s: message does not name %s: %s' % (where, missing, msg))
        if any(word in text for word in FORBIDDEN):  # ansible-core's own 'exception' is '(traceback unavailable)'
            problems.append('%s: traceback or module failure: %s' % (where, text[:500]))
    assert not problems, '\n'.join(problems)
    for word in FORBIDDEN[:2]:
        assert word not in run.output


def test_table_has_at_least_60_cases():
    assert len(CASES) >= 60
    modules = {'k8s_gpu_node', 'kubevirt_host_devices', 'vgpu_license', 'capv_machine_template_gpu', 'vsphere_vm_class'}
    assert set(c['module'] for c in CASES) == modules


@pytest.mark.parametrize('module', ['k8s_gpu_node', 'kubevirt_host_devices', 'vgpu_license'])
def test_kubernetes_modules_refuse_bad_inputs_before_any_write(kube, playbook, module):
    cases = ids(module)
    run = playbook(bad_input_play(cases), kube)
    check_results(cases, run)
    assert kube.control.writes() == [], 'a bad input of %s was written: %s' % (module, kube.control.writes())


def test_capv_template_refuses_bad_inputs_before_any_write(kube, playbook):
    cluster = CapiCluster(kube)
    cluster.seed()
    cases = ids('capv_machine_template_gpu')
    run = playbook(bad_input_play(cases), kube)
    check_results(cases, run)
    assert cluster.writes() == []
    assert cluster.templates() == ['w1-worker']


@pytest.fixture(scope='module')
def vcenter_803_sim():
    sim = start_sim(clusters=1, hosts=1, vms=1, api_version='8.0.3.0')
    yield sim
    stop_sim(sim)


def test_vm_class_refuses_bad_inputs_before_any_write(vcenter_803_sim, playbook):
    center = VCenter(vcenter_803_sim)
    center.reset()
    center.create_namespace('tak', classes=['best-effort-small'], libraries=['lib-ubuntu'])
    center.clear_log()
    cases = ids('vsphere_vm_class')
    env = dict((k, v) for k, v in vcenter_803_sim.env.items() if k.startswith('VMWARE_'))
    run = playbook(bad_input_play(cases), env=env)
    check_results(cases, run)
    assert center.writes() == [], 'a bad VM class input was written: %s' % center.writes()
    assert center.vm_class('gpu-class') is None
