"""The ``mgrisk`` command line: demo, fit, simulate, validate, power, check-shape, meta,
sensitivity, explore.

The only module that prints, exits or reads argv. Every mgrisk error becomes one line on
stderr and exit status 2; ``check-shape`` exits 1 when the shape is not the one expected.
"""

from __future__ import annotations

import argparse
import atexit
import itertools
import json
import os
import re
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from ._fork import prefer_fork_safe_threads
from ._memory import steady_memory
from .cox import _warmup
from .errors import MgriskError

__all__ = ["main"]

EXAMPLES = {
    "demo": "example: mgrisk demo --out mgrisk-demo",
    "fit": (
        "example: mgrisk fit cohort.csv --exposure mg --time exit --entry entry "
        "--event event --adjust 'female + egfr' --out results/"
    ),
    "simulate": "example: mgrisk simulate rotterdam --n 20000 --seed 1 --out cohort.parquet",
    "validate": "example: mgrisk validate rotterdam --reps 200 --out study/",
    "check-shape": "example: mgrisk check-shape rotterdam --expect U",
    "power": (
        "example: mgrisk power rotterdam --n 2000,5000,10000,20000 --reps 500 "
        "--set effect.curvature_low=20 --target 0.8 --out power/"
    ),
    "sensitivity": (
        "example: mgrisk sensitivity cohort.csv --exposure mg --time exit --entry entry "
        "--event event --adjust 'female + egfr' --impute 20 --out sensitivity/"
    ),
    "meta": (
        "example: mgrisk meta studies.csv --study id --dose dose --log-rr logrr --se se "
        "--type type --cases cases --n n --knots 3 --out meta/"
    ),
    "explore": "example: mgrisk explore --port 8765 --no-browser",
}


#: From this many rows on, a run computes the model checks in a forked child meanwhile.
APART_ROWS = 100_000


def _analyse(fit, model, out: Path, formats: list[str], *, jobs, quiet: bool):
    """Compute the run's results once, with the model's options, and write their renderings
    into ``out``. On a large cohort the model checks and their figures are made in a forked
    child while this process computes the rest and draws the main figure (the same numbers
    and pictures, sooner)."""
    from ._fork import apart
    from .results import with_checks

    checks = apart(lambda: _drawn_checks(fit), fit.n >= APART_ROWS and jobs != 1)
    results = fit.results(
        ref=model.reference,
        nadir_method=model.nadir_ci or ("bootstrap" if model.bootstrap else "inversion"),
        corridor_rule=model.corridor_rule,
        corridor_delta=model.corridor_delta,
        corridor_level=model.corridor_level,
        n_boot=model.bootstrap,
        seed=model.seed,
        jobs=jobs,
        progress=not quiet,
        quantiles=model.quantiles,
    )
    images = _corridor_figure(results, formats)
    section, check_images = checks()
    results = with_checks(results, section)
    _write_outputs(results, out, {**images, **check_images})
    return results


def _drawn_checks(fit) -> tuple[tuple, dict[str, bytes]]:
    """The model checks (`results.checks_section`) and their figures, PNG by file name."""
    from .plot import plot_functional_form, plot_schoenfeld
    from .results import checks_section

    section = checks_section(fit)
    checks = section[0]
    if checks is None:
        return section, {}
    try:
        return section, {
            "schoenfeld.png": _image(plot_schoenfeld(checks)[0].figure, dpi=130),
            "functional_form.png": _image(plot_functional_form(checks).figure, dpi=130),
        }
    finally:
        _pyplot().close("all")


def _corridor_figure(results, formats: list[str]) -> dict[str, bytes]:
    """The run's figure in each format, by file name (PNG always: the report shows it)."""
    from .plot import plot_hr_curve

    fig, ax = _pyplot().subplots(figsize=(9.5, 4.6), layout="constrained")
    try:
        plot_hr_curve(results, ax)
        return {f"corridor.{fmt}": _image(fig, fmt) for fmt in dict.fromkeys(["png", *formats])}
    finally:
        _pyplot().close(fig)


