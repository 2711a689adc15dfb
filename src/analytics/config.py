"""Every path and setting of the workbook, in one place.

Paths resolve from the package location, never from the working directory, so notebooks (which run
in ``notebooks/``) and dashboards find the same warehouse as the command line. Organisation settings
live in ``data/settings.yml``; environment variables override the few things a deployment changes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml

__all__ = [
    "CODEBOOK_PATH",
    "CONTENT_THEMES_PATH",
    "DATA_DIR",
    "DISMISSALS_PATH",
    "K_MINIMUM",
    "POLICY_RULES_PATH",
    "PROJECT_ROOT",
    "REPORTS_DIR",
    "SAMPLE_DIR",
    "SETTINGS_PATH",
    "Settings",
    "Target",
    "config_dir",
    "configuration_files",
    "frontend_dir",
    "get_settings",
    "key_file_path",
    "parsed_once",
    "warehouse_path",
]

_Parsed = TypeVar("_Parsed")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"
REPORTS_DIR = PROJECT_ROOT / "reports"
DASHBOARDS_DIR = PROJECT_ROOT / "dashboards"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
CODEBOOK_PATH = DATA_DIR / "codebook.yml"
POLICY_RULES_PATH = DATA_DIR / "policy_rules.yml"
CONTENT_THEMES_PATH = DATA_DIR / "content_themes.yml"
DISMISSALS_PATH = DATA_DIR / "dismissals.csv"
SETTINGS_PATH = DATA_DIR / "settings.yml"

#: Small groups below this many people are never shown, whatever the configuration says.
K_MINIMUM = 3


def warehouse_path(override: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: ``override``, else ``POLICY_PULSE_WAREHOUSE``, else ``data/warehouse.duckdb``."""
    chosen = override or os.environ.get("POLICY_PULSE_WAREHOUSE")
    return Path(chosen).expanduser().resolve() if chosen else DATA_DIR / "warehouse.duckdb"


def config_dir() -> Path:
    """The user's private folder for the pseudonymisation key and the identity vault.

    It lies outside the project folder on purpose: copying or sharing the project never copies
    the key. ``POLICY_PULSE_CONFIG_DIR`` overrides it (tests use a temporary folder).
    """
    explicit = os.environ.get("POLICY_PULSE_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "policy-pulse"


def key_file_path() -> Path:
    return config_dir() / "key"


def frontend_dir() -> Path:
    """Where the install step puts third-party front-end files it downloads (never the project folder).

    Inside the Python environment (``<sys.prefix>/share/policy-pulse``), so a new environment fetches
    its own copy; ``POLICY_PULSE_FRONTEND_DIR`` overrides it (tests use a temporary folder).
    """
    explicit = os.environ.get("POLICY_PULSE_FRONTEND_DIR")
    return Path(explicit).expanduser() if explicit else Path(sys.prefix) / "share" / "policy-pulse"


@dataclass(frozen=True)
class Target:
    """Red/amber/green thresholds of a KPI. ``higher_is_better`` says which way is good."""

    green: float
    amber: float
    higher_is_better: bool = True

    def status(self, value: float | None) -> str:
        if value is None or value != value:
            return "unknown"
        if self.higher_is_better:
            return "green" if value >= self.green else "amber" if value >= self.amber else "red"
        return "green" if value <= self.green else "amber" if value <= self.amber else "red"


@dataclass(frozen=True)
class SurveyPeriod:
    wave: str
    start: date
    end: date


@dataclass(frozen=True)
class Settings:
    """Organisation settings (``data/settings.yml``); defaults are safe for a first run."""

    k: int = 5
    timezone: str = "UTC"
    dayfirst: bool = False
    organisation_accounts: dict[str, list[str]] = field(default_factory=dict)
    organisation_name: str = "the organisation"
    organisation_domains: list[str] = field(default_factory=list)
    survey_periods: list[SurveyPeriod] = field(default_factory=list)
    link_surveys_to_employees: bool = False
    retention_months: int | None = None
    targets: dict[str, Target] = field(default_factory=dict)
    mission_url_patterns: dict[str, list[str]] = field(default_factory=dict)
    min_comments_shown: int = 10
    training_module: str = "social-media-essentials"

    def __post_init__(self) -> None:
        if self.k < K_MINIMUM:
            raise ValueError(
                f"k = {self.k} is below the floor of {K_MINIMUM}: small groups would identify people. "
                f"Set k to {K_MINIMUM} or more in {SETTINGS_PATH.name}."
            )


def _parse_settings(raw: dict[str, Any], source: Path = SETTINGS_PATH) -> Settings:
    raw = dict(raw or {})
    if "survey_periods" in raw:
        raw["survey_periods"] = [_survey_period(entry, source) for entry in raw["survey_periods"] or []]
    if "targets" in raw:
        raw["targets"] = {name: _target(name, spec, source) for name, spec in (raw["targets"] or {}).items()}
    if "organisation_accounts" in raw:
        raw["organisation_accounts"] = {
            platform: [str(h).lower().lstrip("@") for h in handles]
            for platform, handles in raw["organisation_accounts"].items()
        }
    known = set(Settings.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"Unknown settings {sorted(unknown)} in {source}; known: {sorted(known)}")
    return Settings(**raw)


def _survey_period(entry: Any, source: Path) -> SurveyPeriod:
    try:
        return SurveyPeriod(str(entry["wave"]), _as_date(entry["start"]), _as_date(entry["end"]))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"The survey period {entry!r} in {source} needs a wave, a start and an end date "
                         "(YYYY-MM-DD), e.g. {wave: 2026-spring, start: 2026-04-01, end: 2026-06-30}.") from error


