//go:build generate

// Package deps pins the upstream API packages that controller-gen reads (see ../README.md).
package deps

import (
	_ "github.com/vmware-tanzu/vm-operator/api/v1alpha1"
	_ "github.com/vmware-tanzu/vm-operator/api/v1alpha2"
	_ "github.com/vmware-tanzu/vm-operator/api/v1alpha3"
	_ "github.com/vmware-tanzu/vm-operator/api/v1alpha4"
	_ "github.com/vmware-tanzu/vm-operator/api/v1alpha5"
)
