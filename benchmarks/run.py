"""Performance at scale: the pipeline against the naive way, and the numbers it must reach.

Run: ``.venv/bin/python benchmarks/run.py [--posts N] [--answers N] [--quick] [--json]``

Generates a sample organisation with the sample generator at the requested scale (default
1,000,000 posts + comments and 100,000 survey answers), then measures, in one run:

* full ``policy-pulse ingest`` + ``policy-pulse build`` wall time, CPU time and peak memory -- each
  leg in its own process (peak RSS of the process tree, sampled, and the kernel's ``ru_maxrss``), twice;
* the same work done the naive way (``benchmarks/naive.py``: pandas + per-text ``vaderSentiment``
  in one process, recomputed from the raw exports), twice, and the ratio;
* an incremental run after adding 1 % new posts (drawn from every month), as a fraction of the full
  one: ``policy-pulse update`` (ingest then build in one process, the command for new exports) and a
  running ``policy-pulse watch`` (from the increment's arrival in the folder it looks at), each three
  times on a fresh copy of the warehouse (the median, and the range), and ``ingest`` then ``build`` on
  the warehouse itself; and, for information, another 1 % all dated in the newest month (a monthly
  export);
* sentiment throughput of ``analytics.sentiment.score_texts`` against the reference package: per
  CPU-second on a sample of 50,000 distinct stored texts, and per wall second over every distinct
  stored text the way the build scores them (all cores, worker start-up included) beside the
  reference's rate on one core; and the largest absolute difference in ``compound`` between our
  VADER and the reference over the sample;
* dashboard first render: request to the leadership dashboard's charts drawn in headless Chromium
  (preheated kernels, the served configuration) over the large warehouse, beside a one-chart Voila
  notebook served the same way in the same run; each the median of five page loads, each on a kernel
  the pool has just preheated. A chart of the dashboard's static first screen (``analytics.firstpaint``)
  counts as drawn; the table also gives when the first chart is in the live page (widgets answering).

The machine may be shared: absolute times move with its load and its speed, so compare ratios measured in
the same run. The full run and the naive way are each measured twice, in the order naive way, full run,
the increments, full run, naive way: a steady drift of the machine's speed then weighs on both sides of
each ratio alike; the targets are judged on the means (the table shows each run), the increments against
the mean of the full runs before and after them (the table prints the load average, the time the host
took, the seconds of a fixed one-core loop before each stage and at the end, and CPU seconds beside wall
seconds).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import functools
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
GB = 1024**3
#: Page loads per notebook for the dashboard timing (the median is reported).
DASHBOARD_ROUNDS = 5
#: Times each incremental leg of ``update`` and ``watch`` is run, each on a fresh copy (the median is reported).
INCREMENT_ROUNDS = 3

# The sample generator's volumes (measured on it): per unit of ``scale`` each employee's account
# yields about 52.4 posts over 24 months (unattributed posts included), the organisation about 1,510
# posts that draw about 2,910 audience comments; each employee yields about 139 survey answers.
_POSTS_PER_EMPLOYEE = 52.4
_ORG_POSTS_AND_COMMENTS = 1510 + 2910
_ANSWERS_PER_EMPLOYEE = 139


@dataclass
class Leg:
    """One measured process: wall and CPU seconds, peak memory, exit code."""

    name: str
    wall: float = 0.0
    cpu: float = 0.0
    peak_rss: int = 0  # bytes, the larger of the sampled process-tree sum and the kernel's maxrss
    returncode: int = 0
    stolen: float = 0.0  # the share of the machine's CPU time its host took while the leg ran (see _cpu_times)
    output: str = field(default="", repr=False)


@dataclass
class Row:
    measure: str
    target: str
    measured: str
    status: str  # pass | miss | info | n/a


def _cpu_times() -> tuple[float, float]:
    """(CPU seconds the hypervisor took from this virtual machine, all CPU seconds) over every CPU since
    boot, as psutil reads the kernel's counters; no steal where the system does not count it. On a shared
    host the time a leg waits for a real CPU is stolen time: the legs' figures move with it, so the table
    says how much there was."""
    import psutil

    times = psutil.cpu_times()
    # guest time is counted inside user and nice already
    total = sum(getattr(times, name) for name in times._fields if name not in ("guest", "guest_nice"))
    return getattr(times, "steal", 0.0), total


#: Iterations of :func:`machine_loop`: 0.35-1.1 s of one core on this machine (measured over sessions 14-15).
MACHINE_LOOP = 4_000_000


def machine_loop(iterations: int = MACHINE_LOOP) -> float:
    """Seconds this process takes for a fixed pure-Python loop: the machine's one-core speed at that moment
    (lower is faster). A shared host's speed moves within the hour; read before the naive way, the full
    run and the increments and at the end, it tells whether legs minutes apart ran on the same machine,
    which stolen time alone does not (a slower CPU is not a missing one)."""
    started, total = time.perf_counter(), 0
    for i in range(iterations):
        total += i * i % 7
    return time.perf_counter() - started


#: :func:`machine_memory`'s table (int64s: 256 MB, far beyond any cache) and the places it reads at random.
MEMORY_TABLE, MEMORY_READS = 1 << 25, 1 << 23


@functools.cache
def _memory_table() -> tuple:
    """:func:`machine_memory`'s table and places, made once per run: the first touch of 320 MB of pages took
    3 s here, six times a run (half a ``--quick`` run's time)."""
    import numpy as np

    return (np.arange(MEMORY_TABLE, dtype=np.int64),
            np.random.default_rng(11).integers(0, MEMORY_TABLE, MEMORY_READS))


def machine_memory() -> float:
    """Seconds this process takes for a fixed memory-bound task: reads at random places of a table far bigger
    than the caches (lower is faster). :func:`machine_loop` runs in its core's own caches and does not see a
    host busy elsewhere in the memory and caches it shares: in session 20's runs the loop read 0.43-0.53 s
    while the ingest and build took half as much CPU time again as half an hour later, with the loop at
    0.69 s."""
    table, places = _memory_table()
    started = time.perf_counter()
    for _ in range(3):
        table[places].sum()
    return time.perf_counter() - started


def _stolen_since(start: tuple[float, float]) -> float:
    """The share of CPU time stolen since ``start`` (a :func:`_cpu_times` reading)."""
    steal, total = _cpu_times()
    return (steal - start[0]) / (total - start[1]) if total > start[1] else 0.0


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        parent = psutil.Process(pid)
        processes = [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


def _remove(path: Path) -> None:
    """Delete a file, or a folder (DuckDB spills to ``<warehouse>.tmp/``)."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


@contextlib.contextmanager
def _published_copy(warehouse: Path, twin: Path) -> Iterator[Path]:
    """A copy of ``warehouse`` made as a build leaves one: published, its snapshot a second name of its file,
    so a timed leg copies it before writing, as a user's next update does; deleted afterwards, with
    everything the leg left beside it."""
    from analytics.snapshots import snapshot_path

    shutil.copyfile(warehouse, twin)
    os.link(twin, snapshot_path(twin))
    os.sync()  # the copy's dirty pages would otherwise be written back during the timed leg
    try:
        yield twin
    finally:
        for left in twin.parent.glob(f"{twin.stem}*"):
            _remove(left)


_Sample = TypeVar("_Sample")


def _median(samples: list[_Sample], *, key: Callable[[_Sample], float]) -> _Sample:
    """The sample of median ``key`` (the lower middle one of an even count)."""
    return sorted(samples, key=key)[(len(samples) - 1) // 2]


def run_leg(name: str, command: list[str], env: dict[str, str], log: Path) -> Leg:
    """Run ``command`` in its own process; measure wall time, CPU time and peak RSS of its tree."""
    leg = Leg(name)
    peak = [0]
    cpu_before = _cpu_times()
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                peak[0] = max(peak[0], _tree_rss(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # wait4 gives this child's own resource use (its waited-for children included)
        _pid, status, usage = os.wait4(process.pid, 0)
        leg.wall = time.perf_counter() - started
        leg.stolen = _stolen_since(cpu_before)
        done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    leg.returncode = process.returncode
    leg.cpu = usage.ru_utime + usage.ru_stime
    leg.peak_rss = max(peak[0], usage.ru_maxrss * 1024)
    leg.output = log.read_text(errors="replace")
    if leg.returncode != 0:
        raise RuntimeError(f"{name} failed ({leg.returncode}); its output:\n{leg.output[-3000:]}")
    return leg


def watch_leg(cli: list[str], twin: Path, new_folder: Path, env: dict[str, str], log: Path, *,
              settle: float = 5.0) -> dict:
    """The increment saved to the folder a running ``policy-pulse watch`` looks at (at its default interval:
    it is told of a folder moved in at once), once the watcher is ready (``settle`` seconds after it says it
    watches): its own time for the update (its "updated in" line), and the time from the files' arrival (one
    rename of their folder into the watched one) to that line, detection included."""
    inbox = twin.parent / "watch-inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir()
    staged = inbox / ".incoming"  # hidden: not looked at
    shutil.copytree(new_folder, staged)
    with log.open("w") as errors:
        process = subprocess.Popen([*cli, "watch", str(inbox), "--warehouse", str(twin)],
                                   stdout=subprocess.PIPE, stderr=errors, text=True, env=env, cwd=ROOT)
        try:
            if not process.stdout.readline().startswith("watching"):
                raise RuntimeError(f"watch did not start; see {log}")
            time.sleep(settle)  # ready: loaded, its copy for the first write made, nothing left running
            os.sync()
            cpu_before, arrived = _cpu_times(), time.perf_counter()
            staged.rename(inbox / new_folder.name)
            while not (line := process.stdout.readline()).startswith("updated in"):
                if not line or line.startswith("update failed"):
                    raise RuntimeError(f"watch ended or failed before its update; see {log}")
            published, stolen = time.perf_counter() - arrived, _stolen_since(cpu_before)
        finally:
            # SIGTERM, not SIGINT: a process started in the background (this benchmark, maybe) ignores SIGINT
            process.terminate()
            process.wait(timeout=120)
    return {"update": float(line.split()[2]), "arrival_to_published": published, "stolen": stolen}


# --- data -----------------------------------------------------------------------------------------

def sizes_for(posts: int, answers: int, months: int = 24) -> tuple[int, float]:
    """(employees, scale) for the generator to write about ``posts`` posts + comments and ``answers``
    survey answers over ``months`` (volumes grow with the months covered)."""
    employees = min(3000, max(30, round(answers * 24 / months / _ANSWERS_PER_EMPLOYEE)))
    scale = posts * 24 / months / (_POSTS_PER_EMPLOYEE * employees + _ORG_POSTS_AND_COMMENTS)
    return employees, min(200.0, max(0.01, round(scale, 4)))


def generate(raw: Path, *, employees: int, scale: float, months: int) -> dict:
    """The sample organisation's exports (reused when ``raw`` already holds these parameters)."""
    from analytics import sample

    truth_file = raw / "truth.json"
    if truth_file.exists():
        truth = json.loads(truth_file.read_text())
        wanted = {"employees": employees, "scale": float(scale), "months": months}
        if all(truth.get("parameters", {}).get(k) == v for k, v in wanted.items()):
            return truth
        shutil.rmtree(raw)
    return sample.generate(raw, seed=7, employees=employees, scale=scale, months=months)


def add_new_posts(raw: Path, out: Path, share: float, *, newest_month: bool = False) -> int:
    """A monitoring export of ``share`` x the posts as new posts (new text, no URL, so new post ids),
    drawn from every month -- or, with ``newest_month``, all dated in the data's last month (what a
    monthly export adds: only that month's and quarter's figures can change)."""
    import pandas as pd

    posts = pd.read_csv(raw / "monitoring_posts.csv", dtype=str, keep_default_na=False)
    truth = json.loads((raw / "truth.json").read_text())
    counts = truth["counts"]
    total = counts["employee_posts"] + counts["unattributed_posts"] + sum(counts["org_posts"].values())
    n = max(1, round(share * total))
    if newest_month:
        month = posts["posted_at"].str.slice(0, 7)
        posts = posts[month == month.max()]
    new = posts.sample(n=n, replace=n > len(posts), random_state=11).reset_index(drop=True)
    suffix = "latest" if newest_month else "update"
    new["text"] = new["text"] + [f" ({suffix} {k})" for k in range(n)]
    new["url"] = ""
    out.mkdir(parents=True, exist_ok=True)
    new.to_csv(out / "monitoring_posts_new.csv", index=False)
    return n


def warehouse_counts(warehouse: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("posts", "audience_comments", "survey_answers", "survey_comments", "sentiment")}
    finally:
        con.close()


# --- sentiment --------------------------------------------------------------------------------------

def measure_sentiment(warehouse: Path, n: int) -> dict[str, float]:
    """Our sentiment against the reference: throughput and the largest difference in ``compound``.

    * the reference package's texts per CPU-second on a sample of ``n`` distinct stored texts (it runs
      on one core);
    * ours on the same sample, one process, per CPU-second -- the per-core comparison;
    * ours on every distinct stored text the way the build scores them (``score_texts`` with its
      automatic workers, start-up included), texts per wall second -- what the build gets from the
      machine, compared with the reference's rate on one core;
    * the largest ``|compound - reference|`` over the sample.
    """
    import duckdb
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from analytics import sentiment

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        every = [row[0] for row in con.execute(
            "SELECT DISTINCT text FROM (SELECT text FROM posts UNION ALL SELECT text FROM audience_comments "
            "UNION ALL SELECT text FROM survey_comments) WHERE text IS NOT NULL ORDER BY text").fetchall()]
    finally:
        con.close()
    texts = random.Random(5).sample(every, min(n, len(every)))
    reference = SentimentIntensityAnalyzer()
    sentiment.score_texts(texts[:200], workers=1)  # lexicons and language model loaded outside the timing

    def cpu_rate(run) -> tuple[float, object]:
        started = time.process_time()
        result = run()
        return len(texts) / max(time.process_time() - started, 1e-9), result

    ref_rate, ref_scores = cpu_rate(lambda: [reference.polarity_scores(sentiment.clean_text(t)) for t in texts])
    ours_rate, ours = cpu_rate(lambda: sentiment.score_texts(texts, workers=1))
    started = time.perf_counter()
    sentiment.score_texts(every)
    wall_rate = len(every) / max(time.perf_counter() - started, 1e-9)
    # the batch output itself (not the one-text function) against the reference, on every scored text
    scored = (ours["status"] == "scored").to_numpy()
    difference = max((abs(a - b["compound"]) for a, b, keep in zip(ours["compound"], ref_scores, scored, strict=True)
                      if keep), default=0.0)
    return {"texts": len(texts), "reference_per_core": ref_rate, "ours_per_core": ours_rate,
            "ratio": ours_rate / ref_rate, "all_texts": len(every), "ours_wall_all_cores": wall_rate,
            "wall_ratio": wall_rate / ref_rate, "cores": _cores(),
            "max_abs_compound_difference": difference,
            "not_english": int((ours["status"] == "not_english").sum())}


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# --- dashboards -------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_chart_notebook(folder: Path) -> Path:
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "import plotly.graph_objects as go\ngo.FigureWidget(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]))")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    # the server serves the dashboards' names only
    nbformat.write(notebook, folder / "leadership.ipynb")
    return folder


