"""Workflow (a): linear regression on 20 points by gradient descent with the gradient derived by hand,
X^T (X theta - y) / m, checked against autograd at every step, until every |gradient| <= 1e-5.
Prints theta next to numpy's closed-form least squares and saves the fitted line to --out.

    python examples/linear_regression_by_hand.py --out out
"""
import argparse

from gdcore.workflows import linear_regression_by_hand as workflow


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the plot (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate (default: %(default)s)")
    parser.add_argument("--tol", type=float, default=1e-5, help="stop when every |gradient| <= tol")
    args = parser.parse_args(argv)
    result = workflow.run(lr=args.lr, tol=args.tol, out=args.out, log=print)
    print(result.report())


if __name__ == "__main__":
    main()
