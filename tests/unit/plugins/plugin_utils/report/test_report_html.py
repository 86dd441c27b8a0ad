# -*- coding: utf-8 -*-
"""The HTML report's template and views: autoescape, the numbers per host, the fleet views, the trends."""

import base64
import hashlib
import json
import os
import re

import pytest
from jinja2 import StrictUndefined

from ansible_collections.tcpops.timewait.plugins.plugin_utils._audit import fleet
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import files
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import html_report as report_html
from ansible_collections.tcpops.timewait.plugins.plugin_utils._report import trends

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "audit")


def load(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return json.load(handle)


def facts(usage=0.0007, close_wait=2, owners=True, queue=0, folk=True):
    data = load("tcp_state_clean.json")
    data["time_wait"]["top_destinations"][0]["port_usage"] = usage
    data["close_wait"]["total"] = data["counts"]["close_wait"] = close_wait
    if not owners:
        data["close_wait"].update(owners_available=False, owners_reason="not root", top_processes=[])
    data["listen"]["sockets"][1]["queue"] = queue
    if folk:  # sysctl files with tcp_tw_recycle and tcp_tw_reuse set
        data["sysctl_config"] = load("sysctl_config_folk.json")
    return data


def doc_of(**hosts):
    return fleet.build_document(dict((name, fleet.host_entry({"ansible_facts": {"tcp_state": f}}))
                                     for name, f in hosts.items()), "2026-01-01T00:00:00Z")


def section(page, name):
    start = page.index('id="host-%s"' % name)
    return page[start:page.index("</details>", start)]


def test_the_environment_escapes_by_default_and_refuses_undefined_names():
    env = report_html.environment()
    assert env.autoescape is True and env.undefined is StrictUndefined
    assert env.from_string("{{ v }}").render(v="<b>\u202e") == "&lt;b&gt;\\u202e"
    with pytest.raises(Exception):
        env.from_string("{{ missing }}").render()


def test_the_template_ships_beside_the_module():
    assert os.path.isfile(os.path.join(report_html.TEMPLATE_DIR, report_html.TEMPLATE))


def test_a_host_shows_its_states_ports_and_key_sysctls_live_and_configured():
    page = report_html.render(doc_of(**{"web-1": facts()}))
    host = section(page, "web-1")
    for state, value in (("established", 12), ("time_wait", 40), ("close_wait", 2), ("fin_wait2", 1), ("listen", 3)):
        assert re.search(r'st-%s"[^>]*><b>%d</b>%s' % (state, value, state), host), state
    assert "syn_sent" not in host  # a rare state at zero is left out
    assert "Ephemeral range 32768&ndash;60999: 28,232 ports, 0 reserved, <b>28,232 usable</b>" in host
    assert ("<td><code>net.ipv4.tcp_tw_reuse</code></td><td>2</td><td>1 (/etc/sysctl.conf:61)</td>") in host
    assert "<td><code>net.ipv4.tcp_max_tw_buckets</code></td><td>262,144</td><td>not set in any sysctl file</td>" in host
    assert "<td><code>net.ipv4.tcp_timestamps</code></td><td>1</td>" in host
    assert "open" in page[page.index('id="host-web-1"') - 40:page.index('id="host-web-1"') + 40]


def test_destinations_are_gauges_with_the_warn_and_fail_marks():
    page = report_html.render(doc_of(**{"web-1": facts(usage=0.9)}))
    host = section(page, "web-1")
    assert '<td>10.0.0.5:5432</td><td class="n">20</td><td class="n">90%</td>' in host
    assert '<i class="g-fail" style="width:90.0%"></i><b class="mark-warn" style="left:50.0%"></b>' \
           '<b class="mark-fail" style="left:80.0%"></b>' in host
    assert '<i class="g-ok" style="width:0.8%"></i>' in host  # 0.04%: visible, not a hairline


def test_close_wait_owners_are_a_table_or_the_reason_they_are_unknown():
    named = section(report_html.render(doc_of(**{"web-1": facts()})), "web-1")
    assert '<td>nginx</td><td class="n">812</td><td class="n">2</td><td>443</td>' in named
    unknown = section(report_html.render(doc_of(**{"web-1": facts(close_wait=50, owners=False)})), "web-1")
    assert "CLOSE_WAIT owners not available (not root); run as root (become: true) to name them." in unknown
    assert 'class="owners"' not in unknown


def test_only_listeners_whose_queue_is_filling_are_listed():
    quiet = section(report_html.render(doc_of(**{"web-1": facts(queue=10)})), "web-1")
    assert "3 listening sockets, none with an accept queue half full or more." in quiet
    busy = section(report_html.render(doc_of(**{"web-1": facts(queue=4000)})), "web-1")
    assert '<td>0.0.0.0:443</td><td class="n">4,000</td><td class="n">4,096</td>' in busy


def test_evidence_is_text_and_small_tables_not_a_dump():
    items = report_html.evidence_view({
        "usable_ports": 28232, "port_range": [32768, 60999], "warn_at": 0.5, "fail_at": 0.8,
        "worst_destination": {"address": "10.0.0.5", "port": 5432, "count": 20, "port_usage": 0.9},
        "top_local_ports": [{"port": 1024 + i, "count": 10 - i} for i in range(10)],
        "owners_reason": None, "owners": []})
    by_label = dict((item["label"], item) for item in items)
    assert set(by_label) == {"usable ports", "port range", "worst destination", "top local ports", "thresholds"}
    assert by_label["usable ports"]["text"] == "28,232"
    assert by_label["port range"]["text"] == "32768, 60999"
    assert by_label["worst destination"]["text"] == "address 10.0.0.5, port 5432, count 20, port usage 90%"
    assert by_label["thresholds"]["text"] == "warn at 50%, fail at 80%"
    table = by_label["top local ports"]
    assert table["columns"] == ["port", "count"] and table["rows"] == [["1024", "10"], ["1025", "9"], ["1026", "8"]]
    assert table["more"] == 7
    page = report_html.render(doc_of(**{"web-1": facts(usage=0.9)}))
    assert "<pre>" not in page and '<code>time_wait_port_exhaustion</code>' in page


def test_status_cards_at_zero_are_muted_not_solid_red():
    page = report_html.render(doc_of(**{"web-1": facts(folk=False)}))
    assert re.search(r'<div class="card zero" id="count-fail"[^>]*><b>0</b>fail', page)
    assert re.search(r'<div class="card" id="count-pass"[^>]*><b>1</b>pass', page)


def test_fleet_views_rank_hosts_by_exposure_and_rules_by_how_often_they_fire():
    doc = doc_of(**dict(("h%d" % i, facts(usage=i / 10.0, close_wait=0 if i % 3 else 1000, folk=False)) for i in range(10)))
    page = report_html.render(doc)
    exposed = page[page.index('id="closest-to-exhaustion"'):page.index('id="rules-firing"')]
    assert re.findall(r'href="#host-(h\d)"', exposed) == ["h%d" % i for i in range(9, -1, -1)]
    rules = page[page.index('id="rules-firing"'):page.index("TCP sockets per state")]
    assert rules.index("time_wait_port_exhaustion") < rules.index("close_wait_leak")
    assert page.count('<details class="host"') == 10 and " open>" not in page
    rows = re.findall(r'<div class="row s-\w+" role="row" style="([^"]+)"><span><a href="#host-(h\d)"', page)
    port_rank = dict((name, int(re.search(r"--r-port:(\d+)", style).group(1))) for style, name in rows)
    assert sorted(port_rank, key=port_rank.get) == ["h%d" % i for i in range(9, -1, -1)]


def scripts_of(page):
    return re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)


