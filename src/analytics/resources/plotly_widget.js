// Policy Pulse's front end for plotly's go.FigureWidget, drawing with plotly.js-basic.
//
// analytics.serve serves this file after plotly.js-basic (wrapped so that it defines `Plotly` in this
// module) as the dashboards' shared chart bundle; analytics.charts' loader imports it and calls the
// default export for {initialize, render}, as it does with plotly's own widget bundle.
//
// The kernel side (plotly/basewidget.py) sends the figure once (_widget_data, _widget_layout, _config)
// and then edits as messages (_py2js_addTraces, _py2js_restyle, ...: a trait set and reset at once).
// Each figure keeps the traces and layout the kernel has described (its "spec", updated by every
// message even while no view is drawn, so a chart drawn late shows the current state), and each view
// redraws from the spec with Plotly.react once per animation frame, however many messages arrived.
// After an edit that carries edit ids, the kernel waits for the defaults plotly.js computed (the
// values the spec leaves out, such as an autoranged axis): the first view answers once it has drawn
// the edit, or, with no view drawn, the figure answers with empty defaults. A view's user events
// (zoom, legend clicks, clicks, hovers, selections) go to the kernel as _js2py_* messages.

const DTYPES = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
};
// the trace types this bundle draws: a trace of another type would silently draw nothing
const TRACE_TYPES = new Set(["scatter", "bar", "pie"]);
// plotly's own events on resizing, not the reader's doing
const RESIZE_KEYS = new Set(["autosize", "width", "height", "lastInputTime"]);

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value)
  && !ArrayBuffer.isView(value) && [Object.prototype, null].includes(Object.getPrototypeOf(value));

// The kernel's encoding: "_undefined_" leaves a value unchanged, {buffer, dtype, shape} is a typed array.
function fromKernel(value) {
  if (value === "_undefined_") return undefined;
  if (Array.isArray(value)) return value.map(fromKernel);
  if (value && typeof value === "object" && DTYPES[value.dtype] && value.buffer !== undefined
      && (value.buffer instanceof ArrayBuffer || ArrayBuffer.isView(value.buffer))) {
    const view = ArrayBuffer.isView(value.buffer) ? value.buffer : new DataView(value.buffer);
    // a copy: the message's buffer need not be aligned for the element type
    return new DTYPES[value.dtype](view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
  }
  if (isObject(value)) {
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = fromKernel(item);
    return out;
  }
  return value;
}

function clone(value) {
  if (Array.isArray(value)) return value.map(clone);
  if (ArrayBuffer.isView(value)) return value.slice();
  if (isObject(value)) {
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = clone(item);
    return out;
  }
  return value;
}

// A value plotly.js computed, as JSON: its internal (underscore) keys, functions and DOM nodes left out.
function plain(value, depth = 0) {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (depth > 32) return undefined;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    return Array.from(value, (item) => {
      const out = plain(item, depth + 1);
      return out === undefined ? null : out;
    });
  }
  if (!isObject(value)) return undefined;
  const out = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith("_")) continue;
    const copy = plain(item, depth + 1);
    if (copy !== undefined) out[key] = copy;
  }
  return out;
}

// What plotly.js filled in beyond the spec: the kernel keeps these as defaults, and takes any key sent
// here out of its own copy of the spec, so a key the spec has is never sent (only looked into).
function defaults(full, spec) {
  const out = {};
  for (const [key, value] of Object.entries(full)) {
    if (key.startsWith("_") || typeof value === "function") continue;
    if (!spec || !Object.prototype.hasOwnProperty.call(spec, key)) {
      const copy = plain(value);
      if (copy !== undefined) out[key] = copy;
      continue;
    }
    const given = spec[key];
    if (isObject(value) && isObject(given)) {
      const inner = defaults(value, given);
      if (Object.keys(inner).length) out[key] = inner;
    } else if (Array.isArray(value) && Array.isArray(given) && value.length && value.every(isObject)
               && given.every(isObject)) {
      out[key] = value.map((item, i) => defaults(item, given[i]));
    }
  }
  return out;
}

