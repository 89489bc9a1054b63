"""The ``helm`` command line of the test double (helm v3.17 behaviour, for the calls kubernetes.core makes).

Flags may come before or after the subcommand (cobra strips them while finding the command), in ``--flag
value``, ``--flag=value``, ``-f value`` or ``-f=value`` form, as kubernetes.core builds them
(``helm --version=v25.10.1 --repo=URL show chart 'gpu-operator'``, ``helm upgrade -i --reset-values -f=/tmp/x.yml
NAME 'CHART'``). Errors go to stderr as ``Error: ...`` with exit code 1, like helm.
"""
import copy
import json
import os
import re
import shlex
import sys

import yaml

from . import charts, kube, repos, schema, store

HELM_VERSION = 'v3.17.3'
GIT_COMMIT = 'e4da49785aa6e6ee2b86efd5dd9e43400318262b'

VALUE_FLAGS = {
    '--kubeconfig', '--kube-context', '--namespace', '--kube-apiserver', '--kube-token', '--kube-as-user',
    '--kube-as-group', '--kube-ca-file', '--repository-config', '--repository-cache', '--registry-config',
    '--burst-limit', '--qps', '--version', '--repo', '--values', '--set', '--set-string', '--set-json', '--set-file',
    '--set-literal', '--timeout', '--history-max', '--post-renderer', '--post-renderer-args', '--output', '--filter',
    '--username', '--password', '--description', '--destination', '--untardir', '--ca-file', '--cert-file',
    '--key-file', '--max', '--offset', '--template', '--revision', '--time-format', '--keyring', '--dry-run',
    '--selector', '--name-template', '--cascade', '--labels',
}
SHORT = {'-n': '--namespace', '-f': '--values', '-o': '--output', '-i': '--install', '-a': '--all', '-A': '--all-namespaces',
         '-d': '--destination', '-m': '--max', '-q': '--short', '-g': '--generate-name', '-l': '--selector', '-h': '--help'}
BOOL_FLAGS = {
    '--debug', '--install', '--reset-values', '--reuse-values', '--reset-then-reuse-values', '--wait', '--wait-for-jobs',
    '--atomic', '--create-namespace', '--skip-crds', '--no-hooks', '--force', '--devel', '--take-ownership',
    '--insecure-skip-tls-verify', '--plain-http', '--skip-schema-validation', '--keep-history', '--all',
    '--all-namespaces', '--deployed', '--failed', '--pending', '--superseded', '--uninstalled', '--uninstalling',
    '--force-update', '--pass-credentials', '--untar', '--short', '--disable-openapi-validation', '--no-update',
    '--dependency-update', '--replace', '--generate-name', '--versions', '--verify', '--kube-insecure-skip-tls-verify',
    '--cleanup-on-fail', '--render-subchart-notes', '--enable-dns', '--hide-notes', '--skip-refresh', '--prerelease',
    '--help', '--date', '--reverse', '--no-headers', '--ignore-not-found', '--hide-secret',
}
REPEATED = {'--values', '--set', '--set-string', '--set-json', '--set-file', '--set-literal'}
_TRUE = ('', 'true', 'True', '1')


class HelmError(Exception):
    pass


class Args(object):
    def __init__(self, positional, flags):
        self.positional = positional
        self.flags = flags

    def get(self, name, default=None):
        return self.flags.get(name, default)

    def flag(self, name):
        return bool(self.flags.get(name, False))

    def many(self, name):
        return self.flags.get(name, [])


def parse(argv):
    positional, flags, order = [], {}, []
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if token == '--':
            positional.extend(argv[index:])
            break
        if not token.startswith('-') or token == '-':
            positional.append(token)
            continue
        name, has_value, value = token.partition('=')
        name = SHORT.get(name, name)
        if name in BOOL_FLAGS and name != '--dry-run':
            flags[name] = value in _TRUE if has_value else True
            continue
        if name in VALUE_FLAGS:
            if not has_value:
                if name == '--dry-run':
                    value = 'client'
                elif index < len(argv):
                    value = argv[index]
                    index += 1
                else:
                    raise HelmError('flag needs an argument: %s' % token)
            if name in REPEATED:
                flags.setdefault(name, []).append(value)
                order.append((name, value))
            else:
                flags[name] = value
            continue
        raise HelmError('unknown flag: %s' % name)
    flags['_set_order'] = order
    return Args(positional, flags)


