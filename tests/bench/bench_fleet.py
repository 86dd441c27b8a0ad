"""Fleet-scale cost of the audit: podman hosts (through podman and over SSH), the report work alone.

Run as root: ``make bench-fleet`` (or ``python tests/bench/bench_fleet.py [--sizes 5,10,20,40]
[--rounds 3] [--variant-sizes 20] [--ssh-sizes 20] [--controller-sizes 1000,10000] [--skip-podman]
[--json FILE]``).

Podman part: for each N, N containers of localhost/tcpops-debian:12 (each with a small planted load:
a loopback listener and 200 connections opened and closed, so TIME_WAIT is not empty), reached with
containers.podman.podman. Round after round, in rotating order and with forks = N, it times as whole
processes: ``ansible -m ping`` (the connection floor), ``ansible -m setup``, the audit playbook
(reports included) and the sliced audit (two slices of tcpops.timewait.report in parallel, then
tcpops.timewait.merge); at the variant sizes also the audit with forks 5, with pipelining, with the
free strategy, and tcp_state_facts alone in full and summary mode. Wall time, the controller's
peak RSS (``ru_maxrss`` from ``wait4``) and the CPU time the whole machine spent during the run
(``/proc/stat``: the controller, podman and the containers share its cores). Ratios both of the
medians and within each round. The containers are removed at the end, also on failure.

SSH part, at the SSH sizes: the same load in containers of that image with sshd added
(localhost/tcpops-debian-ssh:12, built once from it), on podman's bridge network, reached with
ansible.builtin.ssh and a key made for the run: ``ping``, ``setup`` and the audit with Ansible's SSH
defaults on master connections opened just before (an untimed ping) and with none open, with
pipelining (masters open), and with ``ANSIBLE_SSH_ARGS=""`` (no multiplexing), in the same rotating
rounds.

Controller part: synthetic ``tcp_state_facts`` results (one real result taken from this machine,
its counts varied per host) for 1,000 and 10,000 hosts; times the rules (``fleet.host_entry``),
the document, the five writers and the publication into a temporary directory, step by step (wall
clock and CPU time), then runs the same again under ``tracemalloc`` for the peak memory. Per host.
"""

import argparse
import concurrent.futures
import copy
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
sys.path.insert(0, COLLECTIONS)
BIN = os.path.dirname(sys.executable)
IMAGE = "localhost/tcpops-debian:12"
PREFIX = "tcpops-benchfleet-"
LOAD = ("import socket,threading\n"
        "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('127.0.0.1',8080));s.listen(512)\n"
        "def serve():\n"
        "    while True:\n"
        "        c,_a=s.accept();c.close()\n"
        "threading.Thread(target=serve,daemon=True).start()\n"
        "for _i in range(200):\n"
        "    c=socket.create_connection(('127.0.0.1',8080));c.recv(1);c.close()\n"
        "import time\n"
        "time.sleep(10**9)\n")


def env(extra=None):
    result = dict(os.environ)
    result.update(extra or {})
    result.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
                  ANSIBLE_NOCOLOR="1", PYTHONPATH=COLLECTIONS,
                  CONTAINERS_CONF=os.environ.get("CONTAINERS_CONF",
                                                 os.path.join(ROOT, "tests", "containers", "containers.conf")))
    return result


def podman(*args):
    return subprocess.run(["podman"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env(), check=False, timeout=600)


def machine_cpu_seconds():
    """CPU time the whole machine has spent (all cores, user, nice, system, irq and softirq; not idle,
    iowait or steal): the controller, podman and the containers' processes alike."""
    with open("/proc/stat") as handle:
        fields = handle.readline().split()
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[1:8])
    return (user + nice + system + irq + softirq) / float(os.sysconf("SC_CLK_TCK"))


def timed(argv, cwd, extra_env=None):
    """(wall seconds, peak RSS in MiB of the process tree it waited for, rc, machine CPU seconds)."""
    started, started_cpu = time.monotonic(), machine_cpu_seconds()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(extra_env),
                               cwd=cwd)
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return (time.monotonic() - started, usage.ru_maxrss / 1024.0, process.returncode,
            machine_cpu_seconds() - started_cpu)


