"""Settings changed after the exports were loaded reach what the next build derives."""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml
from file_edits import rewrite_keeping_stat
from warehouse_copies import query

from analytics import build, config, ingest


def _qualtrics(recorded: list[tuple[str, str]]) -> str:
    """(response id, recorded date) records under the three Qualtrics header rows."""
    ids = ["StartDate", "EndDate", "Finished", "RecordedDate", "ResponseId", "Q1"]
    texts = ["Start Date", "End Date", "Finished", "Recorded Date", "Response ID",
             "I know what to do if I post something by mistake."]
    metas = [json.dumps({"ImportId": i}) for i in ("startDate", "endDate", "finished", "recordedDate", "_recordId",
                                                   "QID1")]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([ids, texts, metas, *([when, when, "True", when, rid, "4"] for rid, when in recorded)])
    return buffer.getvalue()


def _use_settings(tmp_path, monkeypatch, name: str, **values) -> None:
    """Edit the one settings file in place, as an analyst does (``name`` says which version it is now)."""
    chosen = yaml.safe_load(config.SETTINGS_PATH.read_text(encoding="utf-8")) | {"timezone": "UTC", **values}
    path = tmp_path / "settings.yml"
    path.write_text(f"# {name}\n" + yaml.safe_dump(chosen), encoding="utf-8")
    monkeypatch.setenv("POLICY_PULSE_SETTINGS", str(path))


def _waves(target) -> dict[str, str]:
    stored = query(target, "SELECT response_id, wave FROM respondents ORDER BY 1")
    return dict(zip(stored["response_id"], stored["wave"], strict=True))


def test_a_survey_wave_defined_after_the_answers_were_loaded_is_used_by_the_next_build(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICY_PULSE_CONFIG_DIR", str(tmp_path / "config"))
    _use_settings(tmp_path, monkeypatch, "quarters")
    survey = tmp_path / "survey.csv"
    survey.write_text(_qualtrics([("R_1", "2026-05-04 10:00:00"), ("R_2", "2026-07-01 10:00:00")]), encoding="utf-8")
    target = tmp_path / "warehouse.duckdb"
    assert [r.status for r in ingest.ingest_paths([survey], warehouse_file=target)] == ["loaded"]
    assert "responses given another wave" in build.build(warehouse_file=target).steps  # the first build checks
    assert _waves(target) == {"R_1": "2026-Q2", "R_2": "2026-Q3"}

    # the analyst then names the spring wave, which ran into July: the build re-cuts the loaded answers
    _use_settings(tmp_path, monkeypatch, "spring",
                  survey_periods=[{"wave": "2026-spring", "start": "2026-04-01", "end": "2026-07-03"}])
    assert build.build(warehouse_file=target).steps["responses given another wave"] == 2
    assert _waves(target) == {"R_1": "2026-spring", "R_2": "2026-spring"}
    again = build.build(warehouse_file=target)
    assert "responses given another wave" not in again.steps  # same settings: nothing to re-cut

    # the time zone cuts the quarters too: 1 July 03:30 UTC is still 30 June in New York
    survey.with_name("late.csv").write_text(_qualtrics([("R_3", "2026-07-01 03:30:00")]), encoding="utf-8")
    _use_settings(tmp_path, monkeypatch, "utc-late")
    ingest.ingest_paths([survey.with_name("late.csv")], warehouse_file=target)
    build.build(warehouse_file=target)
    assert _waves(target)["R_3"] == "2026-Q3"
    _use_settings(tmp_path, monkeypatch, "new-york", timezone="America/New_York")
    build.build(warehouse_file=target)
    assert _waves(target) == {"R_1": "2026-Q2", "R_2": "2026-Q3", "R_3": "2026-Q2"}


def test_an_edit_of_the_settings_file_reaches_the_next_call_of_a_process_that_runs_on(tmp_path, monkeypatch):
    """The settings were cached per path for the life of a process: ``policy-pulse watch`` (or a notebook's
    kernel) kept building with the k and time zone it started with after the analyst had changed them."""
    chosen = tmp_path / "settings.yml"
    chosen.write_text("k: 5\ntimezone: UTC\n", encoding="utf-8")
    monkeypatch.setenv("POLICY_PULSE_SETTINGS", str(chosen))
    first = config.get_settings()
    assert (first.k, first.timezone) == (5, "UTC")
    assert config.get_settings() is first  # an unchanged file is not parsed again
    # one character changed, the size and the modification time kept: the content decides
    rewrite_keeping_stat(chosen, "k: 7\ntimezone: UTC\n")
    assert config.get_settings().k == 7
    chosen.write_text("k: 7\ntimezone: Europe/London\n", encoding="utf-8")
    assert config.get_settings().timezone == "Europe/London"
    chosen.unlink()  # gone: the defaults, as for a file never written
    assert config.get_settings() == config.get_settings(tmp_path / "never-written.yml")


def test_a_misspelt_setting_is_reported_in_the_file_that_holds_it(tmp_path, monkeypatch):
    chosen = tmp_path / "ours.yml"
    chosen.write_text("k: 5\nsurvey_period: []\n", encoding="utf-8")
    monkeypatch.setenv("POLICY_PULSE_SETTINGS", str(chosen))
    with pytest.raises(ValueError, match=r"Unknown settings \['survey_period'\] in .*ours\.yml"):
        config.get_settings()


@pytest.mark.parametrize(("text", "said"), [
    ("survey_periods:\n  - {wave: 2026-spring, start: 2026-04-01}\n", r"The survey period .* needs a wave, a start"),
    ("survey_periods:\n  - {wave: w, start: 2026-04-01, end: 30/06/2026}\n", r"\(YYYY-MM-DD\)"),
    ("targets:\n  adherence_rate: {green: 0.95}\n", r"The target adherence_rate: .* needs green and amber"),
])
def test_a_malformed_survey_period_or_target_says_what_it_needs(tmp_path, monkeypatch, text, said):
    """A survey period without an end stopped every command with KeyError: 'end'."""
    chosen = tmp_path / "ours.yml"
    chosen.write_text(text, encoding="utf-8")
    monkeypatch.setenv("POLICY_PULSE_SETTINGS", str(chosen))
    with pytest.raises(ValueError, match=said) as raised:
        config.get_settings()
    assert str(chosen) in str(raised.value)