# ---------------------------------------------------------------------------------------------- values
def _split_unescaped(text, separator):
    parts, current, depth, escaped = [], '', 0, False
    for char in text:
        if escaped:
            current += char
            escaped = False
        elif char == '\\':
            current += char
            escaped = True
        elif char == '{':
            depth += 1
            current += char
        elif char == '}':
            depth -= 1
            current += char
        elif char == separator and depth == 0:
            parts.append(current)
            current = ''
        else:
            current += char
    parts.append(current)
    return parts


def _typed(raw, as_string):
    text = raw.replace('\\,', ',').replace('\\.', '.')
    if as_string:
        return text
    if text.startswith('{') and text.endswith('}'):
        return [_typed(v, False) for v in _split_unescaped(text[1:-1], ',') if v != ''] if text[1:-1] else []
    if text in ('true', 'false'):
        return text == 'true'
    if text == 'null':
        return None
    if re.match(r'^-?(0|[1-9][0-9]*)$', text):
        return int(text)
    return text


def _assign(values, key, value):
    path = [p.replace('\\.', '.') for p in re.split(r'(?<!\\)\.', key)]
    target = values
    for part in path[:-1]:
        match = re.match(r'^(.*)\[(\d+)\]$', part)
        if match:
            items = target.setdefault(match.group(1), [])
            position = int(match.group(2))
            while len(items) <= position:
                items.append({})
            target = items[position]
        else:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
    last = path[-1]
    match = re.match(r'^(.*)\[(\d+)\]$', last)
    if match:
        items = target.setdefault(match.group(1), [])
        position = int(match.group(2))
        while len(items) <= position:
            items.append(None)
        items[position] = value
    else:
        target[last] = value


def _merge(base, extra):
    """helm's mergeMaps for -f files: nested maps merge, other values replace."""
    result = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def user_values(args, previous=None):
    """-f files in order, then --set/--set-string/--set-json/--set-file/--set-literal in order."""
    values = copy.deepcopy(previous) if previous else {}
    for path in args.many('--values'):
        try:
            with open(path) as stream:
                loaded = yaml.safe_load(stream)
        except OSError:
            raise HelmError('open %s: no such file or directory' % path) from None
        except yaml.YAMLError as exc:
            raise HelmError('failed to parse %s: error converting YAML to JSON: %s' % (path, exc)) from None
        if loaded is None:
            continue
        if not isinstance(loaded, dict):
            raise HelmError('failed to parse %s: error unmarshaling JSON: json: cannot unmarshal array into Go value of '
                            'type map[string]interface {}' % path)
        values = _merge(values, loaded)
    for name, text in args.get('_set_order', []):
        if name == '--values':
            continue
        if name == '--set-literal':
            key, _sep, raw = text.partition('=')
            _assign(values, key, raw)
            continue
        for item in _split_unescaped(text, ','):
            if not item:
                continue
            key, sep, raw = item.partition('=')
            if not sep:
                raise HelmError('failed parsing --set data: key "%s" has no value' % key)
            if name == '--set-json':
                try:
                    value = json.loads(raw)
                except ValueError as exc:
                    raise HelmError('failed parsing --set-json data %s: %s' % (item, exc)) from None
            elif name == '--set-file':
                with open(raw) as stream:
                    value = stream.read()
            else:
                value = _typed(raw, name == '--set-string')
            _assign(values, key, value)
    return values


# ---------------------------------------------------------------------------------------------- helpers
def _namespace(args, client=None):
    return (args.get('--namespace') or os.environ.get('HELM_NAMESPACE') or (client.namespace if client else None)
            or 'default')


def _client(args):
    try:
        client = kube.Client.from_environment(args.get('--kubeconfig'), args.get('--kube-context'))
        if args.get('--kube-apiserver'):
            client.server = args.get('--kube-apiserver').rstrip('/')
        if args.get('--kube-token'):
            client.token = args.get('--kube-token')
        client.ping()
        return client
    except kube.Unreachable as exc:
        raise HelmError('Kubernetes cluster unreachable: %s' % exc) from None


