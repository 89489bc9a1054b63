// Per-host GPU state: hardware.pciDevice, HostGraphicsManager and HostPciPassthruSystem.
//
// Behaviour follows reference/gpu-virtualization-facts.md §8 ([S9] vim25 types, [S1 §2.9]):
//   - configured graphics settings (UpdateGraphicsConfig) take effect only after a host reboot or an
//     nv-hostengine restart; graphicsInfo shows what is active, graphicsConfig what is configured;
//   - a per-device vgpuMode change takes effect on RefreshGraphicsManager ("esxcli graphics host refresh");
//   - UpdatePassthruConfig sets passthruEnabled; passthruActive follows immediately only with applyNow
//     (unset applyNow = the host capability deviceRebindWithoutRebootSupported, false here), otherwise after
//     a reboot;
//   - a GPU whose passthrough is active is a "direct" device: it offers no vGPU profiles.
package main

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var pciBuses = []byte{0x3b, 0x5e, 0x86, 0xaf, 0xd8, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21}

type gpuDevice struct {
	model      *gpuModel
	id         string // "0000:3b:00.0"
	label      string // hardwareLabel (Dynamic DirectPath custom label)
	enabled    bool   // passthruEnabled (configured)
	active     bool   // passthruActive
	activeType string // active graphics type of the device: shared | sharedDirect
	activeMode string // active vgpuMode: none | sameSize | mixedSize
}

type hostState struct {
	host    *simulator.HostSystem
	gm      *HostGraphicsManager
	ps      *HostPciPassthruSystem
	gpus    []*gpuDevice
	other   []string // ids of the non-GPU PCI devices (not passthrough capable)
	config  types.HostGraphicsConfig
	defType string // active host default graphics type
	policy  string // active assignment policy
	boots   int
}

// addon state, guarded by mu.
var (
	mu        sync.Mutex
	hosts     = map[types.ManagedObjectReference]*hostState{}
	hostOrder []*hostState
)

// HostGraphicsManager is the per-host graphics manager (host.configManager.graphicsManager).
type HostGraphicsManager struct {
	mo.HostGraphicsManager
	state *hostState
}

// HostPciPassthruSystem is the per-host passthrough system (host.configManager.pciPassthruSystem).
type HostPciPassthruSystem struct {
	mo.HostPciPassthruSystem
	state *hostState
}

func (h *hostState) find(id string) *gpuDevice {
	for _, g := range h.gpus {
		if g.id == id {
			return g
		}
	}
	return nil
}

func (h *hostState) isPCI(id string) bool {
	if h.find(id) != nil {
		return true
	}
	for _, o := range h.other {
		if o == id {
			return true
		}
	}
	return false
}

// configuredType is the graphics type a device gets on the next reboot / hostengine restart.
func (h *hostState) configuredType(id string) string {
	for _, d := range h.config.DeviceType {
		if d.DeviceId == id && d.GraphicsType != "" {
			return d.GraphicsType
		}
	}
	return h.config.HostDefaultGraphicsType
}

func (h *hostState) configuredMode(id string) string {
	for _, d := range h.config.DeviceType {
		if d.DeviceId == id && d.VgpuMode != "" {
			return d.VgpuMode
		}
	}
	return ""
}

func modeFor(graphicsType, requested string) string {
	if graphicsType != "sharedDirect" {
		return "none"
	}
	if requested == "" {
		return "sameSize"
	}
	return requested
}

// activate applies the configured graphics settings (reboot or nv-hostengine restart) [S1 §2.9].
func (h *hostState) activate() {
	h.defType = h.config.HostDefaultGraphicsType
	h.policy = h.config.SharedPassthruAssignmentPolicy
	loaded := vgpuManagerLoaded(h)
	for _, g := range h.gpus {
		g.activeType = h.configuredType(g.id)
		g.activeMode = modeFor(g.activeType, h.configuredMode(g.id))
		if !loaded { // no NVIDIA host driver: basic graphics only [S9 HostGraphicsInfoGraphicsType] (software.go)
			g.activeType, g.activeMode = "basic", "none"
		}
	}
}

