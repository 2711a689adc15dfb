"""Ingest end to end on committed fixtures and the genuine corpus: nothing lost, nothing leaked."""

from __future__ import annotations

import csv
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics import config, datasets, ingest, sources, warehouse
from analytics.export import export_table

DATA = config.PROJECT_ROOT / "tests" / "data"
REAL_X = config.PROJECT_ROOT.parent / "shared" / "corpus" / "real" / "x"
FIXTURE_DIRS = [DATA / "org", DATA / "posts", DATA / "surveys", DATA / "qualtrics"]


def _fixture_files() -> list[Path]:
    return [p for d in FIXTURE_DIRS for p in sorted(d.iterdir()) if p.is_file() and p.suffix != ".py"]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ingest")
    target = folder / "warehouse.duckdb"
    results = ingest.ingest_paths(_fixture_files(), warehouse_file=target)
    return target, results


def _counts(target: Path) -> dict[str, int]:
    con = duckdb.connect(str(target), read_only=True)
    try:
        return dict(warehouse.row_counts(con).itertuples(index=False))
    finally:
        con.close()


def test_every_row_is_loaded_or_rejected(loaded):
    target, results = loaded
    assert results and all(r.status == "loaded" for r in results), [r.message for r in results if r.message]
    for r in results:
        assert r.rows_loaded + r.rows_rejected == r.rows_read, r.path.name
    con = duckdb.connect(str(target), read_only=True)
    try:
        log = con.execute("SELECT file_sha256, rows_read, rows_loaded, rows_rejected FROM ingest_log").fetchall()
        per_file = dict(con.execute("SELECT file_sha256, sum(rows_rejected) FROM ingest_log GROUP BY 1").fetchall())
        rejects = dict(con.execute("SELECT file_sha256, count(*) FROM rejects GROUP BY 1").fetchall())
        reasons = con.execute("SELECT reason FROM rejects").df()["reason"]
    finally:
        con.close()
    for _sha, read, loaded_rows, rejected in log:
        assert loaded_rows + rejected == read
    for sha, rejected in per_file.items():
        assert rejects.get(sha, 0) == rejected
    assert reasons.str.len().min() > 10, "every reject says why"


def test_the_files_by_format_count_what_ingest_reports_each_file_once(loaded):
    """The data-quality notebook and the report count the rows of the files, as the command line does: a
    survey export's answers and comments are parts of its responses, not rows read again."""
    target, results = loaded
    assert any(len(r.tables) > 1 for r in results), "the fixtures should hold a file that feeds several tables"
    formats = datasets.files_by_format(warehouse_file=target)
    assert formats["files"].sum() == len(results)
    for column in ("rows_read", "rows_loaded", "rows_rejected"):
        assert formats[column].sum() == sum(getattr(r, column) for r in results), column
    for name, part in formats.groupby("format"):
        assert part["rows_read"].sum() == sum(r.rows_read for r in results if r.format == name), name
    # each export named as its reader calls it: a known format's title, never its id
    descriptions = dict(sources.known_formats())
    for r in formats.itertuples():
        assert r.export != r.format and descriptions[r.format].startswith(f"{r.export} ("), r.format


def test_reingest_of_the_same_bytes_changes_nothing(loaded, tmp_path):
    target, _ = loaded
    before = _counts(target)
    # the same bytes under a new name are recognised too
    copy = tmp_path / "renamed_roster.csv"
    shutil.copyfile(DATA / "org" / "roster.csv", copy)
    again = ingest.ingest_paths([*_fixture_files(), copy], warehouse_file=target)
    assert {r.status for r in again} == {"skipped"}
    assert _counts(target) == before


