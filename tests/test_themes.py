"""Content themes: the taxonomy's rules against a labelled evaluation set, the themes planted in the sample,
incremental theming at build time, and the k-safe mission-story share."""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
from employee_posts import hostile_posts_warehouse
from statsmodels.stats.proportion import proportion_confint

from analytics import build, config, themes, warehouse
from analytics.periods import local_months, period_labels

EVAL = config.PROJECT_ROOT / "tests" / "data" / "themes_eval.csv"
#: The sample generator's theme ids -> the taxonomy's.
SAMPLE_THEMES = {"mission_story": "impact_story", "personal": "other"}


@pytest.fixture(scope="module")
def labelled() -> pd.DataFrame:
    return pd.read_csv(EVAL, keep_default_na=False)


def test_the_evaluation_set_has_twenty_positives_per_theme(labelled):
    counts = labelled["theme"].value_counts()
    assert set(counts.index) == set(themes.load_taxonomy().ids)
    assert counts.min() >= 20


def test_every_theme_is_precise_and_finds_most_of_its_posts(labelled):
    evaluation = themes.evaluate_themes(labelled).set_index("theme")
    named = evaluation.drop(index="other")
    assert (named["precision"] >= 0.9).all(), named
    assert (named["recall"] >= 0.8).all(), named
    # unseen phrasings fall back to "other" rather than to a wrong theme
    assert evaluation.loc["other", "recall"] == 1.0


def test_evaluation_counts_add_up(labelled):
    evaluation = themes.evaluate_themes(labelled)
    assert evaluation["n_positive"].sum() == len(labelled)
    assert (evaluation["tp"] + evaluation["fn"] == evaluation["n_positive"]).all()
    # one primary theme per text: every false positive of one theme is a false negative of another
    assert evaluation["fp"].sum() == evaluation["fn"].sum()


def test_ties_go_to_the_theme_listed_first():
    # one cue each: "appeal" (fundraising_ask) and "milestone" (achievement); fundraising_ask is listed first
    assert themes.classify_themes(["Milestone for the appeal"])["theme"].tolist() == ["fundraising_ask"]
    cues = themes.theme_cues(["Milestone for the appeal"]).set_index("theme")
    assert cues.loc["fundraising_ask", "score"] == cues.loc["achievement", "score"]


def test_a_link_outweighs_a_keyword_and_missing_text_is_other():
    out = themes.classify_themes(pd.Series(["A milestone! Give at example.org/donate", None, ""], index=[7, 8, 9]))
    assert out["text_index"].tolist() == [7, 8, 9]
    assert out["theme"].tolist() == ["fundraising_ask", "other", "other"]


def test_evaluate_themes_rejects_unknown_labels():
    with pytest.raises(ValueError, match="not theme ids"):
        themes.evaluate_themes(pd.DataFrame({"text": ["x"], "theme": ["gossip"]}))


def test_a_broken_taxonomy_says_what_is_wrong(tmp_path):
    path = tmp_path / "themes.yml"
    path.write_text("themes:\n  - id: a\n    regex: ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="does not compile"):
        themes.load_taxonomy(path)
    path.write_text("themes:\n  - id: a\n    keywords: [x]\nmission_story_themes: [b]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not theme ids"):
        themes.load_taxonomy(path)


@pytest.fixture(scope="module")
def themed(sample_warehouse) -> pd.DataFrame:
    with warehouse.read_only(sample_warehouse, snapshot=False) as con:
        return con.execute("SELECT p.account_type, t.theme, t.text_theme FROM posts p JOIN post_themes t "
                           "USING (post_uid)").df()


def test_build_themes_every_post(sample_warehouse, themed):
    with warehouse.read_only(sample_warehouse, snapshot=False) as con:
        posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
    assert len(themed) == posts
    assert set(themed["theme"]) <= set(themes.load_taxonomy().ids)


@pytest.mark.parametrize("population,key", [("employee", "themes"), ("organization", "org_themes")])
def test_the_planted_theme_counts_are_recovered(themed, sample_truth, population, key):
    planted = {SAMPLE_THEMES.get(t, t): n for t, n in sample_truth[key].items()}
    found = themed.loc[themed["account_type"] == population, "theme"].value_counts()
    for theme, n in planted.items():
        if theme == "other":
            # posts in other languages are "other" too (the taxonomy is English)
            upper = n + sample_truth["counts"]["non_english_posts"]
            assert 0.9 * n <= found.get(theme, 0) <= 1.1 * upper, (theme, n, found.get(theme, 0))
        else:
            assert abs(found.get(theme, 0) - n) <= 0.1 * n, (theme, n, found.get(theme, 0))


def test_shares_of_organisation_posts_take_the_shared_posts_theme(sample_warehouse):
    with warehouse.read_only(sample_warehouse, snapshot=False) as con:
        pairs = con.execute("""SELECT e.theme, o.theme AS org_theme FROM amplifications a
                               JOIN post_themes e ON e.post_uid = a.post_uid
                               JOIN post_themes o ON o.post_uid = a.org_post_uid""").df()
    assert len(pairs) > 0
    assert (pairs["theme"] == pairs["org_theme"]).all()


def test_a_second_build_themes_only_new_or_changed_posts(sample_warehouse, tmp_path):
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, target)
    con = duckdb.connect(str(target))
    try:
        con.execute("UPDATE posts SET text = 'Volunteers needed! example.org/volunteer' WHERE post_uid = "
                    "(SELECT min(post_uid) FROM posts WHERE account_type = 'employee')")
    finally:
        con.close()
    summary = build.build(warehouse_file=target)
    assert summary.steps["posts newly themed"] == 1
    con = duckdb.connect(str(target), read_only=True)
    try:
        theme = con.execute("SELECT text_theme FROM post_themes WHERE post_uid = (SELECT min(post_uid) FROM posts "
                            "WHERE account_type = 'employee')").fetchone()[0]
    finally:
        con.close()
    assert theme == "volunteer_call"


