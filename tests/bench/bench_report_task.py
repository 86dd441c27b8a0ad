"""The report task as Ansible runs it: N inventory hosts, each holding one real registered
``tcp_state_facts`` result, and the ``tcp_audit_report`` task's time per host (and the preflight's, which
reads every host's variables too).

``python tests/bench/bench_report_task.py [--sizes 100,1000] [--rounds 3] [--preflight-sizes 10000]``
(``make bench-fleet`` runs it after ``bench_fleet.py``). The hosts are never contacted: tasks on localhost
give each host what a module run leaves (``set_fact`` with ``delegate_facts``: ``tcp_state`` as a host fact
and the whole result as ``tcp_audit_gathered``), then the report task of the audit playbook writes the
fleet report into a temporary directory. The task's duration comes from the json callback; beside it, the
same results through the report code alone (``bench_fleet``'s controller part, in this process) give what
Ansible adds: assembling each host's variables for the task. ``--preflight-sizes`` also times a playbook
holding the preflight task alone, where giving every host a result would take longest: with plain
inventory variables, and with a value the run reads once templated from a variable each host has its own
of (the preflight then templates it for every host).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_fleet  # noqa: E402  (the same environment, result and pipeline as the controller part)

PLAYBOOK = """\
- name: The report task over registered results
  hosts: all
  gather_facts: false
  tasks:
    - name: Check the variables, every host's for those the run reads once
      tcpops.timewait.tcp_audit_preflight:
        playbook: audit
      run_once: true
      delegate_to: localhost

    - name: Load the result once
      ansible.builtin.set_fact:
        bench_result: "{{ lookup('ansible.builtin.file', result_file) | from_json }}"
      run_once: true

    - name: Give every host the result's facts, as the module's run does (host facts)
      ansible.builtin.set_fact:
        tcp_state: "{{ bench_result.ansible_facts.tcp_state }}"
        cacheable: true
      delegate_to: "{{ item }}"
      delegate_facts: true
      loop: "{{ ansible_play_hosts_all }}"
      run_once: true

    - name: Register the result for every host
      ansible.builtin.set_fact:
        tcp_audit_gathered: "{{ bench_result }}"
      delegate_to: "{{ item }}"
      delegate_facts: true
      loop: "{{ ansible_play_hosts_all }}"
      run_once: true

    - name: Write the reports
      tcpops.timewait.tcp_audit_report:
        hosts: "{{ ansible_play_hosts_all }}"
        dest: "{{ report_dir }}"
        history: false
      run_once: true
      delegate_to: localhost