def timed_parallel(argvs, then, cwd):
    started, started_cpu = time.monotonic(), machine_cpu_seconds()
    processes = [subprocess.Popen(a, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(), cwd=cwd)
                 for a in argvs]
    peak, rcs = 0.0, []
    for process in processes:
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        peak = max(peak, usage.ru_maxrss / 1024.0)
        rcs.append(process.returncode)
    _seconds, rss, rc, _cpu = timed(then, cwd)
    return time.monotonic() - started, max(peak, rss), max(rcs + [rc]), machine_cpu_seconds() - started_cpu


def _commands(names, workdir, variants):
    """{name: callable returning (seconds, peak RSS MiB, rc, machine CPU seconds)} of what one round times."""
    size = len(names)
    inventory = os.path.join(workdir, "inventory-%d.ini" % size)
    with open(inventory, "w") as handle:
        handle.write("[fleet]\n%s\n[fleet:vars]\nansible_connection=containers.podman.podman\n"
                     "ansible_python_interpreter=/usr/bin/python3\n" % "\n".join(names))
    reports = os.path.join(workdir, "reports-%d" % size)
    adhoc = [os.path.join(BIN, "ansible"), "fleet", "-i", inventory]
    playbook = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, "-e", "tcp_audit_fail_on=never",
                "-e", "tcp_audit_report_dir=" + reports]
    forks = ["-f", str(size)]
    audit = playbook + forks + ["tcpops.timewait.audit"]
    half = len(names) // 2
    commands = {
        "ping": lambda: timed(adhoc + forks + ["-m", "ansible.builtin.ping"], workdir),
        "setup": lambda: timed(adhoc + forks + ["-m", "ansible.builtin.setup"], workdir),
        "audit": lambda: timed(audit, workdir),
        "sliced": lambda: timed_parallel(
            [playbook + forks + ["-e", "tcp_audit_run_id=bench", "-e", "tcp_audit_merge=false", "--limit",
                                 ",".join(part), "tcpops.timewait.report"] for part in (names[:half], names[half:])],
            playbook + forks + ["-e", "tcp_audit_run_id=bench", "tcpops.timewait.merge"], workdir),
    }
    if variants:
        commands.update({
            "audit forks=5": lambda: timed(playbook + ["-f", "5", "tcpops.timewait.audit"], workdir),
            "audit pipelining": lambda: timed(audit, workdir, {"ANSIBLE_PIPELINING": "True"}),
            "audit free": lambda: timed(audit, workdir, {"ANSIBLE_STRATEGY": "free"}),
            "facts full": lambda: timed(adhoc + forks + ["-m", "tcpops.timewait.tcp_state_facts"], workdir),
            "facts summary": lambda: timed(adhoc + forks + ["-m", "tcpops.timewait.tcp_state_facts",
                                                            "-a", "mode=summary"], workdir),
        })
    return commands


PAIRS = (("audit", "ping"), ("audit", "setup"), ("setup", "ping"))


def paired_ratios(samples, pairs=PAIRS):
    """The ratios within each round (one sample of each command, taken minutes apart at most), their
    median and range: a slow minute of the machine weighs on both sides of a round's ratio, where it
    moves only one side of a ratio of medians."""
    paired = {}
    for top, bottom in pairs:
        ratios = [a[0] / b[0] for a, b in zip(samples[top], samples[bottom])]
        cpu_ratios = [a[2] / b[2] for a, b in zip(samples[top], samples[bottom])]
        paired["%s/%s" % (top, bottom)] = {"median": statistics.median(ratios), "min": min(ratios),
                                           "max": max(ratios), "cpu_median": statistics.median(cpu_ratios)}
    return paired


def run_rounds(commands, rounds, size):
    """{name: [(seconds, peak RSS MiB, machine CPU seconds), ...]}: each round runs every command once,
    the order rotating from round to round."""
    order = list(commands)
    samples = dict((name, []) for name in order)
    for round_index in range(rounds):
        for name in order[round_index % len(order):] + order[:round_index % len(order)]:
            seconds, rss, rc, cpu = commands[name]()
            if rc:
                raise RuntimeError("%s at N=%d ended %d" % (name, size, rc))
            samples[name].append((seconds, rss, cpu))
    return samples


def summarised(samples):
    return dict((name, {"median_s": statistics.median(s for s, _r, _c in values),
                        "samples_s": [round(s, 2) for s, _r, _c in values],
                        "median_cpu_s": statistics.median(c for _s, _r, c in values),
                        "samples_cpu_s": [round(c, 2) for _s, _r, c in values],
                        "peak_rss_mib": max(r for _s, r, _c in values)})
                for name, values in samples.items())


