"""Write the hostile input corpus into ``files/`` and each file's expected outcome into ``expected.yml``.

Run ``python tests/hostile/make_hostile.py`` to re-create both (the output is committed). Every file is
shaped like a real export (see /work/shared/corpus/FORMATS.md and tests/data/) so it reaches the adapter
it targets, and then breaks it in one way: encodings, line endings, quoting, sizes, columns, dates,
metrics, languages, injection text, invisible characters, NUL bytes. The outcome of each file is stated
here, from what the file contains:

* ``status: loaded`` with ``format``, ``read``, ``loaded``, ``rejected`` (and ``reasons``: words every
  reject of the file's reasons must contain, one entry per reject in file order);
* ``status: failed`` with ``message``: words the error must contain (the file name is always checked);
* ``status: skipped``: the same bytes were loaded under another name.

The two files too big to commit (a 1 MB cell, 50,000 columns) are written by :func:`write_large` into a
temporary folder by the test; their expectations are in :data:`LARGE`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"

# --- the people and donors every file is scrubbed against (invented) ---------------------------------------

ROSTER = [
    # name, email, department, x handle, mastodon handle, linkedin
    ("Priya Raman", "priya.raman@hostile.example", "Communications", "@priyar", "@priya@mastodon.example",
     "priya-raman"),
    ("Grace Okoro", "grace.okoro@hostile.example", "Fundraising", "@graceok", "", "grace-okoro"),
    ("Liam Byrne", "liam.byrne@hostile.example", "Programmes", "@liamb_rt", "", ""),
    ("Mei Chen", "mei.chen@hostile.example", "Programmes", "@meichen", "@mei@mastodon.example", ""),
    ("Omar Haddad", "omar.haddad@hostile.example", "Finance", "", "", "omar-haddad"),
]
#: People only in the cp1252 roster and the roster saved as .xlsx (so their names test decoding).
ROSTER_CP1252 = [("Zoë Núñez", "zoe.nunez@hostile.example", "Programmes", "@zoenunez")]
ROSTER_XLSX_NAMED = [("Ines Duarte", "ines.duarte@hostile.example", "Finance", "@inesd")]
ROSTER_SEMICOLON = [("Kwame Mensah", "kwame.mensah@hostile.example", "Communications", "@kwamem")]
ROSTER_RENAMED = [("Sofia Rossi", "sofia.rossi@hostile.example", "Fundraising", "@sofiar")]
#: (name, email, phone, public acknowledgement)
DONORS = [("Eleanor Voss", "e.voss@donor.example", "+44 20 7946 0011", "no"),
          ("Quentin Marsh", "", "", "no"),
          ("Bramble Foundation", "", "", "yes")]


def all_people() -> list[tuple[str, str, str]]:
    """(name, email, x handle) of every roster person the corpus loads."""
    people = [(p[0], p[1], p[3]) for p in ROSTER]
    people += [(p[0], p[1], p[3]) for p in ROSTER_CP1252 + ROSTER_XLSX_NAMED + ROSTER_SEMICOLON + ROSTER_RENAMED]
    return people


def private_donor_names() -> list[str]:
    return [d[0] for d in DONORS if d[3] == "no"]


# --- text helpers --------------------------------------------------------------------------------------------

def csv_text(rows: list[list[str]], *, delimiter: str = ",", lineterminator: str = "\n",
             quoting: int = csv.QUOTE_MINIMAL) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator, quoting=quoting).writerows(rows)
    return buffer.getvalue()


ROSTER_HEADER = ["employee_id", "full_name", "email", "department", "role_level", "start_date", "end_date",
                 "x_handle", "mastodon_handle", "linkedin_handle", "recognition_opt_in", "display_name"]


def roster_rows(people, start: int = 1) -> list[list[str]]:
    rows = []
    for i, person in enumerate(people, start=start):
        name, email, department, x = person[:4]
        mastodon = person[4] if len(person) > 4 else ""
        linkedin = person[5] if len(person) > 5 else ""
        rows.append([f"H{i:03d}", name, email, department, "staff", "2023-01-09", "", x, mastodon, linkedin, "no", ""])
    return rows


MONITORING_HEADER = ["platform", "handle", "posted_at", "text", "url", "likes", "comments", "shares"]


def post(handle: str, posted_at: str, text: str, status: str, likes="1", comments="0", shares="0",
         platform: str = "x") -> list[str]:
    url = f"https://x.com/{handle.lstrip('@')}/status/{status}" if status else ""
    return [platform, handle, posted_at, text, url, likes, comments, shares]


def monitoring(rows: list[list[str]], **kwargs) -> bytes:
    return csv_text([MONITORING_HEADER, *rows], **kwargs).encode("utf-8")


X_METRICS = ["impressions", "engagements", "engagement rate", "retweets", "replies", "likes",
             "user profile clicks", "url clicks", "hashtag clicks", "detail expands", "permalink clicks",
             "app opens", "app installs", "follows", "email tweet", "dial phone", "media views",
             "media engagements"]
X_HEADER = ["Tweet id", "Tweet permalink", "Tweet text", "time", *X_METRICS, *(f"promoted {m}" for m in X_METRICS)]


def tweet(tweet_id: str, text: str, time: str, *, impressions="100.0", likes="1.0", retweets="0.0") -> list[str]:
    metrics = {m: "0.0" for m in X_METRICS}
    metrics.update(impressions=impressions, likes=likes, retweets=retweets)
    link = f"https://twitter.com/hostileorg/status/{tweet_id}"
    return [tweet_id, link, text, time, *(metrics[m] for m in X_METRICS), *(["-"] * len(X_METRICS))]


def x_activity(rows: list[list[str]], **kwargs) -> str:
    return csv_text([X_HEADER, *rows], quoting=csv.QUOTE_ALL, **kwargs)


GOOGLE_HEADER = ["Timestamp", "Email Address", "I know where to find the social media policy and its guidance.",
                 "Trust [Monitoring of social media posts is fair.]",
                 "Tell us about a social media mistake you saw handled well or badly."]

QUALTRICS_IDS = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
                 "RecordedDate", "ResponseId", "RecipientEmail", "DistributionChannel", "UserLanguage", "Q1", "Q2"]
QUALTRICS_TEXT = ["Start Date", "End Date", "Response Type", "IP Address", "Progress", "Duration (in seconds)",
                  "Finished", "Recorded Date", "Response ID", "Recipient Email", "Distribution Channel",
                  "User Language", "I know what to do if I post something by mistake.",
                  "I feel safe reporting a social media mistake I made."]
QUALTRICS_META = [json.dumps({"ImportId": i}) for i in
                  ("startDate", "endDate", "status", "ipAddress", "progress", "duration", "finished", "recordedDate",
                   "_recordId", "recipientEmail", "distributionChannel", "userLanguage", "QID1", "QID2")]


def qualtrics_row(response_id: str, recorded: str, q1: str = "4", q2: str = "5") -> list[str]:
    return [recorded, recorded, "IP Address", "203.0.113.9", "100", "120", "True", recorded, response_id, "",
            "anonymous", "EN", q1, q2]


def linkedin_workbook(rows: list[list[object]]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "All posts"
    sheet.append(["All posts published on your page in the selected range."])
    sheet.append(["Post title", "Post link", "Post type", "Created date", "Impressions", "Clicks", "Likes",
                  "Comments", "Reposts"])
    for row in rows:
        sheet.append(row)
    fixed = dt.datetime(2026, 1, 1)
    workbook.properties.created = workbook.properties.modified = fixed
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def outbox(notes: list[tuple[str, str, str]]) -> bytes:
    actor = "https://mastodon.example/users/hostileorg"
    items = []
    for status, content, published in notes:
        items.append({
            "id": f"{actor}/statuses/{status}/activity", "type": "Create", "actor": actor, "published": published,
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [f"{actor}/followers"],
            "object": {"id": f"{actor}/statuses/{status}", "type": "Note", "published": published,
                       "url": f"https://mastodon.example/@hostileorg/{status}", "attributedTo": actor,
                       "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [f"{actor}/followers"],
                       "content": content, "likes": {"totalItems": 2}, "shares": {"totalItems": 1}},
        })
    payload = {"@context": "https://www.w3.org/ns/activitystreams", "id": "outbox.json",
               "type": "OrderedCollection", "totalItems": len(items), "orderedItems": items}
    return json.dumps(payload, indent=1, ensure_ascii=False).encode("utf-8")


# --- the corpus ------------------------------------------------------------------------------------------------

Builder = Callable[[], bytes]
CORPUS: list[tuple[str, Builder, dict]] = []


def hostile(name: str, **expected):
    """Register a builder of ``files/<name>`` with its expected outcome."""
    def register(builder: Builder) -> Builder:
        CORPUS.append((name, builder, expected))
        return builder
    return register


# identities first: the roster and donors every later file is scrubbed with
@hostile("roster.csv", status="loaded", format="roster", read=5, loaded=5, rejected=0)
def _roster() -> bytes:
    return csv_text([ROSTER_HEADER, *roster_rows(ROSTER)]).encode("utf-8")


@hostile("donors_private.csv", status="loaded", format="donors", read=3, loaded=3, rejected=0)
def _donors() -> bytes:
    rows = [["donor_name", "email", "phone", "public_acknowledgement"], *[list(d) for d in DONORS]]
    return csv_text(rows).encode("utf-8")


# --- bytes that are no export at all ---
@hostile("empty.csv", status="failed", message=["empty"])
def _empty() -> bytes:
    return b""


@hostile("blank_lines_only.csv", status="failed", message=["empty"])
def _blank() -> bytes:
    return b"\r\n\n   \n\t\r\n"


@hostile("binary_noise.csv", status="failed", message=["no known format"])
def _binary() -> bytes:
    rng = random.Random(8)
    return b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(4096))


@hostile("nul_bytes_monitoring.csv", status="failed", message=["NUL"])
def _nul() -> bytes:
    return monitoring([post("@priyar", "2026-03-01 09:00", "hello\x00world", "9100000001")])


@hostile("corrupt_workbook.xlsx", status="failed", message=["no known format"])
def _corrupt_xlsx() -> bytes:
    return linkedin_workbook([["Post", "https://www.linkedin.com/feed/update/urn:li:activity:1", "Organic",
                               dt.datetime(2026, 3, 1), 10, 1, 1, 0, 0]])[:700]


@hostile("archive_without_outbox.zip", status="failed", message=["no known format"])
def _zip_without_outbox() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("notes.txt", (2026, 1, 1, 0, 0, 0)), "nothing to see")
    return buffer.getvalue()


@hostile("outbox_truncated.json", status="failed", message=["JSON"])
def _outbox_truncated() -> bytes:
    return outbox([("112000000000000001", "<p>cut off</p>", "2026-03-01T12:00:00Z")])[:-40]


# --- headers without rows ---
@hostile("roster_header_only.csv", status="loaded", format="roster", read=0, loaded=0, rejected=0)
def _roster_header() -> bytes:
    return (",".join(ROSTER_HEADER) + "\r\n").encode("utf-8")


@hostile("monitoring_header_only.csv", status="loaded", format="monitoring", read=0, loaded=0, rejected=0)
def _monitoring_header() -> bytes:
    return monitoring([])


@hostile("tweet_activity_metrics_hostileorg_20260101_20260201_en.csv", status="loaded", format="x_activity",
         read=0, loaded=0, rejected=0)
def _x_header() -> bytes:
    return x_activity([]).encode("utf-8")


# --- wrong names for the right bytes ---
@hostile("linkedin_saved_as.csv", status="loaded", format="linkedin", read=2, loaded=2, rejected=0)
def _xlsx_named_csv() -> bytes:
    return linkedin_workbook([
        ["Join our volunteer day", "https://www.linkedin.com/feed/update/urn:li:activity:7390000000000000001",
         "Organic", dt.datetime(2026, 3, 2), 500, 20, 30, 2, 1],
        ["Policy refresh", "https://www.linkedin.com/feed/update/urn:li:activity:7390000000000000002",
         "Organic", dt.datetime(2026, 3, 9), 700, 25, 40, 3, 2],
    ])


@hostile("roster_saved_as.xlsx", status="loaded", format="roster", read=1, loaded=1, rejected=0)
def _csv_named_xlsx() -> bytes:
    return csv_text([ROSTER_HEADER, *roster_rows(ROSTER_XLSX_NAMED, start=40)]).encode("utf-8")


# --- encodings and line endings ---
@hostile("x_activity_utf16_tabs.txt", status="loaded", format="x_activity", read=2, loaded=2, rejected=0)
def _utf16() -> bytes:
    text = x_activity([tweet("1760000000000000101", "Café ☕ morning, all welcome", "2026-02-27 09:15 +0000"),
                       tweet("1760000000000000102", "Two lines:\r\nfirst\tand second", "2026-02-20 17:45 -0500")],
                      delimiter="\t", lineterminator="\r\n")
    return text.encode("utf-16")  # BOM + little-endian, as Excel's "Unicode text"


@hostile("roster_cp1252.csv", status="loaded", format="roster", read=1, loaded=1, rejected=0)
def _cp1252() -> bytes:
    return csv_text([ROSTER_HEADER, *roster_rows(ROSTER_CP1252, start=30)], lineterminator="\r\n").encode("cp1252")


@hostile("roster_bom_semicolons.csv", status="loaded", format="roster", read=1, loaded=1, rejected=0)
def _semicolons() -> bytes:
    text = csv_text([ROSTER_HEADER, *roster_rows(ROSTER_SEMICOLON, start=50)], delimiter=";", lineterminator="\r\n")
    return b"\xef\xbb\xbf" + text.encode("utf-8")


@hostile("monitoring_mixed_line_endings.csv", status="loaded", format="monitoring", read=4, loaded=4, rejected=0)
def _mixed_endings() -> bytes:
    lines = [",".join(MONITORING_HEADER),
             ",".join(post("@graceok", "2026-03-01 09:00", "windows line", "9100000101")),
             ",".join(post("@graceok", "2026-03-02 09:00", "unix line", "9100000102")),
             ",".join(post("@graceok", "2026-03-03 09:00", "old mac line", "9100000103")),
             ",".join(post("@graceok", "2026-03-04 09:00", '"quoted\r\nmulti-line"', "9100000104"))]
    return (lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r" + lines[3] + "\r\n" + lines[4] + "\n").encode()


@hostile("monitoring_cr_only.csv", status="loaded", format="monitoring", read=2, loaded=2, rejected=0)
def _cr_only() -> bytes:
    return monitoring([post("@liamb_rt", "2026-03-05 09:00", "classic mac", "9100000201"),
                       post("@liamb_rt", "2026-03-06 09:00", "still classic", "9100000202")], lineterminator="\r")


@hostile("monitoring_truncated_mid_quote.csv", status="failed", message=["truncated"])
def _truncated() -> bytes:
    cut = "a quoted, long text that the download cut"
    whole = monitoring([post("@meichen", "2026-03-07 09:00", "fine", "9100000301"),
                        post("@meichen", "2026-03-08 09:00", cut, "9100000302")])
    return whole[: whole.index(b"long text")]


@hostile("monitoring_ragged_rows.csv", status="loaded", format="monitoring", read=3, loaded=2, rejected=1,
         reasons=[["missing"]])
def _ragged() -> bytes:
    text = (",".join(MONITORING_HEADER) + "\n"
            + ",".join(post("@meichen", "2026-03-09 09:00", "extra cells", "9100000401")) + ",surplus,more\n"
            + "x,@meichen\n"  # cut short: no time, no text
            + ",".join(post("@meichen", "2026-03-10 09:00", "fine", "9100000402")) + "\n")
    return text.encode()


# --- duplicates ---
@hostile("monitoring_duplicate_rows.csv", status="loaded", format="monitoring", read=4, loaded=2, rejected=2,
         reasons=[["duplicate"], ["duplicate"]])
def _duplicate_rows() -> bytes:
    same = post("@omar", "2026-03-11 09:00", "said twice", "9100000501")
    return monitoring([same, same, same, post("@omar", "2026-03-12 09:00", "said once", "9100000502")])


def _dupfile() -> bytes:
    return monitoring([post("@priyar", "2026-03-13 09:00", "exported twice", "9100000601")])


hostile("monitoring_dupfile_a.csv", status="loaded", format="monitoring", read=1, loaded=1, rejected=0)(_dupfile)
hostile("monitoring_dupfile_b_renamed.csv", status="skipped")(_dupfile)


@hostile("qualtrics_duplicate_response_ids.csv", status="loaded", format="qualtrics", read=3, loaded=2,
         rejected=1, reasons=[["appears twice"]])
def _qualtrics_dups() -> bytes:
    rows = [QUALTRICS_IDS, QUALTRICS_TEXT, QUALTRICS_META,
            qualtrics_row("R_hostile001", "2026-03-02 10:00:00"), qualtrics_row("R_hostile002", "2026-03-02 11:00:00"),
            qualtrics_row("R_hostile001", "2026-03-02 12:00:00")]
    return csv_text(rows).encode("utf-8")


# --- columns ---
@hostile("roster_missing_email_column.csv", status="failed", message=["no known format"])
def _missing_email() -> bytes:
    return b"full_name,department\nNo Email Person,Finance\n"


@hostile("incidents_missing_area_column.csv", status="failed", message=["missing policy_area"])
def _missing_area() -> bytes:
    return b"incident_id,reported_at,severity,detection\nINC-H1,2026-03-01 10:00,low,detected\n"


@hostile("roster_renamed_columns.csv", status="loaded", format="roster", read=1, loaded=1, rejected=0)
def _renamed() -> bytes:
    name, email, department, handle = ROSTER_RENAMED[0]
    return csv_text([["Name", "E-mail Address", "Team", "Twitter Handle", "Start"],
                     [name, email, department, handle, "2024-05-01"]]).encode("utf-8")


@hostile("monitoring_unknown_text_column.csv", status="failed", message=["no known format"])
def _unknown_column() -> bytes:
    return csv_text([["platform", "handle", "posted_at", "post body", "url"],
                     ["x", "@priyar", "2026-03-01 09:00", "hello", ""]]).encode("utf-8")


@hostile("qualtrics_no_import_row.csv", status="failed", message=["no known format"])
def _qualtrics_two_rows() -> bytes:
    return csv_text([QUALTRICS_IDS, QUALTRICS_TEXT, qualtrics_row("R_hostile101", "2026-03-02 10:00:00")]).encode()


# --- dates ---
@hostile("monitoring_dates_four_formats.csv", status="loaded", format="monitoring", read=5, loaded=5, rejected=0)
def _four_formats() -> bytes:
    return monitoring([post("@priyar", "2026-03-14 09:00", "iso", "9100000701"),
                       post("@priyar", "2026-03-15T09:00:00Z", "iso with zone", "9100000702"),
                       post("@priyar", "16/03/2026 09:00", "day first", "9100000703"),
                       post("@priyar", "Tue, Mar 17, 2026", "spelled out", "9100000704"),
                       post("@priyar", "46099", "excel serial", "9100000705")])


@hostile("monitoring_impossible_dates.csv", status="loaded", format="monitoring", read=6, loaded=1, rejected=5,
         reasons=[["not a date"], ["not a date"], ["not a date"], ["not a date"], ["missing"]])
def _impossible_dates() -> bytes:
    return monitoring([post("@graceok", "2026-02-30 10:00", "feb 30", "9100000801"),
                       post("@graceok", "31/02/2026", "feb 31", "9100000802"),
                       post("@graceok", "2026-13-01", "month 13", "9100000803"),
                       post("@graceok", "yesterday", "words", "9100000804"),
                       post("@graceok", "", "no time", "9100000805"),
                       post("@graceok", "2026-03-18 10:00", "fine", "9100000806")])


@hostile("policy_versions_impossible_dates.csv", status="loaded", format="policy_versions", read=3, loaded=1,
         rejected=2, reasons=[["not a date"], ["not a date"]])
def _policy_dates() -> bytes:
    return csv_text([["version", "effective_on", "summary", "areas_changed"], ["9.0", "2026-13-01", "bad", ""],
                     ["9.1", "2026-02-29", "not a leap year", ""], ["9.2", "2026-04-01", "fine", "conduct"]]).encode()


@hostile("google_forms_impossible_timestamp.csv", status="loaded", format="google_forms", read=2, loaded=1,
         rejected=1, reasons=[["not a date"]])
def _google_bad_time() -> bytes:
    return csv_text([GOOGLE_HEADER, ["2026/02/30 10:10:09 AM GMT+1", "", "Agree", "Agree", ""],
                     ["2026/03/02 10:10:09 AM GMT+1", "", "Agree", "Disagree", "ok"]], quoting=csv.QUOTE_ALL).encode()


# --- metrics ---
@hostile("monitoring_negative_metrics.csv", status="loaded", format="monitoring", read=3, loaded=1, rejected=2,
         reasons=[["negative"], ["negative"]])
def _negative() -> bytes:
    return monitoring([post("@liamb_rt", "2026-03-19 09:00", "neg likes", "9100000901", likes="-3"),
                       post("@liamb_rt", "2026-03-20 09:00", "neg shares", "9100000902", shares="-1,000"),
                       post("@liamb_rt", "2026-03-21 09:00", "fine", "9100000903", likes="1,234")])


@hostile("monitoring_non_numeric_metrics.csv", status="loaded", format="monitoring", read=6, loaded=2, rejected=4,
         reasons=[["not a number"], ["not a number"], ["not a number"], ["not a number"]])
def _non_numeric() -> bytes:
    return monitoring([post("@liamb_rt", "2026-03-22 09:00", "words", "9100001001", likes="lots"),
                       post("@liamb_rt", "2026-03-23 09:00", "suffix", "9100001002", comments="12abc"),
                       post("@liamb_rt", "2026-03-24 09:00", "infinite", "9100001003", shares="Infinity"),
                       post("@liamb_rt", "2026-03-25 09:00", "overflow", "9100001004", likes="1e400"),
                       post("@liamb_rt", "2026-03-26 09:00", "dash is missing", "9100001005", likes="-"),
                       post("@liamb_rt", "2026-03-27 09:00", "nan is missing", "9100001006", likes="NaN")])


@hostile("tweet_activity_metrics_hostileorg_20260301_20260401_en.csv", status="loaded", format="x_activity",
         read=4, loaded=1, rejected=3, reasons=[["mangled"], ["negative"], ["number"]])
def _x_metrics() -> bytes:
    return x_activity([tweet("8.26144E+17", "id Excel rounded", "2026-03-02 12:00 +0000"),
                       tweet("1770000000000000202", "negative likes", "2026-03-03 12:00 +0000", likes="-5.0"),
                       tweet("1770000000000000203", "impressions in words", "2026-03-04 12:00 +0000",
                             impressions="lots"),
                       tweet("1770000000000000204", "fine &amp; dandy", "2026-03-05 12:00 +0000")]).encode("utf-8")


# --- surveys in other languages ---
@hostile("google_forms_likert_spanish.csv", status="loaded", format="google_forms", read=2, loaded=2, rejected=0)
def _spanish() -> bytes:
    return csv_text([GOOGLE_HEADER, ["2026/03/03 10:00:00 AM GMT+1", "", "Totalmente de acuerdo", "En desacuerdo", ""],
                     ["2026/03/03 11:00:00 AM GMT+1", "", "De acuerdo", "Ni de acuerdo ni en desacuerdo", "bien"]],
                    quoting=csv.QUOTE_ALL).encode("utf-8")


@hostile("google_forms_likert_finnish.csv", status="loaded", format="google_forms", read=2, loaded=2, rejected=0)
def _finnish() -> bytes:
    return csv_text([GOOGLE_HEADER, ["2026/03/04 10:00:00 AM GMT+1", "", "Täysin samaa mieltä", "Eri mieltä", ""],
                     ["2026/03/04 11:00:00 AM GMT+1", "", "Jokseenkin samaa mieltä", "Samaa mieltä", "hyvä"]],
                    quoting=csv.QUOTE_ALL).encode("utf-8")


# --- text that attacks whoever reads it ---
FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=cmd|' /C calc'!A0",
            "=1+1"]


@hostile("monitoring_formula_injection.csv", status="loaded", format="monitoring", read=6, loaded=6, rejected=0)
def _formulas() -> bytes:
    return monitoring([post("@meichen", f"2026-04-0{i + 1} 09:00", text, f"91000011{i:02d}")
                       for i, text in enumerate(FORMULAS)])


SCRIPTS = ["<script>alert('x')</script> thanks all", "<img src=x onerror=alert(1)> great day",
           "</textarea><svg onload=alert(1)>", "Ask us &lt;script&gt; questions"]


@hostile("monitoring_html_script.csv", status="loaded", format="monitoring", read=4, loaded=4, rejected=0)
def _html() -> bytes:
    return monitoring([post("@meichen", f"2026-04-1{i} 09:00", text, f"91000012{i:02d}")
                       for i, text in enumerate(SCRIPTS)])


@hostile("outbox.json", status="loaded", format="mastodon", read=2, loaded=2, rejected=0)
def _outbox_script() -> bytes:
    return outbox([("112000000000000101", "<p>Hi <script>alert(1)</script> team</p>", "2026-04-02T12:00:00Z"),
                   ("112000000000000102", "<p>Shout-out to Priya Raman &amp; @priyar</p>", "2026-04-03T12:00:00Z")])


@hostile("outbox_lone_surrogate.json", status="loaded", format="mastodon", read=2, loaded=2, rejected=0)
def _outbox_lone_surrogate() -> bytes:
    return outbox([("112000000000000201", "<p>half a pair LONE here</p>", "2026-04-04T12:00:00Z"),
                   ("112000000000000202", "<p>whole pair \U0001f600 here</p>", "2026-04-05T12:00:00Z")]
                  ).replace(b"LONE", b"\\ud800")


#: Texts with invisible and bidirectional characters; each names a roster person the scrubber must catch.
INVISIBLE = ["\u202ePriya Raman\u202c wrote this backwards", "Thanks \u200fGrace Okoro\u200f! שלום עולם",
             "zero\u200bwidth\u200b spaces and Mei Chen", "\u2066Liam Byrne\u2069 isolate", "مرحبا Omar Haddad 👋🏽",
             "family 👨\u200d👩\u200d👧 emoji kept"]


@hostile("monitoring_zero_width_rtl.csv", status="loaded", format="monitoring", read=6, loaded=6, rejected=0)
def _invisible() -> bytes:
    return monitoring([post("@graceok", f"2026-04-2{i} 09:00", text, f"91000013{i:02d}")
                       for i, text in enumerate(INVISIBLE)])


#: Names hidden by characters that look like (or are invisible next to) ordinary spacing.
DISGUISED = ["Priya\u00a0Raman (no-break space) says hi", "Grace  Okoro with two spaces", "Mei\nChen across lines",
             "Li\u200bam Byrne with a zero-width space inside", "Ask ELEANOR VOSS about the gift"]


@hostile("monitoring_disguised_names.csv", status="loaded", format="monitoring", read=5, loaded=5, rejected=0)
def _disguised() -> bytes:
    return monitoring([post("@omar", f"2026-05-0{i + 1} 09:00", text, f"91000014{i:02d}")
                       for i, text in enumerate(DISGUISED)])


@hostile("monitoring_sql_injection.csv", status="loaded", format="monitoring", read=2, loaded=2, rejected=0)
def _sql() -> bytes:
    return monitoring([post("@x'); DROP TABLE posts;--", "2026-04-03 09:00", "Robert'); DROP TABLE posts;--", ""),
                       post("@omar", "2026-04-04 09:00", "1; DELETE FROM employees WHERE 1=1", "9100001501")])


@hostile("Priya Raman personal posts.csv", status="loaded", format="monitoring", read=1, loaded=1, rejected=0)
def _name_in_file_name() -> bytes:
    return monitoring([post("@priyar", "2026-04-05 09:00", "my own file, named after me", "9100001601")])


# --- organisation files with bad choices and identities ---
@hostile("incidents_unknown_choices.csv", status="loaded", format="incidents", read=3, loaded=1, rejected=2,
         reasons=[["unknown severity"], ["unknown policy area"]])
def _incident_choices() -> bytes:
    return csv_text([["incident_id", "reported_at", "employee_email", "policy_area", "severity", "detection"],
                     ["INC-H2", "2026-03-01 10:00", "grace.okoro@hostile.example", "conduct", "catastrophic",
                      "detected"],
                     ["INC-H3", "2026-03-02 10:00", "", "vibes", "low", "detected"],
                     ["INC-H4", "2026-03-03 10:00", "mei.chen@hostile.example", "Confidentiality", "HIGH",
                      "Self Reported"]]).encode()


@hostile("trainings_bad_emails.csv", status="loaded", format="trainings", read=3, loaded=1, rejected=2,
         reasons=[["invalid email"], ["invalid email"]])
def _training_emails() -> bytes:
    return csv_text([["employee_email", "module", "completed_at"],
                     ["liam.byrne(at)hostile.example", "social-media-essentials", "2026-02-01"],
                     ["Liam Byrne", "social-media-essentials", "2026-02-01"],
                     ["liam.byrne@hostile.example", "social-media-essentials", "2026-02-01"]]).encode()


@hostile("roster_bad_rows.csv", status="loaded", format="roster", read=3, loaded=1, rejected=2,
         reasons=[["invalid email"], ["before"]])
def _roster_bad() -> bytes:
    rows = [ROSTER_HEADER,
            ["H090", "Bad Email Person", "bad.email(at)hostile.example", "Finance", "staff", "2024-01-01", "", "", "",
             "", "no", ""],
            ["H091", "Time Traveller", "time.traveller@hostile.example", "Finance", "staff", "2024-01-01",
             "2023-01-01", "", "", "", "no", ""],
            ["H092", "Valid Person", "valid.person@hostile.example", "Finance", "staff", "2024-01-01", "", "", "",
             "", "no", ""]]
    return csv_text(rows).encode()


@hostile("comments_missing_ids.csv", status="loaded", format="comments", read=3, loaded=2, rejected=1,
         reasons=[["missing both"]])
def _comments() -> bytes:
    return csv_text([["platform", "post_id", "post_url", "comment_id", "published_at", "text"],
                     ["x", "9100000101", "", "hc1", "2026-03-01T10:00:00Z", "=1+1 love it"],
                     ["x", "", "", "hc2", "2026-03-01T11:00:00Z", "orphan"],
                     ["x", "9100000102", "", "hc3", "2026-03-01T12:00:00Z", "Great work Mei Chen!"]]).encode()


# --- too big to commit: written by the test ---------------------------------------------------------------------

LARGE = {
    "monitoring_1mb_cell.csv": {"status": "loaded", "format": "monitoring", "read": 2, "loaded": 2, "rejected": 0},
    "monitoring_50000_columns.csv": {"status": "loaded", "format": "monitoring", "read": 2, "loaded": 2,
                                     "rejected": 0},
}


def write_large(folder: Path) -> list[Path]:
    """Write the 1 MB-cell and 50,000-column files into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    big_text = "Priya Raman " + ("lorem ipsum " * 90_000)[: 1 << 20]
    cell = monitoring([post("@meichen", "2026-05-10 09:00", big_text, "9100001701"),
                       post("@meichen", "2026-05-11 09:00", "small", "9100001702")])
    extra = [f"extra column {i}" for i in range(50_000 - len(MONITORING_HEADER))]
    wide = csv_text([MONITORING_HEADER + extra,
                     post("@omar", "2026-05-12 09:00", "wide file", "9100001801") + ["1"] * len(extra),
                     post("@omar", "2026-05-13 09:00", "wide file too", "9100001802")])
    paths = []
    for name, data in (("monitoring_1mb_cell.csv", cell), ("monitoring_50000_columns.csv", wide.encode())):
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    return paths


def main() -> None:
    FILES.mkdir(parents=True, exist_ok=True)
    for old in FILES.iterdir():
        old.unlink()
    expected = {}
    for name, builder, outcome in CORPUS:
        (FILES / name).write_bytes(builder())
        expected[name] = outcome
    header = ("# Expected outcome of every file in files/ (written by make_hostile.py; edit there).\n"
              "# status loaded: read/loaded/rejected counts and, per reject in file order, words its reason\n"
              "# contains; failed: words the error contains; skipped: the same bytes were loaded already.\n")
    (HERE / "expected.yml").write_text(header + yaml.safe_dump(expected, sort_keys=True, allow_unicode=True),
                                       encoding="utf-8")
    print(f"wrote {len(CORPUS)} files to {FILES} (+{len(LARGE)} large ones at test time)")


if __name__ == "__main__":
    main()
