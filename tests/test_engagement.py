"""Amplification, mission value and recognition: the sample's planted amplification, mission links and
opted-in recognitions are recovered, small groups stay hidden, and nobody appears without opting in."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from employee_posts import hostile_posts_warehouse, tables_warehouse

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


# Hand-made employee posts, in the frames team_recognition and individual_recognition read, and the same posts
# as warehouse tables: every figure below is counted by hand from how they are made.
_JAN = pd.Timestamp("2026-01-05 10:00", tz="UTC")


def _posts_of(author: str, department: str | None, n: int, *, engagement: float, violations: int = 0,
              compound: float = 0.5, not_english: int = 0, mission: int = 0, amplified: int = 0,
              published_at: pd.Timestamp | list[pd.Timestamp] = _JAN) -> pd.DataFrame:
    """``n`` posts by ``author``: the first ``violations`` break the policy, the first ``not_english`` have no
    sentiment (their compound, -0.9, must count nowhere), the first ``mission`` are impact stories (the others
    events), the last ``amplified`` amplify an organisation post."""
    position = np.arange(n)
    return pd.DataFrame({
        "post_uid": [f"{author}-{i}" for i in position], "author_key": author, "department": department,
        "published_at": published_at, "violation": position < violations,
        "sentiment_status": np.where(position < not_english, "not_english", "scored"),
        "compound": np.where(position < not_english, -0.9, compound), "engagement": float(engagement),
        "theme": np.where(position < mission, "impact_story", "event"), "amplification": position >= n - amplified})


def _as_warehouse(posts: pd.DataFrame, opted_in: pd.DataFrame, *, named_not_opted: tuple[str, ...] = ()
                  ) -> duckdb.DuckDBPyConnection:
    """The warehouse tables the recognition reads, holding ``posts`` (a missing theme as no ``post_themes`` row),
    an organisation post with a huge engagement that must count nowhere, the opted-in people (those without a
    display name have no ``recognition_names`` row) and ``named_not_opted``: people with a display name left
    behind but no opt-in."""
    organisation = _posts_of("org", None, 1, engagement=10_000, violations=1).assign(post_uid="org-post")
    facts = pd.concat([posts.assign(account_type="employee"), organisation.assign(account_type="organization")])
    roster = pd.DataFrame({"employee_key": [*opted_in["employee_key"], *named_not_opted],
                           "department": [*opted_in["department"], *["Comms"] * len(named_not_opted)],
                           "display_name": [*opted_in["display_name"], *(f"Not {key}" for key in named_not_opted)],
                           "recognition_opt_in": [True] * len(opted_in) + [False] * len(named_not_opted)},
                          dtype=object).astype({"recognition_opt_in": bool})
    tables = {"post_facts": facts.drop(columns=["theme", "amplification"]),
              "post_themes": facts.loc[facts["theme"].notna(), ["post_uid", "theme"]],
              "amplifications": facts.loc[facts["amplification"], ["post_uid"]],
              "employees": roster[["employee_key", "department", "recognition_opt_in"]],
              "recognition_names": roster.loc[roster["display_name"].notna(), ["employee_key", "display_name"]]}
    return tables_warehouse(tables)


def _source(kind: str, posts: pd.DataFrame, opted_in: pd.DataFrame, **roster) -> Any:
    return {"posts": posts, "opted_in": opted_in} if kind == "frames" else _as_warehouse(posts, opted_in, **roster)


_NOBODY = pd.DataFrame({"employee_key": pd.Series([], dtype=object), "department": pd.Series([], dtype=object),
                        "display_name": pd.Series([], dtype=object)})


def _departments() -> pd.DataFrame:
    """Comms (4 people) passes every bar; Events (4) is engaging but negative; Finance (5) breaks the policy;
    Tiny (2) is too small to show and Programs (3), the next smallest, is hidden with it (at k = 3); a post of no
    department must count nowhere."""
    parts = [_posts_of(f"c{i}", "Comms", 3, engagement=40, not_english=1 if i < 3 else 0, mission=2 if i < 3 else 0,
                       amplified=1 if i < 3 else 0) for i in range(4)]
    parts += [_posts_of(f"e{i}", "Events", 3, engagement=50, compound=-0.2) for i in range(4)]
    parts += [_posts_of(f"f{i}", "Finance", 2, engagement=20, violations=1 if i < 2 else 0, mission=int(i == 0),
                        amplified=int(i == 4)) for i in range(5)]
    parts += [_posts_of(f"p{i}", "Programs", 2, engagement=2) for i in range(3)]
    parts += [_posts_of(f"t{i}", "Tiny", 2, engagement=100) for i in range(2)]
    parts += [_posts_of("x", None, 1, engagement=1000, violations=1)]
    posts = pd.concat(parts, ignore_index=True)
    posts.loc[posts["post_uid"] == "f0-1", "engagement"] = np.nan  # no engagement reported: not a zero
    return posts


@pytest.mark.parametrize("kind", ["frames", "warehouse"])
def test_team_recognition_counts_by_hand(kind):
    teams = engagement.team_recognition(_source(kind, _departments(), _NOBODY), k=3)
    # recognised first, then by name; Tiny has 2 < k people, and Programs, the next smallest, is hidden with it
    # (together 5 >= k + 2 people: neither can be told from the total)
    assert teams["department"].tolist() == ["Comms", "Events", "Finance", "Programs", "Tiny"]
    assert teams["recognised"].tolist() == [True, False, False, False, False]
    assert teams["suppressed"].tolist() == [False, False, False, True, True]
    shown = teams.set_index("department").loc[["Comms", "Events", "Finance"]]
    assert shown["n_people"].tolist() == [4, 4, 5]
    assert shown["n_posts"].tolist() == [12, 12, 10]
    assert shown["adherence_rate"].tolist() == [1.0, 1.0, 0.8]
    # Finance's post without an engagement is left out of its mean, not read as 0
    assert shown["engagement_per_post"].tolist() == [40.0, 50.0, 20.0]
    # Comms' three posts that are not in English have no sentiment
    assert shown["mean_sentiment"].tolist() == pytest.approx([0.5, -0.2, 0.5])
    assert shown["mission_story_share"].tolist() == [6 / 12, 0.0, 1 / 10]
    assert shown["n_amplifications"].tolist() == [3, 0, 1]
    # the bars: the departments' 44 posts, 2 breaking the policy, and the 43 with an engagement (the post of
    # no department and the organisation's count nowhere)
    assert (teams["org_adherence_rate"] == 42 / 44).all()
    assert teams["org_engagement_per_post"].tolist() == pytest.approx(
        [(12 * 40 + 12 * 50 + 9 * 20 + 6 * 2 + 4 * 100) / 43] * 5)
    hidden = teams[teams["suppressed"]]
    assert hidden[["n_people", "n_posts", "adherence_rate", "engagement_per_post", "mean_sentiment",
                   "mission_story_share", "n_amplifications"]].isna().all().all()


def _people() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nine regular posters (4 posts each, 2 to 18 interactions per post), six people at 40 or more (with them
    the median employee's is 16), and Kim: opted in and very engaging, but with 2 posts."""
    parts = [_posts_of(f"r{i}", "Comms", 4, engagement=2 * (i + 1)) for i in range(9)]
    parts += [_posts_of("ada", "Comms", 4, engagement=40, mission=1, amplified=2),
              _posts_of("eve", "Comms", 20, engagement=45, violations=1),  # adherence 0.95: enough
              _posts_of("fay", "Comms", 10, engagement=42, violations=1),  # adherence 0.9: not enough
              _posts_of("gus", "Comms", 4, engagement=40, compound=-0.3),
              _posts_of("hal", "Comms", 4, engagement=40),  # opted in, but no display name
              _posts_of("zoe", "Comms", 4, engagement=40),  # a display name left behind, no opt-in
              _posts_of("kim", "Comms", 2, engagement=100)]
    opted_in = pd.DataFrame({"employee_key": ["ada", "eve", "fay", "gus", "hal", "kim"],
                             "department": ["Programs", "Comms", "Comms", "Comms", "Comms", "Comms"],
                             "display_name": ["Ada L.", "Eve M.", "Fay N.", "Gus O.", None, "Kim P."]})
    return pd.concat(parts, ignore_index=True), opted_in


