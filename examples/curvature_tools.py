"""Workflow (h): the curvature tools on the chapter's examples. The learning-rate advisor predicts, from
Hessian-vector products, that seed 000's lr = 0.001 diverges (lambda_max ~ 6344, bound 2 / lambda_max =
3.15e-4) and that its suggestion converges; a small MLP's sharpness rises to 2 / lr and stays there (the
edge of stability); the lr range test; the optimizer race on Rosenbrock's function.

    python examples/curvature_tools.py --out out
"""
import argparse

from gdcore.workflows import curvature_tools as workflow


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the plots (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    args = parser.parse_args(argv)
    result = workflow.run(quick=args.quick, out=args.out, log=print)
    print(result.report())


if __name__ == "__main__":
    main()
