"""Port test: tutorial-style PyTorch programs that lean on the shape, view and reduction methods
(chunk/split, causal masks with tril, diag, flip/roll, hstack, new_zeros, in-place clamp_, cumprod,
diff, median/quantile, nan_to_num, kron, cross, tensordot, allclose), run with only the import
changed (``import gdcore as torch``). Every number is checked against numpy.
"""
import math

import numpy as np

import gdcore as torch


def test_attention_with_a_causal_mask():
    # The "self-attention from scratch" tutorial: q, k, v from one projection split in three, a causal
    # mask from tril, heads split with chunk and put back with cat.
    torch.manual_seed(0)
    B, T, C, H = 2, 5, 8, 2
    x = torch.randn(B, T, C, dtype=torch.float64)
    w = torch.randn(C, 3 * C, dtype=torch.float64) / math.sqrt(C)
    q, k, v = (x @ w).split(C, dim=2)
    tril = torch.tril(torch.ones(T, T))
    outs = []
    for qh, kh, vh in zip(q.chunk(H, dim=-1), k.chunk(H, dim=-1), v.chunk(H, dim=-1)):
        att = qh @ kh.transpose(-2, -1) / math.sqrt(C // H)
        att = att.masked_fill(tril == 0, float("-inf"))
        outs.append(torch.softmax(att, dim=-1) @ vh)
    y = torch.cat(outs, dim=-1)

    xn, wn = x.numpy(), w.numpy()
    qkv = xn @ wn
    qn, kn, vn = qkv[..., :C], qkv[..., C:2 * C], qkv[..., 2 * C:]
    mask = np.tril(np.ones((T, T))) == 0
    expected = []
    for h in range(H):
        s = slice(h * C // H, (h + 1) * C // H)
        att = qn[..., s] @ np.swapaxes(kn[..., s], -1, -2) / math.sqrt(C // H)
        att = np.where(mask, -np.inf, att)
        att = np.exp(att - att.max(-1, keepdims=True))
        expected.append(att / att.sum(-1, keepdims=True) @ vn[..., s])
    np.testing.assert_allclose(y.numpy(), np.concatenate(expected, -1), rtol=1e-10)
    assert torch.allclose(y[:, 0], v[:, 0])  # the first position attends only to itself


def test_rnn_hidden_state_and_features():
    # An RNN loop that makes its hidden state with new_zeros and clamps it in place; features built
    # with hstack, flip and roll; the sequence unbound step by step.
    torch.manual_seed(1)
    seq = torch.randn(4, 3, 2)  # (time, batch, features)
    w_x, w_h = torch.randn(2, 5), torch.randn(5, 5) * 0.5
    h = seq.new_zeros(3, 5)
    for step in seq.unbind(0):
        h = torch.tanh(step @ w_x + h @ w_h)
        h.clamp_(-0.9, 0.9)
    feats = torch.hstack([h, h.flip(1), h.roll(1, dims=1)])

    hn = np.zeros((3, 5), dtype=np.float32)
    for t in range(4):
        hn = np.clip(np.tanh(seq.numpy()[t] @ w_x.numpy() + hn @ w_h.numpy()), -0.9, 0.9)
    np.testing.assert_allclose(feats.numpy(), np.hstack([hn, hn[:, ::-1], np.roll(hn, 1, axis=1)]), rtol=1e-5,
                               atol=1e-6)
    assert h.dtype == torch.float32 and feats.shape == (3, 15)


def test_returns_statistics_and_cleanup():
    # Pandas-style series work: prices from cumulative returns, differences, robust statistics.
    r = torch.tensor([0.01, -0.02, float("nan"), 0.03, 0.005, -0.01], dtype=torch.float64)
    r = torch.nan_to_num(r)
    prices = 100 * torch.cumprod(1 + r, dim=0)
    changes = prices.diff()
    med = changes.median()
    q = torch.quantile(changes, torch.tensor([0.25, 0.75], dtype=torch.float64))
    lo, hi = torch.aminmax(prices)

    rn = np.nan_to_num(np.array([0.01, -0.02, np.nan, 0.03, 0.005, -0.01]))
    pn = 100 * np.cumprod(1 + rn)
    cn = np.diff(pn)
    np.testing.assert_allclose(prices.numpy(), pn, rtol=1e-12)
    assert med.item() == np.sort(cn)[(len(cn) - 1) // 2]
    np.testing.assert_allclose(q.numpy(), np.quantile(cn, [0.25, 0.75]), rtol=1e-12)
    assert (lo.item(), hi.item()) == (pn.min(), pn.max())


def test_linear_algebra_helpers():
    # The products tutorials reach for: kron for block matrices, cross for normals, tensordot for
    # a bilinear form, trace and diag for a covariance summary.
    a, b = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.eye(2)
    blocks = torch.kron(b, a)
    np.testing.assert_array_equal(blocks.numpy(), np.kron(np.eye(2), a.numpy()))
    tri = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    normal = torch.cross(tri[1] - tri[0], tri[2] - tri[0], dim=0)
    np.testing.assert_array_equal(normal.numpy(), np.cross([1.0, 0, 0], [0, 1.0, 0]))
    x = torch.arange(12.0).reshape(3, 4)
    cov = torch.tensordot(x - x.mean(0), x - x.mean(0), dims=([0], [0])) / 2
    xn = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(cov.numpy(), np.cov(xn, rowvar=False), rtol=1e-6)
    np.testing.assert_allclose(torch.trace(cov).item(), np.trace(np.cov(xn, rowvar=False)), rtol=1e-6)
    np.testing.assert_allclose(cov.diag().numpy(), np.var(xn, axis=0, ddof=1), rtol=1e-6)


def test_gradients_through_the_new_ops():
    # A loss built from several of them, differentiated; compared with the hand-derived gradient.
    w = torch.tensor([1.0, -2.0, 3.0, 0.5], dtype=torch.float64, requires_grad=True)
    left, right = w.chunk(2)
    loss = (torch.hstack([right, left]).flip(0) * torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)).sum()
    loss.backward()
    # hstack([right, left]) = [w2, w3, w0, w1]; flipped = [w1, w0, w3, w2]; weights 1..4
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 1.0, 4.0, 3.0])
