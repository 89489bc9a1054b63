//go:build generate

// Package deps pins the upstream API packages that controller-gen reads (see ../README.md).
package deps

import (
	_ "kubevirt.io/api/core/v1"
)
