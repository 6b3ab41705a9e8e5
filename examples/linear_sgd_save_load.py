"""Workflow (d): per-sample SGD on a scalar w for y = 2x over {1, 2, 3}; then nn.Linear(1, 1) with
optim.SGD(lr=0.01) and nn.MSELoss for 1000 epochs (w and the loss printed every 20 epochs); the state dict
is saved with gdcore.save into --out, loaded into a new model, and the loaded model predicts f(5).

    python examples/linear_sgd_save_load.py --out out
"""
import argparse

from gdcore.workflows import linear_sgd_save_load as workflow


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the saved model and the plot (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=1000, help="default: %(default)s")
    parser.add_argument("--lr", type=float, default=0.01, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    args = parser.parse_args(argv)
    result = workflow.run(epochs=args.epochs, lr=args.lr, seed=args.seed, out=args.out, log=print)
    print(result.report())


if __name__ == "__main__":
    main()
