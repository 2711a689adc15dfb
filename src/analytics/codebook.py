"""The survey instrument: items -> constructs -> policy areas, with scales, label aliases and reverse coding.

The codebook lives in ``data/codebook.yml`` (:data:`analytics.config.CODEBOOK_PATH`). The survey adapters use
it to recognise export columns (:meth:`Codebook.match`) and to turn answers into scale numbers
(:meth:`Codebook.recode`); :mod:`analytics.survey` uses it to score constructs.

Choice of behaviour for odd answers: an answer that is not on its item's scale ("7" on a 1-5 item, a label
nobody listed) is *kept* with ``value`` NA and the answer text as ``value_label``, and the adapter does not
reject the response for it. One odd cell says nothing about the other answers of that person, and dropping
the whole response would bias the statistics towards tidy respondents; only structurally broken records
(no response id, an unreadable completion time) are rejected. :func:`unmapped_questions` and the data-quality
notebook show such answers.
"""

from __future__ import annotations

import html
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analytics import config

__all__ = [
    "ANSWER_COLUMNS",
    "COMMENT_COLUMNS",
    "KINDS",
    "RESPONDENT_COLUMNS",
    "Codebook",
    "Construct",
    "Item",
    "Scale",
    "StagedAnswers",
    "codebook_stubs",
    "load_codebook",
    "normalise_text",
    "unmapped_questions",
]

#: Item kinds: scored agreement items, the 0-10 recommendation item, free text, and demographics.
KINDS = ("likert", "nps", "text", "demographic")
#: The respondents columns a demographic item may fill.
RESPONDENT_COLUMNS = ("department", "role_level", "tenure_band", "location")

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TAG_RE = re.compile(r"<[^>]+>")
_BRACKET_ROW = re.compile(r"^(?P<question>.*\S)\s*\[(?P<row>[^\[\]]+)\]\s*$", re.DOTALL)
_LEADING_CODE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:[-–=:.)]|$)")


def normalise_text(text: Any) -> str:
    """Question or label text reduced to what identifies it: no HTML, case, punctuation or extra spaces.

    >>> normalise_text("  I know <b>what</b> to do if I post something by MISTAKE!  ")
    'i know what to do if i post something by mistake'
    >>> normalise_text("Pas d’accord") == normalise_text("Pas d'accord")
    True
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    cleaned = unicodedata.normalize("NFKC", _TAG_RE.sub(" ", html.unescape(str(text)))).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in cleaned).split())


@dataclass(frozen=True)
class Scale:
    """A response scale: its range and the labels (in every language listed) of its points."""

    id: str
    min: int
    max: int
    labels: Mapping[int, tuple[str, ...]]  # value -> (canonical English label, aliases...)

    def __post_init__(self) -> None:
        # read-only: a loaded codebook is shared by every caller (see load_codebook)
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))

    def __reduce__(self) -> tuple:
        # a read-only mapping does not pickle, and the ingest hands a codebook to its helper process
        return Scale, (self.id, self.min, self.max, dict(self.labels))

    def label(self, value: int) -> str:
        names = self.labels.get(value)
        return names[0] if names else str(value)


@dataclass(frozen=True)
class Item:
    """One survey question of the codebook (see ``data/codebook.yml`` for the meaning of each field)."""

    id: str
    text: str
    construct: str | None
    area: str
    kind: str
    reverse: bool
    scale: Scale | None
    clarity: bool = False
    aliases: tuple[str, ...] = ()
    column: str | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Construct:
    id: str
    area: str
    description: str
    items: tuple[str, ...]


@dataclass
class StagedAnswers:
    """Wide survey cells turned into the long staging tables, plus each record's demographic answers."""

    answers: pd.DataFrame
    comments: pd.DataFrame
    demographics: pd.DataFrame


ANSWER_COLUMNS = ["response_id", "item_id", "question", "value", "value_label", "mapped", "source_row"]
COMMENT_COLUMNS = ["response_id", "item_id", "text", "source_row"]


