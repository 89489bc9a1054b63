"""`make demo`'s lab playbook run the way AWX runs a job: scripts/demo.sh with GPUVIRT_LAB_RUNNER_DIR runs the lab's
first run through ansible-runner (tests/integration/awx/runner_job.py: ``ansible_runner.run`` with a private data
dir), the second with ansible-playbook (it must change nothing, as in `make demo`). The job succeeds; no job event's
``event_data.res`` or stdout holds the licence token, the vCenter password, the registry password or the NGC API key,
plain or base64 (alone or as the ``user:password`` pair a pull secret encodes); the ``changed`` results in the
events (a no_log task's censored result: by its items' events) add up to the stats event and to the PLAY RECAP.
Takes about as long as `make demo` (3 minutes on 2 cores)."""
import base64
import json
import os
import re
import subprocess
import sys

import pytest

from tests.emulators.vcsim.vcsim_gpu import PASSWORD as VCENTER_PASSWORD

pytestmark = pytest.mark.integration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SECRETS = {'licence token': 'lab-nls-token-7d1c5e0a9b', 'NGC API key': 'lab-ngc-key-3f8e2a61c4',
           'registry password': 'lab-registry-pw-91b0d7e2f5', 'vCenter password': VCENTER_PASSWORD}
USERS = {'NGC API key': '$oauthtoken', 'registry password': 'lab-robot'}


def forms(name, secret):
    """The secret as it could leak: plain, base64, and base64 of ``user:secret`` (a dockerconfigjson ``auth``)."""
    found = [secret, base64.b64encode(secret.encode()).decode()]
    if name in USERS:
        found.append(base64.b64encode(('%s:%s' % (USERS[name], secret)).encode()).decode())
    return found


@pytest.fixture(scope='module')
def job(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp('awx-job')
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH'],
               GPU_REPORT_DIR=str(data_dir / 'report'), GPUVIRT_LAB_RUNNER_DIR=str(data_dir / 'private'),
               GPUVIRT_LAB_TOKEN=SECRETS['licence token'], GPUVIRT_LAB_NGC_API_KEY=SECRETS['NGC API key'],
               GPUVIRT_LAB_REGISTRY_PASSWORD=SECRETS['registry password'])
    proc = subprocess.run(['bash', os.path.join(REPO, 'scripts', 'demo.sh')], cwd=REPO, env=env, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout[-6000:]
    artifacts = data_dir / 'private' / 'artifacts' / 'job'
    events = []
    for path in (artifacts / 'job_events').iterdir():
        with open(str(path)) as handle:
            events.append(json.load(handle))
    return {'demo': proc.stdout, 'artifacts': artifacts, 'events': sorted(events, key=lambda e: e['counter'])}


def test_the_job_succeeds_and_the_second_run_changes_nothing(job):
    assert (job['artifacts'] / 'status').read_text() == 'successful'
    assert (job['artifacts'] / 'rc').read_text() == '0'
    assert job['events'][0]['event'] == 'playbook_on_start' and job['events'][-1]['event'] == 'playbook_on_stats'
    second = job['demo'].split('=== 3.2 ')[1].split('=== 4.')[0]
    assert sorted(re.findall(r'^(\S+) +: ok=\d+ +changed=0 ', second, re.M)) == ['kvm-1', 'localhost']


def test_no_event_holds_a_secret(job):
    assert len(job['events']) > 100
    for event in job['events']:
        res = json.dumps((event.get('event_data') or {}).get('res'), ensure_ascii=False)
        text = res + '\n' + (event.get('stdout') or '')
        for name, secret in SECRETS.items():
            for form in forms(name, secret):
                assert form not in text, '%s (%s) in job event %d (%s)' % (name, form, event['counter'], event['event'])
    # the secrets were used: the pull secrets and the licence were created in the job
    tasks = [e['event_data'].get('task') for e in job['events'] if e['event'] == 'runner_on_ok']
    assert 'Create the image pull secrets' in tasks


def test_changed_results_in_the_events_add_up_to_the_stats_and_the_recap(job):
    events = job['events']
    # a no_log task's result is censored, 'changed' included; the status its events print (changed: / ok:) is not
    printed = set((e['event_data']['task_uuid'], e['event_data']['host']) for e in events
                  if e['event'] in ('runner_on_ok', 'runner_item_on_ok') and e['stdout'].lstrip().startswith('changed:'))
    changed = {}
    for event in events:
        data = event['event_data']
        if event['event'] != 'runner_on_ok':
            continue
        if data['res'].get('changed') or 'censored' in data['res'] and (data['task_uuid'], data['host']) in printed:
            changed[data['host']] = changed.get(data['host'], 0) + 1
    stats = events[-1]['event_data']
    assert stats['changed'] == changed
    assert changed['localhost'] > 0 and changed['kvm-1'] > 0
    stdout = ''.join(e.get('stdout', '') + '\n' for e in events)
    recap = dict((h, int(c)) for h, c in re.findall(r'^(\S+) +: ok=\d+ +changed=(\d+) ', stdout, re.M))
    assert recap == changed
    # the job's stdout is what the demo printed for run 1
    first = job['demo'].split('=== 3.1 ')[1].split('=== 3.2 ')[0]
    assert dict((h, int(c)) for h, c in re.findall(r'^(\S+) +: ok=\d+ +changed=(\d+) ', first, re.M)) == changed
