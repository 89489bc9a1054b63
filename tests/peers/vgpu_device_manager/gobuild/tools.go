//go:build tools

// Package tools pins NVIDIA's vgpu-device-manager, the peer the host_vgpu tests and bench/host_vgpu.py run side by
// side with the collection (see ../README.md). `go build` of its nvidia-vgpu-dm command, with this go.mod, builds it.
package tools

import (
	_ "github.com/NVIDIA/vgpu-device-manager/cmd/nvidia-vgpu-dm"
)
