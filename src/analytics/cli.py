"""The ``policy-pulse`` command: every user-facing action, with errors a person can act on."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from analytics import config, parallel, snapshots

if TYPE_CHECKING:  # the heavy libraries are imported by the commands that need them
    import duckdb

    from analytics.build import PostsAsBuilt
    from analytics.ingest import FileResult

__all__ = ["main", "run"]


class UserError(Exception):
    """An error shown as one clear message (no traceback) with exit code 2."""


def _port(text: str) -> int:
    """A TCP port number, for argparse: anything else is a usage error that names the range."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port; give a number from 1 to 65535, such as 8866")
    return int(text)


def _add_warehouse(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", metavar="FILE", default=None,
                        help="warehouse file (default: $POLICY_PULSE_WAREHOUSE or data/warehouse.duckdb)")


def _cmd_sample_data(args: argparse.Namespace) -> int:
    from analytics import sample

    out = Path(args.out)
    truth = sample.generate(out, seed=args.seed, employees=args.employees, months=args.months, scale=args.scale,
                            progress=lambda message: print(f"[sample] {message}", file=sys.stderr, flush=True))
    files = truth.get("files", {})
    print(f"Wrote {len(files)} export files for {args.employees} employees over {args.months} months to {out}/ "
          f"(planted effects in {out / 'truth.json'}).")
    return 0


class _NoBar:
    """What tqdm draws on a stream that is not a terminal: nothing (and tqdm is not imported for it)."""

    def update(self, _count: int) -> None:
        pass

    def close(self) -> None:
        pass


def _cmd_ingest(args: argparse.Namespace) -> int:
    failed = _ingest(args)
    if not args.dry_run:
        _print_summary(args.warehouse)
    return 1 if failed else 0


def _cmd_update(args: argparse.Namespace, *, checked_ahead: Callable[[], PostsAsBuilt | None] | None = None) -> int:
    """Ingest, then build, in one process: what ``ingest`` and ``build`` do one after the other, without
    starting Python and loading the libraries twice. Files that failed leave the warehouse unchanged for
    them; the others are built on.

    The warehouse stays open from the ingest to the build (no other writer between them, one checkpoint),
    and the build's check that the posts it built last are untouched runs on a thread while the ingest
    reads its files (the ingest deletes and appends posts, never edits one: see :func:`build.build`) —
    unless ``checked_ahead``, called once the warehouse is open, gives it (``watch`` checks while it waits:
    :class:`analytics.watch.PostsCheckedAhead`)."""
    from analytics import warehouse

    try:
        con = warehouse.connect(args.warehouse)
    except (warehouse.WarehouseBusy, warehouse.WarehouseUnreadable) as error:
        raise UserError(str(error)) from error
    failed, checked = _ingest_checking_posts(args, con, checked_ahead() if checked_ahead is not None else None)
    _cmd_build(args, connection=con, checked=checked)
    return 1 if failed else 0


def _ingest_checking_posts(args: argparse.Namespace, con: duckdb.DuckDBPyConnection,
                           checked: PostsAsBuilt | None) -> tuple[int, PostsAsBuilt]:
    """:func:`_ingest`, and meanwhile, on a thread, :func:`build.posts_as_built` of the open warehouse ``con``
    unless it was ``checked`` already; ``con`` is closed if the ingest fails."""
    from concurrent.futures import ThreadPoolExecutor, wait

    from analytics import parallel

    cursor = con.cursor() if checked is None else None
    with ThreadPoolExecutor(1, thread_name_prefix="posts-check") as pool:
        check = pool.submit(_posts_as_built, cursor) if cursor is not None else parallel.done(checked)
        try:
            # the check is usually done during the ingest; its cursor is closed once it is
            return _ingest(args), check.result()
        except BaseException:
            with contextlib.suppress(Exception):  # a cursor closed already: its check is done
                if cursor is not None:
                    cursor.interrupt()
            wait([check])
            con.close()
            raise


