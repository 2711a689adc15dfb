"""The committee trend report: built from the sample warehouse, standalone, complete, k-safe, PII-free,
and showing the numbers the package computes."""

from __future__ import annotations

import csv
import html
import os
import re
from datetime import timedelta
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import plotly.offline
import pytest

from analytics import adherence, config, dashboard, datasets, insights, metrics, priorities, report, survey, warehouse
from analytics.codebook import load_codebook
from analytics.periods import Period, parse_period


def _chromium_or_skip() -> str:
    path = report.find_chromium()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium (/usr/bin/chromium) is required in CI to print and open the report.")
        pytest.skip("Chromium (/usr/bin/chromium) is not installed here; the browser checks run in CI.")
    return path


def _latest_quarter(warehouse_file) -> str:
    with warehouse.read_only(warehouse_file) as con:
        latest = pd.Timestamp(con.execute("SELECT max(month) FROM post_facts").fetchone()[0])
    return f"{latest.year}-Q{latest.quarter}"


@pytest.fixture(scope="module")
def built(sample_warehouse, tmp_path_factory):
    period = parse_period(_latest_quarter(sample_warehouse))
    result = report.build_report(period=period, previous=None, warehouse_file=sample_warehouse,
                                 out=tmp_path_factory.mktemp("report"))
    return period, result, result.html_path.read_text(encoding="utf-8")


