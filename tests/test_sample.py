"""The sample generator: determinism, real export shapes, counts that match truth.json, planted effects."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from analytics.privacy import EMAIL_RE, PHONE_RE
from analytics.sample import DEPARTMENTS, LOW_DEPARTMENT, SMALL_DEPARTMENT, THEMES, generate

SMALL = {"employees": 60, "months": 18, "scale": 0.5}
FORMATS = {"qualtrics", "qualtrics_legacy", "surveymonkey", "google_forms", "ms_forms", "x_activity", "x_content",
           "meta_posts", "instagram", "linkedin", "mastodon", "comments", "monitoring", "roster", "donors",
           "incidents", "trainings", "policy_versions"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("sample")
    truth = generate(folder, **SMALL)
    return folder, truth


def _records(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def _files_of(truth: dict, format_id: str) -> list[str]:
    return sorted(name for name, fmt in truth["files"].items() if fmt == format_id)


# --- determinism --------------------------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files(sample, tmp_path):
    folder, _ = sample
    again = generate(tmp_path, **SMALL)
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:
        assert (folder / name).read_bytes() == (tmp_path / name).read_bytes(), name
    assert again == json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def test_another_seed_gives_other_data(tmp_path):
    one = generate(tmp_path / "a", seed=1, employees=30, months=18, scale=0.1)
    two = generate(tmp_path / "b", seed=2, employees=30, months=18, scale=0.1)
    first, second = (tmp_path / "a" / "monitoring_posts.csv"), (tmp_path / "b" / "monitoring_posts.csv")
    assert first.read_bytes() != second.read_bytes()
    assert one["counts"] != two["counts"] or one["leaks"] != two["leaks"]


def test_xlsx_and_zip_metadata_are_fixed(sample):
    folder, truth = sample
    for name in _files_of(truth, "ms_forms") + _files_of(truth, "linkedin"):
        workbook = openpyxl.load_workbook(folder / name, read_only=True)
        assert workbook.properties.created == datetime(2026, 10, 1, 8, 0)
        assert workbook.properties.modified == datetime(2026, 10, 1, 8, 0)
        workbook.close()
    for name in _files_of(truth, "mastodon") + _files_of(truth, "ms_forms"):
        with zipfile.ZipFile(folder / name) as archive:
            assert {info.date_time for info in archive.infolist()} == {(2026, 10, 1, 8, 0, 0)}


# --- file set and shapes ------------------------------------------------------------------------------------

def test_every_format_is_written_and_listed(sample):
    folder, truth = sample
    assert set(truth["files"].values()) == FORMATS
    on_disk = {p.name for p in folder.iterdir()} - {"truth.json"}
    assert on_disk == set(truth["files"]) == set(truth["rows"])
    waves = truth["survey"]["waves"]
    assert [w["wave"] for w in waves] == sorted(w["wave"] for w in waves)
    assert {w["format"] for w in waves} == {"qualtrics", "qualtrics_legacy", "surveymonkey", "google_forms",
                                            "ms_forms"}


def test_qualtrics_has_three_header_rows_with_time_zones(sample):
    folder, truth = sample
    for name in _files_of(truth, "qualtrics"):
        assert not (folder / name).read_bytes().startswith(b"\xef\xbb\xbf")
        records = _records(folder / name)
        ids, texts, meta = records[0], records[1], [json.loads(c) for c in records[2]]
        assert ids[:2] == ["StartDate", "EndDate"] and "ResponseId" in ids and "RecordedDate" in ids
        assert len(ids) == len(texts) == len(meta)
        assert all("ImportId" in m for m in meta)
        dated = {m["ImportId"]: m.get("timeZone") for m in meta if m["ImportId"] in ("startDate", "recordedDate")}
        assert all(dated.values()) and len(dated) == 2
        assert any(m["ImportId"].endswith("_TEXT") for m in meta)
        finished = [r[ids.index("Finished")] for r in records[3:]]
        assert set(finished) == {"0", "1"}  # some responses were left unfinished
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", records[3][ids.index("RecordedDate")])


def test_qualtrics_legacy_has_bom_two_header_rows_and_trailing_commas(sample):
    folder, truth = sample
    for name in _files_of(truth, "qualtrics_legacy"):
        raw = (folder / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        lines = raw.decode("utf-8-sig").split("\n")
        assert lines[0].startswith("V1,V2,V3") and lines[1].startswith("ResponseID,ResponseSet")
        assert all(line.endswith(",") for line in lines if line)


def test_surveymonkey_has_two_header_rows_and_a_matrix(sample):
    folder, truth = sample
    for name in _files_of(truth, "surveymonkey"):
        records = _records(folder / name)
        first, second = records[0], records[1]
        assert first[:2] == ["Respondent ID", "Collector ID"] and first[3] == "End Date"
        assert second[:9] == [""] * 9
        stem = first.index("How much do you agree with each statement?")
        assert first[stem + 1] == "" and second[stem] and second[stem + 1]  # matrix rows under a blank header
        assert {"Response", "Open-Ended Response"} <= set(second)
        assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d [AP]M", records[2][3])


def test_google_forms_quotes_every_field(sample):
    folder, truth = sample
    for name in _files_of(truth, "google_forms"):
        text = (folder / name).read_text(encoding="utf-8")
        header = text.split("\n", 1)[0]
        assert header.startswith('"Timestamp","') and header.endswith('"')
        records = _records(folder / name)
        assert all(re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d [AP]M GMT(\+1)?", r[0]) for r in records[1:])
        assert any("[" in c and c.endswith("]") for c in records[0])  # grid questions


def test_ms_forms_header_and_datetime_cells(sample):
    folder, truth = sample
    for name in _files_of(truth, "ms_forms"):
        workbook = openpyxl.load_workbook(folder / name, read_only=True)
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        workbook.close()
        assert list(rows[0][:6]) == ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"]
        assert isinstance(rows[1][2], datetime) and rows[1][3] == "anonymous"


def test_x_exports(sample):
    folder, truth = sample
    for name in _files_of(truth, "x_activity"):
        assert re.fullmatch(r"tweet_activity_metrics_riverbendtrust_\d{8}_\d{8}_en\.csv", name)
        text = (folder / name).read_text(encoding="utf-8")
        records = _records(folder / name)
        assert len(records[0]) == 40 and records[0][:4] == ["Tweet id", "Tweet permalink", "Tweet text", "time"]
        assert all(len(r) == 40 for r in records)
        assert text.startswith('"Tweet id","Tweet permalink"')
        for row in records[1:]:
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d \+0000", row[3])
            assert row[4].endswith(".0") and row[-1] == "-"
    (content,) = _files_of(truth, "x_content")
    records = _records(folder / content)
    assert records[0][:4] == ["Post id", "Date", "Post text", "Post Link"]
    assert re.fullmatch(r"[A-Z][a-z]{2}, [A-Z][a-z]{2} \d\d, \d{4}", records[1][1])


def test_meta_and_instagram_exports_have_a_bom(sample):
    folder, truth = sample
    starts = (("meta_posts", "Post ID,Page ID,Page name"), ("instagram", "Post ID,Account ID,Account username"))
    for fmt, first in starts:
        for name in _files_of(truth, fmt):
            assert re.fullmatch(r"[A-Z][a-z]{2}-\d\d-\d{4}_[A-Z][a-z]{2}-\d\d-\d{4}_\d+\.csv", name)
            raw = (folder / name).read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf" + first.encode())
    rejected = [name for name, n in truth["expected_rejects"].items() if n]
    assert rejected and all(truth["files"][name] == "meta_posts" for name in rejected)
    records = _records(folder / rejected[0])
    (mangled,) = [r for r in records[1:] if r[0] == "1.22158E+17"]
    permalink = mangled[records[0].index("Permalink")]
    # the post survives: the next, overlapping export carries it with its real id
    later = [r for name in _files_of(truth, "meta_posts") if name != rejected[0] for r in _records(folder / name)[1:]
             if r[records[0].index("Permalink")] == permalink]
    assert len(later) == 1 and later[0][0].endswith(permalink.rsplit("/", 1)[1])


def test_linkedin_workbook_has_description_row_and_metrics_sheet(sample):
    folder, truth = sample
    for name in _files_of(truth, "linkedin"):
        workbook = openpyxl.load_workbook(folder / name, read_only=True)
        assert set(workbook.sheetnames) == {"All posts", "Metrics"}
        rows = list(workbook["All posts"].iter_rows(values_only=True))
        workbook.close()
        assert rows[0][0].startswith("All posts") and all(c is None for c in rows[0][1:])
        assert {"Post title", "Post link", "Created date", "Impressions", "Clicks", "Likes", "Comments",
                "Reposts"} <= set(rows[1])
        assert re.fullmatch(r"\d\d/\d\d/\d{4}", rows[2][rows[1].index("Created date")])


def test_mastodon_archive(sample):
    folder, truth = sample
    (name,) = _files_of(truth, "mastodon")
    with zipfile.ZipFile(folder / name) as archive:
        assert {"outbox.json", "actor.json"} <= set(archive.namelist())
        outbox = json.loads(archive.read("outbox.json"))
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == len(outbox["orderedItems"])
    kinds = {item["type"] for item in outbox["orderedItems"]}
    assert kinds <= {"Create", "Announce"} and "Create" in kinds
    note = next(i["object"] for i in outbox["orderedItems"] if i["type"] == "Create")
    assert note["type"] == "Note" and note["content"].startswith("<p>")


def test_organisation_files_have_the_documented_columns(sample):
    folder, _ = sample
    expected = {
        "roster.csv": "employee_id,full_name,email,department,role_level,start_date,end_date,x_handle,"
                      "instagram_handle,linkedin_handle,mastodon_handle,facebook_name,recognition_opt_in,display_name",
        "donors_private.csv": "donor_name,email,phone,public_acknowledgement",
        "incidents.csv": "incident_id,reported_at,occurred_at,resolved_at,employee_email,department,policy_area,"
                         "severity,detection,post_url,summary",
        "trainings.csv": "employee_email,module,completed_at",
        "policy_versions.csv": "version,effective_on,summary,areas_changed",
        "audience_comments.csv": "platform,post_id,post_url,comment_id,published_at,text",
        "monitoring_posts.csv": "platform,handle,posted_at,text,url,likes,comments,shares",
    }
    for name, header in expected.items():
        assert _records(folder / name)[0] == header.split(","), name


# --- counts -------------------------------------------------------------------------------------------------

HEADER_ROWS = {"qualtrics": 3, "qualtrics_legacy": 2, "surveymonkey": 2}


def _count(folder: Path, name: str, fmt: str) -> int:
    path = folder / name
    if fmt == "mastodon":
        with zipfile.ZipFile(path) as archive:
            return len(json.loads(archive.read("outbox.json"))["orderedItems"])
    if fmt in ("ms_forms", "linkedin"):
        workbook = openpyxl.load_workbook(path, read_only=True)
        sheet = workbook["All posts"] if fmt == "linkedin" else workbook.worksheets[0]
        count = sum(1 for row in sheet.iter_rows(values_only=True) if any(c is not None for c in row))
        workbook.close()
        return count - (2 if fmt == "linkedin" else 1)
    return len(_records(path)) - HEADER_ROWS.get(fmt, 1)


def test_row_counts_match_truth(sample):
    folder, truth = sample
    for name, fmt in truth["files"].items():
        assert _count(folder, name, fmt) == truth["rows"][name], name
    counts = truth["counts"]
    assert truth["rows"]["monitoring_posts.csv"] == counts["employee_posts"] + counts["unattributed_posts"]
    assert truth["rows"]["roster.csv"] == counts["roster"]
    assert sum(truth["rows"][n] for n in _files_of(truth, "x_activity")) == counts["org_posts"]["x"]
    survey_rows = sum(n for name, n in truth["rows"].items() if truth["files"][name] in FORMATS - {
        "x_activity", "x_content", "meta_posts", "instagram", "linkedin", "mastodon", "comments", "monitoring",
        "roster", "donors", "incidents", "trainings", "policy_versions"})
    assert survey_rows == counts["respondents"] == sum(w["responses"] for w in truth["survey"]["waves"])


def test_roster_has_a_small_department_and_joiners(sample):
    folder, _ = sample
    rows = _records(folder / "roster.csv")[1:]
    departments = [r[3] for r in rows]
    assert set(departments) == set(DEPARTMENTS) and len(set(departments)) >= 6
    assert departments.count(SMALL_DEPARTMENT) < 5
    assert any(r[6] for r in rows)  # leavers
    assert all(r[2].endswith("@riverbendtrust.org") for r in rows)
    opted = [r for r in rows if r[12] == "yes"]
    assert opted and all(r[13] for r in opted) and not any(r[13] for r in rows if r[12] == "no")


# --- planted content ----------------------------------------------------------------------------------------

def test_planted_leaks_are_in_the_monitoring_text(sample):
    folder, truth = sample
    monitoring = _records(folder / "monitoring_posts.csv")[1:]
    text_by_url = {r[4]: r[3] for r in monitoring if r[4]}
    donors = _records(folder / "donors_private.csv")[1:]
    private = [d[0] for d in donors if d[3] == "no"]
    kinds = {}
    for leak in truth["leaks"]:
        text = text_by_url[leak["url"]]
        assert leak["url"].rstrip("/").endswith(leak["post_id"])
        check = {"donor_name": lambda t: any(name in t for name in private),
                 "email": lambda t: EMAIL_RE.search(t) is not None,
                 "phone": lambda t: PHONE_RE.search(t) is not None,
                 "gift_amount": lambda t: re.search(r"£\d[\d,]*", t) is not None}[leak["kind"]]
        assert check(text), (leak, text)
        kinds[leak["kind"]] = kinds.get(leak["kind"], 0) + 1
    assert set(kinds) == {"donor_name", "email", "phone", "gift_amount"} and min(kinds.values()) >= 3
    # no other employee post carries a phone number or an email address
    leak_urls = {leak["url"] for leak in truth["leaks"]}
    stray = [r for r in monitoring if (PHONE_RE.search(r[3]) or EMAIL_RE.search(r[3])) and r[4] not in leak_urls]
    assert stray == []


def test_reposts_carry_organisation_post_urls(sample):
    folder, truth = sample
    org_urls = set()
    for name in _files_of(truth, "x_activity"):
        org_urls |= {r[1] for r in _records(folder / name)[1:]}
    for name in _files_of(truth, "meta_posts") + _files_of(truth, "instagram"):
        records = _records(folder / name)
        org_urls |= {r[records[0].index("Permalink")] for r in records[1:]}
    monitoring = _records(folder / "monitoring_posts.csv")[1:]
    org_link = re.compile(r" (https://(?:twitter\.com/riverbendtrust/status/\d+|www\.facebook\.com/104857362918374/posts/"
                          r"\d+|www\.instagram\.com/(?:p|reel)/[\w-]+/|www\.linkedin\.com/feed/update/urn:li:activity:"
                          r"\d+|mastodon\.social/@riverbendtrust/\d+))$")
    shared = [m.group(1) for m in (org_link.search(r[3]) for r in monitoring) if m]
    assert len(shared) == truth["amplification"]["employee_reposts"] > 0
    on_checked_platforms = [u for u in shared if "twitter.com" in u or "facebook.com/1" in u or "instagram.com" in u]
    assert on_checked_platforms and set(on_checked_platforms) <= org_urls


def test_truth_values_are_plausible(sample):
    _, truth = sample
    assert truth["revision"]["version"] == "2.0" and truth["revision"]["effective_on"] == "2025-10-01"
    assert 0.04 < truth["revision"]["adherence_level_change"] < 0.12
    assert 0.3 < truth["revision"]["odds_ratio"] < 0.7
    training = truth["training"]
    assert training["module"] == "social-media-essentials" and training["odds_ratio"] == pytest.approx(0.45)
    assert -0.08 < training["violation_risk_difference"] < -0.01
    assert training["rollout"] == "2026-04-15 .. 2026-05-29"
    survey = truth["survey"]
    assert survey["low_department"] == LOW_DEPARTMENT
    assert -0.62 < survey["construct_gap"] < -0.45 and len(survey["constructs"]) >= 5
    assert 0.6 < survey["observed_response_rate"] < 0.8
    assert truth["sentiment_seasonality"]["peak_month"] == 12
    assert 0.05 < truth["sentiment_seasonality"]["compound_lift"] < 0.5
    assert set(truth["themes"]) == set(THEMES) and sum(truth["themes"].values()) == truth["counts"]["employee_posts"]
    assert truth["counts"]["non_english_posts"] > 0 and truth["counts"]["unattributed_posts"] > 0
    assert 20 <= truth["counts"]["incidents"] <= 120
    # an 18-month window: 2.0 six months in, 3.0 and the training 12 months and two weeks in
    assert truth["policy_versions"] == {"1.0": "2025-04-01", "2.0": "2025-10-01", "3.0": "2026-04-15"}


def test_policy_dates_follow_the_window(sample):
    folder, truth = sample
    rows = _records(folder / "policy_versions.csv")[1:]
    assert [r[0] for r in rows] == ["1.0", "2.0", "3.0"]
    start = date.fromisoformat(truth["parameters"]["start"])
    assert rows[0][1] == start.isoformat() and rows[1][1] == truth["revision"]["effective_on"]
    trainings = _records(folder / "trainings.csv")[1:]
    module = [r for r in trainings if r[1] == "social-media-essentials"]
    assert len(module) == truth["training"]["trained_employees"] > 0
    assert all(rows[2][1] <= r[2][:10] <= truth["training"]["rollout"][-10:] for r in module)


def test_default_window_puts_the_policy_on_the_contract_dates(tmp_path):
    truth = generate(tmp_path, employees=30, scale=0.05)
    assert truth["policy_versions"] == {"1.0": "2024-10-01", "2.0": "2025-04-01", "3.0": "2026-01-15"}
    assert truth["training"]["rollout"] == "2026-01-15 .. 2026-02-28"
    assert len(truth["survey"]["waves"]) == 8


@pytest.mark.parametrize("bad", [{"months": 6}, {"employees": 5}, {"scale": 0}, {"end": "2026-09-30"},
                                 {"seed": -1}])
def test_bad_arguments_say_what_to_do(tmp_path, bad):
    with pytest.raises(ValueError, match="must be"):
        generate(tmp_path, **bad)