def _posts_as_built(cursor: duckdb.DuckDBPyConnection) -> PostsAsBuilt:
    from analytics import build

    try:
        return build.posts_as_built(cursor)
    finally:
        cursor.close()  # else the database would stay open in this process past the build's publication


def _cmd_watch(args: argparse.Namespace) -> int:
    """``update`` for every export saved to a folder, from a process that stays: see :mod:`analytics.watch`."""
    from analytics import watch

    folder, target = Path(args.folder), config.warehouse_path(args.warehouse)
    try:
        watch.check_arguments(folder, args.every)
    except ValueError as error:
        raise UserError(str(error)) from error
    # stopped by a service manager (SIGTERM) as by Ctrl-C: the update in progress is rolled back, the copy
    # made ahead abandoned
    interruption = watch.Interruption()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, interruption)

    updating = False  # whether an interruption now stops an update (rolled back) or only the watch
    checked = None  # the posts' check for the next update, made while waiting

    def update(paths: list[Path]) -> bool:
        nonlocal updating, checked
        started, updating = time.perf_counter(), True
        try:
            checked.wait()
            _cmd_update(argparse.Namespace(paths=[str(path) for path in paths], warehouse=args.warehouse,
                                           dry_run=False), checked_ahead=checked.result)
            done, failed = True, False
        except UserError as error:  # e.g. busy: said, and tried again at the next look
            print(f"error: {error}", file=sys.stderr, flush=True)
            done = False
        except Exception as error:  # one export's failure must not stop the watch: said, then on
            print(f"error: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            done, failed = True, True
        updating = False
        if done:
            # the next write's copy of the warehouse, and the check of its posts, made now, while nothing waits
            snapshots.prepare(target)
            seconds = time.perf_counter() - started
            # a failed update is not said to be done: its error is above, and it is not tried again unchanged
            print(f"update failed after {seconds:.2f} s (see the error); watching {folder}" if failed else
                  f"updated in {seconds:.2f} s; watching {folder}", flush=True)
        checked = watch.PostsCheckedAhead(target)
        return done

    with watch.workers_kept():
        try:
            watch.warm_up(target)
        except ValueError as error:  # e.g. no identity vault for the warehouse: what every update would say
            raise UserError(str(error)) from error
        checked = watch.PostsCheckedAhead(target)
        print(f"watching {folder} every {args.every:g} s for new exports (Ctrl-C stops)", flush=True)
        try:
            # the folder may be data/, with the warehouse, the configuration and the sample in it
            watch.watch(folder, every=args.every, update=update, stop=interruption.stop,
                        ignore=snapshots.own_files(target) | config.configuration_files())
        except KeyboardInterrupt:
            if updating:
                raise  # said as for any command: the update in progress is rolled back
        finally:
            checked.wait()  # its connection closed before the process ends (a fraction of a second)
    # interrupted while waiting, or (the interruption lost) at the next look
    print(f"interrupted; stopped watching {folder} (no update was in progress).", file=sys.stderr)
    return 130


def _ingest(args: argparse.Namespace) -> int:
    """Ingest ``args.paths`` and print one line per file; returns the number of files that failed."""
    from analytics import ingest, warehouse
    from analytics.insights import format_count

    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=None, unit="file", file=sys.stderr, desc="ingest")
    else:
        bar = _NoBar()
    results = []

    def progress(result: ingest.FileResult) -> None:
        results.append(result)
        bar.update(1)

    try:
        ingest.ingest_paths(args.paths, warehouse_file=args.warehouse, dry_run=args.dry_run, progress=progress)
    except (ingest.IngestError, warehouse.WarehouseBusy, warehouse.WarehouseUnreadable, ValueError) as error:
        raise UserError(str(error)) from error
    finally:
        bar.close()
    width = max([len(r.path.name) for r in results] + [4])
    print(f"{'file':<{width}}  {'format':<18} {'status':<8} {'read':>7} {'loaded':>7} {'rejected':>8}  tables")
    for r in results:
        tables = ", ".join(t for t in r.tables if not t.startswith("vault:")) or ("vault" if r.tables else "")
        print(f"{r.path.name:<{width}}  {r.format or '?':<18} {r.status:<8} {r.rows_read:>7} {r.rows_loaded:>7} "
              f"{r.rows_rejected:>8}  {tables}")
    failed = [r for r in results if r.status == "failed"]
    for r in failed:
        print(f"error: {r.message}", file=sys.stderr)
    for r in results:
        if r.status == "loaded" and (r.rows_replacing or r.rows_outdated):
            print(f"{r.path.name}: {_replacements(r)}")
        if r.status in ("dry-run", "skipped") and r.message:
            print(f"{r.path.name}: {r.status}, {r.message}" if r.status == "skipped" else f"{r.path.name}: {r.message}")
    totals = sum(r.rows_read for r in results), sum(r.rows_loaded for r in results)
    rejected = sum(r.rows_rejected for r in results)
    where = (" (a dry run: nothing written)" if args.dry_run else " (see the rejects table)" if rejected else "")
    print(f"{format_count(len(results), 'file')}: {format_count(totals[0], 'row')} read, {totals[1]:,} loaded, "
          f"{rejected:,} rejected{where}, {len(failed)} failed.")
    return len(failed)


