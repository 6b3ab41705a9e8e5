"""Workflow (e): LeNet-5 on one 1x1x32x32 input: the loss against a random target, conv1.bias.grad before
and after backward, one update by hand over net.parameters(), then optim.SGD on the same batch for a few
hundred steps with the loss falling; the loss curve is saved to --out.

    python examples/lenet.py --out out
"""
import argparse

from gdcore.workflows import lenet as workflow


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the plot (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=300, help="default: %(default)s")
    parser.add_argument("--lr", type=float, default=0.01, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    args = parser.parse_args(argv)
    result = workflow.run(steps=args.steps, lr=args.lr, seed=args.seed, out=args.out, log=print)
    print(result.report())


if __name__ == "__main__":
    main()