// "marker.color", "xaxis.range[0]", "annotations[2].text" -> ["marker", "color"], ["xaxis", "range", 0], ...
function parsePath(path) {
  if (Array.isArray(path)) return path;
  const keys = [];
  for (const part of String(path).split(".")) {
    const name = part.replace(/\[\d+\]/g, "");
    if (name) keys.push(name);
    for (const match of part.matchAll(/\[(\d+)\]/g)) keys.push(Number(match[1]));
  }
  return keys;
}

// Plotly's edit semantics on the spec: undefined changes nothing, null removes the value.
function setPath(target, path, value) {
  if (value === undefined) return;
  const keys = parsePath(path);
  let node = target;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i];
    if (node[key] === null || typeof node[key] !== "object") {
      if (value === null) return;
      node[key] = typeof keys[i + 1] === "number" ? [] : {};
    }
    node = node[key];
  }
  const last = keys[keys.length - 1];
  if (value !== null) node[last] = clone(value);
  else if (Array.isArray(node) && typeof last === "number") node.splice(last, 1);
  else delete node[last];
}

function restyle(data, changes, traces) {
  for (const [path, value] of Object.entries(changes || {})) {
    traces.forEach((index, i) => {
      if (data[index]) setPath(data[index], path, Array.isArray(value) ? value[i % value.length] : value);
    });
  }
}

function relayout(layout, changes) {
  for (const [path, value] of Object.entries(changes || {})) setPath(layout, path, value);
}

function moveTraces(data, from, to) {
  const moving = from.map((i) => data[i]);
  const kept = data.filter((_, i) => !from.includes(i));
  const places = to.map((place, i) => [place < 0 ? place + data.length : place, moving[i]]);
  places.sort((a, b) => a[0] - b[0]);
  for (const [place, trace] of places) kept.splice(place, 0, trace);
  data.splice(0, data.length, ...kept);
}

// send a message trait; the local reset (sent with the next message) makes an identical next message a change
function send(model, name, message) {
  model.set(name, message);
  model.save_changes();
  model.set(name, null);
}

const idle = (callback) => (window.requestIdleCallback
  ? window.requestIdleCallback(callback, { timeout: 300 }) : setTimeout(callback, 0));

class Figure {
  constructor(model) {
    this.model = model;
    this.views = [];
    this.reportedTypes = new Set();
    this.answering = false;
    this.load();
    this.ids = { layout: model.get("_last_layout_edit_id") || 0, trace: model.get("_last_trace_edit_id") || 0 };
    const edits = {
      _py2js_addTraces: (m) => this.data.push(...m.trace_data),
      _py2js_deleteTraces: (m) => {
        for (const i of [...m.delete_inds].sort((a, b) => b - a)) this.data.splice(i, 1);
      },
      _py2js_moveTraces: (m) => moveTraces(this.data, m.current_trace_inds, m.new_trace_inds),
      // plotly.py's messages name their traces as a list, always (its _normalize_trace_indexes)
      _py2js_restyle: (m) => restyle(this.data, m.restyle_data, m.restyle_traces),
      _py2js_relayout: (m) => relayout(this.layout, m.relayout_data),
      _py2js_update: (m) => {
        restyle(this.data, m.style_data, m.style_traces);
        relayout(this.layout, m.layout_data);
      },
      // drawn without the transition: the dashboards do not animate
      _py2js_animate: (m) => {
        m.style_traces.forEach((index, i) => {
          if (this.data[index]) relayout(this.data[index], (m.style_data || [])[i]);
        });
        relayout(this.layout, m.layout_data);
      },
      // values the kernel now keeps as defaults: what is drawn does not change. (Its layout removals are
      // worked out on its snapshot of the layout at display, not on the live layout this spec follows, and
      // can name a whole container the live layout still fills: they are not applied.)
      _py2js_removeTraceProps: (m) => {
        const trace = this.data[m.remove_trace];
        if (trace) m.remove_props.forEach((path) => setPath(trace, path, null));
      },
    };
    for (const [name, apply] of Object.entries(edits)) {
      model.on(`change:${name}`, () => {
        const message = fromKernel(model.get(name));
        if (message) this.receive(name, message, apply);
      });
    }
    for (const name of ["_widget_data", "_widget_layout", "_config"]) {
      model.on(`change:${name}`, () => {
        this.load();
        this.views.forEach((view) => view.schedule());
      });
    }
  }

