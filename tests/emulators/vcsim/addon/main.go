// vcsim-gpu: govmomi's vCenter simulator (the simulator package of the pinned github.com/vmware/govmomi module)
// with the gpuvirt GPU add-on. govmomi's own vcsim command is a separate module the module proxy does not serve,
// so this main builds the same VPX model from the flags vcsim-gpu passes (vcsim's names: -dc, -cluster, -host,
// -standalone-host, -vm, -ds, -api-version, -username, -password, -l) and prints vcsim's `export GOVC_URL=` line.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

var (
	gpuSpec   = flag.String("gpus", "a10:2,t4:1,a100:1", "GPUs of every host, MODEL:COUNT,...")
	vmVersion = flag.String("gpu-vm-version", "", "hardware version (vmx-N) of the VMs the model creates")
)

// reg is the simulator's object registry (the vim25 namespace), set once the model exists.
var reg *simulator.Registry

// newCtx is a locking context of its own, for add-on code that runs outside a SOAP method of the simulator
// (the HTTP layer, the control API): like a request of its own, it waits for locks other requests hold.
func newCtx() *simulator.Context {
	return &simulator.Context{Context: context.Background(), Map: reg}
}

func main() {
	model := simulator.VPX()
	flag.IntVar(&model.Datacenter, "dc", model.Datacenter, "Number of datacenters")
	flag.IntVar(&model.Cluster, "cluster", model.Cluster, "Number of clusters")
	flag.IntVar(&model.ClusterHost, "host", model.ClusterHost, "Number of hosts per cluster")
	flag.IntVar(&model.Host, "standalone-host", model.Host, "Number of standalone hosts")
	flag.IntVar(&model.Datastore, "ds", model.Datastore, "Number of local datastores")
	flag.IntVar(&model.Machine, "vm", model.Machine, "Number of virtual machines per resource pool")
	apiVersion := &model.ServiceContent.About.ApiVersion
	flag.StringVar(apiVersion, "api-version", *apiVersion, "API version")
	listen := flag.String("l", "127.0.0.1:8989", "Listen address")
	user := flag.String("username", "", "Login username (any username allowed by default)")
	pass := flag.String("password", "", "Login password (any password allowed by default)")
	flag.Parse()

	u := &url.URL{Host: *listen}
	if *user != "" {
		u.User = url.UserPassword(*user, *pass)
	}
	if err := updateHostTemplate(u.Host); err != nil {
		log.Fatal(err)
	}
	tag := " (govmomi simulator)"
	model.ServiceContent.About.Name += tag
	model.ServiceContent.About.OsType = runtime.GOOS + "-" + runtime.GOARCH
	esx.HostSystem.Summary.Hardware.Vendor += tag

	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	if err := addonAfterCreate(model); err != nil {
		log.Fatal(err)
	}
	model.Service.RegisterEndpoints = true
	model.Service.Listen = u
	model.Service.TLS = new(tls.Config)
	model.Service.ServeMux = http.NewServeMux()
	s := model.Service.NewServer()
	addonServe(s)
	fmt.Printf("export GOVC_URL=%s GOVC_SIM_PID=%d\n", s.URL, os.Getpid())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	model.Remove()
}

// updateHostTemplate points the hosts' port and vmknic addresses at the listen address (as vcsim does).
func updateHostTemplate(ip string) error {
	addr, port, err := net.SplitHostPort(ip)
	if err != nil {
		return err
	}
	if port != "0" {
		n, err := strconv.Atoi(port)
		if err != nil {
			return err
		}
		esx.HostSystem.Summary.Config.Port = int32(n)
	}
	for i := range esx.HostConfigInfo.Network.Vnic {
		esx.HostConfigInfo.Network.Vnic[i].Spec.Ip.IpAddress = addr
	}
	return nil
}

// addonAfterCreate runs once the inventory exists: GPUs, managers and VM versions.
func addonAfterCreate(model *simulator.Model) error {
	reg = model.Map()
	models, err := parseGPUSpec(*gpuSpec)
	if err != nil {
		return err
	}
	if err = parseMethodDelays(*methodDelaySpec); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	for _, obj := range reg.All("HostSystem") {
		host := obj.(*simulator.HostSystem)
		h := newHostState(host, models, *vmVersion)
		attachSoftware(h, *hostDriver)
		hosts[host.Self] = h
		hostOrder = append(hostOrder, h)
	}
	for _, obj := range reg.All("VirtualMachine") {
		vmDefaults(obj.(*simulator.VirtualMachine))
	}
	reg.AddHandler(&vmDefaulter{})
	if *vmVersion != "" {
		if hwVersion(*vmVersion) == 0 {
			return fmt.Errorf("bad -gpu-vm-version %q (want vmx-N)", *vmVersion)
		}
		for _, obj := range reg.All("VirtualMachine") {
			vm := obj.(*simulator.VirtualMachine)
			reg.WithLock(newCtx(), vm, func() { vm.Config.Version = *vmVersion })
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

// vmDefaults sets the runtime fields vSphere always sets and vcsim leaves empty: an empty enum in
// runtime.faultToleranceState / recordReplayState makes pyVmomi fail to read VirtualMachine.runtime and
// VirtualMachine.summary [S9 VirtualMachineRuntimeInfo: both are required].
func vmDefaults(vm *simulator.VirtualMachine) {
	if vm.Runtime.FaultToleranceState == "" {
		vm.Runtime.FaultToleranceState = types.VirtualMachineFaultToleranceStateNotConfigured
	}
	if vm.Runtime.RecordReplayState == "" {
		vm.Runtime.RecordReplayState = types.VirtualMachineRecordReplayStateInactive
	}
	// summary.runtime is a second copy (VirtualMachineSummary.runtime): vmware.vmware's modules read it
	if vm.Summary.Runtime.FaultToleranceState == "" {
		vm.Summary.Runtime.FaultToleranceState = vm.Runtime.FaultToleranceState
	}
	if vm.Summary.Runtime.RecordReplayState == "" {
		vm.Summary.Runtime.RecordReplayState = vm.Runtime.RecordReplayState
	}
}

// vmDefaulter gives VMs created later (CreateVM, CloneVM, ...) the same defaults.
type vmDefaulter struct{}

func (*vmDefaulter) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "GpuvirtAddon", Value: "vm-defaults"}
}

func (*vmDefaulter) PutObject(_ *simulator.Context, obj mo.Reference) {
	if vm, ok := obj.(*simulator.VirtualMachine); ok {
		vmDefaults(vm)
	}
}

func (*vmDefaulter) UpdateObject(*simulator.Context, mo.Reference, []types.PropertyChange) {}

func (*vmDefaulter) RemoveObject(*simulator.Context, types.ManagedObjectReference) {}