func newHostState(host *simulator.HostSystem, models []*gpuModel, vmVersion string) *hostState {
	h := &hostState{host: host}
	for _, d := range host.Hardware.PciDevice {
		h.other = append(h.other, d.Id)
	}
	devices := append([]types.HostPciDevice{}, host.Hardware.PciDevice...)
	for i, m := range models {
		bus := byte(0x40 + i)
		if i < len(pciBuses) {
			bus = pciBuses[i]
		}
		id := fmt.Sprintf("0000:%02x:00.0", bus)
		h.gpus = append(h.gpus, &gpuDevice{model: m, id: id})
		devices = append(devices, types.HostPciDevice{
			Id: id, ClassId: 0x0302, Bus: bus, Slot: 0, Function: 0,
			VendorId: int16(nvidiaVendorID), SubVendorId: int16(nvidiaVendorID), VendorName: "NVIDIA Corporation",
			DeviceId: int16(m.DeviceID), SubDeviceId: int16(m.SubDeviceID), DeviceName: m.DeviceName,
		})
	}
	host.Hardware.PciDevice = devices
	// After installing the NVIDIA VIB the host default is Shared [S1 §2.9].
	h.config = types.HostGraphicsConfig{HostDefaultGraphicsType: "shared", SharedPassthruAssignmentPolicy: "performance"}
	h.activate()

	h.gm = &HostGraphicsManager{state: h}
	h.gm.Self = types.ManagedObjectReference{Type: "HostGraphicsManager", Value: "graphicsManager-" + host.Self.Value}
	reg.Put(h.gm)
	h.ps = &HostPciPassthruSystem{state: h}
	h.ps.Self = types.ManagedObjectReference{Type: "HostPciPassthruSystem", Value: "pciPassthruSystem-" + host.Self.Value}
	reg.Put(h.ps)
	gmRef, psRef := h.gm.Self, h.ps.Self
	host.ConfigManager.GraphicsManager = &gmRef
	host.ConfigManager.PciPassthruSystem = &psRef
	// Stock vcsim leaves host.capability unset (reading it crashes its Fetch); unset applyNow follows
	// deviceRebindWithoutRebootSupported [S9], false here: passthrough changes wait for a reboot.
	capability := types.HostCapability{}
	if host.Capability != nil {
		capability = *host.Capability
	}
	no := false
	capability.DeviceRebindWithoutRebootSupported = &no
	capability.RebootSupported = true
	capability.ShutdownSupported = true
	capability.MaintenanceModeSupported = true
	capability.VmotionSupported = true
	host.Capability = &capability
	h.render(nil)
	return h
}

// render recomputes every property derived from the state. ctx is the context of the add-on method that is
// running (the simulator holds the lock of that method's object for it) or nil. Call with mu held.
func (h *hostState) render(ctx *simulator.Context) {
	if ctx == nil {
		ctx = newCtx()
	}
	var info []types.HostGraphicsInfo
	offered := map[string]bool{}
	var profiles []string
	loaded := vgpuManagerLoaded(h)
	for _, g := range h.gpus {
		graphicsType, mode := g.activeType, g.activeMode
		if g.active {
			graphicsType, mode = "direct", "none"
		} else if loaded {
			for _, p := range g.model.Profiles {
				if !offered[p] {
					offered[p] = true
					profiles = append(profiles, p)
				}
			}
		}
		info = append(info, types.HostGraphicsInfo{
			DeviceName: "NVIDIA " + strings.ToUpper(g.model.Token), VendorName: "NVIDIA Corporation", PciId: g.id,
			GraphicsType: graphicsType, VgpuMode: mode, MemorySizeInKB: g.model.FBMiB * 1024, Vm: h.vmsOn(g.id),
		})
	}
	var caps []types.HostSharedGpuCapabilities
	for _, p := range profiles {
		caps = append(caps, types.HostSharedGpuCapabilities{Vgpu: p, DiskSnapshotSupported: true,
			MemorySnapshotSupported: true, SuspendSupported: true, MigrateSupported: true})
	}
	var passthru []types.BaseHostPciPassthruInfo
	for _, id := range h.other {
		passthru = append(passthru, &types.HostPciPassthruInfo{Id: id, DependentDevice: id})
	}
	for _, g := range h.gpus {
		passthru = append(passthru, &types.HostPciPassthruInfo{Id: g.id, DependentDevice: g.id, PassthruCapable: true,
			PassthruEnabled: g.enabled, PassthruActive: g.active, HardwareLabel: g.label})
	}
	config := h.config
	config.DeviceType = append([]types.HostGraphicsConfigDeviceType{}, h.config.DeviceType...)

	ctx.WithLock(h.gm, func() {
		h.gm.GraphicsInfo = info
		h.gm.GraphicsConfig = &config
		h.gm.SharedPassthruGpuTypes = profiles
		h.gm.SharedGpuCapabilities = caps
	})
	ctx.WithLock(h.ps, func() {
		h.ps.PciPassthruInfo = passthru
	})
	ctx.WithLock(h.host, func() {
		cfg := h.host.Config
		cfg.GraphicsInfo = info
		cfg.GraphicsConfig = &config
		cfg.SharedPassthruGpuTypes = profiles
		cfg.SharedGpuCapabilities = caps
		cfg.PciPassthruInfo = passthru
	})
}

