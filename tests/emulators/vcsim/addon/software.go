// ESXi host software for the GPU add-on: the NVIDIA vGPU Manager VIB and the vSphere API around it.
//
//   - HostImageConfigManager (host.configManager.imageConfigManager): fetchSoftwarePackages (what
//     `esxcli software vib list` shows: the VIBs of the image the host boots next), the host acceptance level
//     and image profile;
//   - HostPatchManager (host.configManager.patchManager): InstallHostPatchV2_Task with vibUrls. The emulated
//     host downloads each VIB (file:// or http(s) on loopback), reads descriptor.xml from the VIB's ar archive
//     and refuses like ESXi: a VIB whose descriptor requires maintenance mode on a host that is not in it
//     (InvalidState, "[MaintenanceModeError]"), a VIB below the host acceptance level (PlatformConfigFault,
//     "[AcceptanceLevelError]"), a URL it cannot fetch (PatchBinariesNotFound), a file that is not a VIB
//     (PatchMetadataCorrupted). A VIB that is not live-installable is active only after a reboot:
//     summary.rebootRequired is true until then;
//   - what the NVIDIA vGPU Manager changes: without a loaded manager VIB the GPUs are "basic" graphics
//     devices [S9 HostGraphicsInfoGraphicsType] and offer no vGPU profiles; the manager VIB loads at boot;
//   - the maintenance-mode rules around it: EnterMaintenanceMode_Task does not finish while VMs are powered on
//     on the host (a cluster without DRS automation: they must be migrated or powered off; the task fails with
//     Timedout after its timeout, 0 = wait); RelocateVM_Task keeps the hosts' VM lists right (stock vcsim removes
//     the VM from the destination instead of the source), refuses a destination in maintenance mode, and
//     refuses to move a powered-on VM with a passthrough GPU or vGPU (DisallowedMigrationDeviceAttached).
//
// Facts: reference/gpu-virtualization-facts.md §8 [S9] (HostPatchManager, HostImageConfigManager,
// SoftwarePackage, HostListSummary.rebootRequired) and [S1 §2.9] (install the VIB in maintenance mode, reboot).
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/xml"
	"flag"
	"fmt"
	"io/ioutil"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// DefaultHostDriver is the NVIDIA vGPU Manager VIB version every host has at start (vGPU 17 for ESXi 8).
const DefaultHostDriver = "550.90.05-1OEM.800.1.0.20613240"

var hostDriver = flag.String("gpu-host-driver", DefaultHostDriver,
	"version of the NVIDIA vGPU Manager VIB (NVD-VGPU-800) installed on every host at start; none = not installed")

// acceptance levels, most trusted first (HostImageAcceptanceLevel [S9]).
var acceptanceRank = map[string]int{"vmware_certified": 4, "vmware_accepted": 3, "partner": 2, "community": 1}

type vib struct {
	Name, Version, Vendor, Acceptance, Summary, Type string
	MaintenanceMode                                  bool // system-requires/maintenance-mode
	LiveInstall                                      bool // live-install-allowed
	Released                                         time.Time
}

type softwareState struct {
	installed  map[string]vib // the image the host boots next (vib list)
	running    map[string]vib // what the host booted with
	acceptance string
	icm        *HostImageConfigManager
	pm         *HostPatchManager
}

// software is guarded by mu (host.go).
var software = map[types.ManagedObjectReference]*softwareState{}

// HostImageConfigManager is the per-host image configuration manager.
type HostImageConfigManager struct {
	mo.HostImageConfigManager
	state *hostState
}

// HostPatchManager is the per-host patch manager.
type HostPatchManager struct {
	mo.HostPatchManager
	state *hostState
}

func isVgpuManager(name string) bool {
	upper := strings.ToUpper(name)
	return strings.HasPrefix(upper, "NVD-VGPU") || strings.HasPrefix(upper, "NVD-AIE") || strings.HasPrefix(upper, "NVIDIA-VMWARE")
}

// vgpuManagerLoaded: the host booted with an NVIDIA vGPU Manager VIB. Call with mu held.
func vgpuManagerLoaded(h *hostState) bool {
	s := software[h.host.Self]
	if s == nil {
		return true // before attachSoftware: the add-on's historical start state (manager installed)
	}
	for name := range s.running {
		if isVgpuManager(name) {
			return true
		}
	}
	return false
}

