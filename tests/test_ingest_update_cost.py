"""Ingest's cheaper paths for a small update give exactly what the plain ones give: the posts a file replaces
and the ones it inserts (as the plain ``DELETE`` and ``INSERT ... WHERE NOT EXISTS`` decide), the columns of
a frame scrubbed together (as one by one), and a scrubber screening through a caller's connection."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import ingest, privacy, warehouse
from analytics.privacy import Identity, Scrubber

_STAMP = pd.Timestamp("2026-01-01", tz="UTC")


def _posts(rows: list[tuple[str, int | None, str]]) -> pd.DataFrame:
    """Posts (uid, metrics as of day, text) with the columns ingest loads."""
    return pd.DataFrame({
        "post_uid": pd.Series([uid for uid, _day, _text in rows], dtype="string"),
        "platform": "x",
        "post_id": pd.Series([uid.partition(":")[2] for uid, _day, _text in rows], dtype="string"),
        "published_at": _STAMP,
        "text": pd.Series([text for _uid, _day, text in rows], dtype="string"),
        "metrics_as_of": pd.Series([None if day is None else _STAMP + pd.Timedelta(days=day)
                                    for _uid, day, _text in rows], dtype="datetime64[us, UTC]"),
        "source_row": range(len(rows)),
    })


def _plain_load(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """The rule as first written: the latest ``metrics_as_of`` wins (a tie goes to the file)."""
    frame = frame.assign(source_file_sha256="f")
    names = ", ".join(c for c in warehouse.TABLE_COLUMNS["posts"] if c in frame.columns)
    with warehouse.registered(con, "_keys", frame):
        con.execute("""DELETE FROM posts WHERE post_uid IN (
            SELECT k.post_uid FROM _keys k JOIN posts p USING (post_uid) WHERE k.metrics_as_of >= p.metrics_as_of)""")
        con.execute(f"INSERT INTO posts ({names}) SELECT {names} FROM _keys k WHERE NOT EXISTS "
                    "(SELECT 1 FROM posts p WHERE p.post_uid = k.post_uid)")


def test_a_file_replaces_and_inserts_the_posts_the_plain_statements_do(tmp_path):
    stored = _posts([("x:older", 1, "stored"), ("x:newer", 9, "stored"), ("x:tie", 5, "stored"),
                     ("x:undated", None, "stored"), ("x:twice", 2, "stored a"), ("x:twice", 8, "stored b"),
                     ("x:untouched", 3, "stored")])
    incoming = _posts([("x:older", 5, "file"), ("x:newer", 5, "file"), ("x:tie", 5, "file"),
                       ("x:undated", 5, "file"), ("x:twice", 5, "file"), ("x:new", 5, "file"),
                       ("x:new undated", None, "file")])
    tables = {}
    for how in ("plain", "ingest"):
        con = warehouse.connect(tmp_path / f"{how}.duckdb")
        warehouse.insert_frame(con, "posts", stored.assign(source_file_sha256="s"))
        if how == "plain":
            _plain_load(con, incoming)
        else:
            context = ingest._Context(b"k", None, None, con, Scrubber(), {}, None)
            result = ingest.FileResult(path=tmp_path / "f.csv", sha256="f")
            ingest._load(context, {"posts": incoming}, result)
        tables[how] = con.execute("SELECT post_uid, text, metrics_as_of FROM posts ORDER BY ALL").df()
        con.close()
    pd.testing.assert_frame_equal(tables["ingest"], tables["plain"])
    # the cases the rule tells apart are all there: a replaced post, a kept one, two rows of one uid replaced
    kept = dict(zip(tables["plain"]["post_uid"] + "/" + tables["plain"]["text"], tables["plain"]["metrics_as_of"],
                    strict=True))
    assert {"x:older/file", "x:newer/stored", "x:tie/file", "x:undated/stored", "x:twice/file", "x:new/file",
            "x:untouched/stored", "x:new undated/file"} == set(kept)


@pytest.fixture
def scrubber() -> Scrubber:
    return Scrubber([Identity("ab" * 32, names=("Ada Lee",), emails=("ada@rt.org",), handles=("adalee",))],
                    donors=["Jane Donor"])


@pytest.mark.parametrize("together", [True, False])  # one batch; a batch per column (the biggest alone)
def test_columns_scrubbed_together_equal_columns_scrubbed_one_by_one(scrubber, together, monkeypatch):
    batches = []  # the texts scrubbed one by one, per batch
    scrub_at = Scrubber._scrub_at
    monkeypatch.setattr(Scrubber, "_scrub_at",
                        lambda self, texts, changeable: batches.append(len(changeable))
                        or scrub_at(self, texts, changeable))
    screened = []  # per batch: how many texts the RE2 screen took, and whether it cleared some
    changeable = Scrubber._changeable

    def screening(self: Scrubber, texts: list[str]) -> np.ndarray:
        mask = changeable(self, texts)
        screened.append((len(texts), not mask.all()))
        return mask

    monkeypatch.setattr(Scrubber, "_changeable", screening)
    # enough distinct texts for the RE2 screen on the text column, a text in two columns (the url column
    # holds every third), missing values, an empty column
    texts = [f"post {i} by Ada Lee" if i % 7 == 0 else f"post {i} https://x.com/adalee/status/{i}" if i % 5 == 0
             else f"call +44 20 7946 {i:04d}" if i % 11 == 0 else f"plain post {i}"
             for i in range(privacy._BATCH_MIN + 1000)]
    urls = -(-len(texts) // 3)
    # the two columns' distinct texts just fit in one batch, or one more than fits
    monkeypatch.setattr(privacy, "_JOINT_TEXTS", len(texts) + urls - (not together))
    frame = pd.DataFrame({
        "text": pd.Series(texts, dtype="string"),
        "url": pd.Series([t if i % 3 == 0 else None for i, t in enumerate(texts)], dtype="str"),
        "note": pd.Series([None] * len(texts), dtype=object),
        "count": range(len(texts)),
        "post_uid": pd.Series([f"x:Ada Lee {i}" for i in range(len(texts))], dtype="string"),
    })
    scrubbed = scrubber.scrub_frame(frame, keep={"post_uid"})
    naming = int(changeable(scrubber, texts).sum())  # the texts a scrub could change
    naming_urls = int(changeable(scrubber, texts[::3]).sum())
    assert 0 < naming < len(texts) and urls < privacy._BATCH_MIN and naming_urls == urls
    # each column's distinct texts are screened, and only those the screen finds are scrubbed one by one
    # (the url column's alone are too few to screen); together, the url column's texts (a third of the
    # text column's) are not scrubbed a second time
    assert screened == ([(len(texts) + urls, True)] if together else [(len(texts), True), (urls, False)])
    assert batches == ([naming] if together else [naming, naming_urls])
    for column in ("text", "url", "note"):
        pd.testing.assert_series_equal(scrubbed[column], scrubber.scrub_series(frame[column]))
        assert ([None if pd.isna(t) else t for t in scrubbed[column]]
                == [None if pd.isna(t) else scrubber.scrub(t) for t in frame[column]])
    pd.testing.assert_series_equal(scrubbed["post_uid"], frame["post_uid"])  # kept as it was
    pd.testing.assert_series_equal(scrubbed["count"], frame["count"])
    # the planted texts that name her, or link her handle's posts
    naming_ada = sum(i % 7 == 0 or i % 5 == 0 for i in range(len(texts)))
    assert scrubbed["text"].str.contains("[person:ababababab]", regex=False).sum() == naming_ada
    assert frame["text"].str.contains("Ada Lee").any()  # the input is not changed


def test_a_scrubber_screens_through_the_connection_it_is_given(scrubber):
    # the fewest texts the RE2 screen takes
    texts = [f"hello {i}" for i in range(privacy._BATCH_MIN - 2)] + ["hi Ada Lee", "mail ada@rt.org"]
    expected = [scrubber.scrub(t) for t in texts]

    class Counting:
        """A connection that counts the cursors taken of it."""

        def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
            self.con, self.cursors = con, 0

        def cursor(self) -> duckdb.DuckDBPyConnection:
            self.cursors += 1
            return self.con.cursor()

    with duckdb.connect() as con:
        scrubber.database = Counting(con)
        changeable = scrubber._changeable(texts)
        assert scrubber.scrub_many(texts) == expected
        assert scrubber.database.cursors == 2
    assert not changeable[:-2].any() and changeable[-2:].all()  # the screen ran


@settings(max_examples=300, deadline=None)
# years 2 to 9998: a time zone's shift keeps them inside the years Python's datetime has
@given(st.lists(st.one_of(st.none(), st.integers(min_value=-62104060800 * 10**6,
                                                 max_value=253370764799 * 10**6 + 999_999)), max_size=20),
       st.integers(min_value=0, max_value=999), st.sampled_from(["s", "ms", "us", "ns"]),
       st.sampled_from(["UTC", "Europe/London", None]))
def test_iso_times_are_the_timestamps_own(microseconds, nanoseconds, unit, zone):
    values = np.array([np.datetime64("NaT") if m is None else np.datetime64(m, "us") for m in microseconds],
                      dtype="datetime64[us]")
    if unit == "ns":  # the years nanoseconds reach, and a part of a microsecond
        values = values[np.isnat(values) | (np.abs(values.astype(np.int64)) < 9 * 10**15)]
        values = values.astype("datetime64[ns]") + np.timedelta64(nanoseconds, "ns")
    stamps = pd.Series(values.astype(f"datetime64[{unit}]"))  # a coarser unit truncates
    if zone is not None:
        stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(zone)
    epoch = pd.Timestamp(0, tz="UTC")
    assert ingest._isoformats(stamps) == [(epoch if pd.isna(s) else s).isoformat() for s in stamps]
