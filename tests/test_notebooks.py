"""The analyst notebooks: committed clean, thin and parameterised; their views private and their
closing sentences true to the numbers.

nbval executes the notebooks themselves (``pytest --nbval-lax notebooks``); these tests check what
nbval cannot: the files as committed, the privacy and statistics of the views they call (against the
effects planted in the sample), and the sentences of :mod:`analytics.insights`.
"""

from __future__ import annotations

import ast
import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from warehouse_copies import execute

from analytics import config, datasets, engagement, feedback, insights, report, sample
from analytics import notebook_views as nv
from analytics.codebook import load_codebook
from analytics.metrics import compare_periods

EXPECTED = ["01-data-quality", "02-adherence-trends", "03-sentiment-trends", "04-survey-insights",
            "05-training-impact", "06-positive-side"]
NOTEBOOKS = sorted(config.NOTEBOOKS_DIR.glob("*.ipynb"))


def _cells(path, kind):
    return [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == kind]


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


# --- the files as committed -------------------------------------------------------------------------

def test_the_six_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(notebook["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them (nbstripout / Clear All Outputs)"
    assert "widgets" not in notebook.get("metadata", {}), f"{path.name} stores widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_for_papermill(path):
    code = _cells(path, "code")
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0], "the first code cell, and only it, is tagged `parameters`"
    assigned = {t.id: node.value for node in ast.parse(_source(tagged[0])).body if isinstance(node, ast.Assign)
                for t in node.targets}
    assert set(assigned) == {"period", "department", "warehouse"}
    # None everywhere: the period defaults to the latest quarter, the warehouse to the configuration
    assert all(isinstance(v, ast.Constant) and v.value is None for v in assigned.values())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_setup_says_which_periods_are_accepted_and_prints_the_coverage(path):
    parameters, setup = (_source(c) for c in _cells(path, "code")[:2])
    assert '"2026-Q3" (a quarter) or "2026-07" (a month)' in parameters
    assert setup.splitlines()[-1] == "print(nv.coverage_note(warehouse_file=warehouse))"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_only_choose_and_arrange(path):
    for cell in _cells(path, "code"):
        source = _source(cell)
        assert len(source.splitlines()) <= 8, f"a cell of {path.name} holds logic:\n{source}"
        code = "\n".join(line.split("#", 1)[0] for line in source.splitlines())
        assert not re.search(r"\bSELECT\b|duckdb|read_only|\.duckdb|data/|open\(", code), source
        imports = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import | ast.ImportFrom)]
        for node in imports:
            modules = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            assert all(m.split(".")[0] == "analytics" for m in modules), f"{path.name} imports {modules}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_closing_cell_is_generated_from_the_numbers(path):
    headings = [_source(c).splitlines()[0] for c in _cells(path, "markdown")]
    assert headings[-1] == "## What this means for the policy"
    closing = _source(_cells(path, "code")[-1])
    assert "nv.markdown(" in closing and "insights." in closing
    # labels are fine ("the adherence rate"); a typed sentence is not
    typed = [n.value for n in ast.walk(ast.parse(closing))
             if isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value.split()) > 3]
    assert not typed, f"typed sentences in the closing cell: {typed}"


# --- views on the sample warehouse ------------------------------------------------------------------

@pytest.fixture(scope="module")
def warehouse_file(sample_warehouse):
    return sample_warehouse


def test_revision_effect_recovers_the_planted_level_change(warehouse_file, sample_truth):
    effects = nv.revision_effects(warehouse_file=warehouse_file)
    truth = sample_truth["revision"]
    row = effects.set_index("version").loc[truth["version"]]
    assert row["level_ci_low"] <= truth["adherence_level_change"] <= row["level_ci_high"]
    assert row["level_ci_low"] > 0
    sentence = insights.revision_sentence(row.rename_axis(None).to_dict() | {"version": truth["version"]})
    assert " rose at version 2.0 " in sentence
    assert insights.format_points(row["level_change"]) in sentence
    assert insights.format_ci(row["level_ci_low"], row["level_ci_high"], scale="points") in sentence


def test_training_effect_recovers_the_planted_odds_ratio_and_risk_difference(warehouse_file, sample_truth):
    effects = nv.training_effects(warehouse_file=warehouse_file).set_index(["outcome", "term"])
    truth = sample_truth["training"]
    odds = effects.loc[("violation", "odds_ratio")]
    assert odds["ci_low"] <= truth["odds_ratio"] <= odds["ci_high"] < 1
    did = effects.loc[("violation", "did_risk_difference")]
    assert did["ci_low"] <= truth["violation_risk_difference"] <= did["ci_high"] < 0
    sentences = insights.training_sentences(effects.reset_index())
    assert any(f"had {odds['estimate']:.2f} times the odds of a policy violation" in s for s in sentences)


def test_the_groups_before_the_rollout_show_the_sample_s_random_assignment(warehouse_file, sample_truth):
    """The sample assigns the training at random within departments: before the rollout the two groups' shares
    of violating posts differ only by chance, and the rollout is the planted first day."""
    baseline = nv.training_baseline(warehouse_file=warehouse_file).set_index("group")
    assert list(baseline.index) == ["trained", "not trained"]
    first_day = sample_truth["training"]["rollout"].split(" .. ")[0]
    assert str(baseline["rollout"].iloc[0]) == first_day
    trained, never = baseline.loc["trained"], baseline.loc["not trained"]
    assert trained["ci_low"] <= never["ci_high"] and never["ci_low"] <= trained["ci_high"]
    # the sample's completions all fall in the rollout's first months, its months before the rollout all shown
    posts = nv.training_posts(warehouse_file=warehouse_file)
    before = posts[posts["month"] < pd.Timestamp(first_day[:7])]
    assert baseline["n_posts"].sum() == len(before) and baseline["violations"].sum() == before["violation"].sum()
    assert baseline.loc["trained", "n_employees"] == before.loc[before["completed_at"].notna(), "author_key"].nunique()
    assert (baseline["n_employees"] >= config.get_settings().k).all()
    caveats = insights.training_caveats(baseline.reset_index(), nv.training_event_study(warehouse_file=warehouse_file))
    assert caveats[0].startswith(f"Training was chosen, not assigned: in the 15 whole months before the rollout on "
                                 f"{first_day} whose monthly figures are shown (2024-10 to 2025-12), ")
    assert caveats[1].startswith("Around each employee's own training (event study")


