"""The readers' fast paths give exactly what their cell-by-cell paths give, on hostile inputs too."""

from __future__ import annotations

import io
import random
import re

import numpy as np
import pandas as pd
import pytest

from analytics.sources import base, monitoring
from analytics.sources.base import SourceError, read_csv_rows, read_csv_table


def _records(read, path):
    try:
        return read(path)
    except (SourceError, UnicodeDecodeError) as error:
        return type(error).__name__, str(error)


def _table_records(path):
    table = read_csv_table(path)
    return [table.record(i) for i in range(len(table))]


HOSTILE = [
    b"a,b,c\n1,2,3\n",
    b"\xef\xbb\xbfa,b,c\r\n1,2,3\r\n\r\n4,5,6",
    b"a;b;c\n1;\"x;y\";3\n",
    b"a,b\n\"multi\nline\",2\n\"cr\r\nlf\",3\n",
    b"a,b\n\n\n1,2\n,\n  ,  \n",
    b"a,b\n1,2\r3,4\n",
    b"a,b\n\"ab\"c,2\n",
    b"a,b\n\"open,2\n",
    b"a,b\nx\"y,2\n",
    b"a,b\n1,2,3\n4,5\n",
    b"a,b\n1\n2,3\n",
    b"a,b\n\"\",\"\"\"\"\n\"say \"\"hi\"\"\",2\n",
    b"a,b\n,\"a,\"b\"\n",
    "a,b\ncaf\u00e9,\U0001f600\n".encode(),
    "a,b\ncaf\u00e9,2\n".encode("cp1252"),
    "a,b\n1,2\n".encode("utf-16"),
    b"a\tb\tc\n1\t2\t3\n",
    b"a,b\n1,2",
    b"\n\na,b\n1,2\n",
    b"a,b\n1,\"2\"\n",
    b"a,b\n1,\"2\" \n",
    b"a,b\n 1, \"2\"\n",
]


@pytest.mark.parametrize("data", HOSTILE)
def test_table_matches_csv_rows_on_hostile_files(tmp_path, data):
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    assert _records(_table_records, path) == _records(read_csv_rows, path)


def test_table_matches_csv_rows_on_random_files(tmp_path):
    rng = random.Random(7)
    alphabet = ["a", "b", " ", ",", ",", ";", '"', '"', "\n", "\r\n", "\r", "\u00e9"]
    path = tmp_path / "random.csv"
    fast = 0
    for _ in range(250):
        text = "h1,h2,h3\n" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        path.write_bytes(text.encode())
        assert _records(_table_records, path) == _records(read_csv_rows, path), text
        fast += base._regular_csv_table(text.encode()) is not None
    assert fast > 10  # the fast path was exercised, not only the fallback


def _field(rng: random.Random) -> str:
    plain = "".join(rng.choice("ab \u00e9") for _ in range(rng.randint(0, 4)))
    if rng.random() < 0.5:
        return plain
    inner = "".join(rng.choice(['a', ',', ';', '""', "\n", "\r\n", "\r", " "]) for _ in range(rng.randint(0, 5)))
    return f'"{inner}"'


@pytest.mark.parametrize("compared", [None, 5])
def test_table_matches_csv_rows_on_random_regular_files(tmp_path, monkeypatch, compared):
    if compared:  # a record, a quoted field and a CRLF cut by the chunks the bytes are compared in
        monkeypatch.setattr(base, "_BYTES_COMPARED", compared)
    rng = random.Random(11)
    path = tmp_path / "regular.csv"
    fast = 0
    for _ in range(200):
        lines = [",".join(_field(rng) for _ in range(3)) if rng.random() < 0.9 else "" for _ in range(5)]
        text = "h1,h2,h3" + "".join(rng.choice(["\n", "\r\n"]) + line for line in lines)
        if rng.random() < 0.3:  # now and then one flaw: a stray quote, a short or long record, a lone CR
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(['"', ",", "\r", "x"]) + text[at:]
        path.write_bytes(text.encode())
        assert _records(_table_records, path) == _records(read_csv_rows, path), text
        fast += base._regular_csv_table(text.encode()) is not None
    assert fast > 100


