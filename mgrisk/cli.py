"""The ``mgrisk`` command line: demo, fit, simulate, validate, check-shape, meta, sensitivity.

The only module that prints, exits or reads argv. Every mgrisk error becomes one line on
stderr and exit status 2; ``check-shape`` exits 1 when the shape is not the one expected.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

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
    "sensitivity": (
        "example: mgrisk sensitivity cohort.csv --exposure mg --time exit --entry entry "
        "--event event --adjust 'female + egfr' --impute 20 --out sensitivity/"
    ),
    "meta": (
        "example: mgrisk meta studies.csv --study id --dose dose --log-rr logrr --se se "
        "--type type --cases cases --n n --knots 3 --out meta/"
    ),
}


def _knots_arg(text: str):
    """--knots: a number of knots (3-10) or the knots themselves, separated by commas."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a number of knots (e.g. 4) or knots separated by commas"
        ) from None
    if len(values) == 1:
        if values[0] != int(values[0]) or not 3 <= values[0] <= 10:
            raise argparse.ArgumentTypeError(f"{text!r}: the number of knots must be 3 to 10")
        return int(values[0])
    return tuple(values)


def _read_table(path: str):
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise MgriskError(f"file not found: {path}")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(p)
        return pd.read_csv(p)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise MgriskError(
            f"{path}: cannot be read as {'Parquet' if p.suffix == '.parquet' else 'CSV'} ({exc})"
        ) from None


def _write_table(df, path: str) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() in (".parquet", ".pq"):
        df.to_parquet(p, index=False)
    else:
        df.to_csv(p, index=False)


def _results(fit, model, *, jobs, quiet: bool):
    """The run's results, computed once with the model's options."""
    nadir_ci = model.nadir_ci or ("bootstrap" if model.bootstrap else "inversion")
    return fit.results(
        ref=model.reference,
        nadir_method=nadir_ci,
        corridor_rule=model.corridor_rule,
        corridor_delta=model.corridor_delta,
        corridor_level=model.corridor_level,
        n_boot=model.bootstrap,
        seed=model.seed,
        jobs=jobs,
        progress=not quiet,
        quantiles=model.quantiles,
    )


def _write_outputs(results, out: Path, formats: list[str]) -> None:
    """summary.txt, results.json, curve.csv, quintiles.csv, corridor.png (+ formats), report:
    renderings of one `Results` (nothing is computed again)."""
    import matplotlib

    matplotlib.use("Agg")
    from io import BytesIO

    import matplotlib.pyplot as plt

    from .html_report import write_report
    from .plot import plot_hr_curve
    from .report import result_dict, summary_text

    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.txt").write_text(summary_text(results) + "\n", encoding="utf-8")
    (out / "results.json").write_text(
        json.dumps(result_dict(results), indent=2, default=float), encoding="utf-8"
    )
    results.curve.to_csv(out / "curve.csv", index=False)
    if results.quantiles is not None:
        results.quantiles.table.to_csv(out / "quintiles.csv")
    fig, ax = plt.subplots(figsize=(9.5, 4.6), layout="constrained")
    plot_hr_curve(results, ax)
    png = BytesIO()
    fig.savefig(png, format="png", dpi=160)  # drawn once: the file and the report's image
    (out / "corridor.png").write_bytes(png.getvalue())
    for fmt in [f for f in formats if f != "png"]:
        fig.savefig(out / f"corridor.{fmt}", dpi=160)
    plt.close(fig)
    write_report(results, out / "report.html", png.getvalue())


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


def _write_figure(path: Path, name: str, *objects) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot

    fig, ax = plt.subplots(figsize=(9.5, 4.8), layout="constrained")
    getattr(plot, name)(*objects, ax=ax)
    fig.savefig(path, dpi=160)
    plt.close(fig)


def cmd_sensitivity(args) -> int:
    from .models import Model

    data = _read_table(args.data)
    _warmup.start(len(data))
    model = Model(name="command line", exposure=args.exposure, time=args.time, event=args.event)
    model = model.override(
        entry=args.entry, adjust=args.adjust, cause=args.cause, knots=args.knots, unit=args.unit
    )
    fit = _fit_from_model(data, model)
    imputed = _impute(data, model, args) if args.impute else None
    years = [float(v) for v in args.exclude_years.split(",")] if args.exclude_years else []
    panel = fit.sensitivity(exclude_years=tuple(years), imputed=imputed, fp=not args.no_fp)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    panel.table.to_csv(out / "sensitivity.csv")
    _write_figure(out / "sensitivity.png", "plot_sensitivity", panel)
    print(panel)
    for note in panel.notes.values():
        print(f"note: {note}")
    print(f"\nwrote {out}/sensitivity.csv, sensitivity.png")
    return 0


