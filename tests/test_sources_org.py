"""Adapters of the organisation's own CSV files: roster, donors, incidents, trainings, policy versions,
audience comments and monitoring posts (fixtures in tests/data/org)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.sources import comments, donors, incidents, monitoring, policy_versions, roster, trainings
from analytics.sources.base import Parsed, ReadContext, SourceError
from analytics.sources.monitoring import post_id_from_url
from analytics.sources.roster import normalise_handle

DATA = Path(__file__).parent / "data" / "org"
REAL_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real"
MODULES = (roster, donors, incidents, trainings, policy_versions, comments, monitoring)
CONTEXT = ReadContext(timezone="Europe/London")

#: The documented header of each format (notes/orgfiles.md).
DOCUMENTED = {
    "roster": "employee_id,full_name,email,department,role_level,start_date,end_date,x_handle,instagram_handle,"
              "linkedin_handle,mastodon_handle,facebook_name,recognition_opt_in,display_name",
    "donors": "donor_name,email,phone,public_acknowledgement",
    "incidents": "incident_id,reported_at,occurred_at,resolved_at,employee_email,department,policy_area,severity,"
                 "detection,post_url,summary",
    "trainings": "employee_email,module,completed_at",
    "policy_versions": "version,effective_on,summary,areas_changed",
    "comments": "platform,post_id,post_url,comment_id,published_at,text",
    "monitoring": "platform,handle,posted_at,text,url,likes,comments,shares",
}

#: Staging columns per table (notes/staging.md).
STAGING = {
    "roster": ["name", "email", "handles", "department", "role_level", "started_on", "left_on",
               "recognition_opt_in", "display_name", "source_row"],
    "donors": ["name", "email", "phone", "public_acknowledgement", "source_row"],
    "incidents": ["incident_id", "reported_at", "occurred_at", "resolved_at", "email", "department", "area",
                  "severity", "detection", "post_url", "summary", "source_row"],
    "trainings": ["email", "module", "completed_at", "source_row"],
    "policy_versions": ["version", "effective_on", "summary", "areas_changed", "source_row"],
    "audience_comments": ["platform", "post_id", "post_url", "comment_id", "published_at", "text", "source_row"],
    "posts": ["platform", "post_id", "handle", "published_at", "text", "url", "impressions", "reach", "reactions",
              "comments", "shares", "clicks", "saves", "video_views", "metrics_as_of", "is_share", "shared_url",
              "source_row"],
}

#: Each fixture with the one format that must claim it (None: none of the seven may).
FIXTURES = {
    "roster.csv": "roster", "roster_variant.csv": "roster", "roster_cp1252.csv": "roster",
    "donors_private.csv": "donors", "incidents.csv": "incidents", "trainings.csv": "trainings",
    "trainings_variant.csv": "trainings", "policy_versions.csv": "policy_versions",
    "audience_comments.csv": "comments", "monitoring_posts.csv": "monitoring", "monitoring_variant.csv": "monitoring",
    "qualtrics_embedded.csv": None, "google_forms_like.csv": None,
}
MAIN_FIXTURES = {
    roster: "roster.csv", donors: "donors_private.csv", incidents: "incidents.csv", trainings: "trainings.csv",
    policy_versions: "policy_versions.csv", comments: "audience_comments.csv", monitoring: "monitoring_posts.csv",
}


def claimed_by(path: Path) -> list[str]:
    head = path.read_bytes()[:65536]
    return [module.FORMAT for module in MODULES if module.sniff(path, head)]


def read(module, name: str) -> tuple[pd.DataFrame, dict[int, str], Parsed]:
    parsed = module.read(DATA / name, CONTEXT)
    (frame,) = parsed.tables.values()
    return frame, {r.source_row: r.reason for r in parsed.rejects}, parsed


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="Europe/London").tz_convert("UTC")


# --- the contract ----------------------------------------------------------------------------------

def test_modules_follow_the_adapter_contract():
    assert [m.FORMAT for m in MODULES] == list(DOCUMENTED)
    for module in MODULES:
        assert isinstance(module.DESCRIPTION, str) and module.DESCRIPTION and "\n" not in module.DESCRIPTION
        assert isinstance(module.TABLES, tuple) and len(module.TABLES) == 1
        assert callable(module.sniff) and callable(module.read)
    assert comments.TABLES == ("audience_comments",) and monitoring.TABLES == ("posts",)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.FORMAT)
def test_every_record_is_staged_or_rejected_once(module):
    frame, reasons, parsed = read(module, MAIN_FIXTURES[module])
    assert parsed.format == module.FORMAT
    assert list(parsed.tables) == list(module.TABLES)
    assert list(frame.columns) == STAGING[module.TABLES[0]]
    assert parsed.rows_read == len(frame) + len(parsed.rejects)
    assert len(frame) > 0 and len(parsed.rejects) > 0
    rows = [*frame["source_row"], *reasons]
    assert len(rows) == len(set(rows)) == parsed.rows_read
    assert frame["source_row"].dtype == "int64"
    assert all(reason.strip() for reason in reasons.values())


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.FORMAT)
def test_staging_dtypes(module):
    frame, _, _ = read(module, MAIN_FIXTURES[module])
    for column in frame.columns:
        dtype = frame[column].dtype
        if column.endswith(("_at", "_on", "_of")):
            assert str(dtype) == "datetime64[us, UTC]", column
        elif column in ("recognition_opt_in", "public_acknowledgement", "is_share"):
            assert pd.api.types.is_bool_dtype(dtype), column
        elif column in STAGING["posts"][6:14]:
            assert dtype == "float64", column
        elif column != "source_row":
            assert pd.api.types.is_string_dtype(dtype), column


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.FORMAT)
def test_header_only_file_gives_an_empty_typed_table(module, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text(DOCUMENTED[module.FORMAT] + "\n", encoding="utf-8")
    parsed = module.read(path, CONTEXT)
    (frame,) = parsed.tables.values()
    assert parsed.rows_read == 0 and frame.empty and not parsed.rejects
    assert list(frame.columns) == STAGING[module.TABLES[0]]
    timestamps = [c for c in frame.columns if c.endswith(("_at", "_on"))]
    assert all(str(frame[c].dtype) == "datetime64[us, UTC]" for c in timestamps)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.FORMAT)
def test_missing_required_columns_name_the_file_and_what_was_found(module, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("colour,size\nred,3\n", encoding="utf-8")
    with pytest.raises(SourceError) as error:
        module.read(path, CONTEXT)
    message = str(error.value)
    assert "wrong.csv" in message and "missing" in message and "found colour, size" in message


def test_blank_file_is_a_source_error(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"blank\.csv.*empty file"):
        roster.read(path, CONTEXT)


# --- sniffing --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), FIXTURES.items())
def test_each_fixture_is_claimed_by_exactly_its_format(name, expected):
    assert claimed_by(DATA / name) == ([expected] if expected else [])


def test_fixtures_have_the_quirks_the_tests_rely_on():
    assert (DATA / "roster_variant.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in (DATA / "roster_variant.csv").read_bytes()
    for name in ("roster_cp1252.csv", "trainings_variant.csv"):
        with pytest.raises(UnicodeDecodeError):
            (DATA / name).read_bytes().decode("utf-8")
    assert b"\r\n" in (DATA / "trainings_variant.csv").read_bytes()
    assert b"\t" in (DATA / "monitoring_variant.csv").read_bytes().split(b"\n")[0]
    assert (DATA / "qualtrics_embedded.csv").read_text(encoding="utf-8").count("ImportId") > 5


@pytest.mark.parametrize("fmt", DOCUMENTED)
def test_documented_header_is_claimed_by_its_format_only(fmt, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(DOCUMENTED[fmt] + "\n", encoding="utf-8")
    assert claimed_by(path) == [fmt]


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(DOCUMENTED, 2)))
def test_a_header_with_two_formats_columns_is_claimed_at_most_once(first, second, tmp_path):
    columns = list(dict.fromkeys(DOCUMENTED[first].split(",") + DOCUMENTED[second].split(",")))
    path = tmp_path / "both.csv"
    path.write_text(",".join(columns) + "\n", encoding="utf-8")
    assert len(claimed_by(path)) == 1


def test_column_order_case_and_spacing_do_not_matter_to_sniffing(tmp_path):
    path = tmp_path / "shuffled.csv"
    path.write_text(" Text ,POSTED AT,Handle,Platform\n", encoding="utf-8")
    assert claimed_by(path) == ["monitoring"]


def test_qualtrics_three_header_rows_are_not_claimed_even_without_its_id_columns(tmp_path):
    # a survey whose only columns are Name/Email/Department answers: only the ImportId row gives it away
    path = tmp_path / "survey.csv"
    path.write_text(
        'Name,Email,Department\nName,Email,Department\n'
        '"{""ImportId"":""QID1_TEXT""}","{""ImportId"":""QID2_TEXT""}","{""ImportId"":""QID3""}"\n'
        'Ada Lee,ada.lee@example.org,Communications\n', encoding="utf-8")
    assert claimed_by(path) == []
    path.write_text("Name,Email,Department\nAda Lee,ada.lee@example.org,Communications\n", encoding="utf-8")
    assert claimed_by(path) == ["roster"]


def test_binary_and_xlsx_heads_are_not_claimed(tmp_path):
    path = tmp_path / "blob.csv"
    path.write_bytes(b"PK\x03\x04xl/workbook.xml\x00\x00email,department,name")
    assert claimed_by(path) == []
    path.write_bytes(b"\x1f\x8b\x08\x81\x8d\x8f\x90\x9d\xff junk, more junk\n")  # bytes cp1252 leaves undefined
    assert claimed_by(path) == []


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda t: t.encode("utf-8"))))
def test_sniffers_answer_any_bytes_without_raising(head):
    path = Path("anything.csv")  # sniffers look at the head only
    assert sum(module.sniff(path, head) for module in MODULES) <= 1


@pytest.mark.skipif(not REAL_CORPUS.exists(), reason="the shared real-export corpus is not next to the checkout")
def test_real_survey_and_x_exports_are_not_claimed():
    files = sorted(p for p in REAL_CORPUS.rglob("*.csv"))
    assert files
    assert {p.name: claimed_by(p) for p in files} == {p.name: [] for p in files}


# --- roster ----------------------------------------------------------------------------------------

def test_roster_happy_path_and_handles():
    frame, _, _ = read(roster, "roster.csv")
    people = frame.set_index("email")
    ada = people.loc["ada.lee@example.org"]
    assert ada["handles"] == ("x:@adalee;instagram:@adalee;mastodon:@ada@mastodon.social;linkedin:ada-lee;"
                              "facebook:Ada Lee")
    assert ada["name"] == "Ada Lee" and ada["department"] == "Communications" and ada["role_level"] == "manager"
    assert ada["recognition_opt_in"] and ada["display_name"] == "Ada"
    assert ada["started_on"] == local("2021-03-01") and pd.isna(ada["left_on"])
    ben = people.loc["ben.okafor@example.org"]
    assert ben["handles"] == "x:@benokafor;linkedin:ben-okafor"  # bare handle and profile URL normalised
    assert ben["left_on"] == local("2025-06-30") and ben["started_on"] == local("2022-09-15")
    assert not ben["recognition_opt_in"] and pd.isna(ben["display_name"])  # display name only when opted in
    chloe = people.loc["chloe.martin@example.org"]
    assert chloe["name"] == "Chloé Martin"
    assert chloe["handles"] == "instagram:@chloe.m;mastodon:@chloe@mastodon.social"
    assert chloe["recognition_opt_in"] and pd.isna(chloe["display_name"])


def test_roster_blank_line_is_not_a_record_and_rows_keep_their_place():
    frame, reasons, parsed = read(roster, "roster.csv")
    assert parsed.rows_read == 10
    assert frame["source_row"].tolist() == [1, 2, 3]
    assert sorted(reasons) == list(range(5, 12))  # the blank 4th line is skipped, not renumbered


def test_roster_reject_reasons():
    _, reasons, parsed = read(roster, "roster.csv")
    assert "invalid email address in email" in reasons[5]
    assert reasons[6].startswith("missing full_name")
    assert "end_date is before start_date" in reasons[7]
    assert reasons[8].startswith("missing department")
    assert "start_date '2024-13-45' is not a date" in reasons[9]
    assert "x_handle is not a valid x handle" in reasons[10]
    assert "recognition_opt_in must be yes or no" in reasons[11]
    # reasons are stored as they are: they never quote a person's email, name or handle
    assert not any(word in " ".join(reasons.values()) for word in ("dan.roe", "Ivy", "ivy poe", "Gia"))
    # a rejected person never reaches the scrubber, so the raw row withholds their identity cells
    raw = {r.source_row: r.raw for r in parsed.rejects}
    assert raw[10] == "E009,[withheld],[withheld],Finance,staff,2024-05-01,,[withheld],,,,,no,"
    assert raw[6] == "E005,,[withheld],Finance,staff,2023-01-09,,,,,,,no,"


def test_roster_aliases_column_order_bom_crlf_and_dayfirst_dates():
    frame, reasons, parsed = read(roster, "roster_variant.csv")
    assert not reasons and parsed.rows_read == 2
    assert frame["name"].tolist() == ["Ada Lee", "Ben Okafor"]
    assert frame["email"].tolist() == ["ada.lee@example.org", "ben@example.org"]
    assert frame["department"].tolist() == ["Communications, Digital", "Finance"]
    assert frame["role_level"].tolist() == ["manager", "staff"]
    # 15/09/2022 shows the file is day-first, so 01/03/2021 is 1 March
    assert frame["started_on"].tolist() == [local("2021-03-01"), local("2022-09-15")]
    assert frame["handles"].tolist() == ["x:@adalee", ""]
    assert frame["display_name"].iloc[0] == "Ada"
    assert not any(c.startswith("\ufeff") for c in frame.columns)


def test_roster_cp1252_semicolon_export():
    frame, reasons, _ = read(roster, "roster_cp1252.csv")
    assert not reasons
    assert frame["name"].tolist() == ["Chloé Martin", "Zoë Ångström"]
    assert frame["department"].tolist() == ["Programmes", "Finance"]
    assert frame["role_level"].isna().all() and not frame["recognition_opt_in"].any()


def test_roster_several_problems_in_one_row_are_all_reported(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("name,email,department,start_date\n,not-an-email,,someday\n", encoding="utf-8")
    _, reasons, _ = read_path(roster, path)
    assert reasons[1].count(";") == 3
    assert "missing name" in reasons[1] and "missing department" in reasons[1]
    assert "invalid email address" in reasons[1] and "'someday' is not a date" in reasons[1]


def read_path(module, path: Path):
    parsed = module.read(path, CONTEXT)
    (frame,) = parsed.tables.values()
    return frame, {r.source_row: r.reason for r in parsed.rejects}, parsed


@pytest.mark.parametrize(("platform", "value", "expected"), [
    ("x", "@AdaLee", "@AdaLee"),
    ("x", "https://twitter.com/adalee", "@adalee"),
    ("instagram", "instagram.com/ada.lee/", "@ada.lee"),
    ("mastodon", "@ada@mastodon.social", "@ada@mastodon.social"),
    ("mastodon", "https://fosstodon.org/@ada", "@ada@fosstodon.org"),
    ("mastodon", "ada", None),
    ("linkedin", "https://www.linkedin.com/in/ada-lee/", "ada-lee"),
    ("linkedin", "Ada Lee", None),
    ("facebook", "Ada Lee", "Ada Lee"),
    ("facebook", "Ada; Lee", None),
    ("x", "ada lee", None),
])
def test_normalise_handle(platform, value, expected):
    assert normalise_handle(platform, value) == expected


# --- donors ----------------------------------------------------------------------------------------

def test_donors_happy_path_and_rejects():
    frame, reasons, parsed = read(donors, "donors_private.csv")
    assert frame["name"].tolist() == ["Margaret Whitfield", "Harbour Trust"]
    assert frame["email"].iloc[0] == "m.whitfield@example.com" and pd.isna(frame["email"].iloc[1])
    assert frame["phone"].iloc[0] == "+44 20 7946 0958"
    assert frame["public_acknowledgement"].tolist() == [False, True]
    assert "invalid email address" in reasons[3] and "Sam" not in reasons[3]
    assert reasons[4].startswith("missing donor_name")
    assert "public_acknowledgement must be yes or no" in reasons[5]
    # a rejected donor is not protected by the scrubber: every reason says so
    assert all("not hidden in posts" in reason for reason in reasons.values())
    raw = {r.source_row: r.raw for r in parsed.rejects}
    assert raw == {3: "[withheld],[withheld],,no", 4: ",[withheld],,no", 5: "[withheld],,,perhaps"}


# --- incidents -------------------------------------------------------------------------------------

def test_incidents_happy_path_with_case_and_space_variants():
    frame, _, _ = read(incidents, "incidents.csv")
    rows = frame.set_index("incident_id")
    assert rows["area"].tolist() == ["confidentiality", "disclosure", "conduct"]
    assert rows["severity"].tolist() == ["high", "medium", "low"]
    assert rows["detection"].tolist() == ["self_reported", "self_reported", "external"]
    first = rows.loc["INC-001"]
    assert first["reported_at"] == local("2025-02-03 10:00") and first["occurred_at"] == local("2025-02-03 09:15")
    assert first["resolved_at"] == local("2025-02-04 12:00")
    assert first["email"] == "ada.lee@example.org" and first["post_url"].endswith("/status/1822334455")
    # the export's own offset wins over the organisation's time zone
    assert rows.loc["INC-002", "reported_at"] == pd.Timestamp("2025-03-10 07:00", tz="UTC")
    assert rows.loc["INC-002", "summary"] == 'No "views are my own" line'
    assert pd.isna(rows.loc["INC-003", "summary"]) and pd.isna(rows.loc["INC-002", "email"])


def test_incident_reject_reasons():
    _, reasons, _ = read(incidents, "incidents.csv")
    assert "in resolved_at is before" in reasons[4] and "reported_at" in reasons[4]
    assert "unknown policy area 'tone'" in reasons[5] and "confidentiality" in reasons[5]
    assert "unknown severity 'critical'" in reasons[6] and "low, medium, high" in reasons[6]
    assert "unknown detection 'rumour'" in reasons[7] and "self_reported" in reasons[7]
    assert "reported_at '2025-13-45 09:00' is not a date" in reasons[8]
    assert reasons[9].startswith("missing reported_at")
    assert "invalid email address in employee_email" in reasons[10]
    assert "mangled by Excel (1.22158E+17)" in reasons[11]
    assert "occurred_at is after" in reasons[12]


# --- trainings -------------------------------------------------------------------------------------

def test_trainings_happy_path_and_rejects():
    frame, reasons, _ = read(trainings, "trainings.csv")
    assert frame["email"].tolist() == ["ada.lee@example.org", "ben.okafor@example.org"]
    assert frame["completed_at"].tolist() == [local("2026-01-20"), local("2026-02-03 14:30")]
    assert "invalid email address" in reasons[3]
    assert reasons[4].startswith("missing module")
    assert reasons[5].startswith("missing completed_at")
    assert "'2026-02-30' is not a date" in reasons[6]


def test_trainings_cp1252_crlf_with_aliases():
    frame, reasons, _ = read(trainings, "trainings_variant.csv")
    assert not reasons
    assert frame["module"].tolist() == ["Médias sociaux – essentiels"] * 2
    assert frame["email"].tolist() == ["ada.lee@example.org", "ben.okafor@example.org"]
    assert frame["completed_at"].tolist() == [local("2026-01-20"), local("2026-02-03")]


# --- policy versions -------------------------------------------------------------------------------

def test_policy_versions_happy_path_and_rejects():
    frame, reasons, _ = read(policy_versions, "policy_versions.csv")
    assert frame["version"].tolist() == ["1.0", "2.0", "3.0"]
    # midnight in the organisation's time zone (BST on 1 April 2025)
    assert frame["effective_on"].tolist() == [local("2024-10-01"), local("2025-04-01"), local("2026-01-15")]
    assert frame["effective_on"].iloc[1] == pd.Timestamp("2025-03-31 23:00", tz="UTC")
    assert frame["areas_changed"].tolist() == ["", "disclosure;mistakes", "learning"]
    assert frame["summary"].iloc[1] == "Clearer disclosure; faster corrections"
    assert "effective_on '2026-13-01' is not a date" in reasons[4]
    assert "unknown policy area 'tone' in areas_changed" in reasons[5]
    assert reasons[6].startswith("missing version")


# --- audience comments -----------------------------------------------------------------------------

def test_comments_keep_text_exactly_and_link_by_id_or_url():
    frame, _, _ = read(comments, "audience_comments.csv")
    assert frame["platform"].tolist() == ["x", "facebook", "instagram"]
    assert frame["comment_id"].tolist() == ["c1", "c2", "c3"]
    assert frame["text"].tolist() == ["Love this!! 😍 Great work, team :)", "So proud &amp; happy",
                                      "Multi\nline comment"]
    assert frame["post_id"].iloc[0] == "1822334455" and pd.isna(frame["post_id"].iloc[1])
    assert frame["post_url"].iloc[1].endswith("pfbid02abc") and pd.isna(frame["post_url"].iloc[2])
    assert frame["published_at"].tolist() == [pd.Timestamp("2026-03-01 10:00", tz="UTC"),
                                              local("2026-03-02 11:00"), local("2026-03-03 12:00")]


def test_comment_reject_reasons():
    _, reasons, _ = read(comments, "audience_comments.csv")
    assert "missing both post_id and post_url" in reasons[4]
    assert reasons[5] == "comment id was mangled by Excel (1.22E+17); re-export without opening in Excel"
    assert "published_at '2026-02-30 12:00' is not a date" in reasons[6]
    assert reasons[7].startswith("missing text")


def test_comments_without_any_post_column_cannot_be_read(tmp_path):
    path = tmp_path / "comments.csv"
    path.write_text("platform,comment_id,published_at,text\nx,c1,2026-03-01,hi\n", encoding="utf-8")
    assert claimed_by(path) == ["comments"]
    with pytest.raises(SourceError, match=r"comments\.csv.*post_id or post_url"):
        comments.read(path, CONTEXT)


# --- monitoring ------------------------------------------------------------------------------------

def test_monitoring_happy_path():
    frame, _, _ = read(monitoring, "monitoring_posts.csv")
    assert frame["platform"].tolist() == ["x", "mastodon", "instagram", "linkedin", "facebook", "x"]
    assert frame["post_id"].tolist()[:5] == ["1822334455", "112233445566", "C5xYz12AbC",
                                             "urn:li:activity:7123456789", "987654"]
    assert pd.isna(frame["post_id"].iloc[5]) and pd.isna(frame["url"].iloc[5])
    assert frame["handle"].tolist()[:2] == ["@adalee", "ada@mastodon.social"]
    assert frame["reactions"].tolist() == [12, 5, 1234, 40, 7, 1]
    assert frame["comments"].tolist() == [3, 0, 10, 2, 1, 0]
    assert frame["shares"].iloc[0] == 4 and pd.isna(frame["shares"].iloc[2])
    assert frame["impressions"].isna().all() and frame["saves"].isna().all()
    assert frame["text"].iloc[2] == "Photo day 📸"
    assert not frame["is_share"].any() and frame["shared_url"].isna().all() and frame["metrics_as_of"].isna().all()
    assert frame["published_at"].iloc[0] == local("2026-03-01 09:00")


def test_monitoring_reject_reasons():
    _, reasons, _ = read(monitoring, "monitoring_posts.csv")
    assert reasons[7] == "likes '-3' is negative: a count cannot be below 0"
    assert reasons[8] == "likes 'many' is not a number"
    assert reasons[9].startswith("missing handle")
    assert "posted_at '2026-02-30 15:00' is not a date" in reasons[10]


def test_monitoring_tab_separated_bom_crlf_aliases_and_offset():
    frame, reasons, _ = read(monitoring, "monitoring_variant.csv")
    assert not reasons
    row = frame.iloc[0]
    assert (row["platform"], row["post_id"], row["handle"]) == ("x", "99", "@adalee")
    assert (row["reactions"], row["comments"], row["shares"]) == (3, 1, 2)
    assert row["text"] == "Thanks &amp; see you"  # a monitoring CSV is plain text: nothing is unescaped
    assert row["published_at"] == pd.Timestamp("2026-03-01 08:00", tz="UTC")


@pytest.mark.parametrize(("url", "platform", "expected"), [
    ("https://x.com/adalee/status/1822334455", "x", "1822334455"),
    ("https://twitter.com/adalee/status/1822334455/photo/1", "x", "1822334455"),
    ("https://twitter.com/adalee/status/123?s=20", "facebook", "123"),
    ("https://x.com/adalee", "x", None),
    ("https://mastodon.social/@ada/112233", "mastodon", "112233"),
    ("https://mastodon.social/users/ada/statuses/112233", "mastodon", "112233"),
    ("https://www.instagram.com/reel/C5xYz12AbC/", "instagram", "C5xYz12AbC"),
    ("https://www.facebook.com/org/posts/pfbid02abc#comments", "facebook", "pfbid02abc"),
    ("https://www.facebook.com/photo.php?fbid=555&set=a.1", "facebook", "555"),
    ("https://www.linkedin.com/in/ada-lee", "linkedin", None),
    ("https://www.linkedin.com/posts/ada-lee_charity-activity-712-xyz", "linkedin", "ada-lee_charity-activity-712-xyz"),
    ("https://www.linkedin.com/", "linkedin", None),
    ("https://example.org/profile", "threads", None),
    (None, "x", None),
])
def test_post_id_from_url(url, platform, expected):
    assert post_id_from_url(url, platform) == expected
