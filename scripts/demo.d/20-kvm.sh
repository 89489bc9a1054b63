#!/usr/bin/env bash
# KVM host lab on the sysfs emulator (two A10, one T4, one L40S): the T4 given to vfio-pci for passthrough, SR-IOV
# enabled on the A10s and the L40S with sriov-manage, then A10-4Q x6 on each A10 (mdev on VFs, persisted with mdevctl
# definitions) and L40S-8Q x4 on the L40S (vendor-specific VFIO). Run twice; the second run must change nothing and
# write nothing to sysfs.
set -euo pipefail
root="$DEMO_DIR/kvm-host"
python -m tests.emulators.sysfs mount "$root" --gpus a10:2,t4:1,l40s:1
trap 'python -m tests.emulators.sysfs umount "$root"' EXIT
cat > "$DEMO_DIR/kvm-lab.yml" <<LAB
kvm_vgpu_hosts: localhost
kvm_vgpu_host_root: $root
kvm_vgpu_passthrough: ["0000:20:00.0"]
kvm_vgpu_layout:
  - {devices: ["0000:10:00.0", "0000:18:00.0"], vgpu_type: A10-4Q, count: 6}
  - {devices: ["0000:28:00.0"], vgpu_type: NVIDIA L40S-8Q, count: 4}
LAB
for run in 1 2; do
  echo "== kvm_vgpu_host.yml, run $run"
  ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$(command -v python)" \
    -e @"$DEMO_DIR/kvm-lab.yml" playbooks/kvm_vgpu_host.yml | tee "$DEMO_DIR/kvm-run-$run.log"
  python -m tests.emulators.sysfs writes "$root" | wc -l > "$DEMO_DIR/kvm-writes-$run"
done
if ! grep -qE 'localhost +: ok=[0-9]+ +changed=0 ' "$DEMO_DIR/kvm-run-2.log"; then
  echo "20-kvm: the second run changed something" >&2
  exit 1
fi
if [ "$(cat "$DEMO_DIR/kvm-writes-1")" != "$(cat "$DEMO_DIR/kvm-writes-2")" ]; then
  echo "20-kvm: the second run wrote to sysfs" >&2
  exit 1
fi
echo "== sysfs writes of run 1: $(cat "$DEMO_DIR/kvm-writes-1"), of run 2: 0"
echo "== mdevctl definitions written (checked with the real mdevctl in a private mount namespace):"
unshare -m sh -c "mount --bind '$root/etc/mdevctl.d' /etc/mdevctl.d && mdevctl list -d" | head -4
echo "   ... $(find "$root/etc/mdevctl.d" -type f | grep -vc scripts.d) definition(s)"
