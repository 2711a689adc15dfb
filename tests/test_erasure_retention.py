"""Erasure (`policy-pulse forget --email`) removes a person everywhere and says what it removed; a retention
limit in the settings drops old posts and answers at build time."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from test_crash import fingerprint

from analytics import build, config, erasure, ingest, snapshots, warehouse
from analytics.privacy import Vault, load_key, person_token, pseudonym

LEAVER, STAYER = "nadia.petrov@erasure.example", "felix.amato@erasure.example"
ROSTER = ("full_name,email,department,x_handle\n"
          f"Nadia Petrov,{LEAVER},Communications,@nadiap\n"
          f"Felix Amato,{STAYER},Communications,@felixa\n")


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _qualtrics(rows: list[tuple[str, str, str]]) -> str:
    """(response id, recorded date, recipient email) records under the three Qualtrics header rows."""
    ids = ["StartDate", "EndDate", "Finished", "RecordedDate", "ResponseId", "RecipientEmail", "Q1", "Q2"]
    texts = ["Start Date", "End Date", "Finished", "Recorded Date", "Response ID", "Recipient Email",
             "I know what to do if I post something by mistake.",
             "What would make the social media policy easier to follow?"]
    metas = [json.dumps({"ImportId": i}) for i in ("startDate", "endDate", "finished", "recordedDate", "_recordId",
                                                   "recipientEmail", "QID1", "QID6_TEXT")]
    return _csv([ids, texts, metas, *([when, when, "True", when, rid, email, "4", "More examples please"]
                                      for rid, when, email in rows)])


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    """Settings of this test's own: surveys linked to employees (so a leaver's answers can be found)."""
    def write(**values):
        # a new file each time: settings are cached per path for the life of a process
        path = tmp_path / f"settings-{len(list(tmp_path.glob('settings-*.yml')))}.yml"
        chosen = yaml.safe_load(config.SETTINGS_PATH.read_text(encoding="utf-8"))
        chosen |= {"timezone": "UTC", "k": 3, "link_surveys_to_employees": True, **values}
        path.write_text(yaml.safe_dump(chosen), encoding="utf-8")
        monkeypatch.setenv("POLICY_PULSE_SETTINGS", str(path))
        return path
    return write


@pytest.fixture
def organisation(tmp_path, settings_file, monkeypatch):
    settings_file()
    # a config folder of its own: an erasure cleans every vault of the key there, so the vaults other tests
    # left in a shared folder would be counted in what it says it removed
    monkeypatch.setenv("POLICY_PULSE_CONFIG_DIR", str(tmp_path / "config"))
    files = {
        "roster.csv": ROSTER,
        "monitoring_posts.csv": _csv([
            ["platform", "handle", "posted_at", "text", "url", "likes"],
            ["x", "@nadiap", "2026-03-01 09:00", "Proud of the volunteers today!", "https://x.com/nadiap/status/501",
             "4"],
            ["x", "@nadiap", "2026-03-02 09:00", "Thanks @felixa for the help", "https://x.com/nadiap/status/502", "2"],
            ["x", "@felixa", "2026-03-03 09:00", "Great work by Nadia Petrov on the fair", "https://x.com/felixa/status/503",
             "9"],
        ]),
        "audience_comments.csv": _csv([
            ["platform", "post_id", "post_url", "comment_id", "published_at", "text"],
            ["x", "501", "", "c1", "2026-03-01T10:00:00Z", "Lovely!"],
            ["x", "503", "", "c2", "2026-03-03T10:00:00Z", "Well done both"],
        ]),
        "trainings.csv": _csv([["employee_email", "module", "completed_at"],
                               [LEAVER, "social-media-essentials", "2026-02-01"],
                               [STAYER, "social-media-essentials", "2026-02-02"]]),
        "incidents.csv": _csv([["incident_id", "reported_at", "employee_email", "policy_area", "severity", "detection"],
                               ["INC-E1", "2026-03-02 12:00", LEAVER, "disclosure", "low", "self_reported"],
                               ["INC-E2", "2026-03-04 12:00", STAYER, "conduct", "low", "detected"]]),
        "survey.csv": _qualtrics([("R_e1", "2026-03-05 10:00:00", LEAVER), ("R_e2", "2026-03-05 11:00:00", STAYER)]),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    target = tmp_path / "warehouse.duckdb"
    results = ingest.ingest_paths([tmp_path / n for n in files], warehouse_file=target)
    assert all(r.status == "loaded" and r.rows_rejected == 0 for r in results), [r.message for r in results]
    build.build(warehouse_file=target)
    return target


def _mentions(target: Path, needles: list[str]) -> list[str]:
    """Every table.column holding any of ``needles``."""
    con = duckdb.connect(str(target), read_only=True)
    try:
        found = []
        for table, column in warehouse.text_columns(con):
            for needle in needles:
                hits = con.execute(f'SELECT count(*) FROM "{table}" WHERE contains("{column}", ?)', [needle]).fetchone()
                if hits[0]:
                    found.append(f"{table}.{column}")
        return found
    finally:
        con.close()


def _count(target: Path, sql: str, *params) -> int:
    con = duckdb.connect(str(target), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchone()[0]
    finally:
        con.close()


#: The colleague's rows an erasure of someone else must leave, each counted by the colleague's key.
_STAYER_ROWS = {
    "posts": "SELECT count(*) FROM posts WHERE author_key = ?",
    "trainings": "SELECT count(*) FROM trainings WHERE employee_key = ?",
    "incidents": "SELECT count(*) FROM incidents WHERE employee_key = ?",
    "respondents": "SELECT count(*) FROM respondents WHERE respondent_key = ?",
    "survey_answers": "SELECT count(*) FROM survey_answers JOIN respondents USING (response_id) "
                      "WHERE respondent_key = ?",
    "employees": "SELECT count(*) FROM employees WHERE employee_key = ?",
}


def test_forget_removes_the_person_everywhere_and_says_what(organisation):
    key = load_key()
    leaver, stayer = pseudonym(LEAVER, key), pseudonym(STAYER, key)
    assert _mentions(organisation, [leaver]), "the leaver is in the warehouse before"
    assert _count(organisation, "SELECT count(*) FROM respondents WHERE respondent_key = ?", leaver) == 1
    con = duckdb.connect(str(organisation), read_only=True)
    her_posts = [u for (u,) in con.execute("SELECT post_uid FROM posts WHERE author_key = ?", [leaver]).fetchall()]
    keyed_by_post = [t for (t,) in con.execute(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'post_uid'").fetchall()]
    con.close()
    assert her_posts and {"post_state", "amplification_keys"} <= set(keyed_by_post), "built before"
    # the build's rows of her incident and of her linked answers are hers too
    assert _count(organisation, "SELECT count(*) FROM incident_timings WHERE incident_id = 'INC-E1'") == 1
    # (one answer per construct scores no one here: the score a fuller survey would have is written in)
    con = warehouse.connect(organisation)
    con.execute("INSERT INTO construct_scores VALUES ('R_e1', 'clarity', 4.0, 4)")
    con.close()
    stayer_rows = {table: _count(organisation, sql, stayer) for table, sql in _STAYER_ROWS.items()}
    assert stayer_rows["survey_answers"] > 0, "the colleague answered the survey too"

    command = Path(sys.executable).with_name("policy-pulse")
    run = subprocess.run([str(command), "forget", "--email", LEAVER.upper(), "--warehouse", str(organisation)],
                         capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    said = {line.split()[0]: int(line.split()[-1]) for line in run.stdout.splitlines()[1:] if line.strip()}
    assert run.stdout.startswith("Removed:")
    assert said["posts"] == 2 and said["trainings"] == 1 and said["incidents"] == 1
    assert said["respondents"] == 1 and said["survey_answers"] == 1 and said["employees"] == 1
    assert said["audience_comments"] == 1  # the comment on her post went with it
    assert said["incident_timings"] == 1 and said["construct_scores"] == 1
    assert _count(organisation, "SELECT count(*) FROM incident_timings WHERE incident_id = 'INC-E1'") == 0
    assert _count(organisation, "SELECT count(*) FROM construct_scores WHERE response_id = 'R_e1'") == 0
    assert _count(organisation, "SELECT count(*) FROM incident_timings WHERE incident_id = 'INC-E2'") == 1
    assert said["identity"] == 1  # "identity vault"

    # nothing of her key or her person token is left, in the warehouse or the surfaces' snapshot
    token = person_token(leaver)
    assert _mentions(organisation, [leaver, token]) == []
    assert _mentions(snapshots.snapshot_path(organisation), [leaver, token]) == []
    # and no other database file beside them (the snapshot the erasure replaced held her rows)
    assert sorted(p.name for p in organisation.parent.glob("*.duckdb*") if not p.name.endswith(".lock")) == [
        organisation.name, snapshots.snapshot_path(organisation).name]
    assert leaver not in Vault.for_warehouse(organisation, key).people
    # no row keyed by one of her posts is left, the build's bookkeeping included
    for table in keyed_by_post:
        assert _count(organisation, f"SELECT count(*) FROM {table} WHERE list_contains(?, post_uid)",
                      her_posts) == 0, table
    # her name in a colleague's post is unlinked, and the colleague keeps everything
    texts = [t for (t,) in duckdb.connect(str(organisation), read_only=True).execute(
        "SELECT text FROM posts").fetchall()]
    assert texts == ["Great work by [person:forgotten] on the fair"]
    assert {table: _count(organisation, sql, stayer) for table, sql in _STAYER_ROWS.items()} == stayer_rows

    again = subprocess.run([str(command), "forget", "--email", LEAVER, "--warehouse", str(organisation)],
                           capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert again.returncode == 0 and "Nothing of that person" in again.stdout


def test_retention_drops_old_posts_and_answers_at_build_time(tmp_path, settings_file):
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=400), now - timedelta(days=30)
    stamp = "%Y-%m-%d %H:%M"
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "posts.csv").write_text(_csv([
        ["platform", "handle", "posted_at", "text", "url", "likes"],
        ["x", "@nadiap", old.strftime(stamp), "An old post: shut up idiots", "https://x.com/nadiap/status/601", "1"],
        ["x", "@nadiap", recent.strftime(stamp), "A recent post", "https://x.com/nadiap/status/602", "1"],
    ]), encoding="utf-8")
    (tmp_path / "comments.csv").write_text(_csv([
        ["platform", "post_id", "post_url", "comment_id", "published_at", "text"],
        ["x", "601", "", "r1", old.strftime(stamp), "old comment"],
        ["x", "602", "", "r2", recent.strftime(stamp), "new comment"],
    ]), encoding="utf-8")
    (tmp_path / "survey.csv").write_text(_qualtrics([("R_old", old.strftime(stamp + ":%S"), ""),
                                                     ("R_new", recent.strftime(stamp + ":%S"), "")]),
                                         encoding="utf-8")
    target = tmp_path / "warehouse.duckdb"
    settings_file()
    results = ingest.ingest_paths([tmp_path / n for n in ("roster.csv", "posts.csv", "comments.csv", "survey.csv")],
                                  warehouse_file=target)
    assert all(r.status == "loaded" for r in results)
    kept = build.build(warehouse_file=target)
    assert "rows dropped (retention)" not in kept.steps  # no limit configured: everything stays
    assert _count(target, "SELECT count(*) FROM posts") == 2
    assert _count(target, "SELECT count(*) FROM post_findings") >= 1  # the old post's finding

    settings_file(retention_months=6)
    summary = build.build(warehouse_file=target)
    # one post, one audience comment, one respondent with its two answers (one of them a comment)
    assert summary.steps["rows dropped (retention)"] == 5
    con = duckdb.connect(str(target), read_only=True)
    try:
        assert [t for (t,) in con.execute("SELECT text FROM posts").fetchall()] == ["A recent post"]
        assert [t for (t,) in con.execute("SELECT text FROM audience_comments").fetchall()] == ["new comment"]
        assert [r for (r,) in con.execute("SELECT response_id FROM respondents").fetchall()] == ["R_new"]
        assert con.execute("SELECT count(*) FROM survey_answers WHERE response_id = 'R_old'").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM survey_comments WHERE response_id = 'R_old'").fetchone()[0] == 0
        # derived tables follow: no fact, finding or scan (with its evidence) of the dropped post is left
        assert con.execute("SELECT count(*) FROM post_facts").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM post_findings").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM post_scans WHERE post_uid = 'x:601'").fetchone()[0] == 0
    finally:
        con.close()


def _new_posts(folder: Path) -> Path:
    """A colleague's later post naming the leaver, in an export of its own."""
    folder.mkdir()
    (folder / "monitoring_posts.csv").write_text(_csv([
        ["platform", "handle", "posted_at", "text", "url", "likes"],
        ["x", "@felixa", "2026-03-09 09:00", "Nadia Petrov ran the stall again",
         "https://x.com/felixa/status/509", "3"],
    ]), encoding="utf-8")
    return folder


