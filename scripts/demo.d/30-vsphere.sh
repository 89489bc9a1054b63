#!/usr/bin/env bash
# vSphere GPU lab on vcsim with the GPU add-on: ESXi hosts to Shared Direct with the A100s in passthrough (hosts
# rebooted through maintenance mode), then two VMs: one with two A10-4Q vGPUs, one with an A100 by Dynamic
# DirectPath. Run twice; the second run must change nothing.
set -euo pipefail
port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$DEMO_DIR/vsphere"
tests/emulators/vcsim/vcsim-gpu up --port "$port" --clusters 1 --hosts 2 --vms 2 --vm-version vmx-19 > "$DEMO_DIR/vsphere/env"
trap 'tests/emulators/vcsim/vcsim-gpu down --port "$port"' EXIT
set -a
# shellcheck disable=SC1091
. "$DEMO_DIR/vsphere/env"
set +a
cat > "$DEMO_DIR/vsphere/lab.yml" <<'LAB'
esxi_cluster: DC0_C0
esxi_assignment_policy: consolidation
esxi_passthrough_devices:
  - device_id: "20f1"
esxi_reboot: true
gpu_vm_power_cycle: true
gpu_vms:
  - name: DC0_C0_RP0_VM0
    vgpu_profiles: [NVIDIA A10-4Q, NVIDIA A10-4Q]
  - name: DC0_C0_RP0_VM1
    passthrough_devices:
      - device_id: "20f1"
LAB
power() {
  for vm in DC0_C0_RP0_VM0 DC0_C0_RP0_VM1; do
    ansible localhost -m vmware.vmware.vm_powerstate -a "datacenter=DC0 name=$vm state=$1" >/dev/null
  done
}
echo "== lab preparation: power the two VMs off (vcsim starts them powered on; hosts are rebooted in maintenance mode)"
power powered-off
for run in 1 2; do
  echo "== esxi_vgpu_host.yml + vsphere_vm_gpu.yml, run $run"
  { ansible-playbook playbooks/esxi_vgpu_host.yml -e @"$DEMO_DIR/vsphere/lab.yml"
    ansible-playbook playbooks/vsphere_vm_gpu.yml -e @"$DEMO_DIR/vsphere/lab.yml"; } | tee "$DEMO_DIR/vsphere/run-$run.log"
  if [ "$run" = 1 ]; then
    echo "== power the VMs on: the simulator checks locked memory, Shared Direct and a free passthrough GPU"
    power powered-on
  fi
done
if [ "$(grep -cE 'localhost +: ok=[0-9]+ +changed=0 ' "$DEMO_DIR/vsphere/run-2.log")" != 2 ]; then
  echo "30-vsphere: the second run changed something" >&2
  exit 1
fi
if grep -q "$VMWARE_PASSWORD" "$DEMO_DIR"/vsphere/run-*.log; then
  echo "30-vsphere: the password was printed" >&2
  exit 1
fi
echo "30-vsphere: second run changed nothing"
