"""engagement.link_keys_sql (URLs and quotes found by DuckDB's RE2) gives exactly what link_keys gives."""

from __future__ import annotations

import re

import duckdb
import pandas as pd
import pytest

from analytics import engagement


def _both(posts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    con = duckdb.connect()
    try:
        con.register("t", posts)
        fast = engagement.link_keys_sql(con, "SELECT post_uid, account_type, text, url, shared_url FROM t")
    finally:
        con.close()
    slow = engagement.link_keys(posts)

    def ordered(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.sort_values(["post_uid", "kind", "pos", "key"], ignore_index=True)

    return ordered(fast), ordered(slow)


def _posts(texts: list, kind: str = "employee", **columns) -> pd.DataFrame:
    return pd.DataFrame({"post_uid": [f"p{i}" for i in range(len(texts))], "account_type": kind,
                         "text": pd.Series(texts, dtype=object), "url": None, "shared_url": None, **columns})


_ALL = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)
_URL_CLASSES = [("h", "[hH]"), ("t", "[tT]"), ("p", "[pP]"), ("s", r"[sS\x{17f}]"), ("w", "[wW]"),
                ("[a-z0-9]", f"[0-9{engagement._LETTER}]"), ("[a-z0-9.-]", f"[0-9{engagement._LETTER}.\\-]"),
                ("[a-z]", f"[{engagement._LETTER}]")]
_QUOTE_CLASSES = [('[\"“]', r"[\x{22}\x{201c}]"), ('[^\"“”]', r"[^\x{22}\x{201c}\x{201d}]"),
                  ('[\"”]', r"[\x{22}\x{201d}]")]


def test_each_character_class_takes_exactly_the_code_points_python_takes():
    negated = engagement._URL_IN_TEXT_RE2[engagement._URL_IN_TEXT_RE2.rindex("[^"):-1]
    pairs = [(python, re2, re.IGNORECASE) for python, re2 in _URL_CLASSES]
    pairs += [(r"[^\s\"'<>)\]”]", negated, re.IGNORECASE)] + [(p, r, 0) for p, r in _QUOTE_CLASSES]
    con = duckdb.connect()
    try:
        for python, re2, flags in pairs:
            assert re2 in engagement._URL_IN_TEXT_RE2 + engagement._QUOTE_RE2, re2
            [[found]] = con.execute("SELECT regexp_extract_all(?, ?)", [_ALL, re2]).fetchall()
            assert "".join(found) == "".join(re.findall(python, _ALL, flags)), python
    finally:
        con.close()


def test_code_points_python_treats_specially_in_every_place_of_a_url_or_quote_are_treated_alike():
    # non-ASCII letters Python's case-insensitive classes take, non-ASCII spaces its \s takes, quotation
    # marks, ASCII, and a sample of the rest, each in every part of a URL and of a quote
    special = [c for c in _ALL if c.isascii() or c.isspace() or c in "“”‘’«»" or c.lower().isascii()
               or c.upper().isascii() or c.casefold().isascii()]
    texts = [f"{c}ht{c}tps://{c}ww{c}.a{c}b.{c}or{c}g/{c}p{c}q hTTp{c}://wWw.x{c}.c{c}{c}/r "
             f'"{c}twenty characters or more{c}" “quote of twenty chars{c}”' for c in [*special, *_ALL[::211]]]
    fast, slow = _both(_posts(texts))
    assert len(slow) > len(texts)
    pd.testing.assert_frame_equal(fast, slow)


HOSTILE = [
    None, "", " ", "/", '"', "“”", "a" * 3_000 + " see riverbendtrust.org/donate", "b" * 100_000,
    "https://x.com/org/status/1?s=20, and (www.Example.ORG/path/).", "<a href='https://ex.com/a'>x</a>",
    "x.com/a]b) y.co/ z.c/ 1.2.3.4/x İSTANBUL.COM/x ſite.org/KELVIN.org/x",
    'He said "twenty-one characters here" and "short" then “unclosed twenty characters quote',
    '"line one of the quote\nline two of it"', "\u2028www.ex.com/p\u2028", "emoji 🎉 riverbend.org/🎉/x",
    "tab\tsep.org/x\x1cy", 'quote "' + "q" * 5_000 + '" end', "ＵＲＬ.ｃｏｍ/ｘ full-width", "a" * 30 + "/",
    "same.org/x", '"same.org/x is also quoted here, twenty+"',
    'nested "quotes “inside” more than twenty" chars', "http://", "www./x", "x.y/" * 1_000,
]


@pytest.mark.parametrize("kind", ["employee", "organization"])
def test_hostile_texts_give_the_same_keys(kind):
    shared = ["https://twitter.com/org/status/9?x=1", None, "", "  "] * (len(HOSTILE) // 4 + 1)
    url = ["instagram.com/reel/AbC/", None, "https://www.x.com/a/status/1", ""] * (len(HOSTILE) // 4 + 1)
    posts = _posts(HOSTILE, kind, shared_url=shared[: len(HOSTILE)], url=url[: len(HOSTILE)])
    fast, slow = _both(posts)
    assert len(slow) > 0
    pd.testing.assert_frame_equal(fast, slow)


def test_other_account_types_give_no_keys_either_way():
    posts = _posts(["see x.com/a/b", 'a "twenty characters of quoted text"'], "unattributed")
    fast, slow = _both(posts)
    assert fast.empty and slow.empty


def test_link_keys_table_holds_the_frames_rows_with_sql_types():
    posts = pd.DataFrame({
        "post_uid": ["o1", "o2", "e1", "e2", "e3"],
        "account_type": ["organization", "organization", "employee", "employee", "employee"],
        "text": ["Our news", None, 'See x.com/org/status/1 and "a quote of twenty chars or more"',
                 "x.com/org/status/1 x.com/org/status/1 www.Example.org/a?x=1", '"short" “ ”'],
        "url": ["https://twitter.com/org/status/1", "https://www.example.org/a", None, None, None],
        "shared_url": [None, None, "https://x.com/org/status/1", "  ", None]})
    con = duckdb.connect()
    try:
        con.register("t", posts)
        sql = "SELECT post_uid, account_type, text, url, shared_url FROM t"
        count = engagement.link_keys_table(con, sql, table="keys")
        types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'keys'"
                                 ).fetchall())
        table = con.execute("SELECT * FROM keys").df()
        frame = engagement.link_keys_sql(con, sql)
        # the working tables are gone
        assert {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()} == {"keys"}
    finally:
        con.close()
    assert types == {"post_uid": "VARCHAR", "kind": "VARCHAR", "pos": "BIGINT", "key": "VARCHAR"}
    assert count == len(table) == len(frame) > 5

    def rows(f: pd.DataFrame) -> list[tuple]:
        return sorted(map(tuple, f[["post_uid", "kind", "pos", "key"]].astype(object).values.tolist()))

    assert rows(table) == rows(frame) == rows(engagement.link_keys(posts))