func baseVibs(driver string) map[string]vib {
	released := time.Date(2024, 6, 25, 0, 0, 0, 0, time.UTC)
	out := map[string]vib{}
	for _, v := range []vib{
		{Name: "esx-base", Version: "8.0.3-0.0.24022510", Vendor: "VMware", Acceptance: "vmware_certified", Summary: "ESXi base system", Type: "bootbank", MaintenanceMode: true},
		{Name: "esx-ui", Version: "2.16.0-23682479", Vendor: "VMware", Acceptance: "vmware_certified", Summary: "VMware Host Client", Type: "bootbank", LiveInstall: true},
		{Name: "vmkusb", Version: "0.1-23vmw.803.0.0.24022510", Vendor: "VMW", Acceptance: "vmware_certified", Summary: "USB Native Driver", Type: "bootbank", MaintenanceMode: true},
	} {
		v.Released = released
		out[v.Name] = v
	}
	if driver != "" && driver != "none" {
		out["NVD-VGPU-800"] = vib{Name: "NVD-VGPU-800", Version: driver, Vendor: "NVD", Acceptance: "vmware_accepted",
			Summary: "NVIDIA vGPU Manager", Type: "bootbank", MaintenanceMode: true, Released: released}
	}
	return out
}

// attachSoftware gives a host its image (with or without the vGPU Manager) and the two managers, then
// re-activates the graphics state for it. Call with mu held.
func attachSoftware(h *hostState, driver string) {
	s := &softwareState{installed: baseVibs(driver), running: baseVibs(driver), acceptance: "partner"}
	s.icm = &HostImageConfigManager{state: h}
	s.icm.Self = types.ManagedObjectReference{Type: "HostImageConfigManager", Value: "imageConfigManager-" + h.host.Self.Value}
	reg.Put(s.icm)
	s.pm = &HostPatchManager{state: h}
	s.pm.Self = types.ManagedObjectReference{Type: "HostPatchManager", Value: "patchManager-" + h.host.Self.Value}
	reg.Put(s.pm)
	icmRef, pmRef := s.icm.Self, s.pm.Self
	h.host.ConfigManager.ImageConfigManager = &icmRef
	h.host.ConfigManager.PatchManager = &pmRef
	software[h.host.Self] = s
	h.activate()
	h.render(nil)
}

// bootSoftware: on reboot the installed image becomes the running one. Call with mu held.
func bootSoftware(h *hostState) {
	s := software[h.host.Self]
	if s == nil {
		return
	}
	s.running = map[string]vib{}
	for k, v := range s.installed {
		s.running[k] = v
	}
	setRebootRequired(h, false)
}

func setRebootRequired(h *hostState, value bool) {
	reg.WithLock(newCtx(), h.host, func() { h.host.Summary.RebootRequired = value })
}

func (v vib) pkg() types.SoftwarePackage {
	released := v.Released
	mm, live := v.MaintenanceMode, v.LiveInstall
	return types.SoftwarePackage{
		Name: v.Name, Version: v.Version, Type: v.Type, Vendor: v.Vendor, AcceptanceLevel: v.Acceptance,
		Summary: v.Summary, Description: v.Summary, CreationDate: &released, MaintenanceModeRequired: &mm,
		Capability: types.SoftwarePackageCapability{LiveInstallAllowed: &live, LiveRemoveAllowed: &live},
	}
}

