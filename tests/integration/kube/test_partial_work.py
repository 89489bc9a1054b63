"""Issue 18, partial work of k8s_gpu_node reported as it is.

- A 500 from the API server on the second node's label write: the first node's labels, written by this run, are put
  back (the audit log shows the undo), and the result says what was undone.
- The API server goes away while the module waits for the GPU Operator: the module fails with ``changed: true``, names
  the nodes it labelled and says that the outcome on them is unknown (the labels were written).
"""
import json
import os
import signal
import textwrap
import threading
import time

from tests.emulators.kube.world import load_state

LABEL = 'nvidia.com/gpu.workload.config'


def play(task):
    return textwrap.dedent('''\
        - hosts: localhost
          gather_facts: false
          tasks:
            - {task}
              register: out
              ignore_errors: true
            - name: save results
              ansible.builtin.copy:
                content: "{{{{ out | to_json }}}}"
                dest: "{{{{ result_file }}}}"
                mode: "0600"
        ''').format(task=task)


def node_labels(kube, name):
    from kubernetes import client  # pylint: disable=import-outside-toplevel
    return client.CoreV1Api(kube.client()).read_node(name).metadata.labels or {}


def test_a_500_on_the_second_node_puts_the_first_nodes_labels_back(kube, playbook):
    before = dict((name, node_labels(kube, name).get(LABEL)) for name in ('gpu-1', 'gpu-2'))
    assert before['gpu-1'] != 'vm-passthrough'
    kube.control.inject_failure('PATCH', '/api/v1/nodes/gpu-2', status=500, message='etcd is unavailable')
    task = 'gpuvirt.core.k8s_gpu_node: {"nodes": ["gpu-1", "gpu-2"], "workload": "vm-passthrough"}'
    run = playbook(play(task), kube)
    out = run.results
    assert out['failed'] is True and out['changed'] is False, out['msg']
    assert 'Node/gpu-2' in out['msg'] and 'etcd is unavailable' in out['msg'], out['msg']
    assert 'undone' in out['msg'] and out['state_restored'] is True, out['msg']
    assert [c['target'] for c in out['undone']] == ['Node/gpu-1'] and out['applied'] == []
    assert 'Traceback' not in run.output and 'MODULE FAILURE' not in run.output
    after = dict((name, node_labels(kube, name).get(LABEL)) for name in ('gpu-1', 'gpu-2'))
    assert after == before
    patches = [r['path'] for r in kube.control.writes() if r['verb'] == 'patch']
    assert patches[:2] == ['/api/v1/nodes/gpu-1', '/api/v1/nodes/gpu-2'] and patches[-1] == '/api/v1/nodes/gpu-1', patches


def test_api_server_gone_while_waiting_reports_the_written_labels_and_an_unknown_outcome(kube_factory, playbook):
    world = kube_factory(extra=['--delay', '60'])  # vgpu-device-manager stays pending: the module keeps waiting
    task = ('gpuvirt.core.k8s_gpu_node: {"nodes": ["gpu-1"], "workload": "vm-vgpu", "vgpu_config": "A10-4Q", "wait": true, '
            '"wait_timeout": 120, "wait_sleep": 0.2, "request_timeout": 5}')
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(run=playbook(play(task), world)))
    runner.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and node_labels(world, 'gpu-1').get('nvidia.com/vgpu.config') != 'A10-4Q':
        time.sleep(0.2)
    assert node_labels(world, 'gpu-1').get('nvidia.com/vgpu.config') == 'A10-4Q'
    time.sleep(1.0)  # the module is in its wait loop now
    os.kill(load_state(world.port)['pids']['kube-apiserver'], signal.SIGKILL)  # this test's own world only
    runner.join(180)
    assert not runner.is_alive()
    run = outcome['run']
    out = run.results
    assert out['failed'] is True and out['changed'] is True, json.dumps(out)[:800]
    assert out['nodes_changed'] == ['gpu-1'] and out['outcome_unknown'] == ['gpu-1']
    assert 'labels written on node(s) gpu-1' in out['msg'] and 'unknown' in out['msg'], out['msg']
    assert [c['target'] for c in out['changes']] == ['Node/gpu-1']
    assert 'Traceback' not in run.output and 'MODULE FAILURE' not in run.output
