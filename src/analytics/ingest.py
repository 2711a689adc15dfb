"""The ingest stage: detect -> read -> attribute & pseudonymise -> scrub -> validate -> load, per file.

Each file loads in ONE transaction together with its ``ingest_log`` rows and its ``rejects``; the same
bytes again load nothing; a crash mid-file leaves the warehouse as it was. Every data record of a file
ends in a canonical table or in ``rejects`` with a reason a person can act on.

A big ingest (two cores, :data:`HELPER_MIN_BYTES`) also scores its texts' sentiment on the side, at the
lowest priority, into the build's cache (the table ``sentiment``, keyed by the text's hash): the build then
scores only what the ingest had no idle core for.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analytics import __version__, config, parallel, schemas, sentiment, sources, warehouse
from analytics.codebook import Codebook, load_codebook
from analytics.periods import local_months, period_labels
from analytics.privacy import Scrubber, ScrubHelper, Vault, key_fingerprint, load_key, normalise_handle, pseudonym
from analytics.sources.base import Parsed, ReadContext, Reject, SourceError, platform_id

__all__ = ["NOT_EXPORTS", "UNFINISHED_ENDINGS", "FileResult", "IngestError", "ingest_paths", "is_export_candidate",
           "post_uid_from_content", "quarter_wave"]

#: Inputs this large (bytes, all files together) get a second process to scrub with, on a machine with two cores.
HELPER_MIN_BYTES = 32 << 20

#: With a helper process, files up to this size are read by it a few files ahead of their turn.
PREFETCH_MAX_BYTES = 16 << 20
#: How many files the helper is asked to read ahead.
READ_AHEAD = 4
#: Bigger files, up to this many bytes in all, are read by the helper first of all, while this process loads
#: the others: sending the rows back costs this process a tenth of reading them. (Beyond it, rows waiting in
#: memory for their turn would cost more memory than the time is worth.)
EARLY_MAX_BYTES = 256 << 20
#: The loaded texts' sentiment is scored this many at a time (about a tenth of a second's work) while the
#: ingest runs: at its end, the batch being scored is dropped.
PRESCORE_TEXTS = 4000

#: Test-only: pause (sleep) after loading this many rows of a file, so a test can SIGKILL mid-file.
PAUSE_ENV = "POLICY_PULSE_TEST_PAUSE_AFTER_ROWS"

#: Exports that only ever hold the organisation's own page, so a post without a handle is the organisation's.
_ORGANISATION_PAGE_FORMATS = {"linkedin", "meta_legacy_insights", "meta_posts", "instagram"}


class IngestError(Exception):
    """A file that could not be ingested; the message names it and says why."""


@dataclass
class FileResult:
    """What happened to one file."""

    path: Path
    sha256: str
    format: str = ""
    status: str = "loaded"  # loaded | skipped (same bytes already loaded) | failed | dry-run
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    tables: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    message: str = ""
    #: rows that took the place of the same record loaded before (a post's later metrics, a survey exported again)
    rows_replacing: int = 0
    #: posts whose stored version has later metrics: the stored one is kept, these rows are not stored
    rows_outdated: int = 0


@dataclass
class _Context:
    key: bytes
    settings: config.Settings
    vault: Vault
    con: duckdb.DuckDBPyConnection
    scrubber: Scrubber
    handles: dict[str, str]
    codebook: Codebook | None  # None: no file to read needs it
    helper: ScrubHelper | None = None
    prescorer: _Prescorer | None = None
    #: file -> a function waiting for the helper's reading of it (``None``: read it here)
    prefetched: dict[Path, Callable[[], object]] = field(default_factory=dict)
    #: the vault content the scrubber was built from (building it takes a second with a big roster)
    identities: str = ""


class _Prescorer:
    """Scores the sentiment of the texts being loaded, for the build to find in its cache
    (:func:`analytics.sentiment.cache_rows`), in a process of the lowest priority: on the second core
    while this process's work leaves it idle, never in its way. A thread here sends it one batch of
    :data:`PRESCORE_TEXTS` at a time; what is not scored by the end of the ingest is left to the build."""

    def __init__(self) -> None:
        self._helper = ScrubHelper(idle=True).start()
        self._seen: set[str] = set()
        self._batches: collections.deque[list[str]] = collections.deque()
        self._rows: list[pd.DataFrame] = []
        self._changed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._feed, daemon=True)
        self._thread.start()

    def add(self, texts: list[str | None]) -> None:
        """Queue the texts not queued before (missing values are passed over)."""
        new = [text for text in dict.fromkeys(texts) if text is not None and text not in self._seen]
        self._seen.update(new)
        with self._changed:
            self._batches.extend(new[i:i + PRESCORE_TEXTS] for i in range(0, len(new), PRESCORE_TEXTS))
            self._changed.notify()

    def _feed(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._batches or self._stopping)
                if self._stopping:
                    return
                batch = self._batches.popleft()
            rows = self._helper.call(sentiment.cache_rows, batch)()
            if isinstance(rows, pd.DataFrame):  # else (the helper failed) the build scores these texts
                self._rows.append(rows)

    def finish(self) -> pd.DataFrame | None:
        """Stop at once (the batch being scored is dropped: a process of the lowest priority may not get a
        core for a while) and return the rows scored, if any."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
        self._helper.abandon()  # the batch waited for, if any, comes back empty: the thread ends
        self._thread.join()
        return pd.concat(self._rows, ignore_index=True) if self._rows else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


