"""``policy-pulse update``: one command (one process) that ingests new exports and builds, leaving the warehouse
exactly as ``ingest`` then ``build`` leave it."""

from __future__ import annotations

import shutil
import threading

import pandas as pd
from warehouse_copies import query

from analytics import cli, snapshots

# what differs between two runs by design: when they ran and how long they took
_TIMED = {"build_log", "ingest_log", "build_state"}


def _tables(path) -> list[str]:
    names = query(path, "SELECT table_name FROM information_schema.tables ORDER BY table_name")["table_name"]
    return [name for name in names if name not in _TIMED]


def test_update_leaves_what_ingest_then_build_leave(sample_warehouse, tmp_path, one_new_post, capsys):
    apart, together = tmp_path / "apart.duckdb", tmp_path / "together.duckdb"
    shutil.copyfile(sample_warehouse, apart)
    shutil.copyfile(sample_warehouse, together)
    assert cli.main(["ingest", str(one_new_post), "--warehouse", str(apart)]) == 0
    assert cli.main(["build", "--warehouse", str(apart)]) == 0
    capsys.readouterr()

    assert cli.main(["update", str(one_new_post), "--warehouse", str(together)]) == 0
    out = capsys.readouterr().out
    assert "monitoring_new.csv" in out and "1 loaded" in out and "Derived:" in out
    assert snapshots.snapshot_path(together).exists(), "the build published a snapshot for the surfaces"

    assert _tables(together) == _tables(apart)
    for table in _tables(apart):
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        pd.testing.assert_frame_equal(query(together, sql), query(apart, sql), check_exact=False, rtol=0,
                                      atol=1e-9, obj=table)
    new_posts = query(together, "SELECT count(*) AS n FROM posts WHERE text LIKE 'A brand new post%'")["n"].iloc[0]
    assert new_posts == 1
    facts = query(together, "SELECT count(*) AS n FROM post_facts WHERE post_uid = 'x:9999999'")["n"].iloc[0]
    assert facts == 1, "the new post was built on"


def test_update_makes_a_new_warehouse_and_builds_it(tmp_path, capsys):
    """The one command for new exports, on a warehouse not there yet (a new user's first run): loaded and built,
    as ``ingest`` then ``build`` do; it failed, the build's check of the posts asking for bookkeeping that only
    a build makes."""
    from test_crash import roster_and_posts

    (tmp_path / "apart").mkdir()
    apart = roster_and_posts(tmp_path / "apart" / "w.duckdb", 6)
    assert cli.main(["build", "--warehouse", str(apart)]) == 0
    exports = [apart.parent / "roster.csv", apart.parent / "posts.csv"]
    together = tmp_path / "together" / "w.duckdb"
    capsys.readouterr()
    assert cli.main(["update", *map(str, exports), "--warehouse", str(together)]) == 0
    captured = capsys.readouterr()
    assert "error" not in captured.err and "Derived:" in captured.out, captured
    assert query(snapshots.snapshot_path(together), "SELECT count(*) AS n FROM post_facts")["n"][0] == 6
    assert _tables(together) == _tables(apart)


def test_a_command_that_makes_a_new_warehouse_says_so(tmp_path, capsys):
    """A mistyped --warehouse made a new warehouse unseen (and loaded the exports there)."""
    from test_crash import monitoring_file

    export = monitoring_file(tmp_path / "posts.csv", 3)
    target = tmp_path / "typo" / "w.duckdb"
    assert cli.main(["ingest", str(export), "--warehouse", str(target)]) == 0
    assert f"No warehouse at {target} yet: a new one is made there." in capsys.readouterr().err
    assert cli.main(["update", str(export), "--warehouse", str(target)]) == 0
    assert "new one" not in capsys.readouterr().err


def test_update_whose_output_nobody_reads_still_builds(tmp_path):
    """``policy-pulse update … | head -1``: the reader goes after a line; the command still builds what it
    loaded and exits 0 (it stopped at its next print with a BrokenPipeError, exit 2, the build never run)."""
    import subprocess
    import sys

    from test_crash import roster_and_posts

    target = roster_and_posts(tmp_path / "w.duckdb", 4)
    command = [sys.executable, "-m", "analytics.cli", "update", str(tmp_path / "posts.csv"), "--warehouse",
               str(target)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # gone before the first line
    errors = process.stderr.read()
    assert process.wait(timeout=300) == 0, errors
    assert "BrokenPipe" not in errors and "Exception ignored" not in errors, errors
    assert query(snapshots.snapshot_path(target), "SELECT count(*) AS n FROM post_facts")["n"][0] == 4


def test_update_builds_what_loaded_and_fails_for_a_file_it_cannot_read(sample_warehouse, tmp_path, one_new_post,
                                                                       capsys):
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, target)
    unreadable = tmp_path / "notes.txt"
    unreadable.write_text("not an export of any kind\n", encoding="utf-8")
    assert cli.main(["update", str(one_new_post), str(unreadable), "--warehouse", str(target)]) == 1
    captured = capsys.readouterr()
    assert "notes.txt" in captured.err and "Derived:" in captured.out
    facts = query(target, "SELECT count(*) AS n FROM post_facts WHERE post_uid = 'x:9999999'")["n"].iloc[0]
    assert facts == 1


