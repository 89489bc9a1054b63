"""Run a playbook the way AWX runs a job: ``ansible_runner.run`` with a private data dir (project, inventory,
extra variables and artifacts inside it), job events written by the runner's event callback, stdout taken from the
events. scripts/demo.sh runs the lab's first run through this when GPUVIRT_LAB_RUNNER_DIR is set.

    python -m tests.integration.awx.runner_job DATA_DIR -i INVENTORY -e @VARS_FILE PLAYBOOK

Prints the job's stdout (what AWX shows) and exits with the job's return code. The artifacts (job_events/*.json,
status, rc, stdout) stay in DATA_DIR/artifacts/<ident>/ for the test to read.
"""
import argparse
import os
import shutil
import sys

import ansible_runner


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('data_dir')
    parser.add_argument('-i', dest='inventory', required=True)
    parser.add_argument('-e', dest='extra_vars', action='append', default=[])
    parser.add_argument('playbook')
    args = parser.parse_args(argv)
    data_dir = os.path.abspath(args.data_dir)
    project = os.path.join(data_dir, 'project')
    os.makedirs(project, exist_ok=True)
    # AWX copies the project (the repository) into the private data dir and runs from there; here the playbooks
    # dir is what the job needs (its vars file and playbooks import one another by relative path).
    shutil.copytree('playbooks', os.path.join(project, 'playbooks'), dirs_exist_ok=True)
    os.makedirs(os.path.join(data_dir, 'inventory'), exist_ok=True)
    shutil.copy(args.inventory, os.path.join(data_dir, 'inventory', 'hosts'))
    cmdline = ' '.join('-e %s' % e for e in args.extra_vars)
    result = ansible_runner.run(private_data_dir=data_dir, playbook=args.playbook, cmdline=cmdline, ident='job',
                                quiet=True, envvars={'ANSIBLE_FORCE_COLOR': '0', 'ANSIBLE_NOCOLOR': '1'})
    with open(os.path.join(data_dir, 'artifacts', 'job', 'stdout')) as handle:
        sys.stdout.write(handle.read())
    sys.stdout.flush()
    return result.rc


if __name__ == '__main__':
    sys.exit(main())