// FetchSoftwarePackages lists the VIBs of the image the host boots next (esxcli software vib list).
func (m *HostImageConfigManager) FetchSoftwarePackages(ctx *simulator.Context, req *types.FetchSoftwarePackages) soap.HasFault {
	mu.Lock()
	defer mu.Unlock()
	s := software[m.state.host.Self]
	var names []string
	for name := range s.installed {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []types.SoftwarePackage
	for _, name := range names {
		out = append(out, s.installed[name].pkg())
	}
	return &methods.FetchSoftwarePackagesBody{Res: &types.FetchSoftwarePackagesResponse{Returnval: out}}
}

// HostImageConfigGetAcceptance returns the host acceptance level.
func (m *HostImageConfigManager) HostImageConfigGetAcceptance(ctx *simulator.Context, req *types.HostImageConfigGetAcceptance) soap.HasFault {
	mu.Lock()
	defer mu.Unlock()
	return &methods.HostImageConfigGetAcceptanceBody{Res: &types.HostImageConfigGetAcceptanceResponse{
		Returnval: software[m.state.host.Self].acceptance}}
}

// HostImageConfigGetProfile returns the image profile the host was installed from.
func (m *HostImageConfigManager) HostImageConfigGetProfile(ctx *simulator.Context, req *types.HostImageConfigGetProfile) soap.HasFault {
	return &methods.HostImageConfigGetProfileBody{Res: &types.HostImageConfigGetProfileResponse{
		Returnval: types.HostImageProfileSummary{Name: "(Updated) ESXi-8.0U3-24022510-standard", Vendor: "VMware, Inc."}}}
}

// descriptor is the part of a VIB's descriptor.xml the emulated host reads.
type descriptor struct {
	XMLName         xml.Name `xml:"vib"`
	Type            string   `xml:"type"`
	Name            string   `xml:"name"`
	Version         string   `xml:"version"`
	Vendor          string   `xml:"vendor"`
	Summary         string   `xml:"summary"`
	ReleaseDate     string   `xml:"release-date"`
	AcceptanceLevel string   `xml:"acceptance-level"`
	MaintenanceMode string   `xml:"system-requires>maintenance-mode"`
	LiveInstall     string   `xml:"live-install-allowed"`
}

// readVib parses a VIB: an ar archive whose first member is descriptor.xml.
func readVib(data []byte) (vib, error) {
	if !bytes.HasPrefix(data, []byte("!<arch>\n")) {
		return vib{}, fmt.Errorf("not a VIB (no ar archive header)")
	}
	pos := 8
	for pos+60 <= len(data) {
		header := data[pos : pos+60]
		name := strings.TrimRight(strings.TrimSpace(string(header[0:16])), "/")
		size, err := strconv.Atoi(strings.TrimSpace(string(header[48:58])))
		if err != nil || pos+60+size > len(data) {
			return vib{}, fmt.Errorf("corrupt ar member header at offset %d", pos)
		}
		body := data[pos+60 : pos+60+size]
		if name == "descriptor.xml" {
			var d descriptor
			if err := xml.Unmarshal(body, &d); err != nil {
				return vib{}, fmt.Errorf("bad descriptor.xml: %v", err)
			}
			if d.Name == "" || d.Version == "" {
				return vib{}, fmt.Errorf("descriptor.xml has no name or version")
			}
			levels := map[string]string{"certified": "vmware_certified", "accepted": "vmware_accepted", "partner": "partner", "community": "community"}
			level, ok := levels[strings.ToLower(d.AcceptanceLevel)]
			if !ok {
				return vib{}, fmt.Errorf("unknown acceptance-level %q", d.AcceptanceLevel)
			}
			released, _ := time.Parse("2006-01-02T15:04:05", d.ReleaseDate)
			vibType := d.Type
			if vibType == "" {
				vibType = "bootbank"
			}
			return vib{Name: d.Name, Version: d.Version, Vendor: d.Vendor, Acceptance: level, Summary: d.Summary, Type: vibType,
				MaintenanceMode: d.MaintenanceMode != "false", LiveInstall: d.LiveInstall == "true", Released: released}, nil
		}
		pos += 60 + size
		if size%2 == 1 {
			pos++
		}
	}
	return vib{}, fmt.Errorf("no descriptor.xml in the archive")
}

// fetch downloads a VIB the way the host would; only loopback and local files are reachable here.
func fetch(raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "file":
		return ioutil.ReadFile(u.Path)
	case "http", "https":
		host := u.Hostname()
		if host != "127.0.0.1" && host != "localhost" {
			return nil, fmt.Errorf("cannot reach %s (the simulated host only reaches loopback)", host)
		}
		client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // #nosec: loopback test depot
		resp, err := client.Get(raw)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return ioutil.ReadAll(resp.Body)
	}
	return nil, fmt.Errorf("unsupported URL scheme %q", u.Scheme)
}

// InstallHostPatchV2Task installs VIBs from vibUrls (esxcli software vib install -v) [S9 HostPatchManager].
func (m *HostPatchManager) InstallHostPatchV2Task(ctx *simulator.Context, req *types.InstallHostPatchV2_Task) soap.HasFault {
	h := m.state
	task := startTask(h.host, "installHostPatchV2")
	result, fault, msg := installVibs(h, req)
	if fault != nil {
		finishTask(task, nil, fault, msg)
	} else {
		finishTask(task, result, nil, "")
	}
	return &methods.InstallHostPatchV2_TaskBody{Res: &types.InstallHostPatchV2_TaskResponse{Returnval: task.Self}}
}