def _replacements(result: FileResult) -> str:
    """Why a loaded file's rows need not add as many to its table: they are later versions of stored records."""
    from analytics.insights import format_count

    parts = []
    if result.rows_replacing:
        parts.append(f"{format_count(result.rows_replacing, 'row')} took the place of the same record loaded before")
    if result.rows_outdated:
        parts.append(f"{format_count(result.rows_outdated, 'post')} older than the stored version "
                     "(metrics as of an earlier date) left the stored one as it was")
    return "; ".join(parts) + "."


def _print_summary(warehouse_file: str | None) -> None:
    from analytics import warehouse

    with warehouse.read_only(warehouse_file, snapshot=False) as con:
        counts = warehouse.row_counts(con)
    print(f"\nWarehouse {config.warehouse_path(warehouse_file)}:")
    for row in counts.itertuples(index=False):
        print(f"  {row.table:<20} {row.rows:>9}")


def _cmd_summary(args: argparse.Namespace) -> int:
    _print_summary(args.warehouse)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from analytics import export

    try:
        out = export.export_table(args.table, warehouse_file=args.warehouse, fmt=args.format, out=args.out)
    except ValueError as error:  # not a table of the warehouse: the message lists them
        raise UserError(str(error)) from error
    print(f"Wrote {args.table} to {out}")
    return 0


def _cmd_codebook(args: argparse.Namespace) -> int:
    from analytics import codebook, sources
    from analytics.sources.base import ReadContext, SourceError

    settings = config.get_settings()
    context = ReadContext(timezone=settings.timezone, dayfirst=settings.dayfirst, codebook=codebook.load_codebook())
    answers, no_survey = [], []
    for name in args.files:
        try:
            fmt, read = sources.detect(Path(name))
            parsed = read(Path(name), context)
        except SourceError as error:
            raise UserError(str(error)) from error
        if "survey_answers" in parsed.tables:
            answers.append(parsed.tables["survey_answers"])
        else:
            no_survey.append(f"{Path(name).name} ({fmt})")
    if no_survey:  # "every question is in the codebook" would be true of them, and no help
        print(f"Not survey exports, so no questions to look up: {', '.join(no_survey)}.", file=sys.stderr)
        if not answers:
            return 2
    unmapped = codebook.unmapped_questions(answers)
    if unmapped.empty:
        print("Every question of these files is in the codebook.")
        return 0
    print(f"# {len(unmapped)} question(s) not in {config.CODEBOOK_PATH.name}; paste and complete these stubs:")
    print(codebook.codebook_stubs(zip(unmapped["item_id"], unmapped["question"], strict=True)))
    return 0


