"""A build working in batches, or reusing unchanged survey figures, derives what a build in one go derives."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
from warehouse_copies import query

from analytics import build, ingest, metrics, warehouse


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), ignore_index=True, na_position="last")


def test_scanning_and_theming_in_small_batches_gives_what_one_batch_gives(sample_warehouse, tmp_path, monkeypatch):
    target = tmp_path / "again.duckdb"
    shutil.copyfile(sample_warehouse, target)
    con = duckdb.connect(str(target))
    for table in warehouse.DERIVED_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    repeated = con.execute("SELECT count(*) - count(DISTINCT text) FROM posts").fetchone()[0]
    total = con.execute("SELECT count(*) FROM posts").fetchone()[0]
    con.close()
    assert repeated > 0, "some texts repeat: a batch must hold all posts of a text"
    monkeypatch.setattr(build, "_TODO_BATCH", max(1, total // 7))
    summary = build.build(warehouse_file=target)
    assert summary.steps["posts newly scanned"] == summary.steps["posts newly themed"] == total
    for table in ("post_findings", "post_scans", "post_themes", "post_facts", "amplifications", "amplification_keys",
                  "amplification_org", "post_state"):
        pd.testing.assert_frame_equal(_sorted(query(target, f"SELECT * FROM {table}")),
                                      _sorted(query(sample_warehouse, f"SELECT * FROM {table}")),
                                      check_exact=True, obj=table)


def test_survey_figures_reused_after_new_posts_equal_computed_ones(sample_warehouse, tmp_path, monkeypatch,
                                                                   one_new_post):
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, target)
    [result] = ingest.ingest_paths([one_new_post], warehouse_file=target)
    assert result.rows_loaded == 1
    calls = []
    original = metrics._survey
    monkeypatch.setattr(metrics, "_survey", lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs))
    build.build(warehouse_file=target)
    assert calls == [], "the survey inputs did not change: their figures are reused"
    published = query(target, "SELECT * FROM quarterly_metrics")
    con = duckdb.connect(str(target), read_only=True)
    try:
        _, quarterly = metrics.period_tables(con)
    finally:
        con.close()
    survey = published["metric"].isin(metrics.SURVEY_METRICS)
    assert survey.sum() > 0
    pd.testing.assert_frame_equal(published[survey].reset_index(drop=True),
                                  quarterly[quarterly["metric"].isin(metrics.SURVEY_METRICS)].reset_index(drop=True),
                                  check_exact=True, check_dtype=False)  # the published table went through DuckDB
