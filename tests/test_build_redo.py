"""Posts whose text changed get their old scan, findings and theme rows replaced, also when a build deletes
nothing for new posts (a new post has no old rows): the result equals a build from scratch."""

from __future__ import annotations

import shutil

import pandas as pd
from warehouse_copies import assert_same_as_scratch, built_from_scratch, query

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
    assert_same_as_scratch(path, tmp_path, _COMPARED)


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
    assert_same_as_scratch(path, tmp_path, (*_COMPARED, "amplifications"))


def test_a_post_gone_before_a_full_redo_and_back_after_it_has_one_row_each(sample_warehouse, tmp_path):
    """A post deleted before a build that redoes everything (which empties post_state, so it cannot say the
    post went) and ingested again afterwards counts as new: its kept rows must not be left to double up."""
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, path)
    build.build(warehouse_file=path)
    con = warehouse.connect(path)
    try:
        row = con.execute("""SELECT * FROM posts WHERE post_uid =
                             (SELECT min(post_uid) FROM post_findings)""").df()
        assert len(row) == 1
        con.execute("DELETE FROM posts WHERE post_uid = ?", [row["post_uid"].iloc[0]])
        con.execute("UPDATE build_state SET value = 'another DuckDB' WHERE name = 'post_state_version'")
    finally:
        con.close()
    build.build(warehouse_file=path)
    gone = row["post_uid"].iloc[0]
    for table in _COMPARED:
        assert query(path, f"SELECT count(*) AS n FROM {table} WHERE post_uid = '{gone}'")["n"].iloc[0] == 0, table
    con = warehouse.connect(path)
    try:
        con.register("_back", row)
        con.execute("INSERT INTO posts SELECT * FROM _back")
    finally:
        con.close()
    build.build(warehouse_file=path)
    for table in ("post_scans", "post_themes", "post_facts", "post_state"):
        counts = query(path, f"SELECT count(*) AS n, count(DISTINCT post_uid) AS posts FROM {table}")
        assert counts["n"].iloc[0] == counts["posts"].iloc[0], table
    assert_same_as_scratch(path, tmp_path, _COMPARED)


def _post(uid: str, kind: str, when: str, *, text: str = "hello", url: str | None = None,
          shared: str | None = None) -> dict:
    return {"post_uid": uid, "platform": "x", "account_type": kind,
            "author_key": "a1" if kind == "employee" else None,
            "department": "Programs" if kind == "employee" else None, "published_at": pd.Timestamp(when, tz="UTC"),
            "text": text, "url": url, "shared_url": shared, "reactions": 1.0}


def test_changed_and_gone_posts_lose_their_link_keys(tmp_path):
    """A share whose link changed, and posts that went, leave no link keys behind: the keys of changed and
    gone posts are deleted (only new posts' are not looked for)."""
    path = tmp_path / "wh.duckdb"
    con = warehouse.connect(path)
    try:
        warehouse.insert_frame(con, "posts", pd.DataFrame([
            _post("x:o1", "organization", "2026-01-01", url="https://x.com/org/status/1"),
            _post("x:o2", "organization", "2026-01-02", url="https://x.com/org/status/2"),
            _post("x:e1", "employee", "2026-01-03", shared="https://x.com/org/status/1"),
            _post("x:e2", "employee", "2026-01-04", text="see x.com/org/status/2"),
            _post("x:e3", "employee", "2026-01-05", text="and x.com/org/status/1"),
        ]))
    finally:
        con.close()
    build.build(warehouse_file=path)
    pairs = "SELECT post_uid, org_post_uid FROM amplifications ORDER BY ALL"
    assert query(path, pairs).values.tolist() == [["x:e1", "x:o1"], ["x:e2", "x:o2"], ["x:e3", "x:o1"]]
    con = warehouse.connect(path)
    try:
        con.execute("DELETE FROM posts WHERE post_uid IN ('x:o2', 'x:e3')")
    finally:
        con.close()
    build.build(warehouse_file=path)
    for table in ("amplification_keys", "amplification_org"):
        assert query(path, f"SELECT * FROM {table} WHERE post_uid NOT IN (SELECT post_uid FROM posts)").empty, table
    con = warehouse.connect(path)
    try:
        con.execute("UPDATE posts SET shared_url = NULL WHERE post_uid = 'x:e1'")
        warehouse.insert_frame(con, "posts", pd.DataFrame([
            _post("x:e4", "employee", "2026-01-06", shared="https://x.com/org/status/1")]))
    finally:
        con.close()
    build.build(warehouse_file=path)
    assert query(path, pairs).values.tolist() == [["x:e4", "x:o1"]]
    scratch = built_from_scratch(path, tmp_path)
    for table in ("amplification_keys", "amplification_org", "amplifications"):
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        pd.testing.assert_frame_equal(query(path, sql), query(scratch, sql), obj=table)