def _cmd_build(args: argparse.Namespace, *, connection: duckdb.DuckDBPyConnection | None = None,
               checked: PostsAsBuilt | None = None) -> int:
    """``build``; ``connection`` and ``checked``: see :func:`build.build`."""
    from analytics import build, warehouse

    started = time.perf_counter()

    def progress(step: str) -> None:
        # the clock beside each step shows where a slow build spends its time
        print(f"[build {time.perf_counter() - started:6.1f} s] {step}…", file=sys.stderr, flush=True)

    try:
        summary = build.build(warehouse_file=args.warehouse, progress=progress, connection=connection,
                              checked=checked)
    # TimeoutError: committed, not published
    except (warehouse.WarehouseBusy, warehouse.WarehouseUnreadable, TimeoutError) as error:
        raise UserError(str(error)) from error
    print(summary)
    return 0


def _cmd_forget(args: argparse.Namespace) -> int:
    from analytics import erasure

    try:
        removed = erasure.forget_person(args.email, warehouse_file=args.warehouse)
    except (ValueError, TimeoutError) as error:  # TimeoutError: committed, not published
        raise UserError(str(error)) from error
    touched = removed[removed["rows_removed"] > 0]
    if touched.empty:
        print("Nothing of that person was in the warehouse.")
    else:
        print("Removed:")
        for row in touched.itertuples(index=False):
            print(f"  {row.table:<45} {row.rows_removed:>7}")
    vaults = removed.loc[removed["table"] == "identity vault", "rows_removed"].sum()
    if vaults > 1:
        # every vault of the key forgets them (a copy of the warehouse has its own), but only this warehouse's
        # rows went: the others keep them, and, their identity gone, would keep their name in new exports in clear
        print(f"Note: {vaults - 1} other warehouse(s) of this key (copies, backups, tests) had them in their "
              "identity vault too, now forgotten there; their rows in those warehouses stay until you run "
              "`policy-pulse forget --email ... --warehouse FILE` on each. Until then, exports loaded into one "
              "of them keep that person's name and address in clear text.", file=sys.stderr)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from analytics import adherence, themes

    if args.themes:
        labelled = pd.read_csv(args.file or config.PROJECT_ROOT / "tests" / "data" / "themes_eval.csv",
                               keep_default_na=False)
        scores = themes.evaluate_themes(labelled).rename(columns={"theme": "rule_id"})
    else:
        labelled = pd.read_csv(args.file or config.PROJECT_ROOT / "tests" / "data" / "adherence_eval.csv",
                               keep_default_na=False)
        donors = pd.read_csv(args.donors)["name"].tolist() if args.donors else ()
        scores = adherence.evaluate_rules(labelled, donors=donors)
    print(adherence.format_evaluation(scores))
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from analytics import serve

    minutes = args.abandoned_after
    if minutes <= 0:
        raise UserError(f"--abandoned-after {minutes:g}: give minutes above 0 (default 15).")
    serve.serve(config.warehouse_path(args.warehouse), port=args.port,
                abandoned_kernel_seconds=max(1, round(minutes * 60)))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from analytics import report
    from analytics.periods import parse_period

    latest = not (args.period or args.date_from or args.date_to)
    try:
        if latest:
            from analytics import datasets

            period = datasets.latest_quarter(warehouse_file=args.warehouse)
        else:
            period = parse_period(args.period, start=args.date_from, end=args.date_to)
        previous = parse_period(args.previous) if args.previous else period.previous()
    except ValueError as error:
        raise UserError(str(error)) from error
    try:
        result = report.build_report(period=period, previous=previous, warehouse_file=args.warehouse, out=args.out,
                                     pdf=not args.no_pdf)
    except report.UnreportablePeriod as error:
        raise UserError(str(error)) from error
    chosen = f"{period.label}, the latest quarter with posts" if latest else period.label
    print(f"Report for {chosen} (against {previous.label}): {result.html_path}")
    if result.pdf_path:
        print(f"PDF: {result.pdf_path}")
    elif not args.no_pdf:
        print("PDF: not written (no Chromium found; install Debian's chromium to print one)")
    return 0


