"""The corridor explorer's web page (Shiny for Python; ``pip install "mgrisk[app]"``).

Shiny is imported inside the functions here, never at import time, so ``import mgrisk`` and the
pure functions (`mgrisk.explore.model`) do not need it. The page is one reactive graph: the
cohort (truth, size, follow-up, seed) -> the fit (knots, adjustment) -> the `View` (reference,
corridor, nadir CI) -> every picture, number and sentence, so a control recomputes only what
depends on it, and each `Results` is computed once per change. The kernels are compiled once in a
background thread when the app starts; the page says "warming up" until then.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import MgriskError
from .truth import MAX_STEEPNESS, PRESETS, SHAPES, Truth

__all__ = ["Problem", "create_app", "serve"]

HOST = "127.0.0.1"  # the explorer serves this machine only


@dataclass(frozen=True)
class Problem:
    """A message for the page instead of a result (bad settings, a bad upload)."""

    message: str


def _guard(compute):
    """``compute()``, or the one-line `Problem` it raised: never a traceback in the page."""
    try:
        return compute()
    except MgriskError as exc:
        return Problem(str(exc))
    except (ValueError, TypeError, KeyError, OverflowError, ArithmeticError) as exc:
        return Problem(f"these settings cannot be used ({type(exc).__name__}: {exc})")


class _Warmup:
    """Compile the kernels once per process, in a background thread."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def start(self) -> None:
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="mgrisk-warmup", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        from .model import warm_up

        try:
            warm_up()
        finally:
            self.done.set()


_WARMUP = _Warmup()


def _ui():
    from shiny import ui

    def slider(id_, label, lo, hi, value, step, **kw):
        return ui.input_slider(id_, label, lo, hi, value, step=step, ticks=False, **kw)

    truth = ui.panel_conditional(
        "input.source === 'simulate'",
        ui.input_select("shape", "True curve", list(SHAPES), selected="U"),
        slider("nadir", "Nadir (mmol/L)", 0.72, 0.96, 0.85, 0.005),
        slider("hr_low", "HR at nadir - 0.1", 1.0, MAX_STEEPNESS, PRESETS["U"][0], 0.05),
        slider("hr_high", "HR at nadir + 0.1", 1.0, MAX_STEEPNESS, PRESETS["U"][1], 0.05),
        slider("n", "People", 1000, 50000, 9569, 1),
        slider("follow_up", "Follow-up up to (years)", 2, 30, 16, 1),
        ui.input_checkbox("adjust", "Adjust for the confounder (diuretics)", True),
        ui.input_numeric("seed", "Seed", 2017, min=0, step=1),
        ui.input_checkbox("draws", "Draw 20 cohorts", False),
    )
    upload = ui.panel_conditional(
        "input.source === 'csv'",
        ui.input_file(
            "upload", "Your CSV or Parquet file", accept=[".csv", ".txt", ".tsv", ".parquet", ".pq"]
        ),
        ui.input_select("col_exposure", "Exposure", []),
        ui.input_text("unit", "Its unit", ""),
        ui.input_select("col_time", "Exit time", []),
        ui.input_select("col_event", "Event (0 censored, 1 the event, 2.. other)", []),
        ui.input_select("col_entry", "Entry time (optional)", []),
        ui.input_text("formula", "Adjust for (formula, e.g. age + C(sex))", ""),
    )
    model = ui.TagList(
        ui.input_radio_buttons(
            "knot_mode", "Knots", {"number": "number", "hand": "by hand"}, inline=True
        ),
        ui.panel_conditional("input.knot_mode === 'number'", slider("knots", None, 3, 7, 4, 1)),
        ui.panel_conditional(
            "input.knot_mode === 'hand'",
            ui.input_text("knot_values", None, "0.76, 0.82, 0.87, 0.93"),
        ),
        ui.input_select(
            "reference", "Reference", {"nadir": "nadir", "median": "median", "value": "a value"}
        ),
        ui.panel_conditional(
            "input.reference === 'value'", ui.input_numeric("ref_value", None, 0.85, step=0.01)
        ),
        ui.input_radio_buttons(
            "rule", "Corridor rule", {"delta": "HR <= 1 + delta", "ci": "CI includes 1"}
        ),
        ui.panel_conditional(
            "input.rule === 'delta'", slider("delta", "delta", 0.02, 0.5, 0.1, 0.01)
        ),
        ui.panel_conditional(
            "input.rule === 'ci'", slider("corridor_level", "CI level", 0.5, 0.99, 0.95, 0.01)
        ),
        ui.input_select(
            "nadir_method",
            "Nadir CI",
            {
                "inversion": "test inversion (default)",
                "delta": "delta method (undercovers)",
                "bootstrap": "bootstrap (slow)",
            },
        ),
    )
    sidebar = ui.sidebar(
        ui.input_radio_buttons(
            "source", "Data", {"simulate": "simulated", "csv": "my file"}, inline=True
        ),
        truth,
        upload,
        ui.hr(),
        model,
        width=310,
    )

    def downloads(name):
        return ui.div(
            ui.download_button(f"dl_{name}_png", "PNG", class_="btn-sm"),
            ui.download_button(f"dl_{name}_svg", "SVG", class_="btn-sm"),
            class_="d-flex gap-2 justify-content-end",
        )

    main = ui.TagList(
        ui.output_ui("status"),
        ui.output_ui("message"),
        ui.card(
            ui.card_header("Truth and estimate"),
            ui.output_plot("curve", height="430px"),
            downloads("curve"),
        ),
        ui.layout_columns(
            ui.card(ui.card_header("Numbers"), ui.output_ui("numbers")),
            ui.card(ui.card_header("Shape, in plain words"), ui.output_ui("verdict")),
            col_widths=(6, 6),
        ),
        ui.panel_conditional(
            "input.draws && input.source === 'simulate'",
            ui.card(
                ui.card_header("20 cohorts of the same truth"),
                ui.output_plot("draws_plot", height="480px"),
                downloads("draws"),
            ),
        ),
        ui.layout_columns(
            ui.card(ui.card_header("Quintile HRs"), ui.output_table("quintiles")),
            ui.card(
                ui.card_header("The exposure"),
                ui.output_plot("exposure", height="220px"),
                downloads("exposure"),
            ),
            col_widths=(5, 7),
        ),
    )
    head = ui.head_content(ui.tags.link(rel="icon", href="data:,"))  # no favicon request
    return ui.page_sidebar(
        sidebar, head, main, title="mgrisk explore: teach a curve", fillable=False
    )


