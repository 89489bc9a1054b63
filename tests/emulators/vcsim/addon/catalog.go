// GPU models the add-on can put into a simulated ESXi host.
//
// PCI ids, framebuffer sizes and the vGPU profiles each model offers follow
// reference/gpu-virtualization-facts.md §4 (NVIDIA's max-instance table, [S4] examples/config-example.yaml)
// and §8 (vSphere profile strings are lower case "grid_<gpu>-<size><series>", MIG-backed
// "grid_<gpu>-<slices>-<size>c" [S9][S1 §2.9]).
package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

const nvidiaVendorID = 0x10de

type gpuModel struct {
	Token       string // name used on the command line (-gpus a10:2)
	DeviceID    uint16
	SubDeviceID uint16
	DeviceName  string // as ESXi shows HostPciDevice.deviceName (pci.ids name)
	FBMiB       int64
	Profile     string // profile token: grid_<Profile>-4q
	Q, B, A, C  []int  // time-sliced sizes in GB per series
	MIG         []string
	Profiles    []string
}

var catalog = map[string]*gpuModel{}

func addModel(m *gpuModel) {
	for _, series := range []struct {
		letter string
		sizes  []int
	}{{"q", m.Q}, {"b", m.B}, {"a", m.A}, {"c", m.C}} {
		for _, size := range series.sizes {
			m.Profiles = append(m.Profiles, fmt.Sprintf("grid_%s-%d%s", m.Profile, size, series.letter))
		}
	}
	for _, mig := range m.MIG {
		m.Profiles = append(m.Profiles, fmt.Sprintf("grid_%s-%s", m.Profile, mig))
	}
	catalog[m.Token] = m
}

func init() {
	q16 := []int{1, 2, 4, 8, 16}
	q24 := []int{1, 2, 3, 4, 6, 8, 12, 24}
	q48 := []int{1, 2, 3, 4, 6, 8, 12, 16, 24, 48}
	addModel(&gpuModel{Token: "t4", DeviceID: 0x1eb8, SubDeviceID: 0x12a2, DeviceName: "TU104GL [Tesla T4]",
		FBMiB: 16384, Profile: "t4", Q: q16, B: []int{1, 2}, A: q16, C: []int{4, 8, 16}})
	addModel(&gpuModel{Token: "v100", DeviceID: 0x1db4, SubDeviceID: 0x1214, DeviceName: "GV100GL [Tesla V100 PCIe 16GB]",
		FBMiB: 16384, Profile: "v100", Q: q16, B: []int{1, 2}, A: q16, C: []int{4, 8, 16}})
	addModel(&gpuModel{Token: "a2", DeviceID: 0x25b6, SubDeviceID: 0x157e, DeviceName: "GA107GL [A2 / A16]",
		FBMiB: 16384, Profile: "a2", Q: q16, B: []int{1, 2}, A: q16, C: []int{4, 8, 16}})
	addModel(&gpuModel{Token: "a10", DeviceID: 0x2236, SubDeviceID: 0x1482, DeviceName: "GA102GL [A10]",
		FBMiB: 24576, Profile: "a10", Q: q24, B: []int{1, 2}, A: q24, C: []int{4, 6, 8, 12, 24}})
	addModel(&gpuModel{Token: "a40", DeviceID: 0x2235, SubDeviceID: 0x145a, DeviceName: "GA102GL [A40]",
		FBMiB: 49152, Profile: "a40", Q: q48, B: []int{1, 2}, A: q48, C: []int{4, 6, 8, 12, 16, 24, 48}})
	addModel(&gpuModel{Token: "l40s", DeviceID: 0x26b9, SubDeviceID: 0x1851, DeviceName: "AD102GL [L40S]",
		FBMiB: 49152, Profile: "l40s", Q: q48, B: []int{1, 2, 3}, A: q48, C: []int{4, 6, 8, 12, 16, 24, 48}})
	addModel(&gpuModel{Token: "a100", DeviceID: 0x20f1, SubDeviceID: 0x145f, DeviceName: "GA100 [A100 PCIe 40GB]",
		FBMiB: 40960, Profile: "a100", C: []int{4, 5, 8, 10, 20, 40},
		MIG: []string{"1-5c", "2-10c", "3-20c", "4-20c", "7-40c"}})
	addModel(&gpuModel{Token: "a100d", DeviceID: 0x20b5, SubDeviceID: 0x1533, DeviceName: "GA100 [A100 PCIe 80GB]",
		FBMiB: 81920, Profile: "a100d", C: []int{4, 8, 10, 16, 20, 40, 80},
		MIG: []string{"1-10c", "2-20c", "3-40c", "4-40c", "7-80c"}})
	addModel(&gpuModel{Token: "h100", DeviceID: 0x2331, SubDeviceID: 0x1626, DeviceName: "GH100 [H100 PCIe]",
		FBMiB: 81920, Profile: "h100", C: []int{4, 5, 8, 10, 16, 20, 40, 80},
		MIG: []string{"1-10c", "2-20c", "3-40c", "4-40c", "7-80c"}})
}

func (m *gpuModel) offers(profile string) bool {
	for _, p := range m.Profiles {
		if p == profile {
			return true
		}
	}
	return false
}

// profileShape parses "grid_a10-4q" -> (4096 MiB, slices 0) and "grid_a100-3-20c" -> (20480, 3).
func profileShape(profile string) (fbMiB int64, slices int, ok bool) {
	parts := strings.Split(profile, "-")
	if len(parts) < 2 {
		return 0, 0, false
	}
	last := parts[len(parts)-1]
	digits := strings.TrimRightFunc(last, func(r rune) bool { return r < '0' || r > '9' })
	gb, err := strconv.Atoi(digits)
	if err != nil {
		return 0, 0, false
	}
	if len(parts) == 3 {
		slices, err = strconv.Atoi(parts[1])
		if err != nil {
			return 0, 0, false
		}
	}
	if gb == 0 {
		return 512, slices, true
	}
	return int64(gb) * 1024, slices, true
}

// maxInstances is how many vGPUs of the profile one GPU holds: time-sliced min(FB/size, 32) [facts §4],
// MIG-backed by compute slices out of 7 (1g:7, 2g:3, 3g:2, 4g:1, 7g:1) [facts §4 MIG columns].
func (m *gpuModel) maxInstances(profile string) int {
	fb, slices, ok := profileShape(profile)
	if !ok || !m.offers(profile) {
		return 0
	}
	if slices > 0 {
		return map[int]int{1: 7, 2: 3, 3: 2, 4: 1, 7: 1}[slices]
	}
	n := int(m.FBMiB / fb)
	if n > 32 {
		n = 32
	}
	return n
}

// parseGPUSpec turns "a10:2,t4:1" into an ordered list of models.
func parseGPUSpec(spec string) ([]*gpuModel, error) {
	var out []*gpuModel
	if strings.TrimSpace(spec) == "" || spec == "none" {
		return out, nil
	}
	for _, item := range strings.Split(spec, ",") {
		fields := strings.SplitN(strings.TrimSpace(item), ":", 2)
		m, ok := catalog[strings.ToLower(fields[0])]
		if !ok {
			var names []string
			for k := range catalog {
				names = append(names, k)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("unknown GPU model %q (known: %s)", fields[0], strings.Join(names, ", "))
		}
		count := 1
		if len(fields) == 2 {
			n, err := strconv.Atoi(fields[1])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("bad GPU count in %q", item)
			}
			count = n
		}
		for i := 0; i < count; i++ {
			out = append(out, m)
		}
	}
	return out, nil
}
