"""docs/audit.md's rule table says what the registry says, word for word."""

import pathlib

from ansible_collections.tcpops.timewait.plugins.module_utils._audit import rules

AUDIT_DOC = pathlib.Path(__file__).parents[5] / "docs" / "audit.md"
COLUMNS = ["id", "what it finds", "fail when", "warn when", "thresholds (default)", "fixed by", "remediation"]


def rule_table():
    """The rows of the table in the "## Rules" section as lists of cells."""
    section = AUDIT_DOC.read_text().split("\n## Rules\n", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for line in section.splitlines() if line.startswith("|")]
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]
    assert rows[0] == COLUMNS
    assert lines[1] == "|---" * len(COLUMNS) + "|"
    return rows[2:]


def thresholds_cell(registered):
    return ", ".join("`%s` %s" % (name, rules.DEFAULT_THRESHOLDS[name]) for name in registered.thresholds) or "—"


def test_the_table_lists_the_registry_in_order():
    assert [row[0] for row in rule_table()] == ["`%s`" % rule_id for rule_id in rules.RULE_IDS]


def test_each_row_says_what_its_rule_declares():
    for registered, row in zip(rules.REGISTRY, rule_table()):
        assert len(row) == len(COLUMNS), row
        declared = ["`%s`" % registered.rule_id, registered.title, registered.fail_when, registered.warn_when,
                    thresholds_cell(registered), registered.fixed_by]
        assert row[:6] == declared
        assert row[6]
