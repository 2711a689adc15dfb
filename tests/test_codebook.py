"""The survey codebook: the committed instrument, validation, matching, recoding, staging and stubs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from file_edits import rewrite_keeping_stat

from analytics import config
from analytics.codebook import codebook_stubs, load_codebook, normalise_text, unmapped_questions
from analytics.sources.base import Parsed

AREAS = {"confidentiality", "disclosure", "conduct", "engagement", "mistakes", "learning", "feedback"}
DEPARTMENTS = ["Programs", "Fundraising", "Communications", "Finance", "Operations", "Volunteer Services", "Advocacy"]


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


def raw_codebook() -> dict:
    return yaml.safe_load(config.CODEBOOK_PATH.read_text(encoding="utf-8"))


def write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "codebook.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- the committed instrument -----------------------------------------------------------------------------

def test_instrument_covers_the_policy(codebook) -> None:
    items = codebook.items_frame()
    assert list(items.columns) == ["item_id", "construct", "area", "kind", "reverse", "scale_min", "scale_max",
                                   "text", "clarity"]
    assert set(codebook.areas) == AREAS and set(items["area"]) <= AREAS
    likert = items[items["kind"] == "likert"]
    assert len(likert) >= 20 and (likert["scale_min"] == 1).all() and (likert["scale_max"] == 5).all()
    assert likert["reverse"].sum() >= 3
    assert set(items.loc[items["clarity"], "area"]) == AREAS
    nps = items[items["kind"] == "nps"]
    assert len(nps) == 1 and nps["scale_min"].iloc[0] == 0 and nps["scale_max"].iloc[0] == 10
    assert "recommend" in nps["text"].iloc[0]
    text = items[items["kind"] == "text"]
    assert len(text) >= 2 and text["construct"].isna().all()
    for construct in codebook.constructs.values():
        assert construct.area in AREAS and len(construct.items) >= 3
    assert {"clarity", "trust", "confidence", "safety", "support", "voice"} <= set(codebook.constructs)
    assert codebook.constructs["trust"].area == "feedback" and codebook.constructs["safety"].area == "mistakes"
    assert items["item_id"].is_unique and items["item_id"].str.fullmatch(r"[a-z][a-z0-9_]*").all()


def test_demographics_fill_the_respondent_columns(codebook) -> None:
    demographic = {i.column: i for i in codebook.items if i.kind == "demographic"}
    assert set(demographic) == {"department", "role_level", "tenure_band", "location"}
    assert list(demographic["department"].choices) == DEPARTMENTS
    assert all(len(i.choices) >= 2 for i in demographic.values())


def test_agree_scale_speaks_four_languages(codebook) -> None:
    item = codebook.item("support_manager")
    for label, value in [("Strongly disagree", 1), ("Totalmente en desacuerdo", 1), ("Pas du tout d'accord", 1),
                         ("Stimme überhaupt nicht zu", 1), ("Neither agree nor disagree", 3), ("Weder noch", 3),
                         ("Totalmente de acuerdo", 5), ("Tout à fait d’accord", 5), ("Stimme voll zu", 5),
                         ("  strongly AGREE ", 5), ("De acuerdo", 4), ("Plutôt pas d'accord", 2)]:
        assert codebook.recode(item, label) == (float(value), item.scale.label(value), None), label


# --- validation ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "message"), [
    (lambda raw: raw["items"][0].update(kind="slider"), r"clarity_confidentiality.*kind 'slider'"),
    (lambda raw: raw["items"][1].update(area="ethics"), r"clarity_disclosure.*area 'ethics'"),
    (lambda raw: raw["items"][2].update(id="Clarity Conduct"), r"item #3.*snake_case"),
    (lambda raw: raw["items"][3].update(id="clarity_conduct"), r"'clarity_conduct' is used twice"),
    (lambda raw: raw["items"][4].pop("scale"), r"clarity_mistakes.*needs a `scale`"),
    (lambda raw: raw["items"][5].update(construct="happiness"), r"clarity_learning.*construct 'happiness'"),
    (lambda raw: raw["items"][6].update(text=raw["items"][0]["text"].upper()),
     r"clarity_confidentiality.*clarity_feedback"),
    (lambda raw: raw["items"][0].update(reverse="yes"), r"clarity_confidentiality.*reverse"),
    (lambda raw: raw["scales"]["agree5"]["labels"][0]["aliases"].append("Agree"), r"agree5.*'Agree'"),
    (lambda raw: raw.pop("items"), r"`items`"),
])
def test_invalid_codebooks_name_the_bad_entry(tmp_path: Path, change, message) -> None:
    raw = raw_codebook()
    change(raw)
    with pytest.raises(ValueError, match=message):
        load_codebook(write(tmp_path, raw))


def test_demographic_item_needs_column_and_choices(tmp_path: Path) -> None:
    raw = raw_codebook()
    department = next(i for i in raw["items"] if i["id"] == "department")
    department["column"] = "team"
    with pytest.raises(ValueError, match=r"department.*`column`"):
        load_codebook(write(tmp_path, raw))


def test_missing_codebook_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_codebook(tmp_path / "nope.yml")


def test_a_codebook_file_is_read_once_and_again_after_an_edit(tmp_path: Path) -> None:
    raw = raw_codebook()
    path = write(tmp_path, raw)
    first = load_codebook(path)
    assert load_codebook(path) is first
    raw["areas"]["conduct"] = "How employees behave online, edited."
    write(tmp_path, raw)
    edited = load_codebook(path)
    assert edited is not first and edited.areas["conduct"] == "How employees behave online, edited."
    assert first.areas["conduct"] != edited.areas["conduct"]


def test_an_edit_that_keeps_the_size_and_the_modification_time_is_read(tmp_path: Path) -> None:
    # an analyst's one-letter fix saved within the file system's time granularity, or `cp -p` of the older file
    raw = raw_codebook()
    raw["areas"]["conduct"] = "How employees behave online, version A."
    path = write(tmp_path, raw)
    first = load_codebook(path)
    text = path.read_text(encoding="utf-8")
    rewrite_keeping_stat(path, text.replace("version A.", "version B."))
    edited = load_codebook(path)
    assert edited.areas["conduct"] == "How employees behave online, version B."
    assert first.areas["conduct"] == "How employees behave online, version A."
    assert load_codebook(path) is edited


def test_a_caller_cannot_change_the_codebook_the_next_caller_gets() -> None:
    codebook = load_codebook()
    with pytest.raises(TypeError):
        codebook.areas["conduct"] = "changed"  # type: ignore[index]
    with pytest.raises(TypeError):
        del codebook.constructs["trust"]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        codebook.scales["agree5"].labels[5] = ("Changed",)  # type: ignore[index]
    with pytest.raises(AttributeError):
        codebook.items = ()  # type: ignore[misc]
    frame = codebook.items_frame()
    frame.loc[:, "area"] = "changed"
    again = load_codebook()
    assert "trust" in again.constructs and again.areas["conduct"] != "changed"
    assert again.scales["agree5"].label(5) == "Strongly agree" and len(again.items) == len(codebook.items)
    assert "changed" not in set(again.items_frame()["area"])


# --- matching -------------------------------------------------------------------------------------------

def test_match_by_id_alias_text_and_matrix_row(codebook) -> None:
    assert codebook.match("clarity_conduct", None).id == "clarity_conduct"
    assert codebook.match("QID9", "i understand what TONE and behaviour the policy expects of me online").id \
        == "clarity_conduct"
    assert codebook.match("Q3", "Me siento seguro/a al publicar sobre mi trabajo en redes sociales").id \
        == "confidence_post_work"
    assert codebook.match("Department", None).id == "department"
    assert codebook.match("Q5 [x]", "Please rate: [I feel safe reporting a social media mistake I made.]").id \
        == "safety_report_mistakes"
    assert codebook.match("Trust - Monitoring of social media posts is fair.", None).id == "trust_monitoring_fair"
    assert codebook.match("Q1", "This is a multiple choice question.") is None
    assert codebook.match("Q1", None) is None


def test_normalise_text_ignores_only_presentation() -> None:
    assert normalise_text("It's <i>fine</i>,\n really!") == "it s fine really"
    assert normalise_text("Tout à fait d’accord") == normalise_text("TOUT À FAIT D'ACCORD")
    assert normalise_text("Stimme voll zu") != normalise_text("Stimme zu")


# --- recoding -------------------------------------------------------------------------------------------

def test_recode_numbers_blanks_and_odd_answers(codebook) -> None:
    item = codebook.item("voice_not_consulted")
    assert codebook.recode(item, 4) == (4.0, "Agree", None)
    assert codebook.recode(item, "4.0") == (4.0, "Agree", None)
    assert codebook.recode(item, "2 - Disagree") == (2.0, "Disagree", None)
    for blank in (None, "", "  ", np.nan):
        assert codebook.recode(item, blank) == (None, None, None)
    value, label, error = codebook.recode(item, 6)
    assert value is None and label == "6" and "outside the 1-5 scale" in error
    value, label, error = codebook.recode(item, 3.5)
    assert value is None and "outside" in error
    value, label, error = codebook.recode(item, "Maybe")
    assert value is None and label == "Maybe" and "not a label" in error


def test_recode_nps_text_and_demographics(codebook) -> None:
    nps = codebook.item("enps_recommend")
    assert codebook.recode(nps, "0 - Not at all likely") == (0.0, "0 - Not at all likely", None)
    assert codebook.recode(nps, "Extremely likely")[0] == 10.0
    assert codebook.recode(nps, 7) == (7.0, "7", None)
    assert codebook.recode(nps, 11)[2] is not None
    text = codebook.item("comment_policy_easier")
    assert codebook.recode(text, "Fewer rules 🙂") == (None, "Fewer rules 🙂", None)
    department = codebook.item("department")
    assert codebook.recode(department, "volunteer services") == (None, "Volunteer Services", None)
    assert codebook.recode(department, 2) == (None, "Fundraising", None)
    assert codebook.recode(department, "Legal")[1:] == (
        "Legal", "answer 'Legal' is not one of the choices of department (" + ", ".join(DEPARTMENTS) + ")")


def test_stage_sorts_cells_into_the_three_tables(codebook) -> None:
    cells = pd.DataFrame([["5", "Operations", "Clearer examples", "blue", ""],
                          ["9", "Unknown team", " ", 3, "Stimme zu"]])
    questions = [("Q1", "I feel safe reporting a social media mistake I made."), ("Q2", "Department"),
                 ("Q3", "What would make the social media policy easier to follow?"), ("Q4", "Colour"),
                 ("Q5", "Policy changes are made without asking staff.")]
    staged = codebook.stage(cells, questions, response_ids=["a", "b"], source_rows=[1, 2])
    answers = staged.answers
    assert answers[["response_id", "item_id", "mapped", "source_row"]].values.tolist() == [
        ["a", "safety_report_mistakes", True, 1], ["b", "safety_report_mistakes", True, 2],
        ["a", "Q4", False, 1], ["b", "Q4", False, 2], ["b", "voice_not_consulted", True, 2]]
    assert answers["value"].tolist()[2:] == [pytest.approx(np.nan, nan_ok=True), 3.0, 4.0]
    assert pd.isna(answers["value"].iloc[1]) and answers["value_label"].iloc[1] == "9"
    assert staged.comments[["response_id", "text"]].values.tolist() == [["a", "Clearer examples"]]
    assert staged.demographics["department"].tolist() == ["Operations", "Unknown team"]
    with pytest.raises(ValueError, match="question labels"):
        codebook.stage(cells, questions[:2], response_ids=["a", "b"], source_rows=[1, 2])


# --- unmapped questions and stubs ------------------------------------------------------------------------

def test_unmapped_questions_counts_answers_over_files() -> None:
    one = pd.DataFrame({"item_id": ["Q7", "Q7", "x"], "question": ["Platform?", "Platform?", "x"],
                        "value_label": ["X", None, "Agree"], "mapped": [False, False, True]})
    two = pd.DataFrame({"item_id": ["Q7", "Q9"], "question": ["Platform?", None],
                        "value_label": ["Mastodon", "y"], "mapped": [False, False]})
    parsed = Parsed(format="qualtrics", tables={"survey_answers": two})
    out = unmapped_questions([one, parsed])
    assert out.values.tolist() == [["Q7", "Platform?", 2], ["Q9", "Q9", 1]]
    assert list(unmapped_questions([]).columns) == ["item_id", "question", "n_answers"]


def test_stubs_paste_into_the_codebook_and_then_match(tmp_path: Path, codebook) -> None:
    pairs = [("Q7", "What is your favourite platform?"), ("Q8", "What is your favourite platform?"),
             ("Über uns", "Über uns"), ("Q9", "2024: how was it?")]
    stubs = codebook_stubs(pairs)
    assert stubs.startswith("#")
    parsed = yaml.safe_load(stubs)
    assert [s["id"] for s in parsed] == ["what_is_your_favourite_platform", "what_is_your_favourite_platform_2",
                                         "uber_uns", "q_2024_how_was_it"]
    # Each stub gets its own text; keep one per question before pasting (as the CLI's unique pairs are).
    raw = raw_codebook()
    raw["items"].extend(s for s in parsed if s["id"] != "what_is_your_favourite_platform_2")
    extended = load_codebook(write(tmp_path, raw))
    assert extended.match("Q7", None).id == "what_is_your_favourite_platform"
    assert extended.match("Q9", "2024 - how was it").id == "q_2024_how_was_it"
    assert codebook.match("Q7", None) is None


def test_the_codebook_command_says_a_file_holds_no_survey_rather_than_that_all_is_mapped(capsys) -> None:
    """``policy-pulse codebook roster.csv`` said "Every question of these files is in the codebook."."""
    from analytics import cli

    roster = Path(__file__).parent / "data" / "org" / "roster.csv"
    assert cli.main(["codebook", str(roster)]) == 2
    captured = capsys.readouterr()
    assert "Not survey exports, so no questions to look up: roster.csv (roster)." in captured.err
    assert "Every question" not in captured.out
