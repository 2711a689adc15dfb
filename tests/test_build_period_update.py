"""An incremental build that recomputes only the quarters whose posts changed derives the period tables (and
every other derived table) a build from scratch derives over the same data: row for row, in the same order,
suppression included."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from warehouse_copies import assert_same_as_scratch, execute, insert_rows, query

from analytics import build, config, metrics, warehouse

_COMPARED = ("monthly_metrics", "quarterly_metrics", "post_facts", "post_themes", "amplifications", "post_findings")


@pytest.fixture
def updates(sample_warehouse, tmp_path, monkeypatch):
    """A copy of the sample warehouse, and the months each period-table computation was restricted to."""
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, target)
    build.build(warehouse_file=target)  # the bookkeeping of this build's version
    calls: list = []
    original = metrics._tables

    def spy(*args, **kwargs):
        calls.append(kwargs.get("months"))
        return original(*args, **kwargs)

    monkeypatch.setattr(metrics, "_tables", spy)
    return target, calls


def _employee_posts(path, month: str) -> pd.DataFrame:
    return query(path, """SELECT p.* FROM posts p JOIN post_facts f USING (post_uid)
                           WHERE f.account_type = 'employee' AND strftime(f.month, '%Y-%m') = ?
                           AND p.published_at IS NOT NULL ORDER BY p.post_uid""", [month])


def _busiest_month(path) -> str:
    return query(path, """SELECT strftime(month, '%Y-%m') AS m FROM post_facts WHERE account_type = 'employee'
                          GROUP BY m ORDER BY count(*) DESC, m LIMIT 1""")["m"].iloc[0]


def test_new_posts_in_one_month_recompute_its_quarter_only(updates, tmp_path):
    path, calls = updates
    month = _busiest_month(path)
    copies = _employee_posts(path, month).head(5)
    copies = copies.assign(post_uid=copies["post_uid"] + ":again", text=copies["text"] + " (and again)",
                           reactions=7.0)
    insert_rows(path, "posts", copies)
    build.build(warehouse_file=path)
    [months] = calls
    assert months is not None, "only posts of one month changed: the tables are updated, not recomputed"
    assert {f"{m:%Y-%m}" for m in months} >= {month} and len(months) == 3
    assert_same_as_scratch(path, tmp_path, _COMPARED)


def test_changed_and_removed_posts_equal_a_build_from_scratch(updates, tmp_path):
    path, calls = updates
    month = _busiest_month(path)
    posts = _employee_posts(path, month)
    gone, edited = posts["post_uid"].iloc[:3].tolist(), posts["post_uid"].iloc[3:8].tolist()
    con = warehouse.connect(path)
    try:
        con.execute("DELETE FROM posts WHERE list_contains(?, post_uid)", [gone])
        # a new text (new sentiment, findings, theme) and a post moved to another month
        con.execute("UPDATE posts SET text = 'I hate this, terrible and awful', reactions = 99 "
                    "WHERE list_contains(?, post_uid)", [edited[:3]])
        con.execute("UPDATE posts SET published_at = published_at - INTERVAL 200 DAY WHERE post_uid = ?",
                    [edited[3]])
    finally:
        con.close()
    build.build(warehouse_file=path)
    assert calls and calls[-1] is not None
    assert_same_as_scratch(path, tmp_path, _COMPARED)


def test_new_posts_lifting_a_group_over_k_equal_a_build_from_scratch(updates, tmp_path):
    path, calls = updates
    k = config.get_settings().k
    hidden = query(path, """SELECT period, department FROM monthly_metrics
                            WHERE metric = 'employee_posts' AND platform = '(all)' AND department <> '(all)'
                            AND suppressed ORDER BY period, department""")
    assert not hidden.empty, "the sample has a small department-month to lift over k"
    period, department = hidden.iloc[0]
    # people of the department who posted before, and new ones
    authors = query(path, """SELECT DISTINCT author_key FROM post_facts WHERE account_type = 'employee'
                             AND department = ? AND author_key IS NOT NULL ORDER BY author_key""",
                    [department])["author_key"].tolist()
    authors = [*authors, *(f"new-author-{i}" for i in range(k + 1))]
    template = _employee_posts(path, _busiest_month(path)).iloc[0]
    stamp = pd.Timestamp(f"{period}-15 12:00", tz="UTC")
    rows = pd.DataFrame([{**template.to_dict(), "post_uid": f"{template['post_uid']}:k{i}", "author_key": author,
                          "department": department, "published_at": stamp, "text": f"Our team did great work {i}"}
                         for i, author in enumerate(authors[:k + 1])])
    insert_rows(path, "posts", rows)
    build.build(warehouse_file=path)
    after = query(path, """SELECT suppressed FROM monthly_metrics WHERE metric = 'employee_posts'
                           AND platform = '(all)' AND department = ? AND period = ?""", [department, period])
    assert not after["suppressed"].iloc[0], "the group now has k people: it is shown"
    assert calls and calls[-1] is not None, "the department is known: the tables are updated"
    assert_same_as_scratch(path, tmp_path, _COMPARED)


def test_no_change_recomputes_nothing(updates):
    path, calls = updates
    before = query(path, "SELECT * FROM monthly_metrics")
    build.build(warehouse_file=path)
    assert calls == []
    pd.testing.assert_frame_equal(query(path, "SELECT * FROM monthly_metrics"), before)


def test_a_new_version_of_the_period_tables_computes_them_whole(updates, monkeypatch):
    path, calls = updates
    before = query(path, "SELECT * FROM monthly_metrics")
    # a row a build of the earlier version would not have written: the same version keeps what it finds
    execute(path, "DELETE FROM monthly_metrics WHERE metric = 'incidents' AND value = 0")
    assert len(query(path, "SELECT * FROM monthly_metrics")) == len(before) - 1
    build.build(warehouse_file=path)
    assert calls == [] and len(query(path, "SELECT * FROM monthly_metrics")) == len(before) - 1
    monkeypatch.setattr(metrics, "TABLES_VERSION", f"{metrics.TABLES_VERSION}-next")
    build.build(warehouse_file=path)
    assert calls and all(months is None for months in calls)
    pd.testing.assert_frame_equal(query(path, "SELECT * FROM monthly_metrics"), before)


def _post(uid: str, author: str, department: str, when: str) -> dict:
    return {"post_uid": uid, "platform": "x", "account_type": "employee", "author_key": author,
            "department": department, "published_at": pd.Timestamp(when, tz="UTC"),
            "text": f"Proud of our volunteers this week, post {uid}", "reactions": 2.0}


def test_a_quarter_recomputed_alone_completes_a_lone_group_with_every_groups_zero_row(tmp_path, monkeypatch):
    # January: two departments of more than k people; April: one department of two people, alone in its
    # month, so its month gets a zero row for the other department although April has no post of it
    k = config.get_settings().k
    path = tmp_path / "wh.duckdb"
    rows = [_post(f"x:{d}{i}", f"{d}-{i}", d, "2026-01-10") for d in ("A", "B") for i in range(k + 2)]
    rows += [_post(f"x:late{i}", f"A-{i}", "A", "2026-04-10") for i in range(2)]
    insert_rows(path, "posts", pd.DataFrame(rows))
    build.build(warehouse_file=path)
    april = query(path, """SELECT department FROM monthly_metrics WHERE metric = 'employee_posts'
                           AND period = '2026-04' AND department <> '(all)'""")["department"].tolist()
    assert sorted(april) == ["A", "B"], "the lone department's month is completed with the other one"
    calls: list = []
    original = metrics._tables
    monkeypatch.setattr(metrics, "_tables", lambda *a, **kw: calls.append(kw.get("months")) or original(*a, **kw))
    insert_rows(path, "posts", pd.DataFrame([_post("x:later", "A-2", "A", "2026-05-02")]))
    build.build(warehouse_file=path)
    assert [sorted(f"{m:%Y-%m}" for m in months) for months in calls] == [["2026-04", "2026-05", "2026-06"]]
    assert_same_as_scratch(path, tmp_path, _COMPARED)