@pytest.mark.parametrize("compared", [1, 7, 4096])
def test_byte_positions_are_found_across_the_chunks_compared(monkeypatch, compared):
    monkeypatch.setattr(base, "_BYTES_COMPARED", compared)
    raw = np.random.default_rng(compared).choice(np.frombuffer(b'a,"\n\r', dtype=np.uint8), size=1000)
    values = (34, 10, 13, 44, 59)
    for positions, value in zip(base._byte_positions(raw, values), values, strict=True):
        np.testing.assert_array_equal(positions, np.flatnonzero(raw == value))
    assert [len(p) for p in base._byte_positions(raw[:0], values)] == [0] * len(values)


def test_regular_files_take_the_fast_path(tmp_path):
    data = b'platform,text\nx,"hello, world"\nx,"two\nlines"\n\nx,plain\n'
    assert base._regular_csv_table(data) is not None
    path = tmp_path / "regular.csv"
    path.write_bytes(data)
    table = read_csv_table(path)
    assert [table.record(i) for i in range(len(table))] == read_csv_rows(path)
    assert table.widths.tolist() == [2, 2, 2, 0, 2]


def _cell_by_cell(values: pd.Series, *, timezone: str, dayfirst: bool) -> tuple[list, list]:
    texts = ["" if v is None else v for v in values.tolist()]
    dayfirst = base._decide_dayfirst([t for t in texts if isinstance(t, str)], dayfirst)
    stamps = [base._one_datetime(t, timezone=timezone, dayfirst=dayfirst, date_format=None) for t in texts]
    bad = [s is None and not (isinstance(t, str) and t.strip().lower() in base._MISSING)
           for s, t in zip(stamps, texts, strict=True)]
    return [pd.NaT if s is None else s for s in stamps], bad


def _random_dates(rng: np.random.Generator, n: int, template: str) -> list[str]:
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 900 * 24 * 60, n), unit="min")
    return [d.strftime(template) for d in days]


@pytest.mark.parametrize("template, timezone, dayfirst", [
    ("%m/%d/%Y %H:%M", "UTC", False),
    ("%m/%d/%Y %H:%M", "Europe/London", True),
    ("%d/%m/%Y %H:%M", "Europe/Berlin", False),
    ("%d/%m/%Y", "America/New_York", True),
    ("%m/%d/%Y", "Europe/London", False),
    ("%Y/%m/%d %I:%M:%S %p GMT+1", "UTC", False),
    ("%Y/%m/%d %I:%M:%S %p GMT", "Europe/London", False),
    ("%Y/%m/%d %I:%M:%S %p GMT-5", "UTC", True),
    ("%a, %b %d, %Y", "Europe/London", False),
    ("%d.%m.%Y %H:%M", "Europe/Berlin", True),
])
def test_datetimes_in_bulk_match_cell_by_cell(template, timezone, dayfirst):
    rng = np.random.default_rng(3)
    values = _random_dates(rng, 120, template)
    # the hostile ones: DST gaps and repeats, impossible days, wrong weekdays, blanks, serials, junk
    values += ["03/30/2025 01:30", "10/26/2025 01:30", "31/03/2025 01:30", "02/30/2025 10:00", "13/13/2025",
               "Tue, Sep 30, 2026", "Wed, Sep 30, 2026", "", "  ", "n/a", "-", "45000", "not a date",
               "2025/05/12 6:22:32 AM GMT+1", "2025/05/12 06:22:32 am GMT+1", "2025/13/12 06:22:32 AM GMT+1",
               " 09/30/2025 ", "9/3/2025 1:05"]
    rng.shuffle(values)
    series = pd.Series(values, dtype=object)
    stamps, bad = base.parse_datetimes(series, timezone=timezone, dayfirst=dayfirst)
    want_stamps, want_bad = _cell_by_cell(series, timezone=timezone, dayfirst=dayfirst)
    expected = pd.Series(pd.DatetimeIndex(want_stamps, tz="UTC").as_unit("us"))
    pd.testing.assert_series_equal(stamps.reset_index(drop=True), expected, check_names=False)
    assert bad.tolist() == want_bad


