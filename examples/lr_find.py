"""The learning-rate range test: gdcore.train.lr_find trains for a few steps while the learning rate grows
exponentially, smooths the loss, stops when it blows up, suggests the rate where the loss falls fastest, and
restores the model and optimizer exactly; plot.lr_find draws the curve.

    python examples/lr_find.py --out out
"""
import argparse
import os

import gdcore
from gdcore import plot
from gdcore import data, nn, optim
from gdcore.train import fit, lr_find


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the plot (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=100, help="steps of the sweep (default: %(default)s)")
    args = parser.parse_args(argv)

    g = gdcore.Generator(0)
    X = gdcore.randn(512, 4, generator=g)
    y = (X @ gdcore.tensor([[1.0], [-2.0], [0.5], [3.0]])).tanh() + 0.05 * gdcore.randn(512, 1, generator=g)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=32, shuffle=True, generator=gdcore.Generator(1))
    gdcore.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 1))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    result = lr_find(model, nn.MSELoss(), opt, loader, start_lr=1e-5, end_lr=10.0, num_steps=args.steps)
    print(result)
    print(f"lowest smoothed loss at lr {result.lr_min:.3g}; the model and the optimizer are as before "
          f"(lr still {opt.param_groups[0]['lr']:g})")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "lr_find.png")
    plot.lr_find(result, path, title="lr range test, SGD momentum 0.9")
    print(f"plot saved to {path}")
    opt.param_groups[0]["lr"] = result.suggestion
    history = fit(model, nn.MSELoss(), opt, loader, 5, progress=False)
    print(f"training at the suggested lr {result.suggestion:.3g}: {history.summary()}")


if __name__ == "__main__":
    main()
