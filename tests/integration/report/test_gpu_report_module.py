"""gpuvirt.core.gpu_report through real ansible-playbook runs: writes, reruns without change, check mode, diff,
clear refusals, and a result whose summary is the model's."""
import hashlib
import os

import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils.report import build, render_html, render_markdown

HERE = os.path.dirname(os.path.abspath(__file__))
RENDER = os.path.join(HERE, 'playbooks', 'render.yml')
TASK = 'Write the report'

pytestmark = pytest.mark.integration


def read(path):
    with open(path, 'rb') as handle:
        return handle.read()


def test_writes_then_reruns_unchanged(playbook, lab_facts, tmp_path):
    dest, markdown = str(tmp_path / 'gpu.html'), str(tmp_path / 'gpu.md')
    run = playbook(RENDER, extra_vars={'facts': lab_facts, 'dest': dest, 'markdown_dest': markdown})
    result = run.result(TASK)
    assert result['changed'] is True and run.stats['localhost']['changed'] == 1
    assert [c['action'] for c in result['changes']] == ['write', 'write']
    model = build(lab_facts)
    assert read(dest) == render_html(model).encode('utf-8')
    assert read(markdown) == render_markdown(model).encode('utf-8')
    assert result['summary'] == model['summary']
    assert result['dest'] == dest and result['markdown_dest'] == markdown
    assert result['failed_hosts'] == [{'site': 'KVM hosts', 'host': 'kvm-2',
                                       'error': 'unreachable: Failed to connect to the host via ssh: ssh: connect to host kvm-2 port 22: Connection refused'}]
    before = os.stat(dest).st_mtime_ns, os.stat(markdown).st_mtime_ns

    again = playbook(RENDER, extra_vars={'facts': lab_facts, 'dest': dest, 'markdown_dest': markdown})
    assert again.result(TASK)['changed'] is False and again.stats['localhost']['changed'] == 0
    assert again.result(TASK)['changes'] == []
    assert (os.stat(dest).st_mtime_ns, os.stat(markdown).st_mtime_ns) == before


def test_check_mode_and_diff_write_nothing(playbook, lab_facts, tmp_path):
    dest = str(tmp_path / 'gpu.html')
    playbook(RENDER, extra_vars={'facts': lab_facts, 'dest': dest})
    old = read(dest)
    run = playbook(RENDER, extra_vars={'facts': lab_facts, 'dest': dest, 'title': 'Lab GPUs'}, check=True, diff=True)
    result = run.result(TASK)
    assert result['changed'] is True
    assert result['changes'] == [{'action': 'update', 'target': dest, 'bytes': len(render_html(build(lab_facts), 'Lab GPUs').encode('utf-8'))}]
    new = render_html(build(lab_facts), 'Lab GPUs').encode('utf-8')
    assert result['diff'] == {'before': {dest: {'path': dest, 'sha1': hashlib.sha1(old).hexdigest(), 'bytes': len(old)}},
                              'after': {dest: {'path': dest, 'sha1': hashlib.sha1(new).hexdigest(), 'bytes': len(new)}}}
    assert read(dest) == old
    missing = str(tmp_path / 'not-yet.md')
    run = playbook(RENDER, extra_vars={'facts': {}, 'markdown_dest': missing}, check=True)
    assert run.result(TASK)['changed'] is True and not os.path.exists(missing)


def test_timestamp_is_opt_in(playbook, tmp_path):
    dest = str(tmp_path / 'gpu.html')
    playbook(RENDER, extra_vars={'facts': {}, 'dest': dest, 'timestamp': '2026-11-22 06:00 UTC'})
    assert b'Generated 2026-11-22 06:00 UTC' in read(dest)
    run = playbook(RENDER, extra_vars={'facts': {}, 'dest': dest})
    assert run.result(TASK)['changed'] is True and b'Generated' not in read(dest)


@pytest.mark.parametrize('case, expected', [
    ('missing-dir', 'directory {tmp}/nowhere does not exist; create it first'),
    ('is-dir', '{tmp} is a directory: give a file name for the report'),
    ('same-file', 'dest and markdown_dest are the same file'),
    ('no-dest', 'one of the following is required: dest, markdown_dest'),
    ('bad-hosts', "argument 'hosts' is of type str and we were unable to convert to dict"),
])
def test_refusals_are_clear_and_write_nothing(playbook, tmp_path, case, expected):
    tmp = str(tmp_path)
    extra = {
        'missing-dir': {'facts': {}, 'dest': os.path.join(tmp, 'nowhere', 'gpu.html')},
        'is-dir': {'facts': {}, 'dest': tmp},
        'same-file': {'facts': {}, 'dest': os.path.join(tmp, 'r'), 'markdown_dest': os.path.join(tmp, 'r')},
        'no-dest': {'facts': {}},
        'bad-hosts': {'facts': {'hosts': 'kvm-1'}, 'dest': os.path.join(tmp, 'gpu.html')},
    }[case]
    before = sorted(os.listdir(tmp))
    run = playbook(RENDER, extra_vars=extra, expect_rc=2)
    result = run.result(TASK)
    assert result['failed'] is True
    assert expected.format(tmp=tmp) in result['msg']
    assert 'Traceback' not in run.output
    assert sorted(p for p in os.listdir(tmp) if not p.startswith(('vars-', 'ansible-'))) == [p for p in before if not p.startswith(('vars-', 'ansible-'))]