URLS = [
    "https://x.com/adalee/status/1822334455/photo/1", "https://twitter.com/a/statuses/12", "https://x.com/a",
    "https://X.COM/ada/status/abc/99", "https://mastodon.social/@ada/112233445566", "HTTPS://www.Instagram.com/p/C5x/",
    "https://www.facebook.com/permalink.php?story_fbid=123&id=4", "https://www.facebook.com/photo.php?fbid=9",
    "https://www.facebook.com/ada.lee/posts/1000000000032441", "https://www.linkedin.com/in/ada-lee",
    "https://www.linkedin.com/feed/update/urn:li:activity:7246660950717766784/", "https://example.org/a/b.php",
    "https://host:8080/a/b", "https://user@host/a/b", "https://h/a/b#frag", "https://h/a b/c", "http://h//a//b//",
    "x.com/ada/status/1", "https://max.com/a/55/b", "https://h/\u00e9/1", "https://h/a/\u00b2", "ftp://h/a/b",
    "https://[::1]/a/b", "  https://x.com/a/status/7  ", "https://h/company/acme", "https://h/pub/x/y",
]


@pytest.mark.parametrize("platform", ["x", "mastodon", "facebook", "linkedin", "instagram", None])
def test_post_ids_without_urlsplit_match_urlsplit(monkeypatch, platform):
    fast = [monitoring.post_id_from_url(url, platform) for url in URLS]
    monkeypatch.setattr(monitoring, "_SIMPLE_URL", re.compile(r"(?!)"))
    assert fast == [monitoring.post_id_from_url(url, platform) for url in URLS]


@pytest.mark.parametrize("platform", ["x", "mastodon", "facebook", "linkedin", "instagram", "threads", None])
def test_post_ids_by_shape_match_post_id_from_url(platform):
    rng = random.Random(5)
    pieces = ["/", "//", "status", "statuses", "in", "company", "pub", "school", "123", "0", "a.php", ".php",
              "@ada", "x.com", "p", "C5x-_", "\u00b2", "\u0663", "?q=1", "#f", ":", "%20", " ", "urn:li:1"]
    hosts = ["x.com", "X.Com", "max.com", "twitter.com", "mobile.twitter.com", "www.instagram.com", "h", "h:80"]
    urls = [*URLS, None, "", "   "]
    for _ in range(3000):
        path = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        urls.append(f"{rng.choice(['https', 'http', 'HTTPS', 'ftp'])}://{rng.choice(hosts)}/{path}")
        segments = [rng.choice(pieces[2:]) for _ in range(rng.randint(1, 4))] + [str(rng.randint(0, 10**6))]
        urls.append(f"https://{rng.choice(hosts)}/" + "/".join(segments) + rng.choice(["", "/", "//"]))
    platforms = [platform] * len(urls)
    assert monitoring._post_ids(pd.Series(urls, dtype=object), pd.Series(platforms, dtype=object)).tolist() == [
        monitoring.post_id_from_url(url, platform) for url in urls]
    fast = sum(bool(url) and (monitoring._STATUS_URL if platform in {"x", "mastodon"}
                              else monitoring._LAST_SEGMENT_URL).fullmatch(url) is not None for url in urls)
    assert fast > 100


def test_numbers_by_distinct_value_match_cell_by_cell():
    rng = random.Random(9)
    cells = ["1", "1,234", " 7 ", "7.0", "-3", "12%", "-", "n/a", "", "x", "Infinity", "1e400", "\u00a012",
             "0x10", "1_000", "\u0663", "9007199254740993", "-9223372036854775809", "18446744073709551616"]
    values = [rng.choice(cells) if rng.random() < 0.9 else None for _ in range(5000)] + [np.nan, pd.NA]
    series = pd.Series(values, dtype=object)
    numbers, bad = base.parse_numbers(series)
    want_numbers, want_bad = base._number_cells(series.to_numpy(dtype=object), text_only=True)
    np.testing.assert_array_equal(numbers.to_numpy(), want_numbers)
    assert bad.tolist() == want_bad.tolist()
    # cells that are not all text are not grouped: True and 1 parse differently
    mixed = pd.Series([True, 1, "1"] * 500, dtype=object)
    assert base.parse_numbers(mixed)[1].tolist() == [True, False, False] * 500


