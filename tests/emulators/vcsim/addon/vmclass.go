// vCenter's REST API for vSphere with Tanzu VM classes (govmomi's vapi/namespace simulator stores any spec unchecked: README.md), registered
// with vcsim's endpoint hook, so no other add-on file needs to change:
//
//	POST   /api/session                                              basic auth -> session id (JSON string), 201
//	DELETE /api/session                                              204
//	GET    /api/appliance/system/version                             {version, build, product, type, ...}
//	GET    /api/vcenter/cluster                                      [{cluster, name, ha_enabled, drs_enabled}]
//	GET    /api/vcenter/namespace-management/virtual-machine-classes  [Info]
//	POST   /api/vcenter/namespace-management/virtual-machine-classes  CreateSpec -> 204
//	GET    /api/vcenter/namespace-management/virtual-machine-classes/{id}      Info
//	PATCH  /api/vcenter/namespace-management/virtual-machine-classes/{id}      UpdateSpec -> 204
//	DELETE /api/vcenter/namespace-management/virtual-machine-classes/{id}      204
//	GET    /api/vcenter/namespaces/instances                         [Summary]
//	POST   /api/vcenter/namespaces/instances                         {cluster, namespace, ...} -> 204
//	GET    /api/vcenter/namespaces/instances/{namespace}             Info (vm_service_spec)
//	PATCH  /api/vcenter/namespaces/instances/{namespace}             UpdateSpec (vm_service_spec) -> 204
//
// Behaviour follows reference/gpu-virtualization-facts.md §10 and the vSphere Automation API reference [S12]:
//   - VM classes exist from API 7.0.2.00100; `devices` (vgpu_devices, dynamic_direct_path_io_devices) from
//     7.0.3.0, deprecated in 8.0.2.0 in favour of device changes in `config_spec` (a VirtualMachineConfigSpec in
//     vSphere's JSON encoding with `_typeName`), which older versions do not know;
//   - id: a DNS label of at most 63 characters, unique; cpu_count and memory required; reservations are
//     percentages (0..100);
//   - [CONFLICT] field spelling: the /api schema pages write `memory_mb` and `dynamic_direct_path_io_devices`,
//     older pages `memory_MB` and `dynamic_direct_path_IO_devices`. The simulator serves one spelling at a time
//     (default: /api schema; `POST /vmclass-sim/config {"key_style": "legacy"}` switches) and, like a strict
//     vAPI binding, refuses fields it does not know, so a client must find out which one the server speaks;
//   - namespaces' `vm_service_spec` {vm_classes, content_libraries} is replaced as a whole by an update (an
//     empty or missing vm_classes list disassociates every class: [S12] VMServiceSpec);
//   - a class with PCI devices (vGPU or Dynamic DirectPath I/O) must reserve 100 % of its memory: the vSphere
//     Client enforces it and VM Operator needs memoryReservationLockedToMax for such VMs [S11]. Whether the API
//     itself refuses a lower reservation is [UNVERIFIED]; the simulator refuses, so clients are tested for it;
//   - errors are {"error_type": ..., "messages": [{"id", "default_message", "args"}]} with the /api status codes
//     (400 INVALID_ARGUMENT / ALREADY_EXISTS, 401 UNAUTHENTICATED, 404 NOT_FOUND).
//
// Test control (not logged): GET/DELETE /vmclass-sim/requests (every /api request: method, path, status),
// POST /vmclass-sim/config {"key_style": "api"|"legacy"}, POST /vmclass-sim/faults {method, path, status,
// error_type, message, count}, POST /vmclass-sim/reset (classes back to the defaults, no namespaces).
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	vmcClassesPath    = "/api/vcenter/namespace-management/virtual-machine-classes"
	vmcNamespacesPath = "/api/vcenter/namespaces/instances"
	vmcSessionHeader  = "vmware-api-session-id"
)

var vmcDNSLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

type vmcVGPU struct {
	ProfileName string `json:"profile_name"`
}

type vmcDDPIO struct {
	VendorID    int64  `json:"vendor_id"`
	DeviceID    int64  `json:"device_id"`
	CustomLabel string `json:"custom_label,omitempty"`
}

type vmcClass struct {
	ID                string
	CPUCount          int64
	CPUReservation    *int64
	Memory            int64
	MemoryReservation *int64
	Description       string
	VGPUs             []vmcVGPU
	DDPIOs            []vmcDDPIO
	ConfigSpec        map[string]interface{}
}

