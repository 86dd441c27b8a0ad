"""The filter the remediate playbook uses to record why the role did not finish on a host."""

from ansible_collections.tcpops.timewait.plugins.filter.failure_reason import FilterModule


def test_filter_gives_the_cause_before_ansibles_message():
    reason = FilterModule().filters()["failure_reason"]
    result = {"failed": True, "rc": 127, "msg": "Module result deserialization failed: No start of json char found",
              "module_stderr": "pyenv: python3.13: command not found\n\nThe `python3.13' command exists in these\n"}
    assert reason(result) == ("pyenv: python3.13: command not found "
                              "(Module result deserialization failed: No start of json char found; exit code 127)")