def test_notebook_05_s_sentences_name_the_department_the_posts_and_their_period(warehouse_file):
    """With a department chosen, notebook 05's estimates read as the organisation's ('Posts by trained employees
    had 0.49 times the odds …' were Programs' 2,188 posts), said of which posts only in their n, and the
    difference-in-differences and the event study gave no n at all."""
    closing = _source(_cells(config.NOTEBOOKS_DIR / "05-training-impact.ipynb", "code")[-1])
    assert "training_sentences(effects, through=chosen, department=department)" in closing
    assert "training_caveats(baseline, study, department=department)" in closing
    posts = nv.training_posts(period="2026-Q3", department="Programs", warehouse_file=warehouse_file)
    effects = nv.training_effects(department="Programs", posts=posts)
    sentences = insights.training_sentences(effects, through="2026-Q3", department="Programs")
    assert len(sentences) == len(effects) == 4
    for sentence, row in zip(sentences, effects.itertuples(), strict=True):
        assert " employees in Programs " in sentence or sentence.startswith("Difference-in-differences in Programs: ")
        assert f"; {row.n_obs:,} posts by {row.n_clusters} employees up to the end of 2026-Q3)" in sentence
    study = nv.training_event_study(posts=posts)
    caveats = insights.training_caveats(nv.training_baseline(posts=posts), study, department="Programs")
    assert " the employees in Programs who trained by " in caveats[0]
    assert caveats[1].startswith("Around each employee's own training in Programs (event study: violation risk "
                                 f"against the month before training; n = {int(study['n_posts'].iloc[0]):,} posts by "
                                 "trained and untrained employees): ")


def test_the_training_views_given_the_posts_read_once_equal_their_own_reads(warehouse_file):
    """The report and notebook 05 read the posts once for the training estimates."""
    department = "Programs"
    posts = nv.training_posts(department=department, warehouse_file=warehouse_file)
    for view in (nv.training_effects, nv.training_baseline, nv.training_event_study):
        given = view(department=department, posts=posts, warehouse_file=warehouse_file)
        read = view(department=department, warehouse_file=warehouse_file)
        pd.testing.assert_frame_equal(given, read, obj=view.__name__)
    assert not nv.training_groups_over_time(department=department, warehouse_file=warehouse_file).empty


def test_the_caveats_name_the_months_around_training_that_differ():
    study = pd.DataFrame({"relative_month": [-3, -2, -1, 0, 1], "estimate": [0.06, 0.01, 0.0, -0.05, -0.02],
                          "ci_low": [0.01, -0.03, np.nan, -0.09, -0.06], "ci_high": [0.11, 0.05, np.nan, -0.01, 0.02]})
    (sentence,) = insights.training_caveats(pd.DataFrame(columns=["group"]), study)
    assert "in the months before it (-3 to -2), +1.0 to +6.0 points, 1 month significant (month -3)" in sentence
    assert "from the month of training on (0 to 1), -5.0 to -2.0 points, 1 month significant (month 0)" in sentence


def test_incidents_by_severity_shows_no_single_incident_s_times(warehouse_file):
    k = config.get_settings().k
    quarters = [nv.incidents_by_severity(period=f"{year}-Q{q}", warehouse_file=warehouse_file)
                for year in (2025, 2026) for q in (1, 2, 3, 4) if (year, q) != (2026, 4)]
    table = pd.concat(quarters, ignore_index=True)
    few, many = table[table["n_resolved"] < k], table[table["n_resolved"] >= k]
    assert len(few) and len(many), "the sample should have small and large severity-area cells"
    assert few["median_hours_to_resolve"].isna().all() and many["median_hours_to_resolve"].notna().all()
    assert table.loc[table["n_incidents"] < k, ["median_hours_to_report", "self_reported_share"]].isna().all().all()


def test_a_misspelt_department_or_a_period_without_posts_is_refused_with_the_choices(warehouse_file):
    """Not read as a department without data, nor a period shown with the nearest data under its label."""
    assert nv.resolve_department(None, warehouse_file=warehouse_file) is None
    assert nv.resolve_department("Fundraising", warehouse_file=warehouse_file) == "Fundraising"
    with pytest.raises(ValueError, match=r"No department 'Fundraisng' on the roster; choose one of .*Fundraising"):
        nv.resolve_department("Fundraisng", warehouse_file=warehouse_file)
    with pytest.raises(ValueError, match=r"2023-Q1 has no posts: the warehouse's posts run from \d{4}-\d\d to "):
        nv.resolve_period("2023-Q1", warehouse_file=warehouse_file)
    assert nv.resolve_period("2026-Q2", warehouse_file=warehouse_file).label == "2026-Q2"


def test_small_groups_stay_hidden(warehouse_file):
    k = config.get_settings().k
    small = sample.SMALL_DEPARTMENT
    by_department = nv.metric_over_time("adherence_rate", by="department", warehouse_file=warehouse_file)
    shown = by_department[~by_department["suppressed"]]
    assert (shown["n_people"] >= k).all() and len(shown)
    assert by_department.loc[by_department["group"] == small, "suppressed"].all()
    assert nv.adherence_by_area(department=small, warehouse_file=warehouse_file)["suppressed"].all()
    assert nv.likert_view(department=small, warehouse_file=warehouse_file)["suppressed"].all()
    assert nv.training_effects(department=small, warehouse_file=warehouse_file).empty
    rules = nv.rules_fired(department=small, warehouse_file=warehouse_file)
    # every rule listed, none counted: hidden, not "no rule fired"
    assert len(rules) and rules["suppressed"].all() and rules["n_posts"].isna().all()
    period = nv.resolve_period(warehouse_file=warehouse_file).label
    assert insights.rules_sentence(rules, period=period, department=small) == (
        f"Which rules fired in {small} in {period} is hidden to protect a group of fewer than {k} people.")
    assert "hidden to protect a group" in nv.rules_figure(rules, period=period).layout.annotations[-1].text
    assert not nv.rules_fired(warehouse_file=warehouse_file)["suppressed"].any()
    groups = nv.training_groups_over_time(warehouse_file=warehouse_file)
    assert (groups.loc[~groups["suppressed"], "n_people"] >= k).all()
    # notebook 05 reads the organisation's posts once for both outcomes: the same cells as reading them here
    everyone = nv.training_posts(warehouse_file=warehouse_file)
    for outcome in ("adherent", "positive"):
        pd.testing.assert_frame_equal(
            nv.training_groups_over_time(outcome=outcome, department="Programs", warehouse_file=warehouse_file,
                                         organisation_posts=everyone),
            nv.training_groups_over_time(outcome=outcome, department="Programs", warehouse_file=warehouse_file))
    with pytest.raises(ValueError, match="never published"):
        nv.metric_over_time("adherence_rate", by="platform", department="Fundraising", warehouse_file=warehouse_file)