#: The page's charts drawn (a chart of the static first screen counts: analytics.firstpaint), and of them
#: those in Voila's live page (its widgets rendered; the first screen's chart once taken over).
_CHARTS_DRAWN = """() => {
  const drawn = Array.from(document.querySelectorAll('.js-plotly-plot')).filter(g => g.querySelector('.main-svg'));
  return [drawn.length, drawn.filter(g => g.closest('#rendered_cells') && !g.closest('.pp-first-screen')).length];
}"""


def _first_render(browser, url: str, settle: float = 1.5, timeout: float = 180.0) -> tuple[float, int, float]:
    """Seconds from request to the last plotly chart drawn (no new chart for ``settle`` s), the charts, and
    seconds to the first chart drawn in the live page (its widgets there, the filters answering)."""
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    try:
        started = time.perf_counter()
        page.goto(url, timeout=timeout * 1000)
        last, drawn, live = started, 0, None
        while time.perf_counter() - started < timeout:
            count, in_live_page = page.evaluate(_CHARTS_DRAWN)
            now = time.perf_counter()
            if live is None and in_live_page:
                live = now
            if count > drawn:
                last, drawn = now, count
            elif drawn and live is not None and now - last >= settle:
                break
            page.wait_for_timeout(25)
        if not drawn or live is None:
            raise TimeoutError(f"no chart drawn at {url} in {timeout:.0f} s")
        return last - started, drawn, live - started
    finally:
        page.close()


