"""The learning-rate advisor: before training, gdcore.train.suggest_lr computes the Hessian's largest
eigenvalue on a batch and tells whether the learning rate will diverge (lr > 2 / lambda_max for SGD,
2 (1 + beta) / lambda_max with momentum beta), and what would not. fit(check_lr=True) runs it on the first
batch and warns; check_lr="error" raises instead.

    python examples/lr_advisor.py --out out
"""
import argparse
import os
import warnings

import gdcore
from gdcore import plot
from gdcore import nn, optim
from gdcore.train import fit, suggest_lr
from gdcore.workflows import manual_updates


def manual_updates_loss(prediction, target):
    return ((prediction - target) ** 2).sum()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the plot (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=0.001, help="the learning rate to judge (default: %(default)s)")
    args = parser.parse_args(argv)

    # Seed 000's data (workflow (b)): 20 points on y = x + noise with x in [1, 21], unscaled, and the sum of
    # squared errors as the loss.
    X, y = manual_updates.make_data()
    X, y = X.reshape(-1, 1), y.reshape(-1, 1)
    gdcore.manual_seed(0)
    model = nn.Linear(1, 1)
    loss_fn = manual_updates_loss
    for momentum in (0.0, 0.9):
        advice = suggest_lr(model, loss_fn, (X, y), optim.SGD(model.parameters(), lr=args.lr, momentum=momentum))
        print(f"momentum {momentum:g}: {advice}\n")

    opt = optim.SGD(model.parameters(), lr=args.lr)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit(model, loss_fn, opt, [(X, y)], 100, check_lr=True, progress=False)
            outcome = "fit finished"
        except gdcore.train.DivergenceError as err:
            outcome = f"and then fit stopped: {err}"
    for w in caught:
        print(f"fit(check_lr=True) warned before the first step: {w.message}")
    print(outcome)

    gdcore.manual_seed(0)
    model = nn.Linear(1, 1)
    advice = suggest_lr(model, loss_fn, (X, y))
    history = fit(model, loss_fn, optim.SGD(model.parameters(), lr=advice.suggested_lr), [(X, y)], 100,
                  check_lr="error", progress=False, label=f"lr={advice.suggested_lr:.3g} (suggested)")
    print(f"with the suggested lr = {advice.suggested_lr:.4g}: {history.summary()}")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "lr_advisor.png")
    plot.plot_losses(history, path=path, yscale="log", title="training at the suggested lr")
    print(f"plot saved to {path}")


if __name__ == "__main__":
    main()