def test_coaching_findings_name_nobody(warehouse_file):
    findings = nv.coaching_findings(period="2026-Q3", warehouse_file=warehouse_file)
    assert len(findings) and findings["person"].str.fullmatch(r"\[person:[0-9a-f]{10}\]").all()
    roster = pd.read_csv(config.SAMPLE_DIR / "roster.csv", dtype=str)
    identities = pd.concat([roster[c] for c in ("full_name", "email", "x_handle", "instagram_handle",
                                                "linkedin_handle", "mastodon_handle")]).dropna()
    text = " ".join(findings.astype(str).to_numpy().ravel()).lower()
    assert not [v for v in identities if len(v) > 3 and v.lower().lstrip("@") in text]


def test_negative_terms_are_shared_by_k_texts(warehouse_file):
    terms = nv.negative_terms(source="audience_comments", warehouse_file=warehouse_file).terms
    assert len(terms)
    assert (terms["docs_negative"] >= config.get_settings().k).all()
    assert np.allclose(terms["share_negative"], terms["docs_negative"] / terms["n_negative"])
    assert ((terms["lift"] >= nv.MIN_LIFT) | (terms["docs_rest"] == 0)).all()
    assert terms["docs_negative"].is_monotonic_decreasing
    assert (terms["threshold"] <= nv.NEGATIVE_COMPOUND).all()


def test_a_word_only_negative_texts_use_has_no_lift_and_the_text_says_why(warehouse_file):
    """Notebook 03's table showed a lift of inf."""
    view = nv.negative_terms(source="survey_comments", warehouse_file=warehouse_file)
    terms = view.terms
    only = terms[terms["docs_rest"] == 0]
    assert len(only) and only["lift"].isna().all() and np.isfinite(terms["lift"].dropna()).all()
    first = only.iloc[0]
    sentence = insights.negative_terms_sentence(only, source="survey comments", window=view.window,
                                                n_texts=view.n_texts, n_negative=view.n_negative)
    assert f'"{first["term"]}" ({first["docs_negative"]} texts, in no other text)' in sentence


@pytest.mark.parametrize("source", ["employee_posts", "audience_comments", "survey_comments"])
def test_the_negative_words_sentence_names_its_months_and_the_texts_it_rests_on(warehouse_file, source):
    """Notebook 03's negative-words sentences said neither which months they searched nor how many texts."""
    view = nv.negative_terms(source=source, period="2026-Q3", warehouse_file=warehouse_file)
    texts = nv._texts(source, start=pd.Timestamp("2025-10-01"), end=pd.Timestamp("2026-10-01"),
                      warehouse_file=warehouse_file)
    assert (view.window, view.n_texts) == ("2025-10 to 2026-09", len(texts)) and len(view.terms)
    assert (view.terms["n_texts"] == view.n_texts).all() and (view.terms["n_negative"] == view.n_negative).all()
    label = source.replace("_", " ")
    assert view.sentence().startswith(f"Of the {view.n_texts:,} {label} of 2025-10 to 2026-09, the "
                                      f"{view.n_negative:,} most negative most over-represent ")
    assert "2025-10 to 2026-09" in nv.negative_terms_figure(view).layout.title.text
    # a month's window ends with it
    month = nv.negative_terms(source=source, period="2026-07", months=3, warehouse_file=warehouse_file)
    assert month.window == "2026-05 to 2026-07"


def test_time_figures_carry_title_n_ci_caption_and_every_revision(warehouse_file):
    series = nv.metric_over_time("adherence_rate", warehouse_file=warehouse_file)
    revisions = nv.policy_revisions(warehouse_file=warehouse_file)
    fig = nv.metric_figure(series, metric="adherence_rate", revisions=revisions)
    assert fig.layout.title.text and "95% CI" in fig.layout.title.subtitle.text
    assert f"n = {int(series['n'].sum()):,}" in fig.layout.title.subtitle.text
    assert any(a.text.startswith("<i>How to read this:</i>") for a in fig.layout.annotations)
    inside = revisions[revisions["effective_on"].between(series["month"].min(), series["month"].max())]
    lines = {s.x0 for s in fig.layout.shapes if s.type == "line"}
    assert lines == {d.strftime("%Y-%m-%d") for d in inside["effective_on"]} and len(lines) >= 2


@pytest.mark.parametrize("period", ["2026-07", "2026-Q3"])
def test_the_positive_side_views_show_the_chosen_month_or_quarter(warehouse_file, period):
    """A month's sentences beside its quarter's story and clicks contradicted each other (65 of 261 posts
    labelled July beside July's own n), and the clicks table ran past the month."""
    published = nv.period_comparison(["mission_story_share", "mission_clicks"], period=period,
                                     warehouse_file=warehouse_file).set_index("metric")
    (story,) = nv.story_view(period=period, warehouse_file=warehouse_file).to_dict("records")
    assert story["period"] == period
    assert story["n_posts"] == published.loc["mission_story_share", "n"]
    assert story["mission_story_share"] == pytest.approx(published.loc["mission_story_share", "value"])
    mission = nv.mission_value_view(period=period, warehouse_file=warehouse_file)
    assert len(mission) and (mission["period"] == period).all()
    sentence = insights.story_sentence(story, period=period)
    assert sentence.startswith(f"In {period} ") and (f" the {int(story['n_mission'])} mission stories among the "
                                                     f"{int(story['n_posts'])} employee posts ") in sentence
    department = nv.story_view(period=period, department="Programs", warehouse_file=warehouse_file)
    assert department[["period", "department"]].values.tolist() == [[period, "Programs"]]
    # a department's stories are said to be its own, not the organisation's
    (programs,) = department.to_dict("records")
    assert f"the {int(programs['n_mission'])} mission stories among the {int(programs['n_posts'])} employee posts in " \
           "Programs " in insights.story_sentence(programs, period=period)