def test_a_moved_warehouse_keeps_scrubbing_with_its_roster(organisation, tmp_path):
    # the vault is kept per warehouse location: after a move the next file was loaded without the roster,
    # the colleague's post unattributed and the leaver's name left in clear text
    moved = tmp_path / "elsewhere" / "renamed.duckdb"
    moved.parent.mkdir()
    organisation.rename(moved)
    results = ingest.ingest_paths([_new_posts(tmp_path / "new")], warehouse_file=moved)
    assert [r.status for r in results] == ["loaded"]
    con = duckdb.connect(str(moved), read_only=True)
    text, author = con.execute("SELECT text, author_key FROM posts WHERE text LIKE '%ran the stall%'").fetchone()
    con.close()
    key = load_key()
    assert author == pseudonym(STAYER, key)
    assert text == f"{person_token(pseudonym(LEAVER, key))} ran the stall again"


def test_forget_leaves_every_figure_as_a_build_without_the_person_leaves_it(organisation):
    """The monthly and quarterly tables went on counting the erased person's posts, training and answers
    until the next build, and the dashboards showed those counts."""
    erasure.forget_person(LEAVER, warehouse_file=organisation)
    published = snapshots.snapshot_path(organisation)
    after = fingerprint(published)
    build.build(warehouse_file=organisation)
    again = fingerprint(published)
    kept = set(after) - {"build_log", "build_state"}
    assert {"monthly_metrics", "quarterly_metrics", "post_facts"} <= kept
    assert {t: after[t] for t in kept} == {t: again[t] for t in kept}


