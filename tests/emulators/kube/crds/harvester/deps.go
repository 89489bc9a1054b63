//go:build generate

// Package deps pins the upstream API packages that controller-gen reads (see ../README.md).
package deps

import (
	_ "github.com/harvester/harvester/pkg/apis/harvesterhci.io/v1beta1"
)
