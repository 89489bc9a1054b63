"""The one ``playbook`` fixture of the integration tests: real ``ansible-playbook`` runs, and :class:`PlaybookRun`,
what a run gives back.

``playbook(play, world=None, **options)`` (the world may also come first: ``playbook(sim, tasks)``):

- ``play`` is a list of task dicts (one play on localhost, facts not gathered), YAML text, or the path of a playbook;
- ``world`` is what the run is pointed at (a Kubernetes test world, a vcsim-gpu; anything with ``connection_env``):
  its connection variables go into the run's environment, and the caller's own ``K8S_AUTH_*``/``VMWARE_*`` never do;
- options: ``check``, ``diff``, ``verbosity``, ``extra_vars`` (a dict, passed as a JSON file), ``env`` (more
  environment), ``inventory`` (default: localhost only, local connection), ``connection=False`` (leave the world's
  connection variables out), ``expect_rc`` (fail unless the run exits so), and how results come back:
  ``callback='json'`` (the ansible.posix.json callback: every task's result by name, the stats; stdout is JSON) or
  ``callback='default'`` (text output for the test to read; results are what the play saves as JSON to the path in
  the ``result_file`` variable, which every run gets), and ``register_all=True`` (a list of tasks only: each task
  registers its result under its name, ignores errors, and a last task saves them all to ``result_file``).

Each area sets its usual options in its conftest's ``playbook_defaults`` fixture (the host tests read the json
callback, the vSphere tests register every task, ...); a call's own options win. The run's files (play, variables,
results, ANSIBLE_HOME, temporary files) live in ``<tmp_path>/ansible-playbook``, the command runs there.
"""
import json
import os
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(REPO, '.build', 'collections')
VENV_BIN = os.path.dirname(sys.executable)
# Not a test threshold: only how long a hung ansible-playbook may take before the test fails instead of hanging.
RUN_TIMEOUT = 600
OPTIONS = {'check': False, 'diff': False, 'verbosity': 0, 'extra_vars': None, 'env': None, 'inventory': None,
           'connection': True, 'expect_rc': None, 'callback': 'default', 'register_all': False}


class PlaybookRun(object):
    """One ansible-playbook run.

    ``rc``, ``stdout``, ``stderr``, ``output`` (both); ``results``: {name: result} (the json callback's task results
    on localhost by task name, or what the play saved to ``result_file``); ``run[name]`` is ``results[name]``;
    ``result(task, host)``: a task's result on a host; ``json`` and ``stats``: the json callback's document and its
    per-host stats (None and {} with the default callback)."""

    def __init__(self, completed, results=None, json_output=False):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.json = None
        self.stats = {}
        self.results = dict(results or {})
        if json_output:
            start = self.stdout.find('{')
            try:
                self.json = json.loads(self.stdout[start:]) if start >= 0 else None
            except ValueError:
                self.json = None
            if self.json is None:
                raise AssertionError('ansible-playbook printed no JSON (rc %d): %s %s' % (self.rc, self.stdout[-3000:], self.stderr[-3000:]))
            self.stats = self.json['stats']
            for play in self.json['plays']:
                for task in play['tasks']:
                    if 'localhost' in task['hosts']:
                        self.results[task['task']['name']] = task['hosts']['localhost']

    @property
    def output(self):
        return self.stdout + self.stderr

    def __getitem__(self, name):
        return self.results[name]

    def result(self, task_name, host='localhost'):
        """The result of the task named ``task_name`` on ``host`` (from the last play that ran it)."""
        if self.json is None:
            assert host == 'localhost', 'only localhost results without the json callback'
            assert task_name in self.results, 'no result named %r:\n%s' % (task_name, self.output)
            return self.results[task_name]
        found = None
        for play in self.json['plays']:
            for task in play['tasks']:
                if task['task']['name'] == task_name and host in task['hosts']:
                    found = task['hosts'][host]
        assert found is not None, 'task %r did not run on %s:\n%s' % (task_name, host, self.output)
        return found


def _register_all(tasks, result_file):
    """Each task registers its result under its name (``t<index>`` without one) and ignores errors; a last task saves
    the registered results as JSON."""
    play_tasks, names = [], []
    for index, task in enumerate(tasks):
        task = dict(task)
        name = task.pop('name', 't%d' % index)
        names.append(name)
        task.update(register='r_%s' % name.replace('-', '_'), ignore_errors=True)
        play_tasks.append(task)
    saved = dict((n, '{{ r_%s | default(None) }}' % n.replace('-', '_')) for n in names)
    play_tasks.append({'name': 'save results', 'ansible.builtin.copy': {'content': '{{ saved | to_json }}', 'dest': result_file},
                       'vars': {'saved': saved}, 'check_mode': False, 'diff': False})
    return play_tasks