def _dump(data, output):
    if output == 'json':
        return json.dumps(data)
    return yaml.safe_dump(data, sort_keys=True, default_flow_style=False).rstrip('\n')


def _list_entry(release):
    return {'name': release['name'], 'namespace': release['namespace'], 'revision': str(release['revision']),
            'updated': release['updated'], 'status': release['status'],
            'chart': '%s-%s' % (release['chart']['name'], release['chart']['version']),
            'app_version': release['chart']['app_version']}


def _table(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return '\n'.join('\t'.join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows)


def _ownership(obj, name, namespace):
    meta = obj.setdefault('metadata', {})
    meta.setdefault('labels', {})['app.kubernetes.io/managed-by'] = 'Helm'
    meta.setdefault('annotations', {}).update({'meta.helm.sh/release-name': name, 'meta.helm.sh/release-namespace': namespace})
    return obj


def _ownership_errors(current, name, namespace):
    labels = current.get('metadata', {}).get('labels') or {}
    annotations = current.get('metadata', {}).get('annotations') or {}
    problems = []
    if labels.get('app.kubernetes.io/managed-by') != 'Helm':
        problems.append('label validation error: missing key "app.kubernetes.io/managed-by": must be set to "Helm"')
    for key, want in (('meta.helm.sh/release-name', name), ('meta.helm.sh/release-namespace', namespace)):
        if key not in annotations:
            problems.append('annotation validation error: missing key "%s": must be set to "%s"' % (key, want))
        elif annotations[key] != want:
            problems.append('annotation validation error: key "%s" must equal "%s": current value is "%s"'
                            % (key, want, annotations[key]))
    return problems


def _manifest_text(objects):
    return '\n'.join('---\n# Source: %s\n%s' % (_source(o), yaml.safe_dump(o, sort_keys=False)) for o in objects)


def _source(obj):
    return 'gpu-operator/templates/clusterpolicy.yaml' if obj.get('kind') == 'ClusterPolicy' else 'chart'


# ---------------------------------------------------------------------------------------------- commands
def cmd_version(args, out):
    if args.flag('--short'):
        out.append('%s+g%s' % (HELM_VERSION, GIT_COMMIT[:7]))
    elif args.get('--template'):
        out.append(args.get('--template').replace('{{.Version}}', HELM_VERSION).replace('{{ .Version }}', HELM_VERSION))
    else:
        out.append('version.BuildInfo{Version:"%s", GitCommit:"%s", GitTreeState:"clean", GoVersion:"go1.23.7"}'
                   % (HELM_VERSION, GIT_COMMIT))


def cmd_plugin(args, out):
    if args.positional[1:2] != ['list'] and args.positional[1:2] != ['ls']:
        raise HelmError('the helm double only lists plugins (none are installed)')
    out.append('NAME\tVERSION\tDESCRIPTION')


def cmd_repo(args, out):
    sub = args.positional[1] if len(args.positional) > 1 else ''
    if sub == 'add':
        if len(args.positional) != 4:
            raise HelmError('"helm repo add" requires 2 arguments')
        out.append(repos.add(args.positional[2], args.positional[3], args.get('--username'), args.get('--password'),
                             args.flag('--force-update'), args.flag('--pass-credentials'), args.flag('--insecure-skip-tls-verify')))
    elif sub in ('list', 'ls'):
        entries = repos.repositories()
        if not entries:
            raise HelmError('no repositories to show')
        output = args.get('--output', 'table')
        if output in ('yaml', 'json'):
            out.append(_dump([{'name': r['name'], 'url': r['url']} for r in entries], output))
        else:
            out.append(_table([('NAME', 'URL')] + [(r['name'], r['url']) for r in entries]))
    elif sub in ('update', 'up'):
        out.append(repos.update(args.positional[2:]))
    elif sub in ('remove', 'rm'):
        out.append(repos.remove(args.positional[2:]))
    else:
        raise HelmError('unknown command "%s" for "helm repo"' % sub)


def cmd_search(args, out):
    if args.positional[1:2] != ['repo']:
        raise HelmError('the helm double only searches repositories')
    rows = repos.search(args.positional[2] if len(args.positional) > 2 else '', args.flag('--versions'))
    if args.get('--output') in ('yaml', 'json'):
        out.append(_dump([{'name': r[0], 'version': r[1], 'app_version': r[2], 'description': r[3]} for r in rows],
                         args.get('--output')))
    elif rows:
        out.append(_table([('NAME', 'CHART VERSION', 'APP VERSION', 'DESCRIPTION')] + rows))
    else:
        out.append('No results found')


def _load_chart(args, ref):
    path = repos.locate(ref, args.get('--version'), args.get('--repo'), args.get('--username'), args.get('--password'))
    return charts.Chart.load(path), path


def cmd_show(args, out):
    what = args.positional[1] if len(args.positional) > 1 else ''
    if len(args.positional) != 3:
        raise HelmError('"helm show %s" requires 1 argument' % what)
    chart, _path = _load_chart(args, args.positional[2])
    if what == 'chart':
        out.append(yaml.safe_dump(chart.metadata, sort_keys=False).rstrip('\n'))
    elif what == 'values':
        out.append(yaml.safe_dump(chart.values, sort_keys=False).rstrip('\n'))
    elif what == 'crds':
        out.append('\n'.join('---\n' + yaml.safe_dump(c, sort_keys=False) for c in chart.crds).rstrip('\n'))
    elif what in ('readme', 'all'):
        out.append(yaml.safe_dump(chart.metadata, sort_keys=False).rstrip('\n'))
    else:
        raise HelmError('unknown command "%s" for "helm show"' % what)


def cmd_pull(args, out):
    if len(args.positional) != 2:
        raise HelmError('"helm pull" requires 1 argument')
    _chart, path = _load_chart(args, args.positional[1])
    destination = args.get('--destination', '.')
    os.makedirs(destination, exist_ok=True)
    target = os.path.join(destination, os.path.basename(path))
    with open(path, 'rb') as source, open(target, 'wb') as sink:
        sink.write(source.read())
    if args.flag('--untar'):
        import tarfile
        with tarfile.open(target) as archive:
            archive.extractall(args.get('--untardir') or destination, filter='data')
        os.unlink(target)
    del out


def cmd_dependency(args, out):
    sub = args.positional[1] if len(args.positional) > 1 else ''
    if len(args.positional) < 3:
        raise HelmError('"helm dependency %s" requires 1 argument' % sub)
    chart = charts.Chart.load(args.positional[2])
    deps = chart.metadata.get('dependencies') or []
    if sub in ('list', 'ls'):
        if not deps:
            out.append('WARNING: no dependencies at %s/charts' % args.positional[2])
            return
        out.append(_table([('NAME', 'VERSION', 'REPOSITORY', 'STATUS')]
                          + [(d['name'], d['version'], d['repository'], 'missing') for d in deps]))
        return
    if sub in ('update', 'up', 'build') and deps:
        raise HelmError('the helm double does not download chart dependencies (%s); vendor them or install from a '
                        'packaged chart' % ', '.join(d['name'] for d in deps))
    if sub not in ('update', 'up', 'build'):
        raise HelmError('unknown command "%s" for "helm dependency"' % sub)


def _status_filter(args):
    states = [s for s in ('deployed', 'failed', 'pending', 'superseded', 'uninstalled', 'uninstalling') if args.flag('--' + s)]
    if args.flag('--all'):
        return None
    return states or ['deployed', 'failed']


def cmd_list(args, out):
    client = _client(args)
    releases = store.Releases(client.server)
    namespace = None if args.flag('--all-namespaces') else _namespace(args, client)
    wanted = _status_filter(args)
    pattern = re.compile(args.get('--filter') or '')
    found = []
    for release in releases.all_latest(namespace):
        if wanted is not None and not any(release['status'] == s or (s == 'pending' and release['status'].startswith('pending'))
                                          for s in wanted):
            continue
        if pattern.search(release['name']):
            found.append(_list_entry(release))
    output = args.get('--output', 'table')
    if output in ('yaml', 'json'):
        out.append(_dump(found, output) if found or output == 'json' else '[]')
    elif args.flag('--short'):
        out.extend(r['name'] for r in found)
    else:
        out.append(_table([('NAME', 'NAMESPACE', 'REVISION', 'UPDATED', 'STATUS', 'CHART', 'APP VERSION')]
                          + [(r['name'], r['namespace'], r['revision'], r['updated'], r['status'], r['chart'], r['app_version'])
                             for r in found]))


def _release(args, client, name):
    releases = store.Releases(client.server)
    history = releases.history(_namespace(args, client), name)
    if args.get('--revision'):
        history = [r for r in history if str(r['revision']) == str(args.get('--revision'))]
    if not history:
        raise HelmError('release: not found')
    return history[-1]


def cmd_get(args, out):
    what = args.positional[1] if len(args.positional) > 1 else ''
    if len(args.positional) != 3:
        raise HelmError('"helm get %s" requires 1 argument' % what)
    client = _client(args)
    release = _release(args, client, args.positional[2])
    if what == 'values':
        values = release['computed'] if args.flag('--all') else release['config']
        output = args.get('--output', 'table')
        if output == 'json':
            out.append(json.dumps(values if values else None))
        elif output == 'yaml':
            out.append(_dump(values, 'yaml') if values else 'null')
        else:
            out.append(('COMPUTED VALUES:' if args.flag('--all') else 'USER-SUPPLIED VALUES:') + '\n'
                       + (_dump(values, 'yaml') if values else 'null'))
    elif what == 'manifest':
        out.append(_manifest_text(release['manifest']))
    elif what == 'notes':
        out.append('NOTES:\n' + release.get('notes', '') if release.get('notes') else '')
    elif what == 'hooks':
        out.append('')
    elif what == 'metadata':
        out.append(_dump(dict(_list_entry(release), chart=release['chart']['name'], version=release['chart']['version']),
                         args.get('--output', 'yaml')))
    else:
        raise HelmError('unknown command "%s" for "helm get"' % what)


def cmd_history(args, out):
    client = _client(args)
    history = store.Releases(client.server).history(_namespace(args, client), args.positional[1])
    if not history:
        raise HelmError('release: not found')
    rows = [(r['revision'], r['updated'], r['status'], '%s-%s' % (r['chart']['name'], r['chart']['version']),
             r['chart']['app_version'], r.get('description', '')) for r in history]
    out.append(_table([('REVISION', 'UPDATED', 'STATUS', 'CHART', 'APP VERSION', 'DESCRIPTION')] + rows))


def cmd_uninstall(args, out):
    client = _client(args)
    namespace = _namespace(args, client)
    releases = store.Releases(client.server)
    for name in args.positional[1:]:
        history = releases.history(namespace, name)
        if not history or history[-1]['status'] == 'uninstalled':
            raise HelmError('uninstall: Release not loaded: %s: release: not found' % name)
        for obj in reversed(history[-1]['manifest']):  # helm keeps crds/ CRDs: they are not in the manifest
            path = kube.object_path(obj, namespace)
            current = client.get(path)
            if current is not None and not _ownership_errors(current, name, namespace):
                client.request('DELETE', path)
        if args.flag('--keep-history'):
            history[-1]['status'] = 'uninstalled'
            history[-1]['description'] = 'Uninstallation complete'
            releases.save(namespace, name, history)
        else:
            releases.save(namespace, name, [])
        out.append('release "%s" uninstalled' % name)


def _apply_crds(client, chart, replace):
    """crds/: created when missing (install); replaced when ``replace`` (the chart's upgradeCRD pre-upgrade hook)."""
    for crd in chart.crds:
        path = kube.object_path(crd)
        current = client.get(path)
        if current is None:
            client.request('POST', kube.collection_path(crd), crd)
        elif replace:
            body = copy.deepcopy(crd)
            body['metadata']['resourceVersion'] = current['metadata']['resourceVersion']
            client.request('PUT', path, body)


def _validate_against_cluster(client, objects, prefix):
    for obj in objects:
        if obj['kind'] != 'ClusterPolicy':
            continue
        crd = client.get(kube.object_path({'kind': 'CustomResourceDefinition', 'metadata': {'name': charts.CRD_NAME}}))
        if crd is None:
            raise HelmError('%sunable to build kubernetes objects from release manifest: resource mapping not found for name: '
                            '"%s" namespace: "" from "": no matches for kind "ClusterPolicy" in version "nvidia.com/v1"\n'
                            'ensure CRDs are installed first' % (prefix, obj['metadata']['name']))
        unknown = charts.crd_unknown_fields(crd, obj)
        if unknown:
            raise HelmError('%sunable to build kubernetes objects from release manifest: error validating "": error validating '
                            'data: [%s]' % (prefix, ', '.join(unknown)))


def cmd_upgrade(args, out, install_only=False):
    positional = args.positional[1:]
    if args.flag('--generate-name') and len(positional) == 1:
        positional = ['%s-%d' % (os.path.basename(positional[0]).split('/')[-1].replace('.tgz', ''), os.getpid())] + positional
    if len(positional) != 2:
        raise HelmError('"helm %s" requires 2 arguments' % ('install' if install_only else 'upgrade'))
    name, ref = positional
    client = _client(args)
    namespace = _namespace(args, client)
    releases = store.Releases(client.server)
    history = releases.history(namespace, name)
    live = [r for r in history if r['status'] != 'uninstalled']
    if install_only and live and not args.flag('--replace'):
        raise HelmError('INSTALLATION FAILED: cannot re-use a name that is still in use')
    if not install_only and not live and not args.flag('--install'):
        raise HelmError('UPGRADE FAILED: "%s" has no deployed releases' % name)
    installing = install_only or not live
    prefix = 'INSTALLATION FAILED: ' if installing else 'UPGRADE FAILED: '
    try:
        chart, _path = _load_chart(args, ref)
    except (repos.RepoError, ValueError) as exc:
        raise HelmError('%s%s' % (prefix, exc)) from None
    previous = live[-1]['config'] if live and (args.flag('--reuse-values') or args.flag('--reset-then-reuse-values')) else None
    if args.flag('--reset-values'):
        previous = None
    config = user_values(args, previous)
    computed = charts.coalesce(chart.values, config)
    if chart.schema is not None and not args.flag('--skip-schema-validation'):
        problems = schema.validate(chart.schema, computed)
        if problems:
            raise HelmError(prefix + schema.report(chart.name, problems))
    dry_run = args.get('--dry-run') not in (None, 'none', 'false')
    if not dry_run and kube_namespace_missing(client, namespace):
        if not args.flag('--create-namespace'):
            raise HelmError('%screate: failed to create: namespaces "%s" not found' % (prefix, namespace))
        client.request('POST', '/api/v1/namespaces', {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': namespace}})
    hooks = not args.flag('--no-hooks')
    if not dry_run:
        if installing and not args.flag('--skip-crds'):
            _apply_crds(client, chart, replace=False)
        elif not installing and hooks and (computed.get('operator') or {}).get('upgradeCRD'):
            _apply_crds(client, chart, replace=True)
    objects = [_ownership(o, name, namespace) for o in chart.render(computed)]
    if not args.flag('--disable-openapi-validation'):
        _validate_against_cluster(client, objects, prefix)
    if installing:
        for obj in objects:
            current = client.get(kube.object_path(obj, namespace))
            problems = _ownership_errors(current, name, namespace) if current is not None else []
            if problems and not args.flag('--take-ownership'):
                raise HelmError('%srendered manifests contain a resource that already exists. Unable to continue with install: '
                                '%s "%s" in namespace "%s" exists and cannot be imported into the current release: invalid '
                                'ownership metadata; %s' % (prefix, obj['kind'], obj['metadata']['name'],
                                                            obj['metadata'].get('namespace', ''), '; '.join(problems)))
    revision = (history[-1]['revision'] + 1) if history else 1
    release = {'name': name, 'namespace': namespace, 'revision': revision, 'updated': store.now(),
               'status': 'pending-install' if installing else 'pending-upgrade',
               'chart': {'name': chart.name, 'version': chart.version, 'app_version': chart.app_version},
               'config': config, 'computed': computed, 'manifest': objects,
               'description': 'Install complete' if installing else 'Upgrade complete',
               'notes': 'GPU Operator %s deployed in namespace %s.' % (chart.app_version, namespace)}
    if dry_run:
        out.append('NAME: %s\nLAST DEPLOYED: %s\nNAMESPACE: %s\nSTATUS: pending-%s\nREVISION: %d\nTEST SUITE: None\nHOOKS:\n'
                   'MANIFEST:\n%s' % (name, release['updated'], namespace, 'install' if installing else 'upgrade', revision,
                                      _manifest_text(objects)))
        return
    if installing and not install_only:
        out.append('Release "%s" does not exist. Installing it now.' % name)
    try:
        _apply_objects(client, namespace, live[-1]['manifest'] if live else [], objects)
    except kube.KubeError as exc:
        release['status'] = 'failed'
        release['description'] = ('Release "%s" failed: %s' % (name, exc.message))
        releases.save(namespace, name, history + [release])
        raise HelmError('%s%s' % (prefix, exc.message)) from None
    release['status'] = 'deployed'
    for old in history:
        if old['status'] == 'deployed':
            old['status'] = 'superseded'
    history.append(release)
    limit = int(args.get('--history-max', 10) or 0)
    if limit > 0:
        history = history[-limit:]
    releases.save(namespace, name, history)
    if not installing:
        out.append('Release "%s" has been upgraded. Happy Helming!' % name)
    out.append('NAME: %s\nLAST DEPLOYED: %s\nNAMESPACE: %s\nSTATUS: deployed\nREVISION: %d\nTEST SUITE: None'
               % (name, release['updated'], namespace, revision))


def kube_namespace_missing(client, namespace):
    return client.get('/api/v1/namespaces/' + namespace) is None


def _apply_objects(client, namespace, old_objects, new_objects):
    """Create or update the rendered objects; delete what the previous revision had and this one does not."""
    wanted = set()
    for obj in new_objects:
        path = kube.object_path(obj, namespace)
        wanted.add(path)
        current = client.get(path)
        if current is None:
            client.request('POST', kube.collection_path(obj, namespace), obj)
            continue
        body = copy.deepcopy(current)
        body['spec'] = copy.deepcopy(obj['spec'])
        meta = body['metadata']
        meta['labels'] = dict(meta.get('labels') or {}, **obj['metadata'].get('labels', {}))
        meta['annotations'] = dict(meta.get('annotations') or {}, **obj['metadata'].get('annotations', {}))
        if body != current:
            client.request('PUT', path, body)
    for obj in old_objects:
        path = kube.object_path(obj, namespace)
        if path not in wanted and client.get(path) is not None:
            client.request('DELETE', path)


COMMANDS = {
    'version': cmd_version, 'plugin': cmd_plugin, 'repo': cmd_repo, 'search': cmd_search, 'show': cmd_show,
    'inspect': cmd_show, 'pull': cmd_pull, 'fetch': cmd_pull, 'dependency': cmd_dependency, 'dep': cmd_dependency,
    'list': cmd_list, 'ls': cmd_list, 'get': cmd_get, 'history': cmd_history, 'uninstall': cmd_uninstall,
    'delete': cmd_uninstall, 'un': cmd_uninstall, 'upgrade': cmd_upgrade,
    'install': lambda args, out: cmd_upgrade(args, out, install_only=True),
}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 1 and ' ' in argv[0]:  # a whole command line in one argument
        argv = shlex.split(argv[0])
    out = []
    rc = 0
    try:
        args = parse(argv)
        if not args.positional:
            raise HelmError('the helm double needs a command (version, list, upgrade, ...)')
        command = COMMANDS.get(args.positional[0])
        if command is None:
            raise HelmError('unknown command "%s" for "helm"' % args.positional[0])
        command(args, out)
    except (HelmError, repos.RepoError, kube.KubeError, store.StateError, ValueError) as exc:
        for line in out:
            print(line)
        sys.stderr.write('Error: %s\n' % exc)
        rc = 1
    else:
        for line in out:
            if line != '':
                print(line)
    try:
        store.log_call(argv, rc)
    except store.StateError:
        pass
    return rc


if __name__ == '__main__':
    sys.exit(main())