def _says_what_to_do(error: Exception) -> bool:
    """Whether ``error`` is one of the warehouse's own, whose message says what to run (any command
    reading the warehouse may raise them): shown as it is, like a :class:`UserError`."""
    from analytics import warehouse

    return isinstance(error, (warehouse.WarehouseMissing, warehouse.WarehouseBusy))


#: The commands that write the warehouse.
_WRITERS = (_cmd_ingest, _cmd_build, _cmd_update, _cmd_watch, _cmd_forget)
#: The writers that make a warehouse where there is none (build and forget refuse to).
_MAKERS = (_cmd_ingest, _cmd_update, _cmd_watch)


def _will_write(args: argparse.Namespace) -> bool:
    """Whether the command will write the warehouse, as far as a cheap look tells: a mistyped export
    path fails the command before it writes, and is not worth a copy of the warehouse."""
    if args.func not in _WRITERS or getattr(args, "dry_run", False):
        return False
    return all(os.path.exists(path) for path in getattr(args, "paths", ()))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policy-pulse", description="Does our social-media policy work?")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample-data", help="write a realistic sample organisation's raw exports")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--employees", type=int, default=250)
    p.add_argument("--months", type=int, default=24)
    p.add_argument("--scale", type=float, default=0.5,
                   help="post and comment volume multiplier (0.5 = the committed data/sample; 28 ≈ a million rows)")
    p.set_defaults(func=_cmd_sample_data)

    p = sub.add_parser("ingest", help="load export files (or folders) into the warehouse")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--dry-run", action="store_true", help="read and validate, write nothing")
    _add_warehouse(p)
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("build", help="derive sentiment, findings, scores and metrics (incremental)")
    _add_warehouse(p)
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("update", help="ingest new export files (or folders), then build: `ingest` and `build` "
                                      "in one command")
    p.add_argument("paths", nargs="+", metavar="PATH")
    _add_warehouse(p)
    p.set_defaults(func=_cmd_update, dry_run=False)

    p = sub.add_parser("watch", help="keep updating as exports are saved to a folder: `update` each new export "
                                     "from a process that stays loaded (Ctrl-C stops)")
    p.add_argument("folder", metavar="FOLDER")
    p.add_argument("--every", type=float, default=2.0, metavar="SECONDS",
                   help="how often to look (default 2); on Linux also at once when a file is moved or written in")
    _add_warehouse(p)
    p.set_defaults(func=_cmd_watch)

    p = sub.add_parser("forget", help="remove one person's rows everywhere (erasure request)")
    p.add_argument("--email", required=True)
    _add_warehouse(p)
    p.set_defaults(func=_cmd_forget)

    p = sub.add_parser("evaluate", help="precision and recall of each policy rule (or content theme) on a labelled set")
    p.add_argument("--themes", action="store_true", help="evaluate the content themes instead of the policy rules")
    p.add_argument("--file", default=None, help="labelled CSV (default: the committed evaluation set)")
    p.add_argument("--donors", default=str(config.PROJECT_ROOT / "tests" / "data" / "adherence_eval_donors.csv"))
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("dashboard", help="serve the Voila dashboards on 127.0.0.1")
    p.add_argument("--port", type=_port, default=8866)
    p.add_argument("--abandoned-after", type=float, default=15, metavar="MINUTES",
                   help="shut a viewer's kernel down once it has been idle this long with no page open on it "
                        "(a browser killed, a laptop closed); default 15")
    _add_warehouse(p)
    p.set_defaults(func=_cmd_dashboard)

    p = sub.add_parser("report", help="write the committee trend report (HTML, and PDF when Chromium is present)")
    p.add_argument("--period", help="YYYY-Qn or YYYY-MM (or give --from and --to); default: the latest quarter "
                                    "with posts")
    p.add_argument("--from", dest="date_from", metavar="DATE")
    p.add_argument("--to", dest="date_to", metavar="DATE")
    p.add_argument("--previous", help="the period to compare with (default: the preceding one of equal length)")
    p.add_argument("--out", metavar="FILE", default=None)
    p.add_argument("--no-pdf", action="store_true", help="write the HTML only")
    _add_warehouse(p)
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("summary", help="row counts of every warehouse table")
    _add_warehouse(p)
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("export", help="write a table as CSV or Parquet (formula-injection safe)")
    p.add_argument("table", help="a warehouse table (`policy-pulse summary` lists them), such as posts or "
                                 "monthly_metrics")
    p.add_argument("--format", choices=("csv", "parquet"), default=None,
                   help="default: what --out's ending says (.parquet, .pq), else csv")
    p.add_argument("--out", metavar="FILE", default=None,
                   help="a file, or a folder to write TABLE.csv in (default: the project's exports/)")
    _add_warehouse(p)
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("codebook", help="list survey questions the codebook does not map, as YAML stubs")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=_cmd_codebook)
    return parser


