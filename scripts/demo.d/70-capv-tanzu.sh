#!/usr/bin/env bash
# Cluster API vSphere and vSphere with Tanzu GPU clusters (seeds 000, 001, 004):
#  - capv_gpu_cluster.yml on the Kubernetes API emulator acting as the CAPV management cluster: the workers'
#    VSphereMachineTemplate gets an A100 MIG-backed vGPU in a new template and the MachineDeployment rolls onto it;
#  - tkgs_gpu_cluster.yml: VM class gpu01 (A100-3-20C) offered in namespace tak on vcsim-gpu's vCenter REST API,
#    then the TanzuKubernetesCluster with a GPU node pool on the emulator acting as the Supervisor.
# The GPU Operator parts need a workload cluster and helm; they are left out here (the gpu_operator role has its
# own molecule scenario). Each playbook runs twice; the second run must change nothing.
set -euo pipefail
work="$DEMO_DIR/capv"
mkdir -p "$work"
free_port() { python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
kube_port=$(free_port)
vc_port=$(free_port)
cleanup() {
  python -m tests.emulators.kube down --port "$kube_port" || true
  tests/emulators/vcsim/vcsim-gpu down --port "$vc_port" 2>/dev/null || true
}
trap cleanup EXIT
python -m tests.emulators.kube up --port "$kube_port" --kubeconfig "$work/kubeconfig" --nodes cpu-1
export K8S_AUTH_KUBECONFIG="$work/kubeconfig"

echo "== lab preparation: what clusterctl and the Supervisor would have created (template, MachineDeployment, TKC CRD, namespace)"
cat > "$work/seed.yml" <<'SEED'
- hosts: localhost
  gather_facts: false
  tasks:
    - kubernetes.core.k8s:
        definition:
          apiVersion: apiextensions.k8s.io/v1
          kind: CustomResourceDefinition
          metadata: {name: tanzukubernetesclusters.run.tanzu.vmware.com}
          spec:
            group: run.tanzu.vmware.com
            scope: Namespaced
            names: {kind: TanzuKubernetesCluster, listKind: TanzuKubernetesClusterList, plural: tanzukubernetesclusters,
                    singular: tanzukubernetescluster, shortNames: [tkc]}
            versions:
              - name: v1alpha2
                served: true
                storage: true
                schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
                subresources: {status: {}}
    - kubernetes.core.k8s:
        definition: {apiVersion: v1, kind: Namespace, metadata: {name: tak}}
    - kubernetes.core.k8s:
        definition:
          apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
          kind: VSphereMachineTemplate
          metadata: {name: w1-worker, namespace: default}
          spec:
            template:
              spec:
                cloneMode: linkedClone
                datacenter: DC0
                datastore: LocalDS_0
                diskGiB: 25
                folder: vm
                memoryMiB: 16384
                network: {devices: [{dhcp4: true, networkName: VM Network}]}
                numCPUs: 4
                os: Linux
                powerOffMode: trySoft
                resourcePool: /DC0/host/DC0_C0/Resources
                server: vcenter.lab
                template: ubuntu-2004-kube-v1.31.4-efi
                thumbprint: "01:02:03"
    - kubernetes.core.k8s:
        definition:
          apiVersion: cluster.x-k8s.io/v1beta1
          kind: MachineDeployment
          metadata: {name: w1-md-0, namespace: default}
          spec:
            clusterName: w1
            replicas: 2
            selector: {matchLabels: {cluster.x-k8s.io/deployment-name: w1-md-0}}
            template:
              metadata: {labels: {cluster.x-k8s.io/deployment-name: w1-md-0}}
              spec:
                clusterName: w1
                version: v1.31.4
                bootstrap: {configRef: {apiVersion: bootstrap.cluster.x-k8s.io/v1beta1, kind: KubeadmConfigTemplate, name: w1-md-0}}
                infrastructureRef: {apiVersion: infrastructure.cluster.x-k8s.io/v1beta1, kind: VSphereMachineTemplate, name: w1-worker}
SEED
ansible-playbook "$work/seed.yml" > "$work/seed.log"

capv_vars=(-e capv_worker_template=w1-worker -e capv_machine_deployment=w1-md-0
           -e '{"capv_pci_devices": [{"vgpu_profile": "A100-3-20C"}]}')
for run in 1 2; do
  echo "== capv_gpu_cluster.yml, run $run"
  ansible-playbook playbooks/capv_gpu_cluster.yml "${capv_vars[@]}" | tee "$work/capv-run-$run.log"
done

echo "== vCenter: vcsim-gpu (API 8.0.3: VM class devices go into config_spec) with Supervisor namespace tak"
tests/emulators/vcsim/vcsim-gpu up --port "$vc_port" --clusters 1 --hosts 1 --vms 0 --gpus a100:2 > "$work/vcenter.env"
set -a
# shellcheck disable=SC1091
. "$work/vcenter.env"
set +a
python - <<'PY'
import base64, json, os, ssl, urllib.request
base = 'https://127.0.0.1:%s' % os.environ['VMWARE_PORT']
ctx = ssl._create_unverified_context()  # the simulator's self-signed certificate
def call(method, path, body=None, session=None):
    headers = {'Content-Type': 'application/json'}
    if session:
        headers['vmware-api-session-id'] = session
    else:
        auth = '%s:%s' % (os.environ['VMWARE_USER'], os.environ['VMWARE_PASSWORD'])
        headers['Authorization'] = 'Basic ' + base64.b64encode(auth.encode()).decode()
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(base + path, data, headers, method=method), context=ctx) as r:
        text = r.read()
        return json.loads(text) if text else None
session = call('POST', '/api/session')
cluster = call('GET', '/api/vcenter/cluster', session=session)[0]['cluster']
call('POST', '/api/vcenter/namespaces/instances', {'cluster': cluster, 'namespace': 'tak'}, session=session)
call('DELETE', '/api/session', session=session)
print('namespace tak created on cluster %s' % cluster)
PY
for run in 1 2; do
  echo "== tkgs_gpu_cluster.yml, run $run"
  ansible-playbook playbooks/tkgs_gpu_cluster.yml -e tkgs_wait=false | tee "$work/tkgs-run-$run.log"
done

for name in capv tkgs; do
  if ! grep -Eq 'localhost +: ok=[0-9]+ +changed=0 ' "$work/$name-run-2.log"; then
    echo "70-capv-tanzu: the second $name run changed something" >&2
    exit 1
  fi
  if ! grep -Eq 'localhost +: ok=[0-9]+ +changed=[1-9]' "$work/$name-run-1.log"; then
    echo "70-capv-tanzu: the first $name run changed nothing" >&2
    exit 1
  fi
done
if grep -q "$VMWARE_PASSWORD" "$work"/tkgs-run-*.log; then
  echo "70-capv-tanzu: the password was printed" >&2
  exit 1
fi
echo "70-capv-tanzu: second runs changed nothing"
