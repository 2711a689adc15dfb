"""Posts whose text changed get their old scan, findings and theme rows replaced, also when a build deletes
nothing for new posts (a new post has no old rows): the result equals a build from scratch."""

from __future__ import annotations

import shutil

import pandas as pd
from warehouse_copies import built_from_scratch, query

from analytics import build, warehouse

_COMPARED = ("post_scans", "post_findings", "post_themes", "post_facts")


def test_texts_swapped_between_posts_replace_their_findings_and_themes(sample_warehouse, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, path)
    build.build(warehouse_file=path)
    flagged = query(path, """SELECT p.post_uid, p.text FROM posts p
                             WHERE p.account_type = 'employee' AND p.text IS NOT NULL
                               AND post_uid IN (SELECT post_uid FROM post_findings)
                             ORDER BY post_uid LIMIT 3""")
    clean = query(path, """SELECT p.post_uid, p.text FROM posts p
                           WHERE p.account_type = 'employee' AND p.text IS NOT NULL
                             AND post_uid NOT IN (SELECT post_uid FROM post_findings)
                           ORDER BY post_uid LIMIT 3""")
    assert len(flagged) == 3 and len(clean) == 3
    before = query(path, "SELECT count(*) AS n FROM post_findings")["n"].iloc[0]
    con = warehouse.connect(path)
    try:
        # no post is added or removed: only changed texts (the posts with findings lose them)
        for (uid, _), (_, text) in zip(flagged.itertuples(index=False), clean.itertuples(index=False), strict=True):
            con.execute("UPDATE posts SET text = ? WHERE post_uid = ?", [text, uid])
        for (uid, _), (_, text) in zip(clean.itertuples(index=False), flagged.itertuples(index=False), strict=True):
            con.execute("UPDATE posts SET text = ? WHERE post_uid = ?", [text, uid])
    finally:
        con.close()
    build.build(warehouse_file=path)
    after = query(path, "SELECT post_uid FROM post_findings")
    assert not set(flagged["post_uid"]) & set(after["post_uid"])
    assert set(clean["post_uid"]) <= set(after["post_uid"]) and len(after) > 0 and before > 0
    # the changed posts' old state rows went (one row per post: they are found by rowid, not by post_uid)
    counts = query(path, "SELECT count(*) AS n, count(DISTINCT post_uid) AS posts FROM post_state")
    assert counts["n"].iloc[0] == counts["posts"].iloc[0] == query(path, "SELECT count(*) AS n FROM posts")["n"].iloc[0]
    scratch = built_from_scratch(path, tmp_path)
    for table in _COMPARED:
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        pd.testing.assert_frame_equal(query(path, sql), query(scratch, sql), check_exact=False, rtol=0, atol=1e-9,
                                      obj=table)


def test_a_build_redoing_every_post_keeps_one_row_per_post(sample_warehouse, tmp_path):
    """Everything redone (a new time zone, scorer or DuckDB version empties post_state) while the scans and
    themes are kept: no post counts as new, so each post's kept rows are replaced, not doubled."""
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, path)
    build.build(warehouse_file=path)
    con = warehouse.connect(path)
    try:
        con.execute("UPDATE build_state SET value = 'another DuckDB' WHERE name = 'post_state_version'")
        # one changed text as well: its old scan and theme rows must go
        con.execute("UPDATE posts SET text = 'I hate this, terrible and awful' WHERE post_uid = "
                    "(SELECT min(post_uid) FROM posts WHERE account_type = 'employee')")
    finally:
        con.close()
    build.build(warehouse_file=path)
    for table in ("post_scans", "post_themes", "post_facts", "post_state"):
        counts = query(path, f"SELECT count(*) AS n, count(DISTINCT post_uid) AS posts FROM {table}")
        assert counts["n"].iloc[0] == counts["posts"].iloc[0] > 0, table
    scratch = built_from_scratch(path, tmp_path)
    for table in (*_COMPARED, "amplifications"):
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        pd.testing.assert_frame_equal(query(path, sql), query(scratch, sql), check_exact=False, rtol=0, atol=1e-9,
                                      obj=table)
