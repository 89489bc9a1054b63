// vcsim-gpu: govmomi's vcsim (Debian's vcsim/main.go, renamed vcsimMain) plus the gpuvirt GPU add-on.
package main

import (
	"flag"
	"fmt"
	"net/http"

	"github.com/vmware/govmomi/simulator"
)

var (
	gpuSpec   = flag.String("gpus", "a10:2,t4:1,a100:1", "GPUs of every host, MODEL:COUNT,...")
	vmVersion = flag.String("gpu-vm-version", "", "hardware version (vmx-N) of the VMs the model creates")
)

func main() {
	vcsimMain()
}

// addonAfterCreate runs once the inventory exists: GPUs, managers and VM versions.
func addonAfterCreate(model *simulator.Model) error {
	models, err := parseGPUSpec(*gpuSpec)
	if err != nil {
		return err
	}
	if err = parseMethodDelays(*methodDelaySpec); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	for _, obj := range simulator.Map.All("HostSystem") {
		host := obj.(*simulator.HostSystem)
		h := newHostState(host, models, *vmVersion)
		attachSoftware(h, *hostDriver)
		hosts[host.Self] = h
		hostOrder = append(hostOrder, h)
	}
	if *vmVersion != "" {
		if hwVersion(*vmVersion) == 0 {
			return fmt.Errorf("bad -gpu-vm-version %q (want vmx-N)", *vmVersion)
		}
		for _, obj := range simulator.Map.All("VirtualMachine") {
			vm := obj.(*simulator.VirtualMachine)
			simulator.Map.WithLock(vm, func() { vm.Config.Version = *vmVersion })
		}
	}
	return nil
}

// addonServe puts the add-on's HTTP layer in front of the simulator's handler before the first request.
func addonServe(s *simulator.Server) {
	next := s.Server.Config.Handler
	s.Server.Config.Handler = &middleware{next: next}
}

func hostByName(name string) *hostState {
	for _, h := range hostOrder {
		if h.host.Name == name || h.host.Self.Value == name {
			return h
		}
	}
	return nil
}

var _ http.Handler = (*middleware)(nil)
