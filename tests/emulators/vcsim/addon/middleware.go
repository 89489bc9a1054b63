// The add-on's HTTP layer in front of vcsim's /sdk handler: counts SOAP calls, injects faults, applies
// the VM and host rules stock vcsim lacks (vm.go, host.go), and serves a small JSON control API under
// /gpusim/ for tests (calls, faults, host state, nv-hostengine restart).
package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io/ioutil"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type injectedFault struct {
	Method  string `json:"method"`
	Fault   string `json:"fault"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"` // managed object id (vm-42) or name; empty = any
	Count   int    `json:"count"`            // how many calls fail; 0 = every call
	Hits    int    `json:"hits"`
}

type middleware struct {
	next http.Handler
}

var (
	callsMu sync.Mutex
	calls   = map[string]int{}
	total   int
	faults  []*injectedFault
	powerMu sync.Mutex // serialises intercepted power-ons (placement, then vcsim, then commit)
)

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/gpusim/") {
		control(w, r)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/sdk" {
		m.next.ServeHTTP(w, r)
		return
	}
	body, err := ioutil.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.Body = ioutil.NopCloser(bytes.NewReader(body))
	method, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		m.next.ServeHTTP(w, r)
		return
	}
	callsMu.Lock()
	calls[method.Name]++
	total++
	callsMu.Unlock()
	// A slow vCenter: the request is taken (counted above), then nothing happens for the method's delay; the
	// validation, the fault injection and the work come after it, so what is delayed acts on the state at its end.
	if d := methodDelays[method.Name]; d > 0 {
		time.Sleep(time.Duration(d) * time.Millisecond)
	}

	mu.Lock()
	syncAssignments()
	mu.Unlock()

	authenticated := false
	if c, err := r.Cookie("vmware_soap_session"); err == nil && c.Value != "" {
		authenticated = true
	}
	if !authenticated {
		m.next.ServeHTTP(w, r)
		return
	}
	if f := takeFault(method.Name, method.This); f != nil {
		injectFault(w, method, f)
		return
	}
	switch req := method.Body.(type) {
	case *types.ReconfigVM_Task:
		if m.reconfig(w, req) {
			return
		}
		rec := m.forward(r)
		if vm, ok := reg.Get(req.This).(*simulator.VirtualMachine); ok {
			placePCIDevices(vm)
		}
		reply(w, rec)
		return
	case *types.PowerOnVM_Task:
		m.powerOn(w, r, req)
		return
	case *types.UpgradeVM_Task:
		upgrade(w, req)
		return
	}
	if method.Name == "Fetch" {
		// vcsim answers a Fetch (pyvmomi's read of one property) of an unset property with a RetrievePropertiesEx
		// response that no client can read; vSphere answers with an unset value.
		rec := m.forward(r)
		if rec.Code == http.StatusOK && !bytes.Contains(rec.Body.Bytes(), []byte("<FetchResponse")) {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			fmt.Fprintf(w, `%s<FetchResponse xmlns="urn:vim25"></FetchResponse>%s`, envelopeStart, envelopeEnd)
			return
		}
		reply(w, rec)
		return
	}
	switch req := method.Body.(type) {
	case *types.RebootHost_Task:
		rebootHost(w, req)
		return
	case *types.EnterMaintenanceMode_Task:
		if enterMaintenance(w, req) {
			return
		}
	case *types.RelocateVM_Task:
		m.relocate(w, r, req)
		return
	}
	m.next.ServeHTTP(w, r)
}

// -gpu-method-delay METHOD:MS,...: see the delay in ServeHTTP.
var methodDelaySpec = flag.String("gpu-method-delay", "", "METHOD:MS,... delay each named SOAP method after the request is taken, before it is validated and answered")

var methodDelays = map[string]int{}

func parseMethodDelays(spec string) error {
	for _, item := range strings.Split(spec, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		parts := strings.SplitN(item, ":", 2)
		ms, err := strconv.Atoi(strings.TrimSpace(parts[len(parts)-1]))
		if len(parts) != 2 || strings.TrimSpace(parts[0]) == "" || err != nil || ms < 0 {
			return fmt.Errorf("bad -gpu-method-delay entry %q (want METHOD:MILLISECONDS)", item)
		}
		methodDelays[strings.TrimSpace(parts[0])] = ms
	}
	return nil
}

