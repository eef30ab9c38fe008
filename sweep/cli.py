"""The ``sweep`` command line: thin wrappers that parse, call one library function, and print.

Every `SweepError` becomes one line on stderr and exit code 2 (``--debug`` shows the traceback);
TensorFlow is imported only by commands that train, so ``sweep --help`` answers at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any

import click

from sweep.errors import SweepError
from sweep.params import PARAMS, parse_assignments, resolve


class _SweepGroup(click.Group):
    """Turns a `SweepError` into ``sweep: error: <message>`` and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SweepError as err:
            if (ctx.obj or {}).get("debug"):
                raise
            click.echo(f"sweep: error: {err}", err=True)
            ctx.exit(2)


def quiet_tensorflow() -> None:
    """Keep TensorFlow's start-up chatter off the terminal unless ``--debug`` is given."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)


def import_tensorflow(threads: int | None) -> None:
    """Import TensorFlow with its C++ start-up lines silenced, and size its thread pools.

    TensorFlow's absl logger writes to file descriptor 2 before any setting applies, so
    unless ``--debug`` is given, descriptor 2 points at /dev/null for the import only.
    """
    ctx = click.get_current_context()
    if not (ctx.obj or {}).get("debug"):
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        try:
            import tensorflow
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
        tensorflow.get_logger().setLevel("ERROR")  # e.g. retracing notes: one model per trial
    from sweep.training import configure_threads

    configure_threads(threads or int(os.environ.get("SWEEP_THREADS", 0)) or os.cpu_count() or 1,
                      2)


def _params_help() -> str:
    return "\n".join(f"  {name:<18} {p.describe()} (default {p.default}): {p.help}"
                     for name, p in PARAMS.items())


json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object on stdout instead of tables.")
data_option = click.option("--data", "data_path", metavar="PATH",
                           help="Local data: aclImdb .tar.gz or directory, or your own table "
                                "(wins over SWEEP_DATA and the study's data.path).")
storage_option = click.option("--storage", metavar="URL", default=None,
                              help="sqlite:///FILE.db or postgresql+psycopg://USER@HOST/DB "
                                   "(default: $SWEEP_STORAGE, else sqlite:///sweep.db).")
threads_option = click.option("--threads", type=click.IntRange(min=1), default=None,
                              help="TensorFlow intra-op threads (default: $SWEEP_THREADS, "
                                   "else all cores).")


@click.group(cls=_SweepGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and TensorFlow's logs.")
@click.version_option(package_name="sweep")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Sweeps of Keras text classifiers that explain, with evidence, what drives accuracy.

    \b
    Start with:  sweep run studies/quickstart.yaml --report
    One model:   sweep train --set head=last --set padding=pre
    """
    ctx.ensure_object(dict)["debug"] = debug
    if not debug:
        quiet_tensorflow()


@cli.command(epilog="Parameters (--set KEY=VALUE):\n\n\b\n" + _params_help())
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a parameter; repeat for several.")
@data_option
@json_option
@click.option("--summary-only", is_flag=True,
              help="Print the model summary and parameter count; read no data, train nothing.")
@threads_option
def train(assignments: tuple[str, ...], data_path: str | None, as_json: bool,
          summary_only: bool, threads: int | None) -> None:
    """Train one configuration on real data and print per-epoch and final accuracies.

    Defaults reproduce the question's setup (Flatten head, maxlen 500, post-padding, 450/200
    reviews, 7 epochs). Example, the last-state head with pre-padding:

    \b
        sweep train --set head=last --set padding=pre --set maxlen=300
    """
    config = resolve(parse_assignments(assignments))
    import_tensorflow(threads)
    if summary_only:
        _print_summary(config, as_json)
        return
    from sweep.data import load_dataset
    from sweep.training import train as fit

    dataset = load_dataset(config, data_path)
    stream = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    with stream:
        result = fit(config, dataset, verbose=1 if sys.stderr.isatty() or not as_json else 2)
    if as_json:
        click.echo(json.dumps(result))
    else:
        _print_result(result)


def _print_summary(config: dict[str, Any], as_json: bool) -> None:
    from sweep.models import build_model, mask_effective

    model = build_model(config)
    if as_json:
        layers = [{"name": layer.name, "type": type(layer).__name__,
                   "params": int(layer.count_params())} for layer in model.layers]
        click.echo(json.dumps({"config": config, "params": int(model.count_params()),
                               "mask_effective": mask_effective(config), "layers": layers}))
        return
    model.summary(print_fn=lambda line, **_: click.echo(line))
    click.echo(f"params: {model.count_params():,}   mask_effective: {mask_effective(config)}")


