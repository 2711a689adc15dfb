"""The build stage: derives every table the surfaces read, incrementally, without touching the canonical ones."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
from warehouse_copies import built_from_scratch, query

from analytics import build, config, ingest, metrics, snapshots, warehouse


def _count(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


def test_build_derives_the_documented_tables(sample_warehouse):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        published = con.execute("SELECT DISTINCT metric FROM quarterly_metrics").df()["metric"]
        combos = con.execute("SELECT count(*) FROM monthly_metrics WHERE department <> '(all)' "
                             "AND platform <> '(all)'").fetchall()[0][0]
    finally:
        con.close()
    assert {"sentiment", "post_findings", "construct_scores", "incident_timings", "monthly_metrics",
            "quarterly_metrics", "post_facts"} <= tables
    assert set(published) == set(metrics.METRICS)
    assert combos == 0, "department x platform is never published"


def test_every_stored_text_has_its_own_scores_in_the_sentiment_cache(sample_warehouse):
    from analytics import sentiment

    texts = query(sample_warehouse, """SELECT DISTINCT text FROM (SELECT text FROM posts UNION ALL
                                       SELECT text FROM audience_comments UNION ALL SELECT text FROM survey_comments)
                                       WHERE text IS NOT NULL ORDER BY text""")["text"].tolist()
    cached = query(sample_warehouse, "SELECT * FROM sentiment WHERE scorer_version = ?", [sentiment.SCORER_VERSION])
    expected = sentiment.cache_rows(texts).drop(columns="scorer_version").set_index("text_hash")
    stored = cached.drop(columns="scorer_version").set_index("text_hash").loc[expected.index]
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False)  # unscored: missing in both


def test_second_build_does_almost_nothing_and_new_posts_only_score_new_text(sample_warehouse, tmp_path,
                                                                           one_new_post):
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, target)
    again = build.build(warehouse_file=target)
    assert again.steps["texts newly scored"] == 0
    assert again.steps["posts newly scanned"] == 0
    [result] = ingest.ingest_paths([one_new_post], warehouse_file=target)
    assert result.rows_loaded == 1
    third = build.build(warehouse_file=target)
    assert third.steps["texts newly scored"] == 1
    assert third.steps["posts newly scanned"] == 1


def test_dismissing_a_finding_changes_every_figure(sample_warehouse, tmp_path, monkeypatch):
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, target)
    post_uid, rule_id = duckdb.connect(str(target), read_only=True).execute(
        "SELECT post_uid, rule_id FROM post_findings WHERE severity IN ('medium','high') AND NOT dismissed "
        "AND post_uid IN (SELECT post_uid FROM post_findings GROUP BY 1 HAVING count(*) = 1) LIMIT 1").fetchall()[0]
    before = _count(target, "SELECT sum(successes) FROM monthly_metrics WHERE metric='adherence_rate' "
                            "AND department='(all)' AND platform='(all)'")
    dismissals = tmp_path / "dismissals.csv"
    dismissals.write_text(f"post_uid,rule_id,reason\n{post_uid},{rule_id},quoting the policy itself\n")
    monkeypatch.setattr(config, "DISMISSALS_PATH", dismissals)
    summary = build.build(warehouse_file=target)
    assert summary.steps["findings dismissed"] == 1
    after = _count(target, "SELECT sum(successes) FROM monthly_metrics WHERE metric='adherence_rate' "
                           "AND department='(all)' AND platform='(all)'")
    assert after == before + 1
    # the dismissed post's facts were redone though its row did not change: as a build from scratch gives them
    scratch = built_from_scratch(target, tmp_path)
    for table in ("post_facts", "post_findings", "monthly_metrics", "quarterly_metrics"):
        pd.testing.assert_frame_equal(query(target, f"SELECT * FROM {table} ORDER BY ALL"),
                                      query(scratch, f"SELECT * FROM {table} ORDER BY ALL"), obj=table)


def test_surfaces_read_the_published_snapshot(sample_warehouse):
    snapshot = snapshots.snapshot_path(sample_warehouse)
    assert snapshot.exists()
    with warehouse.read_only(sample_warehouse) as con:
        assert con.execute("SELECT count(*) FROM post_facts").fetchall()[0][0] > 0


def test_a_build_of_an_empty_warehouse_derives_nothing_and_the_next_build_what_a_first_build_would(tmp_path):
    from test_crash import roster_and_posts

    empty_first, direct = tmp_path / "empty-first.duckdb", tmp_path / "direct.duckdb"
    warehouse.connect(empty_first).close()  # made, nothing loaded
    assert build.build(warehouse_file=empty_first).steps["monthly + quarterly metrics"] == 0
    for target in (empty_first, direct):
        roster_and_posts(target, 40)
    steps = [build.build(warehouse_file=target).steps for target in (empty_first, direct)]
    assert steps[0]["monthly + quarterly metrics"] == steps[1]["monthly + quarterly metrics"] > 0
    # every table the build derives, but its log (two builds there, one here), equals the first build's
    derived = [table for table in warehouse.DERIVED_TABLES if table != "build_log"]
    for table in derived:
        after_empty, first = (_sorted_on_keys(query(target, f"SELECT * FROM {table}"))
                              for target in (empty_first, direct))
        _assert_same_values(after_empty, first, table)
    assert all(_count(direct, f"SELECT count(*) FROM {table}") for table in (
        "sentiment", "post_facts", "post_themes", "monthly_metrics", "quarterly_metrics", "period_groups"))


def _sorted_on_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s rows in the order of its columns that are not floats (they hold every derived table's
    key), then of its floats."""
    floats = [c for c in frame.columns if frame[c].dtype.kind == "f"]
    return frame.sort_values([*(c for c in frame.columns if c not in floats), *floats], ignore_index=True)


def _assert_same_values(left: pd.DataFrame, right: pd.DataFrame, table: str) -> None:
    floats = [c for c in right.columns if right[c].dtype.kind == "f"]
    pd.testing.assert_frame_equal(left.drop(columns=floats), right.drop(columns=floats), obj=table)
    # floats to a tight tolerance: summation order may differ in the last bits (~6e-16 was seen)
    pd.testing.assert_frame_equal(left[floats], right[floats], check_exact=False, rtol=1e-12, atol=1e-15, obj=table)
