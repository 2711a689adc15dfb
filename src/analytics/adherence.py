"""Policy adherence: rules from ``data/policy_rules.yml`` -> findings per post -> adherence rates.

A rule belongs to a policy area, has a severity and a plain-language explanation, and matches text
with keywords, regexes or one of the built-in detectors (the private donor list, emails, phone
numbers, mentions of the organisation). Findings never carry a sensitive value: their evidence shows
the matched context with every donor name, address, number or amount replaced by its type.

Speed comes from a two-stage match: each rule (and optionally each matcher) has a cheap RE2 prefilter
that DuckDB evaluates for the whole batch in C++; only texts passing it see the Python regexes
(look-arounds, context windows). A :class:`RegexScreen` then tells, in one RE2 pass per text, which of
those Python regexes can match at all (and from where), so the rest are never run. Results are exactly
those of the plain Python regexes: the screen only skips work that could not find anything.

The adherence rate is the share of employee posts without a (non-dismissed) finding of severity
medium or high, with its Wilson 95 % CI; grouped by a people dimension it is k-suppressed.
"""

from __future__ import annotations

import contextlib
import functools
import operator
import re
import re._constants as _sre
import re._parser as _sre_parse
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import yaml

from analytics import config, parallel, privacy

__all__ = [
    "AREAS",
    "PEOPLE_DIMENSIONS",
    "SEVERITIES",
    "Matcher",
    "ParallelScan",
    "RegexScreen",
    "Rule",
    "adherence_rate",
    "apply_dismissals",
    "evaluate_rules",
    "find_violations",
    "format_evaluation",
    "load_dismissals",
    "load_rules",
    "parallel_scan",
    "re2_superset",
    "read_yaml",
    "rule_counts",
    "rules_frame",
    "scan_ahead",
    "scan_kept",
    "wilson_interval",
]

AREAS = ("confidentiality", "disclosure", "conduct", "engagement", "mistakes", "learning", "feedback")
SEVERITIES = ("low", "medium", "high")
#: Severities that make a post non-compliant.
BREACH_SEVERITIES = frozenset({"medium", "high"})
#: Grouping columns that describe people; a rate grouped by any of them is k-suppressed.
PEOPLE_DIMENSIONS = frozenset(
    {"department", "role_level", "tenure_band", "location", "team", "author_key", "account_key", "employee_key"}
)
FINDINGS_COLUMNS = ["text_index", "rule_id", "area", "severity", "evidence_redacted"]
DISMISSAL_COLUMNS = ["post_uid", "rule_id", "reason"]
BUILTINS = ("donors", "email", "phone", "organisation")
_EVIDENCE_CONTEXT = 40
_DEFAULT_WINDOW = 50


# --- screening many Python regexes with one RE2 pass ----------------------------------------------

_CATEGORIES = {
    _sre.CATEGORY_DIGIT: r"\d", _sre.CATEGORY_NOT_DIGIT: r"\D", _sre.CATEGORY_SPACE: r"\s",
    _sre.CATEGORY_NOT_SPACE: r"\S", _sre.CATEGORY_WORD: r"\w", _sre.CATEGORY_NOT_WORD: r"\W",
}
#: Non-ASCII characters that Python's case-insensitive matching equates with an ASCII one (İ, ı, ſ and
#: the Kelvin sign); tests/test_regex_screen.py re-derives this list from every code point.
ASCII_CASE_TWINS = (0x130, 0x131, 0x17F, 0x212A)
_ASCII = "".join(map(chr, range(128)))
_NON_ASCII = (0x80, 0x10FFFF)
_RE2_MAX_REPEAT = 1000


class _Untranslatable(Exception):
    pass


def _cased(code: int) -> bool:
    char = chr(code)
    return char.lower() != char or char.upper() != char or char.casefold() != char or char.title() != char


def _class_item(op: Any, av: Any) -> str:
    if op is _sre.LITERAL:
        return f"\\U{av:08x}"
    if op is _sre.RANGE:
        return f"\\U{av[0]:08x}-\\U{av[1]:08x}"
    if op is _sre.CATEGORY:
        return _CATEGORIES[av]
    raise _Untranslatable(op)


@functools.lru_cache(maxsize=4096)
def _one_char(op: Any, av: Any, flags: int) -> str:
    """An RE2 class holding every character one Python single-character element matches (and maybe more).

    ASCII members are asked of Python itself; non-ASCII ones are kept exact only for literals whose
    case cannot vary, otherwise every non-ASCII character is let through.
    """
    if op is _sre.LITERAL:
        source, items, negated = f"\\U{av:08x}", [(op, av)], False
    elif op is _sre.NOT_LITERAL:
        source, items, negated = f"[^\\U{av:08x}]", [(_sre.LITERAL, av)], True
    elif op is _sre.ANY:
        source, items, negated = ".", [], True
    elif op is _sre.IN:
        negated = bool(av) and av[0][0] is _sre.NEGATE
        items = list(av[1:] if negated else av)
        source = "[" + "^" * negated + "".join(_class_item(o, a) for o, a in items) + "]"
    else:
        raise _Untranslatable(op)
    python = re.compile(source, flags & (re.IGNORECASE | re.DOTALL | re.ASCII))
    ignore_case = bool(flags & re.IGNORECASE)
    ranges: list[tuple[int, int]] = []
    if negated or any(o is _sre.CATEGORY or (o is _sre.RANGE and a[1] >= 0x80) for o, a in items):
        ranges.append(_NON_ASCII)
    else:
        for o, a in items:
            if o is _sre.LITERAL and a >= 0x80:
                ranges.append(_NON_ASCII if ignore_case and _cased(a) else (a, a))
        if ignore_case:
            ranges += [(c, c) for c in ASCII_CASE_TWINS if python.fullmatch(chr(c))]
    # the element matches one character, so findall over every ASCII character finds each it matches
    for code in map(ord, python.findall(_ASCII)):
        if ranges and ranges[-1][0] < 0x80 and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    if not ranges:
        return r"[^\x00-\x{10FFFF}]"
    return "[" + "".join(f"\\x{{{lo:x}}}" if lo == hi else f"\\x{{{lo:x}}}-\\x{{{hi:x}}}" for lo, hi in ranges) + "]"


def _translate(items: Sequence[tuple[Any, Any]], flags: int) -> str:
    out = []
    for op, av in items:
        if op in (_sre.LITERAL, _sre.NOT_LITERAL, _sre.ANY, _sre.IN):
            out.append(_one_char(op, tuple(av) if isinstance(av, list) else av, flags))
        elif op is _sre.BRANCH:
            out.append("(?:" + "|".join(_translate(branch, flags) for branch in av[1]) + ")")
        elif op is _sre.SUBPATTERN:
            _, add, remove, body = av
            out.append("(?:" + _translate(body, (flags | add) & ~remove) + ")")
        elif op is _sre.ATOMIC_GROUP:
            out.append("(?:" + _translate(av, flags) + ")")
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            low, high, body = av
            top = "" if high is _sre.MAXREPEAT or high > _RE2_MAX_REPEAT else str(high)
            out.append(f"(?:{_translate(body, flags)}){{{min(low, _RE2_MAX_REPEAT)},{top}}}")
        elif op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
            continue  # dropping a zero-width condition can only add matches
        elif op is _sre.GROUPREF:
            out.append(r"(?s:.*)")
        elif op is _sre.GROUPREF_EXISTS:
            _, yes, no = av
            out.append(f"(?:{_translate(yes, flags)}|{_translate(no, flags) if no else ''})")
        else:
            raise _Untranslatable(op)
    return "".join(out)


def re2_superset(pattern: re.Pattern[str]) -> str | None:
    r"""An RE2 regex matching (somewhere) every text the Python regex matches somewhere, and maybe more.

    Look-arounds and word boundaries are dropped and character classes widened where RE2 and Python
    differ (Unicode classes, case folding), so the RE2 regex may match more texts but never fewer, and
    its leftmost match starts no later than Python's. ``None`` when the regex has no translation.

    Examples
    --------
    >>> re2_superset(re.compile(r"(?<!\w)ab\d"))
    '[\\x{61}][\\x{62}][\\x{80}-\\x{10ffff}\\x{30}-\\x{39}]'
    """
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
        return _translate(list(parsed), parsed.state.flags)
    except (_Untranslatable, re.error, RecursionError, KeyError):
        return None


@functools.cache
def _re2_module() -> Any:
    try:
        import re2  # google-re2: optional; without it every regex is simply run
    except ImportError:
        return None
    return re2