"""
# the preflight's worst case: a value the run reads once, templated from a variable every host has its own of,
# so that it templates the value for every host (all alike: the run goes on)
TEMPLATED_FOR_EACH_HOST = "tcp_audit_report_dir=\"{{ 'reports' if inventory_hostname else 'none' }}\"\n"
PREFLIGHT_ALONE = PLAYBOOK[:PLAYBOOK.index("    - name: Load the result once")].replace(
    "The report task over registered results", "The preflight task alone")


def _seconds(stamp):
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _task_seconds(task):
    duration = task["task"]["duration"]
    return _seconds(duration["end"]) - _seconds(duration["start"])


def _run_tasks(size, workdir, playbook, extra_vars=(), all_vars=""):
    """The tasks of a fresh run of ``playbook`` (json callback) over ``size`` local inventory hosts, with
    ``all_vars`` (inventory lines) given to them all."""
    inventory = os.path.join(workdir, "hosts-%d.ini" % size)
    with open(inventory, "w") as handle:
        handle.write("[fleet]\n%s\n[all:vars]\nansible_connection=local\nansible_python_interpreter=%s\n%s"
                     % ("\n".join("host-%05d" % index for index in range(size)), sys.executable, all_vars))
    argv = [os.path.join(bench_fleet.BIN, "ansible-playbook"), "-i", inventory, os.path.join(workdir, playbook)]
    for extra in extra_vars:
        argv += ["-e", extra]
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True,
                          env=dict(bench_fleet.env(), ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json"))
    return json.loads(done.stdout)["plays"][0]["tasks"]


def report_task_seconds(size, workdir):
    """(report task, preflight task) durations at ``size`` hosts, in a fresh playbook run."""
    reports = tempfile.mkdtemp(dir=workdir)
    tasks = _run_tasks(size, workdir, "play.yml", ["result_file=%s" % os.path.join(workdir, "result.json"),
                                                   "report_dir=%s" % reports])
    with open(os.path.join(reports, "tcp-audit.json")) as handle:
        hosts = len(json.load(handle)["hosts"])
    if hosts != size:
        raise SystemExit("the report holds %d hosts, %d were registered" % (hosts, size))
    return _task_seconds(tasks[-1]), _task_seconds(tasks[0])


def pipeline_seconds(size, template):
    """The report code alone over the same results (rules, document, five writers, publication)."""
    results = [("host-%05d" % index, template) for index in range(size)]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as base:
        bench_fleet._pipeline(results, base, lambda _name, function: function())
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--preflight-sizes", default="10000")
    args = parser.parse_args()
    template = bench_fleet.one_real_result()
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        with open(os.path.join(workdir, "result.json"), "w") as handle:
            json.dump(template, handle)
        with open(os.path.join(workdir, "play.yml"), "w") as handle:
            handle.write(PLAYBOOK)
        with open(os.path.join(workdir, "preflight.yml"), "w") as handle:
            handle.write(PREFLIGHT_ALONE)
        for size in [int(s) for s in args.sizes.split(",") if s]:
            task, alone, preflight = [], [], []
            for _round in range(args.rounds):
                report_s, preflight_s = report_task_seconds(size, workdir)
                task.append(report_s)
                preflight.append(preflight_s)
                alone.append(pipeline_seconds(size, template))
            row = {"hosts": size, "task_s": statistics.median(task), "pipeline_s": statistics.median(alone),
                   "preflight_s": statistics.median(preflight), "task_samples_s": [round(s, 3) for s in task],
                   "load": os.getloadavg()[0]}
            rows.append(row)
            print(json.dumps(row), flush=True)
        alone_rows = []
        for size in [int(s) for s in args.preflight_sizes.split(",") if s]:
            for variant, all_vars in (("plain", ""), ("templated for each host", TEMPLATED_FOR_EACH_HOST)):
                samples = [_task_seconds(_run_tasks(size, workdir, "preflight.yml", all_vars=all_vars)[0])
                           for _round in range(args.rounds)]
                alone_rows.append({"hosts": size, "variables": variant, "preflight_s": statistics.median(samples),
                                   "samples_s": [round(s, 3) for s in samples], "load": os.getloadavg()[0]})
                print(json.dumps(alone_rows[-1]), flush=True)
    print("\n| hosts | report task s | ms per host | report code alone s | ms per host | Ansible's part ms per host "
          "| preflight task s | ms per host | load 1 min |\n|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        size = row["hosts"]
        print("| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f |" % (
            size, row["task_s"], row["task_s"] * 1000 / size, row["pipeline_s"], row["pipeline_s"] * 1000 / size,
            (row["task_s"] - row["pipeline_s"]) * 1000 / size, row["preflight_s"], row["preflight_s"] * 1000 / size,
            row["load"]))
    if alone_rows:
        print("\nThe preflight task alone:\n\n| hosts | variables | preflight task s | ms per host | samples s "
              "| load 1 min |\n|---|---|---|---|---|---|")
        for row in alone_rows:
            samples = ", ".join("%.2f" % s for s in row["samples_s"])
            print("| %d | %s | %.2f | %.2f | %s | %.1f |" % (
                row["hosts"], row["variables"], row["preflight_s"], row["preflight_s"] * 1000 / row["hosts"], samples,
                row["load"]))


if __name__ == "__main__":
    main()
