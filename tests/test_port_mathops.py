"""Tutorial-style programs that use the breadth round's math, sampling and binning ops, run on
gdcore unchanged but for the import (``import gdcore as torch``), checked against numpy."""
import math

import numpy as np

import gdcore as torch


def test_hand_written_adam_on_a_quadratic():
    # d2l / "Adam from scratch" style: the moments with lerp_ and addcmul_, the step with addcdiv_.
    A = torch.tensor([[3.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    b = torch.tensor([1.0, -2.0], dtype=torch.float64)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    m, v = torch.zeros_like(w), torch.zeros_like(w)
    lr, beta1, beta2, eps = 0.1, 0.9, 0.999, 1e-8
    np_w, np_m, np_v = np.zeros(2), np.zeros(2), np.zeros(2)
    An, bn = A.numpy(), b.numpy()
    for t in range(1, 51):
        loss = 0.5 * w @ A @ w - b @ w
        w.grad = None
        loss.backward()
        with torch.no_grad():
            g = w.grad
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            denom = (v / (1 - beta2 ** t)).sqrt().add_(eps)
            w.addcdiv_(m, denom, value=-lr / (1 - beta1 ** t))
        gn = An @ np_w - bn
        np_m = beta1 * np_m + (1 - beta1) * gn
        np_v = beta2 * np_v + (1 - beta2) * gn * gn
        np_w = np_w - lr / (1 - beta1 ** t) * np_m / (np.sqrt(np_v / (1 - beta2 ** t)) + eps)
    np.testing.assert_allclose(w.detach().numpy(), np_w, rtol=1e-9, atol=1e-12)


def test_bigram_sampling_loop():
    # makemore style: sample names from a table of bigram counts with torch.multinomial and a Generator.
    counts = torch.tensor([[0, 5, 3, 2], [4, 0, 6, 0], [7, 1, 0, 2], [3, 3, 3, 1]], dtype=torch.float32)
    P = (counts + 1).float()
    P /= P.sum(1, keepdim=True)
    g = torch.Generator().manual_seed(2147483647)
    out = []
    for _ in range(5):
        ix, word = 0, []
        for _ in range(6):
            ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
            word.append(ix)
        out.append(word)
    g2 = torch.Generator().manual_seed(2147483647)
    again = [[0] * 6 for _ in range(5)]
    for w in range(5):
        ix = 0
        for k in range(6):
            ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g2).item()
            again[w][k] = ix
    assert out == again and all(0 <= i < 4 for word in out for i in word)
    np.testing.assert_allclose(P.sum(1).numpy(), np.ones(4), rtol=1e-6)


def test_dropout_mask_polar_features_and_binning():
    torch.manual_seed(0)
    x = torch.randn(1000, 2)
    keep = 0.8
    mask = torch.bernoulli(torch.full_like(x, keep))
    dropped = x * mask / keep
    assert abs(mask.mean().item() - keep) < 4 * math.sqrt(keep * (1 - keep) / 2000)
    np.testing.assert_allclose(dropped.numpy(), x.numpy() * mask.numpy() / keep, rtol=1e-6)
    # polar coordinates of the points, and their angle bucketed into quadrants
    r, theta = torch.hypot(x[:, 0], x[:, 1]), torch.atan2(x[:, 1], x[:, 0])
    xn = x.numpy()
    np.testing.assert_allclose(r.numpy(), np.hypot(xn[:, 0], xn[:, 1]), rtol=1e-6)
    np.testing.assert_allclose(theta.numpy(), np.arctan2(xn[:, 1], xn[:, 0]), rtol=1e-5, atol=1e-6)
    edges = torch.tensor([-math.pi / 2, 0.0, math.pi / 2])
    quadrant = torch.bucketize(theta, edges)
    np.testing.assert_array_equal(quadrant.numpy(), np.digitize(theta.numpy(), edges.numpy(), right=True))
    np.testing.assert_array_equal(torch.bincount(quadrant, minlength=4).numpy(),
                                  np.bincount(quadrant.numpy(), minlength=4))
    hist = torch.histc(r, bins=5, min=0, max=3)
    expected, _ = np.histogram(r.numpy()[r.numpy() <= 3], bins=5, range=(0, 3))
    np.testing.assert_array_equal(hist.numpy(), expected)


def test_batches_by_integer_division_and_cyclic_positions():
    # positions of a flat index in a (rows, cols) grid, and a periodic feature in radians
    idx = torch.arange(0, 23)
    rows, cols = idx // 5, idx % 5
    assert rows.tolist() == [i // 5 for i in range(23)] and cols.tolist() == [i % 5 for i in range(23)]
    t = torch.linspace(-10, 10, 41)
    phase = torch.remainder(t, 2 * math.pi) / (2 * math.pi)
    np.testing.assert_allclose(phase.numpy(), np.mod(t.numpy(), 2 * math.pi) / (2 * math.pi), rtol=1e-5, atol=1e-6)
    angles = torch.asin(torch.tensor([0.0, 0.5, 1.0])) * 180 / math.pi
    np.testing.assert_allclose(angles.numpy(), [0.0, 30.0, 90.0], rtol=1e-5)


def test_logistic_regression_with_logit_and_xlogy():
    # binary cross-entropy written by hand with xlogy, the bias initialised at the logit of the base rate
    torch.manual_seed(1)
    X = torch.randn(200, 3, dtype=torch.float64)
    true_w = torch.tensor([1.5, -2.0, 0.5], dtype=torch.float64)
    y = torch.bernoulli(torch.sigmoid(X @ true_w))
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    b = torch.logit(y.mean()).clone().requires_grad_(True)
    for _ in range(200):
        p = torch.sigmoid(torch.addmv(b, X, w))
        loss = -(torch.xlogy(y, p) + torch.xlogy(1 - y, 1 - p)).mean()
        w.grad = b.grad = None
        loss.backward()
        with torch.no_grad():
            w -= 0.5 * w.grad
            b -= 0.5 * b.grad
    Xn, yn = X.numpy(), y.numpy()
    wn, bn = np.zeros(3), math.log(yn.mean() / (1 - yn.mean()))
    for _ in range(200):
        pn = 1 / (1 + np.exp(-(Xn @ wn + bn)))
        wn, bn = wn - 0.5 * Xn.T @ (pn - yn) / len(yn), bn - 0.5 * np.mean(pn - yn)
    np.testing.assert_allclose(w.detach().numpy(), wn, rtol=1e-8)
    assert abs(b.item() - bn) < 1e-8