def cmd_demo(args) -> int:
    from .models import load_model
    from .scenario import load_scenario
    from .simulate import simulate_cohort

    start = time.perf_counter()
    scenario = load_scenario("rotterdam")
    _warmup.start(scenario.n)
    cohort = simulate_cohort(scenario, seed=args.seed)
    model = load_model("rotterdam_mg_dementia")
    fit = _fit_from_model(cohort, model)
    out = Path(args.out)
    results = _results(fit, model, jobs=1, quiet=args.quiet)
    _write_outputs(results, out, ["png"])
    from .report import summary_text

    print(f"Synthetic Rotterdam-like cohort ({scenario.source}); seed {args.seed}")
    print(summary_text(results))
    print(
        f"\nwrote {out}/corridor.png, report.html, summary.txt, results.json, curve.csv, "
        f"quintiles.csv in {time.perf_counter() - start:.1f} s"
    )
    return 0


def cmd_fit(args) -> int:
    from .models import Model, load_model

    data = _read_table(args.data)
    _warmup.start(len(data))
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
    results = _results(fit, model, jobs=args.jobs, quiet=args.quiet)
    _write_outputs(results, Path(args.out), formats)
    if complete is not None:
        _write_figure(
            Path(args.out) / "imputed_vs_complete.png", "plot_imputed_vs_complete", complete, fit
        )
    from .report import summary_text

    print(summary_text(results))
    print(f"\nwrote {args.out}/")
    return 0


def cmd_simulate(args) -> int:
    from .simulate import simulate_cohort

    cohort = simulate_cohort(args.scenario, n=args.n, seed=args.seed)
    _write_table(cohort, args.out)
    counts = cohort.event.value_counts().sort_index().to_dict()
    print(f"wrote {len(cohort):,} people to {args.out} (event codes: {counts})")
    return 0


