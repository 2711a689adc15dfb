"""Serve the Voila dashboards to leadership: local only, sources stripped, nothing to browse or run.

``serve`` starts Voila over ``dashboards/`` on 127.0.0.1 with preheated kernels (each dashboard is
executed before anyone asks for it, so the page appears in the time the browser takes to draw it).
The viewer gets exactly the dashboards: the file tree, the contents API and the file handler are
removed or closed, the kernel channel accepts widget messages only (Voila's default: no code
execution), and rendered pages carry no notebook source. The warehouse path reaches the kernels
through ``POLICY_PULSE_WAREHOUSE``.

The dashboards' charts share one widget bundle, served once at :data:`PLOTLY_BUNDLE_PATH`: when the
install step fetched plotly.js-basic (:mod:`analytics.frontend`), that 1.2 MB file followed by our own
front end for ``go.FigureWidget`` (``resources/plotly_widget.js``); else plotly's own 5 MB widget
bundle, as the start-up log says. Evaluating plotly's full bundle was 0.6-1.9 s of the page's main
thread. A chart with a trace type plotly.js-basic lacks loads plotly's bundle from
:data:`FULL_BUNDLE_PATH` instead (:func:`analytics.charts.as_widget` chooses).

A dashboard's page downloads and compiles the shared bundle from its first tags on (a ``<link
rel=modulepreload fetchpriority=high>``: the browser fetches it before the preload hints below and
compiles the module on a background thread while the page's own scripts run, and an async module
script of the same address, which evaluates it as soon as it is compiled; the page's static first
screen, :mod:`analytics.firstpaint`, is drawn by it). A link added by a script as it runs (the way
before) came after the ~75 hinted scripts the browser's preload scanner had already asked for: the
bundle arrived 0.3 s after the page instead of 0.1 s. The compilation used to start
only on ``load`` (the bytes were fetched early, the module requested on ``load``): it then finished
1-2 s after the widgets were drawn on this machine, and the first chart, which needs plotly, waited
for it. Evaluating it only on ``load`` (so that Voila's scripts would not wait behind it) measured
slower: Voila's start after ``load`` then waited behind it instead.
The bundle's first line is V8's explicit compile hint (``//# allFunctionsCalledOnLoad``, Chrome 136
and later; a comment to any other browser): the browser compiles its functions on a background thread
while it streams the file in, instead of one by one on the page's main thread while evaluating it,
which took 40 % of the full bundle's evaluation (about 0.4 of 1.0 s of main-thread CPU on this
machine); the main thread, which must also set up Voila and every widget, is what the first render
waits for. Only notebooks whose metadata says ``"policy_pulse":
{"plotly_bundle": "shared"}`` (the dashboards, whose charts come from :func:`analytics.charts.as_widget`)
get any of this: a notebook of plain FigureWidgets never imports the shared bundle.

Voila's page asks for its other ~90 scripts in waves, each wave only once the scripts before it have run
(its bundle's chunks, then the widget extensions' entry points, their chunks, more of Voila's). The
server learns which scripts each dashboard's page asked for (the requests whose ``Referer`` is the
page: :class:`_ScriptHints`) and gives the next page a ``<link rel=preload>`` for each, so the browser
fetches them all at once while it runs the first; the first page after the server starts has none.
Alternated with and without the hints in one server (12 preheated loads): 0.2 s sooner on average.

A preheated kernel joins the pool (and the log says "Kernel pool of ... is filled") only once it has
rendered its dashboard: Voila's own pool counts a kernel as soon as it has started, so a viewer
arriving then would wait for the whole notebook to run. The pool is refilled a few seconds after a
kernel is taken, so the next kernel's start does not compete with the browser drawing the page; a second
viewer of the same dashboard within that delay has the refill begin at once (Voila's pool would have them
wait out the delay before their kernel even started: up to 10 s more).
"""

from __future__ import annotations

import asyncio
import functools
import html
import inspect
import json
import logging
import os
import re
import time
import weakref
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import plotly
import tornado.web
from traitlets.config import Config