def _print_result(result: dict[str, Any]) -> None:
    import pandas as pd

    history = pd.DataFrame(result["history"])
    history.index = pd.RangeIndex(1, len(history) + 1, name="epoch")
    click.echo(history.round(4).to_string())
    test = result["test_accuracy"]
    click.echo(f"\nbest epoch {result['best_epoch']}: val_accuracy "
               f"{result['best_val_accuracy']:.4f}, test_accuracy "
               + (f"{test:.4f}" if test is not None else "n/a (n_test=0)"))
    click.echo(f"params {result['params']:,}   mask_effective {result['mask_effective']}   "
               f"{result['seconds']:.1f} s ({result['seconds_per_epoch']:.1f} s/epoch)")
    for split in ("train", "val", "test"):
        s = result["data"]["stats"][split]
        click.echo(f"{split:>5}: {s['n']} reviews, mean length {s['mean_length']:.0f} tokens, "
                   f"{s['truncated_share']:.0%} truncated, {s['padded_share']:.0%} of timesteps "
                   "padded")


study_file_argument = click.argument("study_file", type=click.Path(dir_okay=False))


@cli.command()
@study_file_argument
@storage_option
@data_option
def init(study_file: str, storage: str | None, data_path: str | None) -> None:
    """Validate a study file, create its study and enqueue its grid cells; train nothing.

    Safe to run from many processes at once (docker compose's init service runs it).
    """
    from sweep.runner import prepare_study
    from sweep.storage import storage_url
    from sweep.studyfile import load_study_file

    spec = load_study_file(study_file)
    study, added = prepare_study(spec, storage_url(storage), data_path)
    click.echo(f"study '{spec.name}' ready: {added} new cells queued, "
               f"{len(study.get_trials(deepcopy=False))} trials in all")


@cli.command()
@study_file_argument
@storage_option
@data_option
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: one per core, one thread each: faster "
                   "than one worker using every core; see benchmarks/RESULTS.md).")
@click.option("--n-trials", type=click.IntRange(min=1), default=None,
              help="For tpe/random designs: the number of configurations (overrides the file).")
@threads_option
@click.option("--report", "with_report", is_flag=True, help="Write the report when done.")
@json_option
def run(study_file: str, storage: str | None, data_path: str | None, workers: int | None,
        n_trials: int | None, threads: int | None, with_report: bool, as_json: bool) -> None:
    """Create or resume a study and run it with local workers, showing progress.

    Running a finished study again does nothing; adding a level to a factor runs only the
    new cells. Example:

    \b
        sweep run studies/quickstart.yaml --workers 2 --report
    """
    from sweep.progress import run_study
    from sweep.storage import storage_url
    from sweep.studyfile import load_study_file

    spec = load_study_file(study_file)
    url = storage_url(storage)
    status = run_study(spec, url, workers=workers, data_path=data_path, threads=threads,
                       n_trials=n_trials, show_progress=not as_json)
    if with_report:
        status["report"] = _write_report(url, spec.name, None)
    if as_json:
        click.echo(json.dumps(status, default=str))
    else:
        click.echo(status["message"])
        if with_report:
            _echo_report(status["report"])
    if any(code not in (0, None) for code in status.get("worker_exit_codes", [])):
        raise click.exceptions.Exit(1)


@cli.command()
@study_file_argument
@storage_option
@data_option
@click.option("--n-trials", type=click.IntRange(min=1), default=None,
              help="For tpe/random designs: the number of configurations (overrides the file).")
@threads_option
@click.option("-q", "--quiet", is_flag=True, help="Only one line per finished trial.")
@click.option("--publish", is_flag=True,
              help="When the study is done, write its report and refresh the dashboard.")
def worker(study_file: str, storage: str | None, data_path: str | None,
           n_trials: int | None, threads: int | None, quiet: bool, publish: bool) -> None:
    """Join a study and take its trials until the design is done, then exit 0.

    Start as many as you like, on this host or others, against the same PostgreSQL URL;
    each grid cell runs exactly once and a killed worker's trial is re-run by another.
    """
    from sweep.runner import work
    from sweep.storage import storage_url
    from sweep.studyfile import load_study_file
    spec = load_study_file(study_file)
    import_tensorflow(threads)
    summary = work(spec, storage_url(storage), data_path, n_trials, quiet=quiet,
                   publish=publish)
    click.echo(f"worker done: {summary.complete} complete, {summary.pruned} pruned, "
               f"{summary.failed} failed" + (f" (stopped by {summary.interrupted})"
                                             if summary.interrupted else ""), err=True)
    if summary.interrupted:
        raise click.exceptions.Exit(130)