#: Names of files a folder of exports may hold that are none: the sample generator's answer key.
NOT_EXPORTS = frozenset({"truth.json"})
#: Endings of the names browsers and copy tools give a file while they write it (renamed when done): a folder's
#: such files are left for when they are whole.
UNFINISHED_ENDINGS = (".part", ".partial", ".crdownload", ".download", ".tmp", "~")


def is_export_candidate(path: Path, folder: Path) -> bool:
    """Whether ``path``, found under ``folder``, may be an export: not hidden, nor under a hidden folder inside
    ``folder``, not a file that is none (:data:`NOT_EXPORTS`), nor one still being written under a temporary
    name (:data:`UNFINISHED_ENDINGS`). What a folder's ingest and ``watch`` both leave alone.

    >>> folder = Path("exports")
    >>> [is_export_candidate(folder / name, folder) for name in ("a.csv", ".staging/a.csv", "b.csv.part")]
    [True, False, False]
    """
    return not (any(part.startswith(".") for part in path.relative_to(folder).parts)
                or path.name in NOT_EXPORTS or path.name.endswith(UNFINISHED_ENDINGS))


def _expand(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_export_candidate(p, path)))
        elif path.exists():
            files.append(path)
        else:
            raise IngestError(f"{path}: no such file or folder.")
    return files


def ingest_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    warehouse_file: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    progress: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Ingest files and folders (a folder means every file in it) into the warehouse.

    Files are detected by content, then loaded identities first (roster, donors) so every later
    file is scrubbed with the whole roster. Returns one :class:`FileResult` per file; a file that
    cannot be read has status ``failed`` and a message naming it, and leaves the warehouse unchanged.
    """
    settings = config.get_settings()
    target = config.warehouse_path(warehouse_file)
    key = load_key()
    files = _expand(paths)
    sizes = {path: path.stat().st_size for path in files}
    helper = None
    if parallel.available_cores() > 1 and sum(sizes.values()) >= HELPER_MIN_BYTES:
        helper = ScrubHelper().start()  # now, while this process is small, and warm by the time it is needed
    # the big files are detected first, so the helper starts reading them before the others are sniffed
    big = {path for path, size in sizes.items() if size > PREFETCH_MAX_BYTES}
    try:
        detected = _detect([path for path in files if path in big])
        con = warehouse.connect(target) if not dry_run else duckdb.connect()
    except BaseException:
        if helper is not None:
            helper.close()
        raise
    results: list[FileResult] = []
    if dry_run:
        warehouse.ensure_schema(con)
        con.execute("SET TimeZone = 'UTC'")
        _copy_load_history(con, target)
    prescorer = None
    try:
        if helper is not None and not dry_run:
            prescorer = _Prescorer()
        _check_key(con, key)
        vault = Vault.for_warehouse(target, key, people=warehouse.employee_keys(con))
        context = _Context(key, settings, vault, con, Scrubber(), {}, _codebook_for(detected), helper, prescorer)
        shas = _read_big_files_early(context, detected)
        detected = sorted(detected + _detect([path for path in files if path not in big]), key=_load_key)
        context.codebook = context.codebook or _codebook_for(detected)
        ahead = [(path, read) for _order, path, _fmt, read, _error in detected
                 if helper is not None and read is not None and path not in big]
        _refresh_identities(context)
        early = set(context.prefetched)
        for _order, path, fmt, read, error in detected:
            # ``ahead`` follows ``detected``'s order and loses only its front: at most this file is at its head
            if ahead and ahead[0][0] == path:  # read here now: the helper need not
                ahead.pop(0)
            # none while the helper reads a big file first: by its end, this process would have read them
            reading_early = any(context.prefetched[p](poll=True) is False for p in early & set(context.prefetched))
            # a few files ahead only: should this process overtake the helper, little of its reading is wasted
            while (ahead and not reading_early and helper is not None
                   and len(set(context.prefetched) - early) < READ_AHEAD):
                following, reader = ahead.pop(0)
                context.prefetched[following] = helper.call(reader, following, _read_context(context))
            result = FileResult(path=path, sha256=shas.pop(path, None) or _sha256(path), format=fmt)
            if read is None:
                result.status, result.message = "failed", error
            else:
                _ingest_one(context, result, read, dry_run=dry_run)
            results.append(result)
            if progress:
                progress(result)
        if prescorer is not None and (rows := prescorer.finish()) is not None:
            # a cache of the build's (a text's hash and its scores): one statement, no transaction of its own
            sentiment.store_cache_rows(con, rows)
    finally:
        if prescorer is not None:
            prescorer.finish()
        con.close()
        if helper is not None:
            helper.close()
    return results


def _read_big_files_early(context: _Context, detected: list[tuple[int, Path, str, object | None, str]]
                          ) -> dict[Path, str]:
    """Have the helper read ``detected``, the files too big to read a few files ahead (not loaded before; up to
    :data:`EARLY_MAX_BYTES` in all) now, before anything else; returns the checksums taken on the way."""
    shas: dict[Path, str] = {}
    if context.helper is None:
        return shas
    budget = EARLY_MAX_BYTES
    for _order, path, _fmt, read, _error in detected:
        size = path.stat().st_size
        if read is None or size > budget:
            continue
        sha = _sha256(path)
        if sha not in shas.values() and not _loaded_before(context.con, sha):  # (a copy would be skipped)
            context.prefetched[path] = context.helper.call(read, path, _read_context(context))
            budget -= size
        shas[path] = sha
    return shas


def _copy_load_history(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """Give a dry run's empty warehouse ``con`` the load log of ``target``'s published snapshot, if any: it then
    says "skipped" for files loaded before, as the real run would, and checks the key as it does."""
    try:
        with warehouse.read_only(target) as real:
            log = real.execute("SELECT * FROM ingest_log").df()
    except (warehouse.WarehouseMissing, warehouse.WarehouseBusy, warehouse.WarehouseUnreadable, duckdb.Error):
        return  # nothing loaded yet, or nothing to be read now: every file is said to load
    with warehouse.registered(con, "_log", log):
        con.execute("INSERT INTO ingest_log SELECT * FROM _log")


def _loaded_before(con: duckdb.DuckDBPyConnection, sha256: str) -> bool:
    return con.execute("SELECT count(*) FROM ingest_log WHERE file_sha256 = ?", [sha256]).fetchone()[0] > 0


def _detect(files: list[Path]) -> list[tuple[int, Path, str, object | None, str]]:
    """Each file's load position, path, format, reader and error (why it has no reader), in load order."""
    detected: list[tuple[int, Path, str, object | None, str]] = []
    for path in files:
        try:
            fmt, read = sources.detect(path)
            detected.append((sources.load_order(fmt), path, fmt, read, ""))
        except (SourceError, OSError) as error:
            detected.append((-1, path, "", None, str(error)))
    detected.sort(key=_load_key)
    return detected


