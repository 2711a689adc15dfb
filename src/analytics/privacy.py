"""Privacy by default: keyed pseudonyms, small-group suppression and PII redaction of free text.

* ``employee_key = HMAC-SHA256(key, lower(email))``. The key lives outside the project folder
  (``POLICY_PULSE_KEY`` or a 0600 key file in :func:`analytics.config.config_dir`).
* :func:`suppress_small_groups` hides every group with fewer than ``k`` people and, where one hidden
  cell could be recovered from a line's total (differencing), hides more cells; it reports lines no
  cell of theirs can protect, whose totals the caller must not publish as they are.
* :class:`Scrubber` is the one pass every string goes through before anything is written.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import functools
import hashlib
import hmac
import itertools
import json
import os
import pickle
import re
import secrets
import string
import subprocess
import sys
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analytics import config, parallel

__all__ = [
    "EMAIL_RE",
    "PERSONAL_LOCAL_PART",
    "PHONE_RE",
    "Identity",
    "ScrubHelper",
    "Scrubber",
    "Vault",
    "forget_identity",
    "hidden_label",
    "key_fingerprint",
    "load_key",
    "normalise_handle",
    "person_token",
    "pseudonym",
    "replace_lone_surrogates",
    "suppress_small_groups",
]

#: Email addresses; a Mastodon handle (@user@instance) is not one.
EMAIL_RE = re.compile(r"(?<![\w.+@-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
#: The part before the @ of a person's own address (jane.doe, j.smith, jane_doe): at the organisation's
#: domain, any other is taken for one of its public addresses (info@, press@, help-desk@) and kept.
PERSONAL_LOCAL_PART = r"[^\W\d_]+(?:[._][^\W\d_]+)+"
_PERSONAL_LOCAL_RE = re.compile(PERSONAL_LOCAL_PART)
#: Phone numbers in common international shapes: +44 20 7946 0958, +353 1 234 5678, (555) 123-4567,
#: 555.123.4567, 1 555 234 9876, 07700 900123, 07700 900 123, 0161 496 0754, 07700900123, +15551234567.
#: Dates (2026-03-14, 14/03/2026) and bare order numbers do not match.
PHONE_RE = re.compile(
    r"(?<![\w/#.:-])(?:"
    r"\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,5}(?:[\s.-]\d{2,8}){1,4}"
    r"|\+\d{10,14}"
    r"|\(\d{2,5}\)[\s.-]?\d{3,4}[\s.-]?\d{3,4}"
    r"|(?:1[\s.-])?\d{3}[\s.-]\d{3}[\s.-]\d{4}"
    r"|0\d{2,4}[\s-]\d{3,4}[\s-]\d{3,4}"
    r"|0\d{3,4}[\s-]\d{5,7}"
    r"|0[1-9]\d{8,9}"
    r")(?![\w/-]|\.\d)"
)


# --- keys and pseudonyms -------------------------------------------------------------------------

def load_key() -> bytes:
    """The pseudonymisation key: ``POLICY_PULSE_KEY``, else the key file (created 0600 on first use)."""
    from_env = os.environ.get("POLICY_PULSE_KEY")
    if from_env:
        return from_env.encode("utf-8")
    path = config.key_file_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first; read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def key_fingerprint(key: bytes) -> str:
    """A short, non-reversible id of the key, logged with every ingest so two keys never mix."""
    return hashlib.sha256(b"policy-pulse-fingerprint:" + key).hexdigest()[:16]


def pseudonym(value: str, key: bytes) -> str:
    """``HMAC-SHA256(key, lower(strip(value)))`` as hex.

    >>> pseudonym("Ada@Example.org", b"k") == pseudonym(" ada@example.org", b"k")
    True
    >>> len(pseudonym("x", b"k"))
    64
    """
    return hmac.new(key, value.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()


def person_token(employee_key: str) -> str:
    """How a person appears inside redacted text.

    >>> person_token("3fa2c19b0d" + "0" * 54)
    '[person:3fa2c19b0d]'
    """
    return f"[person:{employee_key[:10]}]"


# --- redaction ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    """What the scrubber must recognise of one roster person (clear values never leave memory)."""

    employee_key: str
    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()


def normalise_handle(handle: str) -> str:
    """Lower-case, strip one leading ``@``; Mastodon ``@user@instance`` stays whole.

    >>> normalise_handle("@Ada_Lee"), normalise_handle("@ada@mastodon.social")
    ('ada_lee', 'ada@mastodon.social')
    """
    return handle.strip().lower().removeprefix("@")


def _alternation(values: Iterable[str], escape=re.escape) -> str:
    """A regex matching any of ``values``, longest first, as a prefix tree.

    A flat ``a|b|c`` of a thousand roster values makes the regex engine try every value at every
    position of every text; the tree tries only the values that share the characters read so far.
    Where several values match at one position, the longer is tried first (an optional tail is
    greedy), as in a flat alternation sorted longest first.

    >>> _alternation(["ada", "adam", "al"])
    'a(?:da(?:m)?|l)'
    """
    tree: dict[str, dict] = {}
    for value in {v for v in values if v}:
        node = tree
        for char in value:
            node = node.setdefault(char, {})
        node[""] = {}  # a value ends here

    def emit(node: dict[str, dict]) -> str:
        branches = [escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        return "(?:" + "|".join(branches) + (")?" if "" in node else ")")

    return emit(tree)


def _folds_to_ascii(char: str) -> bool:
    """Whether ignore-case matching equates this non-ASCII character with an ASCII letter (as 'ſ' with 's')."""
    return any(re.fullmatch(re.escape(char), letter, re.IGNORECASE) for letter in string.ascii_letters)


#: Words as Python's ``\w`` finds them.
_WORD_RE = re.compile(r"\w+")
#: Words as Python's ``\w`` finds them in lower-cased ASCII text.
_ASCII_WORD_RE = re.compile(r"[a-z0-9_]+")


def _ascii_prefilter(values: Iterable[str]) -> dict[str, tuple[frozenset[str], ...]] | None:
    """What tells, in lower-cased ASCII text, every place where one of ``values`` could match ignoring case:
    by each value's first word, or first two words joined by a space, the sets of all words of the values
    that start so (see :class:`_AsciiHeads`); ``None`` when that cannot be exact.

    Text without a hit cannot contain any of the values, however disguised, so the costly ignore-case
    patterns need not run on it. Every pattern built from the values bounds them by non-word characters
    (a look-around, or a non-word character that starts or ends the value), so a match holds each word of
    a value as a whole word of the text, the words one after another. A value holding a non-ASCII
    character cannot match ASCII text unless ignore-case matching equates that character with an ASCII
    letter; then there is no shortcut, nor for a value without a word. Sets, not a pattern: a pattern of
    a thousand roster values takes half a second to compile.

    >>> heads = _ascii_prefilter(["Ada Lee", "@adalee", "/ada.lee@rt.org", "Zoë"])
    >>> sorted(heads), [sorted(map(sorted, values)) for values in heads.values()]
    (['ada lee', 'adalee'], [[['ada', 'lee'], ['ada', 'lee', 'org', 'rt']], [['adalee']]])
    >>> _ascii_prefilter(["+-"]), _ascii_prefilter(["\u212aim"])
    (None, None)
    """
    heads: dict[str, set[frozenset[str]]] = {}
    for value in values:
        if value.isascii():
            words = _ASCII_WORD_RE.findall(value.lower())
            if not words:
                return None
            heads.setdefault(" ".join(words[:2]), set()).add(frozenset(words))
        elif any(not c.isascii() and _folds_to_ascii(c) for c in value):
            return None
    return {head: tuple(sorted(sets, key=sorted)) for head, sets in heads.items()}


class _AsciiHeads:
    """The heads of :func:`_ascii_prefilter`, looked up by first word (most texts hold none of them).

    >>> heads = _AsciiHeads(_ascii_prefilter(["Ada Lee", "@adalee", "+44 7700 900123"]))
    >>> [heads.hit(t) for t in ("hi ada,\tlee!", "x.com/adalee/1", "ada and lee", "adaleex")]
    [True, True, False, False]
    >>> [heads.hit(t) for t in ("call +44 7700 900999", "900123: +44 7700")]
    [False, True]
    """

    def __init__(self, heads: dict[str, tuple[frozenset[str], ...]]) -> None:
        self._singles: dict[str, tuple[frozenset[str], ...]] = {}
        self._pairs: dict[str, dict[str, tuple[frozenset[str], ...]]] = {}
        for head, values in heads.items():
            first, _, second = head.partition(" ")
            if second:
                self._pairs.setdefault(first, {})[second] = values
            else:
                self._singles[head] = values

    def hit(self, lowered: str) -> bool:
        """Whether lower-cased ASCII text has a word, or two words one after the other, among the heads,
        and all the words of a value that starts so."""
        words = _ASCII_WORD_RE.findall(lowered)
        present = set(words)
        for word in self._singles.keys() & present:
            if any(value <= present for value in self._singles[word]):
                return True
        firsts = self._pairs.keys() & present
        for first, second in itertools.pairwise(words) if firsts else ():
            if first in firsts and any(value <= present for value in self._pairs[first].get(second, ())):
                return True
        return False


#: Characters that render as nothing (zero-width, bidirectional marks, soft hyphen): inside a name they hide
#: it from a literal match while a reader still sees the name.
_INVISIBLE = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
_GAP_RE = re.compile(rf"[\s{_INVISIBLE}]+")
#: Any gap other than one plain space (most texts have none, and then need no view).
_ODD_GAP_RE = re.compile(rf"[^\S ]|[{_INVISIBLE}]|  ")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
#: Cheap necessary conditions of EMAIL_RE and PHONE_RE, so most texts skip the costly patterns.
_DIGIT_RE = re.compile(r"\d")


def replace_lone_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (half a UTF-16 pair: a JSON ``\\ud800`` escape, bytes decoded with
    ``surrogateescape``) replaced by U+FFFD, the replacement character: it has no UTF-8, so neither DuckDB
    nor RE2 can take it. One code point stands for one, so positions in the text do not move.

    >>> replace_lone_surrogates("half " + chr(0xD800) + " pair")
    'half \ufffd pair'
    """
    return text if text.isascii() else _SURROGATE_RE.sub("\ufffd", text)