@dataclass(frozen=True)
class Codebook:
    """The loaded, validated instrument. Build it with :func:`load_codebook`.

    Read-only (its mappings too): :func:`load_codebook` hands the same codebook to every caller, so a change one
    caller made would show in all the others.
    """

    items: tuple[Item, ...]
    constructs: Mapping[str, Construct]
    scales: Mapping[str, Scale]
    areas: Mapping[str, str]
    path: Path | None = None
    _by_key: Mapping[str, Item] = field(init=False, repr=False, compare=False)
    _labels: Mapping[str, Mapping[str, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))
        for name in ("constructs", "scales", "areas"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        by_key: dict[str, Item] = {}
        for item in self.items:
            for key in (item.id, item.text, *item.aliases):
                norm = normalise_text(key)
                other = by_key.get(norm)
                if other is not None and other.id != item.id:
                    raise ValueError(
                        f"codebook items {other.id!r} and {item.id!r} both claim the question text/alias "
                        f"{key!r}; give each item its own text and aliases"
                    )
                by_key[norm] = item
        labels: dict[str, Mapping[str, int]] = {}
        for scale in self.scales.values():
            lookup: dict[str, int] = {}
            for value, names in scale.labels.items():
                for name in names:
                    norm = normalise_text(name)
                    if lookup.get(norm, value) != value:
                        raise ValueError(
                            f"codebook scale {scale.id!r}: label {name!r} is listed under both "
                            f"{lookup[norm]} and {value}; keep each label under one value"
                        )
                    lookup[norm] = value
            labels[scale.id] = MappingProxyType(lookup)
        object.__setattr__(self, "_by_key", MappingProxyType(by_key))
        object.__setattr__(self, "_labels", MappingProxyType(labels))

    def __reduce__(self) -> tuple:
        # the ingest sends the codebook to its helper process with each survey export to read there: a read-only
        # mapping does not pickle (the helper failed, and the ingest did all its work alone from then on)
        return Codebook, (self.items, dict(self.constructs), dict(self.scales), dict(self.areas), self.path)

    # --- look-ups -----------------------------------------------------------------------------------

    def item(self, item_id: str) -> Item:
        """The item with this id; ``KeyError`` naming the known ids otherwise."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"no codebook item {item_id!r}; known: {[i.id for i in self.items]}")

    def items_frame(self) -> pd.DataFrame:
        """One row per item.

        Returns
        -------
        pandas.DataFrame
            ``item_id``, ``construct`` (NA for eNPS, text and demographic items), ``area``, ``kind``,
            ``reverse`` (bool), ``scale_min``, ``scale_max`` (float, NaN without a scale), ``text``,
            ``clarity`` (bool: the item asks whether the policy is clear in its area).

        Examples
        --------
        >>> frame = load_codebook().items_frame()
        >>> sorted(frame.loc[frame["clarity"], "area"].unique())[:3]
        ['conduct', 'confidentiality', 'disclosure']
        """
        rows = [
            {
                "item_id": i.id, "construct": i.construct, "area": i.area, "kind": i.kind, "reverse": i.reverse,
                "scale_min": float(i.scale.min) if i.scale else np.nan,
                "scale_max": float(i.scale.max) if i.scale else np.nan,
                "text": i.text, "clarity": i.clarity,
            }
            for i in self.items
        ]
        frame = pd.DataFrame(rows, columns=["item_id", "construct", "area", "kind", "reverse",
                                            "scale_min", "scale_max", "text", "clarity"])
        return frame.astype({"reverse": bool, "clarity": bool, "scale_min": float, "scale_max": float})

    def match(self, column_id: str, question_text: str | None = None) -> Item | None:
        """The codebook item an export column holds, else ``None``.

        Tried in order: the column id (item id, alias, or a question text used as column name), the
        question text, then the row of a matrix question (``Question [Row]`` as Google writes it, or
        ``Question - Row`` as Qualtrics and the SurveyMonkey adapter write it). Comparison ignores case,
        whitespace, punctuation and HTML.

        >>> codebook = load_codebook()
        >>> codebook.match("Q7", "I know what to do if I post something by mistake").id
        'clarity_mistakes'
        >>> codebook.match("Q9", "Trust [Monitoring of social media posts is fair.]").id
        'trust_monitoring_fair'
        >>> codebook.match("Q2", "This is a free text question.") is None
        True
        """
        for candidate in (column_id, question_text):
            item = self._by_key.get(normalise_text(candidate))
            if item is not None:
                return item
        for candidate in (question_text, column_id):
            if not candidate:
                continue
            bracket = _BRACKET_ROW.match(str(candidate))
            if bracket:
                item = self._by_key.get(normalise_text(bracket.group("row")))
                if item is not None:
                    return item
            if " - " in str(candidate):
                item = self._by_key.get(normalise_text(str(candidate).rsplit(" - ", 1)[1]))
                if item is not None:
                    return item
        return None

    def recode(self, item: Item, raw: Any) -> tuple[float | None, str | None, str | None]:
        """An answer as ``(value, label, error)``.

        Scale items: a numeric code or a choice label in any listed language becomes the scale number and
        the canonical English label. Free text keeps its text. Demographics give their canonical choice
        (a number ``k`` is taken as the k-th choice, as Qualtrics codes them). An empty answer is
        ``(None, None, None)``. An answer that is not on the scale or among the choices gives
        ``(None, answer text, reason)``: adapters keep it (see the module docstring), they do not reject.
        Reverse coding is *not* applied here.

        >>> codebook = load_codebook()
        >>> item = codebook.item("safety_report_mistakes")
        >>> codebook.recode(item, "Stimme voll zu"), codebook.recode(item, 2)
        ((5.0, 'Strongly agree', None), (2.0, 'Disagree', None))
        >>> codebook.recode(item, "7")[2]
        "answer '7' is outside the 1-5 scale of item safety_report_mistakes"
        """
        if _is_blank(raw):
            return None, None, None
        text = raw if isinstance(raw, str) else _number_text(raw)
        if item.kind == "text":
            return None, text, None
        if item.kind == "demographic":
            return self._recode_choice(item, raw, text)
        scale = item.scale
        assert scale is not None  # validated at load: scored items always have a scale
        value = self._labels[scale.id].get(normalise_text(text))
        if value is None:
            value = _as_code(raw)
        if value is None:
            return None, text.strip(), (
                f"answer {text.strip()!r} is not a label of the {scale.id} scale of item {item.id}; "
                f"add it to the scale's aliases in the codebook if it is one"
            )
        if not (scale.min <= value <= scale.max and float(value).is_integer()):
            return None, text.strip(), (
                f"answer {text.strip()!r} is outside the {scale.min}-{scale.max} scale of item {item.id}"
            )
        return float(value), scale.label(int(value)), None

    def _recode_choice(self, item: Item, raw: Any, text: str) -> tuple[None, str, str | None]:
        wanted = normalise_text(text)
        for choice in item.choices:
            if normalise_text(choice) == wanted:
                return None, choice, None
        code = _as_code(raw) if not isinstance(raw, str) or re.fullmatch(r"\s*\d+\s*", raw) else None
        if code is not None and float(code).is_integer() and 1 <= code <= len(item.choices):
            return None, item.choices[int(code) - 1], None
        return None, text.strip(), (
            f"answer {text.strip()!r} is not one of the choices of {item.id} ({', '.join(item.choices)})"
        )

    # --- wide export -> staging tables ----------------------------------------------------------------

    def stage(
        self,
        cells: pd.DataFrame,
        questions: Sequence[tuple[str, str | None]],
        *,
        response_ids: Sequence[str],
        source_rows: Sequence[int],
    ) -> StagedAnswers:
        """Turn an export's answer cells (one column per question, one row per response) into staging rows.

        ``questions`` gives, position by position, each column's ``(column_id, question_text)``. Scored items
        and unmapped questions go to ``answers`` (unmapped ones with ``mapped=False``, value = the number if
        the answer is one), text items to ``comments`` (non-blank only, text kept exactly), demographic items
        to ``demographics`` (one row per response, columns :data:`RESPONDENT_COLUMNS`). Blank cells make no row.

        >>> codebook = load_codebook()
        >>> cells = pd.DataFrame([["Agree", "Finance", "Nice", "x"]])
        >>> staged = codebook.stage(cells, [("Q1", "Monitoring of social media posts is fair."),
        ...     ("Q2", "Which department do you work in?"), ("Q3", "What would make the social media "
        ...     "policy easier to follow?"), ("Q4", "Favourite colour")], response_ids=["R1"], source_rows=[1])
        >>> staged.answers[["item_id", "value", "mapped"]].values.tolist()
        [['trust_monitoring_fair', 4.0, True], ['Q4', nan, False]]
        >>> staged.demographics["department"].tolist(), staged.comments["text"].tolist()
        (['Finance'], ['Nice'])
        """
        if cells.shape[1] != len(questions):
            raise ValueError(f"{cells.shape[1]} answer columns but {len(questions)} question labels; pass one "
                             f"(column_id, question_text) per column")
        ids, rows = list(response_ids), list(source_rows)
        # filled as lists and framed once: a cell-by-cell .loc write costs more than the whole recode
        demographic_values: dict[str, list[Any]] = {c: [pd.NA] * len(ids) for c in RESPONDENT_COLUMNS}
        answers: list[dict[str, Any]] = []
        comments: list[dict[str, Any]] = []
        for position, (column_id, question_text) in enumerate(questions):
            item = self.match(column_id, question_text)
            question = question_text if question_text and str(question_text).strip() else column_id
            values = cells.iloc[:, position].tolist()
            # Answers repeat a handful of labels; recode each distinct one once (large exports stay fast).
            recoded: dict[tuple[type, Any], tuple[float | None, str | None, str | None]] = {}
            for r, raw in enumerate(values):
                if _is_blank(raw):
                    continue
                if item is None:
                    number, _ = _plain_number(raw)
                    answers.append({"response_id": ids[r], "item_id": column_id, "question": question,
                                    "value": number, "value_label": _cell_text(raw), "mapped": False,
                                    "source_row": rows[r]})
                elif item.kind == "text":
                    comments.append({"response_id": ids[r], "item_id": item.id, "text": _cell_text(raw),
                                     "source_row": rows[r]})
                else:
                    key = (type(raw), raw)
                    if key not in recoded:
                        recoded[key] = self.recode(item, raw)
                    value, label, _ = recoded[key]
                    if item.kind == "demographic":
                        demographic_values[item.column][r] = label
                        continue
                    answers.append({"response_id": ids[r], "item_id": item.id, "question": question,
                                    "value": np.nan if value is None else value, "value_label": label,
                                    "mapped": True, "source_row": rows[r]})
        answer_frame = pd.DataFrame(answers, columns=ANSWER_COLUMNS).astype(
            {"value": "float64", "mapped": bool, "source_row": "int64"})
        comment_frame = pd.DataFrame(comments, columns=COMMENT_COLUMNS).astype({"source_row": "int64"})
        demographics = pd.DataFrame({c: pd.Series(v, dtype="string") for c, v in demographic_values.items()})
        return StagedAnswers(answer_frame, comment_frame, demographics)


# --- cells -------------------------------------------------------------------------------------------

def _is_blank(raw: Any) -> bool:
    if raw is None or raw is pd.NA or raw is pd.NaT:
        return True
    if isinstance(raw, float) and np.isnan(raw):
        return True
    return isinstance(raw, str) and not raw.strip()


def _number_text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _cell_text(raw: Any) -> str:
    return raw if isinstance(raw, str) else _number_text(raw)


def _plain_number(raw: Any) -> tuple[float, bool]:
    if isinstance(raw, bool):
        return np.nan, False
    if isinstance(raw, (int, float, np.integer, np.floating)):
        return float(raw), True
    try:
        return float(str(raw).strip()), True
    except ValueError:
        return np.nan, False


def _as_code(raw: Any) -> float | None:
    number, ok = _plain_number(raw)
    if ok and not np.isnan(number):
        return number
    match = _LEADING_CODE.match(str(raw))
    return float(match.group(1)) if match else None


# --- loading -----------------------------------------------------------------------------------------

def load_codebook(path: str | os.PathLike[str] | None = None) -> Codebook:
    """Read and validate the codebook YAML (default :data:`analytics.config.CODEBOOK_PATH`).

    A file is parsed once while its content stays the same (:func:`analytics.config.parsed_once`): a
    dashboard's quarter change asked for it three times, each parse a tenth of a second or more. The codebook
    returned is read-only and shared by every caller. Raises ``ValueError`` naming the bad entry and what to fix.

    >>> codebook = load_codebook()
    >>> len(codebook.items) >= 20, sorted(codebook.constructs)[:2]
    (True, ['clarity', 'confidence'])
    >>> load_codebook() is codebook
    True
    """
    chosen = Path(path) if path is not None else config.CODEBOOK_PATH
    try:
        return config.parsed_once(chosen.resolve(), _read_codebook)
    except FileNotFoundError:
        raise ValueError(f"codebook {chosen} does not exist; pass the path of a codebook YAML file") from None


def _read_codebook(chosen: Path, content: bytes) -> Codebook:
    try:
        raw = yaml.safe_load(content.decode("utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"codebook {chosen} is not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise ValueError(f"codebook {chosen}: expected a mapping with areas, scales, constructs and items")
    where = chosen.name
    areas = _mapping(raw, "areas", where)
    scales = {sid: _parse_scale(sid, spec, where) for sid, spec in _mapping(raw, "scales", where).items()}
    construct_specs = _mapping(raw, "constructs", where)
    for cid, spec in construct_specs.items():
        if not isinstance(spec, dict) or spec.get("area") not in areas:
            raise ValueError(f"{where}: construct {cid!r} needs an `area` out of {sorted(areas)}")
    raw_items = raw.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise ValueError(f"{where}: expected a non-empty `items` list")
    items: list[Item] = []
    seen: set[str] = set()
    for position, spec in enumerate(raw_items, start=1):
        item = _parse_item(spec, position, where, areas=areas, scales=scales, constructs=construct_specs)
        if item.id in seen:
            raise ValueError(f"{where}: item id {item.id!r} is used twice; item ids must be unique")
        seen.add(item.id)
        items.append(item)
    constructs = {}
    for cid, spec in construct_specs.items():
        members = tuple(i.id for i in items if i.construct == cid)
        if not members:
            raise ValueError(f"{where}: construct {cid!r} has no items; remove it or tag items with it")
        constructs[cid] = Construct(cid, str(spec["area"]), str(spec.get("description") or ""), members)
    return Codebook(tuple(items), constructs, scales, {str(k): str(v) for k, v in areas.items()}, chosen)


def _mapping(raw: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{where}: expected a non-empty mapping `{key}`")
    return value


def _parse_scale(sid: str, spec: Any, where: str) -> Scale:
    if not isinstance(spec, dict) or not isinstance(spec.get("min"), int) or not isinstance(spec.get("max"), int):
        raise ValueError(f"{where}: scale {sid!r} needs integer `min` and `max`")
    if spec["min"] >= spec["max"]:
        raise ValueError(f"{where}: scale {sid!r} has min {spec['min']} >= max {spec['max']}")
    labels: dict[int, tuple[str, ...]] = {}
    for entry in spec.get("labels") or []:
        if not isinstance(entry, dict) or "value" not in entry or not entry.get("label"):
            raise ValueError(f"{where}: scale {sid!r} has a label entry without `value` and `label`: {entry!r}")
        value = entry["value"]
        if not isinstance(value, int) or not spec["min"] <= value <= spec["max"]:
            raise ValueError(f"{where}: scale {sid!r} label {entry['label']!r} has value {value!r} outside "
                             f"{spec['min']}..{spec['max']}")
        labels[value] = (str(entry["label"]), *(str(a) for a in entry.get("aliases") or []))
    return Scale(sid, spec["min"], spec["max"], labels)


def _parse_item(spec: Any, position: int, where: str, *, areas: dict[str, Any], scales: dict[str, Scale],
                constructs: dict[str, Any]) -> Item:
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: item #{position} is not a mapping: {spec!r}")
    item_id = spec.get("id")
    name = f"item #{position} ({item_id!r})"
    if not isinstance(item_id, str) or not _ID_RE.match(item_id):
        raise ValueError(f"{where}: {name} needs a snake_case `id` (letters, digits, underscores)")
    missing = [k for k in ("text", "area", "kind") if not spec.get(k)]
    if missing:
        raise ValueError(f"{where}: {name} is missing {missing}")
    kind = spec["kind"]
    if kind not in KINDS:
        raise ValueError(f"{where}: {name} has kind {kind!r}; use one of {list(KINDS)}")
    if spec["area"] not in areas:
        raise ValueError(f"{where}: {name} has area {spec['area']!r}; use one of {sorted(areas)}")
    construct = spec.get("construct")
    if construct is not None and construct not in constructs:
        raise ValueError(f"{where}: {name} has construct {construct!r}; use one of {sorted(constructs)} or null")
    for flag in ("reverse", "clarity"):
        if not isinstance(spec.get(flag, False), bool):
            raise ValueError(f"{where}: {name} has {flag}: {spec[flag]!r}; use true or false")
    scale_id = spec.get("scale")
    scale = None
    if kind in ("likert", "nps"):
        if scale_id not in scales:
            raise ValueError(f"{where}: {name} is a {kind} item and needs a `scale` out of {sorted(scales)}")
        scale = scales[scale_id]
    elif scale_id is not None or construct is not None or spec.get("reverse", False):
        raise ValueError(f"{where}: {name} is a {kind} item: it takes no scale, construct or reverse coding")
    column, choices = spec.get("column"), tuple(str(c) for c in spec.get("choices") or [])
    if kind == "demographic" and (column not in RESPONDENT_COLUMNS or not choices):
        raise ValueError(f"{where}: {name} is a demographic item and needs `column` out of "
                         f"{list(RESPONDENT_COLUMNS)} and a `choices` list")
    aliases = spec.get("aliases") or []
    if not isinstance(aliases, list):
        raise ValueError(f"{where}: {name} has `aliases` that is not a list")
    return Item(item_id, str(spec["text"]), construct, str(spec["area"]), kind, bool(spec.get("reverse", False)),
                scale, bool(spec.get("clarity", False)), tuple(str(a) for a in aliases),
                column if kind == "demographic" else None, choices)


# --- unmapped questions -------------------------------------------------------------------------------

def unmapped_questions(parsed_frames: Iterable[Any]) -> pd.DataFrame:
    """The questions that matched no codebook item, over the parse results of one or more files.

    ``parsed_frames`` holds :class:`analytics.sources.base.Parsed` results or ``survey_answers`` frames.

    Returns
    -------
    pandas.DataFrame
        ``item_id`` (the export's question id), ``question`` (its text), ``n_answers`` (non-blank answers),
        sorted by ``item_id``.

    Examples
    --------
    >>> answers = pd.DataFrame({"item_id": ["Q2", "Q2", "trust_monitoring_fair"], "question": ["Colour?"] * 3,
    ...                         "value_label": ["red", "blue", "Agree"], "mapped": [False, False, True]})
    >>> unmapped_questions([answers]).values.tolist()
    [['Q2', 'Colour?', 2]]
    """
    frames = []
    for parsed in parsed_frames:
        frame = parsed.tables.get("survey_answers") if hasattr(parsed, "tables") else parsed
        if frame is not None and len(frame):
            frames.append(frame.loc[~frame["mapped"].astype(bool), ["item_id", "question", "value_label"]])
    if not frames:
        return pd.DataFrame({"item_id": pd.Series(dtype=object), "question": pd.Series(dtype=object),
                             "n_answers": pd.Series(dtype="int64")})
    both = pd.concat(frames, ignore_index=True)
    both["question"] = both["question"].fillna(both["item_id"])
    counted = (both.assign(answered=both["value_label"].notna())
               .groupby(["item_id", "question"], sort=True, dropna=False)["answered"].sum().reset_index())
    return counted.rename(columns={"answered": "n_answers"}).astype({"n_answers": "int64"})


def codebook_stubs(questions: Iterable[tuple[str, str]]) -> str:
    """YAML item stubs for unmapped ``(column_id, question_text)`` pairs, to paste under ``items:``.

    Each stub is a likert item on the ``agree5`` scale in area ``feedback`` with the export's column id as an
    alias; edit construct, area, kind and scale before committing.

    >>> print(codebook_stubs([("Q2", "This is a free text question.")]))
    # Unmapped questions: check construct, area, kind, scale and reverse before pasting under `items:`.
    - id: this_is_a_free_text_question
      text: This is a free text question.
      construct: null
      area: feedback
      kind: likert
      reverse: false
      scale: agree5
      aliases:
      - Q2
    <BLANKLINE>
    """
    stubs, used = [], set()
    for column_id, text in questions:
        question = str(text).strip() if text and str(text).strip() else str(column_id)
        ascii_text = unicodedata.normalize("NFKD", normalise_text(question)).encode("ascii", "ignore").decode()
        base = "_".join(re.sub(r"[^a-z0-9 ]", "", ascii_text).split())[:48].strip("_") or "item"
        base = base if base[0].isalpha() else f"q_{base}"
        item_id, n = base, 2
        while item_id in used:
            item_id, n = f"{base}_{n}", n + 1
        used.add(item_id)
        stub = {"id": item_id, "text": question, "construct": None, "area": "feedback", "kind": "likert",
                "reverse": False, "scale": "agree5"}
        if str(column_id) != question:
            stub["aliases"] = [str(column_id)]
        stubs.append(stub)
    header = "# Unmapped questions: check construct, area, kind, scale and reverse before pasting under `items:`.\n"
    return header + yaml.safe_dump(stubs, sort_keys=False, allow_unicode=True, width=1000)