def test_mission_story_share_is_k_safe_and_shows_what_mission_posts_earn(sample_warehouse):
    k = config.get_settings().k
    table = themes.mission_story_share(warehouse_file=sample_warehouse, by=("quarter", "department"))
    shown = table[~table["suppressed"]]
    assert (shown["n_people"] >= k).all()
    assert table["suppressed"].any(), "the four-person department must be hidden"
    hidden = table[table["suppressed"]]
    assert hidden[["n_posts", "mission_story_share", "engagement_per_mission_post"]].isna().all().all()
    # the generator gives mission stories 1.4x the engagement of an average post
    total = themes.mission_story_share(warehouse_file=sample_warehouse, by=()).iloc[0]
    assert total["ci_low"] <= total["mission_story_share"] <= total["ci_high"]
    assert total["engagement_ratio"] > 1.2


def test_mission_story_share_matches_a_direct_count(sample_warehouse):
    with warehouse.read_only(sample_warehouse, snapshot=False) as con:
        direct = con.execute("""SELECT avg((t.theme = 'impact_story')::INT) FROM post_facts f
                                JOIN post_themes t USING (post_uid) WHERE f.account_type = 'employee'""").fetchone()[0]
        table = themes.mission_story_share(con, by=())
    assert table["mission_story_share"].iloc[0] == pytest.approx(direct)


def _clustered_posts(rng: np.random.Generator, *, replicates: int, ratio: float) -> pd.DataFrame:
    """Replicates (one month each) of 40 authors whose posts draw engagement at their own level (a heavy
    author effect) and tell mission stories at their own rate; a mission story draws ``ratio`` times more."""
    frames = []
    for replicate in range(replicates):
        level, share = rng.gamma(4, 0.25, 40), rng.beta(1, 3, 40)
        author = np.repeat(np.arange(40), rng.integers(2, 20, 40))
        mission = rng.random(author.size) < share[author]
        frames.append(pd.DataFrame({
            "post_uid": [f"{replicate}:{i}" for i in range(author.size)], "author_key": author, "department": "X",
            "platform": "x", "month": pd.Timestamp("1900-01-01") + pd.DateOffset(months=replicate),
            "engagement": rng.poisson(6 * level[author] * np.where(mission, ratio, 1.0)),
            "theme": np.where(mission, "impact_story", "other")}))
    return pd.concat(frames, ignore_index=True)


def test_the_engagement_ratio_interval_covers_a_planted_ratio_95_percent_of_the_time():
    """The same people tell mission stories at different rates and draw different engagement: an interval
    treating posts as independent (the textbook delta method) covered the planted ratio 75% of the time here."""
    posts = _clustered_posts(np.random.default_rng(11), replicates=400, ratio=1.5)
    table = themes.mission_story_share({"posts": posts}, by=("month",))
    assert len(table) == 400
    covered = (table["ratio_ci_low"] <= 1.5) & (table["ratio_ci_high"] >= 1.5)
    # 95 % give or take three binomial standard errors of 400 intervals (sqrt(0.95 * 0.05 / 400) = 0.011)
    assert 0.92 <= covered.mean() <= 0.98
    assert ((table["ratio_ci_low"] < table["engagement_ratio"]) & (table["engagement_ratio"] < table["ratio_ci_high"])
            ).all()
    np.testing.assert_allclose(table["engagement_ratio"],
                               table["engagement_per_mission_post"] / table["engagement_per_other_post"])


