"""The build's fast paths give what the reference functions give: the Wilson interval, and the
amplifications matched in SQL, incrementally, against match_amplifications over every post."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint
from warehouse_copies import built_from_scratch, execute, insert_rows

from analytics import build, engagement
from analytics.adherence import wilson_interval


def test_wilson_is_statsmodels_wilson():
    # the period tables count a cell of no one as n = 1, as before
    successes = pd.Series([0, 1, 5, 9, 10, 0, 3])
    n = pd.Series([10, 10, 10, 10, 10, 0, 7])
    low, high = wilson_interval(successes.to_numpy(float), np.maximum(n.to_numpy(float), 1))
    ref_low, ref_high = proportion_confint(successes.to_numpy(float), np.maximum(n.to_numpy(float), 1),
                                           method="wilson")
    np.testing.assert_array_equal(low, ref_low)
    np.testing.assert_array_equal(high, ref_high)


def _post(uid, kind, text, when, url=None, shared=None, platform="x"):
    return {"post_uid": uid, "platform": platform, "account_type": kind, "author_key": "a1" if kind == "employee"
            else None, "department": "Programs" if kind == "employee" else None,
            "published_at": pd.Timestamp(when, tz="UTC"), "text": text, "url": url, "shared_url": shared,
            "reactions": 3.0}


def _amplifications(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return sorted(con.execute("SELECT post_uid, org_post_uid, matched_by FROM amplifications").fetchall())
    finally:
        con.close()


def _load(path, rows):
    insert_rows(path, "posts", pd.DataFrame(rows))


def _reference(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        posts = con.execute("SELECT * FROM posts").df()
    finally:
        con.close()
    found = engagement.match_amplifications(posts)
    return sorted(found[["post_uid", "org_post_uid", "matched_by"]].itertuples(index=False, name=None))


def test_incremental_amplifications_match_the_reference_including_late_organisation_posts(tmp_path):
    path = tmp_path / "wh.duckdb"
    quote = "We planted 400 trees along the river this spring"
    first = [
        _post("x:o1", "organization", "Hello world, our annual report is out", "2026-01-01",
              url="https://x.com/org/status/1"),
        # two organisation posts with one URL: the latest wins
        _post("x:o2", "organization", "Same link again", "2026-01-03", url="https://twitter.com/org/status/1?s=2"),
        _post("x:e1", "employee", "Proud! https://www.twitter.com/org/status/1 and x.com/org/status/77", "2026-01-04"),
        _post("x:e2", "employee", f'Love this: "{quote}." and x.com/org/status/77', "2026-02-02"),
        _post("x:e3", "employee", 'A short one: "....................  ok"', "2026-02-03"),
        _post("x:e4", "employee", "Shared it", "2026-02-04", shared="https://x.com/org/status/77"),
        _post("x:e5", "employee", "nothing to see here", "2026-02-05"),
        _post("x:e6", "employee", f'So true “{quote.upper()}”', "2026-02-06"),
    ]
    _load(path, first)
    build.build(warehouse_file=path)
    assert _amplifications(path) == _reference(path)
    assert ("x:e1", "x:o2", "url_in_text") in _amplifications(path)
    # organisation posts ingested after the shares: the shares now match them
    _load(path, [_post("x:o77", "organization", "Status 77", "2026-01-20", url="https://x.com/org/status/77"),
                 _post("m:o3", "organization", f"{quote}! Thank you all.", "2026-02-01", platform="mastodon",
                       url="https://social.example/@org/3")])
    build.build(warehouse_file=path)
    assert _amplifications(path) == _reference(path)
    assert {row[0] for row in _amplifications(path)} >= {"x:e1", "x:e2", "x:e4"}
    assert ("x:e6", "m:o3", "quoted_text") in _amplifications(path)
    again = build.build(warehouse_file=path)
    assert again.steps["texts newly scored"] == 0 and _amplifications(path) == _reference(path)


def _themes(path):
    """The posts' themes, once the build's foretold prints of the scanned and themed posts are checked."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        for done in build._DONE_TABLES:
            assert build._state(con, f"done:{done}") == build._print(*build._done_numbers(con, done)), done
        return con.execute("SELECT post_uid, text_theme, theme FROM post_themes ORDER BY post_uid").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("few_changes", [1.0, 0.0], ids=["changes-few", "changes-many"])
def test_a_share_takes_the_theme_of_an_organisation_post_ingested_or_changed_later(tmp_path, monkeypatch,
                                                                                   few_changes):
    # every change counts as few (the changed posts are looked at alone) or as many (every post is)
    monkeypatch.setattr(build, "_FEW_CHANGES", few_changes)
    path = tmp_path / "wh.duckdb"
    _load(path, [_post("x:e1", "employee", "Shared it", "2026-02-04", shared="https://x.com/org/status/9"),
                 _post("x:e2", "employee", "Volunteer with us this weekend", "2026-02-05")])
    build.build(warehouse_file=path)
    assert ("x:e1", "other", "other") in _themes(path)
    _load(path, [_post("x:o9", "organization", "Donate today to feed a family", "2026-02-01",
                       url="https://x.com/org/status/9")])
    build.build(warehouse_file=path)
    assert ("x:e1", "other", "fundraising_ask") in _themes(path)
    (tmp_path / "a").mkdir()
    assert _themes(path) == _themes(built_from_scratch(path, tmp_path / "a"))
    # the organisation post's text changes: the share follows it; its own theme again once unshared
    for change, theme in (("UPDATE posts SET text = 'Volunteer with us this weekend'", "volunteer_call"),
                          ("DELETE FROM posts", "other")):
        execute(path, f"{change} WHERE post_uid = 'x:o9'")  # as another writer (never into the snapshot)
        build.build(warehouse_file=path)
        assert ("x:e1", "other", theme) in _themes(path)
        scratch = tmp_path / theme
        scratch.mkdir()
        assert _themes(path) == _themes(built_from_scratch(path, scratch))