from analytics import config, frontend, snapshots
from analytics.charts import FULL_BUNDLE_ENV, SHARED_BUNDLE_ENV

__all__ = ["ABANDONED_KERNEL_SECONDS", "DASHBOARDS", "DENIED_EXTENSIONS", "FULL_BUNDLE_PATH", "PLOTLY_BUNDLE_PATH",
           "PLOTLY_WIDGET_BUNDLE", "basic_bundle", "dashboard_app", "serve"]

#: JupyterLab extensions installed beside Voila that a dashboard's page does not load: the preview extension is
#: for editors, not viewers; plotly's lab extension renders plotly outputs that are not widgets (the
#: dashboards have none) and loads its own 5 MB plotly.js per page; the pygments theme colours code, and a
#: dashboard shows none (leaving it out saves five requests; the first render moved by less than this
#: machine's noise: medians 2.64 against 2.65 s over 15 preheated loads each).
DENIED_EXTENSIONS = ("@voila-dashboards/jupyterlab-preview", "jupyterlab-plotly", "jupyterlab_pygments")

#: The notebooks served (file name -> title on the index page), in the order the index lists them.
DASHBOARDS = {"leadership.ipynb": "Leadership dashboard", "policy-review.ipynb": "Policy review (committee)"}
#: Where the server publishes the charts' widget bundle once, so each chart need not carry its own copy:
#: our front end over plotly.js-basic when installed, else plotly's own (full) widget bundle.
PLOTLY_BUNDLE_PATH = "policy-pulse/static/plotly-widget.js"
#: plotly's own widget bundle, beside the basic one, for a chart with trace types plotly.js-basic lacks.
FULL_BUNDLE_PATH = "policy-pulse/static/plotly-widget-full.js"
#: plotly's own widget bundle (plotly.js in full and plotly's widget code), as the plotly package ships it.
PLOTLY_WIDGET_BUNDLE = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
#: Our front end for go.FigureWidget, served after plotly.js-basic.
WIDGET_SOURCE = Path(__file__).parent / "resources" / "plotly_widget.js"
#: The first line of the served bundle: V8's explicit compile hint (compile every function eagerly, off
#: the main thread, while the file streams in); plotly's bytes follow unchanged.
COMPILE_HINT = b"//# allFunctionsCalledOnLoad\n"
#: Seconds between a viewer taking a preheated kernel and the pool starting its replacement.
REFILL_DELAY = 10.0
#: Seconds between two looks at the warehouse's published snapshot (one ``stat``): a pooled dashboard rendered
#: before a publication is rendered again, so the next viewer sees the new data without waiting.
REPUBLISHED_CHECK_SECONDS = 2.0
#: Seconds a publication must stand (no later one) before the pool renders the dashboards again on its own:
#: a watcher publishing export after export would otherwise keep both cores rendering. A viewer arriving
#: meanwhile waits for a rendering of the data as it is then.
REPUBLISHED_QUIET_SECONDS = 5.0

#: Seconds a viewer's kernel may stay idle with no page connected to it before it is shut down. A page
#: closed in the browser asks for its kernel's shutdown; one that could not ask (a browser killed, a laptop
#: closed, the network gone) left the kernel, a few hundred MB, running until the server stopped. A page
#: that is open is never shut down however long it sits (its connection counts), nor a preheated kernel
#: waiting in the pool; a page away longer than this, then back, has lost its kernel and is reloaded.
ABANDONED_KERNEL_SECONDS = 15 * 60


class _IndexHandler(tornado.web.RequestHandler):
    """The landing page: links to the dashboards, never a listing of the folder."""

    def initialize(self, names: dict[str, str], base_url: str) -> None:
        self.names = names
        self.base_url = base_url

    def get(self) -> None:
        links = "".join(
            f'<li><a href="{html.escape(self.base_url)}voila/render/{html.escape(name)}">{html.escape(title)}</a></li>'
            for name, title in self.names.items()
        )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(f"<!doctype html><html><head><meta charset='utf-8'><title>Policy Pulse</title></head>"
                   f"<body style='font-family:sans-serif;margin:2em'><h1>Policy Pulse</h1><ul>{links}</ul>"
                   "</body></html>")