def test_a_forget_whose_build_fails_still_publishes_the_erasure(organisation, monkeypatch):
    """The snapshot holding the person's rows is replaced even when the figures could not be built again."""
    leaver = pseudonym(LEAVER, load_key())

    def failing(*, connection, **_arguments):
        connection.close()  # as a failed build leaves it
        raise OSError("disk full (as the test says)")

    monkeypatch.setattr(build, "build", failing)
    with pytest.raises(OSError, match="disk full"):
        erasure.forget_person(LEAVER, warehouse_file=organisation)
    assert _mentions(snapshots.snapshot_path(organisation), [leaver]) == []
    assert not snapshots.retired_path(organisation).exists()  # the replaced snapshot is deleted at once


def test_forget_in_a_copied_warehouse_removes_the_identity_from_every_vault(organisation, tmp_path, capsys):
    from analytics import cli

    key = load_key()
    leaver = pseudonym(LEAVER, key)
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(organisation.read_bytes())
    # loading into the copy gives it a vault of its own (the original's still serves the original)
    ingest.ingest_paths([_new_posts(tmp_path / "new")], warehouse_file=copy)
    assert all(leaver in Vault.for_warehouse(t, key).people for t in (organisation, copy))
    capsys.readouterr()
    assert cli.main(["forget", "--email", LEAVER, "--warehouse", str(copy)]) == 0
    for target in (organisation, copy):
        assert leaver not in Vault.for_warehouse(target, key).people
    # the original keeps the leaver's rows: the administrator is told, since its next exports would keep the
    # leaver's name in clear
    assert _count(organisation, f"SELECT count(*) FROM employees WHERE employee_key = '{leaver}'") == 1
    note = capsys.readouterr().err
    assert "1 other warehouse(s)" in note and "forget --email" in note and "in clear" in note, note


