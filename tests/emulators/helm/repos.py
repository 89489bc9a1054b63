"""Chart repositories and chart lookup, as helm does them.

There is no network: a repository URL is served by the double when it was published into its state
(``python -m tests.emulators.helm publish``); any other URL fails like an unresolvable host. A published
repository may require credentials (seed 004: the NGC ``nvaie`` repository answers 401 without them).

- ``helm repo add NAME URL [--username U --password P] [--force-update]`` fetches ``index.yaml`` (checking
  credentials) and records the repository in repositories.yaml (password included, as helm does);
- ``helm repo update`` refreshes ``<cache>/<name>-index.yaml`` for every repository;
- a chart reference is ``REPO/NAME`` (needs the cached index), ``NAME --repo URL`` (fetched directly), or a
  path to a chart archive or directory (air-gapped installs); ``--version`` picks a version, the newest
  non-prerelease otherwise.
"""
import hashlib
import json
import os
import shutil
import urllib.parse

import yaml

from . import charts, store


class RepoError(Exception):
    pass


def _normalise(version):
    return str(version).lstrip('v')


def _semver_key(version):
    core = _normalise(version).split('-', maxsplit=1)[0].split('+', maxsplit=1)[0]
    return tuple(int(p) if p.isdigit() else 0 for p in core.split('.'))


def publish(url, versions, username=None, password=None):
    """Make the double answer for ``url`` with gpu-operator ``versions`` (optionally behind credentials)."""
    directory = store.remote_dir(url)
    os.makedirs(directory, exist_ok=True)
    entries = []
    for version in versions:
        path = charts.package(version, directory)
        with open(path, 'rb') as stream:
            digest = hashlib.sha256(stream.read()).hexdigest()
        meta = charts.chart_metadata(version)
        entries.append(dict(meta, urls=[os.path.basename(path)], digest=digest, created='2026-01-15T10:00:00Z'))
    entries.sort(key=lambda e: _semver_key(e['version']), reverse=True)
    index = {'apiVersion': 'v1', 'entries': {charts.CHART_NAME: entries}, 'generated': '2026-01-15T10:00:00Z'}
    with open(os.path.join(directory, 'index.yaml'), 'w') as stream:
        yaml.safe_dump(index, stream, sort_keys=False)
    auth = {'url': url.rstrip('/')}
    if password is not None:
        auth.update(username=username or '', password_sha256=hashlib.sha256(password.encode()).hexdigest())
    with open(os.path.join(directory, 'repo.json'), 'w') as stream:
        json.dump(auth, stream)
    return directory


def _remote(url, username=None, password=None):
    """The published directory for ``url`` after the credential check (RepoError with helm's words)."""
    directory = store.remote_dir(url)
    index_url = url.rstrip('/') + '/index.yaml'
    if not os.path.exists(os.path.join(directory, 'repo.json')):
        host = urllib.parse.urlsplit(url).hostname or url
        raise RepoError('looks like "%s" is not a valid chart repository or cannot be reached: Get "%s": dial tcp: '
                        'lookup %s: no such host' % (url, index_url, host))
    with open(os.path.join(directory, 'repo.json')) as stream:
        auth = json.load(stream)
    if auth.get('password_sha256'):
        given = hashlib.sha256((password or '').encode()).hexdigest()
        if username != auth.get('username') or given != auth['password_sha256']:
            raise RepoError('looks like "%s" is not a valid chart repository or cannot be reached: failed to fetch %s : '
                            '401 Unauthorized' % (url, index_url))
    return directory


def _load_config():
    path = store.repository_config()
    try:
        with open(path) as stream:
            config = yaml.safe_load(stream) or {}
    except OSError:
        config = {}
    config.setdefault('apiVersion', '')
    config.setdefault('generated', '0001-01-01T00:00:00Z')
    config['repositories'] = config.get('repositories') or []
    return path, config


def _save_config(path, config):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as stream:
        yaml.safe_dump(config, stream, sort_keys=False)


def repositories():
    return _load_config()[1]['repositories']


def add(name, url, username=None, password=None, force_update=False, pass_credentials=False, insecure=False):
    """Returns the message helm prints; RepoError on failure."""
    path, config = _load_config()
    entry = {'name': name, 'url': url.rstrip('/'), 'username': username or '', 'password': password or '',
             'certFile': '', 'keyFile': '', 'caFile': '', 'insecure_skip_tls_verify': bool(insecure),
             'pass_credentials_all': bool(pass_credentials)}
    existing = next((r for r in config['repositories'] if r['name'] == name), None)
    if existing is not None and not force_update:
        if existing == entry:
            return '"%s" already exists with the same configuration, skipping' % name
        raise RepoError('repository name (%s) already exists, please specify a different name' % name)
    directory = _remote(url, username, password)
    _cache_index(name, directory)
    config['repositories'] = [r for r in config['repositories'] if r['name'] != name] + [entry]
    _save_config(path, config)
    return '"%s" has been added to your repositories' % name