class _Tables(HTMLParser):
    """Every <table> as (caption, header, rows of cell texts), plus each cell's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "header": [], "rows": [], "attrs": []})
        elif tag == "caption":
            self._caption = []
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
            self.tables[-1]["attrs"].append([])
        elif tag in ("td", "th"):
            self._cell = []
            self._attrs = dict(attrs)

    def handle_endtag(self, tag):
        if tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = "".join(self._caption).strip()
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append("".join(self._cell).strip())
            self.tables[-1]["attrs"][-1].append(self._attrs)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)


def _tables(page: str, section: str) -> list[dict]:
    match = re.search(rf'<section id="{section}".*?</section>', page, re.S)
    assert match, f"section {section} missing"
    parser = _Tables()
    parser.feed(match.group(0))
    for table in parser.tables:
        table["header"], table["rows"], table["attrs"] = table["rows"][0], table["rows"][1:], table["attrs"][1:]
    return parser.tables


def _without_library(page: str) -> str:
    library = plotly.offline.get_plotlyjs()
    assert page.count(library) == 1, "plotly.js must be inlined exactly once"
    return page.replace(library, "")


# --- the built report -----------------------------------------------------------------------------------

def test_report_has_every_section_and_a_short_summary(built):
    _, result, page = built
    for anchor, title in report.SECTIONS:
        block = re.search(rf'<section id="{anchor}".*?</section>', page, re.S)
        assert block, f"section {anchor} is missing"
        assert title in block.group(0)
        assert "<li>" in block.group(0) or "<table>" in block.group(0), f"section {anchor} is empty"
    summary = re.search(r'<section id="summary".*?<ul class="lead">(.*?)</ul>', page, re.S).group(1)
    assert 3 <= summary.count("<li>") <= 5
    assert result.html_path.suffix == ".html"


def test_report_is_standalone_with_plotly_inlined_once(built):
    _, _, page = built
    body = _without_library(page)
    assert 'src="http' not in page and "src='http" not in page
    assert not re.search(r"<script[^>]*\bsrc=", page), "no script may be loaded from elsewhere"
    assert not re.search(r"<link[^>]*href=[\"']?https?:", page), "no stylesheet may be loaded from elsewhere"
    assert body.count("Plotly.newPlot(") >= 6


def test_methods_appendix_defines_every_metric_and_the_coverage(built, sample_warehouse):
    _, _, page = built
    methods = re.search(r'<section id="methods".*?</section>', page, re.S).group(0)
    for definition in metrics.metric_definitions()["definition"]:
        assert definition.replace("'", "&#39;").replace('"', "&#34;") in methods
    k = config.get_settings().k
    assert f"k = {k}" in methods
    with warehouse.read_only(sample_warehouse) as con:
        files = con.execute("SELECT count(DISTINCT file_sha256) FROM ingest_log").fetchone()[0]
        rejected = con.execute("SELECT sum(rows_rejected) FROM ingest_log").fetchone()[0]
        # a roster row feeds two tables and a survey response three: each is one row read
        roster_rows = con.execute("SELECT max(rows_read) FROM ingest_log WHERE table_name = 'employees'").fetchone()[0]
    assert f"{files:,} files" in methods and f"{int(rejected):,} rejected" in methods
    formats = re.search(r"Files loaded by export.*?</table>", methods, re.S).group(0)
    # the export as its reader calls it, then its id (the one the ingest's output and the notebooks name)
    roster = (r"<td[^>]*>Employee roster CSV</td>\s*<td[^>]*>roster</td>\s*<td[^>]*>1</td>\s*"
              rf"<td[^>]*>{roster_rows:,}</td>")
    assert re.search(roster, formats), formats
    assert "through" in methods and "Missing platform-months" in methods


def test_no_group_below_k_is_shown(built, sample_warehouse):
    period, _, page = built
    k = config.get_settings().k
    sizes = [int(v) for v in re.findall(r'data-group-size="(\d+)"', page)]
    assert sizes, "the report must mark the people behind its group cells"
    assert min(sizes) >= k
    with warehouse.read_only(sample_warehouse) as con:
        published = con.execute("SELECT department, suppressed FROM quarterly_metrics WHERE metric = "
                                "'adherence_rate' AND platform = '(all)' AND department <> '(all)' AND period = ?",
                                [period.label]).df()
    table = next(t for t in _tables(page, "adherence") if t["caption"].startswith("By department"))
    shown = {row[0]: row[1] for row in table["rows"]}
    assert set(shown) == set(published["department"])
    for department, hidden in zip(published["department"], published["suppressed"], strict=True):
        if hidden:
            assert shown[department] == f"hidden to protect a group of fewer than {k} people"
        else:
            assert "hidden" not in shown[department]
    assert published["suppressed"].any(), "the sample should exercise suppression"


def _occurs(term: str, text: str) -> bool:
    """``term`` appears in ``text`` as a whole token (not inside a longer word, handle or address)."""
    start = text.find(term)
    while start >= 0:
        before = text[start - 1] if start else " "
        after = text[start + len(term)] if start + len(term) < len(text) else " "
        if not (before.isalnum() or before in "_.@-") and not (after.isalnum() or after in "_-"):
            return True
        start = text.find(term, start + 1)
    return False


def test_no_clear_identity_in_the_html(built, sample_warehouse):
    _, _, page = built
    body = _without_library(page)
    terms: set[str] = set()
    with open(config.SAMPLE_DIR / "roster.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for column in ("full_name", "email", "display_name", "facebook_name"):
                if (row.get(column) or "").strip():
                    terms.add(row[column].strip())
            for column in ("x_handle", "instagram_handle", "linkedin_handle", "mastodon_handle"):
                handle_text = (row.get(column) or "").strip().lstrip("@")
                if len(handle_text) >= 4:
                    terms.add(handle_text)
    with open(config.SAMPLE_DIR / "donors_private.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            terms.update(v.strip() for v in (row["donor_name"], row["email"], row["phone"]) if v and v.strip())
    assert len(terms) > 100
    name = next(t for t in sorted(terms) if " " in t)
    assert _occurs(name.lower(), f"<td>{name}</td>".lower()), "the scan itself must find a planted name"
    lowered = body.lower()
    leaks = [t for t in terms if _occurs(t.lower(), lowered)]
    assert not leaks, f"identities in the report: {leaks[:5]}"
    with warehouse.read_only(sample_warehouse) as con:
        keys = set(con.execute("SELECT employee_key FROM employees").df()["employee_key"])
    assert not [key for key in keys if key in body], "pseudonymous keys must not reach the report either"


def test_headline_numbers_equal_the_package_results(built, sample_warehouse):
    period, result, page = built
    previous = period.previous()
    headline = result.headline.set_index("metric")
    tz = config.get_settings().timezone
    with warehouse.read_only(sample_warehouse) as con:
        quarterly = con.execute("SELECT * FROM quarterly_metrics").df()
        posts = con.execute("SELECT * FROM post_facts WHERE account_type = 'employee'").df()
        findings = con.execute("SELECT * FROM post_findings").df()
        incidents = con.execute("SELECT reported_at FROM incidents").df()
        respondents = con.execute("SELECT * FROM respondents").df()
        answers = con.execute("SELECT response_id, item_id, value, mapped FROM survey_answers WHERE mapped").df()

    for metric in report.HEADLINE_METRICS:
        expected = metrics.compare_periods(quarterly, metric=metric, current=period.label,
                                           previous=previous.label).iloc[0]
        got = headline.loc[metric]
        for column in ("value", "n", "ci_low", "ci_high", "previous_value", "p_value"):
            assert got[column] == pytest.approx(expected[column], nan_ok=True), (metric, column)

    # an independent route to the same numbers
    inside = posts[period.contains(posts["published_at"], tz).to_numpy()]
    rate = adherence.adherence_rate(inside, findings).iloc[0]
    assert headline.loc["adherence_rate", "value"] == pytest.approx(rate["adherence_rate"])
    assert headline.loc["adherence_rate", "ci_low"] == pytest.approx(rate["ci_low"])
    assert headline.loc["adherence_rate", "n"] == rate["n_posts"]
    assert headline.loc["incidents", "value"] == period.contains(incidents["reported_at"], tz).sum()
    items = load_codebook().items_frame()
    clarity = items[items["clarity"].astype(bool)].assign(construct="clarity")
    favourable = survey.favourability(answers[answers["item_id"].isin(clarity["item_id"])], clarity, respondents,
                                      level="construct", by="wave")
    wave = favourable[favourable["wave"] == headline.loc["clarity_favourability", "period"]].iloc[0]
    assert headline.loc["clarity_favourability", "value"] == pytest.approx(wave["favourable"])

    # and the page shows them, with n and CI
    table = next(t for t in _tables(page, "summary") if t["caption"] == "Headline numbers")
    row = dict(zip(table["header"], next(r for r in table["rows"] if r[0] == "Adherence rate"), strict=True))
    assert row["Value"] == f"{100 * rate['adherence_rate']:.1f}%"
    assert row["n"] == f"{int(rate['n_posts']):,}"
    assert row["95% CI"] == f"{100 * rate['ci_low']:.1f}% to {100 * rate['ci_high']:.1f}%"


def test_a_headline_says_why_its_change_has_no_test(built):
    """A hidden rate read "no test for counts, medians and ratios" (the self-reported share of 2026-Q3)."""
    _, result, page = built
    table = next(t for t in _tables(page, "summary") if t["caption"] == "Headline numbers")
    tests = {r[0]: r[table["header"].index("Test")] for r in table["rows"]}
    headline = result.headline.set_index("metric")
    for metric, row in headline.iterrows():
        if pd.isna(row["p_value"]):
            rate_or_mean = metrics.METRICS[metric].kind in ("rate", "mean")
            assert tests[row["label"]] == ("no test: a period's figure is hidden or missing" if rate_or_mean else
                                           "no test for counts, medians and ratios"), metric
    assert tests["Incidents reported"] == "no test for counts, medians and ratios"
    assert any(tests[row["label"]].startswith("no test: a period") for _, row in headline.iterrows()), \
        "the sample should hide a headline rate (the self-reported share of a quarter of few incidents)"


def test_incidents_by_area_add_up_to_the_headline_count(built, sample_warehouse):
    period, result, page = built
    table = next(t for t in _tables(page, "incidents") if t["caption"] == "Incidents by policy area")
    column = table["header"].index(period.label)
    assert sum(int(r[column]) for r in table["rows"]) == result.headline.set_index("metric").loc["incidents", "value"]


def test_areas_to_revise_ranks_every_area_with_evidence_and_sureness(built):
    _, _, page = built
    table = next(t for t in _tables(page, "revise"))
    assert [int(r[0]) for r in table["rows"]] == list(range(1, len(adherence.AREAS) + 1))
    assert sorted(r[1] for r in table["rows"]) == sorted(adherence.AREAS)
    scores = [float(r[2]) for r in table["rows"]]
    assert scores == sorted(scores, reverse=True)
    sure = table["header"].index("How sure")
    assert all(re.match(r"(sure|fairly sure|unsure) \(\d+% of re-draws", r[sure]) for r in table["rows"][:-1])
    assert table["rows"][-1][sure] == "last place"  # every re-draw ranks the last one there or higher
    evidence = table["header"].index("Evidence")
    assert all("incident" in r[evidence] for r in table["rows"])


@pytest.mark.browser
def test_opens_in_chromium_without_console_errors_and_every_chart_is_labelled(built):
    chromium = _chromium_or_skip()
    sync_api = pytest.importorskip("playwright.sync_api")
    _, result, _ = built
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(result.html_path.as_uri())
            page.wait_for_function("[...document.querySelectorAll('.plotly-graph-div')]"
                                   ".every(d => d.querySelector('.main-svg'))", timeout=30_000)
            charts = page.evaluate("""[...document.querySelectorAll('.plotly-graph-div')].map(d => ({
                id: d.id, title: (d.layout.title || {}).text || '',
                x: ((d.layout.xaxis || {}).title || {}).text || '', y: ((d.layout.yaxis || {}).title || {}).text || '',
                xtype: (d.layout.xaxis || {}).type || '', reading: (d.layout.meta || {}).how_to_read || '',
                revisions: (d.layout.shapes || []).filter(s => s.line && s.line.dash === 'dash').length}))""")
        finally:
            browser.close()
    assert not problems, problems
    assert len(charts) >= 6
    units = {spec.unit.lower() for spec in metrics.METRICS.values()}  # a value axis may be titled by the unit alone
    for chart in charts:
        assert chart["title"] and chart["reading"], chart["id"]
        if chart["xtype"] == "date":
            assert chart["x"] and ("(" in chart["y"] or chart["y"].lower() in units), \
                f"{chart['id']}: time and value axes need titles with units"
            assert chart["revisions"] >= 1, f"{chart['id']} must mark the policy revisions"
        else:
            assert "(" in chart["x"], f"{chart['id']}: the value axis needs a title with its unit"


@pytest.mark.browser
def test_pdf_is_printed_when_chromium_is_present(built):
    _chromium_or_skip()
    _, result, _ = built
    assert result.pdf_path is not None and result.pdf_path.exists()
    data = result.pdf_path.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 50_000


def test_dashboard_ranks_the_areas_as_the_report_does(built, sample_warehouse):
    period, result, page = built
    board = dashboard.revision_priorities(dashboard.load_data(sample_warehouse), period=period.label)
    columns = ["rank", "area", "score", "score_low", "score_high", "rank_probability", "sureness", "evidence"]
    pd.testing.assert_frame_equal(board[columns], result.ranking[columns])
    table = next(t for t in _tables(page, "revise"))
    assert [r[1] for r in table["rows"]] == list(board["area"])


# --- the report's own tables ------------------------------------------------------------------------------

def test_a_custom_range_pools_the_months_like_the_quarter(built, sample_warehouse):
    period, _, _ = built
    with warehouse.read_only(sample_warehouse) as con:
        monthly = con.execute("SELECT * FROM monthly_metrics").df()
        quarterly = con.execute("SELECT * FROM quarterly_metrics").df()
    # the quarter's days as a range of its own (parse_period would give the quarter itself), pooled from its months
    custom = Period(f"{period.start}..{period.end - timedelta(days=1)}", period.start, period.end)
    assert parse_period(start=period.start, end=period.end - timedelta(days=1)) == period
    pooled = report.period_table(monthly, quarterly, [custom]).set_index("metric")
    whole = quarterly[(quarterly["period"] == period.label) & (quarterly["department"] == metrics.ALL)
                      & (quarterly["platform"] == metrics.ALL)].set_index("metric")
    for metric in ("adherence_rate", "employee_sentiment", "incidents", "employee_posts"):
        for column in ("value", "n", "ci_low", "ci_high"):
            assert pooled.loc[metric, column] == pytest.approx(whole.loc[metric, column], nan_ok=True), (metric, column)
    assert np.isnan(pooled.loc["median_hours_to_resolve", "value"])


def test_build_report_refuses_a_previous_period_after_the_current_one(sample_warehouse, tmp_path):
    with pytest.raises(ValueError, match="must come before"):
        report.build_report(period=parse_period("2026-Q2"), previous=parse_period("2026-Q3"),
                            warehouse_file=sample_warehouse, out=tmp_path, pdf=False)


def test_a_period_without_posts_is_refused_and_no_period_means_the_latest_quarter(sample_warehouse, tmp_path,
                                                                                   capsys):
    from analytics import cli

    with warehouse.read_only(sample_warehouse) as con:
        first, last = (pd.Timestamp(m) for m in con.execute("SELECT min(month), max(month) FROM post_facts").fetchone())
    before, after = (first - pd.DateOffset(months=3)), (last + pd.DateOffset(months=3))
    for outside in (f"{before.year}-Q{before.quarter}", f"{after.year}-Q{after.quarter}", f"{after:%Y-%m}"):
        with pytest.raises(report.UnreportablePeriod, match=f"posts run from {first:%Y-%m} to {last:%Y-%m}"):
            report.build_report(period=parse_period(outside), warehouse_file=sample_warehouse, out=tmp_path, pdf=False)
        assert cli.main(["report", "--period", outside, "--no-pdf", "--out", str(tmp_path),
                         "--warehouse", str(sample_warehouse)]) == 2
        assert f"{outside} has no posts" in capsys.readouterr().err
    assert not list(tmp_path.iterdir()), "no empty report written"
    assert cli.main(["report", "--no-pdf", "--out", str(tmp_path), "--warehouse", str(sample_warehouse)]) == 0
    latest = _latest_quarter(sample_warehouse)
    assert f"Report for {latest}, the latest quarter with posts" in capsys.readouterr().out
    assert [path.name for path in tmp_path.iterdir()] == [f"policy-pulse-report-{latest}.html"]


def _comments(wave: str, texts_by_item: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(item, text) for item, texts in texts_by_item.items() for text in texts]
    return pd.DataFrame({"response_id": [f"{wave}-r{i}" for i in range(len(rows))],
                         "item_id": [item for item, _ in rows], "text": [text for _, text in rows], "wave": wave,
                         "department": "Programs", "finished": True})


def test_voices_show_each_area_s_themes_against_the_previous_wave_without_small_areas():
    previous = _comments("2026-Q2", {"comment_policy_easier": ["A checklist would help."] * 4 + ["Fine as is."] * 14,
                                     "comment_monitoring": ["Monitoring feels fair."] * 12})
    current = _comments("2026-Q3", {
        "comment_policy_easier": ["More examples please."] * 12 + ["A checklist would help."] * 4
                                 + ["Shorter, please."] * 3 + ["Fine as is."] * 2,
        "comment_monitoring": ["Monitoring feels fair."] * 12,
        "comment_mistakes": ["Blame culture."] * 4,  # an area of fewer than k = 5 comments
    })
    section = report._voices_section(pd.concat([previous, current], ignore_index=True), "2026-Q3", "2026-Q2", 5)
    table = section.tables[0]
    shown = [{c: row[c]["text"] for c in table.columns} for row in table.rows]
    assert {row["Area"] for row in shown} == {"learning (21 comments)", "feedback (12 comments)"}
    examples = next(row for row in shown if row["Word or phrase"] == "more examples")
    assert examples["Comments using it, 2026-Q3"] == "12 (57%)"
    assert examples["2026-Q2"] == "0 of 18 (0%)" and examples["Change"].startswith("+57.1 points, new")
    assert examples["Example (redacted)"] == "“More examples please.”"
    fine = next(row for row in shown if row["Word or phrase"] == "fine")
    assert fine["2026-Q2"] == "14 of 18 (78%)" and "falling" in fine["Change"]
    # the tone of 2 comments would be their writers' tone: said why it is missing, not "n/a"
    assert fine["Their tone"] == "fewer than 5 comments" and re.fullmatch(r"[+-]\d\.\d\d", examples["Their tone"])
    # a change within chance is "no clear change", never "steady" beside a large move
    assert any("no clear change (adjusted p = " in row["Change"] for row in shown)
    assert not any("steady" in row["Change"] for row in shown)
    # "checklist" and "help" come from the same comments: one theme, one row
    assert [row["Word or phrase"] for row in shown].count("checklist") == 1
    assert "help" not in [row["Word or phrase"] for row in shown]
    learning = next(sentence for sentence in section.lead if sentence.startswith("Learning"))
    # the three most used now, then what fell out of use
    assert learning.startswith("Learning (21 comments in 2026-Q3, mean tone +0.")
    assert '"more examples" in 57% of them (new since 2026-Q2), "checklist" 19%, "shorter" 14%' in learning
    assert learning.endswith('; "fine" fell from 78% in 2026-Q2 to 10% (adjusted p < 0.001).')
    assert not any(sentence.startswith("Mistakes") for sentence in section.lead)
    few = report._voices_section(current.head(8), "2026-Q3", "2026-Q2", 5)
    assert not few.tables and "too few" in few.lead[0]


#: A zero with a minus sign, as a number the reader sees ("-0", "-0.0", "-0.00"; not "-0.05" or a date's "-01").
_NEGATIVE_ZERO = re.compile(r"(?<![\w.])-0(?:\.0+)?(?![.\d])")


def _visible_text(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", _without_library(page), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_no_number_reads_as_a_negative_zero(built):
    _, _, page = built
    text = _visible_text(page)
    assert re.search(r"[+-]\d+\.\d points", text)  # the changes are there to read
    found = [text[max(0, m.start() - 60):m.end() + 20] for m in _NEGATIVE_ZERO.finditer(text)]
    assert not found, found


@pytest.mark.parametrize(("metric", "target", "below", "above"), [
    ("adherence_rate", config.Target(green=0.95, amber=0.9), 0.9452, 0.9551),
    ("median_hours_to_resolve", config.Target(green=24, amber=48, higher_is_better=False), 24.4, 23.6),
    ("employee_sentiment", config.Target(green=0.25, amber=0.1), 0.2496, 0.2504)])
def test_a_value_that_rounds_to_the_target_it_misses_says_it_misses_it(metric, target, below, above, monkeypatch):
    """'95% … amber (green at 95% or more)' read as a contradiction: the sentence rounds 94.5% up."""
    settings = config.get_settings()
    monkeypatch.setattr(config, "get_settings", lambda *a, **k: settings.__class__(
        **{**settings.__dict__, "targets": {**settings.targets, metric: target}}))
    row = {"metric": metric, "label": "It", "period": "2026-Q3", "n": 100, "ci_low": below - 0.01,
           "ci_high": below + 0.01, "suppressed": False, "previous_value": None}
    missed = insights.metric_sentence({**row, "value": below})
    assert "amber against the target" in missed and "just " in missed, missed
    met = insights.metric_sentence({**row, "value": above})
    assert "green against the target" in met and "just " not in met, met


@pytest.mark.parametrize("shown", [
    insights.format_points(-0.00004), insights.format_signed(-0.0004), insights.format_signed(-0.4, 0),
    insights.format_change("incidents", -0.2), insights.format_change("median_hours_to_resolve", -0.04),
    insights.format_change("employee_sentiment", -0.001), insights.format_ci(-0.00001, 0.2, scale="points"),
    insights.format_ci(-0.001, 0.2)])
def test_a_change_too_small_to_show_is_not_shown_as_a_fall(shown):
    assert not _NEGATIVE_ZERO.search(shown) and "0" in shown, shown


def test_each_area_adherence_is_shown_inside_its_interval(built):
    """A value and its interval in one precision: "100%" beside "99.0% to 99.9%" reads as a contradiction."""
    _, _, page = built
    table = next(t for t in _tables(page, "adherence") if t["caption"].startswith("Adherence by policy area"))
    shown = [dict(zip(table["header"], row, strict=True)) for row in table["rows"]]
    ruled = [row for row in shown if row["95% CI"] != "–"]
    assert len(ruled) >= 3
    for row in ruled:
        low, high = (float(part) for part in re.findall(r"([\d.]+)%", row["95% CI"]))
        value = float(row["Adherence"].rstrip("%"))
        assert low <= value <= high, row
        assert len(row["Adherence"].split(".")[-1]) == len(row["95% CI"].split(" to ")[0].split(".")[-1]), row


def test_an_area_without_monitoring_rules_shows_no_figures(built):
    """No rule, no adherence: the quarter's employee posts beside it read as the n of a rate that is not there."""
    _, _, page = built
    table = next(t for t in _tables(page, "adherence") if t["caption"].startswith("Adherence by policy area"))
    shown = [dict(zip(table["header"], row, strict=True)) for row in table["rows"]]
    unruled = [row for row in shown if row["Adherence"] == "no monitoring rule in this area"]
    assert unruled, "the sample's rules leave some areas without one"
    for row in unruled:
        assert {value for key, value in row.items() if key not in ("Area", "Adherence")} == {"–"}, row