@pytest.mark.parametrize("department", [None, "Programs"])
def test_notebook_06_states_the_share_of_mission_stories_once(warehouse_file, department):
    """Notebook 06 closed on '19% of employee posts told a mission story (…; 165 of 889 posts)' and then
    'Mission stories in 2026-Q3: 19% (…; n = 889)'."""
    closing = _source(_cells(config.NOTEBOOKS_DIR / "06-positive-side.ipynb", "code")[-1])
    assert "insights.story_sentence(" in closing and '"mission_story_share"' in closing
    # the share first, then the stories' engagement
    assert closing.index("insights.metric_sentence(current.iloc[0])") < closing.index("insights.story_sentence(")
    # the organisation's own posts' clicks beside a department's figures say whose they are
    assert "mission_value_sentence(mission, period=chosen, chosen_department=department)" in closing
    (story,) = nv.story_view(period="2026-Q3", department=department, warehouse_file=warehouse_file).to_dict("records")
    (metric,) = nv.period_comparison(["mission_story_share"], period="2026-Q3", department=department,
                                     warehouse_file=warehouse_file).to_dict("records")
    share = insights.format_percent(story["mission_story_share"])
    said = [insights.story_sentence(story, period="2026-Q3"), insights.metric_sentence(metric)]
    assert [share in sentence for sentence in said] == [False, True]
    assert f"{int(story['n_posts']):,} employee posts" in said[0] and f"n = {int(story['n_posts']):,}" in said[1]


@pytest.mark.parametrize("period", ["2026-07", "2026-Q3"])
def test_the_mission_clicks_total_is_the_published_metric_and_short_links_are_named_apart(warehouse_file, period):
    """'Clicks on mission links: 210' stood beside a list of pages that added short links' 152 clicks."""
    (metric,) = nv.period_comparison(["mission_clicks"], period=period,
                                     warehouse_file=warehouse_file).to_dict("records")
    mission = nv.mission_value_view(period=period, warehouse_file=warehouse_file).set_index("page")
    assert list(mission.columns) == ["period", "n_posts", "n_reporting_clicks", "clicks"]
    total, short = mission.loc[engagement.ANY_MISSION_PAGE], mission.loc[engagement.SHORT_LINK_PAGE]
    assert (total["clicks"], total["n_reporting_clicks"]) == (metric["value"], metric["n"])
    sentence = insights.mission_value_sentence(mission.reset_index(), period=period)
    assert insights.metric_sentence(metric).startswith(f"Clicks on mission links in {period}: {total['clicks']:,.0f}")
    assert sentence.startswith(f"In {period} our posts linking to a mission page drew {total['clicks']:,.0f} clicks")
    assert sentence.endswith(f"Not counted in {period}: {short['n_posts']:.0f} posts whose only links are shortened "
                             f"(such as t.co; target unknown), with {short['clicks']:,.0f} clicks.")
    for page in mission.index.drop([engagement.ANY_MISSION_PAGE, engagement.SHORT_LINK_PAGE]):
        assert f"the {page} page {mission.loc[page, 'clicks']:,.0f} clicks" in sentence


def test_the_feedback_themes_follow_the_chosen_period(warehouse_file):
    """Notebook 06 showed the latest wave's comments whatever the period: 2025-Q4 read 2026's."""
    past = nv.feedback_view(period="2025-Q4", warehouse_file=warehouse_file)
    assert (past.wave, past.previous) == ("2025-Q4", "2025-Q3") and len(past.themes)
    assert set(past.themes["wave"]) == {"2025-Q4"} and set(past.themes["previous_wave"]) == {"2025-Q3"}
    assert past.note.startswith("Survey wave 2025-Q4 (the wave of 2025-Q4, as in notebook 04), compared with "
                                "2025-Q3")
    # a month between two waves reads the last wave begun by its end, not the next one
    assert nv.feedback_view(period="2026-01", warehouse_file=warehouse_file).wave == "2025-Q4"
    before = nv.feedback_view(period="2024-10", warehouse_file=warehouse_file)
    assert before.wave is None and before.themes.empty
    assert before.note.startswith("No survey wave had begun by the end of 2024-10: the first, 2024-Q4, began on ")
    assert before.note.endswith(" No comment themes to show.")


def _latest_wave_split(path):
    """The sample's last wave, 2026-Q3, with its six last respondents moved to a wave of their own begun late
    in August: 2026-08's responses are mostly 2026-Q3's, yet the other wave is the latest begun by its end."""
    execute(path, """UPDATE respondents SET wave = '2026-pulse' WHERE response_id IN (
        SELECT response_id FROM respondents WHERE wave = '2026-Q3' AND finished ORDER BY submitted_at DESC LIMIT 6)""")


def _latest_wave_without_comments(path):
    """The sample with no comment in its last wave, 2026-Q3."""
    execute(path, "DELETE FROM survey_comments WHERE response_id IN (SELECT response_id FROM "
                                   "respondents WHERE wave = '2026-Q3')")


@pytest.mark.parametrize(("change", "period"), [(_latest_wave_split, "2026-08"),
                                                (_latest_wave_without_comments, "2026-Q3")],
                         ids=["a later wave begun within the period", "a wave without comments"])
def test_a_period_reads_the_same_survey_wave_in_the_answers_and_in_the_comments(warehouse_file, tmp_path, change,
                                                                              period):
    """Notebook 04 read the wave answered in the period and notebook 06 the latest wave with comments begun by
    its end: 2026-08 could read 2026-Q3's answers beside another wave's comments, and a wave without comments
    the wave before's, each called the period's."""
    path = tmp_path / "w.duckdb"
    shutil.copy(warehouse_file, path)
    change(path)
    wave = nv.survey_wave(period, warehouse_file=path)
    view = nv.feedback_view(period=period, warehouse_file=path)
    assert wave == "2026-Q3" and (view.wave, view.previous) == (wave, "2026-Q2")
    assert set(view.themes["wave"]) <= {wave}
    if change is _latest_wave_without_comments:
        assert view.themes.empty and view.note.endswith(" None of them commented in 2026-Q3: no themes to show.")
        assert view.sentences() == [view.note]