ISO_TEXTS = [
    "2024-09-30T23:05:46Z", "2024-09-30", "2024-09-30 10:00+0100", "2024-09-30 10:00 -01:00", "2024-09-3",
    "2024-9-30", "20240930", "2024/09/30", "2024-09-30Z ", "Z", "+0100", "-01:00", "2024-09-30T10:00+01",
    "2024-09-30T10:00+1:00", "2024-09-30 10:00 z", "a2024-09-30", "2024-09-30\n", "2024-09-30T10:00:00+01:00x",
    "2024-09-30T10:00:00.123456+00:00", "2024-09-30T10:00-0530", "9999-99-99", "2024-09-30 +01:0", "+01:00",
]


@pytest.mark.parametrize("extra", [[], ["\u0663\u0660\u0662\u0664-09-30", "2024-09-30 10:00 +\u0660\u0661:00"]])
def test_iso_shapes_by_position_match_the_patterns(extra):
    rng = random.Random(13)
    for _ in range(300):
        texts = pd.Series(rng.sample(ISO_TEXTS, rng.randint(1, 4)) + extra, dtype="string")
        shapes = base._IsoShapes.of(texts)
        by_pattern = base._IsoShapes(texts, None, shapes.lengths, shapes.lengths)
        assert shapes.all_dated() == texts.str.match(r"^\d{4}-\d{2}-\d{2}").all() == by_pattern.all_dated()
        expected = texts.str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$", regex=True).to_numpy(dtype=bool)
        assert shapes.with_offset().tolist() == expected.tolist() == by_pattern.with_offset().tolist()
        assert (shapes.buffer is None) == bool(extra)


def _write_workbook(path, sheets):
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)


def _opened(path, *, data_only=True):
    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=data_only)


def _openpyxl_rows(path, *, data_only, sheet=None, max_row=None):
    book = _opened(path, data_only=data_only)
    try:
        worksheet = book[sheet] if sheet else book.worksheets[0]
        return [list(r) for r in worksheet.iter_rows(max_row=max_row, values_only=True)]
    finally:
        book.close()


def test_one_opened_workbook_gives_what_openpyxl_gives(tmp_path):
    import datetime as dt

    path = tmp_path / "export.bin"  # not called .xlsx: openpyxl would refuse the name
    rows = [["id", "when", "n", None, "text"], [7, dt.datetime(2026, 1, 2, 3, 4), 1.5, None, "a"], [], [None, None],
            ["0012", dt.date(2026, 1, 3), True, "x", ""]]
    _write_workbook(path, {"First": rows, "All posts": [["a"], *[[i, str(i)] for i in range(30)]]})
    base.forget_workbook(path)
    opened = base.workbook(path)
    assert base.workbook(path, data_only=False) is opened  # no formulas: one workbook for both
    for data_only in (True, False):
        for sheet in (None, "All posts"):
            for max_row in (1, 2, 6, None):
                want = _openpyxl_rows(path, data_only=data_only, sheet=sheet, max_row=max_row)
                assert base.workbook(path, data_only=data_only).rows(sheet, max_row=max_row) == want
    assert base.read_xlsx_rows(path, sheet="All posts") == _openpyxl_rows(path, data_only=True, sheet="All posts")
    assert base.workbook(path) is not opened  # the reader is done with the file: it was let go