def _by_case_pair(table: dict[str, str], found: str) -> str:
    """``table``'s entry for ``found``, a case-insensitive regex's match that ``str.lower`` does not turn
    into its key (a case pair such as 'ſ' for 's' or 'İ' for 'i')."""
    return next(entry for value, entry in table.items() if re.fullmatch(re.escape(value), found, re.IGNORECASE))


def _identity_key(found: str) -> str:
    """How an identity is looked up: invisible characters dropped, whitespace runs as one space."""
    return " ".join(_INVISIBLE_RE.sub("", found).lower().split())


#: Below this many distinct values a column is scrubbed value by value (the batch pre-filter's set-up costs more).
_BATCH_MIN = 2000
#: Code points from here on count as case-insensitively equal to others (a text holding one is scrubbed in
#: full), so the tables below need only cover the first two planes.
_TABLE_END = 0x20000
#: Lower-case ASCII words tell RE2's word characters; Python's ``\w`` holds more, so "not one of these" is the
#: wider test.
_NOT_ASCII_WORD = "[^a-z0-9_]"


def _re2_class(code_points: Iterable[int]) -> str:
    r"""An RE2 character class body (``\x{..}`` ranges) holding exactly ``code_points``.

    >>> _re2_class([0x61, 0x62, 0x63, 0x7a])
    '\\x{61}-\\x{63}\\x{7a}'
    """
    return _class_body(code_points, lambda point: f"\\x{{{point:x}}}")


def _class_body(code_points: Iterable[int], escape: Callable[[int], str]) -> str:
    """A character class body holding exactly ``code_points``, as ranges of code points written by ``escape``
    (RE2's ``\\x{..}`` or Python's ``\\U........``)."""
    return "".join(escape(a) + (f"-{escape(b)}" if b > a else "") for a, b in _code_ranges(code_points))


def _code_ranges(code_points: Iterable[int]) -> list[list[int]]:
    """``code_points`` as runs of consecutive ones, ``[first, last]`` each, in order."""
    ranges: list[list[int]] = []
    for point in sorted(set(code_points)):
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    return ranges


