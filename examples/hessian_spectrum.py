"""The Hessian of a small network's loss seen through Hessian-vector products (gdcore.curvature): its top
eigenvalues by Lanczos, its trace by Hutchinson's estimator, and its eigenvalue density by stochastic
Lanczos quadrature, each checked here against the dense Hessian that gdcore.autograd.hessian builds
(affordable for this 1-8-1 network's 25 parameters, never needed by the tools themselves).

    python examples/hessian_spectrum.py --out out
"""
import argparse
import os

import numpy as np

import gdcore
from gdcore import curvature, nn
from gdcore.nn import functional as F


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="folder for the plot (default: %(default)s)")
    parser.add_argument("--samples", type=int, default=200, help="Hutchinson samples (default: %(default)s)")
    args = parser.parse_args(argv)

    gdcore.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    X = gdcore.linspace(-2, 2, 40, dtype=gdcore.float64).reshape(-1, 1)
    y = (3 * X).sin()
    closure = lambda: F.mse_loss(model(X), y)                      # noqa: E731

    top = curvature.top_eigenvalues(closure, model, k=3, tol=1e-8)
    trace = curvature.hessian_trace(closure, model, samples=args.samples)
    density = curvature.spectral_density(closure, model, iterations=25, runs=1)
    print(f"top 3 eigenvalues (Lanczos, {top.matvecs} Hessian-vector products): "
          + ", ".join(f"{v:.6f}" for v in top.eigenvalues))
    print(f"trace (Hutchinson, {args.samples} samples): {trace.trace:.4f} +- {trace.stderr:.4f}")

    shapes = [tuple(p.shape) for p in model.parameters()]
    flat = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])

    def loss_of(v):                                               # the same loss as a function of one flat vector
        parts, start = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            parts.append(v[start:start + size].reshape(*shape))
            start += size
        hidden = (X @ parts[0].t() + parts[1]).tanh()
        return F.mse_loss(hidden @ parts[2].t() + parts[3], y)

    exact = np.linalg.eigvalsh(gdcore.autograd.hessian(loss_of, gdcore.tensor(flat)).numpy())
    print("dense Hessian (numpy eigvalsh): top 3 " + ", ".join(f"{v:.6f}" for v in exact[::-1][:3])
          + f"; trace {exact.sum():.4f}; spectrum in [{exact[0]:.4f}, {exact[-1]:.4f}]")

    from matplotlib.figure import Figure
    fig = Figure(figsize=(4, 2.8))
    ax = fig.add_subplot()
    ax.plot(density.grid, density.density, label="SLQ density")
    ax.plot(exact, np.zeros_like(exact), "|", color="black", markersize=12, label="eigenvalues (dense)")
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("density")
    ax.legend(fontsize="small")
    fig.tight_layout()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "hessian_spectrum.png")
    fig.savefig(path, dpi=120)
    print(f"plot saved to {path}")


if __name__ == "__main__":
    main()