def _settings(input):
    """The settings the controls hold (raises InputError on bad knots or reference)."""
    from .model import ExploreSettings, parse_knots

    knots = (
        int(input.knots()) if input.knot_mode() == "number" else parse_knots(input.knot_values())
    )
    reference = input.reference()
    if reference == "value":
        value = input.ref_value()
        if value is None:
            raise MgriskError("reference: type a number (or choose nadir or median)")
        reference = float(value)
    seed = input.seed()
    if seed is None or seed < 0 or int(seed) != seed:
        raise MgriskError("seed: type a whole number from 0")
    return ExploreSettings(
        truth=Truth(
            input.shape(), float(input.nadir()), float(input.hr_low()), float(input.hr_high())
        ),
        n=int(input.n()),
        follow_up=float(input.follow_up()),
        knots=knots,
        adjust=bool(input.adjust()),
        reference=reference,
        corridor_rule=input.rule(),
        corridor_delta=float(input.delta()),
        corridor_level=float(input.corridor_level()),
        nadir_method=input.nadir_method(),
        seed=int(seed),
    )


def _server(input, output, session):
    import pandas as pd
    from shiny import reactive, render, req, ui

    from . import figures, model

    @reactive.poll(_WARMUP.done.is_set, 0.25)
    def warmed():
        return _WARMUP.done.is_set()

    @reactive.effect
    @reactive.event(input.shape, ignore_init=True)
    def _preset():
        low, high = PRESETS[input.shape()]
        ui.update_slider("hr_low", value=low)
        ui.update_slider("hr_high", value=high)

    @reactive.calc
    def settings():
        return _guard(lambda: _settings(input))

    @reactive.calc
    def table():
        files = input.upload()
        if not files:
            return Problem("load a CSV or Parquet file (one row per person)")

        def read():
            from ..tables import read_table

            # the upload keeps no name: copy it to its own name so that the suffix is read
            folder = Path(tempfile.mkdtemp(prefix="mgrisk-upload-"))
            path = folder / Path(files[0]["name"]).name
            shutil.copyfile(files[0]["datapath"], path)
            try:
                return read_table(path)
            finally:
                shutil.rmtree(folder, ignore_errors=True)

        return _guard(read)

    @reactive.effect
    def _columns():
        data = table()
        if isinstance(data, Problem):
            return
        names = [str(c) for c in data.columns]
        guess = model.guess_columns(names)
        for key in ("exposure", "time", "event"):
            ui.update_select(f"col_{key}", choices=names, selected=guess[key])
        ui.update_select(
            "col_entry", choices=["(none)", *names], selected=guess["entry"] or "(none)"
        )

    @reactive.calc
    def cohort():
        s = settings()
        if isinstance(s, Problem):
            return s
        # only what the cohort depends on: the truth, n, follow-up and seed
        return _guard(lambda: model.simulate(s))

    @reactive.calc
    def fitted():
        req(warmed())
        s = settings()
        if isinstance(s, Problem):
            return s
        if input.source() == "csv":
            data = table()
            if isinstance(data, Problem):
                return data
            entry = input.col_entry()
            cols = model.Columns(
                input.col_exposure(),
                input.col_time(),
                input.col_event(),
                None if entry in ("", "(none)", None) else entry,
                input.formula().strip() or None,
                input.unit().strip() or None,
            )
            return _guard(lambda: (model.fit(data, s, columns=cols), None, cols))
        sim = cohort()
        if isinstance(sim, Problem):
            return sim
        scenario, data = sim
        return _guard(lambda: (model.fit(data, s, scenario), scenario, None))

    @reactive.calc
    def current():
        s, f = settings(), fitted()
        for what in (s, f):
            if isinstance(what, Problem):
                return what
        fit, scenario, cols = f
        return _guard(lambda: model.view(fit, s, scenario, cols))

    @reactive.calc
    def draws():
        s = settings()
        if isinstance(s, Problem):
            return s
        return _guard(lambda: model.draw_cohorts(s))

    def ok():
        v = current()
        req(not isinstance(v, Problem))
        return v

    @render.ui
    def status():
        if not warmed():
            return ui.div(
                ui.tags.span(class_="spinner-border spinner-border-sm me-2"),
                "Warming up: compiling the numerical kernels (once per start)...",
                id="state",
                class_="alert alert-info warming",
                **{"data-state": "warming"},
            )
        v = current()
        text = "ready" if isinstance(v, Problem) else f"ready: updated in {v.seconds * 1000:.0f} ms"
        return ui.div(text, id="state", class_="text-muted small", **{"data-state": "ready"})

    @render.ui
    def message():
        if not warmed():
            return None
        v = current()
        if isinstance(v, Problem):
            return ui.div(v.message, id="problem", class_="alert alert-warning")
        return None

    @render.plot(alt="hazard ratio curve: truth and estimate")
    def curve():
        return figures.curve_figure(ok())

    @render.plot(alt="exposure histogram with knots")
    def exposure():
        return figures.exposure_figure(ok())

    @render.plot(alt="20 cohorts: estimates and nadir CIs")
    def draws_plot():
        req(input.draws() and input.source() == "simulate")
        d = draws()
        req(not isinstance(d, Problem))
        return figures.draws_figure(d)

    @render.ui
    def numbers():
        v = ok()
        rows = [
            ui.tags.tr(ui.tags.th(k), ui.tags.td(val, **{"data-key": k}))
            for k, val in model.numbers(v).items()
        ]
        return ui.tags.table(*rows, id="numbers-table", class_="table table-sm small")

    @render.ui
    def verdict():
        return ui.tags.ul(*[ui.tags.li(s) for s in model.shape_in_words(ok())], id="shape-list")

    @render.table
    def quintiles():
        r = ok().results
        req(r.quantiles is not None)
        t = r.quantiles.table
        return pd.DataFrame(
            {
                "quintile": t.index,
                "range": t["interval"],
                "events": t["events"],
                "HR": [
                    f"{h:.2f} ({lo:.2f}-{up:.2f})"
                    for h, lo, up in zip(t.hr, t.lower, t.upper, strict=True)
                ],
            }
        )

    def caption() -> str:
        v = current()
        return "" if isinstance(v, Problem) else v.settings.describe(v.columns)

    def register(name, fmt, make):
        def handler():
            fig = make()
            yield figures.figure_bytes(fig, fmt, caption())

        handler.__name__ = f"dl_{name}_{fmt}"
        render.download_button(filename=f"mgrisk-{name}.{fmt}")(handler)

    for fmt in figures.FORMATS:
        register("curve", fmt, lambda: figures.curve_figure(ok()))
        register("exposure", fmt, lambda: figures.exposure_figure(ok()))
        register("draws", fmt, lambda: figures.draws_figure(draws()))


def create_app():
    """The Shiny app (starts compiling the kernels in the background); `serve` runs it."""
    from shiny import App

    _WARMUP.start()
    return App(_ui(), _server)


def serve(port: int = 8765) -> None:
    """Serve the explorer on http://127.0.0.1:``port`` until interrupted."""
    import uvicorn

    uvicorn.run(create_app(), host=HOST, port=int(port), log_level="error")