def test_the_page_runs_only_its_own_script_and_fetches_nothing():
    page = report_html.render(doc_of(**{"web-1": facts()}))
    assert "<link" not in page and "<img" not in page
    assert "default-src 'none'; style-src 'unsafe-inline'" in page
    # two script elements: the hosts' words as JSON (never run), then the filter's code as shipped
    (index_attrs, index), (code_attrs, code) = scripts_of(page)
    assert index_attrs == ' type="application/json" id="host-index"' and code_attrs == ""
    with open(os.path.join(report_html.TEMPLATE_DIR, report_html.SCRIPT), encoding="utf-8") as handle:
        assert code == handle.read()
    # the Content-Security-Policy lets that code run and nothing else
    digest = base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode("ascii")
    assert re.findall(r"script-src ([^;\"]*)", page) == ["'sha256-%s'" % digest]
    assert json.loads(index) == ["web-1 fail tw_recycle_configured, config_drift 10.0.0.5:5432 10.0.0.6:6379 nginx"]


def test_hostile_words_stay_data_in_the_json_block():
    hostile = '</script><script>alert(1)</script><!--&'
    data = facts()
    data["close_wait"]["top_processes"][0]["comm"] = hostile
    data["time_wait"]["top_destinations"][0]["address"] = '10.0.0.5"><img src=x>'
    page = report_html.render(doc_of(**{"web-1": data}))
    scripts = scripts_of(page)
    assert len(scripts) == 2 and "<img" not in page
    index = scripts[0][1]
    assert "<" not in index and ">" not in index and "&" not in index
    words = json.loads(index)[0]
    assert hostile.lower() in words and '10.0.0.5"><img src=x>:5432' in words