type vmcNamespace struct {
	Name             string
	Cluster          string
	Description      string
	VMClasses        []string
	ContentLibraries []string
}

type vmcFault struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	ErrorType string `json:"error_type"`
	Message   string `json:"message"`
	Count     int    `json:"count"`
}

type vmcLogEntry struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
	Write  bool   `json:"write"`
}

type vmcAPI struct {
	sync.Mutex
	registry   *simulator.Registry
	user       string
	password   string
	auth       bool
	sessions   map[string]string
	classes    map[string]*vmcClass
	namespaces map[string]*vmcNamespace
	legacy     bool
	faults     []*vmcFault
	log        []vmcLogEntry
}

func init() {
	simulator.RegisterEndpoint(func(s *simulator.Service, r *simulator.Registry) {
		if !r.IsVPX() {
			return
		}
		api := &vmcAPI{registry: r, sessions: map[string]string{}}
		if s.Listen != nil && s.Listen.User != nil {
			api.user = s.Listen.User.Username()
			api.password, api.auth = s.Listen.User.Password()
		}
		api.reset()
		for _, pattern := range []string{"/api/session", "/api/appliance/system/version", "/api/vcenter/cluster", vmcClassesPath, vmcClassesPath + "/",
			vmcNamespacesPath, vmcNamespacesPath + "/"} {
			s.Handle(pattern, api)
		}
		s.Handle("/vmclass-sim/", http.HandlerFunc(api.control))
	})
}

// The VM classes a fresh Supervisor offers (seed 004 lists best-effort-small/medium/large).
func (a *vmcAPI) reset() {
	a.classes = map[string]*vmcClass{}
	a.namespaces = map[string]*vmcNamespace{}
	for _, d := range []struct {
		id     string
		cpu    int64
		memory int64
		full   bool
	}{
		{"best-effort-xsmall", 2, 2048, false}, {"best-effort-small", 2, 4096, false}, {"best-effort-medium", 2, 8192, false},
		{"best-effort-large", 4, 16384, false}, {"best-effort-xlarge", 4, 32768, false},
		{"guaranteed-small", 2, 4096, true}, {"guaranteed-medium", 2, 8192, true}, {"guaranteed-large", 4, 16384, true},
	} {
		c := &vmcClass{ID: d.id, CPUCount: d.cpu, Memory: d.memory}
		if d.full {
			hundred := int64(100)
			c.CPUReservation, c.MemoryReservation = &hundred, &hundred
		}
		a.classes[d.id] = c
	}
}

// apiVersion is the simulator's -api-version, e.g. 8.0.3.0, as numbers.
func (a *vmcAPI) apiVersion() []int {
	si := a.registry.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	var out []int
	for _, part := range strings.Split(si.Content.About.ApiVersion, ".") {
		n, _ := strconv.Atoi(part)
		out = append(out, n)
	}
	for len(out) < 4 {
		out = append(out, 0)
	}
	return out
}

func (a *vmcAPI) atLeast(want ...int) bool {
	have := a.apiVersion()
	for i, w := range want {
		if have[i] != w {
			return have[i] > w
		}
	}
	return true
}

func (a *vmcAPI) hasDevices() bool    { return a.atLeast(7, 0, 3, 0) }
func (a *vmcAPI) hasConfigSpec() bool { return a.atLeast(8, 0, 2, 0) }

func (a *vmcAPI) memoryKey() string {
	if a.legacy {
		return "memory_MB"
	}
	return "memory_mb"
}

func (a *vmcAPI) ddpioKey() string {
	if a.legacy {
		return "dynamic_direct_path_IO_devices"
	}
	return "dynamic_direct_path_io_devices"
}

// -- HTTP --------------------------------------------------------------------------------------------------

type vmcError struct {
	status    int
	errorType string
	message   string
}

func vmcErr(status int, errorType, format string, args ...interface{}) *vmcError {
	return &vmcError{status: status, errorType: errorType, message: fmt.Sprintf(format, args...)}
}

func vmcInvalid(format string, args ...interface{}) *vmcError {
	return vmcErr(http.StatusBadRequest, "INVALID_ARGUMENT", format, args...)
}

type vmcRecorder struct {
	http.ResponseWriter
	status int
}

