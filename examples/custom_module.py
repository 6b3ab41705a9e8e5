"""Workflow (c): an nn.Module subclass with two nn.Parameter (w1: (D_in, D_out), b1: (D_out,)), forward
x.mm(w1) + b1, the loss mean((y_pred - y)^2 / 2) and a hand-written SGD class, fitted to 100 points
y = 3x + 10 + noise; prints the recovered slope and intercept and saves the fit to --out.

    python examples/custom_module.py --out out
"""
import argparse

from gdcore.workflows import custom_module as workflow


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the plot (default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=5000, help="default: %(default)s")
    parser.add_argument("--lr", type=float, default=0.1, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    args = parser.parse_args(argv)
    result = workflow.run(iterations=args.iterations, lr=args.lr, seed=args.seed, out=args.out, log=print)
    print(result.report())


if __name__ == "__main__":
    main()