def test_trends_read_the_kept_runs_and_draw_them(tmp_path):
    base = str(tmp_path)
    for stamp, usage in (("20260101T000000Z", 0.1), ("20260102T000000Z", 0.6)):
        files.publish_run(files.render_reports(doc_of(**{"web-1": facts(usage=usage)})), base, stamp)
    os.makedirs(os.path.join(base, "20260103T000000Z"))  # not a complete run: not read
    runs = trends.read_runs(base)
    assert [r["hosts"]["web-1"]["usage"] for r in runs] == [0.1, 0.6]
    now = doc_of(**{"web-1": facts(usage=0.9), "new-1": facts()})
    history = trends.series(runs, now)
    assert history["runs"] == 3 and len(history["columns"]) == 3
    assert [sum(s["value"] for s in c["segments"]) for c in history["columns"]] == [1, 1, 2]
    points = history["hosts"]["web-1"]["usage_points"].split()
    assert len(points) == 3 and history["hosts"]["web-1"]["usage_peak"] == 0.9
    assert len(history["hosts"]["new-1"]["usage_points"].split()) == 1  # in this run only
    page = report_html.render(now, trend_runs=runs)
    # a line for each number that changed over the runs (web-1's port usage); the others in words
    assert 'id="fleet-trend"' in page and page.count("<polyline") == 1
    assert re.search(r'worst port usage <svg[^>]*aria-label="worst port usage per run"[^>]*><polyline points="'
                     r'[0-9., ]+"[^>]*/></svg>peak 90%; TIME_WAIT steady at 40\.', section(page, "web-1"))
    assert ("worst port usage known in one run only: 0.1%; TIME_WAIT known in one run only: 40."
            in section(page, "new-1"))
    assert "Hosts per status over the last 3 runs" in page


def test_without_history_there_is_no_trend():
    page = report_html.render(doc_of(**{"web-1": facts()}))
    assert "fleet-trend" not in page and "<polyline" not in page