def cmd_validate(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plot import plot_coverage, plot_nadir_distribution
    from .validate import simulation_study

    backend = "dask" if args.scheduler else "local"
    study = simulation_study(
        args.scenario,
        reps=args.reps,
        n=args.n,
        seed=args.seed,
        jobs=args.jobs,
        backend=backend,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "study.json").write_text(json.dumps(study.to_dict(), indent=2))
    (out / "summary.txt").write_text(study.summary() + "\n")
    for name, draw in (("coverage", plot_coverage), ("nadirs", plot_nadir_distribution)):
        fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
        draw(study, ax)
        fig.savefig(out / f"{name}.png", dpi=200)
        plt.close(fig)
    print(study.summary())
    print(f"wrote {out}/study.json, summary.txt, coverage.png, nadirs.png")
    return 0


def cmd_check_shape(args) -> int:
    from .doseresponse import fit_dose_response
    from .scenario import load_scenario
    from .simulate import simulate_cohort

    source = Path(args.source)
    if source.suffix.lower() in (".csv", ".parquet", ".pq"):
        data = _read_table(args.source)
        missing = [f"--{k}" for k in ("exposure", "time", "event") if getattr(args, k) is None]
        if missing:
            raise MgriskError(f"checking a data file needs {', '.join(missing)}")
        fit = fit_dose_response(
            data,
            args.exposure,
            args.time,
            args.event,
            entry=args.entry,
            adjust=args.adjust,
            knots=args.knots,
            cause=args.cause,
        )
    else:
        scenario = load_scenario(args.source)
        data = simulate_cohort(scenario, n=args.n, seed=args.seed)
        fit = fit_dose_response(
            data,
            scenario.exposure,
            "exit",
            "event",
            entry="entry",
            adjust=args.adjust if args.adjust is not None else scenario.adjust_formula(),
            knots=args.knots,
            unit=scenario.unit,
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
    import matplotlib

    matplotlib.use("Agg")
    from io import BytesIO

    import matplotlib.pyplot as plt

    from .meta import dose_response_meta
    from .meta.report import meta_dict, meta_html
    from .plot import plot_meta

    data = _read_table(args.data)
    knots = None if args.knots in (None, "linear") else _knots_arg(args.knots)
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
        unit=args.unit,
        highlight=highlight,
    )
    ref = None if args.ref is None else float(args.ref)
    curve = fit.curve(None, ref=ref)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    curve.to_csv(out / "meta_curve.csv", index=False)
    (out / "meta.json").write_text(
        json.dumps(meta_dict(fit, curve), indent=2, default=float), encoding="utf-8"
    )
    fig, ax = plt.subplots(figsize=(9.5, 4.8), layout="constrained")
    plot_meta(fit, ax, ref=ref)
    png = BytesIO()
    fig.savefig(png, format="png", dpi=160)
    plt.close(fig)
    (out / "meta.png").write_bytes(png.getvalue())
    (out / "meta_report.html").write_text(meta_html(fit, png.getvalue(), curve), encoding="utf-8")
    tests = fit.tests()
    print(
        f"{fit.n_studies} studies; I2 {fit.I2:.1f} %; overall p {tests.loc['overall', 'p']:.3g}"
        + (f"; nonlinear p {tests.loc['nonlinear', 'p']:.3g}" if fit.shape == "spline" else "")
    )
    print(f"wrote {out}/meta_curve.csv, meta.json, meta.png, meta_report.html")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (``mgrisk: error: ...``, exit 2), not a usage dump."""

    def error(self, message: str):
        raise MgriskError(f"{message} (see mgrisk {self.prog.split()[-1]} --help)")


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

    demo = command(
        "demo",
        "Simulate the built-in Rotterdam-like cohort, fit it, write the figure and the report.",
    )
    demo.add_argument("--out", default="mgrisk-demo", help="output folder")
    demo.add_argument("--seed", type=int, default=2017)
    demo.set_defaults(run=cmd_demo)

    fit = command("fit", "Fit a spline dose-response Cox model to a CSV or Parquet file.")
    fit.add_argument("data", help="CSV or Parquet file, one row per person (or interval)")
    fit.add_argument("--exposure"), fit.add_argument("--time"), fit.add_argument("--event")
    fit.add_argument("--entry", help="entry column (age as the time scale, delayed entry)")
    fit.add_argument("--cause", type=int, help="event code of interest (default 1)")
    fit.add_argument(
        "--adjust",
        help="adjustment formula, e.g. 'age + C(sex) + log(egfr) + `serum K (mmol/L)`' (parsed, "
        "never run as code)",
    )
    fit.add_argument(
        "--knots", type=_knots_arg, help="number of knots, or knots separated by commas"
    )
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
        help="nadir CI: test inversion (default; coverage 0.94-0.95), bootstrap (needs "
        "--bootstrap) or delta method (undercovers: 0.76 at ~900 events)",
    )
    fit.add_argument("--model", help="model file (models/NAME.toml) or a shipped model name")
    fit.add_argument("--bootstrap", type=int, help="bootstrap replicates for nadir/corridor CIs")
    fit.add_argument("--seed", type=int)
    fit.add_argument("--jobs", type=int, help="cores for the bootstrap")
    fit.add_argument("--corridor", choices=["delta", "ci"], help="corridor rule")
    fit.add_argument("--delta", type=float, help="corridor: HR vs nadir at most 1 + delta")
    fit.add_argument("--corridor-level", type=float, help="corridor CI level (default 0.95)")
    fit.add_argument("--formats", help="figure formats besides png, e.g. svg,pdf")
    fit.add_argument(
        "--impute",
        type=int,
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
    sim.add_argument("--n", type=int, help="people (default: the scenario's)")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--out", required=True, help="CSV or Parquet file (by extension)")
    sim.set_defaults(run=cmd_simulate)

    val = command(
        "validate",
        "Simulation study: bias, coverage, nadir, corridor and shape "
        "rates against a scenario's truth.",
    )
    val.add_argument("scenario", help="shipped name (rotterdam, ...) or a .toml path")
    val.add_argument("--reps", type=int, required=True)
    val.add_argument("--n", type=int, help="people per replicate (default: the scenario's)")
    val.add_argument("--seed", type=int, default=0)
    where = val.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=int, help="local cores (default: all)")
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
    chk.add_argument("--cause", type=int, default=1, help="event code of interest")
    chk.add_argument("--knots", type=int, default=4)
    chk.add_argument("--alpha", type=float, default=0.05)
    chk.add_argument("--n", type=int, help="people to simulate (scenarios)")
    chk.add_argument("--seed", type=int, default=0)
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
    met.add_argument("--ref", help="reference dose of the curve (default: the lowest dose)")
    met.add_argument("--unit", help="unit of the dose, e.g. mmol/L")
    met.add_argument("--highlight", help="a study to highlight (e.g. your cohort)")
    met.add_argument("--out", required=True, help="output folder")
    met.set_defaults(run=cmd_meta, knots="3")

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
    sen.add_argument("--cause", type=int, help="event code of interest (default 1)")
    sen.add_argument("--knots", type=_knots_arg, help="knots of the main analysis (default 4)")
    sen.add_argument("--unit", help="unit of the exposure, e.g. mmol/L")
    sen.add_argument("--exclude-years", default="2,5", help="follow-up years to exclude (2,5)")
    sen.add_argument("--impute", type=int, metavar="M", help="add the analysis of M imputations")
    sen.add_argument("--impute-method", choices=["smcfcs", "pmm"], default="smcfcs")
    sen.add_argument("--no-fp", action="store_true", help="leave out fractional polynomials")
    sen.add_argument("--seed", type=int)
    sen.add_argument("--jobs", type=int, help="cores for the imputation")
    sen.add_argument("--out", required=True, help="output folder")
    sen.set_defaults(run=cmd_sensitivity)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.run(args)
    except MgriskError as exc:
        print(f"mgrisk: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mgrisk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
