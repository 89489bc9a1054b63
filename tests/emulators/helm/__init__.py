"""helm test double for gpuvirt.core tests and the demo; see README.md in this folder.

:class:`HelmDouble` is what tests use: the environment that puts the double on PATH with its own state, the
calls it received and the releases it recorded.
"""
import json
import os

from . import repos, store
from .charts import CHART_VERSIONS

BIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'bin')
NVIDIA_REPO_URL = 'https://helm.ngc.nvidia.com/nvidia'


class HelmDouble(object):
    """A state directory for the helm double, published with the NVIDIA chart repository."""

    def __init__(self, state, versions=CHART_VERSIONS, url=NVIDIA_REPO_URL):
        self.state = os.path.abspath(state)
        os.makedirs(self.state, exist_ok=True)
        previous = os.environ.get(store.STATE_ENV)
        os.environ[store.STATE_ENV] = self.state
        try:
            repos.publish(url, versions)
        finally:
            if previous is None:
                del os.environ[store.STATE_ENV]
            else:
                os.environ[store.STATE_ENV] = previous

    def env(self, base=None):
        """``base`` (default: os.environ) with the double first on PATH and its state directory set."""
        env = dict(os.environ if base is None else base)
        env['PATH'] = BIN_DIR + os.pathsep + env.get('PATH', '')
        env[store.STATE_ENV] = self.state
        return env

    def publish(self, url, versions=CHART_VERSIONS, username=None, password=None):
        env = dict(os.environ)
        os.environ[store.STATE_ENV] = self.state
        try:
            return repos.publish(url, versions, username, password)
        finally:
            os.environ.clear()
            os.environ.update(env)

    def calls(self):
        """Every invocation so far: {argv, env, rc}."""
        return store.read_calls(self.state)

    def releases(self):
        """Every recorded release revision, as {cluster/namespace/name: [revisions]}."""
        found = {}
        root = os.path.join(self.state, 'releases')
        for directory, _dirs, files in os.walk(root):
            for name in files:
                if name.endswith('.json'):
                    with open(os.path.join(directory, name)) as stream:
                        found[os.path.relpath(os.path.join(directory, name[:-5]), root)] = json.load(stream)
        return found