def _re_export(folder, sample_dir) -> tuple:
    """A monitoring export repeating the sample's first monitored post with more likes (a later export, so
    the ingest replaces the stored row: deletes it, appends the new one), and one new post; with the
    repeated post's post_uid and likes."""
    lines = (sample_dir / "monitoring_posts.csv").read_text(encoding="utf-8").splitlines()
    first = pd.read_csv(sample_dir / "monitoring_posts.csv", nrows=1).iloc[0]
    repeated = lines[1].replace(f",{first['likes']},{first['comments']},{first['shares']}",
                                f",{first['likes'] + 40},{first['comments']},{first['shares']}")
    assert repeated != lines[1]
    export = folder / "monitoring_later.csv"
    export.write_text("\n".join([lines[0], repeated, "x,@nobody_new,2026-10-05 10:00,A later post about our food "
                                 "bank!,https://x.com/nobody_new/status/9999998,1,0,0"]) + "\n", encoding="utf-8")
    return export, "x:" + first["url"].rsplit("/", 1)[1], first["likes"] + 40


def test_update_after_a_re_export_leaves_what_ingest_then_build_leave(sample_warehouse, tmp_path, capsys):
    # the build is handed the check of the posts made while the ingest read: the re-exported post's old row,
    # deleted by the ingest, must still count as a change (else its state would be kept twice)
    from analytics import config

    export, post_uid, likes = _re_export(tmp_path, config.SAMPLE_DIR)
    apart, together = tmp_path / "apart.duckdb", tmp_path / "together.duckdb"
    shutil.copyfile(sample_warehouse, apart)
    shutil.copyfile(sample_warehouse, together)
    assert cli.main(["ingest", str(export), "--warehouse", str(apart)]) == 0
    assert cli.main(["build", "--warehouse", str(apart)]) == 0
    assert cli.main(["update", str(export), "--warehouse", str(together)]) == 0
    capsys.readouterr()

    stored = query(together, f"SELECT reactions FROM posts WHERE post_uid = '{post_uid}'")["reactions"]
    assert stored.tolist() == [likes], "the later export's metrics replaced the stored post's"
    assert query(together, "SELECT count(*) - count(DISTINCT post_uid) AS n FROM post_state")["n"].iloc[0] == 0
    for table in _tables(apart):
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        pd.testing.assert_frame_equal(query(together, sql), query(apart, sql), check_exact=False, rtol=0,
                                      atol=1e-9, obj=table)


def test_update_checks_the_posts_once_while_it_ingests_and_publishes_by_link(sample_warehouse, tmp_path,
                                                                             one_new_post, monkeypatch, capsys):
    from analytics import build

    target = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, target)
    calls = []
    checked = build.posts_as_built

    def counted(con):
        calls.append(threading.current_thread().name)
        return checked(con)

    monkeypatch.setattr(build, "posts_as_built", counted)
    assert cli.main(["update", str(one_new_post), "--warehouse", str(target)]) == 0
    assert len(calls) == 1 and calls[0].startswith("posts-check"), calls
    # the check's cursor was closed: nothing held the database open at the publication, which linked the file
    assert target.stat().st_ino == snapshots.snapshot_path(target).stat().st_ino


def test_ingest_says_which_rows_replaced_stored_posts_and_which_were_older(sample_warehouse, tmp_path, capsys):
    # the rows loaded need not add as many posts: a reader comparing the file table with `summary` is told why
    from analytics import config

    later, post_uid, likes = _re_export(tmp_path, config.SAMPLE_DIR)
    target = tmp_path / "w.duckdb"
    shutil.copyfile(sample_warehouse, target)
    before = query(target, "SELECT count(*) AS n FROM posts")["n"].iloc[0]
    assert cli.main(["ingest", str(later), "--warehouse", str(target)]) == 0
    out = capsys.readouterr().out
    assert "monitoring_later.csv: 1 row took the place of the same record loaded before." in out
    assert query(target, "SELECT count(*) AS n FROM posts")["n"].iloc[0] == before + 1

    # the same post exported earlier (its newest post is itself, so its metrics are as of its own date)
    lines = later.read_text(encoding="utf-8").splitlines()
    earlier = tmp_path / "monitoring_earlier.csv"
    earlier.write_text("\n".join([lines[0], lines[1].replace(f",{likes},", f",{likes - 30},")]) + "\n",
                       encoding="utf-8")
    assert cli.main(["ingest", str(earlier), "--warehouse", str(target)]) == 0
    out = capsys.readouterr().out
    assert ("monitoring_earlier.csv: 1 post older than the stored version (metrics as of an earlier date) left the "
            "stored one as it was.") in out
    stored = query(target, f"SELECT reactions FROM posts WHERE post_uid = '{post_uid}'")["reactions"]
    assert stored.tolist() == [likes], "the later export's metrics were kept"