// UpdateGraphicsConfig stores the configuration; it becomes active on reboot / nv-hostengine restart, a
// vgpuMode on RefreshGraphicsManager. Values are validated like vim25 enums HostGraphicsConfigGraphicsType,
// HostGraphicsConfigSharedPassthruAssignmentPolicy and vgpuMode [S9]. Nothing changes for running VMs until
// the settings become active (restartHostengine and reboot refuse while VMs use an affected GPU).
func (m *HostGraphicsManager) UpdateGraphicsConfig(ctx *simulator.Context, req *types.UpdateGraphicsConfig) soap.HasFault {
	body := &methods.UpdateGraphicsConfigBody{}
	mu.Lock()
	defer mu.Unlock()
	h := m.state
	c := req.Config
	if fault := validateGraphicsConfig(h, c); fault != nil {
		body.Fault_ = fault
		return body
	}
	next := h.config
	if c.HostDefaultGraphicsType != "" {
		next.HostDefaultGraphicsType = c.HostDefaultGraphicsType
	}
	if c.SharedPassthruAssignmentPolicy != "" {
		next.SharedPassthruAssignmentPolicy = c.SharedPassthruAssignmentPolicy
	}
	merged := append([]types.HostGraphicsConfigDeviceType{}, h.config.DeviceType...)
	for _, d := range c.DeviceType {
		replaced := false
		for i := range merged {
			if merged[i].DeviceId == d.DeviceId {
				if d.GraphicsType != "" {
					merged[i].GraphicsType = d.GraphicsType
				}
				if d.VgpuMode != "" { // unset = unchanged (API 8.0.3.0) [S9]
					merged[i].VgpuMode = d.VgpuMode
				}
				replaced = true
			}
		}
		if !replaced {
			merged = append(merged, d)
		}
	}
	next.DeviceType = merged
	h.config = next
	h.render(ctx)
	body.Res = &types.UpdateGraphicsConfigResponse{}
	return body
}

func validateGraphicsConfig(h *hostState, c types.HostGraphicsConfig) *soap.Fault {
	validType := map[string]bool{"": true, "shared": true, "sharedDirect": true}
	if !validType[c.HostDefaultGraphicsType] {
		return simulator.Fault("invalid hostDefaultGraphicsType "+c.HostDefaultGraphicsType,
			&types.InvalidArgument{InvalidProperty: "config.hostDefaultGraphicsType"})
	}
	policies := map[string]bool{"": true, "performance": true, "consolidation": true}
	if !policies[c.SharedPassthruAssignmentPolicy] {
		return simulator.Fault("invalid sharedPassthruAssignmentPolicy "+c.SharedPassthruAssignmentPolicy,
			&types.InvalidArgument{InvalidProperty: "config.sharedPassthruAssignmentPolicy"})
	}
	modes := map[string]bool{"": true, "sameSize": true, "mixedSize": true}
	for _, d := range c.DeviceType {
		if h.find(d.DeviceId) == nil {
			return simulator.Fault("no graphics device "+d.DeviceId+" on host "+h.host.Name,
				&types.InvalidArgument{InvalidProperty: "config.deviceType.deviceId"})
		}
		if d.GraphicsType != "" && !validType[d.GraphicsType] {
			return simulator.Fault("invalid graphicsType "+d.GraphicsType,
				&types.InvalidArgument{InvalidProperty: "config.deviceType.graphicsType"})
		}
		if !modes[d.VgpuMode] {
			return simulator.Fault("invalid vgpuMode "+d.VgpuMode, &types.InvalidArgument{InvalidProperty: "config.deviceType.vgpuMode"})
		}
	}
	return nil
}