func (r *vmcRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (a *vmcAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.Lock()
	defer a.Unlock()
	rec := &vmcRecorder{ResponseWriter: w, status: http.StatusOK}
	w = rec
	w.Header().Set("Content-Type", "application/json")
	defer func() {
		a.log = append(a.log, vmcLogEntry{Method: r.Method, Path: r.URL.Path, Status: rec.status,
			Write: r.Method != http.MethodGet && r.URL.Path != "/api/session"})
	}()
	if f := a.takeFault(r); f != nil {
		a.writeError(w, vmcErr(f.Status, f.ErrorType, "%s", f.Message))
		return
	}
	if r.URL.Path == "/api/session" {
		a.session(w, r)
		return
	}
	if _, ok := a.sessions[r.Header.Get(vmcSessionHeader)]; !ok {
		a.writeError(w, vmcErr(http.StatusUnauthorized, "UNAUTHENTICATED", "This method requires authentication."))
		return
	}
	var body map[string]interface{}
	if r.Method == http.MethodPost || r.Method == http.MethodPatch {
		data, _ := ioutil.ReadAll(r.Body)
		if err := json.Unmarshal(data, &body); err != nil || body == nil {
			a.writeError(w, vmcInvalid("The request body is not a JSON object: %v", err))
			return
		}
	}
	var out interface{}
	var err *vmcError
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/api/appliance/system/version" && r.Method == http.MethodGet:
		out = a.version()
	case path == "/api/vcenter/cluster" && r.Method == http.MethodGet:
		out = a.listClusters()
	case path == vmcClassesPath && r.Method == http.MethodGet:
		out = a.listClasses()
	case path == vmcClassesPath && r.Method == http.MethodPost:
		err = a.createClass(body)
	case strings.HasPrefix(path, vmcClassesPath+"/"):
		out, err = a.classByID(r.Method, strings.TrimPrefix(path, vmcClassesPath+"/"), body)
	case path == vmcNamespacesPath && r.Method == http.MethodGet:
		out = a.listNamespaces()
	case path == vmcNamespacesPath && r.Method == http.MethodPost:
		err = a.createNamespace(body)
	case strings.HasPrefix(path, vmcNamespacesPath+"/"):
		out, err = a.namespaceByName(r.Method, strings.TrimPrefix(path, vmcNamespacesPath+"/"), body)
	default:
		err = vmcErr(http.StatusNotFound, "NOT_FOUND", "No operation %s %s.", r.Method, r.URL.Path)
	}
	if err != nil {
		a.writeError(w, err)
		return
	}
	if out == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(out)
}

func (a *vmcAPI) writeError(w http.ResponseWriter, e *vmcError) {
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]interface{}{
		"error_type": e.errorType,
		"messages":   []map[string]interface{}{{"id": "vcsim.gpuvirt." + strings.ToLower(e.errorType), "default_message": e.message, "args": []string{}}},
	})
}