  load() {
    this.tracesAnswered = false;
    this.data = fromKernel(this.model.get("_widget_data")) || [];
    this.layout = fromKernel(this.model.get("_widget_layout")) || {};
    this.config = fromKernel(this.model.get("_config")) || {};
  }

  receive(name, message, apply) {
    apply(message);
    if (message.layout_edit_id !== undefined) this.ids.layout = message.layout_edit_id;
    if (message.trace_edit_id !== undefined) this.ids.trace = message.trace_edit_id;
    if (name.startsWith("_py2js_remove")) return;
    this.views.forEach((view) => view.schedule());
    const edit = message.layout_edit_id !== undefined || message.trace_edit_id !== undefined;
    if (edit && !this.views.length) this.answerLater(null);
  }

  // the first view answers for the figure once it has drawn the latest edit; an older answer is moot
  drawn(view, ids) {
    if (view === this.views[0]) this.answerLater(view, ids);
  }

  // in idle time (drawing the page comes first), for the latest request only
  answerLater(view, ids = null) {
    this.request = { view, ids };
    if (this.answering) return;
    this.answering = true;
    idle(() => {
      const { view: drawnBy, ids: drawn } = this.request;
      this.answering = false;
      this.request = null;
      if (drawn && (drawn.layout !== this.ids.layout || drawn.trace !== this.ids.trace)) return;
      this.answer(drawnBy && drawnBy.drawnOnce && drawnBy.el._fullLayout ? drawnBy.el : null);
    });
  }

  // the traces' defaults go back after the first drawing and after trace edits only (as plotly's own front
  // end does): a zoom or a title changes none of them
  answer(gd) {
    if (!this.tracesAnswered || this.answeredTrace !== this.ids.trace) {
      const full = gd ? new Map(gd._fullData.map((trace) => [trace.uid, trace])) : new Map();
      const traceDeltas = this.data.filter((trace) => trace.uid !== undefined).map((trace) => ({
        ...(full.has(trace.uid) ? defaults(full.get(trace.uid), trace) : {}), uid: trace.uid,
      }));
      send(this.model, "_js2py_traceDeltas", { trace_deltas: traceDeltas, trace_edit_id: this.ids.trace });
      this.answeredTrace = this.ids.trace;
      this.tracesAnswered = gd !== null;
    }
    send(this.model, "_js2py_layoutDelta", {
      layout_delta: gd ? defaults(gd._fullLayout, this.layout) : {}, layout_edit_id: this.ids.layout,
    });
  }
}

let views = 0;

class View {
  // draws in ``gd``: ``el`` itself, or a chart already drawn on the page's first screen, moved into ``el``
  constructor(figure, el, gd = el) {
    this.figure = figure;
    this.el = gd;
    if (gd !== el) el.appendChild(gd);
    this.id = `pp-view-${++views}`;
    this.drawing = false;
    this.again = false;
    this.frame = null;
    this.drawnOnce = false;
    this.removed = false;
    this.width = null;
    this.resizer = new ResizeObserver(([entry]) => {
      const width = Math.round(entry.contentRect.width);
      if (this.drawnOnce && width !== this.width) {
        this.width = width;
        if (width > 0) Plotly.Plots.resize(this.el);
      }
    });
  }

  schedule() {
    if (this.frame === null) {
      this.frame = requestAnimationFrame(() => {
        this.frame = null;
        this.draw();
      });
    }
  }

  draw() {
    if (this.removed) return;
    if (this.drawing) {
      this.again = true;
      return;
    }
    this.drawing = true;
    const figure = this.figure;
    const ids = { ...figure.ids };
    const done = () => {
      this.drawing = false;
      if (this.again) {
        this.again = false;
        this.draw();
        return;
      }
      figure.drawn(this, ids);
    };
    let drawn;
    try {
      drawn = Plotly.react(this.el, clone(figure.data), clone(figure.layout), clone(figure.config));
    } catch (error) {
      drawn = Promise.reject(error);
    }
    Promise.resolve(drawn).then(() => {
      // a view taken off the page while drawing (its element purged) starts nothing and draws no more
      if (this.removed) return;
      if (!this.drawnOnce) this.start();
      this.checkTypes();
      done();
    }, (error) => {
      if (this.removed) return;
      console.error("the chart could not be drawn:", error);
      done();
    });
  }