func takeFault(name string, this types.ManagedObjectReference) *injectedFault {
	callsMu.Lock()
	defer callsMu.Unlock()
	for i, f := range faults {
		if f.Method != name {
			continue
		}
		if f.Target != "" && f.Target != this.Value {
			if e, ok := reg.Get(this).(mo.Entity); !ok || e.Entity().Name != f.Target {
				continue
			}
		}
		f.Hits++
		if f.Count > 0 && f.Hits >= f.Count {
			faults = append(faults[:i], faults[i+1:]...)
		}
		return f
	}
	return nil
}

func newFault(name string) (types.BaseMethodFault, error) {
	t, ok := types.TypeFunc()(name)
	if !ok {
		return nil, fmt.Errorf("unknown fault type %q", name)
	}
	fault, ok := reflect.New(t).Interface().(types.BaseMethodFault)
	if !ok {
		return nil, fmt.Errorf("%q is not a MethodFault", name)
	}
	return fault, nil
}

// injectFault answers a call like vSphere does when it fails: a task method returns a task that ends in
// error (the call itself succeeds), any other method returns a SOAP fault.
func injectFault(w http.ResponseWriter, method *simulator.Method, f *injectedFault) {
	fault, err := newFault(f.Fault)
	if err != nil {
		fault = &types.SystemError{Reason: err.Error()}
	}
	msg := f.Message
	if msg == "" {
		msg = fmt.Sprintf("injected %s fault on %s", f.Fault, method.Name)
	}
	if strings.HasSuffix(method.Name, "_Task") {
		entity := reg.Get(method.This)
		if pm, ok := entity.(*HostPatchManager); ok {
			entity = pm.state.host // a task's entity is a ManagedEntity: the host (software.go)
		}
		if entity == nil {
			entity = &mo.ManagedEntity{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: method.This}}
		}
		writeTask(w, method.Name, failTask(entity, strings.TrimSuffix(method.Name, "_Task"), fault, msg))
		return
	}
	writeSOAPFault(w, f.Fault, msg)
}

// startTask registers a task of the add-on on entity, running; finishTask ends it. What vcsim's Task.Run does,
// but synchronous (vcsim runs tasks in a goroutine) and a failure keeps its message (vcsim writes the Go type name).
func startTask(entity mo.Reference, name string) *simulator.Task {
	task := simulator.CreateTask(entity, name, nil)
	reg.Put(task)
	task.Info.Key = task.Self.Value
	task.Info.Task = task.Self
	ctx := newCtx()
	ctx.WithLock(task, func() {
		ctx.Update(task, []types.PropertyChange{
			{Name: "info.startTime", Val: time.Now()},
			{Name: "info.state", Val: types.TaskInfoStateRunning},
		})
	})
	return task
}

func finishTask(task *simulator.Task, result types.AnyType, fault types.BaseMethodFault, msg string) {
	state := types.TaskInfoStateSuccess
	var lf interface{}
	if fault != nil {
		state = types.TaskInfoStateError
		if msg == "" {
			msg = fmt.Sprintf("%T", fault)
		}
		lf = types.LocalizedMethodFault{Fault: fault, LocalizedMessage: msg}
	}
	ctx := newCtx()
	ctx.WithLock(task, func() {
		ctx.Update(task, []types.PropertyChange{
			{Name: "info.completeTime", Val: time.Now()},
			{Name: "info.result", Val: result},
			{Name: "info.error", Val: lf},
			{Name: "info.state", Val: state},
		})
	})
}

func failTask(entity mo.Reference, name string, fault types.BaseMethodFault, msg string) types.ManagedObjectReference {
	task := startTask(entity, name)
	finishTask(task, nil, fault, msg)
	return task.Self
}

func okTask(entity mo.Reference, name string, run func() (types.BaseMethodFault, string)) types.ManagedObjectReference {
	task := startTask(entity, name)
	fault, msg := run()
	finishTask(task, nil, fault, msg)
	return task.Self
}

var taskInResponse = regexp.MustCompile(`<returnval type="Task">([^<]+)</returnval>`)

// forward lets vcsim answer the request and, when its answer is a task, waits for the task: vcsim runs tasks in a
// goroutine, and the add-on's follow-ups (GPU assignments, host VM lists, device labels) act on the result.
func (m *middleware) forward(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	m.next.ServeHTTP(rec, r)
	if match := taskInResponse.FindSubmatch(rec.Body.Bytes()); match != nil {
		if task, ok := reg.Get(types.ManagedObjectReference{Type: "Task", Value: string(match[1])}).(*simulator.Task); ok {
			task.Wait()
		}
	}
	return rec
}

