#!/usr/bin/env bash
# `make demo`: the gpuvirt.core GPU lab.
#  1. a capacity plan for a sample GPU fleet, from the vGPU catalog alone;
#  2. starts the emulators on loopback: a KVM host's sysfs (two A10, a T4, an L40S), vCenter with GPU hosts
#     (vcsim + GPU add-on), the Kubernetes test world (etcd and a real kube-apiserver with the upstream CRDs,
#     KubeVirt and GPU Operator doubles, GPU nodes) with real helm and kubectl, and a chart repository serving
#     the stand-in gpu-operator chart v25.10.1 (tests/emulators/charts);
#  3. runs playbooks/demo_lab.yml across them twice: the second PLAY RECAP must show changed=0 everywhere and the
#     KVM host must see no sysfs write;
#  4. writes the GPU capacity report of the lab and prints a short summary;
#  5. stops the emulators and removes the lab (the report is kept under .build/demo-report).
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_NOCOWS=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
lab=$(mktemp -d -t gpuvirt-lab.XXXXXX)
report_dir=${GPU_REPORT_DIR:-$PWD/.build/demo-report}
free_port() { python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
step() { printf '\n=== %s\n' "$*"; }

kvm_root=$lab/kvm-1
vc_port=$(free_port)
kube_port=$(free_port)
chart_port=$(free_port)
chart_version=v25.10.1
started=()
cleanup() {
  local rc=$?
  step "stopping the emulators"
  for what in "${started[@]}"; do
    case "$what" in
      sysfs) python -m tests.emulators.sysfs umount "$kvm_root" || rc=1 ;;
      vcsim) tests/emulators/vcsim/vcsim-gpu down --port "$vc_port" || rc=1 ;;
      kube) python -m tests.emulators.kube down --port "$kube_port" || rc=1 ;;
      charts) if python -m tests.emulators.charts down --port "$chart_port"; then echo "stopped the chart repository"; else rc=1; fi ;;
    esac
  done
  rm -rf "$lab"
  exit "$rc"
}
trap cleanup EXIT

step "1. capacity plan for a sample fleet (vGPU catalog only)"
ansible-playbook -i playbooks/inventories/capacity_sample.yml playbooks/capacity_plan.yml

step "2. starting the emulators"
python -m tests.emulators.sysfs mount "$kvm_root" --gpus a10:2,t4:1,l40s:1
started+=(sysfs)
tests/emulators/vcsim/vcsim-gpu up --port "$vc_port" --clusters 1 --hosts 2 --vms 2 --vm-version vmx-19 > "$lab/vcenter.env"
started+=(vcsim)
# no ClusterPolicy: helm installs it from the chart (the world's v25.10 CRD is the chart's own)
python -m tests.emulators.kube up --port "$kube_port" --kubeconfig "$lab/kubeconfig" \
  --nodes gpu-1:a10:2,gpu-2:l40s:1,cpu-1 --no-cluster-policy --delay 1
started+=(kube)
kube_bin=$(python -m tests.emulators.kube.binaries)
mkdir -p "$lab/charts"
python -m tests.emulators.charts package --version "$chart_version" --dest "$lab/charts" >/dev/null
python -m tests.emulators.charts up --port "$chart_port" --dir "$lab/charts" >/dev/null
started+=(charts)
set -a
# shellcheck disable=SC1091
. "$lab/vcenter.env"
set +a
# real helm and kubectl first on PATH; helm's settings and cache in the lab, not in the user's home
export K8S_AUTH_KUBECONFIG=$lab/kubeconfig KUBECONFIG=$lab/kubeconfig PATH=$kube_bin:$PATH
export HELM_CONFIG_HOME=$lab/helm/config HELM_CACHE_HOME=$lab/helm/cache HELM_DATA_HOME=$lab/helm/data
export GPUVIRT_LAB_CHART_REPO_URL=http://127.0.0.1:$chart_port GPUVIRT_LAB_CHART_VERSION=$chart_version
export GPUVIRT_LAB_KVM_ROOT=$kvm_root GPUVIRT_LAB_TOKEN_FILE=$lab/client_configuration_token.tok
printf '%s\n' "${GPUVIRT_LAB_TOKEN:-lab-nls-client-configuration-token-$RANDOM$RANDOM}" > "$GPUVIRT_LAB_TOKEN_FILE"
chmod 600 "$GPUVIRT_LAB_TOKEN_FILE"
secret=$(cat "$GPUVIRT_LAB_TOKEN_FILE")
# the NGC API key and a private registry's password of the image pull secrets (gpuvirt.core.gpu_operator)
export GPUVIRT_LAB_NGC_API_KEY=${GPUVIRT_LAB_NGC_API_KEY:-lab-ngc-api-key-$RANDOM$RANDOM}
export GPUVIRT_LAB_REGISTRY_PASSWORD=${GPUVIRT_LAB_REGISTRY_PASSWORD:-lab-registry-password-$RANDOM$RANDOM}
cat > "$lab/inventory.ini" <<INV
localhost ansible_connection=local ansible_python_interpreter=$(command -v python)