def _load_key(item: tuple[int, Path, str, object | None, str]) -> tuple[int, str]:
    return item[0], str(item[1])


def _codebook_for(detected: list[tuple[int, Path, str, object | None, str]]) -> Codebook | None:
    """The codebook if a detected file is a survey read through it (posts alone need no YAML parsed)."""
    surveys = any(read is not None and sources.needs_codebook(fmt) for _order, _path, fmt, read, _error in detected)
    return load_codebook() if surveys else None


def _check_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Refuse to mix two keys' pseudonyms in one warehouse (the same person would become two people)."""
    used = {row[0] for row in con.execute("SELECT DISTINCT key_fingerprint FROM ingest_log").fetchall()}
    mine = key_fingerprint(key)
    if used and used != {mine}:
        raise IngestError(
            f"This warehouse was loaded with another pseudonymisation key (fingerprint {sorted(used - {mine})[0]}, "
            f"now {mine}). Set POLICY_PULSE_KEY (or restore the key file) to the original key, or ingest into a "
            "new warehouse."
        )


def _refresh_identities(context: _Context) -> None:
    identities = json.dumps([context.vault.people, context.vault.donors, list(context.settings.organisation_domains)],
                            sort_keys=True)
    if identities == context.identities:
        return
    context.scrubber = context.vault.scrubber(keep_domains=context.settings.organisation_domains)
    context.scrubber.helper = context.helper
    context.scrubber.database = context.con  # its screen needs no database of its own
    if context.helper is not None:
        context.helper.prepare(context.scrubber)
    context.handles = context.vault.handle_index()
    context.identities = identities


def _read_context(context: _Context) -> ReadContext:
    return ReadContext(timezone=context.settings.timezone, dayfirst=context.settings.dayfirst,
                       codebook=context.codebook)


#: How many rejects' reasons a dry run gives per file.
_DRY_RUN_REASONS = 3