def test_the_rules_that_fired_are_those_that_fired_on_a_post_in_either_period(built, sample_warehouse):
    """A rule whose every finding was dismissed did not fire: it is no row of zeros."""
    period, _, page = built
    table = next(t for t in _tables(page, "adherence") if t["caption"].startswith("Rules that fired"))
    shown = [dict(zip(table["header"], row, strict=True)) for row in table["rows"]]
    previous = next(key for key in table["header"] if key.startswith("Posts in "))
    assert shown and all(row["Posts"] != "0" or row[previous] != "0" for row in shown), shown
    posts = datasets.employee_posts(through=period, warehouse_file=sample_warehouse)
    posts = posts[posts["month"] >= pd.Timestamp(period.start)]
    fired = priorities.rules_fired(posts, datasets.employee_findings(warehouse_file=sample_warehouse))
    assert (fired["n_posts"] == 0).any(), "the sample should hold a rule whose findings were all dismissed"
    assert {row["Rule"] for row in shown} >= set(fired.loc[fired["n_posts"] > 0, "name"])


def test_training_effects_name_their_outcomes_in_words(built):
    _, _, page = built
    table = next(t for t in _tables(page, "training") if t["caption"].startswith("Trained and untrained"))
    outcomes = {row[0] for row in table["rows"]}
    assert outcomes == {"Posts with a policy violation", "Positive posts"}, outcomes


