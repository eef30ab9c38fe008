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
    """Keep TensorFlow's C++ start-up chatter off the terminal unless ``--debug`` is given."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")


def _params_help() -> str:
    return "\n".join(f"  {name:<18} {p.describe()} (default {p.default}): {p.help}"
                     for name, p in PARAMS.items())


json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object on stdout instead of tables.")
data_option = click.option("--data", "data_path", metavar="PATH",
                           help="Local data: aclImdb .tar.gz or directory, or your own table "
                                "(wins over SWEEP_DATA and the study's data.path).")
threads_option = click.option("--threads", type=click.IntRange(min=1), default=None,
                              help="TensorFlow intra-op threads (default: all cores).")


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
    from sweep.training import configure_threads

    configure_threads(threads or os.cpu_count() or 1, 2)
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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="sweep")