def test_hostile_text_in_the_new_views_stays_text():
    data = facts(usage=0.9, close_wait=50)
    data["close_wait"]["top_processes"] = [{"pid": 1, "comm": "<svg onload=x>", "count": 50, "local_ports": [1]}]
    data["time_wait"]["top_destinations"][0]["address"] = '"><script>x</script>'
    data["sysctl_config"]["effective"]["net.ipv4.tcp_tw_reuse"]["path"] = "/etc/<b>.conf"
    page = report_html.render(doc_of(**{"web-1": data}))
    assert "<svg onload" not in page and "<script>x" not in page and "/etc/<b>" not in page
    assert [attrs for attrs, _code in scripts_of(page)] == [' type="application/json" id="host-index"', ""]
    assert "&lt;svg onload=x&gt;" in page and "&#34;&gt;&lt;script&gt;x&lt;/script&gt;:5432" in page


def test_what_holds_a_destinations_ports_is_said_in_words_when_the_facts_have_it():
    full = {"address": "10.0.0.5", "port": 5432, "count": 2200, "held": 2210, "port_usage": 0.06,
            "states": {"established": 10, "time_wait": 2200}, "time_wait_reusable": 400, "reuse_effective": True,
            "likely_sources": [{"pid": 4012, "comm": "java", "count": 10}, {"pid": 7, "comm": "<b>", "count": 1}]}
    assert report_html.destination_detail(full) == (
        "2,210 held: 2,200 time_wait, 10 established; reuse relieves 400; inferred: 4012 java (10), 7 <b> (1)")
    no_reuse = dict(full, time_wait_reusable=0, reuse_effective=False, likely_sources=None)
    assert report_html.destination_detail(no_reuse) == "2,210 held: 2,200 time_wait, 10 established"
    # facts from a module that predates the breakdown: nothing is made up
    assert report_html.destination_detail({"address": "10.0.0.5", "port": 5432, "count": 20, "port_usage": 0.9}) == ""
    page = report_html.render(doc_of(**{"web-1": facts(usage=0.9)}))
    assert '<td class="n">90%</td><td><span class="gauge">' in section(page, "web-1")
    assert "<td></td></tr>" in section(page, "web-1")


@pytest.mark.parametrize("outcome, text", [
    ({"status": "applied", "task": None, "reason": None}, "Remediation: tcp_tuning was applied."),
    ({"status": "checked", "task": None, "reason": None},
     "Remediation: tcp_tuning ran in check mode; nothing was changed."),
    ({"status": "failed", "task": "Apply", "reason": "refused"}, "Remediation failed in task 'Apply': refused"),
    ({"status": "unreachable", "task": None, "reason": "gone"}, "Remediation: the host stopped answering: gone"),
    ({"status": "not_attempted", "task": None, "reason": "stopped"}, "Remediation not attempted: stopped"),
])
def test_a_remediation_outcome_is_one_sentence_in_the_hosts_section(outcome, text):
    doc = doc_of(**{"web-1": facts()})
    doc["hosts"]["web-1"]["remediation_outcome"] = outcome
    page = report_html.render(doc)
    assert '<p class="outcome o-%s">%s</p>' % (outcome["status"], text.replace("'", "&#39;")) in section(page, "web-1")
    assert 'id="remediation-outcomes">Remediation by the tcp_tuning role: 1 %s.' % outcome["status"].replace("_", " ") \
        in page
    assert report_html.outcome_view(None) is None


def _with_pods(usages, own_usage=0.0007):
    data = facts(usage=own_usage, folk=False)
    database = dict(data["time_wait"]["top_destinations"][0], address="10.20.0.10", port=5432)
    data["namespaces"] = {"total": len(usages), "top": [
        {"inode": 4026531000 + index, "owner": {"kind": "pod", "id": "pod-%d" % index},
         "time_wait": {"top_destinations": [dict(database, port_usage=usage, held=int(usage * 28232))]}}
        for index, usage in enumerate(usages)]}
    return data


