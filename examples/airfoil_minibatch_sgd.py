"""Workflow (f): mini-batch SGD on the airfoil self-noise data (1500 rows, standardised), from scratch and
with nn/optim, for (lr, batch size, epochs) = (1, 1500, 6), (0.005, 1, 2), (0.05, 10, 2): the loss against
epochs for each, and seconds per epoch, as the chapter does. Plots go to --out.

The data file is looked for in --data, then $GDCORE_DATA_DIR, then the user cache; --download fetches it
from the UCI archive when missing (its SHA-1 is checked).

    GDCORE_DATA_DIR=../shared/data python examples/airfoil_minibatch_sgd.py --out out
"""
import argparse
import sys

from gdcore.workflows import airfoil_minibatch_sgd as workflow


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the plots (default: %(default)s)")
    parser.add_argument("--data", default=None, help="airfoil_self_noise.dat or the folder holding it")
    parser.add_argument("--download", action="store_true", help="download the file when it is not found")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    parser.add_argument("--quick", action="store_true", help="fewer epochs per setting")
    args = parser.parse_args(argv)
    try:
        data = workflow.load_data(path=args.data, download=args.download)
    except workflow.DATA_MISSING as err:
        sys.exit(f"airfoil_minibatch_sgd: {err} (or use --data PATH / --download)")
    result = workflow.run(data, quick=args.quick, seed=args.seed, out=args.out, log=print)
    for r in result.learned["runs"]:
        print(f"lr={r['lr']:g} batch={r['batch_size']} epochs={r['epochs']}: final squared loss "
              f"{r['scratch'].final_loss:.4f}, {r['scratch'].mean_seconds_per_epoch:.4f} s/epoch from scratch, "
              f"{r['concise'].mean_seconds_per_epoch:.4f} s/epoch concise")
    print(result.report())


if __name__ == "__main__":
    main()