def remove_leftovers():
    """Remove every container of an earlier run that was killed before it could clean up."""
    listed = podman("ps", "-a", "--format", "{{.Names}}", "--filter", "name=^" + PREFIX)
    names = [name for name in listed.stdout.split() if name.startswith(PREFIX)]
    remove(names)


def remove(names):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: podman("rm", "-f", "-t", "0", name), names))


def run_container(name, *arguments):
    podman("rm", "-f", "-t", "0", name)
    done = podman("run", "-d", "--name", name, *arguments)
    if done.returncode:
        raise RuntimeError(done.stdout)


def measured(names, start, make_commands, rounds, pairs, label, after=lambda: None):
    """Start the containers ``names`` (``start(name)`` each), time ``make_commands()`` round after round,
    then remove them (``after()`` first), also on failure."""
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(start, names))
        commands = make_commands()
        load_before = os.getloadavg()[0]
        samples = run_rounds(commands, rounds, len(names))
        row = summarised(samples)
        row["paired"] = paired_ratios(samples, pairs)
        row["load"] = [load_before, os.getloadavg()[0]]
        print("%sN=%d %s" % (label, len(names), json.dumps(row)), flush=True)
        return row
    finally:
        try:
            after()
        finally:
            remove(names)


def podman_part(sizes, rounds, workdir, variant_sizes=()):
    remove_leftovers()
    rows = {}
    for size in sizes:
        names = [PREFIX + "%02d" % i for i in range(size)]
        rows[size] = measured(
            names, lambda name: run_container(name, "--network", "none", IMAGE, "python3", "-c", LOAD),
            lambda names=names, size=size: _commands(names, workdir, size in variant_sizes), rounds, PAIRS, "")
    return rows


SSH_IMAGE = "localhost/tcpops-debian-ssh:12"
SSH_SETTINGS = (
    # (name suffix, environment, master connections before the timed command, label). Ansible's default
    # ssh_args (-C -o ControlMaster=auto -o ControlPersist=60s) make the first ssh call to a host open a
    # master connection that its later calls use, and keep it 60 s: "open" runs an untimed ping first,
    # "closed" ends them all first. An empty ssh_args turns multiplexing off: every ssh call connects.
    ("", {}, "open", "Ansible's defaults, master connections open"),
    (" cold", {}, "closed", "Ansible's defaults, none open"),
    (" pipelining", {"ANSIBLE_PIPELINING": "True"}, "open", "pipelining, master connections open"),
    (" no multiplexing", {"ANSIBLE_SSH_ARGS": ""}, None, "ssh_args empty"),
)
SSH_PAIRS = tuple((top + suffix, bottom + suffix) for suffix, _env, _masters, _label in SSH_SETTINGS
                  for top, bottom in PAIRS)


def ssh_image():
    """The test image with sshd added (apt, from the image's own Debian sources), built once per base
    image: its label names the base image it was built from."""
    inspected = podman("image", "inspect", "--format", "{{.Id}}", IMAGE)
    if inspected.returncode:
        raise RuntimeError("%s: %s (make test-images builds it)" % (IMAGE, inspected.stdout.strip()))
    base = inspected.stdout.strip()
    label = podman("image", "inspect", "--format", '{{ index .Labels "tcpops.base" }}', SSH_IMAGE)
    if label.returncode == 0 and label.stdout.strip() == base:
        return
    with tempfile.TemporaryDirectory() as context:
        with open(os.path.join(context, "Containerfile"), "w") as handle:
            handle.write("FROM %s\nLABEL tcpops.base=%s\n"
                         "RUN apt-get update && apt-get install -y --no-install-recommends openssh-server"
                         " && rm -rf /var/lib/apt/lists/* && mkdir -p /run/sshd /root/.ssh && chmod 700 /root/.ssh\n"
                         % (IMAGE, base))
        done = podman("build", "-t", SSH_IMAGE, context)
        if done.returncode:
            raise RuntimeError("building %s: %s" % (SSH_IMAGE, done.stdout[-2000:]))


