"""The period tables' fast paths give what the slow ones give."""

from __future__ import annotations

import sys

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics import config, engagement, metrics
from analytics.periods import parse_period


def test_lower_to_ascii_lists_every_character_whose_lower_case_holds_ascii():
    found = "".join(chr(code) for code in range(128, sys.maxunicode + 1)
                    if any(ord(c) < 128 for c in chr(code).lower()))
    assert found == metrics._LOWER_TO_ASCII


def _assert_same_table(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    # floats to the last bits: DuckDB's parallel sums and pandas' means over rows in join order are not
    # bit-reproducible from one run to the next even with the same code
    floats = [c for c in slow.columns if slow[c].dtype.kind == "f"]
    pd.testing.assert_frame_equal(fast.drop(columns=floats), slow.drop(columns=floats), check_exact=True)
    pd.testing.assert_frame_equal(fast[floats], slow[floats], check_exact=False, rtol=1e-12, atol=1e-15)


def test_period_tables_equal_two_period_metrics_calls(sample_warehouse):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        monthly, quarterly = metrics.period_tables(con, k=5)
        slow_monthly = metrics.period_metrics(con, kind="month", k=5)
        slow_quarterly = metrics.period_metrics(con, kind="quarter", k=5, months=slow_monthly)
        alone = metrics.period_metrics(con, kind="quarter", k=5)
    finally:
        con.close()
    assert len(monthly) and len(quarterly) and set(quarterly["metric"]) > set(monthly["metric"])
    _assert_same_table(monthly, slow_monthly)
    _assert_same_table(quarterly, slow_quarterly)
    _assert_same_table(alone, slow_quarterly)


_HOSTILE = [
    "Give at riverbendtrust.org/donate today", "GIVE: HTTPS://RIVERBENDTRUST.ORG/DONATE", "nothing here",
    # İ lowers to "i" + a combining dot; the Kelvin sign lowers to "k"
    "riverbendtrust.org/volunteer\u0130", "riverbendtrust.org/volunteer".replace("r", "R"),
    "rivErbEndtrust.org/donat\u212a", "riverbendtrust.org/donat\u212a",
    "short https://t.co/abc only", "riverbend\u0130trust.org/donate", "", None, "ＲＩＶＥＲ full width",
    "both riverbendtrust.org/donate and riverbendtrust.org/volunteer", "riverbendtrust.org/don ate",
]


@pytest.mark.parametrize("patterns", [
    {"donate": ["riverbendtrust.org/donate"], "volunteer": ["RiverbendTrust.org/Volunteer"]},
    {"donate": ["riverbendtrust.org/donate", "k"]},
    {"donate": ["i\u0307"]},  # not ASCII: every text is checked
    {"donate": ["ｒｉｖｅｒ"]},
    {"donate": []},
])
def test_mission_posts_equal_mission_links_over_every_text(patterns, monkeypatch):
    monkeypatch.setattr(config, "get_settings", lambda: config.Settings(mission_url_patterns=patterns))
    rng = np.random.default_rng(3)
    texts = [*_HOSTILE, *("".join(rng.choice(list("rivebndtus.org/DONATEkK\u0130\u212a "), 30)) for _ in range(300))]
    con = duckdb.connect()
    con.execute("CREATE TABLE posts (post_uid VARCHAR, text VARCHAR, clicks DOUBLE, account_type VARCHAR)")
    con.execute("CREATE TABLE post_facts (post_uid VARCHAR, account_type VARCHAR, month DATE)")
    # post_facts copies each post's account type (the employee posts' texts link too: they must be left out)
    frame = pd.DataFrame({"post_uid": [f"p{i}" for i in range(len(texts))], "text": texts,
                          "clicks": np.arange(len(texts), dtype=float),
                          "account_type": np.where(np.arange(len(texts)) % 7 == 3, "employee", "organization")})
    facts = frame[["post_uid", "account_type"]].assign(month=pd.Timestamp("2026-01-01"))
    con.register("_posts", frame)
    con.register("_facts", facts)
    con.execute("INSERT INTO posts SELECT * FROM _posts")
    con.execute("INSERT INTO post_facts SELECT * FROM _facts")
    organisation = facts["account_type"] == "organization"
    links = engagement.mission_links(frame.loc[organisation, "text"], patterns=patterns)
    expected = set(frame.loc[sorted(set(links.loc[links["page"] != engagement.SHORT_LINK_PAGE, "text_index"])),
                             "post_uid"])
    found = metrics._mission_posts(con)
    assert list(found.columns) == ["post_uid", "month", "clicks"]
    assert set(found["post_uid"]) == expected and len(found) == len(expected)
    if patterns == {"donate": ["riverbendtrust.org/donate", "k"]}:
        assert len(expected) > 20  # the random texts do link: the comparison is not vacuous


def _pieces(seed: int) -> pd.DataFrame:
    """The rows of several people-grouped pieces (one per metric) and their totals: rates and counts by
    department and by platform, small groups, groups missing in some periods and a period of one group."""
    rng = np.random.default_rng(seed)
    rows = []
    for metric, grouping in (("adherence_rate", "department"), ("mission_story_share", "platform"),
                             ("employee_posts", "department")):
        for period in ("2026-01", "2026-02", "2026-03"):
            groups = ["A", "B", "C", "D"] if grouping == "department" else ["x", "linkedin", "mastodon"]
            present = groups[:1] if period == "2026-02" else [g for g in groups if rng.random() < 0.8]
            for group in present:
                people = float(rng.choice([1, 2, 3, 4, 6, 9, 20]))
                n = people * 3
                successes = float(rng.integers(0, n + 1)) if metrics.METRICS[metric].kind == "rate" else np.nan
                rows.append({"period": period, "department": group if grouping == "department" else metrics.ALL,
                             "platform": group if grouping == "platform" else metrics.ALL, "metric": metric,
                             "value": 0.5, "n": n, "n_people": people, "successes": successes,
                             "suppressed": False, "_pending": True})
    totals = pd.DataFrame(rows).groupby(["metric", "period"], as_index=False)[["n", "n_people"]].sum()
    totals = totals.assign(department=metrics.ALL, platform=metrics.ALL, value=1.0, suppressed=False,
                           _pending=False)
    return pd.concat([pd.DataFrame(rows), totals], ignore_index=True).reindex(
        columns=[*metrics._OUTPUT, "_pending"])


@pytest.mark.parametrize("seed", range(6))
def test_pieces_are_suppressed_together_as_each_alone(seed):
    table = _pieces(seed)
    seen: dict = {}
    together = metrics._suppress(table, 5, None, seen=seen)
    assert together["suppressed"].any() and together["suppressed"].sum() < len(together) - 1
    # the exposed single groups got zero rows for the piece's other groups
    assert len(together) > len(table)
    key = ["metric", "department", "platform", "period"]
    alone = []
    for metric in table["metric"].unique():
        piece = table[table["metric"] == metric]
        one: dict = {}
        alone.append(metrics._suppress(piece, 5, None, seen=one))
        assert one == {line: pairs for line, pairs in seen.items() if line[0] == metric}
    pd.testing.assert_frame_equal(together.sort_values(key, ignore_index=True),
                                  pd.concat(alone).sort_values(key, ignore_index=True))


def test_organisation_figures_equal_a_groupby_over_the_posts(sample_warehouse):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        posts = con.execute("SELECT month, platform, sentiment_status, compound, engagement, impressions, reach "
                            "FROM post_facts WHERE account_type = 'organization'").df()
        _, quarterly = metrics.period_tables(con, k=5)
    finally:
        con.close()
    months = pd.to_datetime(posts["month"])
    posts["period"] = months.dt.year.astype(str) + "-Q" + months.dt.quarter.astype(str)
    published = quarterly.set_index(["metric", "period", "platform"])
    rates = {"engagement_rate": "impressions", "engagement_rate_reach": "reach"}
    compared = set()  # (metric, period, platform)
    unscored = baseless = 0
    for (period, platform), group in posts.groupby(["period", "platform"]):
        scored = group.loc[group["sentiment_status"] == "scored", "compound"]
        row = published.loc[("organisation_sentiment", period, platform)]
        assert row["n"] == len(scored) and row["value"] == pytest.approx(scored.mean(), rel=1e-12)
        assert row["sd"] == pytest.approx(scored.std(), rel=1e-12)
        compared.add(("organisation_sentiment", period, platform))
        unscored += len(scored) < len(group)
        for metric, base in rates.items():
            rows = group[group[base] > 0]
            baseless += rows.empty
            if len(rows) < 2:
                continue
            y, x = rows["engagement"].to_numpy(), rows[base].to_numpy()
            ratio = y.sum() / x.sum()
            half = 1.96 * np.sqrt(((y - ratio * x) ** 2).sum() / (len(x) - 1) * len(x)) / x.sum()
            row = published.loc[(metric, period, platform)]
            assert row["n"] == len(rows) and row["value"] == pytest.approx(ratio, rel=1e-12)
            assert (row["ci_low"], row["ci_high"]) == pytest.approx((ratio - half, ratio + half), rel=1e-9)
            compared.add((metric, period, platform))
    # every figure per platform was compared and no other is published (a platform that does not report a
    # rate's base has none; the sample has no rate over a single post)
    by_platform = quarterly[quarterly["metric"].isin(["organisation_sentiment", *rates])
                            & (quarterly["platform"] != metrics.ALL)]
    assert compared == set(by_platform[["metric", "period", "platform"]].itertuples(index=False, name=None))
    # over several quarters, each rate over several platforms; the filters dropped posts: unscored ones, and
    # the posts of platforms without a rate's base
    assert len({period for _metric, period, _platform in compared}) > 1
    assert all(len({p for m, _period, p in compared if m == metric}) > 1 for metric in rates)
    assert unscored > 0 and baseless > 0


@pytest.mark.parametrize("table", ["post_facts", "posts"])
def test_comments_join_the_organisation_posts_alone_unless_one_names_another(table):
    con = duckdb.connect()
    con.execute(f"CREATE TABLE {table} (post_uid VARCHAR, account_type VARCHAR, platform VARCHAR)")
    con.execute(f"""INSERT INTO {table} VALUES ('o1', 'organization', 'x'), ('o2', 'organization', 'linkedin'),
                    ('e1', 'employee', 'mastodon'), ('u1', NULL, 'bluesky')""")
    con.execute("CREATE TABLE audience_comments (comment_uid VARCHAR, post_uid VARCHAR)")
    con.execute("INSERT INTO audience_comments VALUES ('c1', 'o1'), ('c2', 'o2'), ('c3', NULL), ('c4', 'o1')")

    def platforms(source: str) -> list:
        return con.execute(f"SELECT c.comment_uid, f.platform FROM audience_comments c LEFT JOIN {source} f "
                           "USING (post_uid) ORDER BY c.comment_uid").fetchall()

    # every comment on an organisation post (or on none): the organisation's posts suffice
    assert metrics._commented(con, table) != table
    assert platforms(metrics._commented(con, table)) == platforms(table)
    for other in ("e1", "u1", "gone"):
        con.execute("UPDATE audience_comments SET post_uid = ? WHERE comment_uid = 'c4'", [other])
        # a comment on another post (or on a post not there) is joined with every row
        assert metrics._commented(con, table) == table
        if other != "gone":
            assert platforms(f"(SELECT * FROM {table} WHERE account_type = 'organization')") != platforms(table)


def test_training_coverage_counts_each_period_end_roster(sample_warehouse):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        monthly, quarterly = metrics.period_tables(con, k=5)
        roster = con.execute("SELECT employee_key, department, started_on, left_on FROM employees").df()
        done = con.execute("SELECT employee_key, min(completed_at) AS completed_at FROM trainings WHERE module = ? "
                           "GROUP BY employee_key", [config.get_settings().training_module]).df()
    finally:
        con.close()
    first = dict(zip(done["employee_key"], done["completed_at"], strict=True))
    completed = pd.to_datetime(roster["employee_key"].map(first), utc=True)
    left = partly = later = shown = 0
    for table in (monthly, quarterly):
        rows = table[(table["metric"] == "training_coverage") & ~table["suppressed"]]
        shown += len(rows)
        for row in rows.itertuples():
            end = pd.Timestamp(parse_period(row.period).end) - pd.Timedelta(seconds=1)
            active = (pd.to_datetime(roster["started_on"]) <= end) & (
                roster["left_on"].isna() | (pd.to_datetime(roster["left_on"]) >= end))
            if row.department != metrics.ALL:
                active &= roster["department"] == row.department
            trained = active & (completed <= end.tz_localize("UTC")).to_numpy()
            assert (row.n, row.successes, row.n_people) == (active.sum(), trained.sum(), active.sum())
            partly += int(0 < row.successes < row.n)
            # someone on the roster then who trained only after the period: the completion date's cut-off matters
            later += int((active & (completed > end.tz_localize("UTC")).to_numpy()).any())
            if row.department == metrics.ALL:
                left += int((roster["left_on"].notna() & ~active & (pd.to_datetime(roster["started_on"]) <= end)).any())
    # rows shown, and among them periods with leavers, with some but not all trained, and with people
    # trained only later: the counts are not vacuous
    assert shown > 0 and left > 0 and partly > 0 and later > 0


@pytest.fixture
def t_cache(tmp_path, monkeypatch):
    """An empty user cache for the t-quantile table of the mean metrics' CIs."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    metrics._t_table.cache_clear()
    yield tmp_path / "policy-pulse"
    metrics._t_table.cache_clear()


def test_t_quantiles_equal_scipys_to_the_bit_from_the_table_and_beyond_it(t_cache):
    from scipy import special

    first = np.array([1.0, 2.0, 29.0, 1000.0])
    np.testing.assert_array_equal(metrics._t975(first), special.stdtrit(first, 0.975))
    (folder,) = t_cache.glob("t975-*")
    assert len(metrics._t_table(folder)) == 2048  # twice the largest df, rounded up to a power of two
    # from the table; from scipy when not whole, missing or beyond what the table may hold, the table kept;
    # from scipy when beyond the table, which then holds twice the largest
    for df, size in ((np.arange(1.0, 2049), 2048), (np.array([2.5, 7.0]), 2048), (np.array([np.nan, 3.0]), 2048),
                     (np.array([5e6, 3.0]), 2048), (np.array([5000.0, 4.0]), 16384)):
        np.testing.assert_array_equal(metrics._t975(df), special.stdtrit(df, 0.975))
        assert len(metrics._t_table(folder)) == size, df
    assert metrics._t975(np.zeros(0)).shape == (0,)


def test_a_process_with_the_table_does_not_import_scipy(t_cache):
    import subprocess

    metrics._t975(np.array([200.0]))
    code = ("import sys, numpy as np; from analytics import metrics; metrics._t975(np.arange(1.0, 300));"
            "assert not any(m.split('.')[0] == 'scipy' for m in sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_damaged_or_foreign_table_is_not_read(t_cache, monkeypatch):
    from scipy import special

    metrics._t975(np.array([10.0]))
    (folder,) = t_cache.glob("t975-*")
    table = folder / "t975.npy"
    table.write_bytes(table.read_bytes()[:-8] + np.float64(1.0).tobytes())
    metrics._t_table.cache_clear()
    df = np.arange(1.0, 21)
    np.testing.assert_array_equal(metrics._t975(df), special.stdtrit(df, 0.975))
    np.testing.assert_array_equal(metrics._t_table(folder), special.stdtrit(np.arange(1.0, 65), 0.975))
    # another scipy has a table of its own, which supersedes this one's
    monkeypatch.setattr(metrics, "_scipy_digest", lambda: "another")
    metrics._t975(np.array([3.0]))
    assert [path.name for path in t_cache.iterdir()] == [f"t975-another-{metrics._T_TABLE_FORMAT}"]


def test_a_scipy_that_cannot_be_told_apart_computes_every_quantile(t_cache, monkeypatch):
    from scipy import special

    monkeypatch.setattr(metrics, "_scipy_digest", lambda: None)
    df = np.array([3.0, 40.0])
    np.testing.assert_array_equal(metrics._t975(df), special.stdtrit(df, 0.975))
    assert not t_cache.exists(), "no table kept under no key"


def test_an_unwritable_cache_only_costs_time(tmp_path, monkeypatch):
    from scipy import special

    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    metrics._t_table.cache_clear()
    np.testing.assert_array_equal(metrics._t975(np.array([4.0, 8.0])), special.stdtrit([4.0, 8.0], 0.975))


def test_a_month_the_incident_log_covers_without_an_incident_counts_zero(sample_warehouse):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        logged = con.execute("SELECT strftime(month, '%Y-%m') AS period, count(*) AS n FROM incident_timings "
                             "GROUP BY ALL").df().set_index("period")["n"]
        monthly, quarterly = metrics.period_tables(con, k=5)
    finally:
        con.close()
    span = pd.period_range(min(logged.index), max(logged.index), freq="M").strftime("%Y-%m")
    expected = logged.reindex(span, fill_value=0)
    assert (expected == 0).any()  # the sample has a quiet month inside its log
    published = monthly[(monthly["metric"] == "incidents") & (monthly["department"] == metrics.ALL)]
    assert published.set_index("period")["value"].astype(int).to_dict() == expected.to_dict()
    # a month without incidents has no median time to resolve (nothing resolved): no row, not a zero
    medians = monthly[(monthly["metric"] == "median_hours_to_resolve") & (monthly["department"] == metrics.ALL)]
    assert set(expected.index[expected == 0]).isdisjoint(medians["period"])
    quarters = quarterly[(quarterly["metric"] == "incidents") & (quarterly["department"] == metrics.ALL)]
    assert quarters["value"].sum() == expected.sum()


def test_the_organisation_s_median_time_to_resolve_rests_on_k_resolved_incidents(sample_warehouse):
    """A median of fewer than k incidents is one incident's time (or lies between two)."""
    k = 5
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        resolved = con.execute("SELECT strftime(month, '%Y-%m') AS period, hours_to_resolve FROM incident_timings "
                               "WHERE hours_to_resolve IS NOT NULL").df()
        monthly, _ = metrics.period_tables(con, k=k)
    finally:
        con.close()
    counts = resolved.groupby("period").size()
    assert ((counts > 0) & (counts < k)).any() and (counts >= k).any(), "the sample should have both kinds of month"
    medians = monthly[(monthly["metric"] == "median_hours_to_resolve") & (monthly["department"] == metrics.ALL)]
    medians = medians.set_index("period")
    for period, n in counts.items():
        if n < k:
            assert medians.loc[period, "suppressed"] and pd.isna(medians.loc[period, "value"]), period
            assert pd.isna(medians.loc[period, "n"]), period
        else:
            assert not medians.loc[period, "suppressed"], period
            expected = resolved.loc[resolved["period"] == period, "hours_to_resolve"].median()
            assert medians.loc[period, "value"] == pytest.approx(expected), period


def test_the_welch_p_value_is_scipy_s_and_the_rates_p_value_the_normal_s():
    from scipy import stats

    rng = np.random.default_rng(7)
    groups = [(rng.normal(0, 2), rng.uniform(0, 3), int(rng.integers(1, 60)),
               rng.normal(0, 2), rng.uniform(0, 3), int(rng.integers(1, 60))) for _ in range(300)]
    # one-answer groups, no spread on one or both sides, equal means, an empty group
    groups += [(1.0, 0.5, 1, 2.0, 0.7, 9), (1.0, 0.0, 5, 2.0, 0.0, 7), (1.0, 0.0, 5, 1.0, 0.0, 7),
               (1.0, 0.0, 5, 2.0, 0.4, 7), (3.0, 1.0, 10, 3.0, 1.0, 10), (1.0, 1.0, 0, 2.0, 1.0, 5),
               (1.0, np.nan, 5, 2.0, 1.0, 5)]
    for mean1, sd1, n1, mean2, sd2, n2 in groups:
        with np.errstate(all="ignore"):
            expected = stats.ttest_ind_from_stats(mean1, sd1, n1, mean2, sd2, n2, equal_var=False).pvalue
        ours = metrics._p_value("mean", {"value": mean1, "sd": sd1, "n": n1}, {"value": mean2, "sd": sd2, "n": n2})
        assert ours == expected or (np.isnan(ours) and np.isnan(expected)), (mean1, sd1, n1, mean2, sd2, n2)
    for x1, n1, x2, n2 in [(30, 100, 45, 100), (0, 10, 10, 10), (5, 50, 5, 50), (1, 3, 2, 4)]:
        pooled = (x1 + x2) / (n1 + n2)
        z = abs(x1 / n1 - x2 / n2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        assert metrics._p_value("rate", {"n": n1, "successes": x1}, {"n": n2, "successes": x2}) == \
            2 * stats.norm.sf(z)