def _identities() -> list[str]:
    values: list[str] = []
    with open(DATA / "org" / "roster.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            values += [row["full_name"], row["email"]]
            values += [h.strip().lstrip("@") for k, h in row.items() if k.endswith("_handle") and h and "/" not in h]
    with open(DATA / "org" / "donors_private.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["public_acknowledgement"].strip().lower() != "yes":
                values += [row["donor_name"]] + [v for v in (row["email"], row["phone"]) if v and "[at]" not in v]
    return [v for v in values if len(v) >= 4]


def test_no_clear_identity_in_any_text_column(loaded):
    target, _ = loaded
    con = duckdb.connect(str(target), read_only=True)
    try:
        columns = [(t, c) for t, c in warehouse.text_columns(con) if t != "recognition_names"]
        for value in _identities():
            for table, column in columns:
                hits = con.execute(f'SELECT count(*) FROM "{table}" WHERE contains(lower("{column}"), ?)',
                                   [value.lower()]).fetchone()[0]
                assert hits == 0, f"{value!r} found in {table}.{column}"
    finally:
        con.close()


def test_employee_posts_are_attributed_and_others_kept(loaded):
    target, _ = loaded
    con = duckdb.connect(str(target), read_only=True)
    try:
        types = dict(con.execute("SELECT account_type, count(*) FROM posts GROUP BY 1").fetchall())
        departments = con.execute("SELECT count(*) FROM posts WHERE account_type = 'employee' "
                                  "AND department IS NULL").fetchone()[0]
    finally:
        con.close()
    assert types.get("employee", 0) > 0 and types.get("organization", 0) > 0 and types.get("unattributed", 0) > 0
    assert departments == 0


def test_unmapped_questions_are_loaded_and_flagged(loaded):
    target, _ = loaded
    con = duckdb.connect(str(target), read_only=True)
    try:
        mapped = dict(con.execute("SELECT mapped, count(*) FROM survey_answers GROUP BY 1").fetchall())
    finally:
        con.close()
    assert mapped.get(True, 0) > 0 and mapped.get(False, 0) > 0


@pytest.mark.skipif(not REAL_X.exists(), reason=f"the genuine X exports are read in place from {REAL_X}, absent here")
def test_genuine_x_exports_ingest_with_their_row_counts_and_times(tmp_path):
    target = tmp_path / "w.duckdb"
    results = ingest.ingest_paths([REAL_X], warehouse_file=target)
    rows = {r.path.name: r.rows_loaded for r in results}
    assert rows == {
        "tweet_activity_metrics_rOpenSci_20170101_20170201_en.csv": 37,
        "tweet_activity_metrics_rOpenSci_20190101_20190201_en.csv": 31,
        "tweet_activity_metrics_rOpenSci_20210101_20210201_en.csv": 40,
    }
    con = duckdb.connect(str(target), read_only=True)
    try:
        first, last = con.execute("SELECT min(published_at), max(published_at) FROM posts "
                                  "WHERE published_at < '2017-03-01'").fetchone()
    finally:
        con.close()
    # the file's own "time" column (minute precision, +0000) bounds January 2017
    assert pd.Timestamp(first) >= pd.Timestamp("2017-01-01", tz="UTC")
    assert pd.Timestamp(last) < pd.Timestamp("2017-02-02", tz="UTC")


def test_unknown_file_fails_naming_it_and_the_known_formats(tmp_path):
    target = tmp_path / "w.duckdb"
    odd = tmp_path / "budget.csv"
    odd.write_text("cost centre,amount\nA,1\n")
    [result] = ingest.ingest_paths([odd], warehouse_file=target)
    assert result.status == "failed"
    assert "budget.csv" in result.message and "qualtrics" in result.message and "monitoring" in result.message
    assert _counts(target)["ingest_log"] == 0


def test_a_binary_file_is_said_to_be_one_not_printed(tmp_path):
    """A database handed in as an export (a folder of exports may hold one) is named for what it is: its
    first bytes, printed, were noise of escapes and replacement characters."""
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    noise = tmp_path / "noise.bin"
    noise.write_bytes(bytes(range(256)) * 4)
    results = ingest.ingest_paths([other, noise], warehouse_file=tmp_path / "w.duckdb")
    assert [r.status for r in results] == ["failed", "failed"]
    said = {r.path.name: r.message.split(". Known formats")[0] for r in results}
    assert said == {"other.duckdb": "other.duckdb: a DuckDB database of no known format (not a text export)",
                    "noise.bin": "noise.bin: a binary file of no known format (not a text export)"}, said


def test_dry_run_writes_nothing(tmp_path):
    target = tmp_path / "w.duckdb"
    results = ingest.ingest_paths([DATA / "org" / "roster.csv"], warehouse_file=target, dry_run=True)
    assert results[0].status == "dry-run" and results[0].rows_read > 0
    assert not target.exists()


def test_a_dry_run_says_why_it_would_reject_rows(tmp_path, capsys):
    """It wrote no rejects table, and so the reasons were nowhere."""
    from analytics import cli

    export = tmp_path / "posts.csv"
    rows = [f"x,@felixa,{when},Post {i},https://x.com/felixa/status/{i},1"
            for i, when in enumerate(["2026-03-01 09:00", "not a date", "2026-13-45", "soon", "later"])]
    export.write_text("platform,handle,posted_at,text,url,likes\n" + "\n".join(rows) + "\n")
    assert cli.main(["ingest", str(export), "--warehouse", str(tmp_path / "w.duckdb"), "--dry-run"]) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("posts.csv: would reject")]
    assert len(said) == 1 and "record 2: posted_at 'not a date' is not a date" in said[0], said
    assert said[0].endswith("; and 1 more"), said
    assert not (tmp_path / "w.duckdb").exists()


def test_a_dry_run_says_skipped_for_what_the_warehouse_loaded_before(tmp_path, capsys):
    from analytics import cli

    target = tmp_path / "w.duckdb"
    roster, trainings = DATA / "org" / "roster.csv", DATA / "org" / "trainings.csv"
    assert cli.main(["update", str(roster), "--warehouse", str(target)]) == 0
    capsys.readouterr()
    assert cli.main(["ingest", str(roster), str(trainings), "--warehouse", str(target), "--dry-run"]) == 0
    out = capsys.readouterr().out
    status = {line.split()[0]: line.split()[2] for line in out.splitlines()[1:3]}
    assert status == {"roster.csv": "skipped", "trainings.csv": "dry-run"}, out
    assert "(a dry run: nothing written)" in out and "rejects table" not in out, out
    assert "roster.csv: skipped, these exact bytes were loaded before" in out.splitlines(), out
    assert _counts(target)["trainings"] == 0


def test_ingest_says_why_a_file_was_skipped_and_points_at_rejects_only_when_there_are_some(tmp_path, capsys):
    from analytics import cli

    target, roster = tmp_path / "w.duckdb", tmp_path / "roster.csv"
    roster.write_text("full_name,email,department\nFelix Amato,felix.amato@example.org,Communications\n")
    assert cli.main(["ingest", str(roster), "--warehouse", str(target)]) == 0
    first = capsys.readouterr().out
    assert "rejected, 0 failed." in first and "rejects table" not in first, first
    assert cli.main(["ingest", str(roster), "--warehouse", str(target)]) == 0
    again = capsys.readouterr().out.splitlines()
    assert "roster.csv: skipped, these exact bytes were loaded before" in again, again


def test_a_folder_s_downloads_in_progress_are_left_for_when_they_are_whole(tmp_path):
    """As ``watch`` leaves them: a folder ingested while a browser still writes ``posts.csv.crdownload`` loaded
    a part of an export (or failed on an empty one)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copyfile(DATA / "org" / "roster.csv", folder / "roster.csv")
    (folder / "posts.csv.crdownload").write_text("platform,handle,posted_at,text,url,likes\nx,@a,2026-")
    (folder / "empty.csv.part").write_text("")
    results = ingest.ingest_paths([folder], warehouse_file=tmp_path / "w.duckdb")
    assert [(r.path.name, r.status) for r in results] == [("roster.csv", "loaded")]


def test_key_file_is_created_private_outside_the_project(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "POLICY_PULSE_KEY"}
    env["POLICY_PULSE_CONFIG_DIR"] = str(tmp_path / "cfg")
    code = "from analytics.privacy import load_key; load_key()"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    key_file = tmp_path / "cfg" / "key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert config.PROJECT_ROOT not in key_file.resolve().parents


def test_export_escapes_formulas_and_keeps_numbers(loaded, tmp_path):
    target, _ = loaded
    out = export_table("posts", warehouse_file=target, out=tmp_path / "posts.csv")
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert not frame["text"].str.match(r"^[=+\-@\t\r]").any()
    assert pd.to_numeric(frame["impressions"].replace("", None)).notna().any()
    parquet = export_table("posts", warehouse_file=target, fmt="parquet", out=tmp_path / "posts.parquet")
    assert duckdb.sql(f"SELECT count(*) FROM '{parquet}'").fetchall()[0][0] == len(frame)


def test_export_writes_the_format_the_file_is_named_for_and_into_a_folder(loaded, tmp_path):
    """``--out posts.parquet`` without ``--format`` wrote CSV into a .parquet file; a folder failed."""
    target, _ = loaded
    parquet = export_table("posts", warehouse_file=target, out=tmp_path / "named.parquet")
    assert parquet.read_bytes()[:4] == b"PAR1"
    (tmp_path / "folder").mkdir()
    inside = export_table("posts", warehouse_file=target, out=tmp_path / "folder")
    assert inside == tmp_path / "folder" / "posts.csv" and inside.read_text().startswith("post_uid,")
    with pytest.raises(ValueError, match=r"named\.csv is named as csv, but the format asked for is parquet"):
        export_table("posts", warehouse_file=target, fmt="parquet", out=tmp_path / "named.csv")
    assert not (tmp_path / "named.csv").exists()


def test_a_second_key_cannot_mix_pseudonyms_into_the_warehouse(tmp_path, monkeypatch):
    target = tmp_path / "w.duckdb"
    [first] = ingest.ingest_paths([DATA / "org" / "trainings.csv"], warehouse_file=target)
    assert first.status == "loaded"
    monkeypatch.setenv("POLICY_PULSE_KEY", "a-different-key")
    with pytest.raises(ingest.IngestError, match="another pseudonymisation key"):
        ingest.ingest_paths([DATA / "org" / "incidents.csv"], warehouse_file=target)
    assert _counts(target)["incidents"] == 0
