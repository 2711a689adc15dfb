"""Feedback themes in survey comments: per policy area, with sentiment, examples only for large enough groups,
and the change since the previous wave."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from analytics import config, feedback
from analytics.codebook import load_codebook

pytestmark = pytest.mark.xdist_group("sample")


def _frames(waves: dict[str, list[tuple[str, str]]]) -> dict[str, pd.DataFrame]:
    """Comments per wave as (item_id, text), each from its own finished respondent."""
    comments, respondents = [], []
    for number, (wave, rows) in enumerate(waves.items()):
        for i, (item, text) in enumerate(rows):
            rid = f"{wave}-{i}"
            comments.append((rid, item, text))
            respondents.append((rid, wave, pd.Timestamp(2026, 1 + 3 * number, 10, tz="UTC"), True))
    return {"survey_comments": pd.DataFrame(comments, columns=["response_id", "item_id", "text"]),
            "respondents": pd.DataFrame(respondents, columns=["response_id", "wave", "submitted_at", "finished"])}


def test_a_theme_that_grows_is_rising_and_one_that_fades_is_falling():
    before = [("comment_monitoring", "Being watched is awful.")] * 30 + \
        [("comment_monitoring", "Seems fair to me.")] * 10
    after = [("comment_monitoring", "Being watched is awful.")] * 8 + \
        [("comment_monitoring", "Seems fair to me.")] * 32
    table = feedback.feedback_themes(_frames({"2026-Q1": before, "2026-Q2": after}), k=5)
    rows = table.set_index("term")
    assert rows.loc["seems fair", "direction"] == "rising"
    assert rows.loc["watched", "direction"] == "falling"
    assert rows.loc["seems fair", "n_mentions"] == 32 and rows.loc["seems fair", "previous_mentions"] == 10
    assert rows.loc["seems fair", "change"] == pytest.approx(32 / 40 - 10 / 40)
    assert (table["area"] == "feedback").all()  # the codebook puts comment_monitoring under feedback
    assert rows.loc["seems fair", "mean_sentiment"] > rows.loc["watched", "mean_sentiment"]


def test_a_term_used_in_fewer_than_k_comments_shows_no_tone():
    """The mean tone of two or three comments is close to each writer's own."""
    comments = [("comment_monitoring", "Being watched is awful.")] * 3 + \
        [("comment_monitoring", "Seems fair to me.")] * 10
    rows = feedback.feedback_themes(_frames({"2026-Q1": comments}), k=5).set_index("term")
    assert rows.loc["watched", "n_mentions"] == 3 and np.isnan(rows.loc["watched", "mean_sentiment"])
    assert rows.loc["seems fair", "mean_sentiment"] > 0


def test_rising_and_falling_hold_against_every_term_tested_in_the_wave():
    """A change that would pass p < 0.05 alone but not among the wave's other tests is no clear change."""
    def wave(counts: dict[str, int]) -> list[tuple[str, str]]:
        texts = [[] for _ in range(100)]
        for term, count in counts.items():
            for text in texts[:count]:
                text.append(term.capitalize() + ".")
            texts = texts[count:] + texts[:count]  # spread the terms over different comments
        return [("comment_monitoring", " ".join(text) or "Nothing.") for text in texts]

    stable = {"guidance": 30, "examples": 30, "clarity": 30, "support": 30}
    before = wave({"deadline": 10, "approval": 10, **stable})
    after = wave({"deadline": 22, "approval": 60, **stable})
    table = feedback.feedback_themes(_frames({"2026-Q1": before, "2026-Q2": after}), k=5).set_index("term")
    assert table.loc["deadline", "p_value"] < 0.05, "the planted change must pass on its own"
    assert table.loc["deadline", "direction"] == feedback.NO_CLEAR_CHANGE
    assert table.loc["approval", "direction"] == "rising"
    assert (table.loc[list(stable), "direction"] == feedback.NO_CLEAR_CHANGE).all()
    reference = multipletests(table["p_value"].to_numpy(dtype=float), method="fdr_bh")[1]
    np.testing.assert_allclose(table["p_adjusted"].to_numpy(dtype=float), reference, rtol=1e-12)


def test_examples_only_for_groups_of_at_least_min_comments_and_colleagues_stay_unnamed():
    rows = [("comment_mistakes", "[person:abc123] fixed the wrong date quickly, good example.")] * 6
    small = feedback.feedback_themes(_frames({"2026-Q1": rows}), min_comments=10, k=5)
    assert len(small) > 0 and small["example"].isna().all()
    large = feedback.feedback_themes(_frames({"2026-Q1": rows * 2}), min_comments=10, k=5)
    assert large["example"].notna().all()
    assert not large["example"].str.contains("person:").any()
    assert large["example"].str.contains("[colleague]", regex=False).all()
    assert not large["term"].str.contains("person|abc123").any()


def test_each_comment_s_terms_are_found_once_and_the_example_is_the_most_common_comment(monkeypatch):
    """Each term's example found every comment's terms again (a third of the themes' time on a dashboard's
    quarter change); the example stays the most common comment using the term."""
    rows = ([("comment_mistakes", "Reporting a mistake early helps the team.")] * 7
            + [("comment_mistakes", "A mistake reported late hurts.")] * 5)
    calls = []
    counted = feedback.comment_terms
    monkeypatch.setattr(feedback, "comment_terms", lambda text: calls.append(text) or counted(text))
    table = feedback.feedback_themes(_frames({"2026-Q1": rows}), min_comments=10, k=5).set_index("term")
    assert len(calls) == len(rows) and len(table) > 1
    assert table.loc["mistake", "example"] == "Reporting a mistake early helps the team."
    assert table.loc["mistake reported", "example"] == "A mistake reported late hurts."