def test_hot_destinations_count_containers_and_pods_in_their_own_column():
    page = report_html.render(doc_of(**{"node-1": _with_pods([0.7, 0.6]), "node-2": _with_pods([0.9])}))
    section = page[page.index('id="hot-destinations"'):page.index("</section>", page.index('id="hot-destinations"'))]
    assert "<th>hosts affected</th><th>containers / pods</th><th>sockets</th>" in section
    assert ('<tr><td>10.20.0.10:5432</td><td class="n">2</td><td class="n">3</td><td class="n">%s</td>'
            '<td class="n">90%%</td>' % "{:,}".format(int(0.7 * 28232) + int(0.6 * 28232) + int(0.9 * 28232))) in section
    assert ("2 hosts, in 3 of their containers or pods, are running out of local ports toward the same destination, "
            "10.20.0.10:5432: that is one problem, not 3.") in section


def test_many_pods_of_one_host_toward_one_destination_are_one_problem_too():
    page = report_html.render(doc_of(**{"node-1": _with_pods([0.7, 0.6, 0.5])}))
    assert ("3 containers or pods on 1 host are running out of local ports toward the same destination, "
            "10.20.0.10:5432: that is one problem, not 3.") in page


def test_without_namespaces_the_hot_table_has_no_containers_column():
    page = report_html.render(doc_of(**{"a": facts(usage=0.7), "b": facts(usage=0.6)}))
    assert "containers / pods" not in page and "<th>hosts affected</th><th>sockets</th>" in page


def test_a_hosts_worst_port_usage_includes_its_pods_and_says_where():
    page = report_html.render(doc_of(**{"node-1": _with_pods([0.9, 0.85], own_usage=0.6), "node-2": facts(usage=0.6)}))
    closest = page[page.index('id="closest-to-exhaustion"'):page.index('id="rules-firing"')]
    rows = closest.split("<tr>")[2:]
    assert rows[0].startswith('<td><a href="#host-node-1">node-1</a><br><small title="in pod pod-0">in pod pod-0</small></td>')
    assert '<td class="n">90%</td>' in rows[0]
    assert rows[1].startswith('<td><a href="#host-node-2">node-2</a></td>')
    table = page[page.index('<a href="#host-node-1">node-1</a></span>'):]
    assert table.index('<span>90%<br><small title="in pod pod-0">in pod pod-0</small></span>') < table.index("</div>")
    # three findings of one rule (the host's and two pods'): the row names the rule once; the section
    # says its own destinations are the host namespace's and where it is worse
    assert "<span>time_wait_port_exhaustion</span></div>" in table[:table.index("</div>") + 6]
    assert ('<p class="note">These are the host&#39;s own network namespace&#39;s. In pod pod-0 it is worse: 90% of '
            "its usable local ports toward one destination (see its findings).</p>") in section(page, "node-1")
    assert "it is worse" not in section(page, "node-2")
    start = page.index('id="host-index">') + len('id="host-index">')
    index = json.loads(page[start:page.index("</script>", start)])
    words = dict((entry.split()[0], entry) for entry in index)
    assert "10.20.0.10:5432" in words["node-1"] and "10.20.0.10:5432" not in words["node-2"]


def test_a_quiet_host_says_in_its_line_when_a_pod_is_worse():
    quiet = _with_pods([0.3], own_usage=0.0007)
    page = report_html.render(doc_of(**{"node-1": quiet, "node-2": facts()}))
    line = section(page, "node-1").split('<p class="destination">')[1].split("</p>")[0]
    assert line.endswith(" In pod pod-0 it is worse: 30% of its usable local ports toward one destination "
                         "(see its findings).")
    assert line.startswith("Worst destination 10.0.0.5:5432: 0.1% of the usable local ports")
    quiet["time_wait"]["top_destinations"] = []
    page = report_html.render(doc_of(**{"node-1": quiet, "node-2": facts()}))
    assert ('<p class="destination">No outbound TIME_WAIT in the host&#39;s own network namespace. In pod pod-0 it '
            "is worse") in page


