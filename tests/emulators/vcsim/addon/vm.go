// VM rules real vSphere applies and stock vcsim lacks (reference/test-infrastructure.md, "validation: none").
//
// ReconfigVM_Task:
//   - PCI passthrough and vGPU devices are added, removed or edited only with the VM powered off
//     [facts §8 "Requirements", S14 "Add a PCI device"];
//   - a vGPU profile must be one the VM's host offers (host.config.sharedPassthruGpuTypes) [facts §8, S9];
//   - Dynamic DirectPath (VirtualPCIPassthroughDynamicBackingInfo) needs hardware version vmx-17 [facts §8, S14];
//   - a memory reservation cannot exceed the memory size.
//
// PowerOnVM_Task:
//   - a VM with PCI passthrough or vGPU devices needs all its memory reserved
//     (memoryReservationLockedToMax or reservation = memory size) [facts §8, S14];
//   - a vGPU needs a GPU whose active graphics type is Shared Direct, otherwise it fails with "The amount of
//     graphics resource available in the parent resource pool is insufficient for the operation" [S1 §2.9];
//   - vGPUs are placed per the host's assignment policy (performance: the GPU with the fewest vGPUs;
//     consolidation: fill a GPU first) under the equal-size rule unless the GPU is in mixedSize mode, up to the
//     profile's max instances [facts §4, §8];
//   - a Dynamic DirectPath device needs vmx-17 and a free passthrough-active host device with a matching
//     vendor/device id (and hardware label when customLabel is set); its assignedId is set at power-on [S9];
//   - the host must not be in maintenance mode.
package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const insufficientGraphics = "The amount of graphics resource available in the parent resource pool is insufficient for the operation."

type assignment struct {
	host    types.ManagedObjectReference
	gpu     string
	profile string // "" for a passthrough device
	key     int32  // device key on the VM
}

// assignments of powered-on VMs, guarded by mu.
var assignments = map[types.ManagedObjectReference][]assignment{}

type vmView struct {
	ref         types.ManagedObjectReference
	name        string
	power       types.VirtualMachinePowerState
	host        *types.ManagedObjectReference
	version     int
	memoryMB    int32
	reservation int64
	locked      bool
	devices     []types.BaseVirtualDevice
}

func hwVersion(v string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(v, "vmx-"))
	if err != nil {
		return 0
	}
	return n
}

func powerState(vm *simulator.VirtualMachine) types.VirtualMachinePowerState {
	var state types.VirtualMachinePowerState
	reg.WithLock(newCtx(), vm, func() { state = vm.Runtime.PowerState })
	return state
}

func viewVM(vm *simulator.VirtualMachine) vmView {
	var v vmView
	reg.WithLock(newCtx(), vm, func() {
		v = vmView{ref: vm.Self, name: vm.Name, power: vm.Runtime.PowerState, host: vm.Runtime.Host}
		if vm.Config != nil {
			v.version = hwVersion(vm.Config.Version)
			v.memoryMB = vm.Config.Hardware.MemoryMB
			if vm.Config.MemoryAllocation != nil && vm.Config.MemoryAllocation.Reservation != nil {
				v.reservation = *vm.Config.MemoryAllocation.Reservation
			}
			v.locked = vm.Config.MemoryReservationLockedToMax != nil && *vm.Config.MemoryReservationLockedToMax
			v.devices = append(v.devices, vm.Config.Hardware.Device...)
		}
	})
	return v
}