def test_groups_smaller_than_k_show_no_terms_and_the_first_wave_has_no_comparison():
    rows = [("comment_policy_easier", "A one-page summary please.")] * 4
    assert feedback.feedback_themes(_frames({"2026-Q1": rows}), k=5).empty
    table = feedback.feedback_themes(_frames({"2026-Q1": rows * 2}), k=5)
    assert table["previous_wave"].isna().all() and (table["direction"] == feedback.NO_EARLIER_WAVE).all()


def test_unfinished_responses_and_unknown_waves_are_handled():
    frames = _frames({"2026-Q1": [("comment_monitoring", "More transparency please.")] * 6})
    frames["respondents"].loc[:, "finished"] = False
    assert feedback.feedback_themes(frames, k=5).empty
    with pytest.raises(ValueError, match="no comments in wave"):
        feedback.feedback_themes(_frames({"2026-Q1": [("comment_monitoring", "Fine.")] * 6}), wave="2019-Q1")


@pytest.fixture(scope="module")
def sample_feedback(sample_warehouse):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        yield feedback.feedback_themes(con), con.execute(
            "SELECT r.wave, c.item_id, c.text FROM survey_comments c JOIN respondents r USING (response_id) "
            "WHERE r.finished").df()
    finally:
        con.close()


def test_the_sample_gives_every_text_item_area_its_themes_with_true_counts(sample_feedback):
    table, comments = sample_feedback
    items = load_codebook().items_frame()
    areas = items.loc[items["kind"] == "text", ["item_id", "area"]]
    latest = sorted(comments["wave"].unique())[-1]
    assert set(table["wave"]) == {latest}
    assert set(table["area"]) == set(areas["area"])
    now = comments[comments["wave"] == latest].merge(areas, on="item_id")
    for row in table.sample(10, random_state=1).itertuples():
        group = now[now["area"] == row.area]
        assert row.n_comments == len(group)
        assert row.n_mentions == sum(row.term in feedback.comment_terms(t) for t in group["text"])
    settings = config.get_settings()
    shown = table[table["n_comments"] >= settings.min_comments_shown]
    assert shown["example"].notna().all()


def test_the_sample_examples_are_redacted(sample_feedback):
    table, _ = sample_feedback
    roster = pd.read_csv(config.SAMPLE_DIR / "roster.csv", keep_default_na=False)
    text = " ".join(table["example"].dropna())
    assert not [n for n in roster["full_name"] if n in text]
    assert "[PHONE]" in text or "call me" not in text.lower()


def test_a_joined_comments_frame_is_accepted_as_the_report_passes_it():
    frames = _frames({"2026-Q1": [("comment_monitoring", "More transparency please.")] * 12})
    joined = frames["survey_comments"].merge(frames["respondents"], on="response_id")
    from_frame = feedback.feedback_themes(joined, k=5)
    from_mapping = feedback.feedback_themes(frames, k=5)
    pd.testing.assert_frame_equal(from_frame, from_mapping)
    with pytest.raises(ValueError, match="lacks columns"):
        feedback.feedback_themes(joined.drop(columns="wave"))


def test_the_themes_keep_the_terms_tied_with_the_last_one_they_keep():
    """The report and the policy review take three themes per area: cut by spelling, a theme used by as many
    comments as the third ("removed within" beside "good example") was not in their table, so their sentence
    could not name it."""
    from analytics import feedback

    used = pd.Series([{"apples"}, {"apples"}, {"bananas"}, {"bananas"}, {"cherries"}, {"dates"}, {"dates"}])
    assert feedback._ranked(used, top=1, min_mentions=1) == ["apples", "bananas", "dates"]
    assert feedback._ranked(used, top=3, min_mentions=1) == ["apples", "bananas", "dates"]


def test_the_sentence_names_the_terms_tied_with_the_last_one_it_names():
    """The three most used, cut by spelling: "removed within", used by as many comments as "good example",
    was left out of the report's sentence."""
    import pandas as pd

    from analytics import insights

    mentions = [17, 14, 10, 10, 10, 10, 4]
    themes = pd.DataFrame({"wave": "2026-Q3", "area": "mistakes", "n_comments": 62, "area_sentiment": -0.01,
                           "term": ["mistake", "beneficiary photo", "good example", "removed within", "quickly",
                                    "tagged", "apology"],
                           "n_mentions": mentions, "share": [m / 62 for m in mentions], "previous_wave": "2026-Q2",
                           "previous_share": 0.1, "direction": "no clear change", "p_value": 0.5})
    sentence = insights.feedback_sentences(themes)[0]
    assert all(f'"{term}"' in sentence for term in ("mistake", "beneficiary photo", "good example",
                                                     "removed within", "quickly")), sentence
    assert '"tagged"' not in sentence and '"apology"' not in sentence, "two more at most"
    assert '"apology"' not in insights.feedback_sentences(themes.iloc[[0, 1, 2, 6]])[0]
