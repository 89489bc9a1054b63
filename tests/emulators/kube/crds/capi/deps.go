//go:build generate

// Package deps pins the upstream API packages that controller-gen reads (see ../README.md).
package deps

import (
	_ "sigs.k8s.io/cluster-api/api/core/v1beta1"
	_ "sigs.k8s.io/cluster-api-provider-vsphere/api/govmomi/v1beta1"
)