@pytest.mark.parametrize("kind", ["frames", "warehouse"])
def test_individual_recognition_counts_by_hand(kind):
    posts, opted_in = _people()
    people = engagement.individual_recognition(_source(kind, posts, opted_in, named_not_opted=("zoe",)), min_posts=3)
    assert people["display_name"].tolist() == ["Eve M.", "Ada L."]  # most engaging first
    assert people["employee_key"].tolist() == ["eve", "ada"]
    # the roster's department, whatever the posts say
    assert people["department"].tolist() == ["Comms", "Programs"]
    assert people["n_posts"].tolist() == [20, 4]
    assert people["engagement_per_post"].tolist() == [45.0, 40.0]
    assert people["engagement_ratio"].tolist() == [45 / 16, 40 / 16]
    assert people["mean_sentiment"].tolist() == pytest.approx([0.5, 0.5])
    assert people["n_mission_stories"].tolist() == [0, 1]
    assert people["n_amplifications"].tolist() == [0, 2]
    assert not any(word in c for c in people.columns for word in ("finding", "violation", "adherence"))
    # a lower bar lets Fay in, never Gus (negative), Hal (no name), Zoe (no opt-in) or Kim (too few posts)
    looser = engagement.individual_recognition(_source(kind, posts, opted_in, named_not_opted=("zoe",)), min_posts=3,
                                               adherence_at_least=0.9)
    assert looser["display_name"].tolist() == ["Eve M.", "Fay N.", "Ada L."]
    # two posts are enough: Kim is recognised too, and counted, the median employee's is (16 + 18) / 2
    fewer = engagement.individual_recognition(_source(kind, posts, opted_in), min_posts=2)
    assert fewer["display_name"].tolist() == ["Kim P.", "Eve M.", "Ada L."]
    assert fewer["engagement_ratio"].tolist() == [100 / 17, 45 / 17, 40 / 17]