def _ingest_one(context: _Context, result: FileResult, read: Callable, *, dry_run: bool) -> None:
    con = context.con
    prefetched = context.prefetched.pop(result.path, None)
    if _loaded_before(con, result.sha256):
        result.status, result.message = "skipped", "these exact bytes were loaded before"
        return
    started = datetime.now(UTC)
    try:
        # the helper's reading if it has one; a file it could not read is read here (and fails here the same way)
        parsed = prefetched(begun_only=True) if prefetched is not None else None
        if not isinstance(parsed, Parsed):
            parsed = read(result.path, _read_context(context))
    except SourceError as error:
        result.status, result.message = "failed", str(error)
        return
    except Exception as error:  # an adapter bug must still name the file, never show a traceback
        result.status = "failed"
        result.message = f"{result.path.name}: could not be read as {result.format} ({type(error).__name__}: {error})"
        return
    canonical, rejects, vault_changes = _canonicalise(context, parsed, result)
    result.rows_read = parsed.rows_read
    del parsed  # the staging tables are not needed any more: a big export's peak memory is here
    result.rows_rejected = len(rejects)
    result.rows_loaded = result.rows_read - len(rejects)
    if dry_run:  # the rejects table is not written: the reasons go with the result
        result.status = "dry-run"
        shown = [f"record {r.source_row}: {r.reason}" for r in rejects[:_DRY_RUN_REASONS]]
        more = f"; and {len(rejects) - len(shown)} more" if len(rejects) > len(shown) else ""
        result.message = f"would reject {'; '.join(shown)}{more}" if rejects else ""
        return
    if vault_changes:
        # the vault is written first: if the load below fails, an identity the vault knows early is harmless
        context.vault.save()
        _refresh_identities(context)
    finished = datetime.now(UTC)
    try:
        con.execute("BEGIN TRANSACTION")
        _load(context, canonical, result)
        _write_rejects(con, rejects, result, context.scrubber)
        _write_log(con, result, context, started, finished)
        con.execute("COMMIT")
    except Exception as error:
        con.execute("ROLLBACK")
        result.status = "failed"
        result.message = f"{result.path.name}: nothing loaded ({type(error).__name__}: {error})"


# --- staging -> canonical -----------------------------------------------------------------------

def _canonicalise(context: _Context, parsed: Parsed, result: FileResult):
    """Turn staging tables into canonical frames; returns (frames, rejects, vault_changed)."""
    rejects: list[Reject] = list(parsed.rejects)
    frames: dict[str, pd.DataFrame] = {}
    vault_changed = False
    tables = parsed.tables
    if "roster" in tables:
        frames.update(_roster(context, tables["roster"]))
        vault_changed = True
    if "donors" in tables:
        donors = tables["donors"]
        context.vault.set_donors(
            {"name": r.name, "email": _none(r.email), "phone": _none(r.phone),
             "public_acknowledgement": bool(r.public_acknowledgement)}
            for r in donors.itertuples(index=False)
        )
        frames["vault:donors"] = donors[["source_row"]]
        vault_changed = True
    if vault_changed:
        _refresh_identities(context)
    if "posts" in tables:
        frames["posts"] = _posts(context, tables["posts"], own_page=parsed.format in _ORGANISATION_PAGE_FORMATS)
        _ahead_of_the_build(frames["posts"])
    if "audience_comments" in tables:
        frames["audience_comments"] = _audience_comments(context, tables["audience_comments"], result)
    if "respondents" in tables:
        frames.update(_surveys(context, tables, result))
    if "incidents" in tables:
        frames["incidents"] = _incidents(context, tables["incidents"])
    if "trainings" in tables:
        frames["trainings"] = _trainings(context, tables["trainings"])
    if "policy_versions" in tables:
        frames["policy_versions"] = _policy_versions(tables["policy_versions"], context.settings.timezone)
    frames = {name: _scrub(context, name, frame) for name, frame in frames.items()}
    for name in list(frames):
        good, reasons = schemas.validate(name, frames[name])
        if len(reasons):
            bad = frames[name].loc[reasons.index]
            rejects.extend(Reject(int(row), _row_text(bad.loc[i]), str(reasons[i]))
                           for i, row in zip(bad.index, bad["source_row"], strict=True))
        frames[name] = good
    if "respondents" in frames:
        frames = _drop_orphans(frames)
    frames = _deduplicate(frames, rejects)
    if context.prescorer is not None:  # the texts the file's load stores: the side scorer may score them now
        for name in _SCORED_TABLES:
            if name in frames:  # as a list: iterating a column costs a Python call per value
                context.prescorer.add(frames[name]["text"].to_numpy(dtype=object, na_value=None).tolist())
    for frame in frames.values():
        frame.attrs["file_sha256"] = result.sha256
    return frames, rejects, vault_changed


def _ahead_of_the_build(posts: pd.DataFrame) -> None:
    """Hand the posts' texts, as read, to the workers a long-lived process keeps (``policy-pulse watch``), to
    score and scan while this process scrubs and loads them: the build takes their results for the texts
    stored unchanged (the scrub changes few) and works out the others itself. What is worked out of a text
    before the scrub is only ever used for that very text, and never leaves this process and its workers."""
    from analytics import adherence  # the build's: imported once, if not by then

    # the columns themselves: looked at only with workers kept
    sentiment.score_ahead(posts["text"])
    adherence.scan_ahead(posts["text"], posts["account_type"].eq("employee").fillna(False))


def _none(value):
    return None if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value) else str(value)


def _row_text(row: pd.Series) -> str:
    return ",".join("" if pd.isna(v) else str(v) for k, v in row.items() if k != "source_row")


def _scrub(context: _Context, name: str, frame: pd.DataFrame) -> pd.DataFrame:
    if name.startswith("vault:") or name == "recognition_names" or frame.empty:
        return frame  # display names are the one name kept, and only for people who opted in
    return context.scrubber.scrub_frame(frame, keep=_UNSCRUBBED)