def test_notebook_06_closes_on_the_feedback_themes_as_the_report_words_them(warehouse_file):
    """Notebook 06's "What this means" said nothing of the survey comments its feedback section showed."""
    closing = _source(_cells(config.NOTEBOOKS_DIR / "06-positive-side.ipynb", "code")[-1])
    assert "feedback.sentences()" in closing
    view = nv.feedback_view(period="2025-Q4", warehouse_file=warehouse_file)
    comments = datasets.survey_comments(warehouse_file=warehouse_file)
    comments = comments[comments["finished"].astype(bool)]
    themes = feedback.wave_themes(comments, wave="2025-Q4", previous="2025-Q3", top=report.VOICES_TOP,
                                  k=config.get_settings().k)
    assert view.sentences() == insights.feedback_sentences(themes, top=report.VOICES_TOP) != []
    programs = nv.feedback_view(period="2025-Q4", department="Programs", warehouse_file=warehouse_file)
    assert programs.sentences() and all(" comments from Programs in 2025-Q4, " in s for s in programs.sentences())
    small = nv.feedback_view(period="2025-Q4", department=sample.SMALL_DEPARTMENT, warehouse_file=warehouse_file)
    before = nv.feedback_view(period="2024-10", warehouse_file=warehouse_file)
    assert (small.sentences(), before.sentences()) == ([small.note], [before.note])


def test_the_survey_wave_speaks_for_the_chosen_period_never_a_later_one(warehouse_file):
    """Notebook 04 read the latest wave for any period no wave is named like: 2025-10 read 2026-Q3."""
    respondents = datasets.respondents(warehouse_file=warehouse_file)
    began = respondents.groupby("wave")["submitted_at"].min().sort_values()
    assert nv.survey_wave("2025-Q4", warehouse_file=warehouse_file) == "2025-Q4"
    # a month whose responses belong to a wave reads that wave, as the report does
    month = f"{began['2025-Q4'].tz_convert(config.get_settings().timezone):%Y-%m}"
    assert nv.survey_wave(month, warehouse_file=warehouse_file) == "2025-Q4"
    # a month without responses reads the last wave begun by its end
    waves = list(began.index)
    for period in ("2025-10", "2026-01"):
        chosen = nv.resolve_period(period, warehouse_file=warehouse_file)
        wave = nv.survey_wave(period, warehouse_file=warehouse_file)
        assert began[wave] < pd.Timestamp(chosen.end, tz="UTC") + pd.Timedelta(days=1)
        assert all(began[w] >= pd.Timestamp(chosen.end, tz="UTC") - pd.Timedelta(days=1)
                   for w in waves[waves.index(wave) + 1:])
    with pytest.raises(datasets.UnreportablePeriod, match="No survey wave had begun by the end of 2024-10"):
        nv.survey_wave("2024-10", warehouse_file=warehouse_file)


def test_the_feedback_themes_of_a_department_count_k_respondents_per_area(warehouse_file):
    k = config.get_settings().k
    everyone = nv.feedback_view(period="2025-Q4", warehouse_file=warehouse_file).themes
    programs = nv.feedback_view(period="2025-Q4", department="Programs", warehouse_file=warehouse_file)
    assert "comments of the respondents in Programs" in programs.note and len(programs.themes)
    comments = datasets.survey_comments(warehouse_file=warehouse_file).merge(
        load_codebook().items_frame()[["item_id", "area"]], on="item_id")
    own = comments[comments["department"] == "Programs"]
    for area, rows in programs.themes.groupby("area"):
        now, then = (own[(own["wave"] == w) & (own["area"] == area)] for w in ("2025-Q4", "2025-Q3"))
        assert rows["n_comments"].iloc[0] == len(now) < everyone.loc[everyone["area"] == area, "n_comments"].iloc[0]
        assert rows["previous_n_comments"].iloc[0] == len(then)
        assert now["response_id"].nunique() >= k and then["response_id"].nunique() >= k
    small = nv.feedback_view(period="2025-Q4", department=sample.SMALL_DEPARTMENT, warehouse_file=warehouse_file)
    assert small.themes.empty and f"Areas hidden to protect a group of fewer than {k} people: " in small.note


def _cells_shown(styler) -> list[list[str]]:
    return [line.split("|")[1:] for line in styler.to_string(delimiter="|").splitlines()[1:]]


def test_tables_show_counts_whole_shares_in_percent_and_a_missing_lift_as_missing():
    """The notebooks showed 0.123 for 12.3 %, 12.0 for a count beside a hidden NaN, and a lift of inf."""
    table = pd.DataFrame({"n_people": [12.0, np.nan], "share": [0.123, np.nan], "ci_low": [0.1, np.nan],
                          "ci_high": [0.15, np.nan], "previous_share": [0.2, np.nan], "change": [-0.077, np.nan],
                          "lift": [np.nan, np.nan], "p_value": [0.0004, np.nan], "suppressed": [False, True]})
    kept = table.copy()
    shown = nv.display_table(table)
    assert str(shown.data["n_people"].dtype) == "Int64"
    assert _cells_shown(shown) == [["12", "12.3%", "10.0%", "15.0%", "20.0%", "-7.7 points", "–", "< 0.001", "False"],
                                   ["hidden"] * 8 + ["True"]]
    pd.testing.assert_frame_equal(table, kept)
    effects = pd.DataFrame({"term": ["odds_ratio", "did_risk_difference"], "estimate": [0.43, -0.033],
                            "ci_low": [0.29, -0.059], "ci_high": [0.64, -0.007], "n_obs": [6945, 6945]})
    assert [row[1:4] for row in _cells_shown(nv.display_table(effects))] == [
        ["0.43", "0.29", "0.64"], ["-3.3 points", "-5.9 points", "-0.7 points"]]
    revisions = pd.DataFrame({"level_change": [0.103], "level_ci_low": [0.072], "level_ci_high": [0.134],
                              "mean_before": [0.858]})
    assert _cells_shown(nv.display_table(revisions, metric="adherence_rate")) == [
        ["+10.3 points", "+7.2 points", "+13.4 points", "85.8%"]]
    with pytest.raises(ValueError, match="Unknown metric 'adherence'"):
        nv.display_table(revisions, metric="adherence")


def test_mission_value_sentence_says_a_post_linking_two_pages_counts_under_each():
    mission = pd.DataFrame({"period": "2026-Q3", "page": ["donate", "volunteer", engagement.ANY_MISSION_PAGE],
                            "n_posts": [3, 2, 4], "n_reporting_clicks": [3, 2, 4], "clicks": [30.0, 20.0, 40.0]})
    sentence = insights.mission_value_sentence(mission, period="2026-Q3")
    assert sentence == ("In 2026-Q3 our posts linking to a mission page drew 40 clicks (reported for 4 of the 4 "
                        "posts): the donate page 30 clicks (3 posts), the volunteer page 20 clicks (2 posts); a post "
                        "linking to more than one page counts under each.")
    assert insights.mission_value_sentence(mission.iloc[:0], period="2026-Q3") == (
        "None of our posts linked to a mission page in 2026-Q3.")


