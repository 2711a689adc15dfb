"""Social-platform post adapters: X, Meta (Facebook), Instagram, LinkedIn, Mastodon.

Fixtures in tests/data/posts/ are invented files of the real shapes (see make_posts_fixtures.py there);
the genuine X exports are read in place from the shared corpus and never copied into the repository.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import importlib.util
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analytics import sources
from analytics.sources import _posts, instagram, linkedin, mastodon, meta, x
from analytics.sources.base import ReadContext, SourceError

DATA = Path(__file__).parent / "data" / "posts"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real"
UTC = ReadContext()
LONDON = ReadContext(timezone="Europe/London")

FIXTURES = {
    "tweet_activity_metrics_policypulse_20260101_20260201_en.csv": "x_activity",
    "x_activity_excel_unicode.txt": "x_activity",
    "account_analytics_content_2026-06-15_2026-07-14.csv": "x_content",
    "Jun-16-2025_Jul-14-2025_1234567890.csv": "meta_posts",
    "facebook_insights_posts_2015.csv": "meta_legacy_insights",
    "Mar-01-2026_Mar-31-2026_17841400000000000.csv": "instagram",
    "linkedin_content_export.xlsx": "linkedin",
    "outbox.json": "mastodon",
    "mastodon_archive.zip": "mastodon",
    "mastodon_archive.tar.gz": "mastodon",
}
SNIFFERS = {
    "x_activity": x.sniff_activity,
    "x_content": x.sniff_content,
    "meta_posts": meta.sniff_posts,
    "meta_legacy_insights": meta.sniff_legacy,
    "instagram": instagram.sniff,
    "linkedin": linkedin.sniff,
    "mastodon": mastodon.sniff,
}
MODULES = {"x": x, "meta": meta, "instagram": instagram, "linkedin": linkedin, "mastodon": mastodon}
MODULE_OF = {"x_activity": "x", "x_content": "x", "meta_posts": "meta", "meta_legacy_insights": "meta",
             "instagram": "instagram", "linkedin": "linkedin", "mastodon": "mastodon"}
MANGLED = "post id was mangled by Excel ({}); re-export without opening in Excel"


def head(path: Path) -> bytes:
    return path.read_bytes()[: 1 << 16]


def read(name: str, context: ReadContext = UTC):
    return MODULES[MODULE_OF[FIXTURES[name]]].read(DATA / name, context)


def posts(parsed) -> pd.DataFrame:
    return parsed.tables["posts"]


def by_reason(parsed) -> dict[int, str]:
    return {r.source_row: r.reason for r in parsed.rejects}


# --- contract shared by every adapter -------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_each_sniffer_claims_its_own_fixtures_and_no_other(name):
    path = DATA / name
    claims = {fmt for fmt, sniff in SNIFFERS.items() if sniff(path, head(path))}
    assert claims == {FIXTURES[name]}
    modules = {key for key, module in MODULES.items() if module.sniff(path, head(path))}
    assert modules == {MODULE_OF[FIXTURES[name]]}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_detect_picks_the_format_from_the_formats_table(name):
    assert sources.detect(DATA / name)[0] == FIXTURES[name]
    for module in (x, meta):
        assert {fmt for fmt, _, _, _ in module.FORMATS} == {f for f, m in MODULE_OF.items() if MODULES[m] is module}


def test_sniffers_reject_other_exports_and_garbage(tmp_path):
    others = [p for p in (CORPUS / "qualtrics").glob("*.csv")] if (CORPUS / "qualtrics").is_dir() else []
    others += [p for p in DATA.parent.rglob("*") if p.is_file() and DATA not in p.parents]
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "monitoring.csv").write_text("platform,handle,posted_at,text,url,likes,comments,shares\n")
    (tmp_path / "other.json").write_text(json.dumps({"type": "OrderedCollection", "items": []}))
    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as archive:
        archive.writestr("likes.json", "{}")
    for path in [*others, *tmp_path.iterdir()]:
        assert not any(sniff(path, head(path)) for sniff in SNIFFERS.values()), path.name


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_record_is_staged_or_rejected_once(name):
    parsed = read(name, LONDON)
    frame = posts(parsed)
    assert parsed.format == FIXTURES[name]
    assert list(frame.columns) == list(_posts.POSTS_COLUMNS)
    assert parsed.rows_read == len(frame) + len(parsed.rejects)
    staged, rejected = set(frame["source_row"]), {r.source_row for r in parsed.rejects}
    assert not staged & rejected and len(staged) == len(frame) and len(rejected) == len(parsed.rejects)
    assert all(r.reason and r.raw for r in parsed.rejects)
    assert str(frame["published_at"].dtype) == "datetime64[us, UTC]"
    assert str(frame["metrics_as_of"].dtype) == "datetime64[us, UTC]"
    assert frame["is_share"].dtype == bool
    assert all(frame[m].dtype == "float64" for m in _posts.METRICS)
    assert frame["post_id"].map(lambda v: isinstance(v, str) and v != "").all()
    assert frame["published_at"].notna().all()
    assert (frame[list(_posts.METRICS)].fillna(0) >= 0).all().all()


# --- genuine X exports, read in place -------------------------------------------------------------------

REAL_X = {
    "tweet_activity_metrics_rOpenSci_20170101_20170201_en.csv": (37, 1, "2017-02-01"),
    "tweet_activity_metrics_rOpenSci_20190101_20190201_en.csv": (31, 28, "2019-02-01"),
    "tweet_activity_metrics_rOpenSci_20210101_20210201_en.csv": (40, 33, "2021-02-01"),
}


@pytest.mark.parametrize("name", sorted(REAL_X))
def test_genuine_x_activity_exports(name):
    path = CORPUS / "x" / name
    if not path.exists():
        pytest.skip(f"genuine X exports not found at {path.parent} (the shared corpus is not checked out beside "
                    "the repository; they are unlicensed and may not be copied into it)")
    rows, multiline, end = REAL_X[name]
    assert x.sniff_activity(path, head(path)) and not x.sniff_content(path, head(path))
    parsed = x.read(path, UTC)
    frame = posts(parsed)
    assert parsed.format == "x_activity" and parsed.rows_read == rows and len(frame) == rows
    assert not parsed.rejects
    raw = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    expected_times = [dt.datetime.strptime(r["time"], "%Y-%m-%d %H:%M %z") for r in raw]
    assert frame["published_at"].tolist() == [pd.Timestamp(t).tz_convert("UTC") for t in expected_times]
    assert frame["published_at"].is_monotonic_decreasing  # the export runs newest first
    assert frame["post_id"].tolist() == [r["Tweet id"] for r in raw]
    assert frame["text"].tolist() == [html.unescape(r["Tweet text"]) for r in raw]
    assert not frame["text"].str.contains("&amp;").any()
    assert frame["text"].str.contains("\n").sum() == multiline
    assert frame["reactions"].tolist() == [float(r["likes"]) for r in raw]
    assert frame["shares"].tolist() == [float(r["retweets"]) for r in raw]
    assert frame["clicks"].tolist() == [float(r["url clicks"]) for r in raw]
    assert frame["impressions"].tolist() == [float(r["impressions"]) for r in raw]
    assert set(frame["handle"]) == {"rOpenSci"}
    assert set(frame["metrics_as_of"]) == {pd.Timestamp(end, tz="UTC")}
    assert frame["source_row"].tolist() == list(range(1, rows + 1))


def test_genuine_x_first_timestamp_matches_the_documented_shape():
    path = CORPUS / "x" / "tweet_activity_metrics_rOpenSci_20170101_20170201_en.csv"
    if not path.exists():
        pytest.skip(f"genuine X exports not found at {path.parent}; they may not be copied into the repository")
    frame = posts(x.read(path, ReadContext(timezone="America/New_York")))
    # FORMATS.md: `time` = `2017-01-30 19:05 +0000`; the export's own offset wins over the org zone.
    assert frame["published_at"].iloc[0] == pd.Timestamp("2017-01-30 19:05", tz="UTC")
    assert frame["metrics_as_of"].iloc[0] == pd.Timestamp("2017-02-01", tz="America/New_York")


# --- X ------------------------------------------------------------------------------------------------

def test_x_activity_fixture_values_and_rejects():
    parsed = read("tweet_activity_metrics_policypulse_20260101_20260201_en.csv", LONDON)
    frame = posts(parsed)
    assert frame["post_id"].tolist() == ["1752000000000000001", "1751000000000000002", "1750000000000000003"]
    assert frame["text"].iloc[0] == "Our annual report is out 🎉 Jobs & volunteering https://t.co/abc123"
    assert frame["text"].iloc[1] == "Thread on our policy, part 1\n\nWe changed three things, and here's why:"
    assert frame["published_at"].iloc[1] == pd.Timestamp("2026-01-20 09:00", tz="UTC")  # +0100 in the file
    assert frame["is_share"].tolist() == [False, False, True]
    assert frame["handle"].unique().tolist() == ["policypulse"]
    assert frame["metrics_as_of"].iloc[0] == pd.Timestamp("2026-02-01", tz="Europe/London")
    first = frame.iloc[0]
    assert (first["impressions"], first["reactions"], first["comments"], first["shares"], first["clicks"]) == (
        1938.0, 25.0, 2.0, 7.0, 23.0)
    assert pd.isna(first["reach"]) and pd.isna(first["saves"]) and pd.isna(first["video_views"])
    reasons = by_reason(parsed)
    assert reasons[4] == MANGLED.format("8.26144E+17")
    assert "'likes'" in reasons[5] and "negative" in reasons[5]
    assert "'impressions'" in reasons[6] and "'lots'" in reasons[6] and "not a number" in reasons[6]
    assert "'time'" in reasons[7] and "'yesterday'" in reasons[7]
    assert "8.26144E+17" not in frame["post_id"].tolist()


def test_x_activity_utf16_excel_text_with_reordered_columns():
    path = DATA / "x_activity_excel_unicode.txt"
    assert path.read_bytes()[:2] == b"\xff\xfe" and b"\t\x00" in path.read_bytes()
    frame = posts(x.read(path, UTC))
    assert len(frame) == 3
    assert frame["text"].tolist() == ["Café morning ☕ with the team, all welcome", "Two lines:\r\nfirst\tand second",
                                      'She said "thank you" <3']
    assert frame["published_at"].iloc[1] == pd.Timestamp("2026-02-20 22:45", tz="UTC")  # -0500
    # renamed file: the handle comes from the permalinks, the export date is unknown
    assert frame["handle"].unique().tolist() == ["policypulse"]
    assert frame["metrics_as_of"].isna().all()
    assert frame["reactions"].tolist() == [14.0, 4.0, 9.0]


def test_x_content_export(tmp_path):
    parsed = read("account_analytics_content_2026-06-15_2026-07-14.csv", LONDON)
    frame = posts(parsed)
    first, second = frame.iloc[0], frame.iloc[1]
    assert first["text"] == "Thank you, volunteers, for 1,000 hours!"
    assert (first["impressions"], first["reactions"], first["comments"], first["saves"], first["clicks"]) == (
        12345.0, 1024.0, 40.0, 12.0, 8.0)
    assert first["shares"] == 150.0 + 5.0  # reposts + shares
    assert first["handle"] == "policypulse"
    # a date without a time is midnight in the organisation's zone (BST in July)
    assert first["published_at"] == pd.Timestamp("2026-07-13 23:00", tz="UTC")
    assert first["metrics_as_of"] == pd.Timestamp("2026-07-14", tz="Europe/London")
    assert second["text"] == "Line one\nline two & more"
    assert pd.isna(second["reactions"]) and pd.isna(second["shares"])  # "-" is missing, not zero
    assert by_reason(parsed) == {3: MANGLED.format("1.94300E+18")}


def test_x_read_names_missing_columns(tmp_path):
    path = tmp_path / "tweets.csv"
    path.write_text('"Tweet id","Tweet permalink","Tweet text","time"\n')
    assert x.sniff(path, head(path))
    path.write_text('"Tweet id","Tweet permalink","Tweet text","when"\n"1","u","t","x"\n')
    with pytest.raises(SourceError, match=r"tweets\.csv.*X export.*found header"):
        x.read(path, UTC)


# --- Meta -----------------------------------------------------------------------------------------------

def test_meta_business_suite_posts():
    path = DATA / "Jun-16-2025_Jul-14-2025_1234567890.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in path.read_bytes()
    parsed = meta.read(path, LONDON)
    frame = posts(parsed)
    assert frame["post_id"].tolist() == ["1234567890_1001", "1234567890_1002", "1234567890_1003"]
    assert frame["platform"].unique().tolist() == ["facebook"]
    assert frame["handle"].unique().tolist() == ["Policy Pulse Org"]
    assert frame["text"].tolist() == ["Summer fair, 12 July — bring friends, family,\nand a picnic 🧺",
                                      "Our year in 60 seconds", "Proud of our partners' work"]
    assert frame["published_at"].iloc[0] == pd.Timestamp("2025-07-14 09:00", tz="UTC")  # 10:00 BST
    assert frame["impressions"].iloc[0] == 2500.0 and frame["reach"].iloc[0] == 2100.0
    assert frame["reactions"].tolist() == [120.0, 80.0, 30.0]  # "Reactions", not "Reactions, comments and shares"
    assert frame["clicks"].tolist() == [300.0, 150.0, 12.0]
    assert frame["video_views"].isna().tolist() == [True, False, True]  # Views only for video posts
    assert frame["is_share"].tolist() == [False, False, True]
    assert frame["metrics_as_of"].iloc[0] == pd.Timestamp("2025-07-14", tz="Europe/London")
    reasons = by_reason(parsed)
    assert reasons[4] == MANGLED.format("1.22158E+17")
    assert "'Reactions'" in reasons[5] and "negative" in reasons[5]


def _rewrite(src: Path, dst: Path, transform, *, encoding: str = "utf-8-sig") -> Path:
    rows = list(csv.reader(io.StringIO(src.read_text(encoding=encoding), newline="")))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(transform(rows))
    dst.write_text(buffer.getvalue(), encoding="utf-8")
    return dst


def test_column_order_does_not_matter(tmp_path):
    source = DATA / "Jun-16-2025_Jul-14-2025_1234567890.csv"
    reversed_copy = _rewrite(source, tmp_path / source.name, lambda rows: [list(reversed(r)) for r in rows])
    original, shuffled = meta.read(source, LONDON), meta.read(reversed_copy, LONDON)
    pd.testing.assert_frame_equal(posts(original), posts(shuffled))
    assert [r.reason for r in original.rejects] == [r.reason for r in shuffled.rejects]


def test_meta_missing_required_column_is_a_source_error(tmp_path):
    source = DATA / "Jun-16-2025_Jul-14-2025_1234567890.csv"
    broken = _rewrite(source, tmp_path / "posts.csv",
                      lambda rows: [["Created" if c == "Publish time" else c for c in rows[0]], *rows[1:]])
    with pytest.raises(SourceError) as error:
        meta.read_posts(broken, UTC)
    message = str(error.value)
    assert "posts.csv" in message and "'Publish time'" in message and "Found columns" in message
    assert "Created" in message


def test_meta_legacy_insights_two_header_rows_cp1252():
    path = DATA / "facebook_insights_posts_2015.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    parsed = meta.read(path, UTC)
    frame = posts(parsed)
    assert parsed.format == "meta_legacy_insights"
    assert frame["text"].tolist() == ["Café open day — everyone welcome",
                                      "Thanks to our 200 volunteers,\n see you next year"]
    assert frame["published_at"].tolist() == [pd.Timestamp("2015-10-01 21:00", tz="UTC"),
                                              pd.Timestamp("2015-10-13 09:30", tz="UTC")]
    # "Lifetime Post Stories by action type" repeats; row 2 says which is like / comment / share
    assert frame["reactions"].tolist() == [60.0, 25.0]
    assert frame["comments"].tolist() == [7.0, 2.0]
    assert frame["shares"].tolist() == [5.0, 1.0]
    assert frame["reach"].tolist() == [1500.0, 800.0] and frame["impressions"].tolist() == [3000.0, 1100.0]
    assert frame["clicks"].tolist() == [110.0, 35.0]
    assert frame["handle"].iloc[0] == "policypulseorg" and pd.isna(frame["handle"].iloc[1])
    assert "'Lifetime Post Total Reach'" in by_reason(parsed)[3]


def test_meta_dates_are_month_first_even_when_the_org_writes_day_first(tmp_path):
    source = DATA / "facebook_insights_posts_2015.csv"
    only_first = _rewrite(source, tmp_path / "legacy.csv", lambda rows: rows[:3], encoding="cp1252")
    frame = posts(meta.read(only_first, ReadContext(dayfirst=True)))
    assert frame["published_at"].tolist() == [pd.Timestamp("2015-10-01 21:00", tz="UTC")]


# --- Instagram ------------------------------------------------------------------------------------------

def test_instagram_posts():
    parsed = instagram.read(DATA / "Mar-01-2026_Mar-31-2026_17841400000000000.csv", LONDON)
    frame = posts(parsed)
    assert frame["platform"].unique().tolist() == ["instagram"]
    assert frame["handle"].unique().tolist() == ["policypulse.org"]
    assert frame["text"].iloc[0] == "Behind the scenes 🎬\n#volunteers"
    assert frame["video_views"].iloc[0] == 15000.0 and pd.isna(frame["video_views"].iloc[1])  # reel vs image
    assert frame["reach"].tolist() == [9800.0, 1500.0]
    assert frame["reactions"].tolist() == [1204.0, 210.0]
    assert frame["saves"].tolist() == [130.0, 15.0]
    assert frame["impressions"].isna().all()
    # 27 March 2026 is before the clocks change (29 March): GMT; 20 March likewise
    assert frame["published_at"].iloc[0] == pd.Timestamp("2026-03-27 06:08", tz="UTC")
    assert frame["metrics_as_of"].iloc[0] == pd.Timestamp("2026-03-31", tz="Europe/London")
    assert by_reason(parsed) == {3: "'Saves' value 'some' is not a number"}


# --- LinkedIn -------------------------------------------------------------------------------------------

def test_linkedin_content_export():
    parsed = linkedin.read(DATA / "linkedin_content_export.xlsx", UTC)
    frame = posts(parsed)
    assert parsed.rows_read == 4  # four posts under the header; the blank row and the Metrics sheet are not records
    assert frame["post_id"].tolist() == [
        "7380000000000000001", "https://www.linkedin.com/feed/update/urn:li:ugcPost:7380000000000000002",
        "7380000000000000003"]
    # a date cell, an Excel serial number and a text date
    assert frame["published_at"].tolist() == [pd.Timestamp(f"2026-10-0{d}", tz="UTC") for d in (1, 2, 3)]
    assert frame["impressions"].tolist() == [1200.0, 1050.0, 300.0]
    assert frame["shares"].tolist() == [7.0, 3.0, 1.0]
    assert frame["text"].iloc[0] == "We're hiring: community lead 🚀 Apply by Friday, please share"
    assert frame["handle"].isna().all() and frame["metrics_as_of"].isna().all()
    reasons = by_reason(parsed)
    assert list(reasons) == [5] and "'Clicks'" in reasons[5] and "negative" in reasons[5]


def test_linkedin_page_name_column_becomes_the_handle(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "ALL POSTS"
    sheet.append(["Post link", "Created date", "Impressions", "Page name"])
    sheet.append(["https://www.linkedin.com/feed/update/urn:li:activity:1", "10/13/2026", 5, "Policy Pulse"])
    workbook.save(tmp_path / "renamed.xlsx")
    frame = posts(linkedin.read(tmp_path / "renamed.xlsx", UTC))
    assert frame["handle"].tolist() == ["Policy Pulse"] and frame["post_id"].tolist() == ["1"]
    assert frame["published_at"].tolist() == [pd.Timestamp("2026-10-13", tz="UTC")]


def test_linkedin_workbook_without_posts_sheet(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "Metrics"
    workbook.save(tmp_path / "metrics_only.xlsx")
    path = tmp_path / "metrics_only.xlsx"
    assert not linkedin.sniff(path, head(path))
    with pytest.raises(SourceError, match=r"metrics_only\.xlsx.*'All posts'.*Metrics"):
        linkedin.read(path, UTC)


# --- Mastodon -------------------------------------------------------------------------------------------

def test_mastodon_html_to_text_keeps_breaks_entities_and_emoji():
    text = mastodon.html_to_text("<p>Hi &lt;team&gt; 👋</p><p>a<br>b<br/>c</p><p>&#39;quoted&#39; &amp; done</p>")
    assert text == "Hi <team> 👋\n\na\nb\nc\n\n'quoted' & done"


@pytest.mark.parametrize("name", ["mastodon_archive.zip", "mastodon_archive.tar.gz"])
def test_mastodon_archive(name):
    parsed = mastodon.read(DATA / name, UTC)
    frame = posts(parsed)
    assert frame["handle"].unique().tolist() == ["policypulse@mastodon.example"]
    assert frame["post_id"].tolist() == ["111000000000000001", "111000000000000002", "111000000000000003"]
    assert frame["text"].iloc[0] == ("Our new policy is live & open for comments 🎉\n\n"
                                     "Read it here: https://example.org/policy\nThanks all!")
    assert frame["url"].iloc[0] == "https://mastodon.example/@policypulse/111000000000000001"
    assert (frame["reactions"].iloc[0], frame["shares"].iloc[0]) == (12.0, 3.0)
    assert frame["impressions"].isna().all() and frame["reach"].isna().all() and frame["comments"].isna().all()
    boost = frame.iloc[1]
    assert boost["is_share"] and boost["text"] == "" and pd.isna(boost["url"])
    assert boost["shared_url"] == "https://other.example/users/friend/statuses/999"
    assert boost["published_at"] == pd.Timestamp("2026-03-02 08:15:30", tz="UTC")
    assert not frame["is_share"].iloc[[0, 2]].any()
    # the direct message is rejected, and its private text is not kept in the reject
    (reject,) = parsed.rejects
    assert reject.source_row == 4 and "direct message" in reject.reason
    assert "donor" not in reject.raw and reject.raw.endswith("111000000000000004/activity")


def test_mastodon_bare_outbox_takes_the_handle_from_the_actor_url():
    frame = posts(mastodon.read(DATA / "outbox.json", UTC))
    assert frame["handle"].unique().tolist() == ["policypulse@mastodon.example"]
    assert len(frame) == 2


def test_mastodon_bad_items_are_rejected_with_reasons(tmp_path):
    outbox = json.loads((DATA / "outbox.json").read_text(encoding="utf-8"))
    first = outbox["orderedItems"][0]
    negative = json.loads(json.dumps(first))
    negative["object"]["likes"]["totalItems"] = -2
    undated = json.loads(json.dumps(first))
    undated["object"]["published"] = "soon"
    undated.pop("published")
    outbox["orderedItems"] += [negative, undated, {"type": "Delete", "id": "d", "object": "x"}, "junk"]
    path = tmp_path / "outbox.json"
    path.write_text(json.dumps(outbox), encoding="utf-8")
    parsed = mastodon.read(path, UTC)
    reasons = by_reason(parsed)
    assert parsed.rows_read == 6 and len(posts(parsed)) == 2
    assert "'likes'" in reasons[3] and "negative" in reasons[3]
    assert "'soon'" in reasons[4]
    assert "'Delete'" in reasons[5] and "not an activity" in reasons[6]


def test_mastodon_unreadable_inputs(tmp_path):
    path = tmp_path / "outbox.json"
    path.write_text('{"type": "OrderedCollection", "orderedItems": [', encoding="utf-8")
    assert mastodon.sniff(path, head(path))
    with pytest.raises(SourceError, match=r"outbox\.json.*JSON"):
        mastodon.read(path, UTC)
    archive_path = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("actor.json", "{}")
    assert not mastodon.sniff(archive_path, head(archive_path))
    with pytest.raises(SourceError, match=r"archive\.zip.*outbox\.json.*actor\.json"):
        mastodon.read(archive_path, UTC)


def test_fixture_generator_reproduces_the_committed_text_fixtures(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_posts_fixtures", DATA / "make_posts_fixtures.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    monkeypatch.setattr(generator, "HERE", tmp_path)
    for make in (generator.x_activity, generator.x_activity_utf16, generator.x_content, generator.meta_posts,
                 generator.meta_legacy, generator.instagram, generator.mastodon):
        make()
    text_fixtures = [n for n in FIXTURES if n.endswith((".csv", ".txt", ".json"))]
    assert len(text_fixtures) == 7
    for name in text_fixtures:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