#: The tables whose texts the build scores for sentiment.
_SCORED_TABLES = ("posts", "audience_comments", "survey_comments")

#: Columns ingest itself makes (keys, pseudonyms) or fills from a fixed vocabulary: nothing in them to redact.
_UNSCRUBBED = frozenset({
    "post_uid", "account_key", "author_key", "employee_key", "respondent_key", "comment_uid", "response_id",
    "platform", "account_type", "source_format", "wave", "area", "severity", "detection"})


def _roster(context: _Context, roster: pd.DataFrame) -> dict[str, pd.DataFrame]:
    keys = roster["email"].astype(str).map(lambda e: pseudonym(e, context.key))
    for key, row in zip(keys, roster.itertuples(index=False), strict=True):
        handles = [h.strip() for h in str(row.handles or "").split(";") if h and h.strip()]
        facebook_names = [h.partition(":")[2] for h in handles if h.startswith("facebook:")]
        context.vault.add_person(key, names=[str(row.name), *facebook_names], emails=[str(row.email)],
                                 handles=handles)
    employees = pd.DataFrame({
        "employee_key": keys.astype("string"),
        "department": roster["department"].astype("string"),
        "role_level": roster["role_level"].astype("string"),
        "started_on": _local_dates(roster["started_on"], context.settings.timezone),
        "left_on": _local_dates(roster["left_on"], context.settings.timezone),
        "recognition_opt_in": roster["recognition_opt_in"].astype(bool),
        "source_row": roster["source_row"].astype(int),
    })
    opted = roster["recognition_opt_in"].astype(bool) & roster["display_name"].notna()
    names = pd.DataFrame({"employee_key": keys[opted].astype("string"),
                          "display_name": roster.loc[opted, "display_name"].astype("string")})
    return {"employees": employees, "recognition_names": names}


def _local_dates(stamps: pd.Series, timezone: str) -> pd.Series:
    """Calendar dates in the organisation's time zone (a UTC midnight would shift them a day)."""
    return pd.to_datetime(stamps, utc=True).dt.tz_convert(timezone).dt.date


def _platform(value) -> str:
    return platform_id(str(value or ""))