class _BundleHandler(tornado.web.RequestHandler):
    """A FigureWidget bundle, served as one cacheable module."""

    def initialize(self, path: Path, basic: bool) -> None:
        self.path = path
        self.basic = basic

    def get(self) -> None:
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "public, max-age=86400")
        self.write(_basic_module(self.path) if self.basic else _read_bundle(self.path))


@functools.lru_cache(maxsize=1)
def _read_bundle(path: Path) -> bytes:
    return COMPILE_HINT + path.read_bytes()


@functools.lru_cache(maxsize=1)
def _basic_module(path: Path) -> bytes:
    """plotly.js-basic and our front end as one ES module: the UMD bundle is handed a ``module`` object
    inside a function (so it defines no module-level names but ``Plotly``), our code follows."""
    return (COMPILE_HINT + b"const Plotly = (() => {\nconst module = { exports: {} };\n" + path.read_bytes()
            + b"\nreturn module.exports;\n})();\n" + WIDGET_SOURCE.read_bytes())


def basic_bundle() -> Path | None:
    """The installed plotly.js-basic bundle (``python -m analytics.frontend fetch``), or None when it is
    missing or is not the plotly.js version the installed plotly package was made for (after an upgrade
    of plotly, its own bundle is the one that matches the figures it writes)."""
    from plotly.offline import get_plotlyjs_version

    path = frontend.basic_bundle_path()
    return path if path.is_file() and frontend.PLOTLY_BASIC.version == get_plotlyjs_version() else None


def _bundle_tags(bundle_url: str) -> str:
    """The page's first tags: fetch plotly's bundle first, at high priority, and evaluate it once compiled.

    >>> tags = _bundle_tags("/b.js")
    >>> tags.index('rel="modulepreload"') < tags.index('type="module" async')
    True
    """
    url = html.escape(bundle_url)
    # the charts' module imports the same instance; an async module runs once compiled, parsing or not
    return (f'<link rel="modulepreload" href="{url}" fetchpriority="high">'
            f'<script type="module" async src="{url}"></script>')


#: A stylesheet fetched from another host: Voila's page template asks a CDN for Font Awesome's icon fonts.
_REMOTE_STYLESHEET = re.compile(r'<link\s+rel="stylesheet"\s+href="(?:https?:)?//[^"]*"[^>]*>\s*', re.IGNORECASE)


def _without_remote_stylesheets(chunk: str) -> str:
    """A page's ``chunk`` without the stylesheets it would fetch from another host. Voila's template loads Font
    Awesome from a CDN in the page's head: a stylesheet there holds the first paint until it arrives, so a network
    that drops the CDN's packets (an office firewall; no network at all) would keep the dashboards blank until the
    browser gave up, and every page view would tell the CDN who looks at the dashboards. The dashboards use no
    icon; their pages ask nothing of any other host.

    >>> _without_remote_stylesheets('<style></style><link rel="stylesheet" href="https://cdn.example/a.css" '
    ...                             'type="text/css" /> <link rel="stylesheet" href="/voila/static/b.css">')
    '<style></style><link rel="stylesheet" href="/voila/static/b.css">'
    """
    return _REMOTE_STYLESHEET.sub("", chunk)


#: At most this many scripts are hinted to a dashboard's page (it loads about 90).
_MAX_SCRIPT_HINTS = 300