class Playbook(object):
    """Runs ansible-playbook for the ``playbook`` fixture (see the module's docstring)."""

    def __init__(self, workdir, defaults=None):
        self.workdir = str(workdir)
        self.defaults = dict(OPTIONS, **(defaults or {}))
        self.count = 0

    def _environment(self, world, options):
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith(('K8S_AUTH_', 'VMWARE_')))
        paths = [COLLECTIONS] + [p for p in env.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) if p and p != COLLECTIONS]
        env.update({
            'ANSIBLE_COLLECTIONS_PATH': os.pathsep.join(paths), 'ANSIBLE_HOME': os.path.join(self.workdir, 'ansible-home'),
            'ANSIBLE_LOCAL_TEMP': os.path.join(self.workdir, 'ansible-local'),
            'ANSIBLE_REMOTE_TEMP': os.path.join(self.workdir, 'ansible-remote'),
            'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_FORCE_COLOR': '0', 'ANSIBLE_NOCOWS': '1', 'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_LOCALHOST_WARNING': '0', 'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0', 'ANSIBLE_HOST_KEY_CHECKING': '0',
            'ANSIBLE_SSH_RETRIES': '0', 'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
            'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json' if options['callback'] == 'json' else 'default',
            'PATH': VENV_BIN + os.pathsep + env.get('PATH', ''),
        })
        if world is not None and options['connection']:
            env.update(world.connection_env)
        env.update(self.defaults['env'] or {})
        env.update(options['env'] or {})
        return env

    def _playbook_file(self, play, options, result_file):
        if isinstance(play, (list, tuple)):
            tasks = _register_all(play, result_file) if options['register_all'] else list(play)
            play = yaml.safe_dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}], sort_keys=False)
        elif options['register_all']:
            raise AssertionError('register_all needs a list of tasks')
        elif os.path.isfile(str(play)):
            return str(play)
        path = os.path.join(self.workdir, 'play-%d.yml' % self.count)
        with open(path, 'w') as handle:
            handle.write(play)
        return path

    def __call__(self, *args, **kwargs):
        unknown = set(kwargs) - set(OPTIONS) - {'world'}
        assert not unknown, 'unknown playbook options: %s' % sorted(unknown)
        assert 1 <= len(args) <= 2, 'playbook(play, world=None, ...) or playbook(world, play, ...)'
        world = kwargs.pop('world', None)
        if len(args) == 2:
            play, world = args if isinstance(args[0], (list, tuple, str, os.PathLike)) else reversed(args)
        else:
            play = args[0]
        options = dict(self.defaults, **kwargs)
        os.makedirs(self.workdir, exist_ok=True)
        self.count += 1
        result_file = os.path.join(self.workdir, 'results-%d.json' % self.count)
        command = [os.path.join(VENV_BIN, 'ansible-playbook'), self._playbook_file(play, options, result_file)]
        command += ['-i', options['inventory']] if options['inventory'] else ['-i', 'localhost,', '-c', 'local']
        vars_file = os.path.join(self.workdir, 'vars-%d.json' % self.count)
        with open(vars_file, 'w') as handle:
            json.dump(dict(options['extra_vars'] or {}, result_file=result_file), handle)
        command += ['-e', '@' + vars_file]
        if options['check']:
            command.append('--check')
        if options['diff']:
            command.append('--diff')
        if options['verbosity']:
            command.append('-' + 'v' * options['verbosity'])
        completed = subprocess.run(command, cwd=self.workdir, env=self._environment(world, options), capture_output=True,
                                   text=True, timeout=RUN_TIMEOUT, check=False)
        results = None
        if os.path.exists(result_file):
            with open(result_file) as handle:
                results = json.load(handle)
        if options['register_all'] and not results:
            raise AssertionError('ansible-playbook did not save results (rc %d):\n%s\n%s' % (completed.returncode, completed.stdout, completed.stderr))
        run = PlaybookRun(completed, results, json_output=options['callback'] == 'json')
        if options['expect_rc'] is not None:
            assert run.rc == options['expect_rc'], 'ansible-playbook exited %d (expected %d):\n%s' % (run.rc, options['expect_rc'], run.output)
        return run


@pytest.fixture
def playbook_defaults():
    """The options every ``playbook`` call of an area starts from; an area's conftest overrides this fixture."""
    return {}


@pytest.fixture
def playbook(tmp_path, playbook_defaults):  # pylint: disable=redefined-outer-name
    """Run ansible-playbook for real; see the module's docstring. Returns a :class:`PlaybookRun`."""
    return Playbook(tmp_path / 'ansible-playbook', playbook_defaults)