def _map_distinct(values: pd.Series, function: Callable[[object], object]) -> np.ndarray:
    """``values.map(function)`` as an object array, calling ``function`` once per distinct value (each
    missing value on its own: None and NaN may map differently)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    out = np.array([*(function(v) for v in uniques), None], dtype=object)[codes]
    missing = codes == -1
    if missing.any():
        out[missing] = [function(v) for v in values[missing]]
    return out


def post_uid_from_content(platform: str, account: str, published_at: pd.Timestamp, text: str) -> str:
    """``platform:h<hash>`` for a post without an id (platform, account, time and text).

    >>> post_uid_from_content("x", "ada", pd.Timestamp("2026-01-01", tz="UTC"), "hi")[:3]
    'x:h'
    """
    return _content_uid(platform, account, published_at.isoformat(), text)


def _content_uid(platform: str, account: str, published: str, text: str) -> str:
    """:func:`post_uid_from_content` with the time as ISO text."""
    material = "\x1f".join([platform, account.lower(), published, text])
    return f"{platform}:h{hashlib.sha256(material.encode('utf-8')).hexdigest()[:20]}"


def _isoformats(stamps: pd.Series) -> list[str]:
    """``[s.isoformat() for s in stamps]``, a missing stamp as the epoch's, without making a Timestamp of each
    where the text is plain to write: UTC stamps of the years 1-9999, to the microsecond.

    >>> _isoformats(pd.Series(pd.to_datetime(["2026-03-01 09:30:00", "1969-12-31 23:59:59.5", None], utc=True,
    ...                                      format="ISO8601")))
    ['2026-03-01T09:30:00+00:00', '1969-12-31T23:59:59.500000+00:00', '1970-01-01T00:00:00+00:00']
    """
    epoch = pd.Timestamp(0, tz="UTC")
    if isinstance(stamps.dtype, pd.DatetimeTZDtype) and str(stamps.dt.tz) == "UTC":
        naive = stamps.fillna(epoch).dt.tz_localize(None).to_numpy()
        micro = naive.astype("datetime64[us]")
        ticks = micro.astype(np.int64)
        if (len(micro) and (micro == naive).all() and micro.min() >= np.datetime64("0001-01-01")
                and micro.max() < np.datetime64("10000-01-01")):
            # datetime's isoformat leaves out a zero fraction of a second
            return [text[:19] + "+00:00" if whole else text + "+00:00"
                    for text, whole in zip(np.datetime_as_string(micro, unit="us").tolist(),
                                           (ticks % 1_000_000 == 0).tolist(), strict=True)]
    return [(epoch if pd.isna(stamp) else stamp).isoformat() for stamp in stamps]


def _posts(context: _Context, staged: pd.DataFrame, *, own_page: bool) -> pd.DataFrame:
    frame = staged.copy(deep=False)
    frame["platform"] = pd.Series(_map_distinct(frame["platform"], _platform), index=frame.index, dtype="str")
    # who posted depends on the platform and handle only: a million posts come from a few thousand accounts,
    # so accounts are attributed once each and the result is spread back to the posts
    handles = frame["handle"].astype("string")
    accounts = pd.DataFrame({"platform": frame["platform"], "handle": handles})
    rows, accounts = _distinct_rows(accounts)
    handle = accounts["handle"].map(normalise_handle, na_action="ignore")
    bare = handle.fillna("").astype(str)
    tagged = accounts["platform"].astype(str) + ":" + bare
    org = {f"{platform}:{h}" for platform, names in context.settings.organisation_accounts.items() for h in names}
    organisation = ((bare != "") & tagged.isin(org)) | ((bare == "") if own_page else False)
    employee = tagged.map(context.handles).fillna(bare.map(context.handles))
    employee = employee.where(~organisation)
    unattributed = ~organisation & employee.isna()
    keys = {t: pseudonym(f"account:{t}", context.key) for t in tagged[unattributed & (bare != "")].unique()}
    account_type = np.where(organisation, "organization", np.where(unattributed, "unattributed", "employee"))
    account_key = employee.mask(organisation, "org:" + accounts["platform"].astype(str))
    account_key = account_key.mask(unattributed, tagged.map(keys))
    departments = _employee_departments(context.con)
    attributed = pd.DataFrame({
        "account_type": pd.Series(account_type, index=accounts.index, dtype="string"),
        "account_key": account_key.astype("string"),
        "author_key": employee.astype("string"),
    })
    attributed["department"] = attributed["author_key"].map(departments).astype("string")
    for column in attributed.columns:
        frame[column] = pd.Series(attributed[column].array.take(rows), index=frame.index)
    bare = pd.Series(bare.to_numpy(dtype=object)[rows], index=frame.index)
    ids = frame["post_id"].astype("string").str.strip()
    missing = (ids.isna() | (ids == "")).to_numpy()
    uids = (frame["platform"].astype(str) + ":" + ids.fillna("")).to_numpy(dtype=object)
    if missing.any():
        # (lists, not the columns: iterating a column makes a Python object per cell through pandas)
        texts = ["" if pd.isna(text) else str(text) for text in frame["text"].to_numpy(dtype=object)[missing]]
        made = [_content_uid(platform, h, published, text)
                for platform, h, published, text in zip(frame["platform"].to_numpy(dtype=object)[missing].tolist(),
                                                        bare.to_numpy(dtype=object)[missing].tolist(),
                                                        _isoformats(frame["published_at"][missing]), texts,
                                                        strict=True)]
        uids[missing] = made
        frame.loc[missing, "post_id"] = [uid.split(":", 1)[1] for uid in made]
    frame["post_uid"] = pd.Series(uids, index=frame.index, dtype="string")
    if "metrics_as_of" not in frame or frame["metrics_as_of"].isna().all():
        frame["metrics_as_of"] = frame["published_at"].max()
    frame["metrics_as_of"] = frame["metrics_as_of"].fillna(frame["published_at"].max())
    for column in ("is_share",):
        frame[column] = frame[column].fillna(False).astype(bool) if column in frame else False
    for column in ("impressions", "reach", "reactions", "comments", "shares", "clicks", "saves", "video_views"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64") if column in frame else np.nan
    frame["text"] = frame["text"].astype("string")
    return frame.drop(columns=["handle"])


def _distinct_rows(frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """The distinct rows of ``frame`` (first occurrences, index reset) and, for each row of ``frame``,
    the position of its distinct row."""
    codes = np.zeros(len(frame), dtype=np.int64)
    for column in frame.columns:
        column_codes, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        codes = codes * (len(uniques) + 1) + column_codes
    _, first, rows = np.unique(codes, return_index=True, return_inverse=True)
    return rows.reshape(-1), frame.iloc[first].reset_index(drop=True)


def _post_uids_by_url(con: duckdb.DuckDBPyConnection, urls: pd.Series) -> pd.Series:
    """The ``post_uid`` of the post at each (scrubbed) URL; of several posts at one URL, the last stored.

    Only the URLs asked for are looked up: reading every post's URL costs seconds at a million posts.
    """
    wanted = pd.DataFrame({"url": pd.unique(urls.dropna().astype(str).to_numpy())})
    if wanted.empty:
        return pd.Series(np.nan, index=urls.index, dtype="str")
    with con.cursor() as cursor:  # its own connection: the caller's may hold an unfinished result
        cursor.register("_urls", wanted)
        found = dict(cursor.execute("SELECT url, arg_max(post_uid, p.rowid) FROM posts p JOIN _urls USING (url) "
                                    "GROUP BY url").fetchall())
    return urls.map(found).astype("str")  # a map that finds nothing would give floats


def _employee_departments(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT employee_key, department FROM employees").fetchall())


def _audience_comments(context: _Context, staged: pd.DataFrame, result: FileResult) -> pd.DataFrame:
    frame = staged.copy()
    frame["platform"] = frame["platform"].map(_platform)
    frame["comment_uid"] = (frame["platform"] + ":" + frame["comment_id"].astype(str).str.strip()).astype("string")
    post_ids = frame["post_id"].astype("string").str.strip()
    frame["post_uid"] = (frame["platform"] + ":" + post_ids).where(post_ids.notna() & (post_ids != ""))
    missing = frame["post_uid"].isna() & frame["post_url"].notna()
    if missing.any():
        scrubbed = context.scrubber.scrub_series(frame.loc[missing, "post_url"])
        frame.loc[missing, "post_uid"] = _post_uids_by_url(context.con, scrubbed)
    frame["post_uid"] = frame["post_uid"].astype("string")
    frame["text"] = frame["text"].astype("string")
    return frame


def quarter_wave(submitted: pd.Series, timezone: str, periods: Sequence[config.SurveyPeriod] = ()) -> pd.Series:
    """The survey wave: the configured period containing the date, else its calendar quarter
    (cut in the organisation's time zone).

    >>> quarter_wave(pd.Series(pd.to_datetime(["2026-06-30 23:30"], utc=True)), "Europe/London").tolist()
    ['2026-Q3']
    """
    waves = period_labels(local_months(submitted, timezone), "quarter").astype("string")
    day = submitted.dt.tz_convert(timezone).dt.date if periods else None
    for period in periods:
        inside = (day >= period.start) & (day <= period.end)
        waves = waves.mask(inside.fillna(False), period.wave)
    return waves.astype("string")


def _surveys(context: _Context, tables: dict[str, pd.DataFrame], result: FileResult) -> dict[str, pd.DataFrame]:
    respondents = tables["respondents"].copy()
    when = respondents["submitted_at"].fillna(respondents.get("started_at"))
    respondents["wave"] = quarter_wave(when, context.settings.timezone, context.settings.survey_periods)
    email = respondents.get("email")
    if context.settings.link_surveys_to_employees and email is not None:
        respondents["respondent_key"] = email.map(lambda e: pseudonym(str(e), context.key), na_action="ignore")
    else:
        respondents["respondent_key"] = pd.Series(pd.NA, index=respondents.index, dtype="string")
    respondents = respondents.drop(columns=[c for c in ("email", "name") if c in respondents])
    respondents["response_id"] = respondents["response_id"].astype("string")
    respondents["finished"] = respondents["finished"].fillna(False).astype(bool)
    out = {"respondents": respondents}
    for name in ("survey_answers", "survey_comments"):
        frame = tables.get(name, pd.DataFrame(columns=["response_id", "item_id", "source_row"])).copy()
        frame["response_id"] = frame["response_id"].astype("string")
        frame["item_id"] = frame["item_id"].astype("string")
        if name == "survey_answers":
            frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
            frame["mapped"] = frame["mapped"].fillna(False).astype(bool)
        else:
            frame["text"] = frame["text"].astype("string")
        out[name] = frame
    return out


def _incidents(context: _Context, staged: pd.DataFrame) -> pd.DataFrame:
    frame = staged.copy()
    frame["employee_key"] = frame["email"].map(lambda e: pseudonym(str(e), context.key), na_action="ignore")
    departments = _employee_departments(context.con)
    frame["department"] = frame["department"].fillna(frame["employee_key"].map(departments))
    frame["post_url"] = context.scrubber.scrub_series(frame["post_url"]) if "post_url" in frame else pd.NA
    frame["post_uid"] = _post_uids_by_url(context.con, frame["post_url"]).astype("string")
    for column in ("area", "severity", "detection", "incident_id"):
        frame[column] = frame[column].astype("string")
    return frame.drop(columns=["email"])


def _trainings(context: _Context, staged: pd.DataFrame) -> pd.DataFrame:
    frame = staged.copy()
    frame["employee_key"] = frame["email"].map(lambda e: pseudonym(str(e), context.key)).astype("string")
    frame["module"] = frame["module"].astype("string")
    return frame.drop(columns=["email"])


def _policy_versions(staged: pd.DataFrame, timezone: str) -> pd.DataFrame:
    frame = staged.copy()
    frame["effective_on"] = _local_dates(frame["effective_on"], timezone)
    frame["version"] = frame["version"].astype("string")
    frame["summary"] = frame["summary"].astype("string")
    return frame


def _drop_orphans(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Answers and comments of a rejected respondent go with it (the reject row explains why)."""
    kept = set(frames["respondents"]["response_id"])
    for name in ("survey_answers", "survey_comments"):
        if name in frames:
            frames[name] = frames[name][frames[name]["response_id"].isin(kept)]
    return frames


_IDENTITY_COLUMNS = {
    "posts": ["post_uid"], "audience_comments": ["comment_uid"], "respondents": ["response_id"],
    "incidents": ["incident_id"], "policy_versions": ["version"], "employees": ["employee_key"],
    "recognition_names": ["employee_key"],
    "trainings": ["employee_key", "module", "completed_at"],
}


def _deduplicate(frames: dict[str, pd.DataFrame], rejects: list[Reject]) -> dict[str, pd.DataFrame]:
    """A record repeated inside one file is loaded once; the repeats are rejected with the row they repeat."""
    for name, keys in _IDENTITY_COLUMNS.items():
        frame = frames.get(name)
        if frame is None or frame.empty or "source_row" not in frame:
            continue
        repeated = frame.duplicated(subset=keys, keep="last")
        if repeated.any():
            last_row = frame.drop_duplicates(subset=keys, keep="last").set_index(keys)["source_row"]
            for _, row in frame[repeated].iterrows():
                key = tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]
                rejects.append(Reject(int(row["source_row"]), _row_text(row),
                                      f"duplicate record: the same {'/'.join(keys)} appears again in row "
                                      f"{int(last_row.loc[key])}, which was loaded"))
            frames[name] = frame[~repeated]
    return frames


