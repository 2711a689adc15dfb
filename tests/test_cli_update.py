"""``policy-pulse update``: one command (one process) that ingests new exports and builds, leaving the warehouse
exactly as ``ingest`` then ``build`` leave it."""

from __future__ import annotations

import shutil

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
