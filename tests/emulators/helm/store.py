"""Where the helm double keeps its state, under ``$GPUVIRT_HELM_STATE``:

- ``releases/<cluster>/<namespace>/<name>.json``: every revision of a release (helm keeps them as Secrets
  ``sh.helm.release.v1.<name>.v<N>`` in the release namespace; the double keeps them per API server URL);
- ``remote/<url-key>/``: the chart repositories the double answers for (``index.yaml``, chart archives,
  ``repo.json`` with the URL and, for a private repository, the SHA-256 of the password it accepts);
- ``calls.jsonl``: one line per invocation (argv, the helm environment variables, exit code) for tests;
- ``config/`` and ``cache/``: helm's repositories.yaml and index cache when ``HELM_REPOSITORY_CONFIG`` /
  ``HELM_REPOSITORY_CACHE`` (or ``HELM_CONFIG_HOME`` / ``HELM_CACHE_HOME``) are not set, so a test never
  touches the user's own helm configuration.
"""
import datetime
import hashlib
import json
import os
import re

STATE_ENV = 'GPUVIRT_HELM_STATE'


class StateError(Exception):
    pass


def state_dir():
    path = os.environ.get(STATE_ENV)
    if not path:
        raise StateError('%s is not set: the helm test double needs a state directory '
                         '(python -m tests.emulators.helm init --state DIR prints the settings)' % STATE_ENV)
    os.makedirs(path, exist_ok=True)
    return path


def url_key(url):
    return hashlib.sha1(url.rstrip('/').encode()).hexdigest()[:16]


def now():
    stamp = datetime.datetime.now(tz=datetime.timezone.utc)
    return stamp.strftime('%Y-%m-%d %H:%M:%S.%f') + '000 +0000 UTC'


def repository_config():
    if os.environ.get('HELM_REPOSITORY_CONFIG'):
        return os.environ['HELM_REPOSITORY_CONFIG']
    base = os.environ.get('HELM_CONFIG_HOME') or os.path.join(state_dir(), 'config')
    return os.path.join(base, 'repositories.yaml')


def repository_cache():
    if os.environ.get('HELM_REPOSITORY_CACHE'):
        return os.environ['HELM_REPOSITORY_CACHE']
    base = os.environ.get('HELM_CACHE_HOME') or os.path.join(state_dir(), 'cache')
    return os.path.join(base, 'repository')


def remote_dir(url):
    return os.path.join(state_dir(), 'remote', url_key(url))


def log_call(argv, rc):
    names = ('KUBECONFIG', 'HELM_NAMESPACE', 'HELM_KUBECONTEXT', 'HELM_KUBEAPISERVER', 'HELM_REPOSITORY_CONFIG',
             'HELM_REPOSITORY_CACHE')
    entry = {'argv': list(argv), 'env': {n: os.environ[n] for n in names if n in os.environ}, 'rc': rc}
    with open(os.path.join(state_dir(), 'calls.jsonl'), 'a') as stream:
        stream.write(json.dumps(entry) + '\n')


def read_calls(path):
    calls = []
    target = os.path.join(path, 'calls.jsonl')
    if os.path.exists(target):
        with open(target) as stream:
            calls = [json.loads(line) for line in stream if line.strip()]
    return calls


class Releases(object):
    """Release history of one cluster (keyed by its API server URL)."""

    def __init__(self, server):
        self.root = os.path.join(state_dir(), 'releases', re.sub(r'[^A-Za-z0-9]+', '_', server).strip('_'))

    def _path(self, namespace, name):
        return os.path.join(self.root, namespace, name + '.json')

    def history(self, namespace, name):
        try:
            with open(self._path(namespace, name)) as stream:
                return json.load(stream)
        except OSError:
            return []

    def save(self, namespace, name, revisions):
        path = self._path(namespace, name)
        if not revisions:
            if os.path.exists(path):
                os.unlink(path)
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + '.tmp'
        with open(tmp, 'w') as stream:
            json.dump(revisions, stream, indent=1, sort_keys=True)
        os.replace(tmp, path)

    def latest(self, namespace, name):
        revisions = self.history(namespace, name)
        return revisions[-1] if revisions else None

    def all_latest(self, namespace=None):
        """The latest revision of every release (in ``namespace``, or everywhere when None)."""
        found = []
        if not os.path.isdir(self.root):
            return found
        for ns in sorted(os.listdir(self.root)):
            if namespace is not None and ns != namespace:
                continue
            for file_name in sorted(os.listdir(os.path.join(self.root, ns))):
                if file_name.endswith('.json'):
                    latest = self.latest(ns, file_name[:-5])
                    if latest is not None:
                        found.append(latest)
        return found
