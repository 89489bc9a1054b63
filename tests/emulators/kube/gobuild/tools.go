//go:build tools

// Package tools pins the upstream programs the Kubernetes test world runs (see ../README.md): kube-apiserver and
// kubectl from k8s.io/kubernetes, helm v3. `go build` of these import paths, with this go.mod, builds them.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