func installVibs(h *hostState, req *types.InstallHostPatchV2_Task) (*types.HostPatchManagerResult, types.BaseMethodFault, string) {
	if len(req.VibUrls) == 0 {
		if len(req.MetaUrls) > 0 || len(req.BundleUrls) > 0 {
			return nil, &types.NotSupported{}, "the simulated host installs from vibUrls only (metaUrls/bundleUrls are not modelled)"
		}
		return nil, &types.InvalidArgument{InvalidProperty: "vibUrls"}, "no VIB URLs given"
	}
	var vibs []vib
	for _, raw := range req.VibUrls {
		data, err := fetch(raw)
		if err != nil {
			return nil, &types.PatchBinariesNotFound{Binary: []string{raw}},
				fmt.Sprintf("[VibDownloadError] could not download %s: %v", raw, err)
		}
		v, err := readVib(data)
		if err != nil {
			return nil, &types.PatchMetadataCorrupted{PatchMetadataInvalid: types.PatchMetadataInvalid{MetaData: []string{raw}}},
				fmt.Sprintf("[VibFormatError] %s: %v", raw, err)
		}
		vibs = append(vibs, v)
	}
	inMaintenance := false
	reg.WithLock(newCtx(), h.host, func() { inMaintenance = h.host.Runtime.InMaintenanceMode })
	mu.Lock()
	defer mu.Unlock()
	s := software[h.host.Self]
	var status []types.HostPatchManagerStatus
	var changed []vib
	for _, v := range vibs {
		if acceptanceRank[v.Acceptance] < acceptanceRank[s.acceptance] {
			return nil, &types.PlatformConfigFault{Text: "AcceptanceLevelError"},
				fmt.Sprintf("[AcceptanceLevelError] VIB %s's acceptance level is %s, which is not compliant with the host acceptance level %s",
					v.Name, v.Acceptance, s.acceptance)
		}
		if old, ok := s.installed[v.Name]; ok && old.Version == v.Version {
			continue // "Host is not changed" for this VIB
		}
		if v.MaintenanceMode && !inMaintenance {
			return nil, &types.InvalidState{},
				fmt.Sprintf("[MaintenanceModeError] MaintenanceMode is required to install the VIB %s_%s on host %s: enter maintenance mode first",
					v.Name, v.Version, h.host.Name)
		}
		changed = append(changed, v)
	}
	reboot := false
	for _, v := range changed {
		s.installed[v.Name] = v
		if v.LiveInstall {
			s.running[v.Name] = v
		} else {
			reboot = true
		}
		state := []string{"imageActive"}
		if !v.LiveInstall {
			state = nil
		}
		status = append(status, types.HostPatchManagerStatus{Id: v.Vendor + "_bootbank_" + v.Name + "_" + v.Version, Applicable: true,
			Installed: true, InstallState: state, RestartRequired: !v.LiveInstall})
	}
	if reboot {
		setRebootRequired(h, true)
	}
	h.render(nil)
	var b strings.Builder
	b.WriteString("<esxupdate-response><version>1.50</version><installation-result>")
	if len(changed) == 0 {
		b.WriteString("<message>Host is not changed.</message>")
	} else {
		fmt.Fprintf(&b, "<message>Operation finished successfully.</message><reboot-required>%t</reboot-required>", reboot)
	}
	for _, v := range changed {
		fmt.Fprintf(&b, "<vib-installed>%s_bootbank_%s_%s</vib-installed>", v.Vendor, v.Name, v.Version)
	}
	b.WriteString("</installation-result></esxupdate-response>")
	return &types.HostPatchManagerResult{Version: "1.50", Status: status, XmlResult: b.String()}, nil, ""
}

// poweredOnVMs lists the host's VMs that are not powered off.
func poweredOnVMs(host *simulator.HostSystem) []types.ManagedObjectReference {
	var refs []types.ManagedObjectReference
	reg.WithLock(newCtx(), host, func() { refs = append(refs, host.Vm...) })
	var running []types.ManagedObjectReference
	for _, ref := range refs {
		if vm, ok := reg.Get(ref).(*simulator.VirtualMachine); ok && powerState(vm) != types.VirtualMachinePowerStatePoweredOff {
			running = append(running, ref)
		}
	}
	return running
}

