"""Amplification, mission value and recognition: the sample's planted amplification, mission links and
opted-in recognitions are recovered, small groups stay hidden, and nobody appears without opting in."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from employee_posts import hostile_posts_warehouse

from analytics import config, engagement, privacy, warehouse
from analytics.periods import parse_period

pytestmark = pytest.mark.xdist_group("sample")


@pytest.fixture(scope="module")
def con(sample_warehouse):
    connection = duckdb.connect(str(sample_warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def roster() -> pd.DataFrame:
    frame = pd.read_csv(config.SAMPLE_DIR / "roster.csv", keep_default_na=False)
    key = privacy.load_key()
    return frame.assign(employee_key=[privacy.pseudonym(e, key) for e in frame["email"]])


# --- amplification ------------------------------------------------------------------------------------

def test_every_planted_repost_is_matched_to_an_organisation_post(con, sample_truth):
    planted = sample_truth["amplification"]
    found = con.execute("""SELECT a.platform, a.org_platform, o.account_type FROM amplifications a
                           JOIN posts o ON o.post_uid = a.org_post_uid""").df()
    assert len(found) == planted["employee_reposts"]
    assert (found["account_type"] == "organization").all()
    assert found["platform"].value_counts().to_dict() == {p: n for p, n in planted["by_platform"].items() if n}
    assert con.execute("SELECT count(DISTINCT org_post_uid) FROM amplifications").fetchone()[0] == \
        planted["org_posts_amplified"]


def test_amplifiers_per_quarter_are_recovered_with_their_share(con, sample_truth):
    share = engagement.amplifier_share(con).set_index("period")
    planted = sample_truth["amplification"]["amplifiers_by_quarter"]
    assert share["n_amplifiers"].astype(int).to_dict() == planted
    assert ((share["ci_low"] <= share["amplifier_share"]) & (share["amplifier_share"] <= share["ci_high"])).all()
    assert (share["n_people"] >= share["n_amplifiers"]).all()


def test_amplifier_share_by_department_is_k_safe(con):
    k = config.get_settings().k
    table = engagement.amplifier_share(con, by="department")
    assert table["suppressed"].any()
    assert (table.loc[~table["suppressed"], "n_people"] >= k).all()
    assert table.loc[table["suppressed"], ["n_people", "n_amplifiers", "amplifier_share"]].isna().all().all()
    # no quarter hides exactly one department (it could be recovered from the total)
    assert (table.groupby("period")["suppressed"].sum() != 1).all()


def test_amplification_reach_adds_up(con):
    reach = engagement.amplification_reach(con, by=())
    row = reach.iloc[0]
    direct = con.execute("SELECT count(*), sum(engagement), count(DISTINCT author_key) FROM amplifications").fetchone()
    assert (row["n_amplifications"], row["extra_engagement"], row["n_amplifiers"]) == tuple(float(v) for v in direct)
    # social-listening exports report no reach for employees' posts: the extra reach is unknown, not zero
    assert row["n_with_audience"] == 0 and np.isnan(row["extra_audience"])
    assert row["engagement_lift"] == pytest.approx(row["extra_engagement"] / row["org_engagement"])


@pytest.mark.parametrize("how", ["shared_url", "quote"])
def test_shares_are_matched_by_shared_url_or_quoted_text(how):
    posts = pd.DataFrame({
        "post_uid": ["mastodon:1", "mastodon:2", "x:9"], "platform": ["mastodon", "mastodon", "x"],
        "account_type": ["organization", "employee", "organization"], "author_key": [None, "p1", None],
        "department": [None, "Finance", None],
        "published_at": pd.to_datetime(["2026-03-01", "2026-03-02", "2026-03-05"], utc=True),
        "text": ["Our warm spaces stayed open all winter thanks to you", "", "Our warm spaces stayed open all winter "
                 "thanks to you"],
        "url": ["https://mastodon.social/@org/1", None, "https://x.com/org/status/9"],
        "shared_url": [None, "https://mastodon.social/@org/1/", None]})
    if how == "quote":
        posts.loc[1, ["text", "shared_url"]] = ['So true: "our warm spaces stayed open all winter"', None]
    found = engagement.match_amplifications(posts)
    # the later organisation post with the same text cannot be the one quoted
    assert found[["post_uid", "org_post_uid"]].values.tolist() == [["mastodon:2", "mastodon:1"]]
    assert found["matched_by"].iloc[0] == ("shared_url" if how == "shared_url" else "quoted_text")


def test_unrelated_links_are_not_amplification():
    posts = pd.DataFrame({
        "post_uid": ["x:1", "x:2"], "platform": "x", "account_type": ["organization", "employee"],
        "author_key": [None, "p1"], "department": [None, "Finance"],
        "published_at": pd.to_datetime(["2026-03-01", "2026-03-02"], utc=True),
        "text": ["Hello", "Look https://x.com/someoneelse/status/1"], "url": ["https://x.com/org/status/1", None],
        "shared_url": None})
    assert engagement.match_amplifications(posts).empty


# --- mission value ----------------------------------------------------------------------------------

def test_mission_links_are_recovered_and_short_links_are_not_guessed(con, sample_truth):
    value = engagement.mission_value(con, period=None)
    organisation = value[value["source"] == "organisation"].set_index("page")
    planted = sample_truth["mission_links"]
    for page in ("donate", "volunteer"):
        assert organisation.loc[page, "n_posts"] == sum(planted[page].values())
    assert organisation.loc[engagement.SHORT_LINK_PAGE, "n_posts"] == sum(planted["short_links"].values())
    # clicks only where the platform reports them (Facebook and LinkedIn here; Instagram and Mastodon do not)
    direct = con.execute("""SELECT sum(clicks), count(clicks) FROM posts WHERE account_type = 'organization'
                            AND text ILIKE '%riverbendtrust.org/donate%'""").fetchone()
    assert (organisation.loc["donate", "clicks"], organisation.loc["donate", "n_reporting_clicks"]) == direct


def test_the_mission_total_counts_a_post_linking_to_two_pages_once():
    posts = pd.DataFrame({"post_uid": ["a", "b", "c"], "account_type": "organization",
                          "month": pd.to_datetime(["2026-07-01", "2026-07-01", "2026-08-01"]), "clicks": [10, 5, 7],
                          "text": ["Give riverbendtrust.org/donate or help riverbendtrust.org/volunteer",
                                   "Give riverbendtrust.org/donate", "Read https://t.co/x"]})
    patterns = {"donate": ["riverbendtrust.org/donate"], "volunteer": ["riverbendtrust.org/volunteer"]}
    table = engagement.mission_value({"posts": posts}, period="month", patterns=patterns, total=True)
    july = table[table["period"] == "2026-07"].set_index("page")
    assert july.loc[engagement.ANY_MISSION_PAGE, ["n_posts", "clicks"]].tolist() == [2, 15.0]
    assert july.loc["donate", "clicks"] == 15.0 and july.loc["volunteer", "clicks"] == 10.0
    # a short link's page is unknown: it is in no total
    assert table.loc[table["period"] == "2026-08", "page"].tolist() == [engagement.SHORT_LINK_PAGE]


def test_no_earned_media_value_is_computed(con):
    value = engagement.mission_value(con, period="quarter")
    assert not any("emv" in c.lower() or "media_value" in c.lower() for c in value.columns)


# --- recognition ------------------------------------------------------------------------------------

def _keys_of(roster: pd.DataFrame, ids: list[str]) -> set[str]:
    return set(roster.loc[roster["employee_id"].isin(ids), "employee_key"])


def test_the_planted_opted_in_people_are_recognised(con, roster, sample_truth):
    planted = sample_truth["recognition"]
    recognised = engagement.individual_recognition(con)
    assert len(planted["employee_ids"]) == planted["count"] >= 3
    assert set(recognised["employee_key"]) == _keys_of(roster, planted["employee_ids"])
    names = dict(zip(roster["employee_key"], roster["display_name"], strict=True))
    assert recognised["display_name"].tolist() == [names[k] for k in recognised["employee_key"]]
    assert (recognised["engagement_ratio"] >= 2).all()


def test_recognition_lists_only_opted_in_people_and_never_their_findings(con, roster):
    opted = con.execute("SELECT employee_key, display_name FROM recognition_names").df()
    table = engagement.individual_recognition(con, period="2026-Q3", min_posts=2, engagement_ratio=1.0,
                                              adherence_at_least=0.0, min_sentiment=-1.0)
    assert len(table) > 0
    assert set(table["employee_key"]) <= set(opted["employee_key"])
    assert set(table["display_name"]) <= set(opted["display_name"])
    assert not any(word in c for c in table.columns for word in ("finding", "violation", "adherence", "rule"))
    # the loosest criteria still cannot reach anyone who did not opt in, whatever their name
    others = roster[roster["recognition_opt_in"] != "yes"]
    text = table.to_csv()
    assert not [n for n in others["full_name"] if n in text]
    assert not set(table["employee_key"]) & set(others["employee_key"])


def test_an_opted_in_flag_without_a_display_name_or_a_name_without_the_flag_is_not_enough():
    posts = pd.DataFrame({"post_uid": [f"p{i}" for i in range(40)], "author_key": np.repeat(list("abcd"), 10),
                          "department": "Comms", "published_at": pd.Timestamp("2026-01-05", tz="UTC"),
                          "violation": False, "sentiment_status": "scored", "compound": 0.5,
                          "engagement": np.repeat([50, 50, 1, 1], 10), "theme": "event", "amplification": False})
    # "a" opted in and named; "b" is as engaging but only the roster knows them
    opted = pd.DataFrame({"employee_key": ["a"], "department": ["Comms"], "display_name": ["Ada L."]})
    table = engagement.individual_recognition({"posts": posts, "opted_in": opted}, engagement_ratio=1.5)
    assert table["employee_key"].tolist() == ["a"]
    unnamed = opted.assign(display_name=[None])
    assert engagement.individual_recognition({"posts": posts, "opted_in": unnamed}, engagement_ratio=1.5).empty


def test_the_warehouse_keeps_display_names_only_for_people_who_opted_in(con, roster):
    names = con.execute("SELECT n.employee_key, e.recognition_opt_in FROM recognition_names n "
                        "JOIN employees e USING (employee_key)").df()
    assert names["recognition_opt_in"].all()
    assert set(names["employee_key"]) == set(roster.loc[roster["recognition_opt_in"] == "yes", "employee_key"])


def test_the_planted_team_is_recognised_and_small_teams_stay_hidden(con, sample_truth):
    k = config.get_settings().k
    teams = engagement.team_recognition(con).set_index("department")
    assert teams.loc[sample_truth["recognition"]["team"], "recognised"]
    recognised = teams[teams["recognised"]]
    assert (recognised["adherence_rate"] >= recognised["org_adherence_rate"]).all()
    assert (recognised["engagement_per_post"] >= recognised["org_engagement_per_post"]).all()
    assert (teams.loc[~teams["suppressed"], "n_people"] >= k).all()
    hidden = teams[teams["suppressed"]]
    assert len(hidden) >= 2 and not hidden["recognised"].any()
    assert hidden[["adherence_rate", "engagement_per_post"]].isna().all().all()


def test_recognition_reads_the_published_warehouse_by_default(sample_warehouse):
    with warehouse.read_only(sample_warehouse) as opened:
        direct = engagement.team_recognition(opened)
    pd.testing.assert_frame_equal(engagement.team_recognition(warehouse_file=sample_warehouse), direct)


def test_withdrawing_the_opt_in_removes_a_person_even_with_a_stale_display_name(sample_warehouse, tmp_path):
    import shutil

    target = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, target)
    connection = duckdb.connect(str(target))
    try:
        before = engagement.individual_recognition(connection)
        withdrawn = before["employee_key"].iloc[0]
        connection.execute("UPDATE employees SET recognition_opt_in = false WHERE employee_key = ?", [withdrawn])
        after = engagement.individual_recognition(connection)
    finally:
        connection.close()
    assert withdrawn not in set(after["employee_key"])
    assert set(after["employee_key"]) == set(before["employee_key"]) - {withdrawn}


@pytest.mark.parametrize("seed", range(4))
def test_recognition_by_period_equals_team_and_individual_recognition_per_period(seed):
    con = hostile_posts_warehouse(seed)
    # a period with no posts, a month, one asked for twice, and in lower case
    periods = ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q2", "2024-Q4", "2025-10", "2025-Q2", "2026q1"]
    teams, people = engagement.recognition_by_period(con, periods=periods, k=3, min_posts=2)
    labels = [parse_period(p).label for p in periods]
    expected_teams = pd.concat([engagement.team_recognition(con, period=p, k=3).assign(period=p) for p in labels],
                               ignore_index=True)
    expected_people = pd.concat([engagement.individual_recognition(con, period=p, min_posts=2).assign(period=p)
                                 for p in labels], ignore_index=True)
    assert expected_teams["recognised"].any() and expected_teams["suppressed"].any()
    assert "Ada L." in set(expected_people["display_name"])
    for counted, expected in ((teams, expected_teams), (people, expected_people)):
        # mean sentiment sums decimals: pandas adds them in the order DuckDB hands the posts over, DuckDB in
        # its own, so the last bit may differ; every count and every other figure is equal
        pd.testing.assert_frame_equal(counted.drop(columns="mean_sentiment"),
                                      expected.drop(columns="mean_sentiment"), check_exact=True)
        pd.testing.assert_series_equal(counted["mean_sentiment"], expected["mean_sentiment"], check_exact=False,
                                       rtol=1e-12, atol=0)


def test_recognition_by_period_checks_its_arguments(con):
    with pytest.raises(ValueError, match="at least one period"):
        engagement.recognition_by_period(con, periods=[])
    with pytest.raises(ValueError, match="min_posts must be >= 1"):
        engagement.recognition_by_period(con, periods=["2026-Q1"], min_posts=0)


def test_a_short_link_needs_its_slash_and_any_case_of_its_host():
    # mission_links only tries the short-link pattern on texts with a slash: the pattern needs one
    texts = pd.Series(["Read t.co/abc", "Read T.CO/abc", "see bit.ly", "lnkd.in /x", "https://tinyurl.com/y",
                       "ow.ly/", None, "x/y", "Give: example.org/donate and t.co/z"], index=list("abcdefghi"),
                      dtype="str")
    links = engagement.mission_links(texts, patterns={"donate": ["example.org/donate"]})
    assert links.values.tolist() == [["a", engagement.SHORT_LINK_PAGE], ["b", engagement.SHORT_LINK_PAGE],
                                     ["e", engagement.SHORT_LINK_PAGE], ["i", "donate"]]
