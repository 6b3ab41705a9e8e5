"""Sharpness during training: fit(track_sharpness=N) records the Hessian's largest eigenvalue every N steps
(on the first batch, by warm-started Lanczos); plot.sharpness draws it against the stability limit
2 / lr. With full-batch gradient descent the sharpness rises until it reaches 2 / lr and then hovers
there (the "edge of stability", Cohen et al. 2021) while the loss keeps falling, non-monotonically.

    python examples/sharpness.py --out out
"""
import argparse
import os

import gdcore
from gdcore import plot
from gdcore import nn, optim
from gdcore.train import fit


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the plots (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=600, help="default: %(default)s")
    parser.add_argument("--every", type=int, default=10, help="record every N steps (default: %(default)s)")
    args = parser.parse_args(argv)

    X = gdcore.linspace(-2, 2, 64).reshape(-1, 1)
    y = (3 * X).sin() + 0.1 * gdcore.randn(64, 1, generator=gdcore.Generator(0))
    os.makedirs(args.out, exist_ok=True)
    for lr in (0.05, 0.2):
        gdcore.manual_seed(0)
        model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
        history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=lr), [(X, y)], args.steps,
                      track_sharpness=args.every, progress=False)
        print(f"lr={lr:g} (2 / lr = {2 / lr:g}): sharpness {history.sharpness[0]:.3g} -> max "
              f"{max(history.sharpness):.3g} -> {history.sharpness[-1]:.3g}; final loss {history.final_loss:.4g}")
        path = os.path.join(args.out, f"sharpness_lr{lr:g}.png")
        plot.sharpness(history, path, title=f"full-batch GD, lr={lr:g}")
        print(f"plot saved to {path}")


if __name__ == "__main__":
    main()