func (h *hostState) vmsOn(id string) []types.ManagedObjectReference {
	seen := map[types.ManagedObjectReference]bool{}
	var out []types.ManagedObjectReference
	for ref, list := range assignments {
		for _, a := range list {
			if a.host == h.host.Self && a.gpu == id && !seen[ref] {
				seen[ref] = true
				out = append(out, ref)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

// syncAssignments releases what VMs that are no longer powered on held (power-off, guest shutdown,
// destroy, whatever path stock vcsim took). Call with mu held.
func syncAssignments() {
	touched := map[*hostState]bool{}
	for ref, list := range assignments {
		vm, ok := reg.Get(ref).(*simulator.VirtualMachine)
		if ok && powerState(vm) == types.VirtualMachinePowerStatePoweredOn {
			continue
		}
		delete(assignments, ref)
		for _, a := range list {
			if h := hosts[a.host]; h != nil {
				touched[h] = true
			}
		}
		if ok {
			setAssignedIDs(vm, nil)
		}
	}
	for h := range touched {
		h.render(nil)
	}
}

func setAssignedIDs(vm *simulator.VirtualMachine, ids map[int32]string) {
	reg.WithLock(newCtx(), vm, func() {
		for _, d := range vm.Config.Hardware.Device {
			if pt, ok := d.(*types.VirtualPCIPassthrough); ok {
				if b, ok := pt.Backing.(*types.VirtualPCIPassthroughDynamicBackingInfo); ok {
					b.AssignedId = ids[pt.Key]
				}
			}
		}
	})
}

func deviceLabel(d types.BaseVirtualDevice) string {
	if info := d.GetVirtualDevice().DeviceInfo; info != nil {
		if desc := info.GetDescription(); desc != nil {
			return desc.Label
		}
	}
	return fmt.Sprintf("device %d", d.GetVirtualDevice().Key)
}

// validateReconfig applies the ReconfigVM_Task rules; it returns a fault and message or nil.
func validateReconfig(v vmView, h *hostState, spec *types.VirtualMachineConfigSpec) (types.BaseMethodFault, string) {
	version := v.version
	if spec.Version != "" {
		version = hwVersion(spec.Version)
	}
	memory := v.memoryMB
	if spec.MemoryMB != 0 {
		memory = int32(spec.MemoryMB)
	}
	for i, change := range spec.DeviceChange {
		ds := change.GetVirtualDeviceConfigSpec()
		pt, ok := ds.Device.(*types.VirtualPCIPassthrough)
		if !ok {
			continue
		}
		if v.power != types.VirtualMachinePowerStatePoweredOff {
			return &types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOff, ExistingState: v.power},
				fmt.Sprintf("VM %s is %s: PCI passthrough and vGPU devices can be added, removed or changed only while it is powered off", v.name, v.power)
		}
		if ds.Operation == types.VirtualDeviceConfigSpecOperationRemove {
			continue
		}
		switch b := pt.Backing.(type) {
		case *types.VirtualPCIPassthroughVmiopBackingInfo:
			if h != nil && !h.offers(b.Vgpu) {
				return &types.InvalidDeviceSpec{InvalidVmConfig: types.InvalidVmConfig{Property: "virtualDeviceSpec.device.backing.vgpu"}, DeviceIndex: int32(i)},
					fmt.Sprintf("vGPU profile %q is not supported by host %s (supported: %s)", b.Vgpu, h.host.Name, strings.Join(h.offered(), ", "))
			}
		case *types.VirtualPCIPassthroughDynamicBackingInfo:
			if version < 17 {
				return &types.DeviceUnsupportedForVmVersion{InvalidDeviceSpec: types.InvalidDeviceSpec{DeviceIndex: int32(i)},
						CurrentVersion: fmt.Sprintf("vmx-%d", version), ExpectedVersion: "vmx-17"},
					fmt.Sprintf("Dynamic DirectPath I/O needs virtual hardware version vmx-17 or later; VM %s is vmx-%d", v.name, version)
			}
			if len(b.AllowedDevice) == 0 {
				return &types.InvalidDeviceSpec{InvalidVmConfig: types.InvalidVmConfig{Property: "virtualDeviceSpec.device.backing.allowedDevice"}, DeviceIndex: int32(i)},
					"a Dynamic DirectPath device needs at least one allowedDevice"
			}
		}
	}
	if spec.MemoryAllocation != nil && spec.MemoryAllocation.Reservation != nil && *spec.MemoryAllocation.Reservation > int64(memory) {
		return &types.InvalidArgument{InvalidProperty: "spec.memoryAllocation.reservation"},
			fmt.Sprintf("memory reservation %d MB exceeds the memory size %d MB of VM %s", *spec.MemoryAllocation.Reservation, memory, v.name)
	}
	return nil, ""
}

func (h *hostState) offered() []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range h.gpus {
		if g.active || !vgpuManagerLoaded(h) {
			continue
		}
		for _, p := range g.model.Profiles {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

func (h *hostState) offers(profile string) bool {
	for _, p := range h.offered() {
		if p == profile {
			return true
		}
	}
	return false
}

// fits says whether one more vGPU of profile fits on g next to existing (profiles).
func fits(g *gpuDevice, existing []string, profile string) bool {
	fb, slices, ok := profileShape(profile)
	if !ok {
		return false
	}
	same, usedFB, usedSlices := 0, int64(0), 0
	for _, e := range existing {
		efb, eslices, _ := profileShape(e)
		if (eslices > 0) != (slices > 0) { // time-sliced and MIG-backed vGPUs never share a GPU [facts §4]
			return false
		}
		if slices == 0 && g.activeMode != "mixedSize" && efb != fb { // equal-size mode [facts §4]
			return false
		}
		if e == profile {
			same++
		}
		usedFB += efb
		usedSlices += eslices
	}
	if slices > 0 {
		return usedSlices+slices <= 7 && same < g.model.maxInstances(profile)
	}
	if g.activeMode == "mixedSize" {
		return usedFB+fb <= g.model.FBMiB
	}
	return len(existing) < g.model.maxInstances(profile)
}

// placePowerOn applies the PowerOnVM_Task rules and returns where the VM's GPUs go.
func placePowerOn(v vmView, h *hostState) ([]assignment, map[int32]string, types.BaseMethodFault, string) {
	var pci []*types.VirtualPCIPassthrough
	for _, d := range v.devices {
		if pt, ok := d.(*types.VirtualPCIPassthrough); ok {
			pci = append(pci, pt)
		}
	}
	if len(pci) == 0 {
		return nil, nil, nil, ""
	}
	if !v.locked && v.reservation < int64(v.memoryMB) {
		return nil, nil, &types.GenericVmConfigFault{Reason: "memory reservation"},
			fmt.Sprintf("Invalid memory setting: memory reservation (sched.mem.min) should be equal to memsize(%d). VM %s has PCI passthrough or vGPU devices: reserve all guest memory (memoryReservationLockedToMax)", v.memoryMB, v.name)
	}
	if h == nil {
		return nil, nil, &types.InvalidState{}, "the VM's host has no GPU state"
	}
	existing := map[string][]string{} // gpu id -> profiles (or "" for passthrough)
	for ref, list := range assignments {
		if ref == v.ref {
			continue
		}
		for _, a := range list {
			if a.host == h.host.Self {
				existing[a.gpu] = append(existing[a.gpu], a.profile)
			}
		}
	}
	var placed []assignment
	assigned := map[int32]string{}
	for _, pt := range pci {
		switch b := pt.Backing.(type) {
		case *types.VirtualPCIPassthroughVmiopBackingInfo:
			var best *gpuDevice
			offeredAnywhere, sharedDirect := false, false
			for _, g := range h.gpus {
				if g.active || !g.model.offers(b.Vgpu) {
					continue
				}
				offeredAnywhere = true
				if g.activeType != "sharedDirect" {
					continue
				}
				sharedDirect = true
				if !fits(g, existing[g.id], b.Vgpu) {
					continue
				}
				if best == nil ||
					(h.policy == "consolidation" && len(existing[g.id]) > len(existing[best.id])) ||
					(h.policy != "consolidation" && len(existing[g.id]) < len(existing[best.id])) {
					best = g
				}
			}
			if !offeredAnywhere {
				return nil, nil, &types.GenericVmConfigFault{Reason: "vgpu"},
					fmt.Sprintf("vGPU profile %q of %s is not available on host %s", b.Vgpu, deviceLabel(pt), h.host.Name)
			}
			if best == nil {
				msg := insufficientGraphics
				if !sharedDirect {
					msg += fmt.Sprintf(" (host %s has no GPU in Shared Direct mode for %s)", h.host.Name, b.Vgpu)
				}
				return nil, nil, &types.InsufficientResourcesFault{}, msg
			}
			existing[best.id] = append(existing[best.id], b.Vgpu)
			placed = append(placed, assignment{host: h.host.Self, gpu: best.id, profile: b.Vgpu, key: pt.Key})
		case *types.VirtualPCIPassthroughDynamicBackingInfo:
			if v.version < 17 {
				return nil, nil, &types.DeviceUnsupportedForVmVersion{CurrentVersion: fmt.Sprintf("vmx-%d", v.version), ExpectedVersion: "vmx-17"},
					fmt.Sprintf("Dynamic DirectPath I/O needs virtual hardware version vmx-17 or later; VM %s is vmx-%d", v.name, v.version)
			}
			var found *gpuDevice
			for _, g := range h.gpus {
				if !g.active || len(existing[g.id]) > 0 || (b.CustomLabel != "" && b.CustomLabel != g.label) {
					continue
				}
				for _, a := range b.AllowedDevice {
					if a.VendorId == nvidiaVendorID && a.DeviceId == int32(g.model.DeviceID) {
						found = g
						break
					}
				}
				if found != nil {
					break
				}
			}
			if found == nil {
				return nil, nil, &types.GenericVmConfigFault{Reason: "dynamic passthrough"},
					fmt.Sprintf("no free passthrough-active PCI device on host %s matches %s (allowed %s, label %q)",
						h.host.Name, deviceLabel(pt), describeAllowed(b.AllowedDevice), b.CustomLabel)
			}
			existing[found.id] = append(existing[found.id], "")
			assigned[pt.Key] = found.id
			placed = append(placed, assignment{host: h.host.Self, gpu: found.id, key: pt.Key})
		case *types.VirtualPCIPassthroughDeviceBackingInfo:
			g := h.find(b.Id)
			if g == nil || !g.active || len(existing[g.id]) > 0 {
				return nil, nil, &types.GenericVmConfigFault{Reason: "passthrough"},
					fmt.Sprintf("PCI device %s on host %s is not available for passthrough (not active or in use)", b.Id, h.host.Name)
			}
			existing[g.id] = append(existing[g.id], "")
			placed = append(placed, assignment{host: h.host.Self, gpu: g.id, key: pt.Key})
		}
	}
	return placed, assigned, nil, ""
}

func describeAllowed(list []types.VirtualPCIPassthroughAllowedDevice) string {
	var out []string
	for _, a := range list {
		out = append(out, fmt.Sprintf("%04x:%04x", uint32(a.VendorId), uint32(a.DeviceId)))
	}
	return strings.Join(out, ",")
}

// placePCIDevices puts the VM's PCI passthrough devices (vGPU, passthrough, Dynamic DirectPath) where vSphere puts
// them: on the VM's PCI controller (key 100, "PCI controller 0"), labelled "PCI device 0", "PCI device 1", ... in
// device order. vcsim leaves a device added without a controller at controller key 0 with a generated label
// ("pcipassthrough-N"); what a vSphere client shows and community.vmware's vmware_guest_vgpu looks up is the PCI
// controller's "PCI device N" (vSphere Web Services API: VirtualPCIController; [S14] "Add a PCI device").
func placePCIDevices(vm *simulator.VirtualMachine) {
	ctx := newCtx()
	ctx.WithLock(vm, func() {
		if vm.Config == nil {
			return
		}
		devices := vm.Config.Hardware.Device
		var pciKeys []int32
		changed := false
		n := 0
		for _, d := range devices {
			pt, ok := d.(*types.VirtualPCIPassthrough)
			if !ok {
				continue
			}
			label := fmt.Sprintf("PCI device %d", n)
			n++
			if pt.ControllerKey != pciControllerKey {
				pt.ControllerKey = pciControllerKey
				changed = true
			}
			if pt.DeviceInfo == nil {
				pt.DeviceInfo = &types.Description{Summary: label}
			}
			if desc := pt.DeviceInfo.GetDescription(); desc.Label != label {
				desc.Label = label
				changed = true
			}
			pciKeys = append(pciKeys, pt.Key)
		}
		for _, d := range devices {
			if c, ok := d.(*types.VirtualPCIController); ok && c.Key == pciControllerKey {
				var keep []int32
				for _, key := range c.Device {
					if !containsKey(pciKeys, key) && deviceByKey(devices, key) != nil {
						keep = append(keep, key)
					}
				}
				keep = append(keep, pciKeys...)
				if fmt.Sprint(keep) != fmt.Sprint(c.Device) {
					c.Device = keep
					changed = true
				}
			}
		}
		if changed {
			ctx.Update(vm, []types.PropertyChange{{Name: "config.hardware.device", Val: devices}})
		}
	})
}

const pciControllerKey = 100

func containsKey(keys []int32, key int32) bool {
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	return false
}

func deviceByKey(devices []types.BaseVirtualDevice, key int32) types.BaseVirtualDevice {
	for _, d := range devices {
		if d.GetVirtualDevice().Key == key {
			return d
		}
	}
	return nil
}