def test_recognition_sentence_never_contradicts_itself():
    """'no team combined ...; 1 person who opted in to be named did too' (and '0 people ... did too')."""
    teams = pd.DataFrame({"department": ["Comms", "Finance", "Programs"], "recognised": [True, False, True]})
    no_team = teams.assign(recognised=False)
    people = pd.DataFrame({"display_name": ["Ada L.", "Bo K.", "Cy M."]})
    what = "combined high adherence with strong, positive engagement"

    def said(teams, people):
        return insights.recognition_sentence(teams, people, period="2026-Q3")

    assert said(teams, people.iloc[:0]) == f"In 2026-Q3 Comms and Programs {what}."
    assert said(teams, people.iloc[:1]) == (f"In 2026-Q3 Comms and Programs {what}, as did 1 person who opted in "
                                            "to be named.")
    assert said(teams, people).endswith(", as did 3 people who opted in to be named.")
    assert said(no_team, people.iloc[:0]) == f"In 2026-Q3 no team, and no one who opted in to be named, {what}."
    assert said(no_team, people.iloc[:1]) == f"In 2026-Q3 no team {what}; 1 person who opted in to be named did."


def test_period_sentences_follow_the_published_table(warehouse_file):
    row = nv.period_comparison(["adherence_rate"], period="2026-Q3", warehouse_file=warehouse_file).iloc[0]
    sentence = insights.metric_sentence(row)
    assert sentence.startswith(f"Adherence rate in 2026-Q3: {insights.format_percent(row['value'])} (95% CI")
    assert f"n = {int(row['n']):,}" in sentence and row["previous_period"] == "2026-Q2"


def test_a_departments_sentences_name_it_and_the_organisations_do_not(warehouse_file):
    # pasted into a briefing, "Adherence rate in 2026-Q3: 96% (n = 261)" read as the organisation's figure
    rows = nv.period_comparison(["adherence_rate", "incidents", "audience_sentiment"], period="2026-Q3",
                                department=sample.SMALL_DEPARTMENT, warehouse_file=warehouse_file)
    adherence, incidents, audience = (insights.metric_sentence(r, k=5) for r in rows.to_dict("records"))
    where = f" in {sample.SMALL_DEPARTMENT} in 2026-Q3"
    assert adherence.startswith(f"Adherence rate{where}") and incidents.startswith(f"Incidents reported{where}")
    # the organisation's figure beside a department's says whose it is
    assert audience.startswith("Audience-comment sentiment across the organisation in 2026-Q3: ")
    everyone = nv.period_comparison(["audience_sentiment"], period="2026-Q3", warehouse_file=warehouse_file)
    assert insights.metric_sentence(everyone.iloc[0]).startswith("Audience-comment sentiment in 2026-Q3: ")
    assert incidents == f"Incidents reported{where}: hidden to protect a group of fewer than 5 people."
    rules = nv.rules_fired(period="2026-Q3", department="Programs", warehouse_file=warehouse_file)
    fired = insights.rules_sentence(rules, period="2026-Q3", department="Programs")
    assert fired.startswith("The rules that fired most in Programs in 2026-Q3: ") and "of employee posts" not in fired
    assert fired.count("of its employee posts)") == min(3, int((rules["n_posts"] > 0).sum())) > 0


def test_notebook_03_says_which_of_its_sentences_are_the_organisations_when_a_department_is_chosen(
        warehouse_file):
    """With a department chosen, notebook 03's seasonal peak and negative words (organisation-wide) read as the
    department's."""
    seasonal = nv.seasonality(period="2026-Q3", warehouse_file=warehouse_file)
    assert seasonal.sentence(label="Employee-post sentiment", chosen_department="Programs").startswith(
        "Employee-post sentiment across the organisation ")
    everyone = seasonal.sentence(label="Employee-post sentiment")
    assert everyone.startswith("Employee-post sentiment runs ") and "24 months, 2024-10 to 2026-09, " in everyone
    view = nv.negative_terms(source="employee_posts", period="2026-Q3", warehouse_file=warehouse_file)
    assert view.sentence(chosen_department="Programs").startswith(
        f"Across the organisation (not Programs alone), of the {view.n_texts:,} employee posts of 2025-10 to 2026-09")


# --- the sentences ----------------------------------------------------------------------------------

def test_revision_sentence_words_follow_the_interval():
    rng = np.random.default_rng(3)
    for _ in range(60):
        change = rng.normal(0, 0.04)
        half = rng.uniform(0.005, 0.05)
        row = {"version": "2.0", "interruption": "2025-04-01", "level_change": change,
               "level_ci_low": change - half, "level_ci_high": change + half, "mean_before": 0.88,
               "mean_after": 0.88 + change, "months_before": 6, "months_after": 5}
        sentence = insights.revision_sentence(row)
        if change - half > 0:
            assert " rose at " in sentence
        elif change + half < 0:
            assert " fell at " in sentence
        else:
            assert "showed no clear change" in sentence and "includes no change" in sentence
        # to one decimal, a change that rounds to zero unsigned ("+0.0", never "-0.0")
        low, step, high = (round(100 * value, 1) + 0.0 for value in (change - half, change, change + half))
        assert f"{step:+.1f} points" in sentence
        assert f"95% CI {low:.1f} to {high:.1f}" in sentence
        assert "6 months before" in sentence and "5 months after" in sentence


def test_story_sentence_calls_the_engagement_ratio_by_its_interval_and_claims_no_cause():
    base = {"n_posts": 400, "n_mission": 80, "mission_story_share": 0.2, "ci_low": 0.16, "ci_high": 0.24,
            "suppressed": False}
    rng = np.random.default_rng(4)
    for _ in range(60):
        ratio = float(np.exp(rng.normal(0, 0.3)))
        low, high = ratio * np.exp(-rng.uniform(0.02, 0.4)), ratio * np.exp(rng.uniform(0.02, 0.4))
        row = base | {"engagement_ratio": ratio, "ratio_ci_low": low, "ratio_ci_high": high}
        sentence = insights.story_sentence(row, period="2026-Q3")
        assert f"{ratio:.2f} times" in sentence and f"95% CI {low:.2f} to {high:.2f}" in sentence
        assert "the 80 mission stories among the 400 employee posts" in sentence
        if low > 1 or high < 1:
            assert "an association, which does not show that the stories, or the policy, caused it" in sentence
            assert (" only " in sentence) == (high < 1)
        else:
            assert "not clearly different from other posts'" in sentence and "includes no difference" in sentence
        assert "worth keeping" not in sentence and "need better support" not in sentence
    no_interval = insights.story_sentence(base | {"engagement_ratio": 1.6, "ratio_ci_low": np.nan,
                                                  "ratio_ci_high": np.nan}, period="2026-Q3")
    assert no_interval.endswith("(1.60 times, 95% CI not available).")