# --- loading --------------------------------------------------------------------------------------

def _pause_for_tests(loaded_so_far: int) -> None:
    limit = os.environ.get(PAUSE_ENV)
    if limit and loaded_so_far >= int(limit):
        print(f"PAUSED after {loaded_so_far} rows", file=sys.stderr, flush=True)
        time.sleep(3600)


def _load(context: _Context, frames: dict[str, pd.DataFrame], result: FileResult) -> None:
    con = context.con
    sha = result.sha256
    loaded_rows = 0
    primary = next(iter(frames), None)
    for name, frame in frames.items():
        result.tables[name] = (len(frame), len(frame), 0)
        # a header-only export has nothing to load, and its empty frame's all-NaT columns carry no time
        # zone: comparing them with the table's would abort the transaction
        if name.startswith("vault:") or frame.empty:
            continue
        frame = frame.assign(source_file_sha256=sha)
        loaded, replaced = None, 0
        with warehouse.registered(con, "_keys", frame):
            if name == "posts":
                # the same post in a later export updates its metrics: the latest metrics_as_of wins
                replaced = con.execute("""DELETE FROM posts WHERE post_uid IN (
                    SELECT k.post_uid FROM _keys k JOIN posts p USING (post_uid)
                    WHERE k.metrics_as_of >= p.metrics_as_of)""").fetchone()[0]
                # inserted straight from the registered frame: no second copy of a big export in memory. The
                # stored posts it may meet are found by an inner join first: that one filters the scan of every
                # stored post by the file's keys (a Bloom filter), where the anti join would probe them all
                names = ", ".join(c for c in warehouse.TABLE_COLUMNS["posts"] if c in frame.columns)
                loaded = con.execute(f"INSERT INTO posts ({names}) SELECT {names} FROM _keys k WHERE NOT EXISTS "
                                     "(SELECT 1 FROM posts p JOIN _keys USING (post_uid) WHERE p.post_uid = k.post_uid)"
                                     ).fetchone()[0]
                result.rows_outdated += len(frame) - loaded
            elif name in ("respondents", "survey_answers", "survey_comments"):
                replaced = con.execute(
                    f"DELETE FROM {name} WHERE response_id IN (SELECT DISTINCT response_id FROM _keys)").fetchone()[0]
            elif name in _IDENTITY_COLUMNS:
                keys = _IDENTITY_COLUMNS[name]
                condition = " AND ".join(f"t.{k} = k.{k}" for k in keys)
                replaced = con.execute(
                    f"DELETE FROM {name} t WHERE EXISTS (SELECT 1 FROM _keys k WHERE {condition})").fetchone()[0]
            if name == primary:
                result.rows_replacing += replaced
            if name == "employees":
                con.execute("DELETE FROM recognition_names WHERE employee_key IN (SELECT employee_key FROM _keys)")
        loaded_rows += warehouse.insert_frame(con, name, frame) if loaded is None else loaded
        _pause_for_tests(loaded_rows)