def _pyplot():
    """matplotlib's pyplot, drawing to files (no window)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _image(fig, fmt: str = "png", dpi: int = 160) -> bytes:
    """``fig`` saved in ``fmt``."""
    from io import BytesIO

    image = BytesIO()
    fig.savefig(image, format=fmt, dpi=dpi)
    return image.getvalue()


def _write_outputs(results, out: Path, images: dict[str, bytes]) -> None:
    """summary.txt, results.json, curve.csv, quintiles.csv, the figures (``images``: bytes by
    file name), report.html: renderings of one `Results` (nothing is computed again)."""
    from .html_report import write_report
    from .report import result_dict, summary_text

    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.txt").write_text(summary_text(results) + "\n", encoding="utf-8")
    (out / "results.json").write_text(
        json.dumps(result_dict(results), indent=2, default=float), encoding="utf-8"
    )
    results.curve.to_csv(out / "curve.csv", index=False)
    if results.quantiles is not None:
        results.quantiles.table.to_csv(out / "quintiles.csv")
    for name, image in images.items():
        (out / name).write_bytes(image)
    write_report(results, out / "report.html", images["corridor.png"])


def _fit_from_model(data, model):
    from .doseresponse import fit_dose_response

    knots = list(model.knots) if isinstance(model.knots, tuple) else model.knots
    return fit_dose_response(
        data,
        model.exposure,
        model.time,
        model.event,
        entry=model.entry,
        adjust=model.adjust,
        knots=knots,
        cause=model.cause,
        ties=model.ties,
        reference=model.reference,
        unit=model.unit,
        time_unit=model.time_unit,
        model=model.hazard,
        timefix=model.timefix,
    )


def _impute(data, model, args):
    """m completed data sets: the exposure and the adjustment's columns, outcome in the model;
    the exposure by SMC-FCS (compatible with the spline model) unless --impute-method pmm."""
    from .data import formula_columns
    from .impute import impute

    columns = list(dict.fromkeys([model.exposure, *formula_columns(model.adjust, data)]))
    knots = list(model.knots) if isinstance(model.knots, tuple) else model.knots
    return impute(
        data,
        columns,
        m=args.impute,
        seed=args.seed or 0,
        time=model.time,
        event=model.event,
        entry=model.entry,
        exposure=model.exposure if args.impute_method == "smcfcs" else None,
        knots=knots,
        jobs=args.jobs,
        progress=not args.quiet,
    )


def _write_figure(path: Path, draw, *objects, size=(9.5, 4.8), panels: int = 1, dpi=160) -> None:
    """Draw ``draw(*objects, axes)`` (a `mgrisk.plot` function) on a new figure of ``panels``
    axes and save it to ``path``; the figure is closed whatever happens."""
    fig, axes = _pyplot().subplots(1, panels, figsize=size, layout="constrained")
    try:
        draw(*objects, axes)
        path.write_bytes(_image(fig, dpi=dpi))
    finally:
        _pyplot().close(fig)


def _read_cohort(args):
    """The cohort file. A thread meanwhile imports the analysis and matplotlib and loads numba
    (pandas' parser lets go of the GIL); it has ended when the file is read, so that a fork
    after it copies no half-done import. A child compiles the likelihood kernels on a fresh
    install (`_warmup.start`)."""
    from ._meanwhile import meanwhile
    from .tables import read_table

    loaded = meanwhile(_load_analysis)
    data = read_table(args.data, sep=args.sep, decimal=args.decimal)
    loaded()
    _warmup.start(len(data))
    return data


def _load_analysis() -> None:
    try:
        from . import doseresponse  # noqa: F401  (scipy.special, the design, the Cox engine)

        _warmup.load()
        _pyplot()
    except BaseException:  # this thread only saves time: the run imports or compiles again
        pass


def cmd_sensitivity(args) -> int:
    from .models import Model
    from .results_folder import check_out_folder, results_folder

    check_out_folder(args.out)
    data = _read_cohort(args)
    model = Model(name="command line", exposure=args.exposure, time=args.time, event=args.event)
    model = model.override(
        entry=args.entry, adjust=args.adjust, cause=args.cause, knots=args.knots, unit=args.unit
    )
    fit = _fit_from_model(data, model)
    imputed = _impute(data, model, args) if args.impute else None
    years = [float(v) for v in args.exclude_years.split(",")] if args.exclude_years else []
    panel = fit.sensitivity(exclude_years=tuple(years), imputed=imputed, fp=not args.no_fp)
    with results_folder(args.out, command=args.argv, inputs=[args.data], seed=args.seed) as out:
        panel.table.to_csv(out / "sensitivity.csv")
        from .plot import plot_sensitivity

        _write_figure(out / "sensitivity.png", plot_sensitivity, panel)
    out = Path(args.out)
    print(panel)
    for note in panel.notes.values():
        print(f"note: {note}")
    print(f"\nwrote {out}/sensitivity.csv, sensitivity.png")
    return 0


def cmd_demo(args) -> int:
    from .models import load_model
    from .results_folder import check_out_folder, results_folder
    from .scenario import load_scenario
    from .simulate import simulate_cohort

    start = time.perf_counter()
    check_out_folder(args.out)
    scenario = load_scenario("rotterdam")
    _warmup.start(scenario.n)
    cohort = simulate_cohort(scenario, seed=args.seed)
    model = load_model("rotterdam_mg_dementia")
    fit = _fit_from_model(cohort, model)
    out = Path(args.out)
    with results_folder(out, command=args.argv, seed=args.seed) as tmp:
        results = _analyse(fit, model, tmp, ["png"], jobs=1, quiet=args.quiet)
    from .report import summary_text

    print(f"Synthetic Rotterdam-like cohort ({scenario.source}); seed {args.seed}")
    print(summary_text(results))
    print(
        f"\nwrote {out}/: {', '.join(sorted(p.name for p in out.iterdir()))} in "
        f"{time.perf_counter() - start:.1f} s"
    )
    return 0


def cmd_fit(args) -> int:
    from .models import Model, load_model
    from .results_folder import check_out_folder, results_folder

    check_out_folder(args.out)
    data = _read_cohort(args)
    if args.model:
        model = load_model(args.model)
    else:
        missing = [f"--{k}" for k in ("exposure", "time", "event") if getattr(args, k) is None]
        if missing:
            raise MgriskError(f"missing {', '.join(missing)} (or give --model FILE)")
        model = Model(name="command line", exposure=args.exposure, time=args.time, event=args.event)
    ref = args.ref
    if ref is not None and ref not in ("median", "nadir"):
        try:
            ref = float(ref)
        except ValueError:
            raise MgriskError(f"--ref {ref!r}: use a number, 'median' or 'nadir'") from None
    model = model.override(
        exposure=args.exposure,
        time=args.time,
        event=args.event,
        entry=args.entry,
        cause=args.cause,
        adjust=args.adjust,
        knots=args.knots,
        reference=ref,
        bootstrap=args.bootstrap,
        seed=args.seed,
        corridor_rule=args.corridor,
        corridor_delta=args.delta,
        corridor_level=args.corridor_level,
        unit=args.unit,
        time_unit=args.time_unit,
        hazard=args.hazard,
        ties=args.ties,
        timefix=None if args.near_ties is None else args.near_ties == "merge",
        quantiles=args.quantiles,
        nadir_ci=args.nadir_ci,
    )
    fit = _fit_from_model(data, model)
    complete = None
    if args.impute:  # the complete-case fit stays for the overlay figure
        complete, fit = fit, _fit_from_model(_impute(data, model, args), model)
    formats = [f.strip() for f in args.formats.split(",")] if args.formats else ["png"]
    model_file = [args.model] if args.model and Path(args.model).suffix == ".toml" else []
    with results_folder(
        args.out, command=args.argv, inputs=[args.data, *model_file], seed=model.seed
    ) as tmp:
        results = _analyse(fit, model, tmp, formats, jobs=args.jobs, quiet=args.quiet)
        if complete is not None:
            from .plot import plot_imputed_vs_complete

            _write_figure(tmp / "imputed_vs_complete.png", plot_imputed_vs_complete, complete, fit)
    from .report import summary_text

    print(summary_text(results))
    print(f"\nwrote {args.out}/")
    return 0


def cmd_simulate(args) -> int:
    from .simulate import simulate_cohort
    from .tables import check_table_path, write_table

    check_table_path(args.out)
    cohort = simulate_cohort(args.scenario, n=args.n, seed=args.seed)
    write_table(cohort, args.out)
    counts = cohort.event.value_counts().sort_index().to_dict()
    print(f"wrote {len(cohort):,} people to {args.out} (event codes: {counts})")
    return 0


def cmd_validate(args) -> int:
    from .results_folder import check_out_folder, results_folder
    from .scenario import load_scenario
    from .validate import simulation_study

    check_out_folder(args.out)
    scenario = load_scenario(args.scenario)
    backend = "dask" if args.scheduler else "local"
    study = simulation_study(
        scenario,
        reps=args.reps,
        n=args.n,
        seed=args.seed,
        jobs=args.jobs,
        backend=backend,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    inputs = [scenario.path] if Path(args.scenario).suffix == ".toml" else []
    with results_folder(args.out, command=args.argv, inputs=inputs, seed=args.seed) as tmp:
        _write_study(study, tmp)
    print(study.summary())
    print(f"wrote {args.out}/study.json, summary.txt, coverage.png, nadirs.png, run.json")
    return 0


def _write_study(study, out: Path) -> None:
    from .plot import plot_coverage, plot_nadir_distribution

    (out / "study.json").write_text(json.dumps(study.to_dict(), indent=2))
    (out / "summary.txt").write_text(study.summary() + "\n")
    for name, draw in (("coverage", plot_coverage), ("nadirs", plot_nadir_distribution)):
        _write_figure(out / f"{name}.png", draw, study, size=(6, 3.6), dpi=200)


def cmd_power(args) -> int:
    """Power and precision at several study sizes: table, figure, p-values, summary."""
    from .power_study import power
    from .results_folder import check_out_folder, results_folder
    from .scenario import load_scenario

    check_out_folder(args.out)
    scenario = load_scenario(args.scenario, dict(args.set) if args.set else None)
    grid = power(
        scenario,
        args.n,
        reps=args.reps,
        seed=args.seed,
        jobs=args.jobs,
        scheduler=args.scheduler,
        target=args.target,
        expected=args.expect,
        progress=not args.quiet,
    )
    inputs = [scenario.path] if Path(args.scenario).suffix == ".toml" else []
    with results_folder(args.out, command=args.argv, inputs=inputs, seed=args.seed) as tmp:
        _write_power(grid, tmp)
    print(grid.summary())
    print(f"wrote {args.out}/power.csv, power.json, power_pvalues.csv, power.png, summary.txt")
    return 0


def _write_power(grid, out: Path) -> None:
    from .plot import plot_power

    grid.table.to_csv(out / "power.csv", index=False)
    grid.p_values.to_csv(out / "power_pvalues.csv", index=False)
    (out / "power.json").write_text(json.dumps(grid.to_dict(), indent=2), encoding="utf-8")
    (out / "summary.txt").write_text(grid.summary() + "\n", encoding="utf-8")
    _write_figure(out / "power.png", plot_power, grid, size=(10.0, 4.0), panels=2, dpi=200)


def cmd_check_shape(args) -> int:
    from .doseresponse import fit_dose_response
    from .scenario import load_scenario
    from .simulate import simulate_cohort
    from .tables import read_table

    if Path(args.source).suffix.lower() in (".csv", ".parquet", ".pq"):
        data = read_table(args.source, sep=args.sep, decimal=args.decimal)
        missing = [f"--{k}" for k in ("exposure", "time", "event") if getattr(args, k) is None]
        if missing:
            raise MgriskError(f"checking a data file needs {', '.join(missing)}")
        columns = dict(exposure=args.exposure, time=args.time, event=args.event, entry=args.entry)
        adjust, unit = args.adjust, None
    else:
        scenario = load_scenario(args.source)
        data = simulate_cohort(scenario, n=args.n, seed=args.seed)
        columns = dict(exposure=scenario.exposure, time="exit", event="event", entry="entry")
        adjust = args.adjust if args.adjust is not None else scenario.adjust_formula()
        unit = scenario.unit
    fit = fit_dose_response(
        data, **columns, adjust=adjust, knots=args.knots, cause=args.cause, unit=unit
    )
    shape = fit.shape(args.alpha)
    lm = shape.lind_mehlum
    evidence = (
        f"slopes {lm['slope_low']:+.3g}/{lm['slope_high']:+.3g}, p(U) {lm['p_u']:.2g}, "
        f"association p {shape.association_p:.2g}, nadir {shape.nadir:.3g}"
    )
    ok = shape.verdict == args.expect
    print(f"{'PASS' if ok else 'FAIL'}: shape {shape.verdict} (expected {args.expect}); {evidence}")
    return 0 if ok else 1


def cmd_meta(args) -> int:
    """Pool published dose-response tables: curve (CSV, JSON), figure and HTML report."""
    from .meta import dose_response_meta
    from .meta.report import meta_dict, meta_html
    from .plot import plot_meta
    from .results_folder import check_out_folder, results_folder
    from .tables import read_table

    check_out_folder(args.out)
    data = read_table(args.data)
    knots = None if args.knots in (None, "linear") else _knots(args.knots)
    highlight = args.highlight
    if highlight is not None and args.study in data.columns:  # labels may be read as numbers
        labels = {str(v): v for v in data[args.study].unique()}
        highlight = labels.get(highlight, highlight)
    fit = dose_response_meta(
        data,
        study=args.study,
        dose=args.dose,
        log_rr=args.log_rr,
        se=args.se,
        rr=args.rr,
        lower=args.lower,
        upper=args.upper,
        type=args.type,
        cases=args.cases,
        n=args.n,
        knots=knots,
        method=args.method,
        stage=args.stage,
        covariance=args.covariance,
        categories=args.categories,
        ci=args.ci,
        unit=args.unit,
        highlight=highlight,
    )
    ref = None if args.ref is None else float(args.ref)
    curve = fit.curve(None, ref=ref)
    fig, ax = _pyplot().subplots(figsize=(9.5, 4.8), layout="constrained")
    try:
        plot_meta(fit, ax, ref=ref)
        png = _image(fig)
    finally:
        _pyplot().close(fig)
    with results_folder(args.out, command=args.argv, inputs=[args.data]) as out:
        curve.to_csv(out / "meta_curve.csv", index=False)
        (out / "meta.json").write_text(
            json.dumps(meta_dict(fit, curve), indent=2, default=float), encoding="utf-8"
        )
        (out / "meta.png").write_bytes(png)
        (out / "meta_report.html").write_text(meta_html(fit, png, curve), encoding="utf-8")
    out = Path(args.out)
    tests = fit.tests()
    print(
        f"{fit.n_studies} studies; I2 {fit.I2:.1f} %; overall p {tests.loc['overall', 'p']:.3g}"
        + (f"; nonlinear p {tests.loc['nonlinear', 'p']:.3g}" if fit.shape == "spline" else "")
    )
    print(f"wrote {out}/meta_curve.csv, meta.json, meta.png, meta_report.html")
    return 0


class _UsageError(Exception):
    """A bad command line: one line, no usage dump."""


class _Parser(argparse.ArgumentParser):
    """argparse without the usage dump: an error is one line naming the option and the fix."""

    def error(self, message: str):
        message = re.sub(r"^argument (\S+?)(/\S+)?: ", r"\1 ", message)
        message = message.replace("command invalid choice:", "unknown command")
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _number(text: str, option: str, kind, example: str):
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(
            f"{text!r} is not {what}; e.g. {option} {example}"
        ) from None


def _at_least(low: int, option: str, example: str, why: str = ""):
    def parse(text: str) -> int:
        value = _number(text, option, int, example)
        if value < low:
            raise argparse.ArgumentTypeError(
                f"{value} is too small: use {low} or more{why}; e.g. {option} {example}"
            )
        return value

    return parse


def _cause(text: str) -> int:
    value = _number(text, "--cause", int, "1")
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 means censored, not an event; give the event code of interest (1, 2, ...)"
        )
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value}: event codes are 1, 2, ...; e.g. --cause 1")
    return value


def _fraction(option: str, example: str):
    def parse(text: str) -> float:
        value = _number(text, option, float, example)
        if not 0 < value < 1:
            raise argparse.ArgumentTypeError(
                f"{value:g} is not between 0 and 1 (exclusive); e.g. {option} {example}"
            )
        return value

    return parse


def _positive(option: str, example: str):
    def parse(text: str) -> float:
        value = _number(text, option, float, example)
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"{value:g} must be above 0; e.g. {option} {example}")
        return value

    return parse


def _sizes(text: str) -> list[int]:
    """Study sizes separated by commas, each at least MIN_STUDY_N people."""
    from .validate import MIN_STUDY_N

    sizes = []
    for part in (p.strip().replace("_", "") for p in text.split(",")):
        value = _number(part, "--n", int, "2000,5000,10000")
        if value < MIN_STUDY_N:
            raise argparse.ArgumentTypeError(
                f"{value} people is too few to fit the spline model: use {MIN_STUDY_N} or more; "
                "e.g. --n 2000,5000,10000"
            )
        sizes.append(value)
    return sizes


def _override(text: str) -> tuple[str, object]:
    from .scenario import parse_override

    try:
        return parse_override(text)
    except MgriskError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


#: Knot counts with a default placement (Harrell's quantiles), as the API accepts them.
KNOT_COUNTS = range(3, 11)


def _knot_count(text: str) -> int:
    value = _number(text, "--knots", int, "4")
    if value not in KNOT_COUNTS:
        raise argparse.ArgumentTypeError(f"{value}: use 3 to 10 knots (default 4); e.g. --knots 4")
    return value


def _knots(text: str) -> int | tuple[float, ...]:
    """A number of knots (3-10), or at least 3 increasing knots separated by commas."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a number of knots (e.g. 4) or the knots as numbers separated by "
            "commas (e.g. 0.75,0.82,0.87,0.95)"
        ) from None
    if len(parts) == 1:
        return _knot_count(parts[0])
    if len(values) < 3:
        raise argparse.ArgumentTypeError(f"{text!r}: use at least 3 knots")
    finite = all(abs(v) < float("inf") for v in values)
    if not finite or not all(a < b for a, b in itertools.pairwise(values)):
        raise argparse.ArgumentTypeError(
            f"{text!r}: knots must be finite and increasing, e.g. 0.75,0.82,0.87,0.95"
        )
    return tuple(values)