def test_the_filter_finds_a_host_by_its_pods_close_wait_owner():
    data = _with_pods([0.1])
    data["namespaces"]["top"][0]["close_wait"] = {"total": 60, "top_processes": [{"pid": 9, "comm": "cw-leaker", "count": 60}]}
    page = report_html.render(doc_of(**{"node-1": data}))
    start = page.index('id="host-index">') + len('id="host-index">')
    assert "cw-leaker" in json.loads(page[start:page.index("</script>", start)])[0]


def test_a_long_owner_id_is_shortened_where_the_cell_is_narrow_and_whole_on_hover():
    data = _with_pods([0.9])
    data["namespaces"]["top"][0]["owner"]["id"] = "6f1c2a47-9b3e-4c1d-8a2b-0e5f6d7c8b9a"
    page = report_html.render(doc_of(**{"node-1": data, "node-2": facts()}))
    note = '<br><small title="in pod 6f1c2a47-9b3e-4c1d-8a2b-0e5f6d7c8b9a">in pod 6f1c2a47\u2026</small>'
    assert page.count(note) == 2  # the closest-to-exhaustion table and the host table
    assert str(report_html.html_hosts.where_note("container 0123456789ab")) == (
        '<br><small title="in container 0123456789ab">in container 0123456789ab</small>')


def test_the_pods_sockets_show_beside_the_hosts_own_counts():
    data = _with_pods([0.9, 0.2])
    for index, pod in enumerate(data["namespaces"]["top"]):
        pod["counts"] = {"established": 10, "time_wait": 25412 if index == 0 else 3000, "close_wait": 0}
    data["namespaces"]["total"] = 7
    page = report_html.render(doc_of(**{"node-1": data, "node-2": facts()}))
    row = page[page.index('<a href="#host-node-1">node-1</a></span>'):]
    cells = row[:row.index("</div>")].split("</span><span>")
    title = ' title="in 2 of the 7 other network namespaces on the host"'
    # host, status, worst port usage, TIME_WAIT, CLOSE_WAIT, ESTAB, findings
    assert cells[3] == "40<br><small%s>+28,412 in 2/7 netns</small>" % title
    assert cells[4] == "2"  # CLOSE_WAIT: none in the pods, nothing added
    assert cells[5] == "12<br><small%s>+20 in 2/7 netns</small>" % title
    assert ('<p class="note">Not in these bars: the sockets of the hosts&#39; other network namespaces (containers, '
            "pods), 2 of 7 on 1 host: established 20, time_wait 28,412.</p>") in page
    assert "Not in these bars" not in report_html.render(doc_of(**{"node-2": facts()}))


def test_the_pods_sockets_are_those_of_every_namespace_read_when_the_facts_sum_them():
    data = _with_pods([0.9, 0.2])
    for pod in data["namespaces"]["top"]:
        pod["counts"] = {"established": 10, "time_wait": 3000, "close_wait": 0}
    summed = dict((state, 0) for state in ("established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2",
                                           "time_wait", "close", "close_wait", "last_ack", "listen", "closing"))
    summed.update(established=50, time_wait=15000, total=15050)
    data["namespaces"].update(total=7, unread=1, counts=summed)
    page = report_html.render(doc_of(**{"node-1": data, "node-2": facts()}))
    row = page[page.index('<a href="#host-node-1">node-1</a></span>'):]
    cells = row[:row.index("</div>")].split("</span><span>")
    title = ' title="in 6 of the 7 other network namespaces on the host"'
    assert cells[3] == "40<br><small%s>+15,000 in 6/7 netns</small>" % title
    assert cells[5] == "12<br><small%s>+50 in 6/7 netns</small>" % title
    assert ('<p class="note">Not in these bars: the sockets of the hosts&#39; other network namespaces (containers, '
            "pods), 6 of 7 on 1 host: established 50, time_wait 15,000.</p>") in page