class _ScriptHints:
    """The scripts each dashboard's page loaded, learned from the server's requests, as preload hints.

    A request counts when it is a GET of a ``.js`` file answered 200 or 304 whose ``Referer`` is a
    dashboard's page (``pages``: its path as the browser sees it -> notebook name), not one of the ``skip``
    paths (the chart bundles: the page loads those as modules, early, already). Voila serves its routes
    under ``served_under`` and its pages name them under ``linked_under`` (the two differ behind a proxy):
    paths are kept relative, ``skip``'s too. Hints keep the order first seen.

    >>> hints = _ScriptHints({"/voila/render/a.ipynb": "a.ipynb"}, skip={"bundle.js"})
    >>> for path in ("/s/1.js?v=9", "/bundle.js", "/s/2.css", "/s/1.js?v=9"):
    ...     hints.learn("GET", 200, path, "http://127.0.0.1:8866/voila/render/a.ipynb?x=1")
    >>> hints.learn("GET", 404, "/s/3.js", "http://127.0.0.1:8866/voila/render/a.ipynb")
    >>> hints.links("a.ipynb")
    '<link rel="preload" as="script" href="/s/1.js?v=9">'
    >>> proxied = _ScriptHints({"/user/x/voila/render/a.ipynb": "a.ipynb"}, skip=(), linked_under="/user/x/")
    >>> proxied.learn("GET", 200, "/s/1.js", "http://host/user/x/voila/render/a.ipynb")
    >>> proxied.links("a.ipynb")
    '<link rel="preload" as="script" href="/user/x/s/1.js">'
    """

    def __init__(self, pages: dict[str, str], skip: Collection[str], *, served_under: str = "/",
                 linked_under: str = "/") -> None:
        self._pages = dict(pages)
        self._skip = frozenset(skip)
        self._served_under, self._linked_under = served_under, linked_under
        self._scripts: dict[str, dict[str, None]] = {name: {} for name in self._pages.values()}

    def learn(self, method: str, status: int, uri: str, referer: str | None) -> None:
        """Note one request (its method, status, path with query, and ``Referer`` header)."""
        name = self._pages.get(urlsplit(referer).path) if referer else None
        relative = uri.removeprefix(self._served_under)
        path = urlsplit(relative).path
        if (name is None or method != "GET" or status not in (200, 304) or not path.endswith(".js")
                or path in self._skip or relative == uri):
            return
        scripts = self._scripts[name]
        if relative not in scripts and len(scripts) < _MAX_SCRIPT_HINTS:
            scripts[relative] = None

    def links(self, name: str) -> str:
        """The page ``name``'s preload links, one per script learned."""
        return "".join(f'<link rel="preload" as="script" href="{html.escape(self._linked_under + relative)}">'
                       for relative in self._scripts.get(name, ()))


def _logged_and_learned(hints: _ScriptHints) -> Callable[[tornado.web.RequestHandler], None]:
    """A tornado ``log_function``: the access log line tornado writes by default, and the request learned."""
    access = logging.getLogger("tornado.access")

    def log(handler: tornado.web.RequestHandler) -> None:
        request, status = handler.request, handler.get_status()
        hints.learn(request.method or "", status, request.uri or "", request.headers.get("Referer"))
        level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
        access.log(level, "%d %s %s (%s) %.2fms", status, request.method, request.uri, request.remote_ip,
                   1000.0 * request.request_time())

    return log


def _uses_shared_bundle(notebook: Path) -> bool:
    """Whether the notebook's metadata says its charts use the shared plotly bundle."""
    try:
        metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return False
    return (metadata.get("policy_pulse") or {}).get("plotly_bundle") == "shared"