def _target(name: str, spec: Any, source: Path) -> Target:
    try:
        return Target(**spec)
    except TypeError as error:
        raise ValueError(f"The target {name}: {spec!r} in {source} needs green and amber thresholds (and optionally "
                         "higher_is_better: true or false), e.g. {green: 0.95, amber: 0.90}.") from error


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


#: Configuration files parsed (:func:`parsed_once`), by parser, path, content and the parser's other arguments,
#: the most recently used last.
_PARSED: dict[tuple, Any] = {}
_PARSED_KEPT = 32


def parsed_once(path: Path, parse: Callable[..., _Parsed], *args: Any) -> _Parsed:
    """``parse(path, content, *args)`` of the file at ``path``, read at every call and parsed once per content
    (and ``args``, by their ``repr``).

    An edit reaches a process that runs on (``policy-pulse watch``, a notebook's kernel) at its next step, even
    one that keeps the file's size and modification time (saved within the clock's step, copied with ``cp -p``
    or ``rsync -t``); an unchanged file gives the same object again without parsing it: the settings, rules,
    codebook and taxonomy are read this way, many times per page or update. Raises ``FileNotFoundError``
    when there is no file, and whatever ``parse`` raises (nothing is kept then).

    >>> settings = parsed_once(SETTINGS_PATH, _settings_of, None)
    >>> parsed_once(SETTINGS_PATH, _settings_of, None) is settings, parsed_once(SETTINGS_PATH, _settings_of, "7").k
    (True, 7)
    """
    content = path.read_bytes()
    key = (parse, path, content, repr(args))
    if key in _PARSED:
        _PARSED[key] = _PARSED.pop(key)
    else:
        _PARSED[key] = parse(path, content, *args)
        while len(_PARSED) > _PARSED_KEPT:
            del _PARSED[next(iter(_PARSED))]
    return _PARSED[key]


def _settings_of(path: Path, content: bytes, k_override: str | None) -> Settings:
    raw = yaml.safe_load(content.decode("utf-8")) or {}
    if k_override:
        raw["k"] = int(k_override)
    return _parse_settings(raw, path)


def configuration_files() -> frozenset[Path]:
    """The files the build and the surfaces read their configuration from (settings, codebook, rules, content
    themes, dismissals), as absolute paths: what a folder of exports holding them does not hand in as exports."""
    chosen = os.environ.get("POLICY_PULSE_SETTINGS")
    files = {SETTINGS_PATH, CODEBOOK_PATH, POLICY_RULES_PATH, CONTENT_THEMES_PATH, DISMISSALS_PATH}
    return frozenset(path.resolve() for path in (files | {Path(chosen)} if chosen else files))


def get_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Load the organisation settings (``POLICY_PULSE_SETTINGS`` or ``data/settings.yml``).

    ``POLICY_PULSE_K`` overrides the small-group threshold. The file is read at every call and parsed once
    per content (:func:`parsed_once`).
    """
    chosen = Path(path or os.environ.get("POLICY_PULSE_SETTINGS") or SETTINGS_PATH).resolve()
    k_override = os.environ.get("POLICY_PULSE_K")
    try:
        return parsed_once(chosen, _settings_of, k_override)
    except FileNotFoundError:  # no file: the defaults
        return _settings_of(chosen, b"", k_override)
