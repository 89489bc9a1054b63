#!/usr/bin/env bash
# GPU capacity report for the lab: renders the facts the earlier demo steps saved under "$DEMO_DIR/facts/"
# (vSphere, KVM host and Kubernetes results of the info modules, saved by playbooks/gpu_report.yml with
# gpu_report_save_facts) into one HTML page and a Markdown file, twice (the second run must change nothing),
# and prints where they are. With no saved facts it writes an empty report.
#
# The report is kept after the demo (DEMO_DIR is removed): GPU_REPORT_DIR, default .build/demo-report.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DEMO_DIR:?DEMO_DIR is not set: run this step through scripts/demo.sh}"
out=${GPU_REPORT_DIR:-$PWD/.build/demo-report}
mkdir -p "$out" "$DEMO_DIR/facts"
vars=$DEMO_DIR/report-vars.json

# Merge every saved facts file: vSphere and Kubernetes results are lists, KVM hosts a mapping by host name.
python3 - "$DEMO_DIR/facts" "$out" "$vars" <<'PY'
import glob, json, os, sys
facts_dir, out, vars_path = sys.argv[1:4]
merged = {'vsphere': [], 'hosts': {}, 'kubernetes': []}
for path in sorted(glob.glob(os.path.join(facts_dir, '*.json'))):
    with open(path) as handle:
        facts = json.load(handle)
    merged['vsphere'] += facts.get('vsphere') or []
    merged['hosts'].update(facts.get('hosts') or {})
    merged['kubernetes'] += facts.get('kubernetes') or []
    print('report: facts from %s' % os.path.basename(path))
with open(vars_path, 'w') as handle:
    json.dump({'gpu_report_facts': merged, 'gpu_report_title': 'gpuvirt.core demo lab: GPU capacity',
               'gpu_report_dest': os.path.join(out, 'gpu-report.html'),
               'gpu_report_markdown_dest': os.path.join(out, 'gpu-report.md')}, handle)
PY

run() {
  ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ansible-playbook -i localhost, playbooks/gpu_report.yml -e "@$vars" | tee "$1"
}
run "$DEMO_DIR/report-1.log"
run "$DEMO_DIR/report-2.log"
if ! grep -Eq '^localhost +: ok=[0-9]+ +changed=0 ' "$DEMO_DIR/report-2.log"; then
  echo "report: the second run changed something; it must not" >&2
  exit 1
fi
echo
echo "GPU capacity report: $out/gpu-report.html"
echo "Markdown:            $out/gpu-report.md"
