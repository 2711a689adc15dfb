"""Write the social-platform export fixtures in this folder (run: ``python make_posts_fixtures.py``).

Every file imitates the real shape documented in /work/shared/corpus/FORMATS.md, with invented posts
(no real account's data): encodings (BOM, UTF-16, cp1252), line endings, quoting, thousands separators,
``-`` for missing, Excel serial dates and Excel-mangled ids. The files are committed; this script
documents how they were made and re-creates them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

X_METRICS = [
    "impressions", "engagements", "engagement rate", "retweets", "replies", "likes", "user profile clicks",
    "url clicks", "hashtag clicks", "detail expands", "permalink clicks", "app opens", "app installs", "follows",
    "email tweet", "dial phone", "media views", "media engagements",
]
X_HEADER = ["Tweet id", "Tweet permalink", "Tweet text", "time", *X_METRICS, *(f"promoted {m}" for m in X_METRICS)]


def _csv_text(rows: list[list[str]], *, quoting: int = csv.QUOTE_ALL, delimiter: str = ",",
              lineterminator: str = "\n") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=quoting, delimiter=delimiter, lineterminator=lineterminator).writerows(rows)
    return buffer.getvalue()


def _tweet(tweet_id: str, text: str, time: str, *, impressions: str, retweets: str, replies: str, likes: str,
           url_clicks: str, handle: str = "policypulse") -> list[str]:
    metrics = {m: "0.0" for m in X_METRICS}
    metrics.update(impressions=impressions, retweets=retweets, replies=replies, likes=likes,
                   **{"url clicks": url_clicks, "engagement rate": "0.01", "app opens": "0"})
    link = f"https://twitter.com/{handle}/status/{tweet_id}"
    return [tweet_id, link, text, time, *(metrics[m] for m in X_METRICS), *(["-"] * len(X_METRICS))]


def x_activity() -> None:
    """UTF-8, no BOM, LF, every field quoted, newest first; 3 good rows and 4 bad ones."""
    rows = [
        X_HEADER,
        _tweet("1752000000000000001", "Our annual report is out 🎉 Jobs &amp; volunteering https://t.co/abc123",
               "2026-01-30 19:05 +0000", impressions="1938.0", retweets="7.0", replies="2.0", likes="25.0",
               url_clicks="23.0"),
        _tweet("1751000000000000002", "Thread on our policy, part 1\n\nWe changed three things, and here's why:",
               "2026-01-20 10:00 +0100", impressions="4715.0", retweets="1.0", replies="0.0", likes="6.0",
               url_clicks="5.0"),
        _tweet("1750000000000000003", "RT @partnerorg: Volunteers needed &amp; welcome this weekend!",
               "2026-01-15 08:30 +0000", impressions="310.0", retweets="0.0", replies="0.0", likes="0.0",
               url_clicks="0.0"),
        _tweet("8.26144E+17", "An id Excel rounded", "2026-01-12 12:00 +0000", impressions="100.0",
               retweets="0.0", replies="0.0", likes="1.0", url_clicks="0.0"),
        _tweet("1748000000000000005", "Negative likes", "2026-01-10 12:00 +0000", impressions="100.0",
               retweets="0.0", replies="0.0", likes="-3.0", url_clicks="0.0"),
        _tweet("1747000000000000006", "Impressions not a number", "2026-01-08 12:00 +0000", impressions="lots",
               retweets="0.0", replies="0.0", likes="1.0", url_clicks="0.0"),
        _tweet("1746000000000000007", "No usable time", "yesterday", impressions="90.0", retweets="0.0",
               replies="0.0", likes="1.0", url_clicks="0.0"),
    ]
    (HERE / "tweet_activity_metrics_policypulse_20260101_20260201_en.csv").write_text(
        _csv_text(rows), encoding="utf-8", newline="")


def x_activity_utf16() -> None:
    """The activity export re-saved by Excel as "Unicode text": UTF-16 LE with BOM, tabs, CRLF, minimal
    quoting, renamed, and its columns reordered."""
    rows = [
        _tweet("1760000000000000011", "Café morning ☕ with the team, all welcome", "2026-02-27 09:15 +0000",
               impressions="1200.0", retweets="3.0", replies="1.0", likes="14.0", url_clicks="2.0"),
        _tweet("1759000000000000012", "Two lines:\r\nfirst\tand second", "2026-02-20 17:45 -0500",
               impressions="800.0", retweets="0.0", replies="0.0", likes="4.0", url_clicks="1.0"),
        _tweet("1758000000000000013", 'She said "thank you" &lt;3', "2026-02-10 11:00 +0000",
               impressions="650.0", retweets="2.0", replies="0.0", likes="9.0", url_clicks="0.0"),
    ]
    order = list(reversed(range(len(X_HEADER))))
    table = [[X_HEADER[i] for i in order]] + [[row[i] for i in order] for row in rows]
    text = _csv_text(table, quoting=csv.QUOTE_MINIMAL, delimiter="\t", lineterminator="\r\n")
    (HERE / "x_activity_excel_unicode.txt").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))


def x_content() -> None:
    """Newer X content export: CRLF, thousands separators, quoted commas, reordered columns."""
    header = ["Date", "Post id", "Post Link", "Post text", "Impressions", "Likes", "Engagements", "Bookmarks",
              "Shares", "New follows", "Replies", "Reposts", "Profile visits", "Detail Expands", "URL Clicks",
              "Hashtag Clicks", "Permalink Clicks"]
    rows = [
        header,
        ["Tue, Jul 14, 2026", "1944000000000000001", "https://x.com/policypulse/status/1944000000000000001",
         "Thank you, volunteers, for 1,000 hours!", "12,345", "1,024", "1,300", "12", "5", "3", "40", "150",
         "20", "30", "8", "1", "2"],
        ["Mon, Jul 13, 2026", "1943000000000000002", "https://x.com/policypulse/status/1943000000000000002",
         "Line one\nline two &amp; more", "980", "-", "20", "0", "-", "0", "1", "-", "0", "2", "0", "0", "0"],
        ["Sun, Jul 12, 2026", "1.94300E+18", "https://x.com/policypulse/status/1942000000000000003",
         "Mangled", "100", "1", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"],
    ]
    (HERE / "account_analytics_content_2026-06-15_2026-07-14.csv").write_text(
        _csv_text(rows, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"), encoding="utf-8", newline="")


META_HEADER = [
    "Post ID", "Page ID", "Page name", "Title", "Description", "Duration (sec)", "Publish time", "Caption type",
    "Permalink", "Is crosspost", "Is share", "Post type", "Languages", "Custom labels", "Funded content status",
    "Data comment", "Date", "Impressions", "Reach", "Reactions, comments and shares", "Reactions", "Comments",
    "Shares", "Total clicks", "Link clicks", "Other clicks", "Views",
]


def meta_posts() -> None:
    """Business Suite posts CSV: UTF-8 BOM, CRLF, minimal quoting, a mangled id and a negative count."""
    def post(post_id: str, description: str, time: str, kind: str, *, share: str = "No", impressions: str,
             reach: str, reactions: str, comments: str, shares: str, clicks: str, views: str,
             title: str = "") -> list[str]:
        return [post_id, "1234567890", "Policy Pulse Org", title, description, "", time, "",
                f"https://www.facebook.com/1234567890/posts/{post_id.split('_')[-1]}", "No", share, kind, "en",
                "", "", "", "Lifetime", impressions, reach, "", reactions, comments, shares, clicks, "", "", views]

    rows = [
        META_HEADER,
        post("1234567890_1001", "Summer fair, 12 July — bring friends, family,\nand a picnic 🧺", "07/14/2025 10:00",
             "Photos", impressions="2,500", reach="2,100", reactions="120", comments="14", shares="9",
             clicks="300", views="2,600"),
        post("1234567890_1002", "", "07/13/2025 18:30", "Videos", impressions="5000", reach="4000",
             reactions="80", comments="3", shares="12", clicks="150", views="3900", title="Our year in 60 seconds"),
        post("1234567890_1003", "Proud of our partners' work", "07/12/2025 09:05", "Photos", share="Yes",
             impressions="900", reach="850", reactions="30", comments="0", shares="1", clicks="12", views="950"),
        post("1.22158E+17", "Row whose id Excel rounded", "07/11/2025 09:00", "Photos", impressions="10",
             reach="10", reactions="1", comments="0", shares="0", clicks="0", views="10"),
        post("1234567890_1005", "A negative count", "07/10/2025 09:00", "Photos", impressions="10", reach="10",
             reactions="-5", comments="0", shares="0", clicks="0", views="10"),
    ]
    text = "\ufeff" + _csv_text(rows, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    (HERE / "Jun-16-2025_Jul-14-2025_1234567890.csv").write_text(text, encoding="utf-8", newline="")


def meta_legacy() -> None:
    """Legacy Insights post export: cp1252, two header rows, repeated names told apart by row 2."""
    names = ["Post ID", "Permalink", "Post Message", "Type", "Countries", "Languages", "Posted",
             "Audience Targeting", "Lifetime Post Total Reach", "Lifetime Post organic reach",
             "Lifetime Post Total Impressions", "Lifetime Engaged Users", "Lifetime Post Consumers",
             "Lifetime Post Consumptions", "Lifetime Talking About This (Post) by action type",
             "Lifetime Talking About This (Post) by action type", "Lifetime Talking About This (Post) by action type",
             "Lifetime Post Stories by action type", "Lifetime Post Stories by action type",
             "Lifetime Post Stories by action type"]
    descriptions = ["", "The permanent link to your post", "The message of your post", "Type of post", "", "",
                    "The time the post was published", "",
                    "Lifetime: The total number of people your Page post was served to. (Unique Users)",
                    "Lifetime: The number of people who saw your Page post in News Feed. (Unique Users)",
                    "Lifetime: The number of impressions of your Page post. (Total Count)",
                    "Lifetime: The number of people who clicked anywhere in your posts. (Unique Users)",
                    "Lifetime: The number of people who clicked anywhere in your post. (Unique Users)",
                    "Lifetime: The number of clicks anywhere in your post. (Total Count)",
                    "share", "like", "comment", "comment", "share", "like"]
    rows = [
        names, descriptions,
        ["111222333_4001", "https://www.facebook.com/policypulseorg/posts/4001", "Café open day — everyone welcome",
         "Photo", "", "", "10/1/2015 21:00", "", "1500", "1400", "3000", "120", "90", "110", "4", "50", "6",
         "7", "5", "60"],
        ["111222333_4002", "https://www.facebook.com/permalink.php?story_fbid=4002&id=111222333",
         "Thanks to our 200 volunteers,\n see you next year", "Status", "", "", "10/13/2015 9:30", "", "800",
         "800", "1,100", "40", "30", "35", "1", "20", "2", "2", "1", "25"],
        ["111222333_4003", "https://www.facebook.com/policypulseorg/posts/4003", "Bad reach", "Photo", "", "",
         "10/14/2015 9:30", "", "n.a.", "1", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0"],
    ]
    (HERE / "facebook_insights_posts_2015.csv").write_bytes(
        _csv_text(rows, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").encode("cp1252"))


def instagram() -> None:
    """Instagram posts CSV from Business Suite: BOM, every field quoted, ``"15,000"`` numbers."""
    header = ["Post ID", "Account ID", "Account username", "Account name", "Description", "Duration (sec)",
              "Publish time", "Permalink", "Post type", "Data comment", "Date", "Views", "Reach", "Likes",
              "Shares", "Follows", "Comments", "Saves"]
    rows = [
        header,
        ["17900000000000001", "17841400000000000", "policypulse.org", "Policy Pulse",
         "Behind the scenes 🎬\n#volunteers", "31", "03/27/2026 06:08", "https://www.instagram.com/reel/AbC123/",
         "IG reel", "", "Lifetime", "15,000", "9,800", "1,204", "55", "12", "48", "130"],
        ["17900000000000002", "17841400000000000", "policypulse.org", "Policy Pulse", "Thank you, donors!",
         "0", "03/20/2026 18:45", "https://www.instagram.com/p/DeF456/", "IG image", "", "Lifetime", "2,000",
         "1,500", "210", "4", "1", "9", "15"],
        ["17900000000000003", "17841400000000000", "policypulse.org", "Policy Pulse", "Saves unreadable",
         "0", "03/19/2026 18:45", "https://www.instagram.com/p/GhI789/", "IG image", "", "Lifetime", "100",
         "90", "10", "0", "0", "0", "some"],
    ]
    text = "\ufeff" + _csv_text(rows)
    (HERE / "Mar-01-2026_Mar-31-2026_17841400000000000.csv").write_text(text, encoding="utf-8", newline="")


def linkedin() -> None:
    """Page content export: sheet 'All posts' with a description row above the header, dates as date cells,
    Excel serial numbers and text; a 'Metrics' sheet of daily totals."""
    import openpyxl

    workbook = openpyxl.Workbook()
    metrics = workbook.active
    metrics.title = "Metrics"
    metrics.append(["Aggregated daily metrics for your page."])
    metrics.append(["Date", "Impressions (organic)", "Clicks (organic)", "Reactions (organic)"])
    metrics.append(["10/01/2026", 500, 20, 15])
    posts = workbook.create_sheet("All posts", 0)
    posts.append(["All posts published on your page in the selected range. Metrics are lifetime to date."])
    posts.append(["Post title", "Post link", "Post type", "Posted by", "Created date", "Impressions", "Clicks",
                  "Click through rate (CTR)", "Likes", "Comments", "Reposts", "Follows", "Engagement rate"])
    posts.append(["We're hiring: community lead 🚀 Apply by Friday, please share",
                  "https://www.linkedin.com/feed/update/urn:li:activity:7380000000000000001", "Organic",
                  "Ada Admin", dt.datetime(2026, 10, 1), 1200, 45, 0.0375, 60, 5, 7, 2, 0.0975])
    posts.append(["Our policy, explained in three points",
                  "https://www.linkedin.com/feed/update/urn:li:ugcPost:7380000000000000002", "Organic",
                  "Ada Admin", 46297, "1,050", "30", "2.86%", "41", "2", "3", "0", "7.2%"])
    posts.append(["Volunteer spotlight", "https://www.linkedin.com/feed/update/urn:li:activity:7380000000000000003",
                  "Organic", "Ada Admin", "10/03/2026", 300, 12, 0.04, 10, 0, 1, 0, 0.08])
    posts.append([None, None, None, None, None, None, None, None, None, None, None, None, None])
    posts.append(["Clicks went negative", "https://www.linkedin.com/feed/update/urn:li:activity:7380000000000000004",
                  "Organic", "Ada Admin", dt.datetime(2026, 10, 4), 300, -4, 0, 10, 0, 1, 0, 0])
    workbook.save(HERE / "linkedin_content_export.xlsx")


ACTOR_ID = "https://mastodon.example/users/policypulse"
FOLLOWERS = f"{ACTOR_ID}/followers"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _note(status: str, content: str, published: str, *, to: list[str], cc: list[str],
          likes: int | None = None, shares: int | None = None) -> dict:
    note = {
        "id": f"{ACTOR_ID}/statuses/{status}",
        "type": "Note",
        "summary": None,
        "inReplyTo": None,
        "published": published,
        "url": f"https://mastodon.example/@policypulse/{status}",
        "attributedTo": ACTOR_ID,
        "to": to,
        "cc": cc,
        "sensitive": False,
        "content": content,
        "contentMap": {"en": content},
        "attachment": [],
        "tag": [],
        "replies": {"id": f"{ACTOR_ID}/statuses/{status}/replies", "type": "Collection",
                    "first": {"type": "CollectionPage", "next": "...", "partOf": "...", "items": []}},
    }
    if likes is not None:
        note["likes"] = {"id": f"{ACTOR_ID}/statuses/{status}/likes", "type": "Collection", "totalItems": likes}
    if shares is not None:
        note["shares"] = {"id": f"{ACTOR_ID}/statuses/{status}/shares", "type": "Collection", "totalItems": shares}
    return note


def _create(note: dict) -> dict:
    return {"id": f"{note['id']}/activity", "type": "Create", "actor": ACTOR_ID, "published": note["published"],
            "to": note["to"], "cc": note["cc"], "object": note}


def mastodon_outbox() -> dict:
    items = [
        _create(_note("111000000000000001",
                      '<p>Our new policy is live &amp; open for comments 🎉</p><p>Read it here: <a href="https://'
                      'example.org/policy" rel="nofollow noopener" target="_blank"><span class="invisible">https://'
                      '</span><span class="">example.org/policy</span><span class="invisible"></span></a><br />'
                      'Thanks all!</p>', "2026-03-01T12:00:00Z", to=[PUBLIC], cc=[FOLLOWERS], likes=12, shares=3)),
        {"id": f"{ACTOR_ID}/statuses/111000000000000002/activity", "type": "Announce", "actor": ACTOR_ID,
         "published": "2026-03-02T08:15:30Z", "to": [PUBLIC], "cc": ["https://other.example/users/friend", FOLLOWERS],
         "object": "https://other.example/users/friend/statuses/999"},
        _create(_note("111000000000000003", "<p>Followers-only update: café meeting at 10</p>",
                      "2026-03-03T09:00:00Z", to=[FOLLOWERS], cc=[])),
        _create(_note("111000000000000004", "<p>@friend private plans about a donor</p>",
                      "2026-03-04T09:00:00Z", to=["https://other.example/users/friend"], cc=[])),
    ]
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": "outbox.json", "type": "OrderedCollection",
            "totalItems": len(items), "orderedItems": items}


def mastodon() -> None:
    """A bare outbox.json, and .zip / .tar.gz archives with outbox.json, actor.json and a media file."""
    outbox = json.dumps(mastodon_outbox(), ensure_ascii=False, indent=2).encode("utf-8")
    bare = mastodon_outbox()
    bare["orderedItems"] = bare["orderedItems"][:2]
    bare["totalItems"] = 2
    (HERE / "outbox.json").write_bytes(json.dumps(bare, ensure_ascii=False, indent=2).encode("utf-8"))
    actor = json.dumps({"@context": "https://www.w3.org/ns/activitystreams", "id": ACTOR_ID, "type": "Person",
                        "preferredUsername": "policypulse", "name": "Policy Pulse",
                        "outbox": "outbox.json"}).encode("utf-8")
    media = b"\x89PNG\r\n\x1a\n" + bytes(64)
    with zipfile.ZipFile(HERE / "mastodon_archive.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("media_attachments/files/111/original/image.png", media)
        archive.writestr("outbox.json", outbox)
        archive.writestr("actor.json", actor)
        archive.writestr("likes.json", b'{"type": "OrderedCollection", "orderedItems": []}')
    with tarfile.open(HERE / "mastodon_archive.tar.gz", "w:gz") as archive:
        for name, data in (("archive/media_attachments/image.png", media), ("archive/outbox.json", outbox),
                           ("archive/actor.json", actor)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1767225600
            archive.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    for make in (x_activity, x_activity_utf16, x_content, meta_posts, meta_legacy, instagram, linkedin, mastodon):
        make()