#: Figure formats matplotlib writes without extra software.
FIGURE_FORMATS = ("png", "svg", "pdf", "eps", "ps", "jpg", "jpeg", "tif", "tiff", "webp")


def _formats(text: str) -> str:
    for f in (f.strip().lower() for f in text.split(",")):
        if f not in FIGURE_FORMATS:
            raise argparse.ArgumentTypeError(
                f"{f!r} is not a figure format; use some of {', '.join(FIGURE_FORMATS)}"
            )
    return text


def _sep(text: str) -> str:
    from .tables import _separator

    try:
        return _separator(text)
    except MgriskError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use one character such as ',' or ';', or 'tab'"
        ) from None


def _add_table_options(p) -> None:
    p.add_argument("--sep", type=_sep, help="field separator (default: detected): , ; or tab")
    p.add_argument(
        "--decimal", choices=[".", ","], help="decimal mark (default: detected; ',' as 0,81)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mgrisk", description="Dose-response and U-curve risk modelling in cohort data."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name, help_text):
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--quiet", action="store_true", help="no progress bars")
        return p

    seed = _at_least(0, "--seed", "1")
    demo = command(
        "demo",
        "Simulate the built-in Rotterdam-like cohort, fit it, write the figure and the report.",
    )
    demo.add_argument("--out", default="mgrisk-demo", help="output folder")
    demo.add_argument("--seed", type=seed, default=2017)
    demo.set_defaults(run=cmd_demo)

    fit = command("fit", "Fit a spline dose-response Cox model to a CSV or Parquet file.")
    fit.add_argument("data", help="CSV or Parquet file, one row per person (or interval)")
    fit.add_argument("--exposure"), fit.add_argument("--time"), fit.add_argument("--event")
    fit.add_argument("--entry", help="entry column (age as the time scale, delayed entry)")
    fit.add_argument("--cause", type=_cause, help="event code of interest (default 1)")
    fit.add_argument(
        "--adjust",
        help="adjustment formula, e.g. 'age + C(sex) + log(egfr) + `serum K (mmol/L)`' (parsed, "
        "never run as code)",
    )
    fit.add_argument("--knots", type=_knots, help="number of knots, or knots separated by commas")
    fit.add_argument("--ref", help="reference: a value, median or nadir")
    fit.add_argument("--unit", help="unit of the exposure, e.g. mmol/L (default: none shown)")
    fit.add_argument(
        "--time-unit",
        choices=["years", "months", "weeks", "days"],
        help="unit of the time columns: names person-time and rates (default years)",
    )
    fit.add_argument(
        "--hazard",
        choices=["cause-specific", "fine-gray"],
        help="cause-specific hazards (default; other causes censored) or Fine-Gray "
        "subdistribution hazards",
    )
    fit.add_argument("--ties", choices=["efron", "breslow"], help="tie handling (default efron)")
    fit.add_argument(
        "--near-ties",
        choices=["merge", "keep"],
        help="merge: near-tied times merged as R survival::coxph does (default); keep: as rms::cph",
    )
    fit.add_argument("--quantiles", type=int, help="categories of the quantile table (default 5)")
    fit.add_argument(
        "--nadir-ci",
        choices=["inversion", "bootstrap", "delta"],
        help="nadir CI: test inversion (default; measured coverage 0.96), bootstrap (needs "
        "--bootstrap) or delta method (undercovers: 0.82 at ~900 events)",
    )
    fit.add_argument("--model", help="model file (models/NAME.toml) or a shipped model name")
    fit.add_argument(
        "--bootstrap",
        type=_at_least(1, "--bootstrap", "200"),
        help="bootstrap replicates for nadir/corridor CIs",
    )
    fit.add_argument("--seed", type=seed)
    fit.add_argument("--jobs", type=_at_least(1, "--jobs", "2"), help="cores for the bootstrap")
    fit.add_argument("--corridor", choices=["delta", "ci"], help="corridor rule")
    fit.add_argument(
        "--delta", type=_positive("--delta", "0.1"), help="corridor: HR vs nadir at most 1 + delta"
    )
    fit.add_argument(
        "--corridor-level",
        type=_fraction("--corridor-level", "0.95"),
        help="corridor CI level (default 0.95)",
    )
    fit.add_argument("--formats", type=_formats, help="figure formats besides png, e.g. svg,pdf")
    _add_table_options(fit)
    fit.add_argument(
        "--impute",
        type=_at_least(2, "--impute", "20"),
        metavar="M",
        help="multiple imputation: M completed data sets pooled by Rubin's rules (adds "
        "imputed_vs_complete.png)",
    )
    fit.add_argument(
        "--impute-method",
        choices=["smcfcs", "pmm"],
        default="smcfcs",
        help="exposure imputed compatibly with the spline model (default) or by pmm",
    )
    fit.add_argument("--out", required=True, help="output folder")
    fit.set_defaults(run=cmd_fit)

    sim = command("simulate", "Simulate a synthetic cohort from a scenario.")
    sim.add_argument("scenario", help="shipped name (rotterdam, ...) or a .toml path")
    sim.add_argument(
        "--n", type=_at_least(1, "--n", "20000"), help="people (default: the scenario's)"
    )
    sim.add_argument("--seed", type=seed, default=0)
    sim.add_argument("--out", required=True, help="CSV or Parquet file (by extension)")
    sim.set_defaults(run=cmd_simulate)

    val = command(
        "validate",
        "Simulation study: bias, coverage, nadir, corridor and shape "
        "rates against a scenario's truth.",
    )
    val.add_argument("scenario", help="shipped name (rotterdam, ...) or a .toml path")
    val.add_argument("--reps", type=_at_least(1, "--reps", "200"), required=True)
    val.add_argument(
        "--n",
        type=_at_least(1, "--n", "5000"),
        help="people per replicate (default: the scenario's)",
    )
    val.add_argument("--seed", type=seed, default=0)
    where = val.add_mutually_exclusive_group()
    where.add_argument(
        "--jobs", type=_at_least(1, "--jobs", "2"), help="local cores (default: all)"
    )
    where.add_argument("--scheduler", help="dask.distributed scheduler address")
    val.add_argument("--out", required=True, help="output folder")
    val.set_defaults(run=cmd_validate)

    chk = command("check-shape", "Exit 0 if the fitted curve has the expected shape, else 1.")
    chk.add_argument("source", help="a scenario (name or .toml) or a CSV/Parquet file")
    chk.add_argument(
        "--expect",
        required=True,
        choices=["U", "inverted-U", "J", "reverse-J", "increasing", "decreasing", "flat"],
    )
    chk.add_argument("--exposure"), chk.add_argument("--time"), chk.add_argument("--event")
    chk.add_argument("--entry"), chk.add_argument("--adjust")
    chk.add_argument("--cause", type=_cause, default=1, help="event code of interest")
    chk.add_argument("--knots", type=_knot_count, default=4)
    chk.add_argument("--alpha", type=_fraction("--alpha", "0.05"), default=0.05)
    chk.add_argument(
        "--n", type=_at_least(1, "--n", "10000"), help="people to simulate (scenarios)"
    )
    chk.add_argument("--seed", type=seed, default=0)
    _add_table_options(chk)
    chk.set_defaults(run=cmd_check_shape)

    met = command("meta", "Dose-response meta-analysis of published category tables.")
    met.add_argument("data", help="CSV or Parquet: one row per exposure category per study")
    met.add_argument("--study", required=True, help="study label column")
    met.add_argument("--dose", required=True, help="assigned dose column (exposure units)")
    met.add_argument("--log-rr", help="log relative risk column (0 on reference rows)")
    met.add_argument("--se", help="SE of the log RR (empty on reference rows)")
    met.add_argument("--rr", help="relative risk column (instead of --log-rr/--se)")
    met.add_argument("--lower", help="lower 95%% CI bound of the RR")
    met.add_argument("--upper", help="upper 95%% CI bound of the RR")
    met.add_argument("--type", help="study type column: cc, ci or ir")
    met.add_argument("--cases", help="cases per category")
    met.add_argument("--n", help="persons (cc, ci) or person-time (ir) per category")
    met.add_argument("--knots", help="'linear', a number of knots (default 3) or knots a,b,c")
    met.add_argument("--method", choices=["reml", "ml", "fixed"], default="reml")
    met.add_argument("--stage", type=int, choices=[1, 2], default=2)
    met.add_argument("--covariance", choices=["gl", "hamling", "independent"], default="gl")
    met.add_argument(
        "--categories",
        choices=["piecewise", "normal", "lognormal", "point"],
        default="piecewise",
        help="a category's RR: average risk over an exposure distribution fitted per study "
        "(piecewise normal, the default; normal; log-normal), or the curve at its dose "
        "('point', as R dosresmeta)",
    )
    met.add_argument(
        "--ci",
        choices=["t", "z", "hksj"],
        help="CIs of the pooled curve: t on studies - 1 df (default, random effects), z (as R "
        "dosresmeta; default for --method fixed), hksj (Jackson-Riley)",
    )
    met.add_argument("--ref", help="reference dose of the curve (default: the lowest dose)")
    met.add_argument("--unit", help="unit of the dose, e.g. mmol/L")
    met.add_argument("--highlight", help="a study to highlight (e.g. your cohort)")
    met.add_argument("--out", required=True, help="output folder")
    met.set_defaults(run=cmd_meta, knots="3")

    exp = command("explore", "Start the corridor explorer, a teaching web app, on 127.0.0.1.")
    exp.add_argument(
        "--port", type=_at_least(1, "--port", "8765"), default=8765, help="port (default 8765)"
    )
    exp.add_argument("--no-browser", action="store_true", help="do not open a browser")
    exp.set_defaults(run=cmd_explore)

    pw = command(
        "power",
        "Plan a study: power to see the scenario's shape, nadir precision and coverage at "
        "several study sizes, by simulation (on local cores or a dask cluster).",
    )
    pw.add_argument("scenario", help="shipped name (rotterdam, null, ...) or a .toml path")
    pw.add_argument(
        "--n", type=_sizes, required=True, help="study sizes, e.g. 2000,5000,10000,20000"
    )
    pw.add_argument("--reps", type=_at_least(2, "--reps", "500"), default=200)
    pw.add_argument("--seed", type=seed, default=0)
    pw.add_argument(
        "--set",
        type=_override,
        action="append",
        metavar="KEY=VALUE",
        help="change a scenario key for this study (repeatable), e.g. effect.curvature_low=20, "
        "censoring.follow_up_max=8, exposure.sd=0.08 (validated as the scenario file)",
    )
    pw.add_argument(
        "--target", type=_fraction("--target", "0.8"), help="power to reach: report the size"
    )
    pw.add_argument(
        "--expect",
        choices=["U", "inverted-U", "J", "reverse-J", "increasing", "decreasing", "flat"],
        help="the verdict counted as power (default: the scenario's true shape)",
    )
    where = pw.add_mutually_exclusive_group()
    where.add_argument(
        "--jobs", type=_at_least(1, "--jobs", "2"), help="local cores (default: all)"
    )
    where.add_argument("--scheduler", help="dask.distributed scheduler address, tcp://host:8786")
    pw.add_argument("--out", required=True, help="output folder")
    pw.set_defaults(run=cmd_power)

    sen = command(
        "sensitivity",
        "Sensitivity panel: early follow-up excluded, knots, fractional polynomials, imputed.",
    )
    sen.add_argument("data", help="CSV or Parquet file, one row per person (or interval)")
    sen.add_argument("--exposure", required=True)
    sen.add_argument("--time", required=True)
    sen.add_argument("--event", required=True)
    sen.add_argument("--entry", help="entry column (age as the time scale, delayed entry)")
    sen.add_argument("--adjust", help="adjustment formula (parsed, never run as code)")
    sen.add_argument("--cause", type=_cause, help="event code of interest (default 1)")
    sen.add_argument("--knots", type=_knots, help="knots of the main analysis (default 4)")
    sen.add_argument("--unit", help="unit of the exposure, e.g. mmol/L")
    sen.add_argument("--exclude-years", default="2,5", help="follow-up years to exclude (2,5)")
    sen.add_argument(
        "--impute",
        type=_at_least(2, "--impute", "20"),
        metavar="M",
        help="add the analysis of M imputations",
    )
    sen.add_argument("--impute-method", choices=["smcfcs", "pmm"], default="smcfcs")
    sen.add_argument("--no-fp", action="store_true", help="leave out fractional polynomials")
    sen.add_argument("--seed", type=seed)
    sen.add_argument("--jobs", type=_at_least(1, "--jobs", "2"), help="cores for the imputation")
    _add_table_options(sen)
    sen.add_argument("--out", required=True, help="output folder")
    sen.set_defaults(run=cmd_sensitivity)
    return parser


