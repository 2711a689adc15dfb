"""What every build sets up before its scan (rules, taxonomy, screens) is made more cheaply, and is exactly
what the plain way makes."""

from __future__ import annotations

import re

import pytest
import yaml

from analytics import adherence, config


@pytest.mark.parametrize("path", [config.POLICY_RULES_PATH, config.CONTENT_THEMES_PATH])
def test_the_shipped_files_read_as_the_pure_python_loader_reads_them(path):
    text = path.read_text(encoding="utf-8")
    assert adherence.read_yaml(text) == yaml.safe_load(text)
    assert adherence.read_yaml(text.encode("utf-8")) == yaml.safe_load(text)


def test_without_libyaml_the_pure_python_loader_is_used(monkeypatch):
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    assert adherence.read_yaml("a: [1, x]\nb: {c: yes}") == {"a": [1, "x"], "b": {"c": True}}
    with pytest.raises(yaml.YAMLError):
        adherence.read_yaml("a: [1")


def test_a_hand_written_regex_is_compiled_once_with_both_apostrophes(tmp_path):
    rules = tmp_path / "rules.yml"
    rules.write_text("""
rules:
  - id: slur
    area: conduct
    severity: high
    explanation: A test rule.
    match:
      - regex: "don't (?P<WORD>tell)"
        label: secret
      - keywords: [top secret]
""", encoding="utf-8")
    rule, = adherence.load_rules(rules)
    regex, keywords = (m.regex for m in rule.matchers)
    assert regex.pattern == "(?:don['’]t (?P<WORD__0>tell))" and regex.flags & re.IGNORECASE
    assert regex.search("DON’T TELL") and regex.search("don't tell")
    assert keywords.search("a TOP SECRET plan") and not keywords.search("topsecret")