def _ssh_commands(addresses, workdir, key, control_dir):
    size = len(addresses)
    inventory = os.path.join(workdir, "inventory-ssh-%d.ini" % size)
    with open(inventory, "w") as handle:
        handle.write("[fleet]\n%s\n[fleet:vars]\nansible_connection=ansible.builtin.ssh\nansible_user=root\n"
                     "ansible_ssh_private_key_file=%s\nansible_ssh_common_args=-o StrictHostKeyChecking=no "
                     "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR\nansible_python_interpreter=/usr/bin/python3\n"
                     % ("\n".join("%s ansible_host=%s" % item for item in sorted(addresses.items())), key))
    reports = os.path.join(workdir, "reports-ssh-%d" % size)
    forks = ["-f", str(size)]
    adhoc = [os.path.join(BIN, "ansible"), "fleet", "-i", inventory] + forks
    audit = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, "-e", "tcp_audit_fail_on=never",
             "-e", "tcp_audit_report_dir=" + reports] + forks + ["tcpops.timewait.audit"]
    ping = adhoc + ["-m", "ansible.builtin.ping"]
    commands = {}
    for suffix, settings, masters, _label in SSH_SETTINGS:
        settings = dict(settings, ANSIBLE_SSH_CONTROL_PATH_DIR=control_dir)
        for name, argv in (("ping", ping), ("setup", adhoc + ["-m", "ansible.builtin.setup"]), ("audit", audit)):
            commands[name + suffix] = (lambda argv=argv, settings=settings, masters=masters:
                                       prepare_masters(masters, ping, workdir, settings) or
                                       timed(argv, workdir, settings))
    return commands


def prepare_masters(masters, ping, workdir, settings):
    """Before a timed command: "open" the master connections (an untimed ``ping``), or end them all
    ("closed"), or leave them (None)."""
    if masters == "open" and timed(ping, workdir, settings)[2]:
        raise RuntimeError("opening the master connections failed")
    if masters == "closed":
        stop_masters(settings["ANSIBLE_SSH_CONTROL_PATH_DIR"])


def ssh_part(sizes, rounds, workdir):
    """The same hosts reached the way fleets are: sshd in each container, over podman's bridge network
    (only to these containers), with Ansible's SSH defaults on open and on closed master connections,
    with pipelining, and without multiplexing."""
    if not sizes:
        return {}
    ssh_image()
    key, control_dir = os.path.join(workdir, "id_ed25519"), os.path.join(workdir, "cp")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    remove_leftovers()
    rows = {}
    for size in sizes:
        names = [PREFIX + "ssh-%02d" % i for i in range(size)]

        def start(name):
            run_container(name, "-v", key + ".pub:/root/.ssh/authorized_keys:ro", SSH_IMAGE, "python3", "-c", LOAD)
            done = podman("exec", name, "/usr/sbin/sshd")
            if done.returncode:
                raise RuntimeError(done.stdout)

        def commands(names=names):
            addresses = dict((name, podman("inspect", "--format", "{{.NetworkSettings.IPAddress}}", name)
                              .stdout.strip()) for name in names)
            missing = sorted(name for name, address in addresses.items() if not address)
            if missing:
                raise RuntimeError("no address on podman's bridge network: %s" % ", ".join(missing))
            return _ssh_commands(addresses, workdir, key, control_dir)

        rows[size] = measured(names, start, commands, rounds, SSH_PAIRS, "ssh ", lambda: stop_masters(control_dir))
    return rows