def remove(names):
    path, config = _load_config()
    lines = []
    for name in names:
        if not any(r['name'] == name for r in config['repositories']):
            raise RepoError('no repo named "%s" found' % name)
        config['repositories'] = [r for r in config['repositories'] if r['name'] != name]
        cached = os.path.join(store.repository_cache(), '%s-index.yaml' % name)
        if os.path.exists(cached):
            os.unlink(cached)
        lines.append('"%s" has been removed from your repositories' % name)
    _save_config(path, config)
    return '\n'.join(lines)


def _cache_index(name, directory):
    cache = store.repository_cache()
    os.makedirs(cache, exist_ok=True)
    shutil.copy(os.path.join(directory, 'index.yaml'), os.path.join(cache, '%s-index.yaml' % name))


def update(names=None):
    repos = repositories()
    if not repos:
        raise RepoError('no repositories found. You must add one before updating')
    lines = ['Hang tight while we grab the latest from your chart repositories...']
    failed = []
    for repo in repos:
        if names and repo['name'] not in names:
            continue
        try:
            _cache_index(repo['name'], _remote(repo['url'], repo.get('username'), repo.get('password')))
            lines.append('...Successfully got an update from the "%s" chart repository' % repo['name'])
        except RepoError as exc:
            lines.append('...Unable to get an update from the "%s" chart repository (%s):\n\t%s' % (repo['name'], repo['url'], exc))
            failed.append(repo['name'])
    if failed:
        raise RepoError('\n'.join(lines) + '\nFailed to update the following repositories: [%s]' % ' '.join(repo_url_list(failed)))
    lines.append('Update Complete. \u2388Happy Helming!\u2388')
    return '\n'.join(lines)


def repo_url_list(names):
    return [r['url'] for r in repositories() if r['name'] in names]


def _pick(entries, chart_name, version, where):
    if not entries:
        raise RepoError('chart "%s" not found in %s' % (chart_name, where))
    if version:
        found = [e for e in entries if _normalise(e['version']) == _normalise(version)]
        if not found:
            raise RepoError('chart "%s" matching %s not found in %s. (try \'helm repo update\'): no chart version found '
                            'for %s-%s' % (chart_name, version, where, chart_name, version))
        return found[0]
    stable = [e for e in entries if '-' not in _normalise(e['version'])]
    return sorted(stable or entries, key=lambda e: _semver_key(e['version']))[-1]


def search(term, versions=False):
    """``helm search repo TERM [--versions]``: rows of (name, version, app version, description)."""
    rows = []
    for repo in repositories():
        cached = os.path.join(store.repository_cache(), '%s-index.yaml' % repo['name'])
        if not os.path.exists(cached):
            continue
        with open(cached) as stream:
            index = yaml.safe_load(stream) or {}
        for chart_name, entries in sorted((index.get('entries') or {}).items()):
            full = '%s/%s' % (repo['name'], chart_name)
            if term and term.lower() not in full.lower():
                continue
            ordered = sorted(entries, key=lambda e: _semver_key(e['version']), reverse=True)
            for entry in ordered if versions else ordered[:1]:
                rows.append((full, entry['version'], entry.get('appVersion', ''), entry.get('description', '')))
    return rows


def locate(ref, version=None, repo_url=None, username=None, password=None):
    """The chart archive or directory for ``ref`` (helm's LocateChart); RepoError/ValueError with helm's words."""
    if repo_url:
        directory = _remote(repo_url, username, password)
        with open(os.path.join(directory, 'index.yaml')) as stream:
            index = yaml.safe_load(stream)
        entry = _pick(index['entries'].get(ref), ref, version, 'repository %s' % repo_url)
        return os.path.join(directory, entry['urls'][0])
    if os.path.exists(ref):
        if version and os.path.isfile(ref):
            chart = charts.Chart.load(ref)
            if _normalise(chart.version) != _normalise(version):
                raise RepoError('chart "%s" version "%s" does not match --version %s' % (ref, chart.version, version))
        return ref
    if ref.startswith(('/', './', '../')) or ref.endswith('.tgz'):
        raise RepoError('path "%s" not found' % ref)
    if '/' not in ref:
        raise RepoError('non-absolute URLs should be in form of repo_name/path_to_chart, got: %s' % ref)
    repo_name, chart_name = ref.split('/', 1)
    repo = next((r for r in repositories() if r['name'] == repo_name), None)
    if repo is None:
        raise RepoError('repo %s not found' % repo_name)
    cached = os.path.join(store.repository_cache(), '%s-index.yaml' % repo_name)
    if not os.path.exists(cached):
        raise RepoError("no cached repo found. (try 'helm repo update'): open %s: no such file or directory" % cached)
    with open(cached) as stream:
        index = yaml.safe_load(stream) or {}
    entry = _pick((index.get('entries') or {}).get(chart_name), chart_name, version, '%s index' % repo_name)
    directory = _remote(repo['url'], repo.get('username'), repo.get('password'))
    archive = os.path.join(directory, entry['urls'][0])
    if not os.path.exists(archive):
        raise RepoError('failed to fetch %s/%s : 404 Not Found' % (repo['url'], entry['urls'][0]))
    return archive
