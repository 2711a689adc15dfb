"""The one "areas to revise" ranking: its documented score, its sureness, its evidence from the warehouse,
and a planted worst area found first."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from analytics import config, datasets, priorities, warehouse
from analytics.adherence import AREAS
from analytics.periods import parse_period


def _evidence(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame({"area": ["worst", "twin_a", "twin_b"], "n_posts": [2000, 2000, 2000],
                          "n_breaching": [200, 20, 20], "n_respondents": [300, 300, 300],
                          "n_favourable": [90, 210, 210], "n_incidents": [12, 2, 2],
                          "adherence_change": 0, "clarity_change": 0, "incident_change": 0})
    return frame.assign(**overrides)


def test_areas_to_revise_follows_its_documented_formula():
    evidence = _evidence()
    out = priorities.areas_to_revise(evidence, simulations=400).set_index("area")
    breach = evidence["n_breaching"] / evidence["n_posts"]
    unclear = 1 - evidence["n_favourable"] / evidence["n_respondents"]
    incidents = evidence["n_incidents"].astype(float)
    expected = 100 * (breach / breach.max() + unclear / unclear.max() + incidents / incidents.max()) / 3
    assert out.loc[evidence["area"], "score"].to_numpy() == pytest.approx(expected.to_numpy())
    worse = priorities.areas_to_revise(_evidence(adherence_change=[0, 1, 0], clarity_change=[0, 1, 0]),
                                       simulations=400).set_index("area")
    assert worse.loc["twin_a", "score"] - out.loc["twin_a", "score"] == pytest.approx(200 * priorities.CHANGE_WEIGHT)


def test_areas_to_revise_is_sure_of_a_clear_leader_and_unsure_between_twins():
    out = priorities.areas_to_revise(_evidence(), simulations=2000)
    assert out.loc[0, "area"] == "worst" and out.loc[0, "sureness"] == "sure"
    assert out.loc[0, "score_low"] <= out.loc[0, "score"] <= out.loc[0, "score_high"]
    # two areas with identical data hold rank 2 about half the time
    assert out.loc[1, "rank_probability"] == pytest.approx(0.5, abs=0.08)
    assert out.loc[1, "sureness"] in ("fairly sure", "unsure")


def test_areas_to_revise_checks_its_input():
    with pytest.raises(ValueError, match="lacks columns"):
        priorities.areas_to_revise(_evidence().drop(columns="n_incidents"))
    with pytest.raises(ValueError, match="simulations"):
        priorities.areas_to_revise(_evidence(), simulations=10)


# --- evidence from the sample warehouse --------------------------------------------------------------------

def _latest_quarter(warehouse_file) -> str:
    with warehouse.read_only(warehouse_file) as con:
        latest = pd.Timestamp(con.execute("SELECT max(month) FROM post_facts").fetchone()[0])
    return f"{latest.year}-Q{latest.quarter}"


@pytest.fixture(scope="module")
def inputs(sample_warehouse):
    with warehouse.read_only(sample_warehouse) as con:
        return {"posts": datasets.employee_posts(con=con), "findings": datasets.employee_findings(con=con),
                "incidents": datasets.incidents(con=con), "respondents": datasets.respondents(con=con),
                "answers": datasets.survey_answers(con=con),
                "period": parse_period(_latest_quarter(sample_warehouse))}


def test_area_evidence_holds_every_area_and_adds_up_to_the_period(sample_warehouse, inputs):
    period = inputs["period"]
    evidence = priorities.area_evidence(period=period, warehouse_file=sample_warehouse).set_index("area")
    assert list(evidence.index) == list(AREAS)
    assert (evidence["period"] == period.label).all() and (evidence["previous_period"] == period.previous().label).all()
    tz = config.get_settings().timezone
    incidents = inputs["incidents"]
    assert evidence["n_incidents"].sum() == period.contains(incidents["reported_at"], tz).sum()
    posts = inputs["posts"]
    ruled = evidence[evidence["has_rules"]]
    assert (ruled["n_posts"] == period.contains(posts["published_at"], tz).sum()).all()
    assert (evidence.loc[~evidence["has_rules"], "n_posts"] == 0).all()
    # the clarity line is the current wave's item favourability, read from the same answers
    wave = evidence["wave"].iloc[0]
    clarity = priorities.clarity_by_wave(inputs["answers"], inputs["respondents"])
    clarity = clarity[clarity["wave"] == wave].set_index("area")
    shown = clarity[~clarity["suppressed"].astype(bool)]
    assert evidence.loc[shown.index, "favourable"].to_numpy() == pytest.approx(shown["favourable"].to_numpy())


def test_area_evidence_reads_the_two_periods_posts_only_and_finds_what_all_posts_give(sample_warehouse, inputs,
                                                                                     monkeypatch):
    """It read every employee post and finding ever (880,000 posts on a large warehouse) to compare two quarters:
    a dashboard's quarter change waited for them. It reads the months of the two periods, with the same evidence,
    and of the posts only the columns it uses (their text columns took half the reading time)."""
    period = inputs["period"]
    asked, read_columns = [], {}

    def recorded(reader):
        def read(**kwargs):
            asked.append((reader.__name__, kwargs.get("since"), kwargs.get("through")))
            frame = reader(**kwargs)
            read_columns[reader.__name__] = list(frame.columns)
            return frame
        return read

    for reader in ("employee_posts", "employee_findings"):
        monkeypatch.setattr(datasets, reader, recorded(getattr(datasets, reader)))
    evidence = priorities.area_evidence(period=period, warehouse_file=sample_warehouse)
    assert asked == [(reader, period.previous(), period) for reader in ("employee_posts", "employee_findings")]
    assert read_columns["employee_posts"] == ["post_uid", "account_type", "author_key", "published_at"]
    everything = priorities.area_adherence(inputs["posts"], inputs["findings"], current=period,
                                           previous=period.previous())
    ruled = everything["has_rules"].to_numpy()
    shown = evidence.loc[ruled, ["n_posts", "n_breaching", "breach_rate", "breach_high", "adherence_delta",
                                 "adherence_p"]].to_numpy(float)
    expected = everything.assign(breach_high=1 - everything["ci_low"]).loc[ruled, [
        "n_posts", "n_breaching", "breach_rate", "breach_high", "change", "p_value"]].to_numpy(float)
    assert ruled.any() and shown == pytest.approx(expected, nan_ok=True)


def test_employee_posts_reads_the_columns_asked_for_only(sample_warehouse):
    everything = datasets.employee_posts(warehouse_file=sample_warehouse)
    narrow = datasets.employee_posts(columns=["post_uid", "published_at"], warehouse_file=sample_warehouse)
    assert list(everything.columns) == list(datasets.EMPLOYEE_POST_COLUMNS)
    pd.testing.assert_frame_equal(narrow, everything[["post_uid", "published_at"]])
    with pytest.raises(ValueError, match="choose some of"):
        datasets.employee_posts(columns=["post_uid", "text"], warehouse_file=sample_warehouse)


def test_the_first_quarter_with_data_is_compared_with_nothing_not_with_zeros(sample_warehouse, inputs):
    """The quarter before the first post is no quarter of zeros: its 0 incidents made the first quarter's a
    significant rise, and 10 more points on the score."""
    tz = config.get_settings().timezone
    first = pd.Timestamp(inputs["posts"]["published_at"].min()).tz_convert(tz)
    period = parse_period(f"{first.year}-Q{first.quarter}")
    evidence = priorities.area_evidence(period=period, warehouse_file=sample_warehouse)
    assert evidence["n_incidents"].sum() > 0, "the sample's first quarter should have incidents"
    assert evidence["n_previous"].isna().all() and evidence["adherence_delta"].isna().all()
    assert (evidence[["adherence_change", "incident_change"]] == 0).all().all()
    sentence = priorities.evidence_sentence(evidence.iloc[0].to_dict())
    assert f"no data for {period.previous().label}" in sentence and f"0 in {period.previous().label}" not in sentence
    second = pd.Timestamp(period.end)
    later = priorities.area_evidence(period=parse_period(f"{second.year}-Q{second.quarter}"),
                                     warehouse_file=sample_warehouse)
    assert later["n_previous"].notna().all()


def test_an_earlier_period_names_the_revision_in_force_then(sample_warehouse):
    with warehouse.read_only(sample_warehouse) as con:
        versions = datasets.policy_revisions(con=con)
    last = versions.iloc[-1]
    area = last["areas_changed"].split(";")[0]
    effective = pd.Timestamp(last["effective_on"])
    before = parse_period(f"{effective.year}-Q{effective.quarter}").previous()  # ended before the revision
    changed = versions[versions["areas_changed"].str.split(";").map(lambda a: area in a)
                       & (pd.to_datetime(versions["effective_on"]) < pd.Timestamp(before.end))]
    then = priorities.area_evidence(period=before, warehouse_file=sample_warehouse).set_index("area")
    later = priorities.area_evidence(period=parse_period(f"{effective.year}-Q{effective.quarter}"),
                                     warehouse_file=sample_warehouse).set_index("area")
    assert later.loc[area, "last_changed"].startswith(f"{last['version']} (")
    expected = changed.iloc[-1]["version"] if len(changed) else None
    shown = then.loc[area, "last_changed"]
    assert (shown.startswith(f"{expected} (") if expected else shown == ""), shown
    assert not shown.startswith(f"{last['version']} (")


def test_a_planted_worst_area_ranks_first_with_its_evidence(inputs):
    period, previous = inputs["period"], inputs["period"].previous()
    tz = config.get_settings().timezone
    # plant: "disclosure" gets 400 breaching posts, nobody finding it clear, and 40 incidents in the period
    day = pd.Timestamp(period.start, tz=tz).tz_convert("UTC") + pd.Timedelta(days=3)
    planted_posts = pd.DataFrame({"post_uid": [f"planted:{i}" for i in range(400)], "account_type": "employee",
                                  "author_key": [f"p{i % 40}" for i in range(400)], "published_at": day})
    posts = pd.concat([inputs["posts"], planted_posts], ignore_index=True)
    findings = pd.concat([inputs["findings"], pd.DataFrame({
        "post_uid": planted_posts["post_uid"], "rule_id": "planted", "area": "disclosure", "severity": "high",
        "dismissed": False})], ignore_index=True)
    incidents = pd.concat([inputs["incidents"], pd.DataFrame({
        "incident_id": [f"planted:{i}" for i in range(40)], "reported_at": day, "area": "disclosure",
        "detection": "detected", "hours_to_resolve": 10.0})], ignore_index=True)
    wave, _ = priorities.survey_waves(inputs["respondents"], current=period, previous=previous)
    assert wave is not None, "the sample has a survey wave in its latest quarter"
    answers = inputs["answers"].copy()
    in_wave = answers["response_id"].isin(inputs["respondents"].loc[inputs["respondents"]["wave"] == wave,
                                                                     "response_id"])
    answers.loc[in_wave & (answers["item_id"] == "clarity_disclosure"), "value"] = 1.0
    evidence = priorities.evidence_table(
        priorities.area_adherence(posts, findings, current=period, previous=previous),
        priorities.clarity_by_wave(answers, inputs["respondents"]), pd.DataFrame(),
        priorities.incidents_by_area(incidents, current=period, previous=previous), wave=wave)
    ranked = priorities.areas_to_revise(evidence)
    assert list(ranked["rank"]) == list(range(1, len(AREAS) + 1))
    assert set(ranked["area"]) == set(AREAS)
    top = ranked.iloc[0]
    assert top["area"] == "disclosure" and top["sureness"] == "sure"
    assert top[["adherence_component", "clarity_component", "incident_component"]].tolist() == [1.0, 1.0, 1.0]
    assert ranked["score"].is_monotonic_decreasing
    row = evidence.set_index("area").loc["disclosure"].to_dict() | {
        "previous_period": previous.label, "previous_wave": None, "last_changed": ""}
    sentence = priorities.evidence_sentence(row)
    assert "100% do not agree it is clearly explained" in sentence and "favourable 0%" in sentence
    assert f"{int(row['n_incidents'])} incidents (" in sentence and int(row["n_incidents"]) >= 40


def test_survey_waves_fall_back_to_the_wave_before():
    respondents = pd.DataFrame({"wave": ["2026-Q1", "2026-Q2", "2026-Q3"], "finished": [True, True, False],
                                "submitted_at": pd.to_datetime(["2026-02-10", "2026-05-11", "2026-08-10"], utc=True)})
    # a month without a wave of its own has none; the unfinished response does not make 2026-Q3 a wave
    assert priorities.survey_waves(respondents, current=parse_period("2026-Q3"),
                                   previous=parse_period("2026-Q2"), timezone="UTC") == (None, "2026-Q2")
    assert priorities.survey_waves(respondents, current=parse_period("2026-05"),
                                   previous=parse_period("2026-04"), timezone="UTC") == ("2026-Q2", "2026-Q1")


def test_one_or_two_incidents_are_not_the_worst_possible_incidents_concern():
    """Scaled to the worst area alone, 2 incidents against 1 made a full concern (a third of the score) and ranked
    an area with 1 incident above one with worse rules; below the fewest an exact test tells from none, the
    incidents component scales to that many."""
    fewest = priorities.FEWEST_TELLING_INCIDENTS
    assert stats.binomtest(fewest, fewest, 0.5).pvalue < 0.05 <= stats.binomtest(fewest - 1, fewest - 1, 0.5).pvalue
    evidence = pd.DataFrame({"area": ["rules", "one incident", "two incidents"], "n_posts": 1000,
                             "n_breaching": [60, 48, 48], "n_respondents": 100, "n_favourable": 60,
                             "n_incidents": [0, 1, 2], "adherence_change": 0, "clarity_change": 0,
                             "incident_change": 0})
    ranked = priorities.areas_to_revise(evidence, simulations=200).set_index("area")
    assert ranked["incident_component"].to_dict() == pytest.approx(
        {"rules": 0.0, "one incident": 1 / fewest, "two incidents": 2 / fewest})
    assert ranked.loc["rules", "rank"] < ranked.loc["one incident", "rank"]
    many = priorities.areas_to_revise(evidence.assign(n_incidents=[0, 10, 20]), simulations=200).set_index("area")
    # enough incidents: scaled to the worst area
    assert many["incident_component"].to_dict() == {"rules": 0.0, "one incident": 0.5, "two incidents": 1.0}