def test_the_engagement_ratio_interval_agrees_with_a_bootstrap_over_authors(sample_warehouse):
    with warehouse.read_only(sample_warehouse) as con:
        posts = con.execute(themes._EMPLOYEE_POSTS_SQL).df()
    row = themes.mission_story_share({"posts": posts}, by=()).iloc[0]
    mission = posts["theme"].isin(themes.load_taxonomy().mission_story_themes)
    engagement = posts["engagement"].astype(float)
    sums = pd.DataFrame({"author": posts["author_key"], "s1": engagement.where(mission, 0.0), "n1": mission,
                         "s0": engagement.where(~mission, 0.0), "n0": ~mission}).groupby("author").sum()
    rng = np.random.default_rng(5)
    weights = rng.multinomial(len(sums), np.full(len(sums), 1 / len(sums)), size=4000)
    s1, n1, s0, n0 = (weights @ sums.to_numpy(float)).T
    low, high = np.percentile((s1 / n1) / (s0 / n0), [2.5, 97.5])
    assert row["ratio_ci_low"] == pytest.approx(low, rel=0.01)
    assert row["ratio_ci_high"] == pytest.approx(high, rel=0.01)


def test_department_by_platform_is_refused():
    with pytest.raises(ValueError, match="never published"):
        themes.mission_story_share({"posts": pd.DataFrame()}, by=("department", "platform"))


STORY_COLUMNS = ["n_posts", "n_people", "n_mission", "mission_story_share", "ci_low", "ci_high",
                 "engagement_per_mission_post", "engagement_per_other_post", "engagement_ratio", "ratio_ci_low",
                 "ratio_ci_high", "suppressed"]


def _posts(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["post_uid", "author_key", "department", "platform", "month", "engagement",
                                       "theme"])


#: x: two mission stories (10, 6) among five posts by a1, a2 and an unknown author, one without engagement or
#: theme; y: one author's two other posts (1, 3).
HAND_POSTS = _posts([
    ("p1", "a1", "Programs", "x", "2026-01", 10, "impact_story"),
    ("p2", "a1", "Programs", "x", "2026-01", 2, "other"),
    ("p3", "a2", "Programs", "x", "2026-02", 6.0, "impact_story"),
    ("p4", "a2", "Programs", "x", "2026-02", None, None),
    ("p5", None, "Programs", "x", "2026-02", 4, "achievement"),
    ("p6", "a3", "Comms", "y", "2026-03", 1, "other"),
    ("p7", "a3", "Comms", "y", "2026-03", 3, "event"),
])


def test_the_share_and_the_engagement_are_counted_as_by_hand():
    before = HAND_POSTS.copy()
    table = themes.mission_story_share({"posts": HAND_POSTS}, by=("platform",), k=3)
    pd.testing.assert_frame_equal(HAND_POSTS, before)  # the input is left alone
    assert list(table.columns) == ["platform", *STORY_COLUMNS]
    x, y = table.set_index("platform").loc["x"], table.set_index("platform").loc["y"]
    # an unknown author is no person; a post without a theme is no mission story; one without engagement
    # is left out of the means
    assert (x["n_posts"], x["n_people"], x["n_mission"]) == (5, 2, 2)
    assert x["mission_story_share"] == pytest.approx(2 / 5)
    assert (x["engagement_per_mission_post"], x["engagement_per_other_post"]) == ((10 + 6) / 2, (2 + 4) / 2)
    assert x["engagement_ratio"] == pytest.approx(8 / 3)
    assert (y["n_posts"], y["n_people"], y["n_mission"], y["mission_story_share"]) == (2, 1, 0, 0.0)
    assert y["engagement_per_other_post"] == 2.0
    assert y[["engagement_per_mission_post", "engagement_ratio", "ratio_ci_low", "ratio_ci_high"]].isna().all()
    low, high = proportion_confint(table["n_mission"], table["n_posts"], method="wilson")
    np.testing.assert_allclose(table["ci_low"], low, rtol=1e-12)
    np.testing.assert_allclose(table["ci_high"], high, rtol=1e-12)
    assert not table["suppressed"].any()


def test_the_total_is_one_row_of_every_post():
    total = themes.mission_story_share({"posts": HAND_POSTS}, by=())
    assert list(total.columns) == STORY_COLUMNS and len(total) == 1
    row = total.iloc[0]
    assert (row["n_posts"], row["n_people"], row["n_mission"]) == (7, 3, 2)
    assert row["engagement_per_mission_post"] == 8.0
    assert row["engagement_per_other_post"] == pytest.approx((2 + 4 + 1 + 3) / 4)
    assert row["engagement_ratio"] == pytest.approx(8 / 2.5)
    assert row[["ratio_ci_low", "ratio_ci_high"]].notna().all()  # three authors: an interval (its values: below)