def cmd_explore(args) -> int:
    """Serve the corridor explorer on 127.0.0.1 until Ctrl-C (needs the ``app`` extra)."""
    import importlib.util
    import socket
    import webbrowser

    if importlib.util.find_spec("shiny") is None or importlib.util.find_spec("uvicorn") is None:
        raise MgriskError(
            'the explorer needs its web framework (Shiny for Python): pip install "mgrisk[app]"'
        )
    from .explore.app import HOST, serve

    with socket.socket() as probe:
        try:
            probe.bind((HOST, args.port))
        except OverflowError:
            raise MgriskError(f"--port {args.port}: use a port from 1 to 65535") from None
        except OSError as exc:
            raise MgriskError(
                f"port {args.port} on {HOST} cannot be used ({exc.strerror}): choose another "
                "with --port"
            ) from None
    url = f"http://{HOST}:{args.port}/"
    print(f"mgrisk explore: {url} (warming up the kernels first; Ctrl-C to stop)", flush=True)
    if not args.no_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    serve(args.port)
    return 0


@contextmanager
def _interrupts():
    """Ctrl-C raises KeyboardInterrupt as usual, and is remembered: an exception it causes
    elsewhere (a C extension's import turns it into ImportError, a pool into
    BrokenProcessPool) is then reported as the interrupt it is. Where C code drops it (numba's
    compiler calls back into Python from C, and there an exception is only printed), a thread
    sends it again, to be raised once that C code has returned, so that it ends the run."""
    seen = {"interrupted": False}
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return
    ended, resent = threading.Event(), []

    def handler(signum, frame):
        if not ended.is_set():
            seen["interrupted"] = True
            raise KeyboardInterrupt

    def unraisable(info):
        if isinstance(info.exc_value, KeyboardInterrupt) and not ended.is_set():
            resent.append(threading.Timer(0.01, os.kill, (os.getpid(), signal.SIGINT)))
            resent[-1].start()
        else:
            hook(info)

    previous, hook = signal.signal(signal.SIGINT, handler), sys.unraisablehook
    sys.unraisablehook = unraisable
    try:
        yield seen
    finally:
        ended.set()  # a signal still on its way finds the handler here, and is ignored
        for timer in resent:
            timer.cancel()
            timer.join()
        sys.unraisablehook = hook
        signal.signal(signal.SIGINT, previous)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2: bad input, 130: interrupted)."""
    if argv is None:  # this process is the command's own
        steady_memory()
        if sys.argv[1:2] != ["explore"]:  # the explorer's server calls kernels from threads
            prefer_fork_safe_threads()
    code = _run(argv)
    if argv is not None:
        return code
    _end(code)


def _end(code: int) -> NoReturn:
    """End the command's own process with ``code``, its files written and closed: after the
    exit handlers (multiprocessing's release the pools' semaphores) and the streams' flush,
    the operating system frees the run's memory at once, where Python's own exit would free it
    object by object (0.3 s after a 1M-row fit). It also ends a run whose Ctrl-C landed in a C
    extension's import with 130: Python (< 3.12) would end that process by SIGINT."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`mgrisk fit ... | head`)
            pass
    os._exit(code)


def _run(argv: list[str] | None) -> int:
    with _interrupts() as seen:
        try:
            parser = build_parser()
            args = parser.parse_args(argv)
            args.argv = ["mgrisk", *(sys.argv[1:] if argv is None else argv)]
            return args.run(args)
        except (MgriskError, _UsageError) as exc:
            if not seen["interrupted"]:
                print(f"mgrisk: error: {exc}", file=sys.stderr)
                return 2
        except KeyboardInterrupt:
            pass
        except MemoryError as exc:
            print(
                f"mgrisk: error: not enough memory ({exc}); use a smaller --n or fewer replicates",
                file=sys.stderr,
            )
            return 2
        except Exception:
            if not seen["interrupted"]:
                raise
    print("mgrisk: interrupted", file=sys.stderr)
    return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