class RegexScreen:
    """Which of many Python regexes can match a text, found in one RE2 pass (RE2::Set) per text.

    ``candidates(text)`` returns the indices of the regexes that may match (a superset of those that
    do: confirm with the Python regex), or ``None`` when the screen cannot tell (google-re2 not
    installed, a text RE2 cannot take, an RE2 failure): then every regex must be run. Regexes
    without an RE2 translation are always candidates.

    Examples
    --------
    >>> screen = RegexScreen([re.compile(r"\bdog\b"), re.compile("cat", re.IGNORECASE)])
    >>> sorted(screen.candidates("A CAT")) if screen.available else [1]
    [1]
    """

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self.size = len(patterns)
        self._set = None
        re2 = _re2_module()
        translated = [re2_superset(p) for p in patterns]
        self._always = frozenset(i for i, t in enumerate(translated) if t is None)
        self._compiled: dict[int, Any] = {}
        self._last: tuple[str | None, bytes] = (None, b"")
        if re2 is None:
            return
        options = re2.Options()
        options.max_mem = 64 << 20
        options.log_errors = False
        screen = re2.Set.SearchSet(options)
        screen.Add("")  # matches every text: its absence from a result means RE2 gave up
        try:
            for source in translated:
                # untranslatable: a pattern matching nothing keeps the indices aligned
                screen.Add(r"[^\x00-\x{10FFFF}]" if source is None else source)
            screen.Compile()
        except re2.error:
            return
        self._set = screen._set
        self._re2 = re2
        self._translated = translated

    @property
    def available(self) -> bool:
        """Whether RE2 screening is in use (google-re2 installed and the regexes compiled)."""
        return self._set is not None

    def candidates(self, text: str) -> frozenset[int] | None:
        """Indices of the regexes that may match ``text``; ``None``: run them all."""
        if self._set is None:
            return None
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: no UTF-8, so no RE2
            return None
        self._last = (text, encoded)
        found = self._set.Match(encoded)
        if 0 not in found:
            return None
        return self._always.union([i - 1 for i in found if i])

    def remember(self, text: str, encoded: bytes) -> None:
        """Let :meth:`start` reuse ``text``'s UTF-8, ``encoded``, as after ``candidates(text)``."""
        self._last = (text, encoded)

    def start(self, index: int, text: str) -> int:
        """A position no later than where regex ``index`` first matches in ``text`` (0 when unknown).

        Python's ``search``/``finditer`` from there find exactly what they find from 0: look-behinds
        and word boundaries still see the text before it.
        """
        if self._set is None or index in self._always:
            return 0
        regexp = self._compiled.get(index)
        if regexp is None:
            regexp = self._compiled[index] = self._re2.compile(self._translated[index])._regexp
        try:
            encoded = self._last[1] if self._last[0] is text else text.encode("utf-8")
        except UnicodeEncodeError:
            return 0
        begin = regexp.Match(self._re2._Anchor.UNANCHORED, encoded, 0, len(encoded))[0][0]
        if begin < 0:
            return len(text)
        # an ASCII text has one byte per character
        return begin if len(encoded) == len(text) else len(encoded[:begin].decode("utf-8"))


# --- rules ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Matcher:
    """One way a rule matches: a regex plus its context conditions.

    ``label`` names what the matched value is (evidence shows ``[LABEL]`` instead); upper-case named
    groups label just their part of the match. ``near`` must occur, and ``unless`` must not, within
    ``window`` characters of the hit; a hit matching ``allow`` is ignored. ``builtin`` is ``"donors"``
    for the donor list given at run time (the regex is then built per call). ``prefilter`` (RE2)
    spares the matcher texts that cannot match it.
    """

    regex: re.Pattern[str] | None
    label: str | None = None
    near: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None
    allow: re.Pattern[str] | None = None
    window: int = _DEFAULT_WINDOW
    builtin: str | None = None
    prefilter: str | None = None

    def first_hit(self, text: str, regex: re.Pattern[str] | None = None, start: int = 0) -> re.Match[str] | None:
        """The first hit in ``text`` that satisfies the context conditions.

        ``start``: no hit begins before it (searching from there skips nothing, look-behinds included).
        """
        for hit in (regex or self.regex).finditer(text, start):
            if self.allow is not None and self.allow.search(hit.group(0)):
                continue
            context = text[max(0, hit.start() - self.window) : hit.end() + self.window]
            if self.near is not None and not self.near.search(context):
                continue
            if self.unless is not None and self.unless.search(context):
                continue
            return hit
        return None

    def redactions(self, text: str, regex: re.Pattern[str] | None = None) -> Iterable[tuple[int, int, str]]:
        """Spans of sensitive values (whatever their context) with their ``[LABEL]``."""
        if self.label is None:
            return
        for hit in (regex or self.regex).finditer(text):
            if self.allow is not None and self.allow.search(hit.group(0)):
                continue
            groups = [g for g in hit.re.groupindex if g.isupper() and hit.start(g) >= 0]
            if groups:
                for group in groups:
                    yield hit.start(group), hit.end(group), f"[{group.split('__')[0]}]"
            else:
                yield hit.start(), hit.end(), f"[{self.label}]"


@dataclass(frozen=True)
class Rule:
    """A policy rule: what it checks (``matchers``), where it belongs and how serious it is."""

    id: str
    area: str
    severity: str
    explanation: str
    matchers: tuple[Matcher, ...]
    prefilter: str | None = None
    unless_text: re.Pattern[str] | None = None
    employee_only: bool = False
    uses_donors: bool = field(default=False)


def _apostrophes(pattern: str) -> str:
    # social media text mixes straight and typographic apostrophes
    return pattern.replace("'", "['’]")