def measure_dashboard(warehouse: Path, root: Path | None, env: dict[str, str], log: Path,
                      rounds: int = DASHBOARD_ROUNDS) -> list[tuple[float, int, float]]:
    """First render of ``leadership.ipynb`` under ``root`` served with preheated kernels, ``rounds`` times.

    Each round is a new page on a preheated kernel: the next round waits until the pool has replaced the
    kernel the last one took (one browser page's timing moves by ±20 % on this machine)."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    call = (f"from analytics.serve import serve; serve({str(warehouse)!r}, port={port}, "
            f"root={str(root) if root else None!r}, preheat=True)")
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-c", call], stdout=out, stderr=subprocess.STDOUT, env=env,
                                  cwd=ROOT, start_new_session=True)
    # every notebook served gets a preheated kernel: timing the page while another dashboard's kernel is
    # still executing would time that execution too, which no viewer of a preheated server waits for
    notebooks = sorted(path.name for path in (root or ROOT / "dashboards").glob("*.ipynb"))
    try:
        deadline = time.monotonic() + 600 + 120 * rounds
        while not all(f"Kernel pool of {name} is filled" in log.read_text(errors="replace") for name in notebooks):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard server did not get ready:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        filled = "Kernel pool of leadership.ipynb is filled"
        renders = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for done in range(rounds):
                    while log.read_text(errors="replace").count(filled) <= done:
                        if server.poll() is not None or time.monotonic() > deadline:
                            raise RuntimeError(f"the kernel pool was not refilled:\n{log.read_text()[-2000:]}")
                        time.sleep(0.5)
                    renders.append(_first_render(browser, f"http://127.0.0.1:{port}/voila/render/leadership.ipynb"))
            finally:
                browser.close()
        return renders
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 2)  # SIGINT: Voila shuts its kernels down
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, 9)
                server.wait()


# --- the table --------------------------------------------------------------------------------------

def _verdict(ok: bool) -> str:
    return "pass" if ok else "miss"


def _mb(size: int) -> str:
    return f"{size / 1024**2:,.0f} MB"


def _spread(rounds: list[float], full: float) -> str:
    """", median of N: low-high %" for a leg timed more than once."""
    if len(rounds) < 2:
        return ""
    return f", median of {len(rounds)}: {100 * min(rounds) / full:.1f}-{100 * max(rounds) / full:.1f} %"


def build_rows(result: dict) -> list[Row]:
    legs = {name: Leg(**leg) for name, leg in result["legs"].items()}
    # the full run once or twice (see :func:`run`): each judged by the mean, each shown
    runs = [(legs[f"ingest{suffix}"], legs[f"build{suffix}"]) for suffix in ("", "_again") if f"ingest{suffix}" in legs]
    walls = [ingest.wall + build.wall for ingest, build in runs]
    full = statistics.mean(walls)
    full_cpu = statistics.mean(ingest.cpu + build.cpu for ingest, build in runs)
    full_stolen = sum(ingest.stolen * ingest.wall + build.stolen * build.wall for ingest, build in runs) / sum(walls)
    if len(runs) > 1:
        each = "mean of " + " and ".join(f"{ingest.wall + build.wall:.1f} s: ingest {ingest.wall:.1f} + build "
                                         f"{build.wall:.1f}" for ingest, build in runs)
    else:
        each = f"ingest {runs[0][0].wall:.1f} + build {runs[0][1].wall:.1f}"
    rows = [Row("full ingest + build (wall)", "<= 60 s",
                f"{full:.1f} s ({each}; CPU {full_cpu:.1f} s{_steal(full_stolen)})", _verdict(full <= 60))]
    naives = [(legs[name], result.get("naive_estimates", {}).get(name, {"wall": legs[name].wall,
                                                                       "cpu": legs[name].cpu}))
              for name in ("naive", "naive_again") if name in legs]
    if naives:
        naive_wall = statistics.mean(estimate["wall"] for _, estimate in naives)
        naive_cpu = statistics.mean(estimate["cpu"] for _, estimate in naives)
        note = ", texts sampled, scaled up" if result.get("naive_fraction", 1) < 1 else ""
        seconds = " and ".join(f"{estimate['wall']:.1f}" for _, estimate in naives)
        cpu_ratio = full_cpu / max(naive_cpu, 1e-9)
        rows.append(Row("full build / naive way (wall)", "<= 0.3x",
                        f"{full / naive_wall:.3f}x (naive {seconds} s{note}; CPU ratio {cpu_ratio:.3f}x)",
                        _verdict(full / naive_wall <= 0.3)))
    for kind in ("ingest", "build"):
        peak = max(leg.peak_rss for leg in (legs[kind], legs.get(f"{kind}_again")) if leg is not None)
        rows.append(Row(f"peak RSS, {kind}", "<= 2 GB", _mb(peak), _verdict(peak <= 2 * GB)))
    if naives:
        rows.append(Row("peak RSS, naive way", "(reference)", _mb(max(leg.peak_rss for leg, _ in naives)), "info"))
    if "update_new" in legs:
        update = legs["update_new"]
        rows.append(Row(f"incremental after +1 % posts, `update` ({result['new_posts']:,} posts)", "<= 5 % of full",
                        f"{100 * update.wall / full:.1f} % ({update.wall:.1f} s; CPU {update.cpu:.1f} s"
                        f"{_steal(update.stolen)})"
                        + _spread(result.get("update_rounds", []), full), _verdict(update.wall <= 0.05 * full)))
    watched = result.get("watch")
    if watched:
        rows.append(Row(f"incremental after +1 % posts, a running `policy-pulse watch` ({result['new_posts']:,} "
                        "posts; from the file's arrival)", "<= 5 % of full",
                        f"{100 * watched['arrival_to_published'] / full:.1f} % ({watched['arrival_to_published']:.1f}"
                        f" s; its update {watched['update']:.2f} s = {100 * watched['update'] / full:.1f} %"
                        f"{_steal(watched.get('stolen', 0.0))})"
                        + _spread(watched.get("rounds", []), full),
                        _verdict(watched["arrival_to_published"] <= 0.05 * full)))
    if "ingest_new" in legs:
        new, again = legs["ingest_new"], legs["build_incremental"]
        share = (new.wall + again.wall) / full
        rows.append(Row(f"incremental after +1 % posts, `ingest` then `build` ({result['new_posts']:,} posts)",
                        "<= 5 % of full",
                        f"{100 * share:.1f} % (ingest {new.wall:.1f} s + build {again.wall:.1f} s)",
                        _verdict(share <= 0.05)))
    if "ingest_newest" in legs:
        new, again = legs["ingest_newest"], legs["build_newest"]
        rows.append(Row(f"incremental after +1 % posts in the newest month ({result['newest_posts']:,} posts)",
                        "(a monthly export)",
                        f"{100 * (new.wall + again.wall) / full:.1f} % (ingest {new.wall:.1f} s + build "
                        f"{again.wall:.1f} s)", "info"))
    s = result.get("sentiment")
    if s:
        rows.append(Row(f"sentiment, build's way ({s['all_texts']:,} distinct texts, {s['cores']} cores, wall)",
                        ">= 5x reference per core",
                        f"{s['wall_ratio']:.2f}x ({s['ours_wall_all_cores']:,.0f} vs {s['reference_per_core']:,.0f} "
                        "texts/s)", _verdict(s["wall_ratio"] >= 5)))
        rows.append(Row(f"sentiment per CPU-second ({s['texts']:,}-text sample, one process)", "(per core)",
                        f"{s['ratio']:.2f}x ({s['ours_per_core']:,.0f} vs {s['reference_per_core']:,.0f} texts/s)",
                        "info"))
        rows.append(Row("sentiment max |compound - reference|", "<= 1e-9", f"{s['max_abs_compound_difference']:.1e}",
                        _verdict(s["max_abs_compound_difference"] <= 1e-9)))
    d = result.get("dashboard")
    if d and "leadership" in d:
        ratio = d["leadership"] / d["one_chart"]
        loads = d.get("leadership_rounds", [d["leadership"]])
        spread = f"; {min(loads):.2f}-{max(loads):.2f} s" if len(loads) > 1 else ""
        rounds = len(loads)
        drawn = f"; charts drawn on the first screen: {d['charts']:g}" if "charts" in d else ""
        rows.append(Row(f"dashboard first render / one-chart notebook (median of {rounds})", "<= 1.0x",
                        f"{ratio:.2f}x ({d['leadership']:.2f} s vs {d['one_chart']:.2f} s{drawn})",
                        _verdict(ratio <= 1.0)))
        live = f"; live (widgets answering) {d['leadership_live']:.2f} s" if "leadership_live" in d else ""
        rows.append(Row(f"dashboard first render, preheated (median of {rounds})", "<= 2 s",
                        f"{d['leadership']:.2f} s{spread}{live}", _verdict(d["leadership"] <= 2)))
    else:
        why = (d or {}).get("why", "not available")
        rows.append(Row("dashboard first render / one-chart notebook", "<= 1.0x", why, "n/a"))
        rows.append(Row("dashboard first render, preheated", "<= 2 s", why, "n/a"))
    return rows


def _steal(share: float) -> str:
    """How much CPU time the host took meanwhile, when it took any worth saying."""
    return f"; host took {100 * share:.0f} % of the CPU" if share >= 0.005 else ""


_WHEN = {"naive": "before the naive way", "full": "before the full run", "increment": "before the increments",
         "full_again": "before the second full run", "naive_again": "before the second naive way", "end": "at the end"}


def _speed(readings: dict[str, float], what: str) -> str:
    """Machine-speed readings (:func:`machine_loop`, :func:`machine_memory`), when there are any."""
    if not readings:
        return ""
    return f"; {what} took " + ", ".join(f"{seconds:.2f} s {_WHEN[when]}" for when, seconds in readings.items())


def format_table(result: dict, rows: list[Row]) -> str:
    data = result["data"]
    head = (f"Policy Pulse benchmark: {data['posts_and_comments']:,} posts + comments, "
            f"{data['survey_answers']:,} survey answers ({data['employees']} employees, scale {data['scale']}); "
            f"{result['cores']} cores, load average {result['load_before']:.1f} -> {result['load_after']:.1f}"
            f"{_steal(result.get('stolen', 0.0))}{_speed(result.get('machine_loop', {}), 'a fixed one-core loop')}"
            f"{_speed(result.get('machine_memory', {}), 'fixed reads at random places of 256 MB')}")
    widths = [max(len(getattr(r, f)) for r in [Row("measure", "target", "measured", "status"), *rows])
              for f in ("measure", "target", "measured", "status")]
    lines = [head, ""]
    for row in [Row("measure", "target", "measured", "status"), *rows]:
        lines.append("  ".join(getattr(row, f).ljust(w) for f, w in
                               zip(("measure", "target", "measured", "status"), widths, strict=True)).rstrip())
        if row.measure == "measure":
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- the run ----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=None, help="posts + audience comments (default 1,000,000)")
    parser.add_argument("--answers", type=int, default=None, help="survey answers (default 100,000)")
    parser.add_argument("--quick", action="store_true",
                        help="a small run (1,500 posts, 2,000 answers, 18 months, no browser) to check it works")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON after the table")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep data and warehouses here (generated data is reused when its parameters match)")
    parser.add_argument("--naive-fraction", type=float, default=1.0,
                        help="naive way: score this share of the texts and scale its time up (default 1: all)")
    parser.add_argument("--sentiment-sample", type=int, default=50_000)
    parser.add_argument("--no-dashboard", action="store_true", help="skip the browser measurement")
    args = parser.parse_args(argv)
    posts = args.posts or (1_500 if args.quick else 1_000_000)
    answers = args.answers or (2_000 if args.quick else 100_000)
    months = 18 if args.quick else 24
    if posts < 1000 or answers < 1000:
        parser.error("--posts and --answers must be at least 1,000")

    temporary = None
    if args.workdir is None:
        temporary = tempfile.TemporaryDirectory(prefix="policy-pulse-bench-")
        work = Path(temporary.name)
    else:
        work = args.workdir.resolve()
        work.mkdir(parents=True, exist_ok=True)
    try:
        result = run(work, posts=posts, answers=answers, months=months, quick=args.quick,
                     naive_fraction=args.naive_fraction, sentiment_sample=args.sentiment_sample,
                     dashboard=not (args.quick or args.no_dashboard))
    finally:
        if temporary is not None:
            temporary.cleanup()
    rows = build_rows(result)
    print(format_table(result, rows))
    if args.json:
        print(json.dumps({**result, "rows": [asdict(r) for r in rows]}, indent=2, default=str))
    return 0


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run(work: Path, *, posts: int, answers: int, months: int, quick: bool, naive_fraction: float,
        sentiment_sample: int, dashboard: bool) -> dict:
    employees, scale = sizes_for(posts, answers, months)
    raw, logs = work / "raw", work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    warehouse = work / "warehouse.duckdb"
    for stale in work.glob("warehouse*.duckdb*"):
        _remove(stale)
    shutil.rmtree(work / "config", ignore_errors=True)
    private = {"POLICY_PULSE_KEY": "benchmark-key-not-secret", "POLICY_PULSE_CONFIG_DIR": str(work / "config"),
               "POLICY_PULSE_WAREHOUSE": str(warehouse)}
    os.environ.update(private)  # the sentiment measurement reads the warehouse in this process
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # An installed package runs from bytecode; with PYTHONDONTWRITEBYTECODE set (as in some sandboxes) an
    # editable install would compile every module again in every leg (~0.1 s, 2-3 % of the incremental leg).
    compileall.compile_dir(ROOT / "src" / "analytics", quiet=1)
    load_before, cpu_before = os.getloadavg()[0], _cpu_times()
    _say(f"generating {posts:,} posts + comments, {answers:,} answers ({employees} employees, scale {scale})")
    truth = generate(raw, employees=employees, scale=scale, months=months)
    new_folder = work / "new-posts"
    shutil.rmtree(new_folder, ignore_errors=True)
    new_posts = add_new_posts(raw, new_folder, 0.01)
    python = sys.executable
    cli = [python, "-m", "analytics.cli"]
    legs: dict[str, Leg] = {}
    result: dict = {"legs": {}, "naive_fraction": naive_fraction, "new_posts": new_posts}
    # the full run and the naive way are each measured twice, in the order naive, full, (the increments), full,
    # naive: the machine's speed drifts by tenths within the run, and a steady drift then weighs on both sides
    # of the ratio alike; the increments are judged against the mean of the full runs before and after them
    speed: dict[str, float] = {}
    memory: dict[str, float] = {}

    def read_speed(stage: str) -> None:
        speed[stage], memory[stage] = machine_loop(), machine_memory()

    _say("naive way")
    read_speed("naive")
    legs["naive"] = _naive_leg("naive", raw, naive_fraction, env, logs, result)
    read_speed("full")
    legs["ingest"], legs["build"] = _full_legs("", raw, warehouse, cli, env, logs)
    counts = warehouse_counts(warehouse)
    _say("incremental: +1 % new posts")
    read_speed("increment")
    # the same increment three ways: `update` (one process) and a running `watch` each on a copy, `ingest` then
    # `build` on the warehouse itself
    # each timed on a fresh copy INCREMENT_ROUNDS times (a few seconds each: one sample moves by a fifth)
    rounds = 1 if quick else INCREMENT_ROUNDS
    updates = []
    for round_ in range(rounds):
        with _published_copy(warehouse, work / "warehouse-update.duckdb") as twin:
            updates.append(run_leg("update (+1 %)", [*cli, "update", str(new_folder), "--warehouse", str(twin)],
                                   env, logs / f"update-new-{round_ + 1}.log"))
    legs["update_new"] = _median(updates, key=lambda leg: leg.wall)
    result["update_rounds"] = [leg.wall for leg in updates]
    _say("incremental: +1 % new posts, saved to the folder `policy-pulse watch` looks at")
    watches = []
    for round_ in range(rounds):
        with _published_copy(warehouse, work / "warehouse-update.duckdb") as twin:
            # a quick run's warehouse is copied for the first write in a blink
            watches.append(watch_leg(cli, twin, new_folder, env, logs / f"watch-{round_ + 1}.log",
                                     settle=1.0 if quick else 5.0))
    result["watch"] = {**_median(watches, key=lambda w: w["arrival_to_published"]),
                       "rounds": [w["arrival_to_published"] for w in watches]}
    legs["ingest_new"] = run_leg("ingest (+1 %)", [*cli, "ingest", str(new_folder), "--warehouse", str(warehouse)],
                                 env, logs / "ingest-new.log")
    legs["build_incremental"] = run_leg("build (incremental)", [*cli, "build", "--warehouse", str(warehouse)], env,
                                        logs / "build-incremental.log")
    _say("incremental: +1 % new posts, all in the newest month")
    newest_folder = work / "newest-posts"
    shutil.rmtree(newest_folder, ignore_errors=True)
    result["newest_posts"] = add_new_posts(raw, newest_folder, 0.01, newest_month=True)
    legs["ingest_newest"] = run_leg("ingest (+1 %, newest month)",
                                    [*cli, "ingest", str(newest_folder), "--warehouse", str(warehouse)],
                                    env, logs / "ingest-newest.log")
    legs["build_newest"] = run_leg("build (newest month)", [*cli, "build", "--warehouse", str(warehouse)], env,
                                   logs / "build-newest.log")
    read_speed("full_again")  # on a warehouse of its own
    again = work / "warehouse-again.duckdb"
    legs["ingest_again"], legs["build_again"] = _full_legs("again", raw, again, cli, env, logs)
    for left in work.glob(f"{again.stem}*"):
        _remove(left)
    _say("naive way again")
    read_speed("naive_again")
    legs["naive_again"] = _naive_leg("naive_again", raw, naive_fraction, env, logs, result)
    _say("sentiment against the reference")
    result["sentiment"] = measure_sentiment(warehouse, sentiment_sample)
    if dashboard:
        result["dashboard"] = _dashboards(warehouse, work, env, logs)
    else:
        result["dashboard"] = {"why": "skipped (--quick)" if quick else "skipped (--no-dashboard)"}
    result["legs"] = {name: {k: v for k, v in asdict(leg).items() if k != "output"} for name, leg in legs.items()}
    result["data"] = {"posts_and_comments": counts["posts"] + counts["audience_comments"],
                      "posts": counts["posts"], "audience_comments": counts["audience_comments"],
                      "survey_answers": counts["survey_answers"], "distinct_texts_scored": counts["sentiment"],
                      "employees": employees, "scale": scale, "months": months,
                      "generated": truth.get("counts", {})}
    result["cores"] = _cores()
    result["load_before"], result["load_after"] = load_before, os.getloadavg()[0]
    result["stolen"] = _stolen_since(cpu_before)
    read_speed("end")
    result["machine_loop"], result["machine_memory"] = speed, memory
    return result


def _naive_leg(name: str, raw: Path, fraction: float, env: dict[str, str], logs: Path, result: dict) -> Leg:
    """The naive way over ``raw`` (its own process); its estimated wall and CPU seconds for every text go to
    ``result["naive_estimates"][name]``, its own figures to ``result[name]``."""
    leg = run_leg(name, [sys.executable, str(ROOT / "benchmarks" / "naive.py"), str(raw), "--json",
                         "--fraction", str(fraction)], env, logs / f"{name}.log")
    naive = json.loads(leg.output.strip().splitlines()[-1])
    # with a sample of the texts scored, the rest is estimated at the sample's rate
    factor = naive["texts"] / max(naive["texts_scored"], 1) - 1
    result[name] = naive
    result.setdefault("naive_estimates", {})[name] = {
        "wall": leg.wall + factor * naive["sentiment_measured"],
        "cpu": leg.cpu + factor * naive["sentiment_measured_cpu"]}
    return leg


def _full_legs(suffix: str, raw: Path, warehouse: Path, cli: list[str], env: dict[str, str], logs: Path
               ) -> tuple[Leg, Leg]:
    """``ingest`` of every export in ``raw`` into the new ``warehouse``, then ``build``, each in its own process."""
    label, tail = (f" {suffix}", f"-{suffix}") if suffix else ("", "")
    legs = []
    for command, arguments in (("ingest", [str(raw)]), ("build", [])):
        _say(f"full {command}{label}")
        legs.append(run_leg(f"{command}{label}", [*cli, command, *arguments, "--warehouse", str(warehouse)], env,
                            logs / f"{command}{tail}.log"))
    return legs[0], legs[1]


def _dashboards(warehouse: Path, work: Path, env: dict[str, str], logs: Path) -> dict:
    if not (ROOT / "dashboards" / "leadership.ipynb").exists():
        return {"why": "not available (dashboards/leadership.ipynb not there yet)"}
    if not Path(CHROMIUM).exists():
        return {"why": f"not available (no Chromium at {CHROMIUM})"}
    try:
        import playwright  # noqa: F401
    except ImportError:
        return {"why": "not available (playwright not installed)"}
    _say("dashboard first render (leadership, then the one-chart notebook)")
    leadership = measure_dashboard(warehouse, None, env, logs / "dashboard.log")
    one_chart = measure_dashboard(warehouse, _one_chart_notebook(work / "one-chart"), env, logs / "one-chart.log")
    return {"leadership": statistics.median(t for t, _, _ in leadership),
            "one_chart": statistics.median(t for t, _, _ in one_chart),
            "charts": statistics.median(n for _, n, _ in leadership),
            "leadership_live": statistics.median(live for _, _, live in leadership),
            "leadership_rounds": [t for t, _, _ in leadership], "one_chart_rounds": [t for t, _, _ in one_chart]}


if __name__ == "__main__":
    sys.exit(main())
