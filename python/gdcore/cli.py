"""The ``gdcore`` command: ``gdcore demo`` runs the workflows (a)-(h) and saves their plots;
``gdcore train`` fits a linear model or a small MLP to a user's CSV file (or the airfoil data) and prints the
loss per epoch. Usage mistakes exit with status 2 and bad data with status 1, each with one line on stderr.
"""
from __future__ import annotations

import argparse
import math
import sys
from typing import Any, Callable, Optional, Sequence

from ._version import __version__


class UsageError(Exception):
    """A command-line mistake found after parsing (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exits with status 2."""

    def error(self, message: str):  # noqa: D401  (argparse's hook)
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def argument_type(convert: Callable[[str], Any], wanted: str, ok: Callable[[Any], bool],
                  wanted_value: Optional[str] = None) -> Callable[[str], Any]:
    """An argparse ``type=``: ``convert(text)``, refused with "expected <wanted>, got ..." when the text does
    not convert or ``ok(value)`` is false (then saying ``wanted_value``, when given, instead of ``wanted``)."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {wanted_value or wanted}, got {value}")
        return value
    return parse


_positive_int = argument_type(int, "a positive integer", lambda v: v >= 1)
_positive_float = argument_type(float, "a positive number", lambda v: math.isfinite(v) and v > 0,
                                "a positive finite number")
_seed = argument_type(int, "an integer", lambda v: 0 <= v < 2**64, "an integer in [0, 2**64)")


def build_parser() -> argparse.ArgumentParser:
    """The parser for ``gdcore`` and its sub-commands ``demo`` and ``train``."""
    parser = _Parser(prog="gdcore", description="Gradient descent from the ground up: run the chapter's "
                     "workflows, or fit your own data.")
    parser.add_argument("--version", action="version", version=f"gdcore {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{demo,train,launch}", parser_class=_Parser)

    demo = commands.add_parser("demo", help="run workflows (a)-(h), print a summary table, save the plots",
                               description="Run the chapter's workflows (a)-(f), classification (g) and the curvature tools (h) on "
                               "built-in data, print a summary "
                               "table and save every plot into --out. The airfoil workflow (f) runs when "
                               "airfoil_self_noise.dat is found in $GDCORE_DATA_DIR or the user cache.")
    demo.add_argument("--out", default="gdcore-demo", metavar="DIR", help="folder for the plots (default: %(default)s)")
    demo.add_argument("--quick", action="store_true", help="smaller settings (a few seconds in all)")
    demo.add_argument("--download", action="store_true",
                      help="download the airfoil data from the UCI archive when it is not found")
    demo.add_argument("--only", default="abcdefgh", metavar="LETTERS",
                      help="run only these workflows, e.g. --only af (default: all of abcdefgh)")
    demo.add_argument("--verbose", "-v", action="store_true", help="print each workflow's progress lines")

    train = commands.add_parser("train", help="fit a linear model or an MLP to a CSV file or the airfoil data",
                                description="Fit a model to a table by mini-batch gradient descent and print "
                                "the mean training loss (MSE) per epoch.")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", metavar="FILE", help="a CSV file with a header row and numeric columns")
    source.add_argument("--dataset", choices=["airfoil"], help="a built-in dataset (airfoil: 1500 rows, standardised)")
    train.add_argument("--target", metavar="COL", help="the target column of --csv, by name or 0-based index "
                       "(default: the last column)")
    train.add_argument("--task", choices=["regression", "classification"], default="regression",
                       help="regression (MSE on a numeric target) or classification (cross-entropy on a column of "
                       "class labels, names or integers; accuracy per epoch) (default: %(default)s)")
    train.add_argument("--model", choices=["linear", "mlp"], default="linear", help="default: %(default)s")
    train.add_argument("--hidden", type=_positive_int, default=64, metavar="N",
                       help="hidden units of the MLP (default: %(default)s)")
    train.add_argument("--optimizer", choices=["sgd", "momentum", "adam"], default="sgd",
                       help="sgd, sgd with momentum 0.9, or adam (default: %(default)s)")
    train.add_argument("--lr", type=_positive_float, default=None,
                       help="learning rate (default: 0.01 for sgd and momentum, 0.001 for adam)")
    train.add_argument("--batch-size", type=_positive_int, default=32, metavar="B", help="default: %(default)s")
    train.add_argument("--epochs", type=_positive_int, default=10, metavar="E", help="default: %(default)s")
    train.add_argument("--seed", type=_seed, default=0, help="seeds the initial weights and the shuffling "
                       "(default: %(default)s)")
    train.add_argument("--standardize", action="store_true",
                       help="scale the feature columns to zero mean and unit variance before training "
                       "(a saved model still takes the raw features)")
    train.add_argument("--plot", metavar="PNG", help="save the loss curve to this image file")
    train.add_argument("--save", metavar="FILE", help="save the model's state_dict with gdcore.save")
    train.add_argument("--download", action="store_true", help="with --dataset airfoil: download it when missing")
    train.add_argument("--checkpoint", metavar="FILE", help="write a checkpoint (model, optimizer, random states, "
                       "position) to FILE after every epoch; Ctrl-C writes one and stops")
    train.add_argument("--checkpoint-every", type=_positive_int, default=None, metavar="N",
                       help="with --checkpoint: every N steps instead of every epoch")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --checkpoint FILE "
                       "(same data and options); ends with the weights an uninterrupted run would have")
    train.add_argument("--check-lr", action="store_true",
                       help="before training, compute the stability bound 2 / lambda_max on the first batch (sgd and "
                       "momentum), print it, and stop with an error when --lr is above it")
    from .launch import add_parser as add_launch_parser
    add_launch_parser(commands)
    return parser


def _demo(args) -> int:
    from .workflows.demo import LETTERS, format_table, run_all
    if not args.only or set(args.only) - set(LETTERS):
        raise UsageError(f"--only takes letters from {LETTERS}, got {args.only!r}")
    results, notes = run_all(out=args.out, quick=args.quick, download=args.download,
                             log=print if args.verbose else None, only=args.only)
    print(format_table(results))
    for note in notes:
        print(f"note: {note}")
    print(f"plots saved in {args.out}")
    return 0


def _train(args) -> int:
    from .workflows.train_table import train_table
    if args.target is not None and args.csv is None:
        raise UsageError("--target only applies to --csv (the airfoil label is its last column)")
    if (args.resume or args.checkpoint_every is not None) and args.checkpoint is None:
        raise UsageError("--resume and --checkpoint-every need --checkpoint FILE")
    if args.task == "classification":
        return _train_classifier(args)
    if args.check_lr and args.optimizer == "adam":
        raise UsageError("--check-lr applies to --optimizer sgd or momentum (the bound 2 / lambda_max is not Adam's)")
    train_table(csv=args.csv, target=args.target, dataset=args.dataset, model=args.model, hidden=args.hidden,
                optimizer=args.optimizer, lr=args.lr, batch_size=args.batch_size, epochs=args.epochs,
                seed=args.seed, standardize=args.standardize, plot=args.plot, save=args.save,
                download=args.download, log=print, check_lr=args.check_lr, checkpoint=args.checkpoint,
                checkpoint_every=args.checkpoint_every or "epoch", resume=args.resume)
    return 0


def _train_classifier(args) -> int:
    from .workflows.train_classifier import train_classifier
    if args.csv is None:
        raise UsageError("--task classification needs --csv FILE (a table with a column of class labels)")
    if args.check_lr or args.checkpoint is not None:
        raise UsageError("--check-lr and --checkpoint apply to --task regression")
    train_classifier(csv=args.csv, target=args.target, model=args.model, hidden=args.hidden, optimizer=args.optimizer,
                     lr=args.lr, batch_size=args.batch_size, epochs=args.epochs, seed=args.seed,
                     standardize=args.standardize, plot=args.plot, save=args.save, log=print)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``gdcore`` console script; returns the exit status."""
    from .train import DivergenceError
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        print("gdcore: error: choose a command, demo, train or launch (see 'gdcore --help')", file=sys.stderr)
        return 2
    prog = f"gdcore {args.command}"
    try:
        if args.command == "launch":
            from .launch import run as launch
            return launch(args)
        return _demo(args) if args.command == "demo" else _train(args)
    except UsageError as err:
        print(f"{prog}: error: {err} (see '{prog} --help')", file=sys.stderr)
        return 2
    except DivergenceError as err:
        hint = " On the command line: a smaller --lr, or --standardize." if args.command == "train" else ""
        print(f"{prog}: error: {err}{hint}", file=sys.stderr)
        return 1
    except (OSError, ValueError, LookupError) as err:  # unreadable files, bad tables, a --target out of range
        print(f"{prog}: error: {_one_line(err)}", file=sys.stderr)
        return 1
    except MemoryError as err:  # e.g. a huge --hidden or --batch-size
        print(f"{prog}: error: {_one_line(err)} (try a smaller --hidden or --batch-size)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def _one_line(err: BaseException) -> str:
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror}"
    return " ".join(str(err).split()) or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