func (a *vmcAPI) takeFault(r *http.Request) *vmcFault {
	for i, f := range a.faults {
		if f.Method == r.Method && f.Path == r.URL.Path {
			f.Count--
			if f.Count <= 0 {
				a.faults = append(a.faults[:i], a.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

func (a *vmcAPI) session(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		user, pass, ok := r.BasicAuth()
		if !ok || user == "" || (a.auth && (user != a.user || pass != a.password)) {
			a.writeError(w, vmcErr(http.StatusUnauthorized, "UNAUTHENTICATED", "Authentication required."))
			return
		}
		buf := make([]byte, 16)
		_, _ = rand.Read(buf)
		id := hex.EncodeToString(buf)
		a.sessions[id] = user
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(id)
	case http.MethodDelete:
		id := r.Header.Get(vmcSessionHeader)
		if _, ok := a.sessions[id]; !ok {
			a.writeError(w, vmcErr(http.StatusUnauthorized, "UNAUTHENTICATED", "This method requires authentication."))
			return
		}
		delete(a.sessions, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		a.writeError(w, vmcErr(http.StatusNotFound, "NOT_FOUND", "No operation %s /api/session.", r.Method))
	}
}

func (a *vmcAPI) version() map[string]interface{} {
	v := a.apiVersion()
	return map[string]interface{}{
		"version": fmt.Sprintf("%d.%d.%d.%05d", v[0], v[1], v[2], v[3]*100), "build": "24322831",
		"product": "VMware vCenter Server", "type": "vCenter Server with an embedded Platform Services Controller",
		"summary": "vcsim with the gpuvirt add-on", "releasedate": "2026-01-01", "install_time": "2026-01-01T00:00:00.000Z",
	}
}

// listClusters is vCenter's Cluster.list: the clusters a namespace can be created on.
func (a *vmcAPI) listClusters() []map[string]interface{} {
	out := []map[string]interface{}{}
	for _, obj := range a.registry.All("ClusterComputeResource") {
		cluster := obj.(*simulator.ClusterComputeResource)
		drs := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx).DrsConfig.Enabled
		ha := cluster.ConfigurationEx.(*types.ClusterConfigInfoEx).DasConfig.Enabled
		out = append(out, map[string]interface{}{"cluster": cluster.Self.Value, "name": cluster.Name,
			"drs_enabled": drs != nil && *drs, "ha_enabled": ha != nil && *ha})
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["name"].(string) < out[j]["name"].(string) })
	return out
}

// -- VM classes ----------------------------------------------------------------------------------------------

func (a *vmcAPI) classInfo(c *vmcClass) map[string]interface{} {
	info := map[string]interface{}{
		"id": c.ID, "cpu_count": c.CPUCount, a.memoryKey(): c.Memory, "description": c.Description,
		"namespaces": a.namespacesOf(c.ID), "vms": []string{}, "config_status": "READY", "messages": []interface{}{},
	}
	if c.CPUReservation != nil {
		info["cpu_reservation"] = *c.CPUReservation
	}
	if c.MemoryReservation != nil {
		info["memory_reservation"] = *c.MemoryReservation
	}
	if a.hasDevices() {
		vgpus, ddpios := c.VGPUs, c.DDPIOs
		if vgpus == nil {
			vgpus = []vmcVGPU{}
		}
		if ddpios == nil {
			ddpios = []vmcDDPIO{}
		}
		info["devices"] = map[string]interface{}{"vgpu_devices": vgpus, a.ddpioKey(): ddpios}
	}
	if a.hasConfigSpec() && c.ConfigSpec != nil {
		info["config_spec"] = c.ConfigSpec
	}
	return info
}

func (a *vmcAPI) namespacesOf(id string) []string {
	out := []string{}
	for _, ns := range a.namespaces {
		for _, c := range ns.VMClasses {
			if c == id {
				out = append(out, ns.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (a *vmcAPI) listClasses() []map[string]interface{} {
	var ids []string
	for id := range a.classes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := []map[string]interface{}{}
	for _, id := range ids {
		out = append(out, a.classInfo(a.classes[id]))
	}
	return out
}

func (a *vmcAPI) createClass(body map[string]interface{}) *vmcError {
	id, _ := body["id"].(string)
	if id == "" {
		return vmcInvalid("Required field id is missing in CreateSpec.")
	}
	if len(id) > 63 || !vmcDNSLabel.MatchString(id) {
		return vmcInvalid("Invalid VM class id '%s': it must be a DNS label (a-z, 0-9 and '-', at most 63 characters).", id)
	}
	if _, ok := a.classes[id]; ok {
		return vmcErr(http.StatusBadRequest, "ALREADY_EXISTS", "A VM class with id '%s' already exists.", id)
	}
	c := &vmcClass{ID: id}
	if err := a.applySpec(c, body, true); err != nil {
		return err
	}
	a.classes[id] = c
	return nil
}

func (a *vmcAPI) classByID(method, id string, body map[string]interface{}) (interface{}, *vmcError) {
	c, ok := a.classes[id]
	if !ok {
		return nil, vmcErr(http.StatusNotFound, "NOT_FOUND", "VM class '%s' does not exist.", id)
	}
	switch method {
	case http.MethodGet:
		return a.classInfo(c), nil
	case http.MethodPatch:
		updated := *c
		if err := a.applySpec(&updated, body, false); err != nil {
			return nil, err
		}
		*c = updated
		return nil, nil
	case http.MethodDelete:
		delete(a.classes, id)
		for _, ns := range a.namespaces {
			ns.VMClasses = vmcWithout(ns.VMClasses, id)
		}
		return nil, nil
	}
	return nil, vmcErr(http.StatusNotFound, "NOT_FOUND", "No operation %s on a VM class.", method)
}

func vmcWithout(list []string, item string) []string {
	out := []string{}
	for _, v := range list {
		if v != item {
			out = append(out, v)
		}
	}
	return out
}

func vmcInt(body map[string]interface{}, key string) (int64, bool, *vmcError) {
	raw, ok := body[key]
	if !ok || raw == nil {
		return 0, false, nil
	}
	f, isNum := raw.(float64)
	if !isNum || f != float64(int64(f)) {
		return 0, true, vmcInvalid("Field %s must be an integer, not %v.", key, raw)
	}
	return int64(f), true, nil
}

// applySpec validates a CreateSpec (create=true) or UpdateSpec into c; nothing is changed on error.
func (a *vmcAPI) applySpec(c *vmcClass, body map[string]interface{}, create bool) *vmcError {
	known := map[string]bool{"cpu_count": true, "cpu_reservation": true, a.memoryKey(): true, "memory_reservation": true,
		"description": true, "instance_storage": true}
	if create {
		known["id"] = true
	}
	if a.hasDevices() {
		known["devices"] = true
	}
	if a.hasConfigSpec() {
		known["config_spec"] = true
	}
	for key := range body {
		if !known[key] {
			return vmcInvalid("Unexpected field '%s' in %s (API %s).", key, map[bool]string{true: "CreateSpec", false: "UpdateSpec"}[create],
				a.registry.Get(vim25.ServiceInstance).(*simulator.ServiceInstance).Content.About.ApiVersion)
		}
	}
	for _, key := range []string{"cpu_count", a.memoryKey()} {
		n, present, err := vmcInt(body, key)
		if err != nil {
			return err
		}
		if !present && create {
			return vmcInvalid("Required field %s is missing in CreateSpec.", key)
		}
		if present && n < 1 {
			return vmcInvalid("Field %s must be at least 1.", key)
		}
		if present && key == "cpu_count" {
			c.CPUCount = n
		} else if present {
			c.Memory = n
		}
	}
	for _, key := range []string{"cpu_reservation", "memory_reservation"} {
		n, present, err := vmcInt(body, key)
		if err != nil {
			return err
		}
		if present && (n < 0 || n > 100) {
			return vmcInvalid("Field %s is a percentage: %d is not within 0..100.", key, n)
		}
		if present {
			v := n
			if key == "cpu_reservation" {
				c.CPUReservation = &v
			} else {
				c.MemoryReservation = &v
			}
		}
	}
	if d, ok := body["description"].(string); ok {
		c.Description = d
	}
	if raw, ok := body["devices"]; ok {
		vgpus, ddpios, err := a.parseDevices(raw)
		if err != nil {
			return err
		}
		c.VGPUs, c.DDPIOs = vgpus, ddpios
	}
	if raw, ok := body["config_spec"]; ok {
		spec, isMap := raw.(map[string]interface{})
		if raw != nil && (!isMap || spec["_typeName"] != "VirtualMachineConfigSpec") {
			return vmcInvalid("config_spec must be a VirtualMachineConfigSpec in vSphere JSON (with \"_typeName\": \"VirtualMachineConfigSpec\").")
		}
		if err := vmcCheckConfigSpec(spec); err != nil {
			return err
		}
		c.ConfigSpec = spec
	}
	if vmcHasPCI(c) && (c.MemoryReservation == nil || *c.MemoryReservation != 100) {
		return vmcInvalid("VM class '%s' has PCI devices (vGPU or Dynamic DirectPath I/O): memory_reservation must be 100.", c.ID)
	}
	return nil
}

func (a *vmcAPI) parseDevices(raw interface{}) ([]vmcVGPU, []vmcDDPIO, *vmcError) {
	devices, ok := raw.(map[string]interface{})
	if !ok {
		return nil, nil, vmcInvalid("Field devices must be an object.")
	}
	var vgpus []vmcVGPU
	var ddpios []vmcDDPIO
	for key, value := range devices {
		items, isList := value.([]interface{})
		if value != nil && !isList {
			return nil, nil, vmcInvalid("Field devices.%s must be a list.", key)
		}
		switch key {
		case "vgpu_devices":
			for i, item := range items {
				m, _ := item.(map[string]interface{})
				name, _ := m["profile_name"].(string)
				if name == "" {
					return nil, nil, vmcInvalid("Required field devices.vgpu_devices[%d].profile_name is missing.", i)
				}
				vgpus = append(vgpus, vmcVGPU{ProfileName: name})
			}
		case a.ddpioKey():
			for i, item := range items {
				m, _ := item.(map[string]interface{})
				vendor, okV, errV := vmcInt(m, "vendor_id")
				device, okD, errD := vmcInt(m, "device_id")
				if errV != nil || errD != nil || !okV || !okD {
					return nil, nil, vmcInvalid("devices.%s[%d] needs integer vendor_id and device_id.", key, i)
				}
				label, _ := m["custom_label"].(string)
				ddpios = append(ddpios, vmcDDPIO{VendorID: vendor, DeviceID: device, CustomLabel: label})
			}
		default:
			return nil, nil, vmcInvalid("Unexpected field 'devices.%s' in VirtualDevices.", key)
		}
	}
	return vgpus, ddpios, nil
}

// vmcCheckConfigSpec accepts device changes that add VirtualPCIPassthrough devices with a vGPU or Dynamic
// DirectPath backing, the shapes vm-operator turns VM class devices into [S11].
func vmcCheckConfigSpec(spec map[string]interface{}) *vmcError {
	changes, _ := spec["deviceChange"].([]interface{})
	for i, raw := range changes {
		change, _ := raw.(map[string]interface{})
		device, _ := change["device"].(map[string]interface{})
		if change["_typeName"] != "VirtualDeviceConfigSpec" || change["operation"] != "add" || device == nil {
			return vmcInvalid("config_spec.deviceChange[%d] must be a VirtualDeviceConfigSpec adding a device.", i)
		}
		if device["_typeName"] != "VirtualPCIPassthrough" {
			continue
		}
		backing, _ := device["backing"].(map[string]interface{})
		switch backing["_typeName"] {
		case "VirtualPCIPassthroughVmiopBackingInfo":
			if s, _ := backing["vgpu"].(string); s == "" {
				return vmcInvalid("config_spec.deviceChange[%d]: a vGPU backing needs a vgpu profile.", i)
			}
		case "VirtualPCIPassthroughDynamicBackingInfo":
			if allowed, _ := backing["allowedDevice"].([]interface{}); len(allowed) == 0 {
				return vmcInvalid("config_spec.deviceChange[%d]: a Dynamic DirectPath backing needs allowedDevice.", i)
			}
		default:
			return vmcInvalid("config_spec.deviceChange[%d]: unsupported PCI passthrough backing %v.", i, backing["_typeName"])
		}
	}
	return nil
}

func vmcHasPCI(c *vmcClass) bool {
	if len(c.VGPUs)+len(c.DDPIOs) > 0 {
		return true
	}
	changes, _ := c.ConfigSpec["deviceChange"].([]interface{})
	for _, raw := range changes {
		change, _ := raw.(map[string]interface{})
		device, _ := change["device"].(map[string]interface{})
		if device["_typeName"] == "VirtualPCIPassthrough" {
			return true
		}
	}
	return false
}

// -- namespaces ----------------------------------------------------------------------------------------------

func (a *vmcAPI) listNamespaces() []map[string]interface{} {
	var names []string
	for name := range a.namespaces {
		names = append(names, name)
	}
	sort.Strings(names)
	out := []map[string]interface{}{}
	for _, name := range names {
		ns := a.namespaces[name]
		out = append(out, map[string]interface{}{"namespace": ns.Name, "cluster": ns.Cluster, "config_status": "RUNNING",
			"description": ns.Description})
	}
	return out
}

func (a *vmcAPI) createNamespace(body map[string]interface{}) *vmcError {
	name, _ := body["namespace"].(string)
	cluster, _ := body["cluster"].(string)
	if name == "" || cluster == "" {
		return vmcInvalid("Required fields cluster and namespace are missing in CreateSpec.")
	}
	if len(name) > 63 || !vmcDNSLabel.MatchString(name) {
		return vmcInvalid("Invalid namespace name '%s': it must be a DNS label.", name)
	}
	ref := types.ManagedObjectReference{Type: "ClusterComputeResource", Value: cluster}
	if a.registry.Get(ref) == nil {
		return vmcInvalid("Cluster '%s' does not exist or is not enabled for vSphere with Tanzu.", cluster)
	}
	if _, ok := a.namespaces[name]; ok {
		return vmcErr(http.StatusBadRequest, "ALREADY_EXISTS", "Namespace '%s' already exists.", name)
	}
	ns := &vmcNamespace{Name: name, Cluster: cluster, VMClasses: []string{}, ContentLibraries: []string{}}
	ns.Description, _ = body["description"].(string)
	if spec, ok := body["vm_service_spec"]; ok {
		if err := a.setVMService(ns, spec); err != nil {
			return err
		}
	}
	a.namespaces[name] = ns
	return nil
}

func (a *vmcAPI) namespaceByName(method, name string, body map[string]interface{}) (interface{}, *vmcError) {
	ns, ok := a.namespaces[name]
	if !ok {
		return nil, vmcErr(http.StatusNotFound, "NOT_FOUND", "Namespace '%s' does not exist.", name)
	}
	switch method {
	case http.MethodGet:
		return map[string]interface{}{
			"cluster": ns.Cluster, "config_status": "RUNNING", "description": ns.Description, "messages": []interface{}{},
			"vm_service_spec": map[string]interface{}{"vm_classes": ns.VMClasses, "content_libraries": ns.ContentLibraries},
		}, nil
	case http.MethodPatch:
		for key := range body {
			if key != "vm_service_spec" && key != "description" {
				return nil, vmcInvalid("The simulator does not model the namespace field '%s'.", key)
			}
		}
		updated := *ns
		if d, ok := body["description"].(string); ok {
			updated.Description = d
		}
		if spec, ok := body["vm_service_spec"]; ok {
			if err := a.setVMService(&updated, spec); err != nil {
				return nil, err
			}
		}
		*ns = updated
		return nil, nil
	}
	return nil, vmcErr(http.StatusNotFound, "NOT_FOUND", "No operation %s on a namespace.", method)
}

func vmcStrings(raw interface{}, what string) ([]string, *vmcError) {
	out := []string{}
	if raw == nil {
		return out, nil
	}
	items, ok := raw.([]interface{})
	if !ok {
		return nil, vmcInvalid("Field %s must be a list of strings.", what)
	}
	for _, item := range items {
		s, isString := item.(string)
		if !isString {
			return nil, vmcInvalid("Field %s must be a list of strings.", what)
		}
		out = append(out, s)
	}
	return out, nil
}

// setVMService replaces vm_service_spec as a whole: lists that are missing become empty.
func (a *vmcAPI) setVMService(ns *vmcNamespace, raw interface{}) *vmcError {
	spec, ok := raw.(map[string]interface{})
	if !ok {
		return vmcInvalid("Field vm_service_spec must be an object.")
	}
	classes, err := vmcStrings(spec["vm_classes"], "vm_service_spec.vm_classes")
	if err != nil {
		return err
	}
	libraries, err := vmcStrings(spec["content_libraries"], "vm_service_spec.content_libraries")
	if err != nil {
		return err
	}
	for _, id := range classes {
		if _, exists := a.classes[id]; !exists {
			return vmcInvalid("VM class '%s' does not exist.", id)
		}
	}
	ns.VMClasses, ns.ContentLibraries = classes, libraries
	return nil
}

// -- test control --------------------------------------------------------------------------------------------

func (a *vmcAPI) control(w http.ResponseWriter, r *http.Request) {
	a.Lock()
	defer a.Unlock()
	w.Header().Set("Content-Type", "application/json")
	reply := func(code int, v interface{}) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch strings.TrimPrefix(r.URL.Path, "/vmclass-sim/") {
	case "requests":
		if r.Method == http.MethodDelete {
			a.log = nil
		}
		out := a.log
		if out == nil {
			out = []vmcLogEntry{}
		}
		reply(200, out)
	case "config":
		var cfg struct {
			KeyStyle string `json:"key_style"`
		}
		if err := json.NewDecoder(r.Body).Decode(&cfg); err != nil || (cfg.KeyStyle != "api" && cfg.KeyStyle != "legacy") {
			reply(400, map[string]string{"error": `want {"key_style": "api"|"legacy"}`})
			return
		}
		a.legacy = cfg.KeyStyle == "legacy"
		reply(200, cfg)
	case "faults":
		f := &vmcFault{}
		if err := json.NewDecoder(r.Body).Decode(f); err != nil || f.Method == "" || f.Path == "" || f.Status == 0 {
			reply(400, map[string]string{"error": "want {method, path, status, error_type, message, count}"})
			return
		}
		if f.Count == 0 {
			f.Count = 1
		}
		a.faults = append(a.faults, f)
		reply(200, f)
	case "reset":
		a.reset()
		a.legacy, a.faults, a.log = false, nil, nil
		reply(200, map[string]bool{"ok": true})
	default:
		reply(404, map[string]string{"error": "unknown control call " + r.URL.Path})
	}
}