def _splice(pattern: str, terms: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in terms:
            raise ValueError(f"Regex refers to <<{name}>> but the rule defines no such term; add it under `terms`.")
        return terms[name]

    return re.sub(r"<<(\w+)>>", replace, pattern)


def _keywords_regex(keywords: Sequence[str]) -> str:
    phrases = sorted({k.strip() for k in keywords if k and k.strip()}, key=len, reverse=True)
    return rf"(?<!\w)(?:{_keywords_prefilter(phrases)})(?!\w)"


def _keywords_prefilter(keywords: Sequence[str]) -> str:
    # words of a phrase may be separated by any whitespace or hyphens ("not-for-publication")
    words = (re.split(r"[\s-]+", k.strip()) for k in keywords if k.strip())
    return _apostrophes("|".join(r"[\s-]+".join(re.escape(w) for w in parts) for parts in words))


def _domain_allow(domains: Sequence[str]) -> re.Pattern[str] | None:
    """The organisation's public addresses, written normally or spelled out ("[at] ... dot org"): on its
    domains, but for a person's own (:data:`analytics.privacy.PERSONAL_LOCAL_PART`, as the scrub decides)."""
    dot = r"(?:\.|\s*[\[({]dot[\])}]\s*|\s+dot\s+)"
    alternatives = [dot.join(re.escape(part) for part in d.lower().split(".")) for d in domains if d]
    if not alternatives:
        return None
    at = r"(?:@|\s*[\[({]at[\])}]\s*|\s+at\s+)"
    return re.compile(rf"^(?!{privacy.PERSONAL_LOCAL_PART}{at}).*?{at}(?:[\w-]+{dot})*(?:{'|'.join(alternatives)})$",
                      re.IGNORECASE)


def _organisation_terms(settings: config.Settings) -> tuple[list[str], list[str]]:
    """(names, handles) of the organisation: name, account names, handles, hashtags, domains."""
    names = [settings.organisation_name] if settings.organisation_name != config.Settings.organisation_name else []
    handles: list[str] = []
    for accounts in settings.organisation_accounts.values():
        for account in accounts:
            (names if " " in account else handles).append(account)
    tags = {"#" + re.sub(r"\W", "", n) for n in names} | {"#" + h.split("@")[0] for h in handles}
    return [*names, *settings.organisation_domains, *tags], ["@" + h for h in handles]


def _organisation_regex(settings: config.Settings) -> str | None:
    names, handles = _organisation_terms(settings)
    parts = []
    if names:
        parts.append(_keywords_regex(names))
    if handles:
        escaped = "|".join(re.escape(h) for h in sorted(set(handles), key=len, reverse=True))
        parts.append(rf"(?<![\w@])(?:{escaped})(?![\w@])")
    return "|".join(parts) or None


_BUILTIN_PREFILTERS = {
    "email": "@",
    "phone": r"\d[\d\s().\-\x{00A0}]{4,}\d",
}


def _compile(pattern: str | None, *, case_sensitive: bool = False) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    return re.compile(_apostrophes(pattern), 0 if case_sensitive else re.IGNORECASE)


def _parse_matcher(spec: dict[str, Any], terms: dict[str, str], settings: config.Settings, rule_id: str) -> tuple[
    Matcher, str | None
]:
    """A matcher and its derived prefilter (``None`` when it cannot be derived)."""
    kinds = [k for k in ("keywords", "regex", "builtin") if k in spec]
    if len(kinds) != 1:
        raise ValueError(f"Rule {rule_id!r}: each matcher needs exactly one of keywords/regex/builtin, got {kinds}.")
    case_sensitive = bool(spec.get("case_sensitive", False))
    prefilter: str | None = None
    builtin = spec.get("builtin")
    if "keywords" in spec:
        pattern = _keywords_regex(spec["keywords"])
        prefilter = _keywords_prefilter(spec["keywords"])
    elif "regex" in spec:
        alternatives = spec["regex"] if isinstance(spec["regex"], list) else [spec["regex"]]
        # alternatives may reuse a label group (?P<AGE>...); Python needs distinct group names
        pattern = "|".join(
            "(?:" + re.sub(r"\(\?P<([A-Z]+)>", rf"(?P<\1__{i}>", _splice(a, terms)) + ")"
            for i, a in enumerate(alternatives)
        )
    elif builtin == "email":
        pattern = privacy.EMAIL_RE.pattern
        prefilter = _BUILTIN_PREFILTERS["email"]
    elif builtin == "phone":
        pattern = privacy.PHONE_RE.pattern
        prefilter = _BUILTIN_PREFILTERS["phone"]
    elif builtin == "organisation":
        pattern = _organisation_regex(settings)
        if pattern is None:
            raise ValueError(
                f"Rule {rule_id!r} uses the organisation's name but {config.SETTINGS_PATH.name} sets neither "
                "organisation_name nor organisation_accounts."
            )
        names, handles = _organisation_terms(settings)
        prefilter = _keywords_prefilter([*names, *handles])
    elif builtin == "donors":
        pattern = None
    else:
        raise ValueError(f"Rule {rule_id!r}: unknown builtin {builtin!r}; use one of {list(BUILTINS)}.")
    if "prefilter" in spec:
        prefilter = _splice(str(spec["prefilter"]), terms)
    allow = None
    if spec.get("allow_organisation_domains"):
        allow = _domain_allow(settings.organisation_domains)
    if "regex" in spec:
        # apostrophes only in hand-written regexes (built-ins are used exactly as privacy defines them)
        regex = _compile(pattern, case_sensitive=case_sensitive)
    else:
        regex = re.compile(pattern, 0 if case_sensitive else re.IGNORECASE) if pattern else None
    matcher = Matcher(
        regex=regex,
        label=spec.get("label"),
        near=_compile(_splice(spec["near"], terms), case_sensitive=case_sensitive) if "near" in spec else None,
        unless=_compile(_splice(spec["unless"], terms), case_sensitive=case_sensitive) if "unless" in spec else None,
        allow=allow,
        window=int(spec.get("window", _DEFAULT_WINDOW)),
        builtin=builtin,
        prefilter=_splice(str(spec["prefilter"]), terms) if "prefilter" in spec else None,
    )
    return matcher, prefilter


def _parse_rule(spec: dict[str, Any], settings: config.Settings) -> Rule:
    missing = [k for k in ("id", "area", "severity", "explanation", "match") if k not in spec]
    if missing:
        raise ValueError(f"Policy rule {spec.get('id', spec)!r} lacks {missing}; see the header of policy_rules.yml.")
    rule_id = str(spec["id"])
    if spec["area"] not in AREAS:
        raise ValueError(f"Rule {rule_id!r}: area {spec['area']!r} is not one of {list(AREAS)}.")
    if spec["severity"] not in SEVERITIES:
        raise ValueError(f"Rule {rule_id!r}: severity {spec['severity']!r} is not one of {list(SEVERITIES)}.")
    terms = {name: "(?:" + "|".join(words) + ")" for name, words in (spec.get("terms") or {}).items()}
    parsed = [_parse_matcher(m, terms, settings, rule_id) for m in spec["match"]]
    matchers = tuple(m for m, _ in parsed)
    prefilter = spec.get("prefilter")
    if prefilter is not None:
        prefilter = _splice(str(prefilter), terms)
    elif all(p is not None for _, p in parsed) and not any(m.builtin == "donors" for m in matchers):
        prefilter = "|".join(p for _, p in parsed)
    return Rule(
        id=rule_id,
        area=str(spec["area"]),
        severity=str(spec["severity"]),
        explanation=" ".join(str(spec["explanation"]).split()),
        matchers=matchers,
        prefilter=prefilter,
        unless_text=_compile(spec.get("unless_text")),
        employee_only=bool(spec.get("employee_only", False)),
        uses_donors=any(m.builtin == "donors" for m in matchers),
    )


def read_yaml(text: str | bytes) -> Any:
    """``yaml.safe_load(text)``, parsed by libyaml when PyYAML has it (ten times faster: every build reads
    the rules and the taxonomy); the same safe constructor builds the result either way."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _read_rules(path: Path, text: bytes, settings: config.Settings) -> tuple[Rule, ...]:
    raw = read_yaml(text) or {}
    specs = raw.get("rules")
    if not isinstance(specs, list) or not specs:
        raise ValueError(f"{path} has no `rules:` list; see the header of data/policy_rules.yml for the format.")
    rules = tuple(_parse_rule(s, settings) for s in specs)
    ids = [r.id for r in rules]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"{path}: rule ids {duplicated} appear more than once; give each rule its own id.")
    return rules


def load_rules(path: str | Path | None = None) -> list[Rule]:
    """Read and compile the policy rules (parsed and compiled once per content and settings:
    :func:`analytics.config.parsed_once`).

    Parameters
    ----------
    path : str or Path, optional
        Rules file; defaults to :data:`analytics.config.POLICY_RULES_PATH`.

    Returns
    -------
    list of Rule
        In file order.

    Examples
    --------
    >>> [r.id for r in load_rules()][:3]
    ['donor_name', 'email', 'phone']
    """
    chosen = Path(path or config.POLICY_RULES_PATH).resolve()
    try:
        # the organisation's name and domains come from the settings, so they are parsed again with them
        return list(config.parsed_once(chosen, _read_rules, config.get_settings()))
    except FileNotFoundError:
        raise ValueError(f"Policy rules file {chosen} does not exist; create it or pass another path.") from None


def rules_frame(rules: Sequence[Rule] | None = None) -> pd.DataFrame:
    """The rules as a table for analysts and the report.

    Returns
    -------
    DataFrame
        ``rule_id``, ``name`` (the id as words, for readers: ``internal_only`` is "Internal only"), ``area``,
        ``severity``, ``explanation``; one row per rule, in file order.

    Examples
    --------
    >>> rules_frame().set_index("rule_id").loc["donor_name", ["name", "area"]].tolist()
    ['Donor name', 'confidentiality']
    """
    rules = load_rules() if rules is None else rules
    return pd.DataFrame(
        {
            "rule_id": [r.id for r in rules],
            "name": [r.id.replace("_", " ").capitalize() for r in rules],
            "area": [r.area for r in rules],
            "severity": [r.severity for r in rules],
            "explanation": [r.explanation for r in rules],
        }
    )


# --- matching -------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def _donor_regex(donors: tuple[str, ...]) -> re.Pattern[str] | None:
    names = sorted({" ".join(d.split()) for d in donors if d and d.strip()}, key=len, reverse=True)
    if not names:
        return None
    parts = [r"\s+".join(re.escape(w) for w in name.split()) for name in names]
    return re.compile(rf"(?<![\w@])(?:{'|'.join(parts)})(?!\w)", re.IGNORECASE)


def _donor_prefilter(donors: tuple[str, ...]) -> str:
    return "|".join(r"\s+".join(re.escape(w) for w in " ".join(d.split()).split()) for d in donors if d.strip())


#: Python's case-insensitive regexes take İ and ı (dotted capital, dotless small i) for i, as they take
#: ſ for s and the Kelvin sign for k; RE2's case folding (the prefilters') knows the last two only. So a
#: text holding İ or ı is also matched with them written as i, and "rİverbend" passes a prefilter written
#: for "riverbend" as it matches the rule's regex.
_DOTTED_I = str.maketrans({"\u0130": "i", "\u0131": "i"})
_DOTTED_I_RE2 = r"[\x{130}\x{131}]"


def _prefilter_masks(
    texts: list[str], patterns: list[str | None], parents: Sequence[int | None] | None = None
) -> list[np.ndarray]:
    """For each RE2 pattern, which texts contain a match (all True when the pattern is ``None``), in the
    text or, where it holds İ or ı, in the text with them written as i (see :data:`_DOTTED_I`).

    A pattern with a parent (the index of an earlier pattern) is only tried where the parent matched,
    and is False elsewhere.
    """
    parents = list(parents) if parents is not None else [None] * len(patterns)
    masks = [np.ones(len(texts), dtype=bool) for _ in patterns]
    if not texts or not any(patterns):
        return [m if parents[i] is None else masks[parents[i]].copy() for i, m in enumerate(masks)]

    def column(i: int) -> str:
        if patterns[i] is None:
            return f"true AS m{i}" if parents[i] is None else f"m{parents[i]} AS m{i}"
        pattern = "'" + patterns[i].replace("'", "''") + "'"
        test = f"(regexp_matches(t, {pattern}, 'i') OR coalesce(regexp_matches(u, {pattern}, 'i'), false))"
        if parents[i] is None:
            return f"{test} AS m{i}"
        # DuckDB evaluates a CASE branch only on the rows that take it
        return f"(CASE WHEN m{parents[i]} THEN {test} ELSE false END) AS m{i}"

    top = [i for i in range(len(patterns)) if parents[i] is None]
    nested = [i for i in range(len(patterns)) if parents[i] is not None]
    inner = ", ".join(column(i) for i in top)
    outer = ", ".join([*(f"m{i}" for i in top), *(column(i) for i in nested)])
    frame = pd.DataFrame({"t": np.asarray(texts, dtype=object)})
    with duckdb.connect() as con:
        con.register("texts", frame)
        # u: the text with İ and ı written as i, where it holds them (NULL elsewhere)
        dotted = f"CASE WHEN regexp_matches(t, '{_DOTTED_I_RE2}') THEN translate(t, '\u0130\u0131', 'ii') END"
        result = con.execute(f"SELECT {outer} FROM (SELECT {inner}, t, u FROM (SELECT t, {dotted} AS u FROM texts))"
                             ).fetchnumpy()
    return [np.asarray(result[f"m{i}"], dtype=bool) for i in range(len(patterns))]


_PREFILTER_SETS: dict[tuple[str, ...], Any] = {}


def _prefilter_set(patterns: tuple[str, ...]) -> Any:
    """An RE2 set of the prefilters compiled as DuckDB's ``regexp_matches(t, p, 'i')`` compiles each
    (case-insensitive, otherwise RE2's defaults), with an empty pattern first that matches every text;
    ``None`` without google-re2 or when the set does not compile."""
    if patterns not in _PREFILTER_SETS:
        re2 = _re2_module()
        compiled = None
        if re2 is not None:
            options = re2.Options()
            options.case_sensitive = False
            options.max_mem = 64 << 20
            options.log_errors = False
            matcher = re2.Set.SearchSet(options)
            try:
                for pattern in ("", *patterns):
                    matcher.Add(pattern)
                matcher.Compile()
                compiled = matcher._set
            except re2.error:
                compiled = None
        if len(_PREFILTER_SETS) > 8:
            _PREFILTER_SETS.clear()
        _PREFILTER_SETS[patterns] = compiled
    return _PREFILTER_SETS[patterns]


def _prefilter_masks_re2(
    texts: list[str], patterns: list[str | None], parents: Sequence[int | None] | None = None,
    prescreened: _Prescreened | None = None,
) -> list[np.ndarray]:
    """:func:`_prefilter_masks` with every pattern matched in one RE2 pass per text instead of by DuckDB.

    Both are RE2 with the same options, so the masks are the same; a text RE2 cannot take here (no
    UTF-8: lone surrogates) or a pass that gives up is left to DuckDB. The set's last pattern finds the
    texts holding İ or ı, which are matched again with them written as i. ``prescreened``: that set's
    pass over ``texts`` already made (:class:`_ScanScreen`).
    """
    active = [i for i, pattern in enumerate(patterns) if pattern is not None]
    matcher = _prefilter_set((*(patterns[i] for i in active), _DOTTED_I_RE2)) if texts and active else None
    if matcher is None:
        return _prefilter_masks(texts, patterns, parents)
    parents = list(parents) if parents is not None else [None] * len(patterns)
    if prescreened is not None:
        hits = prescreened.prefilter.copy()
        undecided = list(prescreened.undecided)
    else:
        rows: list[int] = []
        columns: list[int] = []
        undecided = []
        for k, text in enumerate(texts):
            try:
                found = matcher.Match(text.encode("utf-8"))
            except UnicodeEncodeError:
                undecided.append(k)
                continue
            if 0 not in found:
                undecided.append(k)
                continue
            rows += [k] * len(found)
            columns += found
        hits = np.zeros((len(texts), len(active) + 2), dtype=bool)
        hits[rows, columns] = True
    # only the few texts holding İ or ı are matched twice
    for k in np.flatnonzero(hits[:, -1]).tolist():
        found = matcher.Match(texts[k].translate(_DOTTED_I).encode("utf-8"))
        if 0 in found:
            hits[k, found] = True
        else:
            undecided.append(k)
    if undecided:
        rest = _prefilter_masks([texts[k] for k in undecided], patterns, parents)
        hits[undecided, 1:-1] = np.column_stack([rest[i] for i in active])
    masks: list[np.ndarray] = []
    column = {i: position + 1 for position, i in enumerate(active)}
    for i in range(len(patterns)):
        mask = hits[:, column[i]].copy() if i in column else np.ones(len(texts), dtype=bool)
        if parents[i] is not None:
            mask &= masks[parents[i]]
        masks.append(mask)
    return masks


def _rule_hit(
    rule: Rule,
    text: str,
    donor_regex: re.Pattern[str] | None,
    runs: Sequence[bool],
    start: Callable[[int], int | None] | None = None,
) -> re.Match[str] | None:
    """The rule's first qualifying hit in ``text``.

    ``start(j)`` tells where matcher ``j``'s regex (``j=-1``: ``unless_text``) can first match, ``None``
    when it cannot match at all; searching from there finds what searching from 0 finds.
    """
    unless = None if rule.unless_text is None else start(-1) if start is not None else 0
    # where RE2 saw unless_text start, an anchored match is cheap and, when it holds, settles the rule whatever
    # its matchers find (an employee naming the organisation, the common case, mostly says they work there)
    if unless is not None and rule.unless_text.match(text, unless):
        return None
    hit = None
    for j, (matcher, run) in enumerate(zip(rule.matchers, runs, strict=True)):
        if not run:
            continue
        if matcher.builtin == "donors":
            if donor_regex is None:
                continue
            hit = matcher.first_hit(text, donor_regex)
        else:
            begin = start(j) if start is not None else 0
            hit = None if begin is None else matcher.first_hit(text, start=begin)
        if hit is not None:
            break
    # searched after the hit: most texts have none, and unless_text is the slowest regex of all
    if hit is None or rule.unless_text is None:
        return hit
    return None if unless is not None and rule.unless_text.search(text, unless) else hit


_RULE_SCREENS: dict[tuple[int, ...], tuple[list[Rule], RegexScreen, dict[tuple[int, int], int], dict[int, int]]] = {}


def _rule_screen(rules: list[Rule]) -> tuple[RegexScreen, dict[tuple[int, int], int], dict[int, int]]:
    """One RE2 screen over the rules' matcher regexes (the donor list aside) and ``unless_text`` regexes,
    with the screen index of each (rule, matcher) and of each rule's ``unless_text``."""
    key = tuple(id(rule) for rule in rules)
    cached = _RULE_SCREENS.get(key)
    if cached is None or any(a is not b for a, b in zip(cached[0], rules, strict=True)):
        patterns: list[re.Pattern[str]] = []
        matchers: dict[tuple[int, int], int] = {}
        unless: dict[int, int] = {}
        for r, rule in enumerate(rules):
            for j, matcher in enumerate(rule.matchers):
                if matcher.regex is not None and matcher.builtin != "donors":
                    matchers[r, j] = len(patterns)
                    patterns.append(matcher.regex)
            if rule.unless_text is not None:
                unless[r] = len(patterns)
                patterns.append(rule.unless_text)
        if len(_RULE_SCREENS) > 8:
            _RULE_SCREENS.clear()
        cached = _RULE_SCREENS[key] = (list(rules), RegexScreen(patterns), matchers, unless)
    return cached[1], cached[2], cached[3]


def _sensitive_spans(
    text: str, matchers: Sequence[Matcher], donor_regex: re.Pattern[str] | None
) -> list[tuple[int, int, str]]:
    spans = []
    for matcher in matchers:
        if matcher.builtin == "donors":
            if donor_regex is not None:
                donor_spans = list(matcher.redactions(text, donor_regex))
                spans.extend(donor_spans)
                spans.extend(_donor_name_parts(text, donor_spans))
        else:
            spans.extend(matcher.redactions(text))
    spans.sort(key=lambda s: (s[0], -s[1]))
    merged: list[tuple[int, int, str]] = []
    for start, end, label in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, label))
    return merged


