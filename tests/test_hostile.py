"""The hostile corpus (tests/hostile/): every file ends as stated in expected.yml, nothing is lost, nothing
leaks, no traceback reaches the user, and injection text stays inert."""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from analytics import config, ingest, warehouse
from analytics.privacy import Vault, load_key

HOSTILE = Path(__file__).resolve().parent / "hostile"
_spec = importlib.util.spec_from_file_location("make_hostile", HOSTILE / "make_hostile.py")
make_hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_hostile)

EXPECTED: dict[str, dict] = yaml.safe_load((HOSTILE / "expected.yml").read_text(encoding="utf-8")) | make_hostile.LARGE
COMMITTED = sorted(p for p in make_hostile.FILES.iterdir() if p.is_file())
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _plain(text: str) -> str:
    """Text as a reader sees it: invisible characters dropped, whitespace runs as one space, lower case."""
    return " ".join(_INVISIBLE.sub("", text).lower().split())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    large = make_hostile.write_large(folder / "large")
    target = folder / "warehouse.duckdb"
    results = ingest.ingest_paths([*COMMITTED, *large], warehouse_file=target)
    return target, {r.path.name: r for r in results}


def test_the_corpus_is_complete_and_committed():
    assert len(COMMITTED) + len(make_hostile.LARGE) >= 40
    assert {p.name for p in COMMITTED} == {name for name, _, _ in make_hostile.CORPUS}
    # the committed bytes are what the script makes (xlsx zips carry write times, so compare their size)
    for name, builder, _ in make_hostile.CORPUS:
        made, committed = builder(), (make_hostile.FILES / name).read_bytes()
        assert made == committed or (made[:2] == b"PK" and abs(len(made) - len(committed)) < 64), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_file_ends_as_expected(corpus, name):
    target, results = corpus
    result, expected = results[name], EXPECTED[name]
    assert result.status == expected["status"], result.message
    assert "Traceback" not in result.message
    assert result.rows_loaded + result.rows_rejected == result.rows_read
    if expected["status"] == "failed":
        assert result.message.startswith(name), "the error names the file first"
        for word in expected["message"]:
            assert word.lower() in result.message.lower(), result.message
        assert (result.rows_read, result.rows_loaded) == (0, 0)
        return
    if expected["status"] == "skipped":
        return
    assert result.format == expected["format"]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (
        expected["read"], expected["loaded"], expected["rejected"])
    con = duckdb.connect(str(target), read_only=True)
    try:
        reasons = [r for (r,) in con.execute("SELECT reason FROM rejects WHERE file_sha256 = ? ORDER BY source_row",
                                             [result.sha256]).fetchall()]
        logged = con.execute("SELECT sum(rows_read), sum(rows_loaded), sum(rows_rejected) FROM ingest_log "
                             "WHERE file_sha256 = ? AND table_name = ?",
                             [result.sha256, next(iter(result.tables), "(none)")]).fetchone()
    finally:
        con.close()
    assert len(reasons) == expected["rejected"]
    for reason, words in zip(reasons, expected.get("reasons", []), strict=True):
        assert all(w.lower() in reason.lower() for w in words), reason
    assert tuple(logged) == (expected["read"], expected["loaded"], expected["rejected"])


def test_failed_files_leave_no_trace(corpus):
    target, results = corpus
    failed = {r.sha256 for r in results.values() if r.status == "failed"}
    assert len(failed) >= 10
    con = duckdb.connect(str(target), read_only=True)
    try:
        for table in ("ingest_log", "rejects", "posts", "employees", "respondents", "incidents"):
            column = "file_sha256" if table in ("ingest_log", "rejects") else "source_file_sha256"
            found = con.execute(f"SELECT count(*) FROM {table} WHERE {column} IN (SELECT unnest(?))",
                                [sorted(failed)]).fetchone()[0]
            assert found == 0, table
    finally:
        con.close()


def test_no_row_is_lost_across_the_corpus(corpus):
    target, results = corpus
    read = sum(r.rows_read for r in results.values())
    assert read == sum(r.rows_loaded + r.rows_rejected for r in results.values())
    con = duckdb.connect(str(target), read_only=True)
    try:
        stored_rejects = con.execute("SELECT count(*) FROM rejects").fetchone()[0]
    finally:
        con.close()
    assert stored_rejects == sum(r.rows_rejected for r in results.values())


def _identities() -> list[str]:
    values = [*make_hostile.private_donor_names(), *(d[1] for d in make_hostile.DONORS if d[1])]
    for name, email, handle in make_hostile.all_people():
        values += [name, email] + ([handle] if handle else [])
    return values


def test_no_identity_survives_in_any_text_column(corpus):
    target, _ = corpus
    needles = [_plain(v) for v in _identities()]
    con = duckdb.connect(str(target), read_only=True)
    try:
        for table, column in warehouse.text_columns(con):
            if table == "recognition_names":
                continue  # display names of opted-in people only; nobody in this corpus opted in
            for (value,) in con.execute(f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
                                        ).fetchall():
                plain = _plain(value)
                leaked = [n for n in needles if re.search(rf"(?<![\w@]){re.escape(n)}(?![\w])", plain)]
                assert not leaked, f"{table}.{column} holds {leaked}: {value[:120]!r}"
    finally:
        con.close()