def test_recognition_of_frames_is_that_of_the_same_warehouse_tables():
    # hostile posts: missing authors, departments, engagement, sentiment and themes, posts at quarters' edges
    con = hostile_posts_warehouse(1)
    facts = con.execute("SELECT * FROM post_facts WHERE account_type = 'employee'").df()
    amplified = set(con.execute("SELECT post_uid FROM amplifications").df()["post_uid"])
    posts = facts.merge(con.execute("SELECT * FROM post_themes").df(), on="post_uid", how="left")
    posts["amplification"] = posts["post_uid"].isin(amplified)
    opted_in = con.execute(engagement._OPTED_IN_SQL).df()
    # instants without a zone are UTC, as the warehouse's
    naive = posts.assign(published_at=posts["published_at"].dt.tz_convert("UTC").dt.tz_localize(None))
    shown = 0
    for period in ("2025-Q1", "2025-Q2", "2025-Q4", "2026-Q1", "2025-10", None):
        teams = engagement.team_recognition(con, period=period, k=3)
        people = engagement.individual_recognition(con, period=period, min_posts=2)
        shown += len(teams) + len(people)
        for frames in (posts, naive):
            pd.testing.assert_frame_equal(engagement.team_recognition({"posts": frames}, period=period, k=3), teams)
            pd.testing.assert_frame_equal(engagement.individual_recognition(
                {"posts": frames, "opted_in": opted_in}, period=period, min_posts=2), people)
    assert shown