_NOT_NAME_PARTS = frozenset(
    {"the", "and", "family", "trust", "foundation", "fund", "holdings", "sons", "ltd", "limited"}
)


def _donor_name_parts(text: str, donor_spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A donor named in full is also named by a part elsewhere ("... thank you Aisha!")."""
    parts = {
        word.lower()
        for start, end, _ in donor_spans
        for word in re.findall(r"\w+", text[start:end])
        if len(word) >= 3 and word.lower() not in _NOT_NAME_PARTS
    }
    if not parts:
        return []
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, parts))})(?!\w)", re.IGNORECASE)
    return [(hit.start(), hit.end(), "[DONOR]") for hit in pattern.finditer(text)]


def _evidence(text: str, hit: re.Match[str], spans: list[tuple[int, int, str]]) -> str:
    """The hit in its context, sensitive values replaced by their type, never cut mid-value."""
    start = max(0, hit.start() - _EVIDENCE_CONTEXT)
    end = min(len(text), hit.end() + _EVIDENCE_CONTEXT)
    if start > 0:
        space = text.find(" ", start, hit.start())
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.rfind(" ", hit.end(), end)
        end = space if space >= 0 else end
    for s, e, _ in spans:
        # a window edge inside a sensitive value would leak the rest of it
        if s < start < e:
            start = s
        if s < end < e:
            end = e
    pieces = ["…"] if start > 0 else []
    cursor = start
    for s, e, label in spans:
        if e <= start or s >= end:
            continue
        pieces.append(text[cursor:s])
        pieces.append(label)
        cursor = e
    pieces.append(text[cursor:end])
    if end < len(text):
        pieces.append("…")
    return " ".join("".join(pieces).split())


def _as_texts(texts: Iterable[Any]) -> tuple[list[str], pd.Index]:
    if isinstance(texts, pd.Series):
        values, index = texts.tolist(), texts.index
    else:
        values = list(texts)
        index = pd.RangeIndex(len(values))
    return [v if isinstance(v, str) else "" for v in values], index


_SURROGATE_BLOCK = 1024


def _without_lone_surrogates(values: list[str]) -> list[str]:
    """The texts with each lone surrogate replaced by U+FFFD (the replacement character).

    A lone surrogate (a JSON ``\\ud800`` escape, bytes decoded with ``surrogateescape``) has no UTF-8,
    which RE2 and DuckDB need, nor can evidence holding it be stored. No rule tells the two apart (neither
    is a letter, digit, space or cased), and one code point stands for one, so every hit and its evidence
    stay where they were. Most blocks of texts encode at once and are left as they are.
    """
    out = values
    for begin in range(0, len(values), _SURROGATE_BLOCK):
        block = values[begin : begin + _SURROGATE_BLOCK]
        try:
            "".join(block).encode("utf-8")
        except UnicodeEncodeError:
            out = list(values) if out is values else out
            out[begin : begin + len(block)] = [privacy.replace_lone_surrogates(text) for text in block]
    return out


def _prefilter_patterns(rules: Sequence[Rule], donor_names: tuple[str, ...]) -> tuple[
    list[str | None], list[int | None], dict[tuple[int, int], int]
]:
    """The RE2 prefilters of :func:`_detect`: one per rule, then one per matcher that has its own (its
    parent the rule's), and the position of each (rule, matcher)'s."""
    patterns: list[str | None] = []
    for rule in rules:
        pattern = rule.prefilter
        if rule.uses_donors:
            pattern = "|".join(p for p in (pattern, _donor_prefilter(donor_names), r"\[donor\]") if p)
        patterns.append(pattern)
    parents: list[int | None] = [None] * len(patterns)
    slots = {}
    for r, rule in enumerate(rules):
        for j, matcher in enumerate(rule.matchers):
            if matcher.prefilter:
                slots[r, j] = len(patterns)
                patterns.append(matcher.prefilter)
                parents.append(r)
    return patterns, parents, slots


def _detect(
    texts: Iterable[Any],
    *,
    donors: Iterable[str] = (),
    employee_posts: Iterable[bool] | None = None,
    rules: Sequence[Rule] | None = None,
    use_prefilter: bool = True,
    prescreened: _Prescreened | None = None,
) -> pd.DataFrame:
    values, index = _as_texts(texts)
    values = _without_lone_surrogates(values)
    rules = load_rules() if rules is None else list(rules)
    if employee_posts is None:
        employee = np.ones(len(values), dtype=bool)
    else:
        employee = np.asarray(pd.Series(list(employee_posts), dtype="boolean").fillna(False), dtype=bool)
        if len(employee) != len(values):
            raise ValueError(
                f"employee_posts has {len(employee)} values for {len(values)} texts; pass one flag per text."
            )
    donor_names = tuple(_without_lone_surrogates([str(d) for d in donors if isinstance(d, str) and d.strip()]))
    donor_regex = _donor_regex(donor_names)
    patterns, parents, slots = _prefilter_patterns(rules, donor_names)
    if prescreened is not None and (donor_names or not use_prefilter or len(prescreened) != len(values)):
        raise ValueError("_detect: prescreened texts are for the rules' own prefilters, without donors.")
    masks = _prefilter_masks_re2(values, patterns if use_prefilter else [None] * len(patterns), parents,
                                 prescreened=prescreened)

    def runs(r: int, position: int) -> list[bool]:
        return [(r, j) not in slots or bool(masks[slots[r, j]][position]) for j in range(len(rules[r].matchers))]

    screen, matcher_slots, unless_slots = _rule_screen(rules)
    # the screen indices of each rule's matcher regexes, when every matcher has one (not the donor list)
    screened = [slots if None not in slots else None
                for slots in (frozenset(matcher_slots.get((r, j)) for j in range(len(rule.matchers)))
                              for r, rule in enumerate(rules))]
    candidates = np.column_stack([masks[r] & employee if rule.employee_only else masks[r]
                                  for r, rule in enumerate(rules)]) if rules else np.zeros((len(values), 0), bool)
    hits: dict[int, list[tuple[int, re.Match[str]]]] = {}
    rows = candidates.tolist()
    for position in np.flatnonzero(candidates.any(axis=1)).tolist():
        text = values[position]
        # regexes RE2 shows cannot match are skipped, and the others searched from where RE2 saw them
        # start: the outcome is the same, only faster
        if prescreened is None:
            maybe = screen.candidates(text) if use_prefilter else None
        else:
            maybe = prescreened.rules(position)
            screen.remember(text, prescreened.encoded[position])

        def start(j: int, r: int = 0, text: str = text, maybe: frozenset[int] | None = maybe) -> int | None:
            slot = (unless_slots if j < 0 else matcher_slots).get(r if j < 0 else (r, j))
            if maybe is None or slot is None:
                return 0
            return screen.start(slot, text) if slot in maybe else None

        for r, candidate in enumerate(rows[position]):
            # a rule none of whose regexes RE2 sees in the text has no hit: it need not be looked at
            if candidate and (maybe is None or screened[r] is None or not maybe.isdisjoint(screened[r])):
                hit = _rule_hit(rules[r], text, donor_regex, runs(r, position), functools.partial(start, r=r))
                if hit is not None:
                    hits.setdefault(position, []).append((r, hit))

    # a prefilter holds wherever its regexes match at all, whatever the context, so it also tells
    # which matchers can have sensitive values to redact in a text
    redacting = [r for r, rule in enumerate(rules) if any(m.label for m in rule.matchers)]
    rows_index, rows_rule, rows_evidence = [], [], []
    for position in sorted(hits):
        text = values[position]
        present = [
            matcher
            for r in redacting
            if masks[r][position]
            for matcher, run in zip(rules[r].matchers, runs(r, position), strict=True)
            if run and matcher.label
        ]
        spans = _sensitive_spans(text, present, donor_regex)
        for r, hit in sorted(hits[position], key=lambda item: item[0]):
            rows_index.append(position)
            rows_rule.append(r)
            rows_evidence.append(_evidence(text, hit, spans))
    out = pd.DataFrame(
        {
            "text_index": index.take(rows_index) if rows_index else index[:0],
            "rule_id": pd.Series([rules[r].id for r in rows_rule], dtype="str"),
            "area": pd.Series([rules[r].area for r in rows_rule], dtype="str"),
            "severity": pd.Series([rules[r].severity for r in rows_rule], dtype="str"),
            "evidence_redacted": pd.Series(rows_evidence, dtype="str"),
        }
    )
    return out.reset_index(drop=True)


def find_violations(
    texts: Iterable[Any],
    *,
    donors: Iterable[str] = (),
    employee_posts: Iterable[bool] | None = None,
    rules: Sequence[Rule] | None = None,
) -> pd.DataFrame:
    """Which policy rules each text breaks, with redacted evidence.

    Works on raw text and on text already passed through :class:`analytics.privacy.Scrubber` (its
    placeholders ``[DONOR]``, ``[EMAIL]``, ``[PHONE]`` count as the values they replaced).

    Parameters
    ----------
    texts : Series or sequence of str
        Post texts; missing values never match. A Series' index labels become ``text_index``. A lone
        surrogate (text that was not valid Unicode) is read, and shown in evidence, as U+FFFD.
    donors : iterable of str
        The private donor list (names); matched case-insensitively as whole names.
    employee_posts : sequence of bool, optional
        One flag per text (positional); the disclosure rule applies to employee posts only.
        Defaults to all True.
    rules : sequence of Rule, optional
        Defaults to :func:`load_rules`.

    Returns
    -------
    DataFrame
        One row per (text, rule) that fires, in text order then rule order:
        ``text_index`` (index label or position), ``rule_id``, ``area``, ``severity`` and
        ``evidence_redacted`` (the matched context with sensitive values replaced by ``[DONOR]``,
        ``[EMAIL]``, ``[PHONE]``, ``[AMOUNT]``, ``[NAME]``, ``[AGE]``, ``[ADDRESS]``, ``[HEALTH]``).

    Examples
    --------
    >>> found = find_violations(["Thanks Jane Roe for the $5,000 gift!", "Lovely coffee, $5"],
    ...                         donors=["Jane Roe"])
    >>> found[["text_index", "rule_id"]].values.tolist()
    [[0, 'donor_name'], [0, 'gift_amount']]
    >>> found["evidence_redacted"].iloc[1]
    'Thanks [DONOR] for the [AMOUNT] gift!'
    """
    return _detect(texts, donors=donors, employee_posts=employee_posts, rules=rules)


# --- evaluation -----------------------------------------------------------------------------------

def evaluate_rules(labelled: pd.DataFrame, *, donors: Iterable[str] = (), rules: Sequence[Rule] | None = None) -> (
    pd.DataFrame
):
    """Precision and recall of each rule against hand-labelled texts.

    Parameters
    ----------
    labelled : DataFrame
        Columns ``text``, ``labels`` (semicolon-separated rule ids the text should trigger; empty for
        none) and ``employee_post`` (bool).
    donors : iterable of str
        The private donor list used for the labels.
    rules : sequence of Rule, optional
        Defaults to :func:`load_rules`.

    Returns
    -------
    DataFrame
        One row per rule: ``rule_id``, ``n_positive`` (texts labelled with it), ``tp``, ``fp``, ``fn``,
        ``precision`` (NaN when the rule never fired) and ``recall`` (NaN without positives).

    Examples
    --------
    >>> data = pd.DataFrame({"text": ["wtf is this", "a lovely day"], "labels": ["profanity", ""],
    ...                      "employee_post": [True, True]})
    >>> evaluate_rules(data).set_index("rule_id").loc["profanity", ["tp", "fp", "fn"]].tolist()
    [1, 0, 0]
    """
    missing = [c for c in ("text", "labels", "employee_post") if c not in labelled.columns]
    if missing:
        raise ValueError(
            f"evaluate_rules: the labelled frame lacks columns {missing}; it needs text, labels, employee_post."
        )
    rules = load_rules() if rules is None else list(rules)
    known = [r.id for r in rules]
    expected = [
        {label.strip() for label in str(value).split(";") if label.strip()} if isinstance(value, str) else set()
        for value in labelled["labels"].tolist()
    ]
    unknown = sorted(set().union(*expected) - set(known)) if expected else []
    if unknown:
        raise ValueError(f"evaluate_rules: labels {unknown} are not rule ids; known rules are {known}.")
    employee = labelled["employee_post"].map(_as_bool).tolist()
    found = _detect(labelled["text"].reset_index(drop=True), donors=donors, employee_posts=employee, rules=rules)
    fired: dict[str, set[int]] = {rule_id: set() for rule_id in known}
    for position, rule_id in zip(found["text_index"].tolist(), found["rule_id"].tolist(), strict=True):
        fired[rule_id].add(position)
    rows = []
    for rule_id in known:
        positives = {i for i, labels in enumerate(expected) if rule_id in labels}
        tp = len(positives & fired[rule_id])
        fp = len(fired[rule_id] - positives)
        fn = len(positives - fired[rule_id])
        rows.append(
            {
                "rule_id": rule_id,
                "n_positive": len(positives),
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "precision": tp / (tp + fp) if tp + fp else np.nan,
                "recall": tp / len(positives) if positives else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["rule_id", "n_positive", "tp", "fp", "fn", "precision", "recall"])


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "y", "t"}
    return bool(value) if value is not None and value == value else False


def format_evaluation(evaluation: pd.DataFrame) -> str:
    """A printable table of :func:`evaluate_rules` output (for ``policy-pulse evaluate``).

    Examples
    --------
    >>> table = pd.DataFrame({"rule_id": ["phone"], "n_positive": [20], "tp": [19], "fp": [1], "fn": [1],
    ...                       "precision": [0.95], "recall": [0.95]})
    >>> print(format_evaluation(table))
    rule    n_positive  tp  fp  fn  precision  recall
    phone           20  19   1   1      0.950   0.950
    """
    missing = [c for c in ("rule_id", "n_positive", "tp", "fp", "fn", "precision", "recall") if c not in evaluation]
    if missing:
        raise ValueError(f"format_evaluation: columns {missing} missing; pass the output of evaluate_rules().")
    header = ["rule", "n_positive", "tp", "fp", "fn", "precision", "recall"]
    body = [
        [
            str(row.rule_id),
            str(int(row.n_positive)),
            str(int(row.tp)),
            str(int(row.fp)),
            str(int(row.fn)),
            "—" if pd.isna(row.precision) else f"{row.precision:.3f}",
            "—" if pd.isna(row.recall) else f"{row.recall:.3f}",
        ]
        for row in evaluation.itertuples(index=False)
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = []
    for line in [header, *body]:
        cells = [line[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


# --- dismissals -----------------------------------------------------------------------------------

def load_dismissals(path: str | Path | None = None) -> pd.DataFrame:
    """Findings analysts dismissed as false positives.

    Parameters
    ----------
    path : str or Path, optional
        CSV with columns ``post_uid``, ``rule_id`` (``*`` dismisses every rule for that post) and
        ``reason``; defaults to :data:`analytics.config.DISMISSALS_PATH`. A missing file means none.

    Returns
    -------
    DataFrame
        ``post_uid``, ``rule_id``, ``reason`` (all strings).

    Examples
    --------
    >>> load_dismissals("/nonexistent/dismissals.csv").columns.tolist()
    ['post_uid', 'rule_id', 'reason']
    """
    chosen = Path(path or config.DISMISSALS_PATH)
    if not chosen.exists():
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in DISMISSAL_COLUMNS})
    frame = pd.read_csv(chosen, dtype=str, keep_default_na=False)
    missing = [c for c in ("post_uid", "rule_id") if c not in frame.columns]
    if missing:
        raise ValueError(f"{chosen} lacks columns {missing}; it needs post_uid, rule_id and reason.")
    if "reason" not in frame.columns:
        frame["reason"] = ""
    frame = frame[DISMISSAL_COLUMNS].apply(lambda column: column.str.strip())
    return frame[frame["post_uid"] != ""].reset_index(drop=True).astype("str")


def apply_dismissals(findings: pd.DataFrame, dismissals: pd.DataFrame) -> pd.DataFrame:
    """Mark findings an analyst dismissed.

    Parameters
    ----------
    findings : DataFrame
        With ``post_uid`` and ``rule_id``.
    dismissals : DataFrame
        From :func:`load_dismissals`.

    Returns
    -------
    DataFrame
        A copy of ``findings`` whose boolean column ``dismissed`` is True where (post_uid, rule_id) —
        or (post_uid, ``*``) — is dismissed (an existing ``dismissed`` column is replaced).

    Examples
    --------
    >>> f = pd.DataFrame({"post_uid": ["x:1", "x:2"], "rule_id": ["phone", "phone"]})
    >>> d = pd.DataFrame({"post_uid": ["x:2"], "rule_id": ["phone"], "reason": ["order number"]})
    >>> apply_dismissals(f, d)["dismissed"].tolist()
    [False, True]
    """
    for name, frame in (("findings", findings), ("dismissals", dismissals)):
        missing = [c for c in ("post_uid", "rule_id") if c not in frame.columns]
        if missing:
            raise ValueError(f"apply_dismissals: {name} lacks columns {missing}.")
    pairs = set(zip(dismissals["post_uid"].astype(str), dismissals["rule_id"].astype(str), strict=True))
    posts = findings["post_uid"].astype(str).tolist()
    rule_ids = findings["rule_id"].astype(str).tolist()
    out = findings.copy()
    out["dismissed"] = np.array(
        [(p, r) in pairs or (p, "*") in pairs for p, r in zip(posts, rule_ids, strict=True)], dtype=bool
    )
    return out


# --- adherence metrics ----------------------------------------------------------------------------

#: ``-scipy.special.ndtri(0.025)`` to the bit (a test checks it): the 95 % interval's critical value without
#: importing scipy.special, which costs an incremental build ~0.15 s for this one number.
_Z_95 = np.float64(1.9599639845400545)


def wilson_interval(successes: np.ndarray, n: np.ndarray, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion (vectorised), clipped to [0, 1].

    The one Wilson interval of the project: computed with the operations of statsmodels'
    ``proportion_confint(method="wilson")``, so it equals it to the last bit, without importing
    statsmodels (seconds at every CLI start). ``n`` of 0 gives NaN.

    Examples
    --------
    >>> low, high = wilson_interval(np.array([8]), np.array([10]))
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.4902, 0.9433)
    """
    count = np.asarray(successes, dtype=float)
    nobs = np.asarray(n, dtype=float)
    if confidence == 0.95:
        crit = _Z_95
    else:
        from scipy import special  # not scipy.stats: that costs seconds at every CLI start

        # 1 - 0.95 is 0.05000000000000004 in binary; rounded, it is the alpha statsmodels is given
        crit = -special.ndtri(round(1 - confidence, 12) / 2)
    crit2 = crit**2
    with np.errstate(invalid="ignore", divide="ignore"):
        q = count / nobs
        denominator = 1 + crit2 / nobs
        centre = (q + crit2 / (2 * nobs)) / denominator
        half = crit * np.sqrt(q * (1.0 - q) / nobs + crit2 / (4.0 * nobs**2))
        half /= denominator
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _check_columns(frame: pd.DataFrame, name: str, needed: Sequence[str]) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks columns {missing}; it has {list(frame.columns)}.")


def _dismissed(findings: pd.DataFrame) -> np.ndarray:
    if "dismissed" not in findings.columns:
        return np.zeros(len(findings), dtype=bool)
    return np.asarray(findings["dismissed"].astype("boolean").fillna(False), dtype=bool)


def _breaching_posts(findings: pd.DataFrame) -> set[str]:
    counts = findings["severity"].astype(str).isin(BREACH_SEVERITIES).to_numpy() & ~_dismissed(findings)
    return set(findings.loc[counts, "post_uid"].astype(str))


def adherence_rate(
    posts: pd.DataFrame, findings: pd.DataFrame, *, by: Sequence[str] = (), k: int | None = None
) -> pd.DataFrame:
    """Share of employee posts that follow the policy, with n, Wilson 95 % CI and small-group suppression.

    A post adheres when it has no non-dismissed finding of severity medium or high. Organisation and
    unattributed posts are left out. Grouped by a people dimension (:data:`PEOPLE_DIMENSIONS`, such
    as ``department``), groups with fewer than ``k`` distinct authors — and complementary cells that
    would reveal them — are suppressed.

    Parameters
    ----------
    posts : DataFrame
        ``post_uid``, ``account_type``, ``author_key``, ``published_at`` and the ``by`` columns.
    findings : DataFrame
        ``post_uid``, ``rule_id``, ``severity`` and ``dismissed`` (missing means not dismissed).
    by : sequence of str
        Grouping columns of ``posts`` (``month``, ``department``, ``platform``...); empty for one total.
    k : int, optional
        Suppression threshold; defaults to the configured k.

    Returns
    -------
    DataFrame
        One row per group: the ``by`` columns, ``n_posts``, ``n_people`` (distinct authors),
        ``n_compliant`` (nullable integers), ``adherence_rate``, ``ci_low``, ``ci_high`` (Wilson 95 %)
        and ``suppressed``; suppressed rows have the counts, rate and CI blanked (NA).

    Examples
    --------
    >>> posts = pd.DataFrame({"post_uid": ["a", "b", "c", "d"], "account_type": ["employee"] * 3 + ["organization"],
    ...                       "author_key": ["p1", "p2", "p2", None], "published_at": pd.Timestamp("2026-01-05")})
    >>> findings = pd.DataFrame({"post_uid": ["a"], "rule_id": ["phone"], "severity": ["high"], "dismissed": [False]})
    >>> row = adherence_rate(posts, findings).iloc[0]
    >>> int(row["n_posts"]), int(row["n_compliant"]), round(float(row["adherence_rate"]), 3)
    (3, 2, 0.667)
    """
    by = [by] if isinstance(by, str) else list(by)
    _check_columns(posts, "posts", ["post_uid", "account_type", "author_key", "published_at", *by])
    _check_columns(findings, "findings", ["post_uid", "rule_id", "severity"])
    employee = posts.loc[posts["account_type"].astype(str) == "employee", ["post_uid", "author_key", *by]].copy()
    employee["compliant"] = ~employee["post_uid"].astype(str).isin(_breaching_posts(findings))
    columns = [*by, "n_posts", "n_people", "n_compliant", "adherence_rate", "ci_low", "ci_high", "suppressed"]
    if by:
        grouped = employee.groupby(by, dropna=False, observed=True, sort=True)
        table = grouped.agg(
            n_posts=("post_uid", "size"), n_people=("author_key", "nunique"), n_compliant=("compliant", "sum")
        ).reset_index()
    else:
        table = pd.DataFrame(
            {
                "n_posts": [len(employee)],
                "n_people": [employee["author_key"].nunique()],
                "n_compliant": [int(employee["compliant"].sum())],
            }
        )
    if table.empty:
        return pd.DataFrame({c: pd.Series([], dtype="float64") for c in columns})
    for count in ("n_posts", "n_people", "n_compliant"):
        table[count] = table[count].astype("Int64")
    n_posts = table["n_posts"].to_numpy(dtype=float)
    n_compliant = table["n_compliant"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["adherence_rate"] = np.where(n_posts > 0, n_compliant / n_posts, np.nan)
    table["ci_low"], table["ci_high"] = wilson_interval(n_compliant, n_posts)
    if PEOPLE_DIMENSIONS.intersection(by):
        table = privacy.suppress_small_groups(
            table,
            by=by,
            n="n_people",
            values=["n_posts", "n_compliant", "adherence_rate", "ci_low", "ci_high"],
            k=k,
        )
        for count in ("n_posts", "n_people", "n_compliant"):
            table[count] = table[count].astype("Int64")
    else:
        table["suppressed"] = False
    return table[columns].reset_index(drop=True)


def rule_counts(findings: pd.DataFrame, *, by: Sequence[str] = (), rules: Sequence[Rule] | None = None) -> (
    pd.DataFrame
):
    """How many (non-dismissed) findings each rule produced.

    Parameters
    ----------
    findings : DataFrame
        ``post_uid``, ``rule_id``, ``severity``, optional ``dismissed`` and the ``by`` columns.
    by : sequence of str
        Grouping columns of ``findings``; every observed group gets a row for every rule.
    rules : sequence of Rule, optional
        Defaults to :func:`load_rules`; rules without findings are counted as zero.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``rule_id``, ``area``, ``severity`` and ``n_findings``.

    Examples
    --------
    >>> f = pd.DataFrame({"post_uid": ["a", "b"], "rule_id": ["phone", "phone"], "severity": ["high"] * 2,
    ...                   "dismissed": [False, True]})
    >>> rule_counts(f).set_index("rule_id").loc["phone", "n_findings"]
    np.int64(1)
    """
    by = [by] if isinstance(by, str) else list(by)
    _check_columns(findings, "findings", ["post_uid", "rule_id", "severity", *by])
    meta = rules_frame(rules)[["rule_id", "area", "severity"]]
    extra = sorted(set(findings["rule_id"].astype(str)) - set(meta["rule_id"]))
    if extra:
        # rules removed from the file since the findings were built still count
        first = findings[findings["rule_id"].astype(str).isin(extra)].drop_duplicates("rule_id")
        area = first["area"] if "area" in first else pd.Series(pd.NA, index=first.index)
        removed = pd.DataFrame({"rule_id": first["rule_id"].astype(str), "area": area, "severity": first["severity"]})
        meta = pd.concat([meta, removed], ignore_index=True)
    kept = findings[~_dismissed(findings)]
    counts = kept.assign(rule_id=kept["rule_id"].astype(str)).groupby([*by, "rule_id"], dropna=False).size()
    counts = counts.rename("n_findings").reset_index()
    if by:
        groups = findings[by].drop_duplicates()
        grid = groups.merge(meta, how="cross")
    else:
        grid = meta
    out = grid.merge(counts, on=[*by, "rule_id"], how="left")
    out["n_findings"] = out["n_findings"].fillna(0).astype("int64")
    return out[[*by, "rule_id", "area", "severity", "n_findings"]].sort_values([*by, "rule_id"]).reset_index(drop=True)


# --- scanning many texts on every core ------------------------------------------------------------

#: Below this many distinct texts a batch is scanned by the calling process alone: a spawned worker
#: costs about a CPU second to start (Python, pandas, the rules' RE2 screen).
PARALLEL_MIN_TEXTS = 20_000
# Texts per piece of work: ~0.1 s of scanning, so neither process waits long for the other's last piece.
_SCAN_CHUNK = 4_000

_scan_state: Any = None


class _Prescreened:
    """What :class:`_ScanScreen` found in a chunk's texts.

    ``prefilter``: the hits of :func:`_detect`'s prefilter set, one row per text and a column per pattern
    of that set (its own numbering), and the texts it could not tell (``undecided``); :meth:`rules` and
    :meth:`themes`: what the rules' and the taxonomy's :class:`RegexScreen` ``candidates`` give for text
    ``k`` (``None``: RE2 could not tell), the themes' sorted; ``encoded``: the UTF-8 of each text as
    :func:`_detect` reads it (lone surrogates replaced).
    """

    def __init__(self, screen: _ScanScreen, found: list[list[int] | None], theme_blind: set[int],
                 encoded: list[bytes]) -> None:
        self._screen = screen
        self._found = found
        self._theme_blind = theme_blind
        self.encoded = encoded
        self.undecided = [k for k, hits in enumerate(found) if hits is None]
        offset = screen.rule_offset
        self.prefilter = np.zeros((len(found), offset), dtype=bool)
        rows = np.repeat(np.arange(len(found)), [0 if hits is None else len(hits) for hits in found])
        columns = np.fromiter(chain.from_iterable(hits for hits in found if hits is not None), dtype=np.int64,
                              count=len(rows))
        kept = columns < offset
        self.prefilter[rows[kept], columns[kept]] = True

    def __len__(self) -> int:
        return len(self._found)

    def rules(self, k: int) -> frozenset[int] | None:
        found = self._found[k]
        if found is None:
            return None
        low, high = self._screen.rule_offset, self._screen.theme_offset
        return self._screen.rule_screen._always.union([i - low for i in found if low <= i < high])

    def themes(self, k: int) -> list[int] | None:
        found = self._found[k]
        # the theme screen reads the text itself: one it cannot take (lone surrogates) tells nothing
        if found is None or k in self._theme_blind:
            return None
        low = self._screen.theme_offset
        return sorted(self._screen.theme_screen._always.union([i - low for i in found if i >= low]))

    def __getitem__(self, k: int) -> list[int] | None:
        """:meth:`themes` (what :func:`analytics.themes._primary_themes` takes)."""
        return self.themes(k)


class _ScanScreen:
    """The RE2 passes of a scan (:func:`_detect`'s prefilters, the rules' screen, the taxonomy's screen)
    made one pass per text over one RE2 set holding all three's patterns.

    A set reports each of its patterns that matches wherever the others do, so each part of the result is
    what that part's own set reports: the prefilters, compiled case-insensitively on their own, are here
    each in ``(?i:...)``; the screens' patterns are as :class:`RegexScreen` compiles them. A text this set
    gives up on gets ``None`` throughout (every regex is then run, as the screens do when theirs does).
    """

    def __init__(self, rules: Sequence[Rule], taxonomy: Any) -> None:
        from analytics import themes  # themes imports this module

        self.rules = list(rules)
        self.taxonomy = taxonomy
        self.rule_screen = _rule_screen(self.rules)[0]
        self.theme_screen = themes._screen(taxonomy)[0] if taxonomy is not None else None
        self._set = None
        re2 = _re2_module()
        screens = [screen for screen in (self.rule_screen, self.theme_screen) if screen is not None]
        patterns, _, _ = _prefilter_patterns(self.rules, ())
        active = [pattern for pattern in patterns if pattern is not None]
        if re2 is None or not active or any(not screen.available for screen in screens):
            return
        options = re2.Options()
        options.max_mem = 256 << 20
        options.log_errors = False
        matcher = re2.Set.SearchSet(options)
        # the prefilter set's own numbering: "" first, then the prefilters, then İ/ı
        sources = ["", *(f"(?i:{pattern})" for pattern in (*active, _DOTTED_I_RE2))]
        self.rule_offset = len(sources)
        sources += [r"[^\x00-\x{10FFFF}]" if t is None else t for t in self.rule_screen._translated]
        self.theme_offset = len(sources)
        if self.theme_screen is not None:
            sources += [r"[^\x00-\x{10FFFF}]" if t is None else t for t in self.theme_screen._translated]
        try:
            for source in sources:
                matcher.Add(source)
            matcher.Compile()
        except re2.error:
            return
        self._set = matcher._set

    @property
    def available(self) -> bool:
        return self._set is not None

    def screen(self, texts: list[str], values: list[str]) -> _Prescreened:
        """The passes over ``texts`` (as the theme screen reads them) and ``values`` (the same texts with lone
        surrogates replaced, as :func:`_detect` reads them: UTF-8 always encodes them)."""
        match = self._set.Match
        encoded = [value.encode("utf-8") for value in values]
        found: list[list[int] | None] = [hits if 0 in (hits := match(data)) else None for data in encoded]
        blind = set() if values is texts else {k for k, (text, value) in enumerate(zip(texts, values, strict=True))
                                                if value is not text and value != text}
        return _Prescreened(self, found, blind, encoded)


_SCAN_SCREENS: dict[tuple[int, ...], _ScanScreen] = {}


def _scan_screen(rules: Sequence[Rule], taxonomy: Any) -> _ScanScreen:
    key = (*(id(rule) for rule in rules), id(taxonomy))
    cached = _SCAN_SCREENS.get(key)
    if cached is None or cached.taxonomy is not taxonomy or any(
            a is not b for a, b in zip(cached.rules, rules, strict=True)):
        if len(_SCAN_SCREENS) > 8:
            _SCAN_SCREENS.clear()
        cached = _SCAN_SCREENS[key] = _ScanScreen(rules, taxonomy)
    return cached


def _scan_chunk(texts: list[str], employee: list[bool], rules: Sequence[Rule], taxonomy: Any, *,
                fuse: bool = True) -> tuple[pd.DataFrame, list[str] | None]:
    """Findings (``text_index`` the position in ``texts``) and, when ``taxonomy`` is given, primary themes:
    ``find_violations(texts, employee_posts=employee, rules=rules)`` and ``classify_themes(texts,
    taxonomy=taxonomy)``'s, with their RE2 passes made one (:class:`_ScanScreen`) unless ``fuse`` is False."""
    from analytics import themes  # themes imports this module

    fused = _scan_screen(rules, taxonomy) if fuse else None
    if fused is None or not fused.available:
        found = _detect(texts, employee_posts=employee, rules=rules)
        return found, None if taxonomy is None else themes.classify_themes(texts, taxonomy=taxonomy)["theme"].tolist()
    values = [text if isinstance(text, str) else "" for text in texts]
    prescreened = fused.screen(values, _without_lone_surrogates(values))
    found = _detect(values, employee_posts=employee, rules=rules, prescreened=prescreened)
    if taxonomy is None:
        return found, None
    return found, themes._primary_themes(values, taxonomy, candidates=prescreened)


def _share_scan_state(claims: Any, rules: Sequence[Rule], taxonomy: Any) -> None:
    global _scan_state
    _scan_state = (claims, list(rules), taxonomy)


def _start_scan_worker(claims: Any, rules: Sequence[Rule], taxonomy: Any, idle: bool) -> None:
    parallel.leave_interrupts_to_the_parent()
    if idle:
        parallel.lowest_priority()
    _share_scan_state(claims, rules, taxonomy)


def _scan_claimed(batch: int, texts: list[str], employee: list[bool], size: int, themed: bool) -> dict[
    int, tuple[pd.DataFrame, list[str] | None]
]:
    """A worker's part of a batch: the chunks it claims from the front until none is left."""
    claims, rules, taxonomy = _scan_state
    parts = {}
    while (k := parallel.claim_chunk(claims, batch, back=False)) is not None:
        part = slice(k * size, (k + 1) * size)
        parts[k] = _scan_chunk(texts[part], employee[part], rules, taxonomy if themed else None)
    return parts


def _scan_alone(texts: list[str], employee: list[bool], themed: bool) -> tuple[pd.DataFrame, list[str] | None]:
    """A worker's scan of a whole batch (:meth:`ParallelScan.scan_later`)."""
    _claims, rules, taxonomy = _scan_state
    return _scan_chunk(texts, employee, rules, taxonomy if themed else None)


_Scan = tuple[pd.DataFrame, list[str] | None]


def _combined(results: dict[Future, _Scan], where: list[tuple[Future, int]], *, themed: bool) -> _Scan:
    """One batch's scan from scans of its texts (``where``: each text's scan and its position there), in the
    order one scan of the batch gives: by text, then by rule."""
    found, themes = [], [""] * len(where) if themed else None
    for part, result in results.items():
        mine = [k for k, (their, _) in enumerate(where) if their is part]
        batch_position = pd.Series(mine, index=[where[k][1] for k in mine])
        rows = result[0][result[0]["text_index"].isin(batch_position.index)]
        found.append(rows.assign(text_index=batch_position.loc[rows["text_index"]].to_numpy()))
        if themes is not None:
            for k in mine:
                themes[k] = result[1][where[k][1]]
    return pd.concat(found, ignore_index=True).sort_values("text_index", kind="stable", ignore_index=True), themes


class ParallelScan:
    """Policy findings, and optionally primary content themes, of batches of distinct texts, shared
    between this process and one spawned worker process (the build scans a million posts this way).

    Each batch is cut into chunks that both processes claim, this one from the back and the worker from
    the front, so a worker still starting up costs no wall time. Every chunk is scanned by
    :func:`find_violations` and :func:`analytics.themes.classify_themes` themselves, so the results are
    exactly theirs. Use as a context manager; ``workers=1`` (or small batches) scans in this process. With
    ``idle``, the worker runs at the lowest priority (:func:`analytics.parallel.lowest_priority`).
    """

    def __init__(self, rules: Sequence[Rule], taxonomy: Any = None, *, workers: int | None = None,
                 idle: bool = False) -> None:
        self.rules = list(rules)
        self.taxonomy = taxonomy
        self.workers = parallel.available_cores() if workers is None else workers
        self.idle = idle
        self._pool: Any = None
        self._claims: Any = None
        self._batch = 0
        #: batches :meth:`scan_ahead` gave the worker: their (text, employee flag) pairs and their scan to come
        self._ahead: list[tuple[list[tuple[str, bool]], Future]] = []

    def __enter__(self) -> ParallelScan:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self, *, wait: bool = False) -> None:
        """Stop the worker, if started; with ``wait``, return once it has ended (see :func:`scan_kept`)."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None

    def start(self) -> None:
        """Start the worker now (it takes about a second), e.g. while the caller still gathers the texts;
        :meth:`scan` otherwise starts it for its first batch big enough to share."""
        if self.workers > 1 and self._pool is None:
            self._start()
            self._pool.submit(int)  # a pool spawns its worker for its first task

    def _start(self) -> None:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        # spawned, not forked: the caller holds DuckDB threads, unsafe across fork
        context = get_context("spawn")
        self._claims = parallel.new_claims(context)
        _share_scan_state(self._claims, self.rules, self.taxonomy)
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_start_scan_worker,
                                         initargs=(self._claims, self.rules, self.taxonomy, self.idle))

    def scan(self, texts: list[str], employee: list[bool], *, themed: bool = False) -> tuple[
        pd.DataFrame, list[str] | None
    ]:
        """``find_violations(texts, employee_posts=employee)`` and, with ``themed``, the texts' themes."""
        taxonomy = self._taxonomy(themed)
        # a worker already running (kept, or started ahead of a big scan) costs nothing to share with
        shared_from = parallel.RUNNING_WORKER_MIN_TEXTS if self._pool is not None else PARALLEL_MIN_TEXTS
        if self.workers <= 1 or len(texts) < shared_from:
            # RE2 builds a set's automaton as the texts need it, and the fused set's, the product of the
            # three sets', has so many more states that on the few thousand texts of an update building it
            # costs more than its one pass saves; it pays off on the hundreds of thousands of a full build,
            # whose last, smaller batch finds it built
            fuse = self._pool is not None or len(texts) >= PARALLEL_MIN_TEXTS
            return _scan_chunk(texts, employee, self.rules, taxonomy, fuse=fuse)
        if self._pool is None:
            self._start()
        size = min(_SCAN_CHUNK, -(-len(texts) // 8))  # a small batch in eight: neither side waits long
        chunks = -(-len(texts) // size)
        self._batch += 1
        parallel.start_batch(self._claims, self._batch, chunks)
        future = self._pool.submit(_scan_claimed, self._batch, texts, employee, size, themed)
        parts: dict[int, tuple[pd.DataFrame, list[str] | None]] = {}
        while (k := parallel.claim_chunk(self._claims, self._batch, back=True)) is not None:
            part = slice(k * size, (k + 1) * size)
            parts[k] = _scan_chunk(texts[part], employee[part], self.rules, taxonomy)
        if parallel.front_claimed(self._claims):
            parts.update(future.result())
        else:
            future.cancel()
        found = [parts[k][0].assign(text_index=parts[k][0]["text_index"] + k * size)
                 for k in range(chunks) if not parts[k][0].empty]
        out = pd.concat(found, ignore_index=True) if found else parts[0][0]
        themes = [theme for k in range(chunks) for theme in parts[k][1]] if themed else None
        return out, themes

    def scan_later(self, texts: list[str], employee: list[bool], *, themed: bool = False) -> parallel.Pending[_Scan]:
        """What :meth:`scan` gives, to wait for: the texts (with their flag) scanned ahead (:meth:`scan_ahead`)
        are taken from there; the others, when this is the scan :func:`scan_kept` keeps and they are fewer
        than :data:`analytics.parallel.ALONE_MAX_TEXTS`, are scanned by the worker alone while the caller goes
        on (the build matches amplifications meanwhile), else now. What was scanned ahead serves this one
        call."""
        self._taxonomy(themed)
        if not texts:  # nothing to combine
            return parallel.Pending([parallel.done(self.scan(texts, employee, themed=themed))], operator.itemgetter(0))

        def rest(missing: list[int]) -> Future:
            their_texts, their_flags = [texts[k] for k in missing], [employee[k] for k in missing]
            if self is _kept_scan and self._pool is not None and len(missing) < parallel.ALONE_MAX_TEXTS:
                return self._pool.submit(_scan_alone, their_texts, their_flags, themed)
            return parallel.done(self.scan(their_texts, their_flags, themed=themed))

        return parallel.gathered(list(zip(texts, employee, strict=True)), self._ahead, rest,
                                 functools.partial(_combined, themed=themed))

    def scan_ahead(self, texts: Collection[str | None], employee: Iterable[bool]) -> None:
        """Have the worker scan and theme ``texts`` now, in the background, for the next :meth:`scan_later` to
        take the results of those it is given from (an update's texts as its ingest reads them: those stored
        unchanged, most, need not be scanned again). Only the scan :func:`scan_kept` keeps does (any other
        looks at nothing), while the texts waiting stay under :data:`analytics.parallel.ALONE_MAX_TEXTS`;
        missing texts are passed over."""
        waiting = sum(len(pairs) for pairs, _ in self._ahead)
        kept = self is _kept_scan and self._pool is not None
        if not kept or waiting + len(texts) >= parallel.ALONE_MAX_TEXTS:
            return
        pairs = [pair for pair in dict.fromkeys(zip(texts, map(bool, employee), strict=True))
                 if isinstance(pair[0], str)]
        if not pairs:
            return
        self._ahead.append((pairs, self._pool.submit(_scan_alone, [text for text, _ in pairs],
                                                     [flag for _, flag in pairs], self.taxonomy is not None)))

    def _taxonomy(self, themed: bool) -> Any:
        if themed and self.taxonomy is None:
            raise ValueError("ParallelScan.scan(themed=True) needs the scan built with a taxonomy.")
        return self.taxonomy if themed else None


#: The scan :func:`scan_kept` keeps running, for :func:`parallel_scan` to give out.
_kept_scan: ParallelScan | None = None


@contextlib.contextmanager
def scan_kept(rules: Sequence[Rule], taxonomy: Any = None) -> Iterator[ParallelScan]:
    """Keep a :class:`ParallelScan` of ``rules`` and ``taxonomy``, its worker started now, for the block:
    :func:`parallel_scan` of the same rules and taxonomy inside it gives this one, and batches of
    :data:`analytics.parallel.RUNNING_WORKER_MIN_TEXTS` texts or more are shared with the worker (for a
    process that scans update after update: ``policy-pulse watch``); smaller ones it scans alone, on the side
    (:meth:`ParallelScan.scan_ahead`, :meth:`ParallelScan.scan_later`), so it runs at the lowest priority."""
    global _kept_scan
    scan = ParallelScan(rules, taxonomy, idle=True)
    try:
        scan.start()
        _kept_scan = scan
        yield scan
    finally:
        _kept_scan = None
        # waited for: kept until the process ends, and a pool still closing its pipe then makes Python's exit
        # hook write to it ("OSError: Bad file descriptor" printed at exit)
        scan.stop(wait=True)


def scan_ahead(texts: Collection[str | None], employee: Iterable[bool]) -> None:
    """:meth:`ParallelScan.scan_ahead` of the scan :func:`scan_kept` keeps, if any (else nothing is done)."""
    if _kept_scan is not None:
        _kept_scan.scan_ahead(texts, employee)


def parallel_scan(rules: Sequence[Rule], taxonomy: Any = None) -> contextlib.AbstractContextManager[ParallelScan]:
    """A :class:`ParallelScan` of ``rules`` and ``taxonomy`` to use in a ``with`` block: the one
    :func:`scan_kept` keeps when it is of these very rules and taxonomy (its worker goes on running after
    the block), else a new one (stopped at the block's end). Rules edited since are other rules."""
    kept = _kept_scan
    if (kept is not None and kept.taxonomy is taxonomy and len(kept.rules) == len(rules)
            and all(mine is theirs for mine, theirs in zip(kept.rules, rules, strict=True))):
        return contextlib.nullcontext(kept)
    return ParallelScan(rules, taxonomy)