def test_a_backup_copied_before_an_erasure_can_be_erased_too(organisation, tmp_path):
    # the backup never had a vault of its own, and the one vault that knew the leaver forgot her: the backup
    # was refused as a warehouse from another machine, so `forget` could not be run on it as the note asks
    key = load_key()
    leaver = pseudonym(LEAVER, key)
    backup = tmp_path / "backup" / "warehouse.duckdb"
    backup.parent.mkdir()
    backup.write_bytes(organisation.read_bytes())
    erasure.forget_person(LEAVER, warehouse_file=organisation)
    removed = erasure.forget_person(LEAVER, warehouse_file=backup)
    assert dict(zip(removed["table"], removed["rows_removed"], strict=True))["employees"] == 1
    assert _count(backup, f"SELECT count(*) FROM employees WHERE employee_key = '{leaver}'") == 0
    assert leaver not in Vault.for_warehouse(backup, key).people
    assert pseudonym(STAYER, key) in Vault.for_warehouse(backup, key).people


def test_a_warehouse_whose_vault_is_missing_is_refused_before_anything_changes(organisation, tmp_path,
                                                                               monkeypatch):
    monkeypatch.setenv("POLICY_PULSE_CONFIG_DIR", str(tmp_path / "another-config"))
    posts = _count(organisation, "SELECT count(*) FROM posts")
    with pytest.raises(ValueError, match=r"no identity vault .* knows them"):
        ingest.ingest_paths([_new_posts(tmp_path / "new")], warehouse_file=organisation)
    with pytest.raises(ValueError, match=r"no identity vault .* knows them"):
        erasure.forget_person(LEAVER, warehouse_file=organisation)
    command = Path(sys.executable).with_name("policy-pulse")
    run = subprocess.run([str(command), "forget", "--email", LEAVER, "--warehouse", str(organisation)],
                         capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert run.returncode == 2 and run.stderr.startswith("error: The warehouse"), run.stderr
    assert _count(organisation, "SELECT count(*) FROM posts") == posts
