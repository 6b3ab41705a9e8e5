"""The optimizer race: SGD, SGD with momentum and Adam started from one point of Rosenbrock's function (or
Beale's, or the chapter's ill-conditioned quadratic), their paths over its contours; --gif also saves the race
as an animation (matplotlib's PillowWriter).

    python examples/optimizer_race.py --out out [--function beale] [--gif]
"""
import argparse
import os

import gdcore
from gdcore import plot
from gdcore import optim

FIELDS = {
    "rosenbrock": (500, {"SGD lr=1e-3": lambda p: optim.SGD(p, lr=1e-3),
                         "momentum 0.9": lambda p: optim.SGD(p, lr=1e-3, momentum=0.9),
                         "Adam lr=0.05": lambda p: optim.Adam(p, lr=0.05)}),
    "beale": (500, {"SGD lr=0.01": lambda p: optim.SGD(p, lr=0.01),
                    "momentum 0.9": lambda p: optim.SGD(p, lr=0.01, momentum=0.9),
                    "Adam lr=0.05": lambda p: optim.Adam(p, lr=0.05)}),
    "quadratic": (40, {"SGD lr=0.4": lambda p: optim.SGD(p, lr=0.4),
                       "SGD lr=0.6 (> 2/4)": lambda p: optim.SGD(p, lr=0.6),
                       "momentum 0.5, lr=0.6": lambda p: optim.SGD(p, lr=0.6, momentum=0.5),
                       "Adam lr=0.5": lambda p: optim.Adam(p, lr=0.5)}),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the images (default: %(default)s)")
    parser.add_argument("--function", choices=sorted(FIELDS), default="rosenbrock")
    parser.add_argument("--steps", type=int, help="steps per optimizer (default: 500, 40 for the quadratic)")
    parser.add_argument("--gif", action="store_true", help="also save the race as an animated GIF")
    args = parser.parse_args(argv)
    steps, field = FIELDS[args.function]
    steps = args.steps or steps
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"race_{args.function}.png")
    fig = plot.optimizer_race(args.function, None, field, steps, path=path, title=f"{args.function}, {steps} steps")
    for name, run in fig.race_runs.items():
        end = run.points[-1]
        status = f"diverged at step {run.diverged_at}" if run.diverged_at is not None else f"f = {run.losses[-1]:.3g}"
        print(f"{name:22s} ends at ({end[0]:.4f}, {end[1]:.4f}), {status}")
    print(f"plot saved to {path}")
    if args.gif:
        gif = os.path.join(args.out, f"race_{args.function}.gif")
        plot.optimizer_race(args.function, None, field, steps, animate=True, path=gif)
        print(f"animation saved to {gif}")


if __name__ == "__main__":
    main()