@cli.command()
@click.argument("name")
@storage_option
@json_option
def status(name: str, storage: str | None, as_json: bool) -> None:
    """Trials by state, grid coverage, best trial and ETA of study NAME."""
    from sweep.progress import study_status
    from sweep.storage import load_existing_study, storage_url

    result = study_status(load_existing_study(storage_url(storage), name))
    if as_json:
        click.echo(json.dumps(result, default=str))
        return
    states = ", ".join(f"{k.lower()} {v}" for k, v in result["states"].items() if v)
    click.echo(f"{result['study']} ({result['design']}): {result['finished']}/{result['total']}"
               f" finished; {states or 'no trials'}")
    if "coverage" in result:
        cov = result["coverage"]
        click.echo(f"grid coverage: {cov['cells_done']}/{cov['cells_total']} cells complete")
    if result["best"]:
        best = result["best"]
        click.echo(f"best: trial {best['number']} value {best['value']:.4f} {best['params']}")
    if result["running"]:
        click.echo("running: " + ", ".join(f"#{r['number']} epoch {r['epoch']}"
                                           for r in result["running"]))
    if result["eta_seconds"]:
        click.echo(f"eta: {result['eta_seconds'] / 60:.1f} min")


@cli.command(name="ls")
@storage_option
@json_option
def list_studies(storage: str | None, as_json: bool) -> None:
    """List the studies in the storage with their trial counts."""
    import optuna

    from sweep.storage import close_storage, open_storage, storage_url

    backend = open_storage(storage_url(storage))
    rows = [{"study": s.study_name, "trials": s.n_trials,
             "design": s.user_attrs.get("design", {}).get("kind", "-"),
             "direction": s.direction.name.lower(),
             "best": s.best_trial.value if s.best_trial else None}
            for s in optuna.get_all_study_summaries(backend)]
    close_storage(backend)
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        best = f"{row['best']:.4f}" if row["best"] is not None else "-"
        click.echo(f"{row['study']:<32} {row['design']:<7} {row['trials']:>5} trials  best {best}")


@cli.command()
@click.argument("name")
@storage_option
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "json"]), default="csv",
              show_default=True, help="json is JSON lines, one trial per line.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="File to write (default: stdout; parquet needs a file).")
def export(name: str, storage: str | None, fmt: str, output: str | None) -> None:
    """Write one row per trial of study NAME: params, metrics and metadata."""
    from pathlib import Path

    from sweep.export import trials_frame, write_export
    from sweep.storage import load_existing_study, storage_url

    frame = trials_frame(load_existing_study(storage_url(storage), name))
    text = write_export(frame, fmt, Path(output) if output else None)
    if text is not None:
        click.echo(text, nl=False)


def _echo_report(summary: dict[str, Any]) -> None:
    """The verdict, one sentence a line, then where the page is."""
    for sentence in summary["verdict"]:
        click.echo(sentence)
    click.echo(f"report: {os.path.join(summary['out_dir'], summary['files']['html'])}")


def _write_report(url: str, name: str, out: str | None) -> dict[str, Any]:
    """Build the report and return its summary without the in-memory figures."""
    from pathlib import Path

    from sweep.report import PUBLISH_KEYS, report_study

    summary = report_study(url, name, Path(out) if out else None)
    return {key: value for key, value in summary.items() if key not in PUBLISH_KEYS}


@cli.command()
@click.argument("name")
@storage_option
@click.option("--out", metavar="DIR", default=None,
              help="Where to write (default: reports/NAME/).")
@json_option
def report(name: str, storage: str | None, out: str | None, as_json: bool) -> None:
    """Explain study NAME: the verdict, the gap and what drives it, as HTML, PNG and Markdown.

    Also publishes the key figures and the verdict into the study for optuna-dashboard.
    """
    from sweep.storage import storage_url

    summary = _write_report(storage_url(storage), name, out)
    if as_json:
        click.echo(json.dumps(summary, default=str))
        return
    _echo_report(summary)


@cli.command()
@storage_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind; loopback keeps it private (the dashboard has no login).")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
def dashboard(storage: str | None, host: str, port: int) -> None:
    """Serve optuna-dashboard: live trials, the report's figures and its verdict."""
    from sweep.dashboard import serve
    from sweep.storage import storage_url

    click.echo(f"optuna-dashboard on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    serve(storage_url(storage), host=host, port=port)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="sweep")