  // said once per figure and trace type, not at every redraw
  checkTypes() {
    const reported = this.figure.reportedTypes;
    for (const trace of this.figure.data) {
      const type = trace.type || "scatter";
      if (!TRACE_TYPES.has(type) && !reported.has(type)) {
        reported.add(type);
        console.error(`plotly.js-basic cannot draw a "${type}" trace (only ${[...TRACE_TYPES].join(", ")}); `
                      + "analytics.charts.as_widget serves such a chart with plotly's full bundle.");
      }
    }
  }


  start() {
    this.drawnOnce = true;
    this.width = Math.round(this.el.getBoundingClientRect().width);
    this.resizer.observe(this.el);
    const model = this.figure.model;
    const gd = this.el;
    gd.on("plotly_relayout", (changes) => {
      if (!changes || Object.keys(changes).every((key) => RESIZE_KEYS.has(key))) return;
      send(model, "_js2py_relayout", { relayout_data: plain(changes), source_view_id: this.id });
    });
    gd.on("plotly_restyle", (event) => {
      if (!event) return;
      const [changes, traces] = event;
      send(model, "_js2py_restyle", { style_data: plain(changes), style_traces: traces, source_view_id: this.id });
    });
    // an update menu's "update" button: a restyle and a relayout in one event, {data: [changes, traces], layout}
    gd.on("plotly_update", (event) => {
      if (!event) return;
      const [changes, traces] = event.data || [];
      send(model, "_js2py_update", { style_data: plain(changes || {}), style_traces: traces,
                                     layout_data: plain(event.layout || {}), source_view_id: this.id });
    });
    const points = (name) => (event) => {
      const message = { event_type: name, points: pointsOf(event) };
      const device = event && event.event;
      if (device) {
        message.device_state = { alt: device.altKey, ctrl: device.ctrlKey, meta: device.metaKey,
                                 shift: device.shiftKey, button: device.button, buttons: device.buttons };
      }
      if (event && event.range) {
        message.selector = { type: "box", selector_state: { xrange: plain(event.range.x), yrange: plain(event.range.y) } };
      } else if (event && event.lassoPoints) {
        message.selector = { type: "lasso", selector_state: { xs: plain(event.lassoPoints.x), ys: plain(event.lassoPoints.y) } };
      }
      send(model, "_js2py_pointsCallback", message);
    };
    for (const name of ["plotly_click", "plotly_hover", "plotly_unhover", "plotly_selected", "plotly_deselect"]) {
      gd.on(name, points(name));
    }
  }

  remove() {
    this.removed = true;
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.resizer.disconnect();
    this.figure.views = this.figure.views.filter((view) => view !== this);
    Plotly.purge(this.el);
  }
}

function pointsOf(event) {
  const out = { trace_indexes: [], point_indexes: [], xs: [], ys: [] };
  for (const point of (event && event.points) || []) {
    // a bar can stand for several points (pointNumbers); the kernel expects one entry per point
    const indexes = Array.isArray(point.pointNumbers) ? point.pointNumbers : [point.pointNumber ?? point.pointIndex];
    for (const index of indexes) {
      out.trace_indexes.push(point.curveNumber);
      out.point_indexes.push(index);
      out.xs.push(plain(point.x) ?? null);
      out.ys.push(plain(point.y) ?? null);
    }
  }
  return out;
}

// --- the first screen, drawn before the widgets are live (analytics.firstpaint) -------------------------
//
// Voila's page holds each cell's output as JSON (Voila renders it only once its own scripts have run and
// the kernel has sent every widget's state). An output carrying FIRST_PAINT_MIME is a static copy of the
// dashboard's first screen: it is shown as soon as the page is parsed, its chart drawn by this module,
// and the live page is laid out hidden under it. The live chart's view takes the drawn chart over (the
// same element); once every chart is taken the copy goes and the live page shows, as it was laid out.

const FIRST_PAINT_MIME = "application/vnd.policy-pulse.first-paint+json";
const CELL_OUTPUT = 'script[type="application/vnd.voila.cell-output+json"]';
// a live page that fails (no chart view comes: an error, a lost kernel) is shown after this long at most
const FIRST_PAINT_LIMIT_MS = 60000;
const firstPainted = new Map(); // chart id -> {gd, drawn: Promise}
let firstScreen = null;