def stop_masters(control_dir):
    """End the master connections that ControlPersist keeps for 60 s, so that none outlives the run."""
    for name in os.listdir(control_dir) if os.path.isdir(control_dir) else ():
        subprocess.run(["ssh", "-o", "ControlPath=" + os.path.join(control_dir, name), "-O", "exit", "bench"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=30)


def one_real_result():
    done = subprocess.run([os.path.join(BIN, "ansible"), "localhost", "-c", "local", "-m",
                           "tcpops.timewait.tcp_state_facts", "-e", "ansible_python_interpreter=" + sys.executable],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True,
                          env=dict(env(), ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json"))
    return json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


STAGES = ("rules", "document", "json", "csv", "html", "junit", "prom", "publish")


def _pipeline(results, base, stage):
    """The report task's controller work, each step through ``stage(name, callable)``."""
    from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
    from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import (
        csv_report, files, html_report, json_report, junit_report, prom_report)

    hosts = stage("rules", lambda: dict((name, fleet.host_entry(result, None)) for name, result in results))
    doc = stage("document", lambda: fleet.build_document(hosts, "2026-01-01T00:00:00Z"))
    rendered = {
        "json": stage("json", lambda: json_report.render(doc)),
        "csv": stage("csv", lambda: csv_report.render(doc)),
        "html": stage("html", lambda: html_report.render(doc, trend_runs=None)),
        "junit": stage("junit", lambda: junit_report.render(doc)),
        "prom": stage("prom", lambda: prom_report.render(doc, 1767225600, "bench")),
    }

    def publish():
        run_dir = files.publish_run(rendered, base, "20260101T000000Z", {"report": "bench"})
        files.point_latest(base, run_dir)

    stage("publish", publish)
    return dict((kind, len(text.encode("utf-8"))) for kind, text in rendered.items())


def controller_part(sizes):
    """Two passes over the same results: one timed (no tracing), one under tracemalloc (which slows
    Python several times) for the peak memory."""
    template = one_real_result()
    rows = {}
    for size in sizes:
        results = []
        for index in range(size):
            result = copy.deepcopy(template)
            counts = result["ansible_facts"]["tcp_state"].get("counts") or {}
            if "time_wait" in counts:
                counts["time_wait"] = index % 5000
            results.append(("host-%05d" % index, result))
        seconds, cpu = {}, {}

        def timed_stage(name, function):
            started, started_cpu = time.perf_counter(), time.process_time()
            value = function()
            seconds[name] = time.perf_counter() - started
            cpu[name] = time.process_time() - started_cpu
            return value

        peaks = {}

        def traced_stage(name, function):
            tracemalloc.reset_peak()
            value = function()
            peaks[name] = tracemalloc.get_traced_memory()[1]
            return value

        load = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as base:
            sizes_bytes = _pipeline(results, base, timed_stage)
        with tempfile.TemporaryDirectory() as base:
            tracemalloc.start()
            try:
                _pipeline(results, base, traced_stage)
            finally:
                tracemalloc.stop()
        total = sum(seconds.values())
        peak = max(peaks.values())
        total_cpu = sum(cpu.values())
        rows[size] = {"seconds": total, "ms_per_host": total * 1000.0 / size,
                      "cpu_ms_per_host": total_cpu * 1000.0 / size,
                      "cpu_ms_per_host_without_html": (total_cpu - cpu["html"]) * 1000.0 / size,
                      "stage_cpu_ms_per_host": dict((name, cpu[name] * 1000.0 / size) for name in STAGES),
                      "ms_per_host_without_html": (total - seconds["html"]) * 1000.0 / size,
                      "stage_ms_per_host": dict((name, seconds[name] * 1000.0 / size) for name in STAGES),
                      "peak_mib": peak / 1048576.0, "kib_per_host": peak / 1024.0 / size,
                      "stage_peak_kib_per_host": dict((name, peaks[name] / 1024.0 / size) for name in STAGES),
                      "report_bytes_per_host": dict((k, v // size) for k, v in sizes_bytes.items()),
                      "result_bytes": len(json.dumps(template)), "load": [load, os.getloadavg()[0]]}
        print("controller %d hosts %s" % (size, json.dumps(rows[size])), flush=True)
    return rows


def paired_cells(paired, suffix=""):
    """The table cells of the ratios within the rounds: audit/ping, audit/setup, setup/ping (median and
    range), then audit/ping and audit/setup in CPU time."""
    names = ["%s%s/%s%s" % (top, suffix, bottom, suffix) for top, bottom in PAIRS]
    return (["%.2f (%.2f-%.2f)" % (paired[name]["median"], paired[name]["min"], paired[name]["max"]) for name in names],
            ["%.2f" % paired[name]["cpu_median"] for name in names[:2]])


def ssh_markdown(ssh_rows):
    lines = ["", "Over SSH (median s; ratios within each round, median and min-max; CPU: machine CPU seconds):", "",
             "| N | settings | ping s | setup s | audit s | audit/ping | audit/setup | setup/ping | CPU audit/ping "
             "| CPU audit/setup |", "|---|---|---|---|---|---|---|---|---|---|"]
    for size, row in sorted(ssh_rows.items()):
        for suffix, _settings, _masters, label in SSH_SETTINGS:
            ratios, cpu_ratios = paired_cells(row["paired"], suffix)
            lines.append("| %s |" % " | ".join(
                ["%d" % size, label] + ["%.1f" % row[name + suffix]["median_s"] for name in ("ping", "setup", "audit")]
                + ratios + cpu_ratios))
    return lines


def markdown(podman_rows, controller_rows, ssh_rows=None):
    lines = []
    if podman_rows:
        lines += ["| N | ping s | setup s | audit s | sliced s | audit/ping | audit/setup | peak RSS audit MiB "
                  "| load 1 min |", "|---|---|---|---|---|---|---|---|---|"]
        for size, row in sorted(podman_rows.items()):
            lines.append("| %d | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %.0f | %.1f-%.1f |" % (
                size, row["ping"]["median_s"], row["setup"]["median_s"], row["audit"]["median_s"],
                row["sliced"]["median_s"], row["audit"]["median_s"] / row["ping"]["median_s"],
                row["audit"]["median_s"] / row["setup"]["median_s"], row["audit"]["peak_rss_mib"],
                row["load"][0], row["load"][1]))
        lines += ["", "Within each round (median, min-max of the rounds; machine CPU seconds, median):", "",
                  "| N | audit/ping | audit/setup | setup/ping | CPU s ping | CPU s setup | CPU s audit "
                  "| CPU audit/ping | CPU audit/setup |", "|---|---|---|---|---|---|---|---|---|"]
        for size, row in sorted(podman_rows.items()):
            ratios, cpu_ratios = paired_cells(row["paired"])
            lines.append("| %s |" % " | ".join(
                ["%d" % size] + ratios + ["%.1f" % row[name]["median_cpu_s"] for name in ("ping", "setup", "audit")]
                + cpu_ratios))
    if ssh_rows:
        lines += ssh_markdown(ssh_rows)
    for size, row in sorted(podman_rows.items()):
        if "audit forks=5" not in row:
            continue
        lines += ["", "N=%d, same hosts, same rounds (median s, ratio to the audit with forks = N and the "
                  "defaults):" % size, "", "| run | s | ratio |", "|---|---|---|"]
        for name in ("audit", "audit forks=5", "audit pipelining", "audit free", "facts full", "facts summary"):
            seconds = row[name]["median_s"]
            lines.append("| %s | %.1f | %.2f |" % (name, seconds, seconds / row["audit"]["median_s"]))
    if controller_rows:
        lines += ["", "Milliseconds per host, wall clock / CPU time of the process:", "",
                  "| hosts | all | without HTML | %s | peak MiB | KiB/host | load 1 min |"
                  % " | ".join(STAGES), "|---" * (6 + len(STAGES)) + "|"]
        for size, row in sorted(controller_rows.items()):
            lines.append("| %d | %.3f / %.3f | %.3f / %.3f | %s | %.1f | %.1f | %.1f-%.1f |" % (
                size, row["ms_per_host"], row["cpu_ms_per_host"], row["ms_per_host_without_html"],
                row["cpu_ms_per_host_without_html"],
                " | ".join("%.3f / %.3f" % (row["stage_ms_per_host"][name], row["stage_cpu_ms_per_host"][name])
                           for name in STAGES),
                row["peak_mib"], row["kib_per_host"], row["load"][0], row["load"][1]))
        lines += ["", "Peak traced memory per host (KiB) during each step: %s" % "; ".join(
            "%d hosts: %s" % (size, ", ".join("%s %.1f" % (name, row["stage_peak_kib_per_host"][name])
                                              for name in STAGES))
            for size, row in sorted(controller_rows.items()))]
    return "\n".join(lines)


def _terminated(_signum, _frame):
    raise SystemExit("terminated")  # so that the finally blocks remove the containers


def main():
    signal.signal(signal.SIGTERM, _terminated)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,10,20,40")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--controller-sizes", default="1000,10000")
    parser.add_argument("--variant-sizes", default="20",
                        help="sizes at which forks 5, pipelining, strategy free and the module's summary mode "
                             "are timed too, alternating with the rest")
    parser.add_argument("--ssh-sizes", default="20",
                        help="sizes at which the hosts are also reached over SSH (sshd in each container)")
    parser.add_argument("--skip-podman", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    podman_rows, ssh_rows = {}, {}
    if not args.skip_podman:
        with tempfile.TemporaryDirectory() as workdir:
            podman_rows = podman_part([int(s) for s in args.sizes.split(",") if s], args.rounds, workdir,
                                      [int(s) for s in args.variant_sizes.split(",") if s])
            ssh_rows = ssh_part([int(s) for s in args.ssh_sizes.split(",") if s], args.rounds, workdir)
    # after the timed commands: a child's peak RSS as wait4 reports it starts from this process's own
    # (exec keeps the high-water mark), which the controller part raises to hundreds of MiB
    controller_rows = controller_part([int(s) for s in args.controller_sizes.split(",") if s])
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())
    print(markdown(podman_rows, controller_rows, ssh_rows))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"podman": podman_rows, "ssh": ssh_rows, "controller": controller_rows}, handle, indent=2)


if __name__ == "__main__":
    main()
