#!/usr/bin/env bash
# Capacity plan for a sample inventory of GPUs, computed with the vGPU catalog (no emulator needed).
set -euo pipefail
ansible-playbook -i playbooks/inventories/capacity_sample.yml playbooks/capacity_plan.yml