def _edges() -> pd.DataFrame:
    """Three Comms authors posting at each instant around the quarters' first local midnights in London (BST in
    April and October, GMT in January)."""
    instants = pd.to_datetime(["2025-03-31 22:59:59", "2025-03-31 23:00:00", "2025-09-30 22:59:59",
                               "2025-09-30 23:00:00", "2025-12-31 23:59:59", "2026-01-01 00:00:00"], utc=True)
    return pd.concat([_posts_of(f"c{i}", "Comms", len(instants), engagement=5, published_at=list(instants))
                      for i in range(3)], ignore_index=True)


@pytest.mark.parametrize("kind", ["frames", "warehouse"])
def test_a_period_is_cut_at_local_midnight(kind):
    assert config.get_settings().timezone == "Europe/London"
    source = _source(kind, _edges(), _NOBODY)
    # None: all the data; a Period of its own: April to December, local days
    expected = {"2025-Q1": 3, "2025-Q2": 3, "2025-Q3": 3, "2025-Q4": 6, "2026-Q1": 3, "2025-03": 3, "2025-04": 3,
                "2025-09": 3, "2025-10": 3, "2026-01": 3, None: 18,
                parse_period(start="2025-04-01", end="2025-12-31"): 12}
    for period, n_posts in expected.items():
        teams = engagement.team_recognition(source, period=period, k=3)
        assert teams["n_posts"].tolist() == [n_posts], period
    assert engagement.team_recognition(source, period="2024-Q4", k=3).empty


def test_recognition_by_period_gives_each_period_asked_in_order():
    con = _as_warehouse(_edges(), pd.DataFrame({"employee_key": ["c0"], "department": ["Comms"],
                                                "display_name": ["Cy D."]}))
    teams, people = engagement.recognition_by_period(con, periods=["2025-Q4", "2024-Q4", "2025q1", "2025-Q4"], k=3,
                                                     min_posts=1, engagement_ratio=1.0)
    # a period without posts has no rows; one asked for twice is shown twice
    assert teams[["period", "n_posts"]].values.tolist() == [["2025-Q4", 6], ["2025-Q1", 3], ["2025-Q4", 6]]
    assert people[["period", "display_name"]].values.tolist() == [["2025-Q4", "Cy D."], ["2025-Q1", "Cy D."],
                                                                  ["2025-Q4", "Cy D."]]
    assert list(teams.columns) == [*engagement.team_recognition(con, k=3).columns, "period"]


@pytest.mark.parametrize("kind", ["frames", "warehouse"])
def test_recognition_of_nothing_is_empty_with_its_columns(kind):
    posts, opted_in = _people()
    no_posts = posts.iloc[:0]
    teams = engagement.team_recognition(_source(kind, no_posts, opted_in), k=3)
    people = engagement.individual_recognition(_source(kind, no_posts, opted_in))
    assert teams.empty and list(teams.columns) == ["department", "n_people", "n_posts", "adherence_rate",
                                                   "engagement_per_post", "mean_sentiment", "mission_story_share",
                                                   "n_amplifications", "org_adherence_rate",
                                                   "org_engagement_per_post", "recognised", "suppressed"]
    assert people.empty and list(people.columns) == ["employee_key", "display_name", "department", "n_posts",
                                                     "engagement_per_post", "engagement_ratio", "mean_sentiment",
                                                     "n_mission_stories", "n_amplifications"]
    # posts, but nobody opted in
    assert engagement.individual_recognition(_source(kind, posts, _NOBODY), min_posts=3).empty


def test_recognition_frames_must_have_the_columns_it_reads():
    posts, opted_in = _people()
    with pytest.raises(ValueError, match=r"Frame 'posts' lacks columns \['theme'\]"):
        engagement.team_recognition({"posts": posts.drop(columns="theme")})
    with pytest.raises(ValueError, match=r"lack \['opted_in'\]"):
        engagement.individual_recognition({"posts": posts})
    with pytest.raises(ValueError, match=r"Frame 'opted_in' lacks columns \['display_name'\]"):
        engagement.individual_recognition({"posts": posts, "opted_in": opted_in.drop(columns="display_name")})


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