def _write_rejects(con, rejects: list[Reject], result: FileResult, scrubber: Scrubber) -> None:
    if not rejects:
        return
    frame = pd.DataFrame({
        "file_sha256": result.sha256,
        "file_name": scrubber.scrub(result.path.name),
        "source_row": [r.source_row for r in rejects],
        "raw_redacted": scrubber.scrub_series(pd.Series([r.raw[:2000] for r in rejects], dtype="string")),
        "reason": [r.reason for r in rejects],
    })
    warehouse.insert_frame(con, "rejects", frame)


def _write_log(con, result: FileResult, context: _Context, started: datetime, finished: datetime) -> None:
    tables = result.tables or {"(none)": (0, 0, 0)}
    primary = next(iter(tables))
    rows = []
    for name, (read, loaded, _) in tables.items():
        rejected = result.rows_rejected if name == primary else 0
        rows.append({
            "file_sha256": result.sha256, "file_name": context.scrubber.scrub(result.path.name),
            "format": result.format, "table_name": name,
            "rows_read": result.rows_read if name == primary else read,
            "rows_loaded": result.rows_loaded if name == primary else loaded,
            "rows_rejected": rejected, "key_fingerprint": key_fingerprint(context.key),
            "started_at": started, "finished_at": finished, "tool_version": __version__,
        })
    warehouse.insert_frame(con, "ingest_log", pd.DataFrame(rows))