[kvm_hosts]
kvm-1 ansible_connection=local ansible_python_interpreter=$(command -v python)

[gpu_kvm_hosts]
kvm-1 gpu_host_root=$kvm_root
INV
lab_play() { ansible-playbook -i "$lab/inventory.ini" -e @playbooks/lab/lab_vars.yml "$@"; }

step "lab starting point: VMs powered off, Supervisor namespace, Cluster API objects"
lab_play playbooks/lab/prepare.yml > "$lab/prepare.log" || { cat "$lab/prepare.log"; exit 1; }

for run in 1 2; do
  step "3.$run playbooks/demo_lab.yml, run $run"
  if [ "$run" = 1 ] && [ -n "${GPUVIRT_LAB_RUNNER_DIR:-}" ]; then
    # as an AWX job: ansible-runner with a private data dir (the runner test reads its job events)
    python -m tests.integration.awx.runner_job "$GPUVIRT_LAB_RUNNER_DIR" -i "$lab/inventory.ini" -e @playbooks/lab/lab_vars.yml \
      playbooks/demo_lab.yml | tee "$lab/run-$run.log"
  else
    lab_play playbooks/demo_lab.yml | tee "$lab/run-$run.log"
  fi
  python -m tests.emulators.sysfs writes "$kvm_root" | wc -l > "$lab/writes-$run"
done

recap=$(sed -n '/^PLAY RECAP/,$p' "$lab/run-2.log" | grep -E '^[a-z0-9.-]+ +: ok=')
if echo "$recap" | grep -Ev ' changed=0 ' | grep -q .; then
  echo "demo: the second run changed something:" >&2
  echo "$recap" >&2
  exit 1
fi
if [ "$(cat "$lab/writes-1")" != "$(cat "$lab/writes-2")" ]; then
  echo "demo: the second run wrote to the KVM host's sysfs" >&2
  exit 1
fi
for needle in "$VMWARE_PASSWORD" "$secret" "$GPUVIRT_LAB_NGC_API_KEY" "$GPUVIRT_LAB_REGISTRY_PASSWORD"; do
  if grep -qF -- "$needle" "$lab"/run-*.log; then
    echo "demo: a secret (vCenter password, licence token, NGC API key or registry password) was printed" >&2
    exit 1
  fi
done

step "4. GPU capacity report of the lab"
mkdir -p "$report_dir"
lab_play playbooks/gpu_report.yml -e '{"gpu_report_vcenters": [{"site": "vcenter"}], "gpu_report_clusters": [{"site": "kubernetes"}]}' \
  -e gpu_report_title="gpuvirt.core demo lab" -e gpu_report_dest="$report_dir/gpu-report.html" \
  -e gpu_report_markdown_dest="$report_dir/gpu-report.md" > "$lab/report.log" || { cat "$lab/report.log"; exit 1; }

step "5. GPU inventories, as AWX inventory sources read them"
# gpuvirt.core.vsphere_gpu_hosts and gpuvirt.core.kubernetes_gpu_nodes: credentials from the environment (VMWARE_*,
# K8S_AUTH_KUBECONFIG), as AWX's credential types inject them; a source that fails to parse fails the demo.
printf 'plugin: gpuvirt.core.vsphere_gpu_hosts\n' > "$lab/lab.vsphere_gpu_hosts.yml"
printf 'plugin: gpuvirt.core.kubernetes_gpu_nodes\n' > "$lab/lab.kubernetes_gpu_nodes.yml"
for source in vsphere_gpu_hosts kubernetes_gpu_nodes; do
  ANSIBLE_INVENTORY_UNPARSED_FAILED=true ansible-inventory -i "$lab/lab.$source.yml" --graph > "$lab/inventory-$source.txt"
  if ! grep -q '@gpu_model_' "$lab/inventory-$source.txt"; then
    echo "demo: gpuvirt.core.$source returned no GPU model group:" >&2
    cat "$lab/inventory-$source.txt" >&2
    exit 1
  fi
  echo "gpuvirt.core.$source: $(grep -o '@gpu_model_[a-z0-9_]*' "$lab/inventory-$source.txt" | sort -u | tr -d @ | tr '\n' ' ')"
done

step "summary"
echo "second run: $(echo "$recap" | wc -l) PLAY RECAP line(s), all changed=0; KVM sysfs writes: run 1 $(cat "$lab/writes-1"), run 2 0"
sed -n '/^## Summary/,/^## /p' "$report_dir/gpu-report.md" | sed '$d'
echo "GPU capacity report: $report_dir/gpu-report.html (Markdown: $report_dir/gpu-report.md)"