def test_the_total_adds_up_the_groups_of_a_warehouse():
    con = hostile_posts_warehouse(1)
    total = themes.mission_story_share(con, by=()).iloc[0]
    platforms = themes.mission_story_share(con, by=("platform",))
    for count in ("n_posts", "n_mission"):
        assert total[count] == platforms[count].sum()
    direct = con.execute("""SELECT count(DISTINCT f.author_key),
                                   avg(f.engagement) FILTER (WHERE t.theme = 'impact_story')
                            FROM post_facts f JOIN post_themes t USING (post_uid)
                            WHERE f.account_type = 'employee'""").fetchone()
    assert total["n_people"] == direct[0]
    assert total["engagement_per_mission_post"] == pytest.approx(direct[1])


def test_posts_without_engagement_leave_the_total_without_a_ratio():
    posts = HAND_POSTS.assign(engagement=np.nan)
    row = themes.mission_story_share({"posts": posts}, by=()).iloc[0]
    assert (row["n_posts"], row["n_mission"]) == (7, 2)
    assert row[["engagement_per_mission_post", "engagement_ratio", "ratio_ci_low", "ratio_ci_high"]].isna().all()


def _department(name: str, people: int, missions: int) -> list[tuple]:
    """``people`` authors of ``name`` with one other post each, the first ``missions`` of them a mission story too."""
    rows = []
    for i in range(people):
        rows.append((f"{name}{i}o", f"{name}{i}", name, "x", "2026-01", 5, "other"))
        if i < missions:
            rows.append((f"{name}{i}m", f"{name}{i}", name, "x", "2026-01", 9, "impact_story"))
    return rows


@pytest.mark.parametrize("missions,hidden", [
    # the two-person department, and the next smallest so the hidden cells hold enough people
    ((2, 3, 1), {"Small", "Big1"}),
    # ... and a third when those two tell no mission story (their hidden total would pin both to zero)
    ((0, 3, 0), {"Small", "Big1", "Big2"}),
])
def test_small_departments_and_their_complementary_cells_are_hidden(missions, hidden):
    posts = _posts([*_department("Big1", 6, missions[0]), *_department("Big2", 7, missions[1]),
                    *_department("Small", 2, missions[2])])
    table = themes.mission_story_share({"posts": posts}, by=("department",), k=5).set_index("department")
    assert set(table.index[table["suppressed"]]) == hidden
    shown = table[~table["suppressed"]]
    assert shown[STORY_COLUMNS[:-1]].notna().all().all()
    assert table.loc[sorted(hidden), STORY_COLUMNS[:-1]].isna().all().all()
    if "Big2" not in hidden:
        assert shown.loc["Big2", ["n_posts", "n_people", "n_mission"]].tolist() == [7 + missions[1], 7, missions[1]]


def test_months_and_quarters_are_the_local_ones_across_summer_time():
    # Europe/London: 23:00 UTC on 31 March 2025 is midnight of 1 April (summer time), 23:00 UTC on 30 September
    # is midnight of 1 October, and in winter UTC is local time
    published = pd.Series(pd.to_datetime(["2025-03-31 22:59:59", "2025-03-31 23:00:00", "2025-09-30 23:00:00",
                                          "2025-12-31 23:59:59", "2026-01-01 00:00:00"], utc=True))
    posts = _posts([(f"p{i}", f"a{i}", "Programs", "x", None, 1, "other") for i in range(len(published))])
    posts["month"] = local_months(published, "Europe/London")
    quarters = themes.mission_story_share({"posts": posts}, by="quarter")
    assert quarters[["quarter", "n_posts"]].values.tolist() == [["2025-Q1", 1], ["2025-Q2", 1], ["2025-Q4", 2],
                                                                ["2026-Q1", 1]]
    months = themes.mission_story_share({"posts": posts.assign(month=posts["month"].dt.strftime("%Y-%m"))},
                                        by="month")
    assert months["month"].tolist() == ["2025-03", "2025-04", "2025-10", "2025-12", "2026-01"]


