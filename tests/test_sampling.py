"""bernoulli, multinomial, normal with tensor arguments, exponential_ and geometric_
(gdcore/sampling.py): statistics within a few standard errors at a fixed seed, exact
reproducibility under manual_seed and with a Generator, shapes, dtypes and bad input."""
import math

import numpy as np
import pytest

import gdcore


def test_bernoulli_statistics_and_dtype():
    gdcore.manual_seed(0)
    p = gdcore.tensor([0.0, 0.2, 0.5, 0.9, 1.0], dtype=gdcore.float64).expand(4000, 5)
    draws = gdcore.bernoulli(p)
    assert draws.dtype == gdcore.float64 and tuple(draws.shape) == (4000, 5)
    means = draws.mean(0).numpy()
    sigma = np.sqrt(np.array([0.0, 0.16, 0.25, 0.09, 0.0]) / 4000)
    assert np.all(np.abs(means - [0.0, 0.2, 0.5, 0.9, 1.0]) <= 4 * sigma + 1e-12)
    assert set(np.unique(draws.numpy())) <= {0.0, 1.0}
    fixed = gdcore.bernoulli(gdcore.zeros(3000), 0.3)
    assert abs(fixed.mean().item() - 0.3) < 4 * math.sqrt(0.21 / 3000)


def test_bernoulli_inplace_and_method():
    gdcore.manual_seed(1)
    x = gdcore.zeros(2000)
    assert x.bernoulli_(0.25) is x
    assert abs(x.mean().item() - 0.25) < 4 * math.sqrt(0.25 * 0.75 / 2000)
    y = gdcore.zeros(3).bernoulli_(gdcore.tensor([0.0, 1.0, 1.0]))
    assert y.tolist() == [0.0, 1.0, 1.0]
    assert gdcore.tensor([0.0, 1.0]).bernoulli().tolist() == [0.0, 1.0]


def test_reproducible_under_seed_and_generator():
    def draw(gen=None):
        p = gdcore.full((50,), 0.5)
        w = gdcore.tensor([[1.0, 2.0, 3.0, 4.0]])
        return (gdcore.bernoulli(p, generator=gen).tolist(),
                gdcore.multinomial(w, 3, generator=gen).tolist(),
                gdcore.multinomial(w, 20, replacement=True, generator=gen).tolist(),
                gdcore.normal(gdcore.zeros(5), gdcore.ones(5), generator=gen).tolist(),
                gdcore.zeros(5).exponential_(generator=gen).tolist())
    gdcore.manual_seed(7)
    first = draw()
    gdcore.manual_seed(7)
    assert draw() == first
    assert draw(gdcore.Generator().manual_seed(3)) == draw(gdcore.Generator().manual_seed(3))


def test_multinomial_with_replacement_frequencies():
    gdcore.manual_seed(2)
    w = gdcore.tensor([1.0, 0.0, 3.0, 6.0])
    n = 20000
    idx = gdcore.multinomial(w, n, replacement=True)
    assert idx.dtype == gdcore.int64 and tuple(idx.shape) == (n,)
    counts = np.bincount(idx.numpy(), minlength=4) / n
    p = np.array([0.1, 0.0, 0.3, 0.6])
    assert counts[1] == 0.0
    assert np.all(np.abs(counts - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12)


def test_multinomial_without_replacement_never_repeats():
    gdcore.manual_seed(3)
    w = gdcore.rand(6, 10) + 0.01
    out = gdcore.multinomial(w, 10)
    assert tuple(out.shape) == (6, 10)
    for row in out.tolist():
        assert sorted(row) == list(range(10))
    # zero weights come only after every positive one (as torch does)
    assert sorted(gdcore.multinomial(gdcore.tensor([1.0, 0.0, 0.0]), 2).tolist())[0] == 0
    assert gdcore.multinomial(gdcore.tensor([0.0, 5.0, 0.0]), 1).tolist() == [1]


def test_multinomial_without_replacement_first_draw_frequencies():
    gdcore.manual_seed(4)
    w = gdcore.tensor([[1.0, 2.0, 7.0]]).expand(8000, 3)
    first = w.multinomial(2)[:, 0].numpy()
    freq = np.bincount(first, minlength=3) / 8000
    p = np.array([0.1, 0.2, 0.7])
    assert np.all(np.abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / 8000))


def test_normal_with_tensors():
    gdcore.manual_seed(5)
    mean = gdcore.tensor([[-3.0], [10.0]], dtype=gdcore.float64)
    std = gdcore.tensor([0.5, 2.0, 4.0], dtype=gdcore.float64)
    out = gdcore.normal(mean, std)
    assert tuple(out.shape) == (2, 3) and out.dtype == gdcore.float64
    big = gdcore.normal(gdcore.full((20000,), 2.0), 3.0)
    assert abs(big.mean().item() - 2.0) < 4 * 3 / math.sqrt(20000)
    assert abs(big.std().item() - 3.0) < 0.1
    s = gdcore.normal(1.0, gdcore.full((20000,), 0.5))
    assert abs(s.mean().item() - 1.0) < 4 * 0.5 / math.sqrt(20000) and abs(s.std().item() - 0.5) < 0.02


def test_normal_gradients_reparameterised():
    gdcore.manual_seed(6)
    mu = gdcore.tensor([1.0, 2.0], dtype=gdcore.float64, requires_grad=True)
    sigma = gdcore.tensor([0.5, 3.0], dtype=gdcore.float64, requires_grad=True)
    out = gdcore.normal(mu, sigma)
    out.sum().backward()
    assert mu.grad.tolist() == [1.0, 1.0]
    np.testing.assert_allclose(sigma.grad.numpy(), (out.detach().numpy() - [1.0, 2.0]) / [0.5, 3.0])


def test_exponential_and_geometric():
    gdcore.manual_seed(8)
    e = gdcore.empty(20000).exponential_(lambd=2.0)
    assert e.min().item() >= 0 and abs(e.mean().item() - 0.5) < 4 * 0.5 / math.sqrt(20000)
    g = gdcore.empty(20000).geometric_(0.25)
    assert g.min().item() >= 1 and float(g.numpy().round().max()) == g.numpy().max()
    assert abs(g.mean().item() - 4.0) < 4 * math.sqrt(0.75 / 0.25 ** 2 / 20000)
