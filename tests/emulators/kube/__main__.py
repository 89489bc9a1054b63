"""``python -m tests.emulators.kube up|down`` (the stable command lines of design.md).

- ``up --port PORT --kubeconfig PATH [--nodes gpu-1:a10:2,gpu-2:l40s:1,cpu-1] [--harvester] [--delay S] ...``
  starts etcd, a real kube-apiserver on 127.0.0.1:PORT (TLS, token auth, audit log), installs the upstream CRDs,
  the controller and webhook doubles and the seeded cluster, writes a kubeconfig to PATH (mode 0600) and prints
  ``KUBECONFIG=``, ``KUBE_EMULATOR_URL=``, ``KUBE_WORLD_DIR=`` and ``KUBE_WORLD_START_SECONDS=``;
- ``down --port PORT`` stops every process ``up`` started for that port (by PID) and removes its directory.
"""
import argparse
import sys

from . import world
from .doubles.seed import parse_nodes

DEFAULT_NODES = 'gpu-1:a10:2,gpu-2:l40s:1,cpu-1'
GPU_OPERATOR_CRDS = ('v25.3', 'v25.10')  # the versions crds.ensure() can generate (crds/README.md)


def doubles_args(args, crd_dir):
    extra = ['--crds', crd_dir, '--nodes', args.nodes, '--delay', str(args.delay),
             '--kubevirt-version', args.kubevirt_version, '--feature-gates', args.feature_gates,
             '--gpu-operator-crd', args.gpu_operator_crd]
    for flag in ('harvester', 'no_kubevirt', 'no_cluster_policy'):
        if getattr(args, flag):
            extra.append('--' + flag.replace('_', '-'))
    return extra


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.emulators.kube', description=__doc__.split('\n', maxsplit=1)[0])
    commands = parser.add_subparsers(dest='command', required=True)
    sub = commands.add_parser('up', help='start the world on 127.0.0.1:PORT')
    sub.add_argument('--port', type=int, required=True)
    sub.add_argument('--kubeconfig', required=True)
    sub.add_argument('--nodes', default=DEFAULT_NODES, help='NAME[:MODEL[:COUNT]],... (default %(default)s)')
    sub.add_argument('--harvester', action='store_true', help="also Harvester's pcidevices and Addon CRDs")
    sub.add_argument('--delay', type=float, default=0.5, help='seconds vgpu-device-manager takes to apply a config')
    sub.add_argument('--kubevirt-version', default='v1.9.0')
    sub.add_argument('--feature-gates', default='HostDevices', help='KubeVirt feature gates, comma separated')
    sub.add_argument('--gpu-operator-crd', default='v25.10', choices=GPU_OPERATOR_CRDS,
                     help='chart version whose ClusterPolicy CRD is installed (default %(default)s)')
    sub.add_argument('--no-kubevirt', action='store_true', help='no KubeVirt CR')
    sub.add_argument('--no-cluster-policy', action='store_true', help='no GPU Operator ClusterPolicy')
    sub.add_argument('--token', help='bearer token of the kubeconfig user (default: random)')
    sub = commands.add_parser('down', help='stop the world of PORT')
    sub.add_argument('--port', type=int, required=True)
    args = parser.parse_args(argv)
    if args.command == 'up':
        try:
            parse_nodes(args.nodes)
        except ValueError as exc:
            parser.error(str(exc))
        try:
            from . import crds  # pylint: disable=import-outside-toplevel
            state = world.up(args.port, args.kubeconfig, doubles_args(args, crds.ensure()), token=args.token)
        except (world.WorldError, RuntimeError) as exc:
            sys.exit(str(exc))
        print('KUBECONFIG=%s' % state['kubeconfig'])
        print('KUBE_EMULATOR_URL=%s' % state['server'])
        print('KUBE_WORLD_DIR=%s' % state['root'])
        print('KUBE_WORLD_START_SECONDS=%s' % state['start_seconds'])
    else:
        try:
            state = world.down(args.port)
        except world.WorldError as exc:
            sys.exit(str(exc))
        print('stopped the Kubernetes test world on port %d (PIDs %s)' % (
            args.port, ', '.join('%s %d' % kv for kv in sorted(state['pids'].items()))))


if __name__ == '__main__':
    main()
