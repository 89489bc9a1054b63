//go:build generate

// Package deps pins the upstream API packages that controller-gen reads (see ../README.md).
package deps

import (
	_ "github.com/NVIDIA/gpu-operator/api/nvidia/v1"
	_ "github.com/NVIDIA/gpu-operator/api/nvidia/v1alpha1"
)
