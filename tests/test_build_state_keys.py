"""The keys the build stores beside its bookkeeping rows (``done_key`` of post_scans and post_themes,
``row_key`` of post_state): rows another writer adds or removes are still noticed, and a warehouse built
before the keys existed gets them without any work being redone."""

from __future__ import annotations

import pandas as pd
import pytest
from warehouse_copies import assert_same_as_scratch, built, employee_post, execute, insert_rows, query

from analytics import build, warehouse


def _built(tmp_path):
    return built(tmp_path / "wh.duckdb", posts=[
        employee_post("x:1", "Volunteer with us this weekend", "2026-01-05"),
        employee_post("x:2", "Donate today to feed a family", "2026-01-06"),
        employee_post("x:3", "Nothing much", "2026-02-07"),
    ])


@pytest.mark.parametrize(("done", "step"), [("post_scans", "posts newly scanned"),
                                            ("post_themes", "posts newly themed")])
def test_rows_another_writer_swaps_in_a_done_table_redo_the_post(tmp_path, done, step):
    path = _built(tmp_path)
    before = query(path, f"SELECT * FROM {done} WHERE post_uid = 'x:1'")
    # one row removed and one added without a key: the count is unchanged, the print is not
    columns = "post_uid, text_hash" + (", rules_version" if done == "post_scans" else ", taxonomy_version")
    execute(path, f"DELETE FROM {done} WHERE post_uid = 'x:1'",
            f"INSERT INTO {done} ({columns}) SELECT 'x:9', text_hash, {columns.split(', ')[2]} FROM {done} LIMIT 1")
    assert build.build(warehouse_file=path).steps[step] == 1
    pd.testing.assert_frame_equal(query(path, f"SELECT * FROM {done} WHERE post_uid = 'x:1'"), before)
    # and a row removed alone changes the count
    execute(path, f"DELETE FROM {done} WHERE post_uid = 'x:2'")
    assert build.build(warehouse_file=path).steps[step] == 1
    assert build.build(warehouse_file=path).steps[step] == 0


def test_a_warehouse_built_before_the_keys_gets_them_and_redoes_nothing(tmp_path):
    path = _built(tmp_path)
    tables = {"post_scans": "done_key", "post_themes": "done_key", "post_state": "row_key"}
    kept = {table: query(path, f"SELECT * FROM {table} ORDER BY post_uid") for table in tables}
    execute(path, *(f"ALTER TABLE {table} DROP COLUMN {column}" for table, column in tables.items()))
    again = build.build(warehouse_file=path)
    assert again.steps["posts newly scanned"] == again.steps["posts newly themed"] == 0
    assert again.steps["texts newly scored"] == 0
    for table, rows in kept.items():
        pd.testing.assert_frame_equal(query(path, f"SELECT * FROM {table} ORDER BY post_uid"), rows, obj=table)


def test_table_fingerprints_hash_every_column_in_order_and_see_an_edit(tmp_path):
    path = _built(tmp_path)
    tables = ("posts", "post_scans")
    con = warehouse.connect(path)
    try:
        prints = build._fingerprints(con, tables)
        assert list(prints) == list(tables)
        # the reference is the per-table query the prints were made with before: prints stored by a build of
        # that code still match, so its inputs are not taken for changed
        for table in tables:
            columns = ", ".join(name for (name,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
            ).fetchall())
            count, xor, total = con.execute(f"SELECT count(*), bit_xor(hash({columns})), sum(hash({columns}) >> 8) "
                                            f"FROM {table}").fetchone()
            assert prints[table] == f"{table}:{count}:{xor}:{total}"
        con.execute("UPDATE posts SET saves = 2 WHERE post_uid = 'x:3'")
        after = build._fingerprints(con, tables)
        assert after["posts"] != prints["posts"] and after["post_scans"] == prints["post_scans"]
    finally:
        con.close()


def _fast_path(path) -> str | None:
    con = warehouse.connect(path)
    try:
        return build._appended_rows(con)
    finally:
        con.close()


@pytest.mark.parametrize("change", [
    "UPDATE posts SET reactions = 5 WHERE post_uid = 'x:1'",
    "DELETE FROM posts WHERE post_uid = 'x:2'",
    # renumbered: x:4 is now before the last build's end, which no longer bounds the rows it saw
    "CREATE OR REPLACE TABLE posts AS SELECT * FROM posts ORDER BY post_uid DESC",
])
def test_posts_only_appended_are_read_alone_and_any_other_change_is_still_seen(tmp_path, change):
    path = _built(tmp_path)
    assert _fast_path(path) == "rowid >= 3"
    insert_rows(path, "posts", pd.DataFrame([employee_post("x:4", "Proud of our volunteers", "2026-02-09")]))
    assert _fast_path(path) == "rowid >= 3"
    execute(path, change)
    assert _fast_path(path) is None
    build.build(warehouse_file=path)
    assert_same_as_scratch(path, tmp_path, ("post_state", "post_facts", "post_scans", "monthly_metrics"))
    # each build records where the posts end, so appending is read alone again; a deletion's gap is closed
    # at a later checkpoint (here the next write), renumbering the rows after it: the build after that pairs
    # the rows once more, and the fast path is back for the next
    insert_rows(path, "posts", pd.DataFrame([employee_post("x:5", "Our team planted trees", "2026-02-10")]))
    build.build(warehouse_file=path)
    insert_rows(path, "posts", pd.DataFrame([employee_post("x:6", "Thanks to every volunteer", "2026-02-11")]))
    assert query(path, f"SELECT post_uid FROM posts WHERE {_fast_path(path)}")["post_uid"].tolist() == ["x:6"]
