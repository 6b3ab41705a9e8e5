"""Workflow (b): W and b as tensors with requires_grad, y_hat = X * W + b, the sum-of-squares loss and
manual updates (W.data -= lr * W.grad.data; W.grad.data.zero_()) for 100 epochs.

The tutorial's lr = 0.001 diverges on this data (the loss overflows to inf, then nan): gdcore's
check_finite stops the loop at that step and says so; the example prints the message and runs again
with a learning rate inside the stable range (lr < 2 / largest Hessian eigenvalue).

    python examples/manual_updates.py --out out
"""
import argparse

from gdcore.workflows import manual_updates as workflow


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the plot (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=100, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    args = parser.parse_args(argv)
    result = workflow.run_tutorial_then_stable(epochs=args.epochs, seed=args.seed, out=args.out, log=print)
    print(result.report())


if __name__ == "__main__":
    main()