// enterMaintenance answers EnterMaintenanceMode_Task when VMs are powered on: the task runs until none is
// left (migrated or powered off by someone) or its timeout passes (Timedout). Returns false to let vcsim
// handle a host without powered-on VMs.
func enterMaintenance(w http.ResponseWriter, req *types.EnterMaintenanceMode_Task) bool {
	host, ok := reg.Get(req.This).(*simulator.HostSystem)
	if !ok || len(poweredOnVMs(host)) == 0 {
		return false
	}
	task := startTask(host, "enterMaintenanceMode")
	go func() {
		var deadline time.Time
		if req.Timeout > 0 {
			deadline = time.Now().Add(time.Duration(req.Timeout) * time.Second)
		}
		for len(poweredOnVMs(host)) > 0 {
			if !deadline.IsZero() && time.Now().After(deadline) {
				finishTask(task, nil, &types.Timedout{}, fmt.Sprintf("host %s did not enter maintenance mode within %d s: VMs still powered on: %s",
					host.Name, req.Timeout, refNames(poweredOnVMs(host))))
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		reg.WithLock(newCtx(), host, func() { host.Runtime.InMaintenanceMode = true })
		finishTask(task, nil, nil, "")
	}()
	ref := task.Self
	writeTask(w, "EnterMaintenanceMode_Task", ref)
	return true
}

// relocate wraps RelocateVM_Task: refusals real vSphere applies, then stock vcsim, then the hosts' VM lists.
func (m *middleware) relocate(w http.ResponseWriter, r *http.Request, req *types.RelocateVM_Task) {
	vm, ok := reg.Get(req.This).(*simulator.VirtualMachine)
	if !ok || req.Spec.Host == nil {
		m.next.ServeHTTP(w, r)
		return
	}
	dst, ok := reg.Get(*req.Spec.Host).(*simulator.HostSystem)
	if !ok {
		m.next.ServeHTTP(w, r)
		return
	}
	v := viewVM(vm)
	var src *simulator.HostSystem
	if v.host != nil {
		src, _ = reg.Get(*v.host).(*simulator.HostSystem)
	}
	inMaintenance := false
	reg.WithLock(newCtx(), dst, func() { inMaintenance = dst.Runtime.InMaintenanceMode })
	if inMaintenance {
		writeTask(w, "RelocateVM_Task", failTask(vm, "relocateVm", &types.InvalidState{},
			fmt.Sprintf("the destination host %s is in maintenance mode", dst.Name)))
		return
	}
	if v.power == types.VirtualMachinePowerStatePoweredOn && src != dst {
		for _, d := range v.devices {
			if _, isPCI := d.(*types.VirtualPCIPassthrough); isPCI {
				writeTask(w, "RelocateVM_Task", failTask(vm, "relocateVm",
					&types.DisallowedMigrationDeviceAttached{Fault: types.LocalizedMethodFault{Fault: &types.NotSupported{}, LocalizedMessage: "PCI passthrough"}},
					fmt.Sprintf("VM %s has a PCI passthrough or vGPU device (%s) and cannot be migrated while powered on: power it off",
						v.name, deviceLabel(d))))
				return
			}
		}
	}
	rec := m.forward(r)
	if src != nil && src != dst {
		var now *types.ManagedObjectReference
		reg.WithLock(newCtx(), vm, func() { now = vm.Runtime.Host })
		if now != nil && *now == dst.Self {
			reg.RemoveReference(newCtx(), src, &src.Vm, vm.Self)
			reg.AddReference(newCtx(), dst, &dst.Vm, vm.Self)
		}
	}
	reply(w, rec)
}

// softwareJSON: the host's VIBs for GET /gpusim/state. Call with mu held.
func softwareJSON(h *hostState) map[string]interface{} {
	s := software[h.host.Self]
	if s == nil {
		return nil
	}
	versions := func(m map[string]vib) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v.Version
		}
		return out
	}
	reboot := false
	reg.WithLock(newCtx(), h.host, func() { reboot = h.host.Summary.RebootRequired })
	return map[string]interface{}{"installed": versions(s.installed), "running": versions(s.running),
		"reboot_required": reboot, "vgpu_manager_loaded": vgpuManagerLoaded(h)}
}