def test_each_revision_effect_is_shown_inside_its_interval_in_its_precision(built):
    _, _, page = built
    table = next(t for t in _tables(page, "revision") if t["caption"].startswith("Interrupted time series"))
    shown = [dict(zip(table["header"], row, strict=True)) for row in table["rows"]]
    assert {row["Metric"] for row in shown} >= {"Adherence rate", "Employee-post sentiment"}
    for row in shown:
        level = re.match(r"[+-]?\d+\.(\d+)", row["Level change"])
        low, high = row["95% CI (level)"].split(" to ")
        assert len(low.split(".")[-1]) == len(high.split(".")[-1]) == len(level.group(1)), row
        assert float(low) <= float(level.group(0)) <= float(high), row


def test_a_range_holding_a_hidden_month_hides_the_pooled_figure():
    """Pooled from the months it was shown for, the range's share would leave the hidden month's incidents out."""
    monthly = pd.DataFrame({"period": ["2026-07", "2026-08"], "department": metrics.ALL, "platform": metrics.ALL,
                            "metric": "self_reported_share", "value": [0.5, np.nan], "n": [8.0, np.nan],
                            "n_people": [8.0, np.nan], "successes": [4.0, np.nan], "sd": np.nan, "ci_low": np.nan,
                            "ci_high": np.nan, "suppressed": [False, True]})
    pooled = report.period_table(monthly, monthly.iloc[:0], [parse_period(start="2026-07-01", end="2026-08-31")])
    assert pooled["suppressed"].tolist() == [True] and pooled[["value", "n"]].isna().all(axis=None)


def test_a_revision_too_recent_to_measure_is_named_before_the_last_measurable_one(sample_warehouse, tmp_path):
    """2026-02's report told version 2.0 as the latest revision, with 3.0 in force since 2026-01-15."""
    versions = datasets.policy_revisions(warehouse_file=sample_warehouse).sort_values("effective_on")
    newest = versions.iloc[-1]
    month = parse_period(f"{pd.Timestamp(newest['effective_on']) + pd.DateOffset(months=1):%Y-%m}")
    result = report.build_report(period=month, previous=None, warehouse_file=sample_warehouse, out=tmp_path,
                                 pdf=False)
    section = re.search(r'<section id="revision".*?</section>', result.html_path.read_text(encoding="utf-8"), re.S)
    said = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section.group(0))).split())
    effective = f"{pd.Timestamp(newest['effective_on']):%Y-%m-%d}"
    assert f"The latest revision up to {month.label} is version {newest['version']} (effective {effective})" in said
    assert f"Version {newest['version']} (effective {effective}) is too recent to measure" in said
    measured = versions.iloc[-2]
    assert f"The last one measurable: Adherence rose at version {measured['version']}" in said
