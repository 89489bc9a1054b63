"""``python -m tests.emulators.helm``: set up the helm test double.

- ``init --state DIR [--url URL] [--versions v25.10.1,...]`` publishes the NVIDIA chart repository in DIR and
  prints ``GPUVIRT_HELM_STATE=DIR`` and ``HELM_DOUBLE_BIN=...`` (the folder to put first on PATH);
- ``publish --state DIR --url URL [--versions ...] [--username U --password-file F]`` adds another repository
  (with credentials: a private one that answers 401 without them);
- ``package --version V --dest DIR`` writes the chart archive ``gpu-operator-V.tgz`` (air-gapped installs);
- ``stale-crd --kubeconfig F`` replaces the ClusterPolicy CRD in a cluster by the one a v1.8.0 install left
  behind (seed 004), deleting the current one first;
- ``calls --state DIR`` prints the recorded invocations, one JSON object a line.
"""
import argparse
import json
import os
import sys

from . import BIN_DIR, NVIDIA_REPO_URL, charts, kube, repos, store


def _versions(text):
    return [v.strip() for v in text.split(',') if v.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.emulators.helm', description=__doc__.split('\n', maxsplit=1)[0])
    commands = parser.add_subparsers(dest='command', required=True)
    for name in ('init', 'publish'):
        sub = commands.add_parser(name)
        sub.add_argument('--state', required=True)
        sub.add_argument('--url', default=NVIDIA_REPO_URL, required=name == 'publish')
        sub.add_argument('--versions', type=_versions, default=list(charts.CHART_VERSIONS))
        sub.add_argument('--username')
        sub.add_argument('--password-file')
    sub = commands.add_parser('package')
    sub.add_argument('--version', required=True)
    sub.add_argument('--dest', required=True)
    sub = commands.add_parser('stale-crd')
    sub.add_argument('--kubeconfig', required=True)
    sub = commands.add_parser('calls')
    sub.add_argument('--state', required=True)
    args = parser.parse_args(argv)
    if args.command in ('init', 'publish'):
        os.environ[store.STATE_ENV] = os.path.abspath(args.state)
        password = None
        if args.password_file:
            with open(args.password_file) as stream:
                password = stream.read().strip()
        repos.publish(args.url, args.versions, args.username, password)
        print('GPUVIRT_HELM_STATE=%s' % os.path.abspath(args.state))
        print('HELM_DOUBLE_BIN=%s' % BIN_DIR)
    elif args.command == 'package':
        print(charts.package(args.version, args.dest))
    elif args.command == 'stale-crd':
        install_stale_crd(kube.Client.from_environment(args.kubeconfig))
        print('replaced %s by the %s CRD' % (charts.CRD_NAME, charts.LEGACY_CRD_VERSION))
    else:
        for call in store.read_calls(args.state):
            print(json.dumps(call))
    return 0


def install_stale_crd(client):
    """What an old GPU Operator install leaves: the v1.8.0 ClusterPolicy CRD (helm never deletes crds/ CRDs)."""
    legacy = charts.crd(charts.LEGACY_CRD_VERSION)
    path = kube.object_path(legacy)
    if client.get(path) is not None:
        client.request('DELETE', path)
    client.request('POST', kube.collection_path(legacy), legacy)


if __name__ == '__main__':
    sys.exit(main())