class _Output:
    """Standard output that, once its reader has gone (``policy-pulse update … | head -1``), is thrown away
    instead of stopping the command with a BrokenPipeError: the work it started (the build after the ingest)
    is finished, and its exit status is its own."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self) -> None:
        # what is still buffered, and Python's own flush at exit, then go nowhere, quietly
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    output, sys.stdout = sys.stdout, _Output(sys.stdout)
    try:
        return _main(argv)
    finally:
        sys.stdout.flush()
        sys.stdout = output


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    parallel.one_blas_thread()  # before numpy is imported: the commands parallelise by processes
    parallel.numpy_on_small_pages()
    try:
        if _will_write(args):
            target = config.warehouse_path(args.warehouse)
            if args.func in _MAKERS and not target.exists():  # a mistyped --warehouse would pass unseen
                print(f"No warehouse at {target} yet: a new one is made there.", file=sys.stderr)
            # the warehouse's copy on write (when its file is the published snapshot) runs on another core
            # while this process imports pandas and DuckDB
            snapshots.prepare(target)
        return int(args.func(args) or 0)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the warehouse is unchanged for the file in progress.", file=sys.stderr)
        return 130
    except Exception as error:  # the last line of defence: a clear message, the traceback only on request
        if os.environ.get("POLICY_PULSE_DEBUG"):
            raise
        if _says_what_to_do(error):
            print(f"error: {error}", file=sys.stderr)
            return 2
        if isinstance(error, FileNotFoundError) and error.filename:  # a file the command was given
            print(f"error: {error.filename}: no such file.", file=sys.stderr)
            return 2
        print(f"error: {type(error).__name__}: {error}\n(set POLICY_PULSE_DEBUG=1 for details)", file=sys.stderr)
        return 2
    finally:
        snapshots.abandon()  # a copy no writer used: the command ends now, not once it is done


def run() -> NoReturn:
    """The ``policy-pulse`` program: :func:`main`, then the process ends as soon as the command's work is done.

    What the interpreter's exit does that matters is done first: threads that are not daemons joined (the
    interpreter's own hooks stop the pools' threads), the exit hooks run (worker processes stopped, temporary
    files removed), the output flushed. Tearing the interpreter down, object by object, is skipped: it added
    0.2-0.4 s on average to a one-shot update of 1 % new posts, 8-12 % of it (alternated pairs,
    ``benchmarks/HISTORY.md``).
    Under a profiler or a tracer (``python -m cProfile``, coverage) the interpreter ends as usual, so that
    they write what they measured.
    """
    code = main()
    # what the interpreter calls first at exit (it runs the pools' own exit hooks); private, so looked for
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is None or _observed():
        sys.exit(code)
    shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(code)


def _observed() -> bool:
    """Whether a profiler or a tracer watches this process (they write their results as the interpreter ends)."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return True
    monitoring = getattr(sys, "monitoring", None)  # Python 3.12's tools (coverage uses it there)
    return monitoring is not None and any(monitoring.get_tool(tool) is not None for tool in range(6))


if __name__ == "__main__":
    run()
