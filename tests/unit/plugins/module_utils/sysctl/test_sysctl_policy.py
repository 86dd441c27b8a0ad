"""Judgements on sysctl value combinations shared by the audit and the tuning planner."""

import pytest

from ansible_collections.tcpops.timewait.plugins.module_utils._sysctl.policy import reuse_without_timestamps


@pytest.mark.parametrize("tw_reuse, timestamps, expected", [
    (1, 0, True), (2, 0, True), ("1", "0", True), (" 2\n", 0, True),
    (0, 0, False), (1, 1, False), (2, 1, False), ("1", "1", False),
    (None, 0, False), (1, None, False), ("", "0", False), ("on", 0, False), (3, 0, False)])
def test_reuse_without_timestamps(tw_reuse, timestamps, expected):
    assert reuse_without_timestamps(tw_reuse, timestamps) is expected
