// govc, govmomi's vSphere CLI, at the govmomi version go.mod pins: the command packages live in the govmomi module
// (github.com/vmware/govmomi/cli/...); govmomi's govc/main.go is a separate module the module proxy does not serve,
// so this main does what it does (cli.Run) with the command groups the interop tests use.
package main

import (
	"os"

	"github.com/vmware/govmomi/cli"
	_ "github.com/vmware/govmomi/cli/about"
	_ "github.com/vmware/govmomi/cli/device"
	_ "github.com/vmware/govmomi/cli/device/pci"
	_ "github.com/vmware/govmomi/cli/gpu/host"
	_ "github.com/vmware/govmomi/cli/gpu/host/profile"
	_ "github.com/vmware/govmomi/cli/gpu/vm"
	_ "github.com/vmware/govmomi/cli/host"
	_ "github.com/vmware/govmomi/cli/host/maintenance"
	_ "github.com/vmware/govmomi/cli/object"
	_ "github.com/vmware/govmomi/cli/vm"
)

func main() {
	os.Exit(cli.Run(os.Args[1:]))
}
