"""The install-time fetch of plotly.js-basic (``analytics.frontend``) from a tarball built here (no
network), and the charts' choice between plotly.js-basic and plotly's full bundle."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import urllib.error
from pathlib import Path

import ipywidgets as widgets
import plotly.graph_objects as go
import pytest

from analytics import charts, dashboard, frontend

BUNDLE = b"/* a stand-in for plotly-basic.min.js */ window.Plotly = {};\n"
LICENSE = b"The MIT License (MIT)\n"


def _tarball(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, payload in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return out.getvalue()


class _Opener:
    """Stands in for ``urllib.request.urlopen``: serves ``payload`` and records what was asked."""

    def __init__(self, payload: bytes | Exception) -> None:
        self.payload, self.asked = payload, []

    def __call__(self, url: str, timeout: float):
        self.asked.append(url)
        if isinstance(self.payload, Exception):
            raise self.payload
        return io.BytesIO(self.payload)


def _pin(payload: bytes, integrity: str | None = None) -> frontend.Pin:
    return frontend.Pin("plotly.js-basic-dist-min", "9.9.9", integrity or frontend.integrity_of(payload),
                        dict(frontend.PLOTLY_BASIC.files))


GOOD = _tarball({"package/LICENSE": LICENSE, "package/plotly-basic.min.js": BUNDLE, "package/README.md": b"x"})


def test_fetch_installs_the_pinned_files_once(tmp_path):
    opener, pin = _Opener(GOOD), _pin(GOOD)
    folder = frontend.fetch(tmp_path, pin=pin, opener=opener)
    assert folder == tmp_path / "plotly.js-basic-dist-min-9.9.9"
    assert (folder / "plotly-basic.min.js").read_bytes() == BUNDLE
    assert (folder / "LICENSE").read_bytes() == LICENSE
    assert sorted(p.name for p in folder.iterdir()) == ["LICENSE", "plotly-basic.min.js"]  # no temporary left
    assert oct((folder / "plotly-basic.min.js").stat().st_mode & 0o777) == "0o644"
    assert opener.asked == [pin.url]
    frontend.fetch(tmp_path, pin=pin, opener=opener)  # already there: no download
    assert opener.asked == [pin.url]


def test_the_real_pin_matches_the_registry_address():
    assert frontend.PLOTLY_BASIC.url == (
        "https://registry.npmjs.org/plotly.js-basic-dist-min/-/plotly.js-basic-dist-min-4.1.1.tgz")
    assert frontend.basic_bundle_path(Path("/x")) == Path("/x/plotly.js-basic-dist-min-4.1.1/plotly-basic.min.js")


def test_an_integrity_mismatch_names_the_url_and_both_hashes_and_writes_nothing(tmp_path):
    tampered = _tarball({"package/LICENSE": LICENSE, "package/plotly-basic.min.js": BUNDLE + b"evil();"})
    pin = _pin(GOOD)
    with pytest.raises(frontend.IntegrityError) as caught:
        frontend.fetch(tmp_path, pin=pin, opener=_Opener(tampered))
    message = str(caught.value)
    assert pin.url in message and pin.integrity in message and frontend.integrity_of(tampered) in message
    assert list(tmp_path.iterdir()) == []


def test_a_tarball_without_the_pinned_file_is_refused(tmp_path):
    partial = _tarball({"package/LICENSE": LICENSE})
    with pytest.raises(frontend.IntegrityError, match=r"plotly-basic\.min\.js"):
        frontend.fetch(tmp_path, pin=_pin(partial), opener=_Opener(partial))
    assert not (tmp_path / "plotly.js-basic-dist-min-9.9.9" / "plotly-basic.min.js").exists()


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary(tmp_path, monkeypatch):
    pin = _pin(GOOD)
    folder = tmp_path / pin.folder
    folder.mkdir()
    (folder / "LICENSE").write_bytes(b"old licence")

    def refuse(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        frontend.fetch(tmp_path, pin=pin, opener=_Opener(GOOD))
    assert (folder / "LICENSE").read_bytes() == b"old licence"
    assert sorted(p.name for p in folder.iterdir()) == ["LICENSE"]


def test_offline_the_install_step_warns_and_carries_on(tmp_path, monkeypatch, capsys):
    offline = _Opener(urllib.error.URLError("Temporary failure in name resolution"))
    monkeypatch.setattr(frontend.urllib.request, "urlopen", offline)
    assert frontend.main(["fetch", "--root", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning:") and frontend.PLOTLY_BASIC.url in err and "name resolution" in err
    assert offline.asked == [frontend.PLOTLY_BASIC.url]
    assert list(tmp_path.iterdir()) == []


def test_the_install_step_fails_on_an_integrity_mismatch(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(frontend.urllib.request, "urlopen", _Opener(GOOD))  # not the pinned tarball
    assert frontend.main(["fetch", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and frontend.PLOTLY_BASIC.integrity in err
    assert list(tmp_path.iterdir()) == []


def test_the_server_uses_the_fetched_bundle_only_for_plotlys_own_plotly_js_version(tmp_path, monkeypatch):
    from plotly import offline

    from analytics import serve

    monkeypatch.setenv("POLICY_PULSE_FRONTEND_DIR", str(tmp_path))
    assert serve.basic_bundle() is None  # not fetched
    bundle = frontend.basic_bundle_path(tmp_path)
    bundle.parent.mkdir(parents=True)
    bundle.write_bytes(BUNDLE)
    monkeypatch.setattr(offline, "get_plotlyjs_version", lambda: frontend.PLOTLY_BASIC.version)
    assert serve.basic_bundle() == bundle
    monkeypatch.setattr(offline, "get_plotlyjs_version", lambda: "99.0.0")  # plotly upgraded, pin not
    assert serve.basic_bundle() is None


# --- which bundle a chart loads ------------------------------------------------------------------------

def test_a_chart_with_a_trace_type_basic_lacks_loads_plotlys_full_bundle(monkeypatch):
    monkeypatch.setenv(charts.SHARED_BUNDLE_ENV, "static/basic.js")
    monkeypatch.setenv(charts.FULL_BUNDLE_ENV, "static/full.js")
    monkeypatch.delenv("VOILA_BASE_URL", raising=False)
    lines = charts.as_widget(go.Figure([go.Scatter(y=[1, 2]), go.Bar(y=[3])]))
    heatmap = charts.as_widget(go.Figure([go.Scatter(y=[1, 2]), go.Heatmap(z=[[1]])]))
    assert '"/static/basic.js"' in lines._esm and '"/static/full.js"' in heatmap._esm
    monkeypatch.delenv(charts.FULL_BUNDLE_ENV)  # the server has no basic bundle: one bundle for all
    assert '"/static/basic.js"' in charts.as_widget(go.Figure(go.Heatmap(z=[[1]])))._esm


def _figures(widget) -> list[go.FigureWidget]:
    if isinstance(widget, go.FigureWidget):
        return [widget]
    return [f for child in getattr(widget, "children", ()) for f in _figures(child)]


def test_every_trace_the_dashboards_draw_is_one_plotly_basic_draws(sample_warehouse):
    data = dashboard.load_data(sample_warehouse)
    board = dashboard.LeadershipDashboard(data)
    review = dashboard.policy_review(sample_warehouse)
    assert isinstance(review, widgets.VBox)

    def types(widget) -> set[str]:
        figures = _figures(widget)
        assert figures
        return {trace.type for figure in figures for trace in figure.data}

    seen = types(board.widget) | types(review)
    options = dashboard.filter_options(data.quarterly)
    # and after every kind of filter change: a department or platform brings more traces (and bars)
    for control, value in [(board.department, options["departments"][1]), (board.platform, options["platforms"][1]),
                           (board.period, options["periods"][-1])]:
        control.value = value
        seen |= types(board.widget)
    assert {"scatter", "bar"} <= seen <= charts.BASIC_TRACE_TYPES


_JSONSCHEMA_AFTER_A_CHART = """
import json, sys
import plotly.graph_objects as go
from analytics import charts
charts.as_widget(go.Figure(go.Bar(x=[1], y=[2])))
import jsonschema, nbformat
jsonschema.validate({"a": 1}, {"type": "object", "properties": {"a": {"type": "integer"}}})
nbformat.validate(nbformat.v4.new_notebook())
print(json.dumps({"grammar": sys.modules.get("rfc3987_syntax") is not None,
                  "iri": "iri" in jsonschema.FormatChecker.checkers}))
"""


@pytest.mark.parametrize("served", [True, False])
def test_a_served_dashboard_s_kernel_imports_jsonschema_without_the_iri_grammar(served):
    """Only there: its import built a lark grammar, 1-2 s of the kernel's rendering; an analyst's kernel keeps
    jsonschema whole. Either way jsonschema and nbformat validate."""
    env = {k: v for k, v in os.environ.items() if k not in (charts.SHARED_BUNDLE_ENV, charts.FULL_BUNDLE_ENV)}
    if served:
        env[charts.SHARED_BUNDLE_ENV] = "static/basic.js"
    done = subprocess.run([sys.executable, "-c", _JSONSCHEMA_AFTER_A_CHART], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {"grammar": not served, "iri": not served}