def _rewrite_sheets(path, change):
    """Rewrite the workbook at ``path`` with ``change`` (bytes to bytes) applied to each sheet's XML."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, change(data) if name.startswith("xl/worksheets/") else data)


def _with_dimension(path, ref):
    """Rewrite the workbook at ``path`` so that its sheets declare the size ``ref`` (``None``: declare none)."""
    declared = b"" if ref is None else b'<dimension ref="' + ref.encode() + b'"/>'
    _rewrite_sheets(path, lambda sheet: re.sub(rb"<dimension [^>]*/>", declared, sheet))


@pytest.mark.parametrize("ref", [None, "A1:C3", "A1:B2", "B2:C3", "A1"])
def test_a_sheet_is_sized_as_openpyxl_sizes_it(tmp_path, monkeypatch, ref):
    """openpyxl's own sizing parses a sheet to its end when it declares no size; ours stops at the cells, and
    finds the same size (none, or the declared one, which bounds the rows read) and so the same rows."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    path = tmp_path / f"sized-{ref}.xlsx"
    _write_workbook(path, {"Sheet": [["a", "b", "c"], [1, 2, 3], [4, 5, 6]]})
    _with_dimension(path, ref)
    base.forget_workbook(path)
    ours = base.workbook(path)
    sized = ours._workbook.worksheets[0]
    got = (sized.min_column, sized.min_row, sized.max_column, sized.max_row), base.read_xlsx_rows(path)
    monkeypatch.setattr(ReadOnlyWorksheet, "_get_size", ReadOnlyWorksheet._openpyxl_get_size)
    book = _opened(path)
    theirs = book.worksheets[0]
    want = ((theirs.min_column, theirs.min_row, theirs.max_column, theirs.max_row),
            [list(row) for row in theirs.iter_rows(values_only=True)])
    book.close()
    assert got == want
    assert (want[0][3] is None) == (ref is None)  # a sheet without a size, and sheets with one, were compared


def test_a_sheet_declaring_entities_is_refused_as_openpyxl_refuses_it(tmp_path, monkeypatch):
    """The sizing reads the sheet's head with openpyxl's own parser: where openpyxl refuses entities (defusedxml
    installed), so does it; where openpyxl would take them, so does it."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    path = tmp_path / "entities.xlsx"
    _write_workbook(path, {"Sheet": [["a"], [1]]})
    bomb = b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    _rewrite_sheets(path, lambda sheet: bomb + sheet[sheet.index(b"<worksheet"):].replace(
        b"<dimension ", b'<sheetPr><tabColor rgb="&b;"/></sheetPr><dimension ', 1))

    def outcome():
        base.forget_workbook(path)
        try:
            return base.read_xlsx_rows(path)
        except Exception as error:  # what went wrong, compared below
            return type(error)

    ours = outcome()
    monkeypatch.setattr(ReadOnlyWorksheet, "_get_size", ReadOnlyWorksheet._openpyxl_get_size)
    assert ours == outcome()


def test_workbooks_with_formulas_are_opened_per_mode(tmp_path):
    path = tmp_path / "formulas.xlsx"
    _write_workbook(path, {"Sheet": [["a", "=1+1"], [1, "=A2*2"]]})
    base.forget_workbook(path)
    assert base.workbook(path, data_only=False) is not base.workbook(path, data_only=True)
    assert base.workbook(path, data_only=False).rows(max_row=2) == _openpyxl_rows(path, data_only=False, max_row=2)
    assert base.workbook(path, data_only=True).rows(max_row=2) == [["a", None], [1, None]]  # never calculated


def test_a_changed_workbook_is_read_afresh(tmp_path):
    path = tmp_path / "changing.xlsx"
    _write_workbook(path, {"Sheet": [["before"]]})
    assert base.workbook(path).rows(max_row=1) == [["before"]]
    _write_workbook(path, {"Sheet": [["after", "and more"]]})
    assert base.workbook(path).rows(max_row=1) == [["after", "and more"]]


def test_an_error_reading_the_first_rows_is_raised_each_time(tmp_path):
    path = tmp_path / "sheets.xlsx"
    _write_workbook(path, {"Sheet": [["a"]]})
    for _ in range(2):
        with pytest.raises(KeyError):
            base.workbook(path).rows("Missing", max_row=1)
    with pytest.raises(SourceError, match="expected a sheet named 'Missing'"):
        base.read_xlsx_rows(path, sheet="Missing")
    path.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(SourceError, match="unreadable file"):
        base.read_xlsx_rows(path)
