"""Content themes: the taxonomy's rules against a labelled evaluation set, the themes planted in the sample,
incremental theming at build time, and the k-safe mission-story share."""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
from employee_posts import hostile_posts_warehouse

from analytics import build, config, themes, warehouse

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


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("by", [("quarter", "department"), ("month", "platform"), ("department",), ("quarter",)])
def test_the_share_counted_in_the_warehouse_equals_mission_story_share(seed, by):
    con = hostile_posts_warehouse(seed)
    expected = themes.mission_story_share(con, by=by, k=3)
    assert len(expected) > 1 and expected["engagement_ratio"].notna().any()
    if "department" in by:
        assert expected["suppressed"].any() and not expected["suppressed"].all()
    pd.testing.assert_frame_equal(themes.mission_story_share_in_warehouse(con, by=by, k=3), expected,
                                  check_exact=True)


def test_the_share_counted_in_the_warehouse_equals_mission_story_share_on_the_sample(sample_warehouse):
    with warehouse.read_only(sample_warehouse) as con:
        expected = themes.mission_story_share(con, by=("quarter", "department"))
        counted = themes.mission_story_share_in_warehouse(con, by=("quarter", "department"))
    pd.testing.assert_frame_equal(counted, expected, check_exact=True)


def test_the_share_counted_in_the_warehouse_needs_a_grouping_and_no_posts_give_no_rows():
    con = hostile_posts_warehouse(0)
    with pytest.raises(ValueError, match="group by at least one"):
        themes.mission_story_share_in_warehouse(con, by=())
    con.execute("DELETE FROM post_themes")
    pd.testing.assert_frame_equal(themes.mission_story_share_in_warehouse(con, by="quarter"),
                                  themes.mission_story_share(con, by="quarter"))