// RefreshGraphicsManager re-reads device information; pending vgpuMode changes of devices that are already
// Shared Direct and have no running vGPUs take effect (esxcli graphics host refresh, [S1 §2.11]).
func (m *HostGraphicsManager) RefreshGraphicsManager(ctx *simulator.Context, req *types.RefreshGraphicsManager) soap.HasFault {
	mu.Lock()
	defer mu.Unlock()
	h := m.state
	for _, g := range h.gpus {
		if g.activeType == "sharedDirect" && len(h.vmsOn(g.id)) == 0 {
			g.activeMode = modeFor(g.activeType, h.configuredMode(g.id))
		}
	}
	h.render(ctx)
	return &methods.RefreshGraphicsManagerBody{Res: &types.RefreshGraphicsManagerResponse{}}
}

// IsSharedGraphicsActive: true when a GPU of the host is active in a shared mode (vSGA or vGPU).
func (m *HostGraphicsManager) IsSharedGraphicsActive(ctx *simulator.Context, req *types.IsSharedGraphicsActive) soap.HasFault {
	mu.Lock()
	defer mu.Unlock()
	active := false
	for _, g := range m.state.gpus {
		if !g.active && (g.activeType == "shared" || g.activeType == "sharedDirect") {
			active = true
		}
	}
	return &methods.IsSharedGraphicsActiveBody{Res: &types.IsSharedGraphicsActiveResponse{Returnval: active}}
}

// UpdatePassthruConfig enables/disables passthrough per device. applyNow true makes it active at once;
// unset follows the host capability deviceRebindWithoutRebootSupported (false here) [S9]; otherwise the
// change is active after a reboot. A device that powered-on VMs use cannot be rebound now (applyNow).
func (p *HostPciPassthruSystem) UpdatePassthruConfig(ctx *simulator.Context, req *types.UpdatePassthruConfig) soap.HasFault {
	body := &methods.UpdatePassthruConfigBody{}
	mu.Lock()
	defer mu.Unlock()
	h := p.state
	for _, base := range req.Config {
		c := base.GetHostPciPassthruConfig()
		if !h.isPCI(c.Id) {
			body.Fault_ = simulator.Fault(fmt.Sprintf("no PCI device %s on host %s", c.Id, h.host.Name),
				&types.InvalidArgument{InvalidProperty: "config.id"})
			return body
		}
		g := h.find(c.Id)
		if g == nil {
			if c.PassthruEnabled {
				body.Fault_ = simulator.Fault(fmt.Sprintf("PCI device %s on host %s is not passthrough capable", c.Id, h.host.Name),
					&types.HostConfigFault{})
				return body
			}
			continue
		}
		if g.enabled != c.PassthruEnabled && h.applyNow(c) {
			if vms := h.vmsOn(g.id); len(vms) > 0 {
				body.Fault_ = simulator.Fault(fmt.Sprintf("GPU %s is used by powered-on VM(s) %s", g.id, refNames(vms)),
					&types.ResourceInUse{Type: "HostPciDevice", Name: g.id})
				return body
			}
		}
	}
	for _, base := range req.Config {
		c := base.GetHostPciPassthruConfig()
		g := h.find(c.Id)
		if g == nil {
			continue
		}
		g.enabled = c.PassthruEnabled
		if c.HardwareLabel != "" {
			g.label = c.HardwareLabel
		}
		if h.applyNow(c) {
			g.active = g.enabled
		}
	}
	h.render(ctx)
	body.Res = &types.UpdatePassthruConfigResponse{}
	return body
}