@pytest.mark.parametrize("kind", ["month", "quarter"])
def test_a_warehouse_counts_each_post_in_its_local_period_whatever_the_session_time_zone(kind):
    con = hostile_posts_warehouse(0)
    published = con.execute("""SELECT f.published_at FROM post_facts f JOIN post_themes t USING (post_uid)
                               WHERE f.account_type = 'employee'""").df()["published_at"]
    expected = period_labels(local_months(published, config.get_settings().timezone), kind).value_counts()
    con.execute("SET TimeZone = 'Pacific/Auckland'")
    table = themes.mission_story_share(con, by=(kind,))
    assert table.set_index(kind)["n_posts"].to_dict() == expected.to_dict()
    assert table[kind].tolist() == sorted(expected.index)


def test_no_posts_give_an_empty_table_with_the_columns():
    empty = _posts([])
    for by in [(), ("quarter", "department")]:
        table = themes.mission_story_share({"posts": empty}, by=by)
        assert table.empty and list(table.columns) == [*by, *STORY_COLUMNS]
    con = hostile_posts_warehouse(0)
    con.execute("DELETE FROM post_themes")
    pd.testing.assert_frame_equal(themes.mission_story_share(con, by="quarter"),
                                  themes.mission_story_share({"posts": empty}, by="quarter"))


def test_frames_that_are_not_employee_posts_are_refused():
    with pytest.raises(ValueError, match=r"lacks columns \['theme'\]"):
        themes.mission_story_share({"posts": HAND_POSTS.drop(columns="theme")}, by=())
    with pytest.raises(ValueError, match="lack"):
        themes.mission_story_share({"amplifications": HAND_POSTS}, by=())
    stamps = HAND_POSTS.assign(month=pd.Timestamp("2026-01-01", tz="UTC"))
    with pytest.raises(ValueError, match="local calendar month"):
        themes.mission_story_share({"posts": stamps}, by="month")


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("by", [("quarter", "department"), ("month", "platform"), ("department",), ("quarter",), ()])
def test_frames_give_what_the_warehouse_they_come_from_gives(seed, by):
    con = hostile_posts_warehouse(seed)
    expected = themes.mission_story_share(con, by=by, k=3)
    assert expected["engagement_ratio"].notna().any()
    if "department" in by:
        assert expected["suppressed"].any() and not expected["suppressed"].all()
    posts = con.execute(themes._EMPLOYEE_POSTS_SQL).df()
    pd.testing.assert_frame_equal(themes.mission_story_share({"posts": posts}, by=by, k=3), expected,
                                  check_exact=True)


def test_frames_give_what_the_sample_warehouse_gives(sample_warehouse):
    with warehouse.read_only(sample_warehouse) as con:
        posts = con.execute(themes._EMPLOYEE_POSTS_SQL).df()
    pd.testing.assert_frame_equal(themes.mission_story_share({"posts": posts}, by=("quarter", "department")),
                                  themes.mission_story_share(warehouse_file=sample_warehouse,
                                                             by=("quarter", "department")),
                                  check_exact=True)


def test_the_engagement_ratio_interval_is_a_cluster_robust_poisson_regression():
    """The ratio of means is exp of a Poisson regression's mission coefficient; its cluster-robust (sandwich)
    variance, grouped by author, is the linearised variance of the ratio."""
    import statsmodels.api as sm
    from scipy import stats

    posts = _clustered_posts(np.random.default_rng(3), replicates=3, ratio=1.5)
    # a post without engagement is in no mean
    posts = posts.assign(engagement=posts["engagement"].astype(float).where(np.arange(len(posts)) % 17 > 0))
    table = themes.mission_story_share({"posts": posts}, by=("month",))
    total = themes.mission_story_share({"posts": posts}, by=())
    for (_, group), (_, row) in zip([*posts.groupby("month"), (None, posts)], [*table.iterrows(), *total.iterrows()],
                                    strict=True):
        engaged = group.dropna(subset=["engagement"])
        mission = (engaged["theme"] == "impact_story").astype(float)
        fit = sm.GLM(engaged["engagement"].astype(float), sm.add_constant(mission), family=sm.families.Poisson()
                     ).fit(tol=1e-12, cov_type="cluster", cov_kwds={"groups": pd.factorize(engaged["author_key"])[0],
                                                         "use_correction": False})
        clusters = engaged["author_key"].nunique()
        se = np.sqrt(fit.cov_params().iloc[1, 1] * clusters / (clusters - 1))
        half = stats.t.ppf(0.975, clusters - 1) * se
        coefficient = fit.params.iloc[1]
        assert row["engagement_ratio"] == pytest.approx(np.exp(coefficient), rel=1e-9)
        assert row["ratio_ci_low"] == pytest.approx(np.exp(coefficient - half), rel=1e-9)
        assert row["ratio_ci_high"] == pytest.approx(np.exp(coefficient + half), rel=1e-9)
