"""The real programs of the Kubernetes test world, built from the pinned Go modules in ``gobuild/``.

``ensure()`` builds etcd, kube-apiserver, kubectl and helm with the machine's Go on first use into
``.cache/kube/bin/<digest>/`` (the digest covers go.mod, go.sum, the Go sources and the link flags, so a changed pin
builds anew) and returns that directory; later calls reuse it. ``python -m tests.emulators.kube.binaries`` prints it.
"""
import os
import sys

from tests import gobuild

HERE = os.path.dirname(os.path.abspath(__file__))
GOBUILD = os.path.join(HERE, 'gobuild')
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
CACHE = os.path.join(REPO, '.cache', 'kube', 'bin')

PROGRAMS = {  # output name -> Go package
    'etcd': './etcd',
    'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
    'kubectl': 'k8s.io/kubernetes/cmd/kubectl',
    'helm': 'helm.sh/helm/v3/cmd/helm',
}


def ldflags():
    """The version stamps upstream's own builds set (hack/lib/version.sh, helm's Makefile)."""
    kube = gobuild.pinned(GOBUILD, 'k8s.io/kubernetes')
    major, minor = kube.lstrip('v').split('.')[:2]
    helm = gobuild.pinned(GOBUILD, 'helm.sh/helm/v3')
    flags = ['-s', '-w']
    for package in ('k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'):
        flags += ['-X', '%s.gitVersion=%s' % (package, kube), '-X', '%s.gitMajor=%s' % (package, major),
                  '-X', '%s.gitMinor=%s' % (package, minor), '-X', '%s.gitTreeState=clean' % package,
                  '-X', '%s.buildDate=1970-01-01T00:00:00Z' % package]
    flags += ['-X', 'helm.sh/helm/v3/internal/version.version=%s' % helm,
              '-X', 'helm.sh/helm/v3/internal/version.gitTreeState=clean']
    for package in ('helm.sh/helm/v3/pkg/chartutil', 'helm.sh/helm/v3/pkg/lint/rules'):
        flags += ['-X', '%s.k8sVersionMajor=%s' % (package, major), '-X', '%s.k8sVersionMinor=%s' % (package, minor)]
    return ' '.join(flags)


def ensure(log=sys.stderr):
    """Build the four programs once; return the directory that holds them."""
    return gobuild.build(GOBUILD, CACHE, PROGRAMS, 'the Kubernetes test world (%s)' % ', '.join(PROGRAMS), ldflags=ldflags(),
                         extra=[gobuild.source_of(os.path.abspath(__file__))], log=log)


if __name__ == '__main__':
    try:
        print(ensure())
    except RuntimeError as exc:
        sys.exit(str(exc))