def _two_quarters(successes_now: int, successes_before: int, n: int = 400, *, suppressed: bool = False):
    rows = []
    for period, successes in (("2026-Q3", successes_now), ("2026-Q2", successes_before)):
        rows.append({"period": period, "department": "(all)", "platform": "(all)", "metric": "adherence_rate",
                     "value": successes / n, "n": n, "n_people": 80, "successes": successes, "sd": np.nan,
                     "ci_low": successes / n - 0.03, "ci_high": successes / n + 0.03, "suppressed": suppressed})
    return pd.DataFrame(rows)


def test_metric_sentence_says_up_only_when_significant():
    up = compare_periods(_two_quarters(380, 340), metric="adherence_rate", current="2026-Q3", previous="2026-Q2")
    sentence = insights.metric_sentence(up.iloc[0])
    assert ", up 10.0 points from 85% in 2026-Q2" in sentence and sentence.startswith("Adherence rate in 2026-Q3: 95%")
    assert "That is green against the target" in sentence
    flat = compare_periods(_two_quarters(342, 340), metric="adherence_rate", current="2026-Q3", previous="2026-Q2")
    sentence = insights.metric_sentence(flat.iloc[0])
    assert "against 85% in 2026-Q2: a change of +0.5 points, not significant (p = " in sentence
    hidden = compare_periods(_two_quarters(342, 340, suppressed=True), metric="adherence_rate",
                             current="2026-Q3", previous="2026-Q2")
    assert insights.metric_sentence(hidden.iloc[0], k=5) == ("Adherence rate in 2026-Q3: hidden to protect a group of "
                                                             "fewer than 5 people.")
    missing = up.iloc[0].copy()
    missing["value"] = np.nan
    assert insights.metric_sentence(missing) == "Adherence rate: no data for 2026-Q3 yet."


def test_training_sentences_use_the_null_of_each_estimator():
    base = {"outcome": "violation", "p_value": 0.3, "n_obs": 900, "n_clusters": 60}
    effects = pd.DataFrame([
        base | {"estimator": "logistic", "term": "odds_ratio", "estimate": 0.9, "ci_low": 0.6, "ci_high": 1.3},
        base | {"estimator": "did_lpm", "term": "did_risk_difference", "estimate": -0.01, "ci_low": -0.03,
                "ci_high": 0.01},
    ])
    odds, did = insights.training_sentences(effects)
    assert "no clear difference" in odds and "odds ratio 0.90, 95% CI 0.60 to 1.30" in odds
    assert "900 posts by 60 employees" in odds
    assert "share of posts with a policy violation changed by -1.0 points" in did and "includes no difference" in did
    assert insights.training_sentences(effects.iloc[:0])[0].startswith("Too few")


def test_survey_change_sentences_name_only_significant_shown_rows():
    changes = pd.DataFrame({
        "construct": ["trust", "voice", "safety"], "previous_wave": "2026-Q2", "current_wave": "2026-Q3",
        "n_previous": [90, 90, pd.NA], "n_current": [95, 95, pd.NA], "change": [-0.3, 0.1, -0.9],
        "ci_low": [-0.5, -0.1, np.nan], "ci_high": [-0.1, 0.3, np.nan], "p_adjusted": [0.004, 0.4, np.nan],
        "significant": pd.array([True, False, pd.NA], dtype="boolean"), "suppressed": [False, False, True]})
    sentences = insights.survey_change_sentences(changes)
    assert sentences == ["Trust fell by 0.30 points on the 1-5 scale from 2026-Q2 to 2026-Q3 (95% CI -0.50 to "
                         "-0.10, BH-adjusted p = 0.004; n = 90 and 95)."]
    none = insights.survey_change_sentences(changes.assign(significant=False))
    assert none[0].startswith("No construct changed significantly from 2026-Q2 to 2026-Q3")


def test_reliability_drivers_and_data_quality_sentences():
    alpha = pd.DataFrame({"construct": ["trust", "voice", "safety"], "alpha": [0.84, 0.61, 0.77]})
    text = insights.reliability_sentence(alpha)
    assert "Read voice with care" in text and "The other constructs are reliable (alpha 0.77 to 0.84)" in text
    text = insights.reliability_sentence(alpha.assign(alpha=[0.84, 0.61, 0.5]))
    # one sentence of one colon: the constructs named where the care is asked for
    assert text.startswith("Read voice (0.61) and safety (0.50) with care: their items agree only weakly")
    assert text.count(":") == 1 and text.endswith("Trust is reliable (alpha 0.84).")
    assert insights.reliability_sentence(alpha.assign(alpha=0.9)).startswith("Every construct is reliable")
    drivers = pd.DataFrame({"driver": ["clarity", "safety"], "beta": [0.1, 0.5], "ci_low": [-0.05, 0.4],
                            "ci_high": [0.25, 0.6], "p_value": [0.2, 1e-5], "relative_weight": [0.2, 0.8],
                            "n": [300, 300], "r_squared": [0.4, 0.4]})
    text = insights.drivers_sentence(drivers, outcome="trust")
    assert text.startswith("The strongest driver of trust is safety: 80% of the explained variance")
    assert "accounted for: clarity. A driver is an association in these data, not proof of cause." in text
    assert "Read with care" not in text  # 300 responses for 2 drivers, betas within ±1
    thin = insights.drivers_sentence(drivers.assign(n=34, beta=[0.1, 1.15]), outcome="the adherence rate",
                                     unit="department-quarters")
    assert thin.endswith("Read with care: 34 department-quarters for 2 drivers, and standardised betas beyond ±1 "
                         "(1.15) mean drivers that overlap; the shares of explained variance divide what they hold "
                         "in common fairly, the betas do not.")
    formats = pd.DataFrame({"format": ["x", "qualtrics"], "files": [1, 2], "rows_read": [200, 50],
                            "rows_loaded": [190, 50], "rows_rejected": [10, 0]})
    rejects = pd.DataFrame({"reason": ["bad date", "no id"], "n_rows": [3, 7], "n_files": [1, 1]})
    unmapped = pd.DataFrame({"item_id": ["Q9"], "n_answers": [50]})
    unattributed = pd.DataFrame({"platform": ["x"], "n_posts": [4]})
    sentences = insights.data_quality_sentences(formats, rejects, unmapped, unattributed, pd.DataFrame())
    assert sentences[0] == "3 files: 250 rows read, 240 loaded and 10 rejected (4.0%)."
    big = formats.assign(rows_read=[200_000, 0], rows_loaded=[199_990, 0])
    assert "10 rejected (under 0.1%)" in insights.data_quality_sentences(big, rejects, unmapped, unattributed,
                                                                         pd.DataFrame())[0]
    assert '"no id" (7 rows in 1 file)' in sentences[1]
    assert sentences[2].startswith("1 survey question (50 answers)") and "4 posts from 1 account" in sentences[3]


