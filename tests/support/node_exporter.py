"""A real prometheus-node-exporter reading one textfile directory, scraped once over loopback."""

import shutil
import socket
import subprocess
import time
import urllib.request

BINARY = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")


def _free_loopback_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scrape_textfiles(directory, wait_seconds=30):
    """The /metrics text of a node_exporter running only its textfile collector on ``directory``."""
    assert BINARY, "node_exporter is not installed (scripts/install-system-deps.sh installs prometheus-node-exporter)"
    port = _free_loopback_port()
    exporter = subprocess.Popen([BINARY, "--collector.disable-defaults", "--collector.textfile",
                                 "--collector.textfile.directory=%s" % directory,
                                 "--web.listen-address=127.0.0.1:%d" % port],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as response:
                    return response.read().decode()
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        exporter.terminate()
        exporter.wait(timeout=30)