def test_decoded_names_reach_the_scrubber(corpus):
    target, _ = corpus
    people = Vault.for_warehouse(target, load_key()).people.values()
    names = {n for entry in people for n in entry["names"]}
    assert {"Zoë Núñez", "Ines Duarte", "Kwame Mensah", "Sofia Rossi"} <= names  # cp1252, .xlsx name, ;, aliases


def _posts(target: Path) -> dict[str, object]:
    con = duckdb.connect(str(target), read_only=True)
    try:
        return dict(con.execute("SELECT text, published_at FROM posts").fetchall())
    finally:
        con.close()


def test_hostile_text_is_stored_as_written(corpus):
    target, _ = corpus
    posts = _posts(target)
    for text in [*make_hostile.FORMULAS, *make_hostile.SCRIPTS, make_hostile.INVISIBLE[-1]]:
        assert text in posts, text
    # the scrubber replaced only the names: the bidi marks around them stay
    assert any(t.startswith("\u202e[person:") and t.endswith("\u202c wrote this backwards") for t in posts)
    assert max(len(t) for t in posts) > 1 << 20  # the 1 MB cell arrived whole
    # half a surrogate pair escaped in JSON is read as U+FFFD; the whole pair beside it stays an emoji
    assert "half a pair \ufffd here" in posts and "whole pair \U0001f600 here" in posts


def test_dates_in_four_formats_land_on_the_same_clock(corpus):
    target, _ = corpus
    posts = _posts(target)
    got = {t: posts[t].astimezone(__import__("datetime").UTC).strftime("%Y-%m-%d %H:%M")
           for t in ("iso", "iso with zone", "day first", "spelled out", "excel serial")}
    # the organisation's time zone (Europe/London) is UTC in mid-March
    assert got == {"iso": "2026-03-14 09:00", "iso with zone": "2026-03-15 09:00", "day first": "2026-03-16 09:00",
                   "spelled out": "2026-03-17 00:00", "excel serial": "2026-03-18 00:00"}


def test_likert_labels_in_other_languages(corpus):
    target, results = corpus
    con = duckdb.connect(str(target), read_only=True)
    try:
        def answers(name):
            return con.execute("SELECT a.value_label, a.value FROM survey_answers a JOIN respondents r "
                               "USING (response_id) WHERE r.source_file_sha256 = ? AND a.mapped",
                               [results[name].sha256]).fetchall()
        spanish = dict(answers("google_forms_likert_spanish.csv"))
        finnish = answers("google_forms_likert_finnish.csv")
    finally:
        con.close()
    # known translations are recoded onto the scale; unknown ones keep their label, with no value invented
    assert spanish == {"Strongly agree": 5.0, "Disagree": 2.0, "Agree": 4.0, "Neither agree nor disagree": 3.0}
    assert len(finnish) == 4
    assert all(value is None or value != value for _, value in finnish)
    assert {label for label, _ in finnish} == {"Täysin samaa mieltä", "Eri mieltä", "Jokseenkin samaa mieltä",
                                               "Samaa mieltä"}


def test_sql_text_is_data_not_code(corpus):
    target, _ = corpus
    con = duckdb.connect(str(target), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM posts WHERE text LIKE '%DROP TABLE posts%'").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM employees").fetchone()[0] >= 9
    finally:
        con.close()


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "POLICY_PULSE_DEBUG": ""}
    command = Path(sys.executable).with_name("policy-pulse")
    return subprocess.run([str(command), *args], capture_output=True, text=True, env=env, timeout=120,
                          cwd=config.PROJECT_ROOT)


CLI_SAMPLE = ["roster.csv", "empty.csv", "binary_noise.csv", "nul_bytes_monitoring.csv",
              "monitoring_truncated_mid_quote.csv", "outbox_truncated.json", "incidents_missing_area_column.csv",
              "corrupt_workbook.xlsx", "archive_without_outbox.zip", "monitoring_header_only.csv",
              "x_activity_utf16_tabs.txt", "monitoring_impossible_dates.csv", "monitoring_formula_injection.csv",
              "monitoring_html_script.csv", "roster_saved_as.xlsx"]


def test_cli_reports_every_file_without_a_traceback_and_exports_formulas_inert(tmp_path):
    target = tmp_path / "cli.duckdb"
    run = _cli("ingest", *(str(make_hostile.FILES / n) for n in CLI_SAMPLE), "--warehouse", str(target))
    assert "Traceback" not in run.stderr + run.stdout
    failed = [n for n in CLI_SAMPLE if EXPECTED[n]["status"] == "failed"]
    assert run.returncode == 1, run.stderr
    for name in failed:
        assert f"error: {name}:" in run.stderr
    read = sum(EXPECTED[n].get("read", 0) for n in CLI_SAMPLE)
    loaded = sum(EXPECTED[n].get("loaded", 0) for n in CLI_SAMPLE)
    assert f"{len(CLI_SAMPLE)} files: {read} rows read, {loaded} loaded" in run.stdout
    assert f"{len(failed)} failed" in run.stdout

    out = tmp_path / "posts.csv"
    export = _cli("export", "posts", "--warehouse", str(target), "--out", str(out))
    assert export.returncode == 0 and "Traceback" not in export.stderr, export.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    texts = set(cells)
    for formula in make_hostile.FORMULAS:
        assert "'" + formula in texts, formula
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert not [c for c in cells if c.startswith("-") and not re.fullmatch(r"-\d+(\.\d+)?", c)]