// applyNow: whether a passthrough change is active at once. An unset applyNow follows the host's
// capability.deviceRebindWithoutRebootSupported [S9 HostPciPassthruConfig.applyNow], for the in-use check and the
// activation alike.
func (h *hostState) applyNow(c *types.HostPciPassthruConfig) bool {
	if c.ApplyNow != nil {
		return *c.ApplyNow
	}
	rebind := false
	reg.WithLock(newCtx(), h.host, func() {
		if capability := h.host.Capability; capability != nil && capability.DeviceRebindWithoutRebootSupported != nil {
			rebind = *capability.DeviceRebindWithoutRebootSupported
		}
	})
	return rebind
}

// Refresh re-reads the passthrough information; nothing becomes active without a reboot or applyNow.
func (p *HostPciPassthruSystem) Refresh(ctx *simulator.Context, req *types.Refresh) soap.HasFault {
	mu.Lock()
	defer mu.Unlock()
	p.state.render(ctx)
	return &methods.RefreshBody{Res: &types.RefreshResponse{}}
}

// reboot models RebootHost_Task, which stock vcsim lacks. force=false: the host must be in maintenance mode (and
// so runs no VM). force=true: the host reboots "regardless of whether it is in maintenance mode ... even if there
// are virtual machines running" [S9 HostSystem.RebootHost_Task]: its powered-on VMs go down with it (powered off,
// what they held released). Afterwards pending passthrough and graphics settings are active and runtime.bootTime
// is the reboot time. The host is back at once (a real one is away for minutes).
func (h *hostState) reboot(force bool) (string, types.BaseMethodFault) {
	inMaintenance := false
	reg.WithLock(newCtx(), h.host, func() {
		inMaintenance = h.host.Runtime.InMaintenanceMode
	})
	running := poweredOnVMs(h.host)
	if !force && !inMaintenance {
		return fmt.Sprintf("host %s is not in maintenance mode (reboot it with force, or enter maintenance mode first)", h.host.Name),
			&types.InvalidState{}
	}
	if !force && len(running) > 0 {
		return fmt.Sprintf("VMs are powered on on host %s: %s", h.host.Name, refNames(running)), &types.InvalidState{}
	}
	for _, ref := range running {
		if vm, ok := reg.Get(ref).(*simulator.VirtualMachine); ok {
			powerOffWithHost(vm)
		}
	}
	syncAssignments()
	for _, g := range h.gpus {
		g.active = g.enabled
	}
	bootSoftware(h)
	h.activate()
	h.boots++
	now := time.Now()
	reg.WithLock(newCtx(), h.host, func() {
		h.host.Runtime.BootTime = &now
	})
	h.render(nil)
	return "", nil
}

// restartHostengine models `nv-hostengine -t; nv-hostengine -d` on the host: configured graphics types and
// the default become active without a reboot [S1 §2.9]. Refused while VMs use a GPU that would change.
func (h *hostState) restartHostengine() error {
	if !vgpuManagerLoaded(h) {
		return fmt.Errorf("nv-hostengine is not installed on host %s: install the NVIDIA vGPU Manager VIB and reboot", h.host.Name)
	}
	for _, g := range h.gpus {
		if g.activeType != h.configuredType(g.id) && len(h.vmsOn(g.id)) > 0 {
			return fmt.Errorf("GPU %s is used by powered-on VMs", g.id)
		}
	}
	h.activate()
	h.render(nil)
	return nil
}

func refNames(refs []types.ManagedObjectReference) string {
	var names []string
	for _, r := range refs {
		name := r.Value
		if e, ok := reg.Get(r).(mo.Entity); ok {
			name = e.Entity().Name
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// powerOffWithHost: a VM whose host reboots under it is powered off (what vSphere shows after a forced host reboot).
func powerOffWithHost(vm *simulator.VirtualMachine) {
	ctx := newCtx()
	ctx.WithLock(vm, func() {
		ctx.Update(vm, []types.PropertyChange{
			{Name: "runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff},
			{Name: "summary.runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff},
		})
	})
}