function showLivePage() {
  if (firstScreen === null) return;
  firstScreen.remove();
  firstScreen = null;
  firstPainted.clear();
  document.body.classList.remove("pp-first-painting");
}

function paintFirstScreen() {
  const cells = document.getElementById("rendered_cells");
  const screens = [];
  for (const script of cells ? cells.querySelectorAll(CELL_OUTPUT) : []) {
    try {
      const screen = (JSON.parse(script.textContent).data || {})[FIRST_PAINT_MIME];
      if (screen) screens.push(screen);
    } catch (error) {
      console.error("a cell's output is not JSON:", error);
    }
  }
  if (!screens.length || firstScreen !== null) return;
  const style = document.createElement("style");
  style.textContent = "body.pp-first-painting #rendered_cells{position:absolute;top:0;left:0;right:0;"
    + "visibility:hidden}body.pp-first-painting #loading{display:none!important}";
  document.head.appendChild(style);
  firstScreen = document.createElement("div");
  firstScreen.className = "pp-first-screen";
  // where the live page puts its first widget (Voila's cell and output area paddings)
  firstScreen.style.padding = "20px 15px 0 15px";
  firstScreen.innerHTML = screens.map((screen) => screen.html).join("");
  cells.parentNode.insertBefore(firstScreen, cells);
  document.body.classList.add("pp-first-painting");
  for (const { id, figure } of screens.flatMap((screen) => screen.charts)) {
    const gd = firstScreen.querySelector(`[data-pp-first-paint="${CSS.escape(id)}"]`);
    if (!gd) continue;
    const drawn = Promise.resolve()
      .then(() => Plotly.newPlot(gd, figure.data, figure.layout, figure.config || {}))
      .catch((error) => console.error("the first screen's chart could not be drawn:", error));
    firstPainted.set(id, { gd, drawn });
  }
  setTimeout(showLivePage, FIRST_PAINT_LIMIT_MS);
}

// The outputs are in the page once the parser has reached Voila's script after them (it runs long: the
// copy is drawn before it when this module is ready first) or, at the latest, once parsing is done.
function whenOutputsParsed(callback) {
  const parsed = () => document.readyState !== "loading"
    || document.querySelector('script[src$="voila/static/voila.js"]') !== null;
  if (parsed()) {
    callback();
    return;
  }
  const observer = new MutationObserver(() => {
    if (parsed()) {
      observer.disconnect();
      callback();
    }
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
}

if (typeof document !== "undefined") whenOutputsParsed(paintFirstScreen);

/** Whether a chart with this model's id was drawn on the first screen (the live view then draws at once). */
export function hasFirstPaint(model) {
  return firstPainted.has(model.get("_first_paint_id"));
}

// plotly measures text (a title's height places its subtitle under it) only in an element on the page, and
// the live view's element is put in place after its render returns; a view taken off before then never draws
function drawWhenPlaced(view, el) {
  if (view.removed) return;
  if (el.isConnected) view.draw();
  else requestAnimationFrame(() => drawWhenPlaced(view, el));
}

function takeOver(model) {
  const id = model.get("_first_paint_id");
  const taken = firstPainted.get(id);
  if (taken) firstPainted.delete(id);
  return taken || null;
}

// called once per widget model, whose initialize anywidget calls before any render. The model's figure lives
// here, not in a map keyed by the model: anywidget hands initialize and each render a different stand-in for
// the same model, and a figure made afresh for a view (a chart scrolled to after a filter changed it) would
// draw the model's first state, not its edits since.
export default () => {
  let figure = null;
  return {
    initialize({ model }) {
      figure = new Figure(model);
    },
    render({ model, el }) {
      const taken = takeOver(model);
      const view = new View(figure, el, taken ? taken.gd : el);
      figure.views.push(view);
      if (taken) {
        // the chart is in the live page now: once no other waits, the copy goes and the live page shows
        if (!firstPainted.size) showLivePage();
        taken.drawn.then(() => drawWhenPlaced(view, el));
      } else {
        view.draw();
      }
      return () => view.remove();
    },
  };
};
