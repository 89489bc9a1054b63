#!/usr/bin/env bash
# KubeVirt GPU cluster on the Kubernetes API emulator: label nodes, wait for vGPU/passthrough resources, permit
# them in the KubeVirt CR, create the licensing Secret; run twice, the second run must change nothing.
set -euo pipefail
port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
kubeconfig="$DEMO_DIR/kube/kubeconfig"
python -m tests.emulators.kube up --port "$port" --kubeconfig "$kubeconfig" --nodes gpu-1:a10:2,gpu-2:l40s:1,cpu-1 --delay 1
trap 'python -m tests.emulators.kube down --port "$port"' EXIT
token="$DEMO_DIR/kube/client_configuration_token.tok"
printf 'demo-nls-client-configuration-token\n' > "$token"
chmod 600 "$token"
export K8S_AUTH_KUBECONFIG="$kubeconfig"
for run in 1 2; do
  echo "== kubevirt_gpu_cluster.yml, run $run"
  ansible-playbook playbooks/kubevirt_gpu_cluster.yml -e license_token_file="$token" | tee "$DEMO_DIR/kube/run-$run.log"
done
if ! grep -Eq 'localhost +: ok=[0-9]+ +changed=0 ' "$DEMO_DIR/kube/run-2.log"; then
  echo "40-kube: the second run changed something" >&2
  exit 1
fi
if grep -q demo-nls-client-configuration-token "$DEMO_DIR"/kube/run-*.log; then
  echo "40-kube: the licensing token was printed" >&2
  exit 1
fi
echo "40-kube: second run changed nothing"
