"""gdcore.shape_ops against numpy: splitting (chunk, split, tensor_split, unbind, narrow, select),
reshaping (view_as, ravel, unflatten, movedim, swapaxes, squeeze_/unsqueeze_), repeat, flip, roll,
tril/triu, diag, diagonal, diag_embed, trace and the stacks. Values come from numpy's own functions
(array_split, tile, flip, roll, tril, diag, diagonal, hstack, ...); gradients are checked against
finite differences in float64 over shapes drawn by hypothesis; the views share the input's memory.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdcore
from gdcore.autograd import gradcheck

SETTINGS = settings(max_examples=15, deadline=None)
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)
seeds = st.integers(0, 2**32 - 1)


def leaf(a):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=True)


def same(t, expected):
    expected = np.asarray(expected)
    assert tuple(t.shape) == expected.shape
    np.testing.assert_array_equal(t.detach().numpy(), expected)


def sum_all(pieces):
    """A scalar that depends on every piece with a different weight (so gradcheck sees each one)."""
    total = None
    for k, p in enumerate(pieces):
        term = (p * (k + 1.0)).sum()
        total = term if total is None else total + term
    return total


# ---- splitting -------------------------------------------------------------------------------

@given(shape=shapes, chunks=st.integers(1, 6), data=st.data())
@SETTINGS
def test_chunk_split_tensor_split_match_numpy(shape, chunks, data):
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = gdcore.tensor(a)
    size = shape[dim]
    step = -(-size // chunks)
    expected = [a.take(range(s, min(s + step, size)), axis=dim) for s in range(0, size, step)]
    for got in (x.chunk(chunks, dim), gdcore.chunk(x, chunks, dim), gdcore.split(x, step, dim)):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for t, e in zip(got, expected):
            same(t, e)
    for t, e in zip(x.tensor_split(chunks, dim), np.array_split(a, chunks, axis=dim)):
        same(t, e)
    cuts = sorted(data.draw(st.lists(st.integers(0, size), max_size=3)))
    for t, e in zip(gdcore.tensor_split(x, cuts, dim), np.split(a, cuts, axis=dim)):
        same(t, e)
    sizes = np.diff([0] + cuts + [size]).tolist()
    for t, e in zip(x.split(sizes, dim), np.split(a, cuts, axis=dim)):
        same(t, e)


def test_chunk_gives_fewer_pieces_as_torch():
    # torch's rule: pieces of ceil(6 / 4) = 2, so three of them, not four.
    assert [tuple(p.shape) for p in gdcore.arange(6).chunk(4)] == [(2,), (2,), (2,)]
    assert [tuple(p.shape) for p in gdcore.arange(5).chunk(3)] == [(2,), (2,), (1,)]


def test_tensor_split_unsorted_indices_give_empty_pieces():
    a = np.arange(5.0)
    got = gdcore.tensor(a).tensor_split([4, 1])
    assert [p.tolist() for p in got] == [[0.0, 1.0, 2.0, 3.0], [], [1.0, 2.0, 3.0, 4.0]]  # numpy's np.split too


def test_pieces_are_views():
    x = gdcore.zeros(4, 3)
    first, second = x.chunk(2)
    first.fill_(1.0)
    x.narrow(1, -1, 1).fill_(2.0)
    x.unbind(0)[3].fill_(3.0)
    x.select(0, 2)[0] = 5.0
    expected = np.zeros((4, 3))
    expected[:2] = 1.0
    expected[:, 2] = 2.0
    expected[3] = 3.0
    expected[2, 0] = 5.0
    same(x, expected)
    assert all(p._is_view for p in x.split([1, 3]))


def test_unbind_narrow_select_values():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = gdcore.tensor(a)
    for dim in range(3):
        for k, t in enumerate(gdcore.unbind(x, dim)):
            same(t, np.take(a, k, axis=dim))
    same(gdcore.narrow(x, 2, 1, 2), a[:, :, 1:3])
    same(x.narrow(-1, -3, 3), a[..., 1:4])
    same(x.narrow(0, gdcore.tensor(1), 1), a[1:2])
    same(gdcore.select(x, 1, -1), a[:, -1])


@given(shape=shapes, chunks=st.integers(1, 4), seed=seeds)
@SETTINGS
def test_split_gradients(shape, chunks, seed):
    a = np.random.default_rng(seed).standard_normal(shape)
    assert gradcheck(lambda x: sum_all(x.chunk(chunks, -1)), [leaf(a)])
    assert gradcheck(lambda x: sum_all(gdcore.unbind(x, 0)), [leaf(a)])
    assert gradcheck(lambda x: sum_all(x.tensor_split(chunks, 0)), [leaf(a)])


# ---- reshaping -------------------------------------------------------------------------------

def test_view_reshape_expand_as():
    x = gdcore.arange(6.0)
    assert x.view_as(gdcore.zeros(2, 3)).shape == (2, 3)
    assert x.view_as(gdcore.zeros(2, 3))._is_view
    assert x.reshape_as(gdcore.zeros(3, 2)).shape == (3, 2)
    e = gdcore.tensor([[1.0], [2.0]]).expand_as(gdcore.zeros(2, 3))
    same(e, [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    same(gdcore.arange(6).reshape(2, 3).t().ravel(), np.arange(6).reshape(2, 3).T.ravel())


def test_unflatten_movedim_swapaxes():
    a = np.arange(24.0).reshape(2, 12)
    x = gdcore.tensor(a)
    same(x.unflatten(1, (3, -1)), a.reshape(2, 3, 4))
    same(gdcore.unflatten(x, -1, (2, 2, 3)), a.reshape(2, 2, 2, 3))
    b = np.arange(120.0).reshape(2, 3, 4, 5)
    y = gdcore.tensor(b)
    for src, dst in [(0, -1), ((0, 1), (2, 0)), ([3, 1], [0, 2]), (-1, 1)]:
        same(gdcore.movedim(y, src, dst), np.moveaxis(b, src, dst))
        same(y.moveaxis(src, dst), np.moveaxis(b, src, dst))
    same(gdcore.swapaxes(y, 0, 3), np.swapaxes(b, 0, 3))
    same(y.swapdims(1, -1), np.swapaxes(b, 1, -1))
    assert gdcore.movedim(y, 0, 1)._is_view


def test_squeeze_unsqueeze_in_place():
    x = gdcore.arange(3.0)
    assert x.unsqueeze_(0) is x and x.shape == (1, 3)
    x.unsqueeze_(-1)
    assert x.shape == (1, 3, 1)
    x.squeeze_(0)
    assert x.shape == (3, 1)
    x.squeeze_()
    assert x.shape == (3,) and x.tolist() == [0.0, 1.0, 2.0]


@given(shape=shapes, seed=seeds, data=st.data())
@SETTINGS
def test_movedim_unflatten_gradients(shape, seed, data):
    a = np.random.default_rng(seed).standard_normal(shape)
    src = data.draw(st.integers(0, len(shape) - 1))
    dst = data.draw(st.integers(0, len(shape) - 1))
    w = gdcore.tensor(np.random.default_rng(seed + 1).standard_normal(np.moveaxis(a, src, dst).shape),
                      dtype=gdcore.float64)
    assert gradcheck(lambda x: (gdcore.movedim(x, src, dst) * w).sum(), [leaf(a)])
    assert gradcheck(lambda x: (x.unflatten(0, (1, shape[0])) ** 2).sum(), [leaf(a)])


# ---- repeat, flip, roll ------------------------------------------------------------------------

@given(shape=shapes, seed=seeds, data=st.data())
@SETTINGS
def test_repeat_flip_roll_match_numpy(shape, seed, data):
    a = np.random.default_rng(seed).standard_normal(shape)
    x = gdcore.tensor(a)
    reps = data.draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape) + 1))
    same(x.repeat(*reps), np.tile(a, reps))
    same(x.repeat(reps), np.tile(a, reps))
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    same(x.flip(dims), np.flip(a, dims))
    same(gdcore.flip(x, dims), np.flip(a, dims))
    shifts = data.draw(st.lists(st.integers(-7, 7), min_size=len(dims), max_size=len(dims)))
    same(x.roll(shifts, dims), np.roll(a, shifts, dims))
    same(gdcore.roll(x, shifts[0]), np.roll(a, shifts[0]))
    w = np.random.default_rng(seed + 1).standard_normal(np.tile(a, reps).shape)
    wt = gdcore.tensor(w, dtype=gdcore.float64)
    assert gradcheck(lambda t: (t.repeat(*reps) * wt).sum(), [leaf(a)])
    wf = gdcore.tensor(np.random.default_rng(seed + 2).standard_normal(shape), dtype=gdcore.float64)
    assert gradcheck(lambda t: (t.flip(dims) * wf).sum() + (t.roll(shifts, dims) * wf * wf).sum(), [leaf(a)])


def test_fliplr_flipud_and_copies():
    a = np.arange(6).reshape(2, 3)
    x = gdcore.tensor(a)
    same(x.fliplr(), np.fliplr(a))
    same(gdcore.flipud(x), np.flipud(a))
    f = x.flip(0)
    f[0, 0] = 100  # a copy, as in torch
    assert x[1, 0].item() == 3


# ---- triangles and diagonals -------------------------------------------------------------------

@pytest.mark.parametrize("k", [-2, -1, 0, 1, 3])
def test_tril_triu_diag_diagonal_match_numpy(k):
    a = np.arange(1.0, 1.0 + 2 * 3 * 4).reshape(2, 3, 4)
    x = gdcore.tensor(a)
    same(x.tril(k), np.tril(a, k))
    same(gdcore.triu(x, diagonal=k), np.triu(a, k))
    same(gdcore.diag(x[0], k), np.diag(a[0], k))
    v = np.array([1.0, 2.0, 3.0])
    same(gdcore.diag(gdcore.tensor(v), k), np.diag(v, k))
    same(x.diagonal(k, 1, 2), np.diagonal(a, k, 1, 2))
    same(gdcore.diagonal(x, k, 2, 0), np.diagonal(a, k, 2, 0))
    same(gdcore.trace(x[1]), np.trace(a[1]))


def test_tril_keeps_inf_and_dtype():
    x = gdcore.tensor([[1.0, float("inf")], [2.0, 3.0]])
    same(x.tril(), [[1.0, 0.0], [2.0, 3.0]])  # a mask product would give nan
    assert gdcore.tril(gdcore.ones(2, 2, dtype=gdcore.int32)).dtype == gdcore.int32
    y = gdcore.ones(3, 3)
    assert y.triu_(1) is y
    same(y, np.triu(np.ones((3, 3)), 1))


def test_diag_embed_matches_a_loop():
    a = np.arange(1.0, 7.0).reshape(2, 3)
    for offset in (-1, 0, 2):
        m = 3 + abs(offset)
        expected = np.zeros((2, m, m))
        for b in range(2):
            for i in range(3):
                r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
                expected[b, r, c] = a[b, i]
        same(gdcore.diag_embed(gdcore.tensor(a), offset), expected)
    same(gdcore.tensor(a).diag_embed(0, 0, 2), np.moveaxis(np.stack([np.diag(r) for r in a]), [1, 2], [0, 2]))


@given(rows=st.integers(1, 4), cols=st.integers(1, 4), k=st.integers(-3, 3), seed=seeds)
@SETTINGS
def test_triangle_and_diagonal_gradients(rows, cols, k, seed):
    a = np.random.default_rng(seed).standard_normal((2, rows, cols))
    w = gdcore.tensor(np.random.default_rng(seed + 1).standard_normal((2, rows, cols)), dtype=gdcore.float64)
    assert gradcheck(lambda x: (x.tril(k) * w).sum() + (x.triu(k) * w * w).sum(), [leaf(a)])
    assert gradcheck(lambda x: (x.diagonal(k, 1, 2) ** 2).sum(), [leaf(a)])
    assert gradcheck(lambda x: gdcore.trace(x[0]) * 3.0, [leaf(a)])
    v = np.random.default_rng(seed + 2).standard_normal(rows)
    assert gradcheck(lambda x: (gdcore.diag(x, k) ** 2).sum(), [leaf(v)])


# ---- stacking -------------------------------------------------------------------------------

def test_stacks_match_numpy():
    pairs = [(np.arange(3.0), np.arange(3.0, 6.0)), (np.arange(6.0).reshape(2, 3), np.arange(6.0, 12.0).reshape(2, 3)),
             (np.array(1.0), np.array(2.0)), (np.arange(12.0).reshape(2, 3, 2), np.ones((2, 3, 2)))]
    for a, b in pairs:
        ts = [gdcore.tensor(a), gdcore.tensor(b)]
        same(gdcore.hstack(ts), np.hstack([a, b]))
        same(gdcore.vstack(ts), np.vstack([a, b]))
        same(gdcore.row_stack(ts), np.vstack([a, b]))
        same(gdcore.dstack(ts), np.dstack([a, b]))
        if a.ndim <= 2:
            same(gdcore.column_stack(ts), np.column_stack([a, b]))
    same(gdcore.column_stack([gdcore.arange(2), gdcore.arange(4).reshape(2, 2)]),
         np.column_stack([np.arange(2), np.arange(4).reshape(2, 2)]))
    for n in (1, 2, 3):
        f = getattr(gdcore, f"atleast_{n}d")
        g = getattr(np, f"atleast_{n}d")
        for a in (np.array(1.0), np.arange(2.0), np.ones((2, 3)), np.ones((1, 2, 3))):
            same(f(gdcore.tensor(a)), g(a))


def test_hstack_gradient():
    a, b = np.random.default_rng(0).standard_normal((2, 3)), np.random.default_rng(1).standard_normal((2, 1))
    assert gradcheck(lambda x, y: (gdcore.hstack([x, y]) ** 2).sum() + (gdcore.vstack([x.t(), y.t()]) ** 3).sum(),
                     [leaf(a), leaf(b)])


def test_diagonal_is_a_view_of_a_contiguous_tensor_or_its_transpose():
    a = gdcore.zeros(3, 4)
    a.diagonal().add_(1.0)  # the ridge-regression idiom A.diagonal().add_(lam)
    a.diagonal(1).fill_(2.0)
    a.t().diagonal(-2).fill_(5.0)
    expected = np.eye(3, 4) + 2 * np.eye(3, 4, 1) + 5 * np.eye(3, 4, 2)
    same(a, expected)
    b = gdcore.zeros(2, 3, 3)
    gdcore.diagonal(b, 0, 1, 2).fill_(7.0)
    same(b, np.broadcast_to(7 * np.eye(3), (2, 3, 3)))
    c = np.arange(24.0).reshape(2, 3, 4)
    for k in (-3, -1, 0, 1, 2, 4):
        for dims in ((1, 2), (2, 1), (0, 2), (0, 1), (2, 0)):
            same(gdcore.tensor(c).diagonal(k, *dims), np.diagonal(c, k, *dims))


def test_tile_pads_the_repeats_as_numpy():
    a = np.arange(6.0).reshape(2, 3)
    for reps in ((2,), (2, 1), (1, 2, 2), 3):
        same(gdcore.tile(gdcore.tensor(a), reps), np.tile(a, reps))
        same(gdcore.tensor(a).tile(reps), np.tile(a, reps))
    assert gradcheck(lambda x: (x.tile((3,)) ** 2).sum(), [leaf(a)])