func reply(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, vals := range rec.Header() {
		w.Header()[k] = vals
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

const envelopeStart = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>`
const envelopeEnd = `</soapenv:Body></soapenv:Envelope>`

func writeTask(w http.ResponseWriter, method string, ref types.ManagedObjectReference) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `%s<%sResponse xmlns="urn:vim25"><returnval type="Task">%s</returnval></%sResponse>%s`,
		envelopeStart, method, ref.Value, method, envelopeEnd)
}

func writeSOAPFault(w http.ResponseWriter, fault, msg string) {
	var escaped bytes.Buffer
	_ = xml.EscapeText(&escaped, []byte(msg))
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `%s<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>%s</faultstring><detail><%sFault xmlns="urn:vim25" xsi:type="%s"></%sFault></detail></soapenv:Fault>%s`,
		envelopeStart, escaped.String(), fault, fault, fault, envelopeEnd)
}

func hostOf(v vmView) *hostState {
	if v.host == nil {
		return nil
	}
	return hosts[*v.host]
}

// reconfig validates a ReconfigVM_Task; on a violation it answers with a failed task and returns true.
func (m *middleware) reconfig(w http.ResponseWriter, req *types.ReconfigVM_Task) bool {
	vm, ok := reg.Get(req.This).(*simulator.VirtualMachine)
	if !ok {
		return false
	}
	v := viewVM(vm)
	mu.Lock()
	fault, msg := validateReconfig(v, hostOf(v), &req.Spec)
	mu.Unlock()
	if fault == nil {
		return false
	}
	writeTask(w, "ReconfigVM_Task", failTask(vm, "reconfigVM", fault, msg))
	return true
}

func (m *middleware) powerOn(w http.ResponseWriter, r *http.Request, req *types.PowerOnVM_Task) {
	vm, ok := reg.Get(req.This).(*simulator.VirtualMachine)
	if !ok {
		m.next.ServeHTTP(w, r)
		return
	}
	powerMu.Lock()
	defer powerMu.Unlock()
	v := viewVM(vm)
	h := hostOf(v)
	inMaintenance := false
	if h != nil {
		reg.WithLock(newCtx(), h.host, func() { inMaintenance = h.host.Runtime.InMaintenanceMode })
	}
	if inMaintenance && v.power != types.VirtualMachinePowerStatePoweredOn {
		writeTask(w, "PowerOnVM_Task", failTask(vm, "powerOn", &types.InvalidState{},
			fmt.Sprintf("host %s is in maintenance mode", h.host.Name)))
		return
	}
	var placed []assignment
	var assigned map[int32]string
	if v.power != types.VirtualMachinePowerStatePoweredOn {
		mu.Lock()
		var fault types.BaseMethodFault
		var msg string
		placed, assigned, fault, msg = placePowerOn(v, h)
		mu.Unlock()
		if fault != nil {
			writeTask(w, "PowerOnVM_Task", failTask(vm, "powerOn", fault, msg))
			return
		}
	}
	rec := m.forward(r)
	if len(placed) > 0 && powerState(vm) == types.VirtualMachinePowerStatePoweredOn {
		mu.Lock()
		assignments[vm.Self] = placed
		setAssignedIDs(vm, assigned)
		h.render(nil)
		mu.Unlock()
	}
	reply(w, rec)
}

// upgrade implements UpgradeVM_Task (stock vcsim always sets vmx-13): the VM must be powered off and the
// version newer than the current one; no version means the newest this API offers.
func upgrade(w http.ResponseWriter, req *types.UpgradeVM_Task) {
	vm, ok := reg.Get(req.This).(*simulator.VirtualMachine)
	if !ok {
		writeSOAPFault(w, "ManagedObjectNotFound", "no such VM "+req.This.Value)
		return
	}
	ref := okTask(vm, "upgradeVm", func() (types.BaseMethodFault, string) {
		v := viewVM(vm)
		if v.power != types.VirtualMachinePowerStatePoweredOff {
			return &types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOff, ExistingState: v.power},
				"the VM must be powered off to upgrade its hardware version"
		}
		target := req.Version
		if target == "" {
			target = "vmx-21"
		}
		if hwVersion(target) == 0 || hwVersion(target) > 21 {
			return &types.InvalidArgument{InvalidProperty: "version"}, "unsupported hardware version " + target
		}
		if hwVersion(target) <= v.version {
			return &types.AlreadyUpgraded{}, fmt.Sprintf("VM %s is already vmx-%d", v.name, v.version)
		}
		reg.WithLock(newCtx(), vm, func() {
			reg.Update(newCtx(), vm, []types.PropertyChange{{Name: "config.version", Val: target}})
		})
		return nil, ""
	})
	writeTask(w, "UpgradeVM_Task", ref)
}

func rebootHost(w http.ResponseWriter, req *types.RebootHost_Task) {
	mu.Lock()
	h := hosts[req.This]
	mu.Unlock()
	if h == nil {
		writeSOAPFault(w, "ManagedObjectNotFound", "no such host "+req.This.Value)
		return
	}
	ref := okTask(h.host, "rebootHost", func() (types.BaseMethodFault, string) {
		mu.Lock()
		defer mu.Unlock()
		msg, fault := h.reboot(req.Force)
		return fault, msg
	})
	writeTask(w, "RebootHost_Task", ref)
}

// control serves the JSON test API under /gpusim/.
func control(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	reply := func(code int, v interface{}) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	path := strings.TrimPrefix(r.URL.Path, "/gpusim/")
	switch {
	case path == "calls" && r.Method == http.MethodGet:
		callsMu.Lock()
		out := map[string]interface{}{"total": total, "methods": copyCalls()}
		callsMu.Unlock()
		reply(200, out)
	case path == "calls/reset" && r.Method == http.MethodPost:
		callsMu.Lock()
		calls = map[string]int{}
		total = 0
		callsMu.Unlock()
		reply(200, map[string]interface{}{"total": 0})
	case path == "faults" && r.Method == http.MethodPost:
		f := &injectedFault{}
		if err := json.NewDecoder(r.Body).Decode(f); err != nil || f.Method == "" || f.Fault == "" {
			reply(400, map[string]string{"error": "want JSON {method, fault, message?, target?, count?}"})
			return
		}
		if _, err := newFault(f.Fault); err != nil {
			reply(400, map[string]string{"error": err.Error()})
			return
		}
		callsMu.Lock()
		faults = append(faults, f)
		callsMu.Unlock()
		reply(200, f)
	case path == "faults" && r.Method == http.MethodDelete:
		callsMu.Lock()
		faults = nil
		callsMu.Unlock()
		reply(200, []interface{}{})
	case path == "faults" && r.Method == http.MethodGet:
		callsMu.Lock()
		out := append([]*injectedFault{}, faults...)
		callsMu.Unlock()
		reply(200, out)
	case path == "state" && r.Method == http.MethodGet:
		mu.Lock()
		syncAssignments()
		out := stateJSON()
		mu.Unlock()
		reply(200, out)
	case strings.HasPrefix(path, "hosts/") && strings.HasSuffix(path, "/hostengine-restart") && r.Method == http.MethodPost:
		name := strings.TrimSuffix(strings.TrimPrefix(path, "hosts/"), "/hostengine-restart")
		mu.Lock()
		defer mu.Unlock()
		h := hostByName(name)
		if h == nil {
			reply(404, map[string]string{"error": "no host " + name})
			return
		}
		if err := h.restartHostengine(); err != nil {
			reply(409, map[string]string{"error": err.Error()})
			return
		}
		reply(200, map[string]string{"host": h.host.Name})
	default:
		reply(404, map[string]string{"error": "unknown control call " + r.Method + " " + r.URL.Path})
	}
}

func copyCalls() map[string]int {
	out := map[string]int{}
	for k, v := range calls {
		out[k] = v
	}
	return out
}

func stateJSON() map[string]interface{} {
	var list []map[string]interface{}
	for _, h := range hostOrder {
		var gpus []map[string]interface{}
		for _, g := range h.gpus {
			var vms []string
			for _, ref := range h.vmsOn(g.id) {
				vms = append(vms, refNames([]types.ManagedObjectReference{ref}))
			}
			var profiles []string
			for ref, alist := range assignments {
				for _, a := range alist {
					if a.host == h.host.Self && a.gpu == g.id {
						profiles = append(profiles, refNames([]types.ManagedObjectReference{ref})+":"+a.profile)
					}
				}
			}
			sort.Strings(profiles)
			gpus = append(gpus, map[string]interface{}{
				"id": g.id, "model": g.model.Token, "passthru_enabled": g.enabled, "passthru_active": g.active,
				"graphics_type": g.activeType, "configured_type": h.configuredType(g.id), "vgpu_mode": g.activeMode,
				"vms": vms, "vgpus": profiles, "label": g.label,
			})
		}
		list = append(list, map[string]interface{}{
			"name": h.host.Name, "moid": h.host.Self.Value, "default_type": h.defType, "policy": h.policy,
			"configured_default_type": h.config.HostDefaultGraphicsType, "boots": h.boots, "gpus": gpus,
			"software": softwareJSON(h),
		})
	}
	return map[string]interface{}{"hosts": list}
}