def test_formatting_edges():
    assert insights.format_p(0.000999) == "p < 0.001" and insights.format_p(0.05) == "p = 0.050"
    assert insights.format_points(-0.0004) == "+0.0 points"  # a fall too small to show is no fall
    assert insights.as_markdown([]).startswith("- There is not enough data")
    assert insights.format_ci(np.nan, 0.3) == "95% CI not available"


def test_the_revision_sentences_name_a_revision_too_recent_to_measure(warehouse_file):
    """Notebook 02 for the month after the newest revision told only the one before it."""
    revisions = nv.policy_revisions(warehouse_file=warehouse_file).sort_values("effective_on")
    newest = revisions.iloc[-1]
    month = f"{pd.Timestamp(newest['effective_on']) + pd.DateOffset(months=1):%Y-%m}"
    series = nv.metric_over_time("adherence_rate", period=month, warehouse_file=warehouse_file)
    effects = nv.revision_effects(period=month, warehouse_file=warehouse_file)
    said = nv.revision_sentences(effects, revisions=revisions, series=series)
    assert str(newest["version"]) not in set(effects["version"].astype(str))
    assert said[-1] == insights.too_recent_sentence(newest)
    assert said[:-1] == [insights.revision_sentence(r) for r in effects.to_dict("records")]
    # once measurable, it is told as the others
    latest = nv.revision_effects(warehouse_file=warehouse_file)
    everything = nv.metric_over_time("adherence_rate", warehouse_file=warehouse_file)
    assert nv.revision_sentences(latest, revisions=revisions, series=everything) == [
        insights.revision_sentence(r) for r in latest.to_dict("records")]


def test_a_departments_revision_sentences_name_it(warehouse_file):
    """Notebook 02 for Programs said 'Adherence showed no clear change at version 2.0', beside the organisation's
    rise of 10 points: the department's estimate read as the organisation's."""
    closing = _source(_cells(config.NOTEBOOKS_DIR / "02-adherence-trends.ipynb", "code")[-1])
    assert "series=overall, department=department)" in closing
    revisions = nv.policy_revisions(warehouse_file=warehouse_file)
    series = nv.metric_over_time("adherence_rate", department="Programs", period="2026-Q3",
                                 warehouse_file=warehouse_file)
    effects = nv.revision_effects(department="Programs", period="2026-Q3", warehouse_file=warehouse_file)
    said = nv.revision_sentences(effects, revisions=revisions, series=series, department="Programs")
    assert len(said) == len(effects) >= 2 and all(s.startswith("Adherence in Programs ") for s in said)


def test_a_departments_recognition_sentence_speaks_of_it_alone(warehouse_file):
    """Notebook 06 for Fundraising said 'In 2026-Q3 no team combined high adherence …' while Communications and
    Programs had: the department's own table read as the organisation's."""
    closing = _source(_cells(config.NOTEBOOKS_DIR / "06-positive-side.ipynb", "code")[-1])
    assert "recognition_sentence(teams, people, period=chosen, department=department)" in closing
    everyone, _ = nv.recognition_view(period="2026-Q3", warehouse_file=warehouse_file)
    recognised = set(everyone.loc[everyone["recognised"], "department"])
    outside = sorted(set(everyone["department"]) - recognised)
    assert recognised and outside
    teams, people = nv.recognition_view(period="2026-Q3", department=outside[0], warehouse_file=warehouse_file)
    said = insights.recognition_sentence(teams, people, period="2026-Q3", department=outside[0])
    assert said.startswith(f"In 2026-Q3 {outside[0]} was not among the teams that combined high adherence ")
    assert "no team" not in said


def test_notebook_04_says_its_sentences_are_the_organisations_when_a_department_is_chosen(warehouse_file):
    """With a department chosen, notebook 04's closing told the organisation's favourability, changes,
    reliability and drivers as if they were the department's (only 'How people answered' follows it), and its
    reliability sentence named neither wave nor n."""
    closing = _source(_cells(config.NOTEBOOKS_DIR / "04-survey-insights.ipynb", "code")[-1])
    assert closing.count("chosen_department=department") == 5
    wave = nv.survey_wave("2026-Q3", warehouse_file=warehouse_file)
    alpha = nv.reliability(period=wave, warehouse_file=warehouse_file)
    trust = nv.trust_drivers(period=wave, warehouse_file=warehouse_file)
    adherence = nv.adherence_drivers(period=wave, warehouse_file=warehouse_file)
    said = [insights.favourability_sentence(nv.favourability_view(period=wave, warehouse_file=warehouse_file),
                                            wave=wave, chosen_department="Programs"),
            *insights.survey_change_sentences(nv.construct_changes(period=wave, warehouse_file=warehouse_file),
                                              chosen_department="Programs"),
            insights.reliability_sentence(alpha, chosen_department="Programs"),
            insights.drivers_sentence(trust, outcome="trust", chosen_department="Programs"),
            insights.drivers_sentence(adherence, outcome="the adherence rate", unit="department-quarters",
                                      chosen_department="Programs")]
    assert all(" across the organisation" in sentence and "Programs" not in sentence for sentence in said)
    low, high = alpha["n_respondents"].min(), alpha["n_respondents"].max()
    assert said[-3].startswith(f"In {wave} across the organisation (n = {low} to {high} respondents per construct), ")
    assert f"n = {int(trust['n'].iloc[0])} responses, {wave})" in said[-2]
    assert f"department-quarters, 2024-Q4 to {wave})" in said[-1]
    everyone = insights.reliability_sentence(alpha)
    assert everyone.startswith(f"In {wave} (n = ") and "across the organisation" not in everyone
