"""The shortcuts that keep an incremental build's fixed costs small give what the long ways give: posts
found changed by row hashes, comments' sentiment checked only when comments or the cache changed, the
period-table update planned by ``metrics.update_period_tables``, and validation without hypothesis."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import duckdb
import pandas as pd
import pytest
from warehouse_copies import built, built_from_scratch, employee_post, execute, insert_rows, query

from analytics import build, config, metrics


def _comment(uid: str, post_uid: str, text: str) -> dict:
    return {"comment_uid": uid, "post_uid": post_uid, "platform": "x",
            "published_at": pd.Timestamp("2026-02-03 10:00", tz="UTC"), "text": text}


def _small_warehouse(tmp_path):
    return built(tmp_path / "wh.duckdb", posts=[
        employee_post("x:1", "Proud of our volunteers today", "2026-01-05"),
        employee_post("x:2", "Terrible weather, awful day", "2026-01-06"),
        employee_post("x:3", "Same words", "2026-02-07"),
        employee_post("x:4", "Same words", "2026-02-08"),
        employee_post("x:5", None, "2026-03-09"),
    ], audience_comments=[_comment("c:1", "x:1", "Love this!")])


@pytest.mark.parametrize("few", [0.0, 1.0], ids=["whole-rows-of-all", "whole-rows-of-changed-only"])
def test_posts_changed_in_every_way_give_the_state_and_facts_of_a_build_from_scratch(tmp_path, monkeypatch, few):
    path = _small_warehouse(tmp_path)
    monkeypatch.setattr(build, "_FEW_CHANGES", few)
    execute(path,
            "UPDATE posts SET reactions = 5 WHERE post_uid = 'x:1'",  # a metric only: same text
            "UPDATE posts SET text = 'Same words' WHERE post_uid = 'x:2'",  # a text another post has
            "UPDATE posts SET text = 'Now it has words' WHERE post_uid = 'x:5'",  # missing text -> text
            "UPDATE posts SET published_at = published_at + INTERVAL 40 DAY WHERE post_uid = 'x:3'",
            "DELETE FROM posts WHERE post_uid = 'x:4'")
    insert_rows(path, "posts", pd.DataFrame([employee_post("x:6", "A new one", "2026-03-01")]))
    build.build(warehouse_file=path)
    scratch = built_from_scratch(path, tmp_path)
    # the sentiment cache keeps the scores of texts no post has any more: the current texts' are compared
    for table in ("post_state", "post_facts", "post_scans", "post_findings", "post_themes",
                  "sentiment WHERE text_hash IN (SELECT text_hash FROM post_state)"):
        pd.testing.assert_frame_equal(query(path, f"SELECT * FROM {table} ORDER BY ALL"),
                                      query(scratch, f"SELECT * FROM {table} ORDER BY ALL"), obj=table)
    assert sorted(query(path, "SELECT post_uid FROM post_state")["post_uid"]) == ["x:1", "x:2", "x:3", "x:5",
                                                                                 "x:6"]


def _comment_scores(path) -> set[str]:
    return set(query(path, """SELECT c.comment_uid FROM audience_comments c
                              JOIN sentiment s ON s.text_hash = sha256(c.text)""")["comment_uid"])


def test_new_comments_and_a_pruned_cache_have_their_comments_scored_again(tmp_path):
    path = _small_warehouse(tmp_path)
    assert _comment_scores(path) == {"c:1"}
    insert_rows(path, "audience_comments", pd.DataFrame([_comment("c:2", "x:1", "What a mess")]))
    build.build(warehouse_file=path)
    assert _comment_scores(path) == {"c:1", "c:2"}, "a new comment is scored although no post changed"
    # the cache lost rows (a table restored from elsewhere, say): the comments are checked whole again
    execute(path, "DELETE FROM sentiment WHERE text_hash IN (SELECT sha256(text) FROM audience_comments)")
    build.build(warehouse_file=path)
    assert _comment_scores(path) == {"c:1", "c:2"}
    scratch = built_from_scratch(path, tmp_path)
    current = "SELECT * FROM sentiment WHERE text_hash IN (SELECT sha256(text) FROM audience_comments) ORDER BY ALL"
    pd.testing.assert_frame_equal(query(path, current), query(scratch, current))


def _stored(con) -> tuple[dict, dict]:
    before = {(month, part): digest for month, part, digest in con.execute("SELECT * FROM period_inputs").fetchall()}
    groups: dict = {}
    for kind, metric, grouping, period, group in con.execute("SELECT * FROM period_groups").fetchall():
        groups.setdefault((kind, metric, grouping), set()).add((period, group))
    return before, groups


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as float64 (missing: NaN) and flags as bool, whichever table they come from."""
    frame = frame.reset_index(drop=True)
    return frame.astype({**{c: "float64" for c in frame.select_dtypes("number").columns}, "suppressed": bool})


def test_update_period_tables_plans_nothing_the_changed_quarter_or_everything(sample_warehouse):
    k = config.get_settings().k
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        before, groups = _stored(con)
        after = metrics.month_inputs(con)
        assert after == before, "the sample's stored inputs are its current ones"
        nothing = metrics.update_period_tables(con, k=k, before=before, after=after, groups=groups,
                                               amplifiers_changed=False)
        assert nothing is not None and nothing.periods == () and nothing.monthly.empty

        month = max(m for m, part in after if part == "employee" and m is not None and m.month in (2, 5, 8, 11))
        changed = {**after, (month, "employee"): "0:0"}
        update = metrics.update_period_tables(con, k=k, before=before, after=changed, groups=groups,
                                              amplifiers_changed=False)
        first = date(month.year, month.month - 1, 1)
        quarter = f"{month.year}-Q{(month.month - 1) // 3 + 1}"
        expected = {f"{date(first.year, first.month + i, 1):%Y-%m}" for i in range(3)} | {quarter}
        assert update is not None and set(update.periods) == expected
        assert set(update.monthly["period"]) <= expected and set(update.quarterly["period"]) == {quarter}
        # the families whose inputs did not change keep their rows, and the survey's per-wave rows stay
        assert {"incidents", "amplifier_share", "organisation_sentiment", "engagement_rate", "mission_clicks",
                *metrics.SURVEY_METRICS} <= set(update.kept)
        assert "organisation_sentiment" not in set(update.monthly["metric"])
        assert not update.amplifier_share and "amplifier_share" not in set(update.monthly["metric"])
        monthly, quarterly = metrics.period_tables(con, k=k)
        for part, whole in ((update.monthly, monthly), (update.quarterly, quarterly)):
            recomputed = whole[whole["period"].isin(expected) & ~whole["metric"].isin(update.kept)]
            pd.testing.assert_frame_equal(_plain(part), _plain(recomputed), check_exact=False, rtol=0, atol=1e-12)

        # posts without a month: the tables are computed whole
        assert metrics.update_period_tables(con, k=k, before=before, after={**after, (None, "facts"): "1:1"},
                                            groups=groups, amplifiers_changed=False) is None
    finally:
        con.close()


def test_validation_does_not_import_hypothesis_and_leaves_it_importable():
    code = """
import sys
import pandas as pd
from analytics import schemas
good, reasons = schemas.validate("trainings", pd.DataFrame({
    "employee_key": ["a" * 64, "b" * 64], "module": ["essentials", ""],
    "completed_at": pd.to_datetime(["2026-01-02", "2026-01-03"], utc=True).as_unit("us")}))
print(len(good), len(reasons), "hypothesis" in sys.modules)
import hypothesis.strategies
print("importable")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout.split("\n")
    assert out[0] == "1 1 False"
    assert out[1] == "importable"