def _page_handler(base: type, bundle_url: str, root: Path, hints: _ScriptHints) -> type:
    """Voila's page handler, whose page of a dashboard loads plotly's shared bundle early and is given
    the scripts its pages loaded before as preload hints. It sets the XSRF cookie, which the page sends back
    when it is left, with its request to shut its kernel down: Voila's own handler sets none, so that request
    was refused (``403 '_xsrf' argument missing``, voila-dashboards/voila#1458) and the kernel of every
    closed page, a few hundred MB, lived on until the server stopped."""
    tags = _bundle_tags(bundle_url)

    class DashboardPageHandler(base):
        @tornado.web.authenticated
        async def get(self, path: str | None = None) -> None:
            self.xsrf_token  # noqa: B018 - read for its side effect: the cookie, set before the first flush
            inject = path is not None and _uses_shared_bundle(root / path)
            in_head = True  # the stylesheets are the head's: the outputs after it, megabytes, are left as they are
            async for chunk in self.get_generator(path=path):
                if in_head:
                    chunk, in_head = _without_remote_stylesheets(chunk), "</head>" not in chunk
                if inject and "<head>" in chunk:
                    chunk, inject = chunk.replace("<head>", "<head>" + tags + hints.links(path), 1), False
                self.write(chunk)
                self.flush()

    return DashboardPageHandler


def _rendered_pool(manager_class: type) -> type:
    """``manager_class`` (Voila's preheating kernel manager) whose pooled kernels count only once rendered,
    whose kernel taken from the pool by a viewer counts as active from then on (see
    :data:`ABANDONED_KERNEL_SECONDS`), and whose pool never serves a dashboard rendered from data published
    over since (see :data:`REPUBLISHED_CHECK_SECONDS`)."""
    from tornado.ioloop import PeriodicCallback

    class RenderedPoolKernelManager(manager_class):
        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            self._refills_begun: set[asyncio.Task] = set()
            #: each pooled rendering's published data when it began (:func:`snapshots.published_version`)
            self._rendered_from: weakref.WeakKeyDictionary[asyncio.Task, object] = weakref.WeakKeyDictionary()
            self._warehouse = config.warehouse_path()
            #: the published snapshot last seen, and since when (monotonic seconds)
            self._published = (snapshots.published_version(self._warehouse), time.monotonic())
            #: renderings taken out of the pool as stale, and the shutdowns of their kernels
            self._retired: set[asyncio.Task] = set()
            self._closing: set[asyncio.Future] = set()
            self._looks = PeriodicCallback(self._render_again_if_republished,
                                           REPUBLISHED_CHECK_SECONDS * 1000)
            self._looks.start()

        async def _initialize(self, notebook_path: str, kernel_id: str | None = None, **kwargs) -> dict:
            self._refills_begun.add(asyncio.current_task())
            # read before the kernel reads the warehouse: a publication in between makes this rendering
            # count as stale, never a stale one as fresh
            self._rendered_from[asyncio.current_task()] = snapshots.published_version(self._warehouse)
            content = await super()._initialize(notebook_path, kernel_id, **kwargs)
            # wait, without raising: a failed rendering is Voila's to report when the page is requested
            await asyncio.wait({content["task"]})
            return content

        def _render_again_if_republished(self, notebook_name: str | None = None, **fill) -> None:
            """Replace each pooled rendering that began before the warehouse's last publication by one begun
            now, so that a viewer never gets the data it replaced (numbers since rebuilt, a person since
            erased). With ``notebook_name`` (a viewer waits for it) that dashboard's, even one still rendering;
            else, once the last publication has stood :data:`REPUBLISHED_QUIET_SECONDS`, every dashboard's
            finished ones (one still rendering is looked at again once it has finished): a stream of
            publications keeps at most one rendering of each dashboard going, not one per publication.
            ``fill``: Voila's arguments for the new kernel."""
            now = snapshots.published_version(self._warehouse)
            if now != self._published[0]:
                self._published = (now, time.monotonic())
            if notebook_name is None and time.monotonic() - self._published[1] < REPUBLISHED_QUIET_SECONDS:
                return
            chosen = (self._pools.items() if notebook_name is None
                      else [(notebook_name, self._pools.get(notebook_name, []))])
            for name, pool in chosen:
                stale = [task for task in pool if self._rendered_from.get(task, now) != now
                         and (task.done() or notebook_name is not None)]
                for task in stale:
                    pool.remove(task)
                    self._retired.add(task)
                    task.add_done_callback(self._shut_down_rendered)
                if stale:
                    self.log.info("Rendering %s again for its next viewer: the warehouse was published since "
                                  "its pooled kernel read it", name)
                    self.fill_if_needed(delay=0, notebook_name=name, **fill)

        def _refill_now_for_a_viewer(self, notebook_name: str, **fill) -> None:
            """When the viewer asking for ``notebook_name`` would be given a refill still in its
            :data:`REFILL_DELAY`, give them one begun now instead: the delay spares a page being drawn, not one
            waiting for its kernel. The delayed refill stays in the pool for the next viewer (so no more
            kernels run than before, and none is cancelled). ``fill``: Voila's arguments for the new kernel."""
            pool = self._pools.get(notebook_name, [])
            if not pool or pool[0].done() or pool[0] in self._refills_begun:
                return
            delayed = pool.pop(0)
            self.fill_if_needed(delay=0, notebook_name=notebook_name, **fill)
            pool.insert(0, pool.pop())
            pool.append(delayed)
            self.log.info("Rendering %s at once: a viewer asked for it within the delay of its refill", notebook_name)

        def _shut_down_rendered(self, task: asyncio.Task) -> None:
            """Shut down the kernel of a rendering taken out of the pool, once it has one."""
            self._retired.discard(task)
            if not task.cancelled() and task.exception() is None:
                closing = asyncio.ensure_future(self.shutdown_kernel(task.result()["kernel_id"]))
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)

        async def shutdown_all(self, *args, **kwargs) -> None:
            self._looks.stop()
            # a stale rendering still starting its kernel would start it after the others are shut down
            await asyncio.gather(*self._retired, return_exceptions=True)
            await asyncio.gather(*self._closing, return_exceptions=True)
            # Voila waits for every pool task, and a refill still in its delay would then start a kernel and
            # render a dashboard only to shut it down: a stop within the delay of a visit took ~11 s, not ~4
            for pool in self._pools.values():
                for task in [t for t in pool if not t.done() and t not in self._refills_begun]:
                    pool.remove(task)
                    _abandon(task)
            await super().shutdown_all(*args, **kwargs)

        async def get_rendered_notebook(self, notebook_name: str, *args, **kwargs) -> tuple:
            # a publication less than a check ago: this viewer waits for a rendering of the new data
            # (first: a rendering begun now reads the publication as it is now)
            self._refill_now_for_a_viewer(notebook_name, **kwargs)
            self._render_again_if_republished(notebook_name, **kwargs)
            taken = await super().get_rendered_notebook(notebook_name, *args, **kwargs)
            # idle in the pool since it rendered, maybe for hours: the culler would shut it down before the
            # viewer's page connects to it. Its idle time starts now.
            self.get_kernel(taken[2]).last_activity = datetime.now(UTC)
            return taken

    return RenderedPoolKernelManager


