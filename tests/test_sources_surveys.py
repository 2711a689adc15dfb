"""Survey export adapters: real Qualtrics files, committed fixtures of each export shape, and their quirks."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from pathlib import Path

import pandas as pd
import pytest

from analytics import sources
from analytics.codebook import load_codebook
from analytics.sources import google_forms, ms_forms, qualtrics, qualtrics_legacy, surveymonkey
from analytics.sources.base import Parsed, ReadContext, SourceError

DATA = Path(__file__).parent / "data"
SURVEYS = DATA / "surveys"
REAL = DATA / "qualtrics"
ADAPTERS = (qualtrics, qualtrics_legacy, surveymonkey, google_forms, ms_forms)
CODEBOOK = load_codebook()
LONDON = ReadContext(timezone="Europe/London", codebook=CODEBOOK)
TABLES = ("respondents", "survey_answers", "survey_comments")


def read(module, path: Path, context: ReadContext = LONDON) -> Parsed:
    return module.read(path, context)


def staged_records(parsed: Parsed) -> int:
    return len(parsed.tables["respondents"])


def write_ms_forms(path: Path, *, times_as_serials: bool) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["ID", "Start time", "Completion time", "Email", "Name", "Last modified time",
                  "Total points", "Quiz feedback",
                  "I feel confident posting about my work on social media.\r\n",
                  "Points - I feel confident posting about my work on social media.",
                  "Feedback - I feel confident posting about my work on social media.",
                  "How long have you worked here?", "What would make the social media policy easier to follow?"])
    start, end = dt.datetime(2026, 6, 1, 9, 0, 0), dt.datetime(2026, 6, 1, 9, 4, 30)
    serial = (end - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    sheet.append([1, start, serial if times_as_serials else end, "anonymous", "Ada Lovelace", None, 3, "ok",
                  "Strongly agree", 1, "well done", "3-5 years", "More examples"])
    sheet.append([2, start, None, "anonymous", "Grace Hopper", None, 0, "", "Disagree", 0, "", "", ""])
    sheet.append([None, start, end, "anonymous", "Mary Somerville", None, 0, "", "Agree", 0, "", "", ""])
    sheet.append([3, start, end, "kim@example.org", "Kim Park", None, 0, "", "5", 0, "", "Less than 1 year", ""])
    workbook.save(path)
    return path


@pytest.fixture
def ms_forms_file(tmp_path: Path) -> Path:
    return write_ms_forms(tmp_path / "responses.xlsx", times_as_serials=True)


def fixture_files(tmp_path: Path) -> dict[Path, object]:
    return {
        REAL / "sample.csv": qualtrics, REAL / "sample_legacy.csv": qualtrics_legacy,
        SURVEYS / "qualtrics_numeric.csv": qualtrics, SURVEYS / "qualtrics_choice_text_de.csv": qualtrics,
        SURVEYS / "surveymonkey_fr.csv": surveymonkey, SURVEYS / "google_forms.csv": google_forms,
        write_ms_forms(tmp_path / "ms.xlsx", times_as_serials=False): ms_forms,
        sm_as_xlsx(SURVEYS / "surveymonkey_fr.csv", tmp_path / "sm.xlsx"): surveymonkey,
    }


def sm_as_xlsx(source: Path, target: Path) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in csv.reader(io.StringIO(source.read_bytes().decode("cp1252"), newline="")):
        workbook.active.append([cell if cell != "" else None for cell in row])
    workbook.save(target)
    return target


# --- every file: its own adapter only, and nothing lost ----------------------------------------------------

def test_each_file_is_claimed_by_its_own_adapter_only(tmp_path: Path) -> None:
    for path, owner in fixture_files(tmp_path).items():
        head = path.read_bytes()[:65536]
        claims = [m.FORMAT for m in ADAPTERS if m.sniff(path, head)]
        assert claims == [owner.FORMAT], (path.name, claims)
        others = [m.__name__ for m in sources.adapters()
                  if m not in ADAPTERS and hasattr(m, "sniff") and _claims(m, path, head)]
        assert others == [], (path.name, others)


def _claims(module, path: Path, head: bytes) -> bool:
    # As in sources.detect: a sniffer that cannot parse the head does not claim the file.
    try:
        return bool(module.sniff(path, head))
    except Exception:
        return False


def test_every_record_is_staged_or_rejected_once(tmp_path: Path) -> None:
    for path, module in fixture_files(tmp_path).items():
        parsed = read(module, path)
        assert parsed.rows_read == staged_records(parsed) + len(parsed.rejects), path.name
        staged_rows = set(parsed.tables["respondents"]["source_row"])
        rejected_rows = {r.source_row for r in parsed.rejects}
        assert not staged_rows & rejected_rows
        assert set(parsed.tables) == set(TABLES)
        assert parsed.tables["respondents"]["response_id"].is_unique
        for name in ("survey_answers", "survey_comments"):
            assert set(parsed.tables[name]["response_id"]) <= set(parsed.tables["respondents"]["response_id"])
        assert str(parsed.tables["respondents"]["submitted_at"].dtype) == "datetime64[us, UTC]"


def test_export_metadata_and_names_are_not_carried(tmp_path: Path) -> None:
    # Reject raws keep the whole row (ingest redacts them); the staging tables never hold this metadata.
    for path, module in fixture_files(tmp_path).items():
        parsed = read(module, path)
        text = "\n".join(str(v) for frame in parsed.tables.values() for column in frame.columns
                         for v in frame[column].tolist())
        for secret in ("130.92.34.66", "10.1.2.3", "10.0.0.1", "47.115097045898", "51.5", "Ada Lovelace",
                       "Kim Park", "Anonym", "Lee", "vip"):
            assert secret not in text, (path.name, secret)


# --- Qualtrics --------------------------------------------------------------------------------------------

def test_real_qualtrics_sample_loads_its_questions_unmapped() -> None:
    parsed = read(qualtrics, REAL / "sample.csv")
    respondents, answers = parsed.tables["respondents"], parsed.tables["survey_answers"]
    assert respondents["response_id"].tolist() == ["R_2YPOQ602ER1jkf1"]
    # RecordedDate in the organisation's zone (no timeZone in the export): 08:28:48 BST = 07:28:48 UTC.
    assert respondents["submitted_at"].iloc[0] == pd.Timestamp("2017-07-18 07:28:48", tz="UTC")
    assert respondents["started_at"].iloc[0] == pd.Timestamp("2017-07-18 07:28:09", tz="UTC")
    assert bool(respondents["finished"].iloc[0])
    assert answers[["item_id", "question", "value_label", "mapped"]].values.tolist() == [
        ["Q1", "This is a multiple choice question.", "2", False],
        ["Q2", "This is a free text question.", "Hello World!", False],
    ]
    assert answers["value"].iloc[0] == 2.0 and pd.isna(answers["value"].iloc[1])


def test_real_qualtrics_legacy_sample_bom_and_trailing_comma() -> None:
    assert (REAL / "sample_legacy.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    parsed = read(qualtrics_legacy, REAL / "sample_legacy.csv", ReadContext(timezone="UTC"))
    respondents = parsed.tables["respondents"]
    assert respondents["response_id"].tolist() == ["R_2YPOQ602ER1jkf1"]
    assert respondents["submitted_at"].iloc[0] == pd.Timestamp("2017-07-18 08:28:48", tz="UTC")
    assert bool(respondents["finished"].iloc[0])
    assert parsed.tables["survey_answers"]["item_id"].tolist() == ["Q1", "Q2"]
    assert not parsed.tables["survey_answers"]["item_id"].str.startswith("extra").any()


def test_qualtrics_export_time_zone_wins_over_the_context() -> None:
    for zone in ("Europe/London", "Asia/Tokyo"):
        respondents = read(qualtrics, SURVEYS / "qualtrics_numeric.csv", ReadContext(timezone=zone)) \
            .tables["respondents"]
        # 2026-03-02 09:00:00 America/Denver (MST, UTC-7).
        assert respondents["submitted_at"].iloc[0] == pd.Timestamp("2026-03-02 16:00", tz="UTC")
    de = read(qualtrics, SURVEYS / "qualtrics_choice_text_de.csv", ReadContext(timezone="Asia/Tokyo"))
    assert de.tables["respondents"]["submitted_at"].iloc[0] == pd.Timestamp("2026-05-10 14:00", tz="UTC")


def test_qualtrics_numeric_export_recodes_matrix_rows_and_keeps_odd_answers() -> None:
    parsed = read(qualtrics, SURVEYS / "qualtrics_numeric.csv")
    answers = parsed.tables["survey_answers"].set_index(["response_id", "item_id"])
    assert answers.loc[("R_a1", "trust_monitoring_fair"), "value"] == 4.0  # matrix row "Trust - <row text>"
    assert answers.loc[("R_a1", "trust_monitoring_surveillance"), "value"] == 2.0  # reverse NOT applied
    assert answers.loc[("R_a1", "enps_recommend"), "value"] == 9.0
    odd = answers.loc[("R_b2", "clarity_mistakes")]
    assert pd.isna(odd["value"]) and odd["value_label"] == "9" and bool(odd["mapped"])
    assert "R_b2" in set(parsed.tables["respondents"]["response_id"])
    respondents = parsed.tables["respondents"].set_index("response_id")
    assert respondents.loc["R_a1", "department"] == "Communications"  # choice code 3
    assert respondents.loc["R_b2", "department"] == "Finance"
    assert not respondents.loc["R_b2", "finished"] and respondents.loc["R_a1", "finished"]
    assert respondents.loc["R_a1", "email"] == "ada@example.org"
    unmapped = parsed.tables["survey_answers"].query("not mapped")
    assert set(unmapped["item_id"]) == {"Q7"} and set(unmapped["value_label"]) == {"Mastodon", "X"}
    reasons = sorted(r.reason.split(" ")[0] for r in parsed.rejects)
    assert len(parsed.rejects) == 3 and reasons == ["a", "no", "response"]


def test_qualtrics_quoted_newline_and_comma_in_free_text_kept_exactly() -> None:
    comments = read(qualtrics, SURVEYS / "qualtrics_numeric.csv").tables["survey_comments"]
    assert comments[["response_id", "item_id", "text"]].values.tolist() == [
        ["R_a1", "comment_policy_easier", "Shorter rules,\nand examples, please"]]


def test_qualtrics_utf16_german_choice_text() -> None:
    raw = (SURVEYS / "qualtrics_choice_text_de.csv").read_bytes()
    assert raw[:2] in (b"\xff\xfe", b"\xfe\xff")
    parsed = read(qualtrics, SURVEYS / "qualtrics_choice_text_de.csv")
    answers = parsed.tables["survey_answers"].set_index(["response_id", "item_id"])
    assert answers.loc[("R_de1", "trust_monitoring_fair"), "value"] == 5.0  # "Stimme voll zu"
    assert answers.loc[("R_de1", "safety_report_mistakes"), "value"] == 2.0  # "Stimme eher nicht zu"
    assert answers.loc[("R_de2", "safety_report_mistakes"), "value"] == 1.0
    assert answers.loc[("R_de2", "trust_monitoring_fair"), "value"] == 3.0  # "Weder noch"
    odd = answers.loc[("R_de3", "trust_monitoring_fair")]
    assert pd.isna(odd["value"]) and odd["value_label"] == "Vielleicht"
    assert answers.loc[("R_de3", "QG3"), "value_label"] == "Nichts 😊"
    assert not bool(answers.loc[("R_de3", "QG3"), "mapped"])


def _reorder(path: Path, target: Path, encoding: str, header_rows: int) -> Path:
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode(encoding).lstrip("\ufeff"), newline="")))
    order = list(reversed(range(len(rows[0]))))
    with target.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([[row[i] for i in order] for row in rows])
    return target


def _canonical(parsed: Parsed) -> dict[str, list]:
    out = {}
    for name, frame in parsed.tables.items():
        key = [c for c in ("source_row", "item_id") if c in frame.columns]
        out[name] = frame.sort_values(key).astype(str).values.tolist()
    return out


def test_columns_in_a_different_order_give_the_same_tables(tmp_path: Path) -> None:
    for source, module, encoding in [(SURVEYS / "qualtrics_numeric.csv", qualtrics, "utf-8"),
                                     (SURVEYS / "google_forms.csv", google_forms, "utf-8")]:
        if module is google_forms:
            # Google's Timestamp must stay first; shuffle the other columns.
            rows = list(csv.reader(io.StringIO(source.read_bytes().decode("utf-8-sig"), newline="")))
            order = [0, *reversed(range(1, len(rows[0])))]
            target = tmp_path / source.name
            with target.open("w", encoding="utf-8", newline="") as handle:
                csv.writer(handle, quoting=csv.QUOTE_ALL).writerows([[r[i] for i in order] for r in rows])
            original, shuffled = read(module, source), read(module, target)
            for name in TABLES:  # ids hold the file hash: compare everything else
                assert _canonical_without_ids(original, name) == _canonical_without_ids(shuffled, name)
        else:
            shuffled = read(module, _reorder(source, tmp_path / source.name, encoding, 3))
            assert _canonical(read(module, source)) == _canonical(shuffled)


def _canonical_without_ids(parsed: Parsed, name: str) -> list:
    frame = parsed.tables[name].drop(columns="response_id")
    key = [c for c in ("source_row", "item_id") if c in frame.columns]
    return frame.sort_values(key).astype(str).values.tolist()


def test_qualtrics_crlf_line_endings_are_read() -> None:
    assert b"\r\n" in (SURVEYS / "qualtrics_numeric.csv").read_bytes()
    assert read(qualtrics, SURVEYS / "qualtrics_numeric.csv").rows_read == 6


def test_qualtrics_without_response_id_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text('StartDate,Q1\nStart,Q\n"{""ImportId"":""startDate""}","{""ImportId"":""QID1""}"\n', "utf-8")
    with pytest.raises(SourceError, match=r"broken\.csv.*ResponseId.*found \['StartDate', 'Q1'\]"):
        qualtrics.read(path, LONDON)


# --- SurveyMonkey -----------------------------------------------------------------------------------------

def test_surveymonkey_cp1252_localised_second_row_and_matrix_forward_fill() -> None:
    with pytest.raises(UnicodeDecodeError):
        (SURVEYS / "surveymonkey_fr.csv").read_bytes().decode("utf-8")
    parsed = read(surveymonkey, SURVEYS / "surveymonkey_fr.csv", ReadContext(timezone="America/New_York"))
    answers = parsed.tables["survey_answers"].set_index(["response_id", "item_id"])
    assert answers.loc[("114000000001", "confidence_post_work"), "value"] == 4.0
    assert answers.loc[("114000000002", "confidence_post_work"), "value"] == 5.0  # "Tout à fait d'accord"
    assert answers.loc[("114000000004", "confidence_post_work"), "value"] == 2.0  # "Pas d'accord"
    assert answers.loc[("114000000001", "voice_not_consulted"), "question"] == (
        "Please rate, as honestly as you can: - Policy changes are made without asking staff.")
    unmapped = parsed.tables["survey_answers"].query("not mapped")
    assert unmapped["value_label"].tolist() == ["Café Rouge"]
    assert unmapped["item_id"].iloc[0].endswith("Our team's favourite café")
    comments = parsed.tables["survey_comments"]
    assert comments["text"].tolist() == ["Less jargon, more examples"]  # under "Réponse ouverte"
    respondents = parsed.tables["respondents"].set_index("response_id")
    # %m/%d/%Y %I:%M:%S %p in New York (EST, UTC-5).
    assert respondents.loc["114000000001", "submitted_at"] == pd.Timestamp("2026-03-02 14:20:30", tz="UTC")
    assert not respondents.loc["114000000002", "finished"]  # no End Date: kept, unfinished, start time
    assert respondents.loc["114000000002", "submitted_at"] == pd.Timestamp("2026-03-03 21:00", tz="UTC")
    assert respondents["department"].tolist() == ["Programs", "Fundraising", "Advocacy"]
    assert [r.source_row for r in parsed.rejects] == [3]
    assert "mangled by Excel (1.14E+11)" in parsed.rejects[0].reason


def test_surveymonkey_xlsx_reads_like_the_csv(tmp_path: Path) -> None:
    from_csv = read(surveymonkey, SURVEYS / "surveymonkey_fr.csv")
    from_xlsx = read(surveymonkey, sm_as_xlsx(SURVEYS / "surveymonkey_fr.csv", tmp_path / "sm.xlsx"))
    assert _canonical(from_csv) == _canonical(from_xlsx)


# --- Google Forms -----------------------------------------------------------------------------------------

def test_google_forms_ids_offsets_grid_and_rejects() -> None:
    path = SURVEYS / "google_forms.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    parsed = read(google_forms, path, ReadContext(timezone="Asia/Tokyo"))
    respondents = parsed.tables["respondents"]
    prefix = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert respondents["response_id"].tolist() == [f"{prefix}-1", f"{prefix}-2", f"{prefix}-4"]
    assert read(google_forms, path).tables["respondents"]["response_id"].tolist() == \
        respondents["response_id"].tolist()
    assert respondents["submitted_at"].tolist() == [pd.Timestamp("2026-06-14 09:10:09", tz="UTC"),
                                                    pd.Timestamp("2026-06-14 10:00:00", tz="UTC"),
                                                    pd.Timestamp("2026-06-16 01:30:00", tz="UTC")]
    assert respondents["finished"].all()
    assert respondents["email"].iloc[0] == "ada@example.org" and pd.isna(respondents["email"].iloc[1])
    answers = parsed.tables["survey_answers"].set_index(["response_id", "item_id"])
    assert answers.loc[(f"{prefix}-1", "trust_monitoring_fair"), "value"] == 4.0
    assert answers.loc[(f"{prefix}-2", "trust_monitoring_educational"), "value"] == 1.0
    assert answers.loc[(f"{prefix}-1", "Which platforms do you use for work?"), "value_label"] == "X;LinkedIn"
    comments = parsed.tables["survey_comments"]
    assert comments["text"].tolist() == ["Someone posted a donor's name;\nwe fixed it within 10 minutes, openly."]
    assert [r.source_row for r in parsed.rejects] == [3]
    assert "no completion or start time" in parsed.rejects[0].reason


def test_google_forms_sheet_locale_timestamps_are_local_time(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text('"Timestamp","Monitoring of social media posts is fair."\n'
                    '"14/06/2026 10:10:09","4"\n"45000.5","Strongly agree"\n', encoding="utf-8")
    respondents = read(google_forms, path, ReadContext(timezone="Europe/London")).tables["respondents"]
    assert respondents["submitted_at"].tolist() == [pd.Timestamp("2026-06-14 09:10:09", tz="UTC"),
                                                    pd.Timestamp("2023-03-15 12:00:00", tz="UTC")]


# --- Microsoft Forms --------------------------------------------------------------------------------------

@pytest.mark.parametrize("serials", [True, False])
def test_ms_forms_workbook(tmp_path: Path, serials: bool) -> None:
    path = write_ms_forms(tmp_path / "responses.xlsx", times_as_serials=serials)
    parsed = read(ms_forms, path, ReadContext(timezone="Europe/London", codebook=CODEBOOK))
    prefix = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    respondents = parsed.tables["respondents"].set_index("response_id")
    assert list(respondents.index) == [f"{prefix}-1", f"{prefix}-2", f"{prefix}-3"]
    # 09:04:30 BST = 08:04:30 UTC, whether the cell held a datetime or an Excel serial.
    assert abs(respondents.loc[f"{prefix}-1", "submitted_at"] - pd.Timestamp("2026-06-01 08:04:30", tz="UTC")) \
        < pd.Timedelta(seconds=1)
    assert respondents.loc[f"{prefix}-1", "finished"] and not respondents.loc[f"{prefix}-2", "finished"]
    assert pd.isna(respondents.loc[f"{prefix}-1", "email"])  # "anonymous"
    assert respondents.loc[f"{prefix}-3", "email"] == "kim@example.org"
    assert respondents.loc[f"{prefix}-1", "tenure_band"] == "3-5 years"
    answers = parsed.tables["survey_answers"]
    assert set(answers["item_id"]) == {"confidence_post_work"}  # quiz columns ignored, header \r\n stripped
    assert answers["value"].tolist() == [5.0, 2.0, 5.0]
    assert parsed.tables["survey_comments"]["text"].tolist() == ["More examples"]
    assert [r.source_row for r in parsed.rejects] == [3] and "no ID" in parsed.rejects[0].reason
    assert "Mary Somerville" not in parsed.rejects[0].raw


def test_ms_forms_missing_columns_named(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["ID", "Start time", "Email"])
    workbook.save(tmp_path / "bad.xlsx")
    assert not ms_forms.sniff(tmp_path / "bad.xlsx", (tmp_path / "bad.xlsx").read_bytes())
    with pytest.raises(SourceError, match=r"bad\.xlsx.*Completion time.*found \['ID', 'Start time', 'Email'\]"):
        ms_forms.read(tmp_path / "bad.xlsx", LONDON)


def test_qualtrics_import_id_alias_maps_a_column(tmp_path: Path) -> None:
    import yaml

    from analytics import config

    raw = yaml.safe_load(config.CODEBOOK_PATH.read_text(encoding="utf-8"))
    support = next(item for item in raw["items"] if item["id"] == "support_resources")
    support["aliases"] = ["QID7", "QID3_2"]
    (tmp_path / "codebook.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    context = ReadContext(timezone="UTC", codebook=load_codebook(tmp_path / "codebook.yml"))
    answers = read(qualtrics, SURVEYS / "qualtrics_numeric.csv", context).tables["survey_answers"]
    # Q7's text is unknown, but its ImportId is an alias; Q3_2's row text wins over its ImportId + choiceId.
    assert set(answers.loc[answers["item_id"] == "support_resources", "value_label"]) == {"Mastodon", "X"}
    assert answers.loc[answers["item_id"] == "support_resources", "value"].isna().all()
    assert "trust_monitoring_surveillance" in set(answers["item_id"])
    assert answers["mapped"].all()