def _code_points() -> str:
    """Every code point below :data:`_TABLE_END` in order, lone surrogates included, as one string (built by
    C-level decoding: a Python loop over the planes costs a tenth of a second per process)."""
    return np.arange(_TABLE_END, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")


#: The case mappings whose change makes a character one ignore-case matching can equate with another.
_CASE_FORMS = (str.lower, str.upper, str.casefold)


def _changed_by_case(chars: str) -> list[str]:
    """The characters of ``chars`` that a case mapping changes.

    A run the three mappings leave as it is holds no such character (a mapping that changes a character
    never starts with it), so only runs holding one are split further: the test is C-level string work.
    """
    if all(form(chars) == chars for form in _CASE_FORMS):
        return []
    if len(chars) <= 16:
        return [char for char in chars if any(form(char) != char for form in _CASE_FORMS)]
    half = len(chars) // 2
    return _changed_by_case(chars[:half]) + _changed_by_case(chars[half:])


@functools.cache
def _unicode_tables() -> tuple[str, str, str]:
    r"""Below :data:`_TABLE_END`: Python's ``\d`` and ``\s`` as RE2 class bodies, and a string of every
    character with a case (ASCII letters, non-ASCII characters whose lower, upper or case-fold differs,
    and those forms), the only characters ignore-case matching can equate with another."""
    points = _code_points()
    # in a str pattern, re's \d is exactly str.isdecimal and \s exactly str.isspace (tests check it)
    digits = _re2_class(map(ord, re.findall(r"\d", points)))
    spaces = _re2_class(map(ord, re.findall(r"\s", points)))
    changed = _changed_by_case(points)
    cased = set(changed)
    for char in changed:
        cased.update(form for form in (mapping(char) for mapping in _CASE_FORMS) if len(form) == 1)
    return digits, spaces, "".join(sorted(cased))


@functools.cache
def _hint_pattern() -> str:
    """An RE2 pattern found in every text in which an :data:`EMAIL_RE` or :data:`PHONE_RE` match could
    start, or that holds an invisible character (a disguise) or a code point from :data:`_TABLE_END` on.

    Python's ``\\d`` and ``\\s`` are written out
    (RE2's are ASCII); a look-behind becomes a wider condition.
    """
    digits, spaces, _ = _unicode_tables()
    d, gap, dash_gap = f"[{digits}]", f"[{spaces}.-]", f"[{spaces}-]"
    start = "(?:^|[^A-Za-z0-9_/#.:-])"  # PHONE_RE's look-behind, widened to ASCII word characters
    phone = (f"{start}(?:\\+{d}|\\({d}{{2,5}}\\)|(?:1{gap})?{d}{{3}}{gap}{d}{{3}}{gap}{d}{{4}}"
             f"|0{d}{{2,4}}{dash_gap}{d}{{3,4}}{dash_gap}{d}{{3,4}}|0{d}{{3,4}}{dash_gap}{d}{{5,7}}|0[1-9]{d}{{8,9}})")
    email = "@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]"
    # the class matches one character at a time, so its matches in the string of all code points are them all
    invisible = map(ord, _INVISIBLE_RE.findall(_code_points()))
    return f"[{_re2_class(invisible)}\\x{{{_TABLE_END:x}}}-\\x{{10ffff}}]|{email}|{phone}"


@functools.cache
def _prefilter_unguided_re() -> re.Pattern[str]:
    """Characters that make the ASCII pre-filter (:class:`_AsciiHeads`) no guide to a text that is not ASCII:
    what :data:`_UNGUIDED_RE` finds, and every other one with a case (ignoring case, it may equal a value's
    letter)."""
    cased = _class_body((ord(char) for char in _unicode_tables()[2] if not char.isascii()),
                        lambda point: f"\\U{point:08x}")
    return re.compile(f"[{_UNGUIDED}{cased}]")


def _case_partners(chars: Iterable[str]) -> dict[str, list[str]]:
    """Each character's partners: every other character ignore-case matching equates with it.

    >>> _case_partners("s")["s"]
    ['S', 'ſ']
    """
    return {char: [other for other in re.findall(re.escape(char), _unicode_tables()[2], re.IGNORECASE)
                   if other != char] for char in set(chars)}


def _word_pattern(values: Iterable[str], *, either_case: bool = False) -> str | None:
    """An RE2 pattern found, in every text with its ASCII letters lower-cased, wherever one of ``values``
    could match ignoring case, unless :func:`_hint_pattern` finds the text; ``None`` when no such pattern exists.
    With ``either_case`` the pattern finds the same in the texts as they are (each ASCII letter as a class of
    its two cases): no lower-casing pass over every text.

    Every pattern built from ``values`` bounds them by non-word characters, so a match holds each word of
    a value as a whole word of the text, with non-word characters between them: the pattern looks for the
    first two words of each value. A text character other than the value's own can match only as a case
    pair: an ASCII pair is lower-cased on both sides; a value's non-ASCII character that pairs with
    an ASCII letter ('ſ' and 's') is looked for as that letter; any other character that pairs with one
    in a value (non-ASCII forms such as 'K' of 'k', 'É' of 'é') makes the whole text a candidate.

    >>> _word_pattern(["ada lee", "@lee_a"])
    '(?:^|[^a-z0-9_])(?:ada[^a-z0-9_]+lee|lee_a)(?:[^a-z0-9_]|$)'
    >>> _word_pattern(["ab c"], either_case=True)
    '(?:^|[^a-zA-Z0-9_])[aA][bB][^a-zA-Z0-9_]+[cC](?:[^a-zA-Z0-9_]|$)'
    """
    values = list(values)
    pairs = _case_partners({char for value in values for char in value})
    to_ascii = {ord(char): next(p for p in paired if p.isascii()) for char, paired in pairs.items()
                if not char.isascii() and any(p.isascii() for p in paired)}
    heads = set()
    for value in values:
        words = _WORD_RE.findall((value if value.isascii() else value.translate(to_ascii)).lower())
        if not words:
            return None
        heads.add("\0".join(words[:2]))
    if not heads:
        return "^$"  # no values: an empty text is scrubbed in full (so cheap)
    not_word = "[^a-zA-Z0-9_]" if either_case else _NOT_ASCII_WORD

    def atom(char: str) -> str:
        if char == "\0":
            return not_word + "+"
        if either_case and char.isascii() and char.isalpha():
            return f"[{char.lower()}{char.upper()}]"
        return re.escape(char)

    words = _alternation(heads, atom)
    found = f"(?:^|{not_word}){words}(?:{not_word}|$)"
    others = {ord(p) for paired in pairs.values() for p in paired if not p.isascii()}
    return f"[{_re2_class(others)}]|{found}" if others else found


def _number_tails_safe(values: Iterable[str]) -> bool:
    """Whether :meth:`Scrubber._scrub_each` may scrub a text ending in ``/`` and ASCII digits as its part
    before the digits: no value looked for (as its pattern holds it) is all ASCII digits, ends with ``/``,
    or ends with ``/`` and ASCII digits (only such a value can match in, into or just before the digits).

    >>> _number_tails_safe(["ada lee", "@adalee", "/adalee2", "@1234", "+44 20 7946 0958"])
    True
    >>> [_number_tails_safe([v]) for v in ("/1234", "ada/", "x/07", "0958")]
    [False, False, False, False]
    """
    return not any(_UNSAFE_BEFORE_NUMBER.search(value) for value in values)


#: A value that could match in, into or just before a number ending a text after ``/``.
_UNSAFE_BEFORE_NUMBER = re.compile(r"(?:^|/)[0-9]*\Z")


def _sub_disguised(pattern: re.Pattern[str], replace, text: str) -> str:
    """``pattern.sub(replace, text)``, also finding matches disguised by spacing: a no-break space, a line
    break or two spaces where the value has one, or invisible characters inside it.

    Matching runs on a view of the text with every whitespace run as one space and invisible characters
    dropped; each match replaces its span of the original text, so everything else is kept as it was.
    """
    if not _ODD_GAP_RE.search(text):
        return pattern.sub(replace, text)
    gaps = [m for m in _GAP_RE.finditer(text) if m.group() != " "]
    view: list[str] = []
    view_starts: list[int] = []  # where each piece of the view starts, in the view and in the text
    text_starts: list[int] = []
    position = length = 0
    for gap in gaps:
        for piece, start in ((text[position:gap.start()], position),
                             (" " if any(c.isspace() for c in gap.group()) else "", gap.start())):
            if piece:
                view_starts.append(length)
                text_starts.append(start)
                view.append(piece)
                length += len(piece)
        position = gap.end()
    if position < len(text):
        view_starts.append(length)
        text_starts.append(position)
        view.append(text[position:])

    def in_text(offset: int) -> int:
        k = bisect.bisect_right(view_starts, offset) - 1
        return text_starts[k] + (offset - view_starts[k])

    out, done = [], 0
    for match in pattern.finditer("".join(view)):
        start, end = in_text(match.start()), in_text(match.end() - 1) + 1
        out += [text[done:start], replace(match) if callable(replace) else replace]
        done = end
    return "".join(out) + text[done:]


@functools.lru_cache(maxsize=2)
def _identity_parts(identities: tuple[Identity, ...]
                    ) -> tuple[dict[str, str], _RosterPattern | None, dict[str, tuple[frozenset[str], ...]] | None,
                               str | None]:
    """What :class:`Scrubber` needs of the roster: each value looked for (as :func:`_identity_key` gives it, and
    handles as URL path segments) with its person token, the pattern finding them (:class:`_RosterPattern`),
    and the roster's parts of the ASCII pre-filter (:func:`_ascii_prefilter`) and
    the RE2 word screen (:func:`_word_pattern`)."""
    by_value: dict[str, str] = {}
    for person in identities:
        token = person_token(person.employee_key)
        for value in (*person.names, *person.emails):
            by_value[_identity_key(value)] = token
        for handle in person.handles:
            by_value[_identity_key("@" + normalise_handle(handle))] = token
    names_and_emails = [v for v in by_value if not v.startswith("@")]
    handles = [v for v in by_value if v.startswith("@")]
    # a handle as a URL path segment (x.com/adalee/status/1, mastodon.social/@ada) names the person too
    for person in identities:
        for handle in person.handles:
            bare = normalise_handle(handle)
            for segment in {bare, bare.split("@", 1)[0]}:
                by_value.setdefault("/" + segment, person_token(person.employee_key))
                by_value.setdefault("/@" + segment, person_token(person.employee_key))
    segments = [v for v in by_value if v.startswith("/")]
    parts = [
        (r"(?<![\w@])(?:", names_and_emails, r")(?![\w@])"),
        # a mention: "@handle" not followed by more handle characters (or an @instance part)
        (r"(?<![\w@])(?:", handles, r")(?![\w@]|\.\w)"),
        (r"(?:", segments, r")(?=[/?#]|$|\s)"),
    ]
    pattern = _RosterPattern([part for part in parts if part[1]]) if by_value else None
    return by_value, pattern, _ascii_prefilter(by_value), _word_pattern(by_value, either_case=True)


#: Characters that make a text's words no guide to what the roster's pattern finds in it: invisible ones (the
#: pattern runs on the text without them) and those beyond the case tables (:data:`_TABLE_END`).
_UNGUIDED = f"{_INVISIBLE}{chr(_TABLE_END)}-\U0010ffff"
_UNGUIDED_RE = re.compile(f"[{_UNGUIDED}]")


class _RosterPattern:
    """The pattern finding the roster's values (:func:`_identity_parts`): for a text, compiled from only the
    values whose first words it holds, and from all of them once that has cost more than a quarter of it.

    The pattern of all values takes a quarter of a second to build and another to compile, and a small file
    names a few people. Every value is bounded by non-word characters (a look-around, or a non-word
    character that starts or ends it), so where a value matches, its words are whole words of the text, one
    after another: when matched ignoring case, a character of the text is the value's own, an ASCII case
    pair (both are lower-cased), the ASCII letter a value's character pairs with ('s' of 'ſ', taken for
    it on both sides), or another character that pairs with a value's, and then (as with an invisible
    character or one beyond the case tables) the pattern of all values scrubs the text. The values left out
    match nowhere in the text, and the alternation tries the others in the same order (:func:`_alternation`),
    so the pattern finds the same matches, replaced by the same tokens.
    """

    def __init__(self, parts: list[tuple[str, list[str], str]]) -> None:
        self._parts = parts  # (before, values, after) of each alternative, in order
        self._full: re.Pattern[str] | None = None
        self._subsets: dict[tuple[tuple[int, str], ...], re.Pattern[str]] = {}
        values = [value for _before, part, _after in parts for value in part]
        partners = _case_partners({char for value in values for char in value})
        self._others = frozenset(p for paired in partners.values() for p in paired if not p.isascii())
        fold = dict(zip(map(ord, string.ascii_uppercase), string.ascii_lowercase, strict=True))
        for char, paired in partners.items():
            letters = [p.lower() for p in paired if p.isascii()]
            if not char.isascii() and letters:
                fold[ord(char)] = letters[0]
        self._fold = fold
        # a value without a word, or a pair of a word and a non-word character, leaves no guide
        self._guided = all(_WORD_RE.fullmatch(char) and _WORD_RE.fullmatch(letter)
                           for char, letter in ((chr(c), f) for c, f in fold.items()))
        self._heads: dict[str, list[tuple[int, str]]] = {}
        for k, (_before, part, _after) in enumerate(parts):
            for value in part:
                words = _WORD_RE.findall(self._folded(value))
                self._guided = self._guided and bool(words)
                self._heads.setdefault(" ".join(words[:2]), []).append((k, value))
        self._budget = sum(map(len, values)) // 4  # characters of the values in the subsets' patterns
        #: the values of the last batch (:meth:`prepare`) and their pattern
        self._batch: tuple[frozenset[tuple[int, str]], re.Pattern[str] | None] = (frozenset(), None)

    def full(self) -> re.Pattern[str]:
        """The pattern of all values."""
        if self._full is None:
            self._full = re.compile(self._source(self._parts), re.IGNORECASE)
            self._subsets.clear()
            self._batch = (frozenset(), None)
        return self._full

    @staticmethod
    def _source(parts: list[tuple[str, list[str], str]]) -> str:
        return "|".join(before + _alternation(values) + after for before, values, after in parts if values)

    def for_text(self, text: str) -> re.Pattern[str] | None:
        """A pattern that finds in ``text`` (or its view, :func:`_sub_disguised`) exactly what the pattern of
        all values finds; ``None`` where that is nothing."""
        # a spent budget has compiled the pattern of all values (:meth:`_compiled`)
        found = None if self._full is not None else self._candidates(text)
        if found is None:
            return self.full()
        if not found:
            return None
        # one read of the batch: another thread's prepare() may replace it in between
        batch_values, batch_pattern = self._batch
        if batch_values.issuperset(found):
            return batch_pattern
        return self._compiled(found)

    def prepare(self, texts: Iterable[str]) -> None:
        """Compile one pattern of the values any of ``texts`` could hold, which :meth:`for_text` then gives
        each of them (one pattern compiled for a batch, not one a text)."""
        if self._full is not None:
            return
        found: set[tuple[int, str]] = set()
        size = 0
        for text in texts:
            more = self._candidates(text)
            if more is None:  # this text needs the pattern of all values: so do the others
                self.full()
                return
            size += sum(len(value) for _part, value in more - found)
            found |= more
            if size > self._budget:  # a big batch: its pattern would cost about as much as that of all values
                self.full()
                return
        if found and not self._batch[0].issuperset(found):
            self._batch = (frozenset(found), self._compiled(found))

    def _candidates(self, text: str) -> set[tuple[int, str]] | None:
        """The values (part, value) whose first words ``text`` holds; ``None`` when its words are no guide."""
        if not self._guided or _UNGUIDED_RE.search(text) or not self._others.isdisjoint(text):
            return None
        words = _WORD_RE.findall(self._folded(text))
        return {value for head in {*words, *map(" ".join, itertools.pairwise(words))}
                for value in self._heads.get(head, ())}

    def _folded(self, text: str) -> str:
        # on ASCII text the translation is lower-casing, which is quicker
        return text.lower() if text.isascii() else text.translate(self._fold)

    def _compiled(self, found: set[tuple[int, str]]) -> re.Pattern[str]:
        """The pattern of the values ``found``, or of all values once the patterns of some cost a quarter of
        it (counted in the values' characters)."""
        chosen = tuple(sorted(found))
        pattern = self._subsets.get(chosen)
        if pattern is None:
            self._budget -= sum(len(value) for _part, value in chosen)
            if self._budget < 0:
                return self.full()
            source = self._source([(before, [v for k, v in chosen if k == part], after)
                                   for part, (before, _values, after) in enumerate(self._parts)])
            pattern = self._subsets[chosen] = re.compile(source, re.IGNORECASE)
        return pattern


@dataclass
class Scrubber:
    """Replace roster identities by person tokens and donor details by typed placeholders.

    >>> s = Scrubber([Identity("ab" * 32, names=("Ada Lee",), emails=("ada@rt.org",), handles=("adalee",))],
    ...              donors=["Jane Donor"])
    >>> s.scrub("Ada Lee (@AdaLee, ada@rt.org) thanks Jane Donor: call +44 20 7946 0958 or x@y.com")
    '[person:ababababab] ([person:ababababab], [person:ababababab]) thanks [DONOR]: call [PHONE] or [EMAIL]'
    >>> s.scrub("https://x.com/AdaLee/status/1")
    'https://x.com/[person:ababababab]/status/1'

    A name split by a no-break space, a line break or invisible characters is still a name:

    >>> s.scrub("Ada\\u00a0Lee, A\\u200bda\\nLee and JANE  DONOR \\u202e!")
    '[person:ababababab], [person:ababababab] and [DONOR] \\u202e!'
    """

    identities: Sequence[Identity] = ()
    donors: Sequence[str] = ()
    keep_domains: Sequence[str] = ()
    #: a private donor's own email addresses and phone numbers, replaced by ``[EMAIL]``/``[PHONE]``
    #: even when written in a shape the generic patterns miss
    donor_contacts: Sequence[tuple[str, str]] = ()
    #: a second process that takes half of every large batch of :meth:`scrub_many` (same results, two cores)
    helper: ScrubHelper | None = field(default=None, compare=False, repr=False)
    #: a DuckDB connection whose cursors screen large batches (:meth:`_changeable`); ``None``: an in-memory
    #: database of this process (opening one costs tens of milliseconds: a caller that holds one passes it)
    database: duckdb.DuckDBPyConnection | None = field(default=None, compare=False, repr=False)
    _by_value: dict[str, str] = field(init=False, repr=False)
    _pattern: _RosterPattern | None = field(init=False, repr=False, compare=False)
    _donor_pattern: re.Pattern[str] | None = field(init=False, repr=False)
    _pickled: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # the roster's part is the costly one (half a second with a big roster): built once per roster, so a
        # new donor list or a helper process's copy of this scrubber reuses it
        identities = tuple(self.identities)
        try:
            parts = _identity_parts(identities)
        except TypeError:  # identities holding lists cannot be looked up: built as they are
            parts = _identity_parts.__wrapped__(identities)
        self._by_value, self._pattern, identity_prefilter, identity_words = parts
        self._keep = tuple("@" + d.lower() for d in self.keep_domains)
        donor_values = [" ".join(d.split()) for d in self.donors if d and d.strip()]
        self._donor_pattern = (
            re.compile(rf"(?<!\w)(?:{_alternation(donor_values)})(?!\w)", re.IGNORECASE) if donor_values else None
        )
        self._contacts = {value.strip().lower(): placeholder for value, placeholder in self.donor_contacts if value}
        contacts = _alternation(self._contacts)
        self._contact_pattern = (
            re.compile(rf"(?<![\w+])(?:{contacts})(?!\w)", re.IGNORECASE) if self._contacts else None
        )
        # a text a pattern of either part finds is one the pattern of all values finds, and the reverse
        donor_prefilter = _ascii_prefilter([*donor_values, *self._contacts])
        self._prefilter = (None if identity_prefilter is None or donor_prefilter is None else _AsciiHeads({
            head: identity_prefilter.get(head, ()) + donor_prefilter.get(head, ())
            for head in identity_prefilter.keys() | donor_prefilter.keys()}))
        self._number_tails = _number_tails_safe([*self._by_value, *donor_values, *self._contacts])
        self._ascii_values = all(value.isascii() for value in (*self._by_value, *donor_values, *self._contacts))
        donor_words = _word_pattern([*donor_values, *self._contacts], either_case=True)
        self._words = (None if identity_words is None or donor_words is None
                       else f"{identity_words}|{donor_words}")

    def scrub(self, text: str | None) -> str | None:
        """Redact one text; ``None`` stays ``None``. Case, punctuation and emoji are kept."""
        if text is None or (isinstance(text, float) and np.isnan(text)):
            return None
        text = str(text)
        if self._may_name(text):
            pattern = None if self._pattern is None else self._pattern.for_text(text)
            if pattern is not None:
                text = _sub_disguised(pattern, self._replace_identity, text)
            if self._donor_pattern is not None:
                text = _sub_disguised(self._donor_pattern, "[DONOR]", text)
            if self._contact_pattern is not None:
                text = self._contact_pattern.sub(self._replace_contact, text)
        if "@" in text:
            text = EMAIL_RE.sub(self._replace_email, text)
        return PHONE_RE.sub("[PHONE]", text) if _DIGIT_RE.search(text) else text

    def _may_name(self, text: str) -> bool:
        """Whether ``text`` could hold a roster or donor value. Most texts name nobody: one cheap test proves
        it (an identity replaced first could make a donor match, so any hit runs every pass). When every value
        is ASCII, a text whose other characters have no case and show (emoji, spaces, letters of most scripts)
        can match one only in its ASCII parts, so the test holds for it too."""
        if self._prefilter is None:
            return True
        if not text.isascii() and (not self._ascii_values or _prefilter_unguided_re().search(text)):
            return True
        return self._prefilter.hit(text.lower())

    def _replace_identity(self, match: re.Match[str]) -> str:
        found = match.group(0)
        key = found.lower() if found.startswith("/") else _identity_key(found)
        token = self._by_value.get(key)
        if token is None:
            token = _by_case_pair(self._by_value, " ".join(_INVISIBLE_RE.sub("", found).split()))
        return "/" + token if found.startswith("/") else token

    def _replace_contact(self, match: re.Match[str]) -> str:
        found = match.group(0)
        return self._contacts.get(found.lower()) or _by_case_pair(self._contacts, found)

    def _replace_email(self, match: re.Match[str]) -> str:
        # the organisation's own public addresses (info@, volunteer@) are not personal data; a colleague's
        # address there is (one not on the roster, or forgotten: the roster's are tokens by now)
        address = match.group(0)
        public = address.lower().endswith(self._keep) and not _PERSONAL_LOCAL_RE.fullmatch(address.rpartition("@")[0])
        return address if public else "[EMAIL]"

    def scrub_many(self, texts: Sequence[str]) -> list[str]:
        """``[scrub(t) for t in texts]``, faster: one RE2 pass over all of them finds those :meth:`scrub` could
        change, and only those are scrubbed one by one (a text given twice is scrubbed twice: give each once).

        >>> Scrubber([Identity("ab" * 32, names=("Ada Lee",))]).scrub_many(["Hi ADA LEE", "Hi Ada"])
        ['Hi [person:ababababab]', 'Hi Ada']
        """
        return self._scrub_at(texts, np.flatnonzero(self._changeable(texts)))

    def _scrub_at(self, texts: Sequence[str], changeable: np.ndarray) -> list[str]:
        """``texts`` with those at the positions ``changeable`` scrubbed, the others as they are (on two cores
        when there are many)."""
        out = list(texts)
        # this process also splits, sends and gathers: the helper takes a little more than half
        share = int(len(changeable) * _HELPER_SHARE) if len(changeable) >= _HELPER_MIN else 0
        theirs = changeable[len(changeable) - share:]
        collect = self.helper.submit(self, [texts[i] for i in theirs]) if self.helper and len(theirs) else None
        mine = changeable if collect is None else changeable[: len(changeable) - len(theirs)]
        for i, text in zip(mine.tolist(), self._scrub_each([texts[i] for i in mine.tolist()]), strict=True):
            out[i] = text
        if collect is not None:
            done = collect()
            if done is None:  # the helper failed: this process scrubs its share too
                done = self._scrub_each([texts[i] for i in theirs.tolist()])
            for i, text in zip(theirs.tolist(), done, strict=True):
                out[i] = text
        return out

    def _scrub_each(self, texts: list[str]) -> list[str]:
        """``[scrub(t) for t in texts]``, faster for many URLs that end in a number (``x.com/ada/status/1822``):
        such a text is scrubbed as its part up to the last ``/`` with the number put back, each part once.

        That is exact when no value looked for can match in the number, run into it or end with the ``/``
        before it (:func:`_number_tails_safe`): every lookaround is one character wide (``\\.\\w`` fails at the
        ``/``), so the matches before the number are the same with or without it; no email or phone number
        holds a ``/`` or starts right after one (look-behinds), nor starts inside the number (a digit before
        it); and the number holds no gap for :func:`_sub_disguised` to join. Tests check it against
        :meth:`scrub` on hostile text.
        """
        if self._pattern is not None and len(texts) >= _FULL_PATTERN_TEXTS:
            self._pattern.full()  # cheaper than finding, text by text, the values so many texts could hold
        elif self._pattern is not None:
            self._pattern.prepare(text for text in texts if self._may_name(text))
        if not self._number_tails:
            return [self.scrub(text) for text in texts]
        heads: dict[str, str] = {}
        out = []
        for text in texts:
            head, slash, number = text.rpartition("/")
            if slash and number.isdigit() and number.isascii():
                head += slash
                scrubbed = heads.get(head)
                if scrubbed is None:
                    scrubbed = heads[head] = self.scrub(head)
                out.append(scrubbed + number)
            else:
                out.append(self.scrub(text))
        return out

    def compile_all(self) -> None:
        """Compile the roster's pattern of all values now (about a second with a big roster) for a process
        that scrubs batch after batch, such as ``policy-pulse watch``: every later text is scrubbed with it,
        which is quicker per text than finding the values each batch could hold and compiling their pattern.
        Scrubbers of the same roster in this process share it."""
        if self._pattern is not None:
            self._pattern.full()

    def _state(self) -> bytes:
        """What rebuilds this scrubber in a helper process (pickled once per scrubber)."""
        if self._pickled is None:
            self._pickled = pickle.dumps((tuple(self.identities), tuple(self.donors), tuple(self.keep_domains),
                                          tuple(self.donor_contacts)), protocol=pickle.HIGHEST_PROTOCOL)
        return self._pickled

    def _changeable(self, texts: Sequence[str]) -> np.ndarray:
        """Which texts :meth:`scrub` could change (a superset: every other text it leaves as it is), found
        by RE2 in one pass when there are enough texts."""
        changeable = np.ones(len(texts), dtype=bool)
        if self._words is None:
            return changeable
        if len(texts) < _BATCH_MIN:
            return changeable
        texts = np.asarray(texts, dtype=object)
        batch = np.arange(len(texts))
        hits = self._screen(texts, batch)
        if hits is None:
            # a lone surrogate (undecodable bytes kept as such) cannot go to DuckDB: such a text is scrubbed in full
            batch = np.flatnonzero([text.isascii() or not _SURROGATE_RE.search(text) for text in texts.tolist()])
            hits = self._screen(texts, batch) if len(batch) >= _BATCH_MIN else None
        if hits is None:
            return changeable
        changeable[batch] = False
        changeable[hits] = True
        return changeable

    def _screen(self, texts: np.ndarray, batch: np.ndarray) -> np.ndarray | None:
        """The positions among ``batch`` of the texts the RE2 screen finds; ``None`` for texts DuckDB cannot
        take."""
        frame = pd.DataFrame({"position": batch, "text": texts[batch]}, copy=False)
        try:
            with _regex_cursor(self.database) as con:
                con.register("texts", frame)
                return con.execute("SELECT position FROM texts WHERE regexp_matches(text, $hint) OR "
                                   "regexp_matches(text, $words)", {"hint": _hint_pattern(), "words": self._words}
                                   ).fetchnumpy()["position"].astype(np.int64)
        except (duckdb.Error, UnicodeError, ValueError):
            return None

    def scrub_series(self, values: pd.Series) -> pd.Series:
        """Scrub a column (each distinct value once), leaving missing values missing."""
        return self.scrub_columns([values])[0]

    def scrub_columns(self, columns: Sequence[pd.Series]) -> list[pd.Series]:
        """``[scrub_series(c) for c in columns]``, in few batches: the distinct values of columns are screened
        together, and those the screen finds scrubbed together, as :meth:`scrub_many` does (its fixed costs, the
        RE2 screen and the roster pattern, paid once), up to :data:`_JOINT_TEXTS` of them; a bigger column goes
        alone, so a big export's peak memory stays that of its biggest column.

        >>> s = Scrubber([Identity("ab" * 32, names=("Ada Lee",))])
        >>> [c.tolist() for c in s.scrub_columns([pd.Series(["Ada Lee", None]), pd.Series(["ada lee!"])])]
        [['[person:ababababab]', <NA>], ['[person:ababababab]!']]
        """
        out: list[pd.Series | None] = [None] * len(columns)
        batch: list[tuple[int, np.ndarray, np.ndarray]] = []  # (column position, codes, distinct texts)
        pending = 0  # texts in the batch

        def scrub_batch() -> None:
            # most texts name nobody: screened first, they are left alone without a Python call each
            texts = np.concatenate([distinct for _i, _codes, distinct in batch])
            changeable = np.flatnonzero(self._changeable(texts))
            found = texts[changeable].tolist()
            # a text in several columns (a URL in the text and the url column) is scrubbed once
            distinct = list(dict.fromkeys(found))
            cleaned = dict(zip(distinct, self._scrub_at(distinct, np.arange(len(distinct))), strict=True))
            texts[changeable] = [cleaned[text] for text in found]
            start = 0
            for i, codes, distinct_texts in batch:
                # code -1 (missing) picks the trailing None
                mine = np.append(texts[start:start + len(distinct_texts)], None)
                start += len(distinct_texts)
                out[i] = pd.Series(mine[codes], index=columns[i].index, name=columns[i].name, dtype="string")
            batch.clear()

        for i, values in enumerate(columns):
            codes, unique = _distinct_values(values)
            if len(unique) == 0:
                out[i] = values.astype("string")
                continue
            texts = np.asarray(unique, dtype=object)
            if pd.api.types.infer_dtype(texts, skipna=False) != "string":  # numbers in an object column
                texts = np.array([v if type(v) is str else str(v) for v in texts.tolist()], dtype=object)
            if batch and pending + len(texts) > _JOINT_TEXTS:
                scrub_batch()
                pending = 0
            batch.append((i, codes, texts))
            pending += len(texts)
        if batch:
            scrub_batch()
        return out

    def scrub_frame(self, frame: pd.DataFrame, *, keep: Collection[str] = ()) -> pd.DataFrame:
        """A copy of ``frame`` with every string column scrubbed but those in ``keep``."""
        out = frame.copy(deep=False)  # copy-on-write: only the scrubbed columns are new
        columns = [column for column in out.columns if column not in keep
                   and (pd.api.types.is_string_dtype(out[column]) or out[column].dtype == object)]
        for column, scrubbed in zip(columns, self.scrub_columns([out[c] for c in columns]), strict=True):
            out[column] = scrubbed
        return out


#: Columns are scrubbed in one batch up to this many distinct texts in all (:meth:`Scrubber.scrub_columns`).
_JOINT_TEXTS = 100_000
#: A longer column whose first this many values are all different is taken as one of ids or URLs
#: (:func:`_distinct_values`).
_UNIQUE_SAMPLE = 2000


def _distinct_values(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, use_na_sentinel=True)``, except for a long column that looks like ids or URLs
    (its first :data:`_UNIQUE_SAMPLE` values all different): hashing a value each would find few repeats to
    screen once, so its present values are taken in order, repeats and all (scrubbing a value twice gives
    the same text twice).

    >>> codes, values = _distinct_values(pd.Series([f"https://x.com/{i}" for i in range(2500)] + [None]))
    >>> codes[:2].tolist(), int(codes[-1]), len(values)
    ([0, 1], -1, 2500)
    >>> _distinct_values(pd.Series(["a", "b", "a"]))[0].tolist()
    [0, 1, 0]
    """
    head = values.iloc[:_UNIQUE_SAMPLE]
    if len(values) <= _UNIQUE_SAMPLE or head.nunique(dropna=True) < head.count():
        return pd.factorize(values, use_na_sentinel=True)
    present = values.notna().to_numpy()
    codes = np.full(len(values), -1, dtype=np.intp)
    codes[present] = np.arange(int(present.sum()))
    return codes, values.to_numpy(dtype=object)[present]


_REGEX_LOCK = threading.Lock()


@functools.cache
def _regex_database() -> duckdb.DuckDBPyConnection:
    """The in-memory database of this process for :meth:`Scrubber._changeable` (opened once: it takes tens
    of milliseconds)."""
    return duckdb.connect()


def _regex_cursor(database: duckdb.DuckDBPyConnection | None) -> duckdb.DuckDBPyConnection:
    """A connection of its own (a cursor: connections are not thread-safe) to ``database``, else to
    :func:`_regex_database`."""
    with _REGEX_LOCK:
        return (_regex_database() if database is None else database).cursor()


#: A batch of :meth:`Scrubber.scrub_many` with this many texts to scrub one by one shares them with the helper.
_HELPER_MIN = 20000
#: The helper's part of such a batch.
_HELPER_SHARE = 0.55
#: From this many texts on, :meth:`Scrubber._scrub_each` takes the roster's pattern of all values at once.
_FULL_PATTERN_TEXTS = 20_000
#: The size asked for the helper's pipes (Linux's default upper limit for a process without privileges).
_PIPE_BYTES = 1 << 20
#: Flags a helper's notice that it has begun a call (not an answer).
_BEGUN = 1 << 63


class ScrubHelper:
    """A second Python process that scrubs part of each large batch while this one scrubs the rest, and
    can run other work ahead of need (:meth:`call`, e.g. reading the next export files).

    Scrubbing is pure Python (one core); a big export's texts are split in two and the parts scrubbed
    at once, with the very same code, so the results are exactly those of one process. The helper is a
    fresh interpreter (not a fork: a fork of a large process doubles the memory the process tree shows),
    started by :meth:`start` ahead of need; the clear identities reach it through a pipe only. Requests
    are served in the order sent; a thread here collects the answers as they come. Should the helper fail,
    the waiting function gives ``None`` and the caller does that work itself.
    """

    def __init__(self, *, idle: bool = False) -> None:
        #: run at the lowest priority (Linux's ``SCHED_IDLE``): only on a core nothing else wants
        self.idle = idle
        self._process: subprocess.Popen[bytes] | None = None
        self._state: bytes | None = None  # the scrubber the helper holds
        self._answers: dict[int, bytes | None] = {}
        self._begun: set[int] = set()  # calls the helper has started on
        self._arrived = threading.Condition()
        self._next_key = 0
        self._failed = False
        self._sending = threading.RLock()  # requests may come from more than one thread

    def start(self) -> ScrubHelper:
        if self._process is None:
            package_root = str(Path(__file__).resolve().parents[1])
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(
                [package_root, *filter(None, [os.environ.get("PYTHONPATH")])]))
            process = subprocess.Popen(
                [sys.executable, "-c", f"from analytics.privacy import _serve_helper; _serve_helper(idle={self.idle})"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
            # big pipes: the thread reading a big answer takes the interpreter lock once per pipe-full, and
            # on a busy machine each time costs the main thread a wait
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError, AttributeError):
                    fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
            self._process, self._state, self._answers, self._begun = process, None, {}, set()
            threading.Thread(target=self._collect, args=(process, self._answers, self._begun), daemon=True).start()
        return self

    def _collect(self, process: subprocess.Popen[bytes], answers: dict[int, bytes | None], begun: set[int]) -> None:
        """Read every answer as it comes (the helper never waits for this process to listen)."""
        assert process.stdout is not None
        # close() may close the stream under a read while the helper still works on what nobody waits for
        with contextlib.suppress(OSError, ValueError):
            while len(header := process.stdout.read(16)) == 16:
                size, key = int.from_bytes(header[:8], "little"), int.from_bytes(header[8:], "little")
                if key & _BEGUN:
                    begun.add(key & ~_BEGUN)
                    continue
                body = process.stdout.read(size)
                with self._arrived:
                    answers[key] = body if len(body) == size else None
                    self._arrived.notify_all()
        with self._arrived:
            answers[-1] = None  # the end: nothing more will come
            self._arrived.notify_all()

    def _send(self, request: tuple) -> Callable[..., object | None]:
        """Send a request; returns a function that waits for its answer (``None`` when the helper failed;
        with ``begun_only``, also when the helper has not started on it yet)."""
        if self._failed:
            return lambda **_: None
        try:
            message = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
            with self._sending:
                if self._failed:  # (abandoned by another thread meanwhile)
                    return lambda **_: None
                self.start()
                process, answers = self._process, self._answers
                assert process is not None and process.stdin is not None
                key, self._next_key = self._next_key, self._next_key + 1
                process.stdin.write((len(message) + 8).to_bytes(8, "little") + key.to_bytes(8, "little") + message)
                process.stdin.flush()
        except (OSError, ValueError, TypeError, AttributeError, pickle.PicklingError):
            self._fail()
            return lambda **_: None

        begun = self._begun

        def wait(*, begun_only: bool = False, poll: bool = False) -> object | None:
            with self._arrived:
                if poll:  # has the answer come (or the helper ended)? nothing is taken
                    return key in answers or -1 in answers
                if begun_only and key not in begun and key not in answers:
                    return None
                self._arrived.wait_for(lambda: key in answers or -1 in answers)
                body = answers.pop(key, None)
            try:
                return None if body is None else pickle.loads(body)
            except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError):
                return None

        return wait

    def prepare(self, scrubber: Scrubber) -> None:
        """Have the helper build ``scrubber`` now (a second with a big roster), not when a batch waits for it."""
        if self._process is not None and scrubber._state() != self._state:
            self.submit(scrubber, [])

    def submit(self, scrubber: Scrubber, texts: list[str]) -> Callable[[], list[str] | None]:
        """Send ``texts`` to be scrubbed by ``scrubber``'s rules; returns a function that waits for the
        scrubbed texts (``None`` if the helper failed)."""
        state = scrubber._state()
        wait = self._send(("scrub", state if state != self._state else None, texts))
        self._state = state if self._process is not None else None

        def collect() -> list[str] | None:
            answer = wait()
            if not isinstance(answer, list) or len(answer) != len(texts):
                self._fail()
                return None
            return answer

        return collect

    def call(self, function: Callable, *args: object) -> Callable[..., object | None]:
        """Run ``function(*args)`` in the helper (a module-level function; arguments and result pickled);
        returns a function that waits for the result: ``None`` if it raised or the helper failed, so the
        caller runs it itself and meets the same error there. Called with ``begun_only=True`` it does not
        wait for a call the helper has not started (the caller is quicker doing it itself); with ``poll=True``
        it only tells whether the answer has come (``False`` while it has not)."""
        return self._send(("call", function, args))

    def abandon(self) -> None:
        """Stop the helper for good, from any thread: what it is doing is dropped (its process killed, not
        waited for), and every request, sent or to come, is answered ``None`` at once."""
        with self._sending:
            self._failed = True
            if self._process is not None:
                self._process.kill()
            self.close()

    def _fail(self) -> None:
        """A helper that failed once is not trusted again: this process does all the work from now on."""
        self._failed = True
        self.close()

    def close(self) -> None:
        process, self._process, self._state = self._process, None, None
        if process is not None:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> ScrubHelper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _give_back_memory() -> None:
    """Hand the memory freed after a big call (reading a big export) back to the system: glibc keeps it
    otherwise, and the helper would hold it while the main process needs its own."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)


#: An answer this big (bytes) came from a call that took much memory (see _give_back_memory).
_BIG_ANSWER = 16 << 20


def _serve_helper(*, idle: bool = False) -> None:
    """The helper's loop: answer each request in turn (scrub texts with the scrubber whose state came last,
    or call a function); stop at the end of input. Nothing else may write to the answer stream."""
    parallel.leave_interrupts_to_the_parent()
    if idle:
        parallel.lowest_priority()
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print goes to stderr, not into the answers
    requests = sys.stdin.buffer
    scrubber: Scrubber | None = None
    try:
        while len(header := requests.read(8)) == 8:
            message = requests.read(int.from_bytes(header, "little"))
            key = int.from_bytes(message[:8], "little")
            kind, *request = pickle.loads(message[8:])
            try:
                if kind == "scrub":
                    state, texts = request
                    if state is not None:
                        identities, donors, keep_domains, contacts = pickle.loads(state)
                        scrubber = Scrubber(identities, donors=donors, keep_domains=keep_domains,
                                            donor_contacts=contacts)
                        if scrubber._pattern is not None:  # compiled now, while the helper waits for work anyway
                            scrubber._pattern.full()
                    assert scrubber is not None
                    answer = pickle.dumps(scrubber._scrub_each(texts), protocol=pickle.HIGHEST_PROTOCOL)
                else:
                    function, args = request
                    answers.write((0).to_bytes(8, "little") + (key | _BEGUN).to_bytes(8, "little"))
                    answers.flush()
                    answer = pickle.dumps(function(*args), protocol=pickle.HIGHEST_PROTOCOL)
                    if len(answer) > _BIG_ANSWER:
                        _give_back_memory()
            except Exception:  # the caller does this work itself, and meets the error there
                answer = pickle.dumps(None)
            # the header apart: joined to it, a big answer (a big export read) would be copied once more
            answers.write(len(answer).to_bytes(8, "little") + key.to_bytes(8, "little"))
            answers.write(answer)
            answers.flush()
    except BrokenPipeError:  # the parent stopped listening (it has what it waited for): nothing left to do
        os._exit(0)


# --- small groups ---------------------------------------------------------------------------------

def hidden_label(k: int | None = None) -> str:
    """The words every surface shows for a suppressed cell: true of a group of fewer than ``k`` people and
    of the second cell hidden so that such a group cannot be worked out from the totals.

    >>> hidden_label(5)
    'hidden to protect a group of fewer than 5 people'
    """
    return f"hidden to protect a group of fewer than {config.get_settings().k if k is None else k} people"


def suppress_small_groups(
    table: pd.DataFrame,
    *,
    by: Sequence[str],
    n: str = "n",
    values: Sequence[str] = (),
    k: int | None = None,
    hide: str | None = None,
    also: Sequence[str] = (),
    nonzero: Sequence[str] = (),
    along: Sequence[str] | None = None,
    report_exposed: bool = False,
) -> pd.DataFrame:
    """Hide groups with fewer than ``k`` people, plus complementary cells against differencing.

    A *line* is a set of cells whose total the caller may publish: for each grouping column, the
    cells that share all the other grouping values (with one grouping column, the whole table).
    What is guaranteed, line by line:

    * every cell with fewer than ``k`` people (``n``), and every cell flagged in ``hide``, is hidden;
    * a line that hides anything hides at least two cells whose counts in ``n`` (and in each column
      of ``also``) add to at least ``k`` more than the number of cells hidden, so that, given the
      line's total and its shown cells, each hidden count keeps an interval wider than ``k``;
    * along a line, the hidden cells' total of each ``nonzero`` column is positive, so no hidden
      cell's count there (a numerator such as mission stories) is pinned to zero;

    as long as the line has cells left to hide: cells are added smallest ``n`` first, and the lines
    are revisited until nothing changes. A line whose cells are all hidden and still fall short
    (a single cell, or too few people in all) is *exposed*: its total alone tells what its hidden
    cells hold. Nothing here hides a total; a caller that publishes the total of an exposed line
    must hide that total, or add the line's missing groups as explicit zero rows (an attacker then
    cannot tell which group holds the total) and suppress again. Only lines are protected: totals
    the caller publishes over other sets of cells (another table's periods, another grouping) need
    joint suppression, e.g. through ``hide``.

    Parameters
    ----------
    table : DataFrame
        One row per group, with the people count in column ``n``.
    by : sequence of str
        The grouping columns.
    n : str
        Column with the number of people (respondents, employees) behind each row.
    values : sequence of str
        Columns derived from those people (means, rates, CIs); blanked in hidden rows.
    k : int, optional
        Threshold; defaults to the configured ``k`` (never below 3).
    hide : str, optional
        Boolean column of cells that must be hidden whatever their count (e.g. a quarter whose month
        is hidden in another table); complementary cells are then added around them.
    also : sequence of str
        Further counts protected like ``n`` (e.g. the headcount that bounds a response count).
    nonzero : sequence of str
        Counts whose hidden total along a line must be positive (numerators of rates).
    along : sequence of str, optional
        The grouping columns along which totals are published (default: all of ``by``); only their
        lines are protected and reported.
    report_exposed : bool
        Add a boolean column ``exposed``: True on every row of an exposed line.

    Returns
    -------
    DataFrame
        A copy of ``table`` with ``n`` and ``values`` blanked (NA) in hidden rows, a boolean column
        ``suppressed`` and, with ``report_exposed``, a boolean column ``exposed``.

    Examples
    --------
    >>> t = pd.DataFrame({"dept": list("abcd"), "n": [2, 40, 7, 30]})
    >>> suppress_small_groups(t, by=["dept"], k=5)["suppressed"].tolist()
    [True, False, True, False]

    Two small departments without a single success would both be pinned to zero successes; a third
    cell with successes is hidden as well:

    >>> t = pd.DataFrame({"dept": list("abcd"), "n": [3, 6, 40, 30], "successes": [0, 0, 10, 20]})
    >>> suppress_small_groups(t, by=["dept"], k=5, nonzero=["successes"])["suppressed"].tolist()
    [True, True, False, True]

    One department alone in a line cannot be protected by its line: its total gives it away.

    >>> t = pd.DataFrame({"month": ["2026-01"], "dept": ["a"], "n": [2]})
    >>> suppress_small_groups(t, by=["dept"], k=5, report_exposed=True)["exposed"].tolist()
    [True]
    """
    k = config.get_settings().k if k is None else int(k)
    if k < config.K_MINIMUM:
        raise ValueError(f"k = {k} is below the floor of {config.K_MINIMUM}; choose k >= {config.K_MINIMUM}.")
    missing = [c for c in (*by, n, *values, *also, *nonzero, *([hide] if hide else [])) if c not in table.columns]
    if missing:
        raise ValueError(f"suppress_small_groups: columns {missing} not in the table ({list(table.columns)}).")
    out = table.copy()

    def numbers(column: str) -> np.ndarray:
        return pd.to_numeric(out[column], errors="coerce").fillna(0).to_numpy(dtype=float)

    counts = numbers(n)
    people = [counts, *(numbers(c) for c in also)]
    numerators = [numbers(c) for c in nonzero]
    hidden = counts < k
    if hide is not None:
        hidden |= out[hide].astype("boolean").fillna(False).to_numpy(dtype=bool)

    def shortfall(members: np.ndarray) -> np.ndarray | None:
        """The count a line's hidden cells fall short in (``None``: the line is protected)."""
        hidden_members = members[hidden[members]]
        if len(hidden_members) < 2:
            return counts
        for column in people:
            if column[hidden_members].sum() < k + len(hidden_members):
                return column
        for column in numerators:
            if column[hidden_members].sum() <= 0:
                return column
        return None

    lines = _lines(out, list(by), along=None if along is None else list(along))
    changed = True
    while changed:
        changed = False
        for members in lines:
            if not hidden[members].any() or len(members) < 2:
                continue
            while (lacking := shortfall(members)) is not None:
                shown = members[~hidden[members]]
                # only a cell that holds some of what is lacking helps
                helpful = shown[lacking[shown] > 0] if lacking is not counts else shown
                if len(helpful) == 0:
                    break
                hidden[helpful[np.argmin(counts[helpful])]] = True
                changed = True
    if report_exposed:
        exposed = np.zeros(len(out), dtype=bool)
        for members in lines:
            # a numerator at zero over a whole line is what its published total says anyway
            if hidden[members].any() and any(shortfall(members) is column for column in people):
                exposed[members] = True
        out["exposed"] = exposed
    out["suppressed"] = hidden
    for column in (n, *values):
        if pd.api.types.is_integer_dtype(out[column]):
            out[column] = out[column].astype("Float64")
        out.loc[hidden, column] = pd.NA if str(out[column].dtype)[0].isupper() else np.nan
    return out


def _lines(table: pd.DataFrame, by: list[str], along: list[str] | None = None) -> list[np.ndarray]:
    """Row positions of every published margin: for each grouping column (of ``along``), the cells
    that share all the other grouping values (with a single grouping column, the whole table)."""
    positions = np.arange(len(table))
    if len(by) <= 1 or len(table) == 0:  # row-wise agg of an empty frame gives a frame, not keys
        return [positions]
    lines = []
    for column in by if along is None else along:
        rest = [c for c in by if c != column]
        # each row's values of the other columns as text, joined (column by column, not row by row)
        parts = [table[c].astype("string").fillna("<NA>") for c in rest]
        keys = functools.reduce(lambda left, right: left + "\x1f" + right,
                                parts or [pd.Series("", index=table.index, dtype="string")])
        # a line per distinct key, in order of first appearance, its rows in table order
        codes, uniques = pd.factorize(keys)
        order = np.argsort(codes, kind="stable")
        lines.extend(np.split(positions[order], np.cumsum(np.bincount(codes, minlength=len(uniques)))[:-1]))
    return lines


# --- the identity vault ---------------------------------------------------------------------------

def _vault_path(warehouse: Path) -> Path:
    digest = hashlib.sha256(str(Path(warehouse).resolve()).encode("utf-8")).hexdigest()[:16]
    return config.config_dir() / "vaults" / f"{digest}.json"


def _stored_vaults(fingerprint: str) -> list[Vault]:
    """Every readable vault of the config folder made with the key of ``fingerprint``."""
    folder = config.config_dir() / "vaults"
    vaults = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            vault = Vault.read(path)
        except (OSError, ValueError):
            continue
        if vault.key_fingerprint == fingerprint:
            vaults.append(vault)
    return vaults


def forget_identity(employee_key: str, key: bytes) -> int:
    """Remove one person from every identity vault of ``key`` (copies of a warehouse each have one);
    returns how many held them."""
    held = 0
    for vault in _stored_vaults(key_fingerprint(key)):
        if vault.forget_person(employee_key):
            vault.save()
            held += 1
    return held


@dataclass
class Vault:
    """Clear identities the scrubber needs (roster names, emails, handles; private donors).

    They never enter the warehouse. The vault is a 0600 JSON file in the user's private config folder,
    one per warehouse, written atomically, and bound to the key by its fingerprint.
    """

    path: Path
    key_fingerprint: str
    people: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    donors: list[dict[str, object]] = field(default_factory=list)
    #: Employee keys (pseudonyms, no clear identity) erased from this vault: a backup copied before the
    #: erasure still holds them, and must still be recognised as this vault's warehouse to be erased too.
    forgotten: list[str] = field(default_factory=list)

    @classmethod
    def for_warehouse(cls, warehouse: Path, key: bytes, *, people: Collection[str] = ()) -> Vault:
        """The vault of ``warehouse`` (kept under a digest of its location in the config folder).

        ``people`` are the employee keys the warehouse holds. A warehouse that was moved or renamed has
        no vault at its new location; without one its next files would be scrubbed without the roster
        (names left in clear text) and an erasure would leave the person's identity behind. So when
        there is none and the warehouse holds people, the vault (made with the same key) that knows every
        one of them, or forgot them in an erasure, is copied to its new location (an erasure cleans every
        vault of the key); if none does, :class:`ValueError` says where to put it.
        """
        path = _vault_path(warehouse)
        fingerprint = key_fingerprint(key)
        if not path.exists() and people:
            known = [vault for vault in _stored_vaults(fingerprint)
                     if set(people) <= vault.people.keys() | set(vault.forgotten)]
            if not known:
                raise ValueError(
                    f"The warehouse {warehouse} holds {len(set(people))} employees, but no identity vault in "
                    f"{path.parent} knows them (a vault is kept per warehouse location: was the warehouse moved "
                    "from another machine or config folder?). Copy its vault file into that folder, or set "
                    "POLICY_PULSE_CONFIG_DIR to the folder that holds it.")
            # a copied warehouse's vaults may have grown apart since: the scrubber is safest with all they know
            vault = cls(path, fingerprint)
            for other in known:
                for person, identities in other.people.items():
                    vault.add_person(person, **identities)
                vault.set_donors(other.donors)
                vault.forgotten = sorted(set(vault.forgotten) | set(other.forgotten))
            vault.save()
            return vault
        if path.exists():
            stored = cls.read(path)
            if stored.key_fingerprint != fingerprint:
                raise ValueError(
                    f"The identity vault {path} was made with another key (fingerprint "
                    f"{stored.key_fingerprint}, now {fingerprint}). Use the original POLICY_PULSE_KEY, "
                    "or start a new warehouse.")
            return stored
        return cls(path, fingerprint)

    @classmethod
    def read(cls, path: Path) -> Vault:
        """The vault stored at ``path``, whatever its key (:class:`OSError` or :class:`ValueError` when it
        cannot be read)."""
        stored = json.loads(path.read_text(encoding="utf-8"))
        people = stored.get("people", {}) if isinstance(stored, dict) else None
        donors = stored.get("donors", []) if isinstance(stored, dict) else None
        forgotten = stored.get("forgotten", []) if isinstance(stored, dict) else None
        if not isinstance(people, dict) or not isinstance(donors, list) or not isinstance(forgotten, list):
            raise ValueError(f"{path} is not an identity vault (a JSON object with `people` and `donors`): "
                             "restore it from a backup, or move it out of the folder to start a new one.")
        return cls(path, stored.get("key_fingerprint"), people, donors, forgotten)

    def add_person(self, employee_key: str, *, names: Iterable[str], emails: Iterable[str],
                   handles: Iterable[str]) -> None:
        entry = self.people.setdefault(employee_key, {"names": [], "emails": [], "handles": []})
        for kind, values in (("names", names), ("emails", emails), ("handles", handles)):
            for value in values:
                if value and value not in entry[kind]:
                    entry[kind].append(value)

    def forget_person(self, employee_key: str) -> bool:
        held = self.people.pop(employee_key, None) is not None
        if held and employee_key not in self.forgotten:
            self.forgotten.append(employee_key)
        return held

    def set_donors(self, donors: Iterable[dict[str, object]]) -> None:
        known = {str(d.get("name", "")).lower(): d for d in self.donors}
        for donor in donors:
            known[str(donor.get("name", "")).lower()] = donor
        self.donors = list(known.values())

    def private_donor_names(self) -> list[str]:
        return [str(d["name"]) for d in self.donors if d.get("name") and not d.get("public_acknowledgement")]

    def handle_index(self) -> dict[str, str]:
        """``"platform:handle"`` and bare ``"handle"`` -> employee key (handles normalised)."""
        index: dict[str, str] = {}
        for employee_key, entry in self.people.items():
            for tagged in entry.get("handles", []):
                platform, _, handle = tagged.partition(":") if ":" in tagged else ("", "", tagged)
                bare = normalise_handle(handle)
                if platform:
                    index[f"{platform}:{bare}"] = employee_key
                index.setdefault(bare, employee_key)
        return index

    def scrubber(self, keep_domains: Sequence[str] = ()) -> Scrubber:
        identities = [
            Identity(
                key,
                names=tuple(entry.get("names", [])),
                emails=tuple(entry.get("emails", [])),
                handles=tuple(h.partition(":")[2] if ":" in h else h for h in entry.get("handles", [])),
            )
            for key, entry in self.people.items()
        ]
        contacts = [(str(d[kind]), placeholder) for d in self.donors
                    for kind, placeholder in (("email", "[EMAIL]"), ("phone", "[PHONE]")) if d.get(kind)]
        return Scrubber(identities, donors=self.private_donor_names(), keep_domains=keep_domains,
                        donor_contacts=contacts)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = {"key_fingerprint": self.key_fingerprint, "people": self.people, "donors": self.donors,
                   "forgotten": self.forgotten}
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(payload))  # (json.dump writes piece by piece: several times slower)
        os.replace(temporary, self.path)