def _abandon(task: asyncio.Task) -> None:
    """Cancel a pool refill still in its delay, closing the start it was to await (else Python warns, when the
    task is collected, that the coroutine was never awaited)."""
    frame = getattr(task.get_coro(), "cr_frame", None)
    for value in (frame.f_locals.values() if frame is not None else ()):
        if inspect.iscoroutine(value):
            value.close()
    task.cancel()


def dashboard_app(basic: Path | None = None):
    """The Voila application class with the browsing handlers removed (built lazily: Voila is heavy).

    With ``basic`` (the plotly.js-basic bundle) the charts' shared bundle is our front end over it, and
    plotly's full bundle is served beside it; without, the shared bundle is plotly's own.
    """
    import nbformat
    import voila.app
    from voila.app import Voila
    from voila.tornado.contentshandler import VoilaContentsHandler
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.treehandler import TornadoVoilaTreeHandler

    class DashboardVoila(Voila):
        """Voila serving a fixed set of dashboards from a folder, with no tree, contents API or other notebook."""

        def init_settings(self) -> dict:
            # Voila builds its kernel manager class inside init_settings from this module-level factory
            factory = voila.app.voila_kernel_manager_factory

            def rendered_factory(*args, **kwargs) -> type:
                made = factory(*args, **kwargs)
                return _rendered_pool(made) if self.voila_configuration.preheat_kernel else made

            voila.app.voila_kernel_manager_factory = rendered_factory
            try:
                settings = super().init_settings()
            finally:
                voila.app.voila_kernel_manager_factory = factory
            settings["log_function"] = _logged_and_learned(self.script_hints)
            return settings

        @functools.cached_property
        def script_hints(self) -> _ScriptHints:
            pages = {f"{self.base_url}voila/render/{name}": name for name in DASHBOARDS}
            return _ScriptHints(pages, skip={PLOTLY_BUNDLE_PATH, FULL_BUNDLE_PATH}, served_under=self.server_url,
                                linked_under=self.base_url)

        def init_handlers(self) -> list:
            removed = (TornadoVoilaTreeHandler, VoilaContentsHandler, TornadoVoilaHandler)
            handlers = [h for h in super().init_handlers() if h[1] not in removed]
            root = Path(self.root_dir)
            names = {name: title for name, title in DASHBOARDS.items() if (root / name).is_file()}
            for name in names:  # our own notebooks, executed afresh for each page: no stored output to distrust
                self.contents_manager.notary.sign(nbformat.read(root / name, as_version=4))
            extra = [(self.server_url.rstrip("/") + "/?", _IndexHandler, {"names": names, "base_url": self.base_url})]
            if names:
                pattern = "|".join(name.replace(".", r"\.") for name in names)
                page = _page_handler(TornadoVoilaHandler, self.base_url + PLOTLY_BUNDLE_PATH, root, self.script_hints)
                extra.append((self.server_url + rf"voila/render/({pattern})", page, {
                    "template_paths": self.template_paths, "config": self.config,
                    "voila_configuration": self.voila_configuration,
                }))
            full = PLOTLY_WIDGET_BUNDLE
            if basic is None:
                self.log.info("Charts use plotly's full widget bundle (%s): plotly.js-basic is not installed "
                              "(python -m analytics.frontend fetch) or is not plotly's own version", full)
                extra.append((self.server_url + PLOTLY_BUNDLE_PATH, _BundleHandler, {"path": full, "basic": False}))
            else:
                self.log.info("Charts use plotly.js-basic (%s); plotly's full bundle serves other trace types", basic)
                extra += [(self.server_url + PLOTLY_BUNDLE_PATH, _BundleHandler, {"path": basic, "basic": True}),
                          (self.server_url + FULL_BUNDLE_PATH, _BundleHandler, {"path": full, "basic": False})]
            return extra + handlers

    return DashboardVoila


def _voila_config(port: int, open_browser: bool, preheat: bool, abandoned_kernel_seconds: int) -> Config:
    cfg = Config()
    cfg.Voila.ip = "127.0.0.1"
    cfg.Voila.port = port
    cfg.Voila.port_retries = 0  # a busy port is an error to report, not a reason to move elsewhere
    cfg.Voila.open_browser = open_browser
    cfg.VoilaConfiguration.strip_sources = True
    cfg.VoilaConfiguration.show_tracebacks = False
    cfg.VoilaConfiguration.preheat_kernel = preheat
    cfg.VoilaConfiguration.default_pool_size = 1 if preheat else 0
    cfg.VoilaKernelManager.fill_delay = REFILL_DELAY
    # kernels talk to the server over Unix sockets in the user's runtime folder (its permissions guard them),
    # not over TCP ports any local user could reach
    cfg.KernelManager.transport = "ipc"
    # the dashboards are signed as trusted at the start (:meth:`DashboardVoila.init_handlers`), in memory, with a
    # key of this server's: nothing is written to the user's Jupyter folder
    cfg.NotebookNotary.db_file = ":memory:"
    cfg.NotebookNotary.secret = os.urandom(64)
    # jupyter_server's culler, of kernels idle and unconnected only (Voila's manager spares its pool)
    cfg.MappingKernelManager.cull_idle_timeout = abandoned_kernel_seconds
    cfg.MappingKernelManager.cull_connected = False
    cfg.MappingKernelManager.cull_interval = max(1, min(60, abandoned_kernel_seconds // 4))
    # the file handler serves nothing: the dashboards need no files beside them
    cfg.VoilaConfiguration.file_allowlist = []
    cfg.VoilaConfiguration.file_denylist = [".*"]
    cfg.VoilaConfiguration.extension_denylist = list(DENIED_EXTENSIONS)
    return cfg


def serve(
    warehouse: str | os.PathLike[str] | None = None,
    port: int = 8866,
    open_browser: bool = False,
    *,
    root: str | os.PathLike[str] | None = None,
    preheat: bool = True,
    abandoned_kernel_seconds: int = ABANDONED_KERNEL_SECONDS,
) -> None:
    """Serve the dashboards on ``http://127.0.0.1:<port>/`` until interrupted (Ctrl-C).

    Parameters
    ----------
    warehouse : path, optional
        The warehouse the dashboards read (its published snapshot); default from the configuration
        (``POLICY_PULSE_WAREHOUSE`` or ``data/warehouse.duckdb``).
    port : int
        Port on 127.0.0.1; a port in use is an error.
    open_browser : bool
        Open the index page in the default browser.
    root : path, optional
        Folder of the notebooks (default ``dashboards/`` of the project).
    preheat : bool
        Keep one kernel per dashboard executed in advance.
    abandoned_kernel_seconds : int
        Shut a viewer's kernel down once it has been idle this long with no page connected to it
        (:data:`ABANDONED_KERNEL_SECONDS`).
    """
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port = {port!r}; give a free TCP port such as 8866.")
    if not isinstance(abandoned_kernel_seconds, int) or abandoned_kernel_seconds < 1:
        raise ValueError(f"abandoned_kernel_seconds = {abandoned_kernel_seconds!r}; give a whole number of "
                         f"seconds, 1 or more (default {ABANDONED_KERNEL_SECONDS}).")
    folder = Path(root) if root is not None else config.DASHBOARDS_DIR
    if not folder.is_dir():
        raise ValueError(f"No dashboards folder at {folder}; pass root= the folder holding the dashboards.")
    # kernels inherit the server's environment (Voila copies os.environ when it starts each kernel)
    os.environ["POLICY_PULSE_WAREHOUSE"] = str(config.warehouse_path(warehouse))
    os.environ[SHARED_BUNDLE_ENV] = PLOTLY_BUNDLE_PATH
    basic = basic_bundle()
    if basic is None:
        os.environ.pop(FULL_BUNDLE_ENV, None)
    else:
        os.environ[FULL_BUNDLE_ENV] = FULL_BUNDLE_PATH
    app = dashboard_app(basic)(config=_voila_config(port, open_browser, preheat, abandoned_kernel_seconds))
    # jupyter_server hands tornado its websocket ping interval and timeout in milliseconds, which tornado reads
    # as seconds, and tornado warns at the first viewer that the timeout (90000) exceeds the interval (30000).
    # The pings that keep a viewer's connection alive are jupyter_server's own, every 30 s: the warning only
    # alarms whoever reads the log
    logging.getLogger("tornado.general").addFilter(lambda record: "websocket_ping_timeout" not in record.getMessage())
    app.initialize([str(folder.resolve())])
    _stop_cleanly_on_signals(app)
    app.start()


def _stop_cleanly_on_signals(app) -> None:
    """Ctrl-C or SIGTERM shuts the preheated kernels down before the server stops (no orphans)."""
    import signal

    from tornado.ioloop import IOLoop

    async def shutdown() -> None:
        stopping = app.kernel_manager.shutdown_all()
        if inspect.isawaitable(stopping):
            await stopping
        IOLoop.current().stop()

    def on_signal(_signum, _frame) -> None:
        IOLoop.current().add_callback_from_signal(shutdown)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
