"""gdcore.Tensor without autograd: creation functions and their dtypes (as torch infers
them), the documented random generator (checked against a plain-Python PCG64 reference),
numpy interop and memory sharing, conversions, shape ops, indexing and assignment
against numpy, cat/stack, strides, and torch-style repr.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdcore

SETTINGS = settings(max_examples=25, deadline=None)


# ---- creation and dtype inference ------------------------------------------------------

@pytest.mark.parametrize("data,dtype", [
    ([1, 2], gdcore.int64),
    ([1.0, 2.0], gdcore.float32),
    ([1, 2.5], gdcore.float32),
    ([[True, False]], gdcore.bool),
    (3, gdcore.int64),
    (2.5, gdcore.float32),
    (np.array([1.0, 2.0]), gdcore.float64),          # numpy arrays keep their dtype
    (np.array([1.0], dtype=np.float32), gdcore.float32),
    (np.array([1, 2], dtype=np.int32), gdcore.int32),  # numpy arrays keep every gdcore dtype
    (np.array([1, 2], dtype=np.uint16), gdcore.int64),  # other ints become int64
])
def test_tensor_infers_dtype_as_torch(data, dtype):
    t = gdcore.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))
    assert t.shape == np.asarray(data).shape


def test_tensor_of_a_python_number_is_zero_dimensional():
    t = gdcore.tensor(3.5)
    assert t.shape == () and t.dim() == 0 and t.numel() == 1
    assert t.item() == 3.5


def test_tensor_dtype_and_requires_grad_arguments():
    t = gdcore.tensor([1, 2], dtype=gdcore.float64, requires_grad=True)
    assert t.dtype == gdcore.float64 and t.requires_grad and t.is_leaf
    assert gdcore.tensor([1.5], dtype="float64").dtype == gdcore.float64
    assert gdcore.tensor([1.5], dtype=np.float32).dtype == gdcore.float32
    assert gdcore.float is gdcore.float32 and gdcore.double is gdcore.float64 and gdcore.long is gdcore.int64


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = gdcore.tensor(a)
    a[0] = 99.0
    assert t[0].item() == 1.0


def test_fill_creators_match_numpy():
    np.testing.assert_array_equal(gdcore.zeros(2, 3).numpy(), np.zeros((2, 3), dtype=np.float32))
    np.testing.assert_array_equal(gdcore.ones((2, 3)).numpy(), np.ones((2, 3), dtype=np.float32))
    np.testing.assert_array_equal(gdcore.full((2, 2), 7.5).numpy(), np.full((2, 2), 7.5, dtype=np.float32))
    assert gdcore.full((2,), 3).dtype == gdcore.int64      # an int fill value gives int64, as in torch
    np.testing.assert_array_equal(gdcore.empty(3).numpy(), np.zeros(3))  # never uninitialised memory
    assert gdcore.zeros(2, dtype=gdcore.float64).dtype == gdcore.float64
    assert gdcore.zeros(()).shape == ()


def test_like_creators():
    base = gdcore.tensor([[1.0, 2.0, 3.0]], dtype=gdcore.float64)
    for made, value in [(gdcore.zeros_like(base), 0.0), (gdcore.ones_like(base), 1.0),
                        (gdcore.full_like(base, -2.0), -2.0)]:
        assert made.shape == (1, 3) and made.dtype == gdcore.float64
        np.testing.assert_array_equal(made.numpy(), np.full((1, 3), value))
    assert gdcore.zeros_like(base, dtype=gdcore.float32).dtype == gdcore.float32
    r = gdcore.rand_like(base)
    assert r.shape == (1, 3) and r.dtype == gdcore.float64


@pytest.mark.parametrize("args,expected", [
    ((5,), np.arange(5)),
    ((2, 7), np.arange(2, 7)),
    ((1, 10, 3), np.arange(1, 10, 3)),
    ((5, 0, -1.5), np.arange(5, 0, -1.5)),
    ((0, 1, 0.25), np.arange(0, 1, 0.25)),
    ((0.5, 3), np.arange(0.5, 3)),
])
def test_arange(args, expected):
    t = gdcore.arange(*args)
    all_int = all(isinstance(a, int) for a in args)
    assert t.dtype == (gdcore.int64 if all_int else gdcore.float32)
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("start,end,steps", [(0, 1, 5), (-2, 3, 11), (2, 3, 1), (1, 0, 4), (0, 1, 0)])
def test_linspace(start, end, steps):
    t = gdcore.linspace(start, end, steps, dtype=gdcore.float64)
    np.testing.assert_allclose(t.numpy(), np.linspace(start, end, steps), rtol=1e-14, atol=1e-15)
    if steps > 1:
        assert t[-1].item() == end  # exactly


def test_eye():
    np.testing.assert_array_equal(gdcore.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(gdcore.eye(2, 4).numpy(), np.eye(2, 4))
    np.testing.assert_array_equal(gdcore.eye(4, 2, dtype=gdcore.int64).numpy(), np.eye(4, 2, dtype=np.int64))


# ---- random numbers ---------------------------------------------------------------------

MASK64, MASK128 = 2**64 - 1, 2**128 - 1
PCG_MULT = (2549297995355413924 << 64) + 4865540595714422341
PCG_INC = (6364136223846793005 << 64) + 1442695040888963407


class ReferencePcg:
    """PCG-XSL-RR 128/64 seeded as rng.cpp documents, written from the algorithm in plain Python."""

    def __init__(self, seed):
        self.state = 0
        self.next_u64()
        self.state = (self.state + seed) & MASK128
        self.next_u64()

    def next_u64(self):
        self.state = (self.state * PCG_MULT + PCG_INC) & MASK128
        hi, lo = self.state >> 64, self.state & MASK64
        rot, x = hi >> 58, hi ^ lo
        return ((x >> rot) | (x << ((64 - rot) & 63))) & MASK64

    def uniform(self):
        return (self.next_u64() >> 11) * 2.0 ** -53

    def normals(self, n):
        out = []
        while len(out) < n:  # Box-Muller, both values used in order
            u1 = self.uniform()
            while u1 <= 0.0:
                u1 = self.uniform()
            u2 = self.uniform()
            r = math.sqrt(-2.0 * math.log(u1))
            out += [r * math.cos(2 * math.pi * u2), r * math.sin(2 * math.pi * u2)]
        return out[:n]

    def below(self, n):
        threshold = (2**64 - n) % n
        while True:
            r = self.next_u64()
            if r >= threshold:
                return r % n


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**63 + 7])
def test_generator_matches_reference_algorithm(seed):
    ref = ReferencePcg(seed)
    expected = [ref.uniform() for _ in range(8)]
    got = gdcore.rand(8, generator=gdcore.Generator(seed), dtype=gdcore.float64).numpy()
    np.testing.assert_array_equal(got, expected)  # bit for bit: the same numbers on every machine
    np.testing.assert_allclose(gdcore.randn(7, generator=gdcore.Generator(seed), dtype=gdcore.float64).numpy(),
                               ReferencePcg(seed).normals(7), rtol=1e-13)
    for n in (0, 1, 2, 10, 33, 3000):  # 3000: blocks of 32 draws and a partial one
        ref = ReferencePcg(seed)
        perm = list(range(n))
        for k in range(n - 1, 0, -1):  # Fisher-Yates
            j = ref.below(k + 1)
            perm[k], perm[j] = perm[j], perm[k]
        np.testing.assert_array_equal(gdcore.randperm(n, generator=gdcore.Generator(seed)).numpy(), perm)


def test_manual_seed_reproducibility():
    gdcore.manual_seed(123)
    a = (gdcore.rand(5), gdcore.randn(2, 3), gdcore.randint(0, 10, (6,)), gdcore.randperm(7))
    gdcore.manual_seed(123)
    b = (gdcore.rand(5), gdcore.randn(2, 3), gdcore.randint(0, 10, (6,)), gdcore.randperm(7))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    gdcore.manual_seed(124)
    assert not np.array_equal(gdcore.rand(5).numpy(), a[0].numpy())


def test_generators_are_independent():
    g1, g2 = gdcore.Generator(7), gdcore.Generator(7)
    first = gdcore.rand(4, generator=g1).numpy()
    gdcore.manual_seed(0)
    default_before = gdcore.get_rng_state()
    gdcore.rand(100, generator=g2)                      # advancing g2 ...
    second = gdcore.rand(4, generator=g1).numpy()       # ... does not move g1
    assert gdcore.get_rng_state().tolist() == default_before.tolist()  # ... nor the default generator
    again = gdcore.Generator(7)
    np.testing.assert_array_equal(gdcore.rand(4, generator=again).numpy(), first)
    np.testing.assert_array_equal(gdcore.rand(4, generator=again).numpy(), second)


def test_rng_state_round_trip():
    gdcore.manual_seed(5)
    state = gdcore.get_rng_state()
    a = gdcore.randn(10).numpy()
    gdcore.set_rng_state(state)
    np.testing.assert_array_equal(gdcore.randn(10).numpy(), a)


def test_random_distributions():
    gen = gdcore.Generator(3)
    u = gdcore.rand(20000, generator=gen, dtype=gdcore.float64).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    n = gdcore.normal(2.0, 3.0, (20000,), generator=gen, dtype=gdcore.float64).numpy()
    assert abs(n.mean() - 2.0) < 0.1 and abs(n.std() - 3.0) < 0.1
    z = gdcore.randn(20000, generator=gen).numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03
    r = gdcore.randint(-3, 4, (5000,), generator=gen)
    assert r.dtype == gdcore.int64
    assert set(np.unique(r.numpy())) == set(range(-3, 4))
    assert gdcore.randint(5, (3,)).shape == (3,)  # torch's randint(high, size)
    p = gdcore.randperm(50, generator=gen).numpy()
    assert sorted(p) == list(range(50))


# ---- numpy interop --------------------------------------------------------------------

def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6.0).reshape(2, 3)
    t = gdcore.from_numpy(a)
    assert t.dtype == gdcore.float64 and t.shape == (2, 3)
    a[0, 0] = 100.0
    assert t[0, 0].item() == 100.0
    t[1, 2] = -5.0
    assert a[1, 2] == -5.0
    t.add_(1.0)
    assert a[0, 0] == 101.0


def test_numpy_shares_memory():
    t = gdcore.zeros(2, 2)
    arr = t.numpy()
    arr[0, 1] = 3.0
    assert t[0, 1].item() == 3.0
    t.fill_(2.0)
    assert arr[1, 1] == 2.0
    view = t.t().numpy()  # a strided tensor gives a strided array over the same memory
    assert np.shares_memory(view, arr) and view.strides == (4, 8)


def test_from_numpy_strided_shares_and_negative_strides_copy():
    base = np.arange(12.0).reshape(3, 4)
    t = gdcore.from_numpy(base[:, ::2])
    assert t.stride() == (4, 2)
    base[0, 2] = -1.0
    assert t[0, 1].item() == -1.0
    rev = np.arange(5.0)[::-1]
    r = gdcore.from_numpy(rev)  # negative strides cannot be expressed: a copy
    np.testing.assert_array_equal(r.numpy(), [4.0, 3.0, 2.0, 1.0, 0.0])
    rev[0] = 99.0
    assert r[0].item() == 4.0


def test_read_only_array_gives_read_only_tensor():
    a = np.arange(3.0)
    a.flags.writeable = False
    t = gdcore.from_numpy(a)
    assert not t.numpy().flags.writeable
    for op in (lambda: t.add_(1.0), lambda: t.mul_(2.0), lambda: t.zero_(), lambda: t.fill_(1.0),
               lambda: t.__iadd__(1.0), lambda: t.__setitem__(0, 5.0), lambda: t.copy_(gdcore.ones(3)),
               lambda: t.uniform_(), lambda: t.normal_()):
        with pytest.raises(ValueError, match="read-only"):
            op()
    np.testing.assert_array_equal(a, [0.0, 1.0, 2.0])  # untouched
    np.testing.assert_array_equal((t + 1).numpy(), [1.0, 2.0, 3.0])  # reading is fine


def test_from_numpy_unsupported_dtype():
    with pytest.raises(TypeError, match="uint16"):
        gdcore.from_numpy(np.arange(3, dtype=np.uint16))


def test_numpy_of_tensor_requiring_grad_raises():
    t = gdcore.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        t.numpy()
    np.testing.assert_array_equal(t.detach().numpy(), [1.0])


def test_numpy_scalars_and_arrays_defer_to_tensor():
    x = gdcore.tensor([1.0, 2.0], requires_grad=True)
    y = np.float64(2.0) * x  # stays a tensor with history (numpy defers, as with torch)
    assert isinstance(y, gdcore.Tensor) and y.grad_fn is not None
    z = np.array([1.0, 1.0]) + x
    assert isinstance(z, gdcore.Tensor)
    np.testing.assert_array_equal(z.detach().numpy(), [2.0, 3.0])


# ---- conversions and metadata ---------------------------------------------------------

def test_item_tolist_shape_size_dim_numel():
    t = gdcore.tensor([[1, 2, 3], [4, 5, 6]])
    assert t.shape == (2, 3) and t.size() == (2, 3) and t.size(1) == 3 and t.size(-2) == 2
    assert t.dim() == 2 and t.ndim == 2 and t.numel() == 6 and len(t) == 2
    assert t.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert t[1, 2].item() == 6 and isinstance(t[1, 2].item(), int)
    f = gdcore.tensor([2.5])
    assert f.item() == 2.5 and isinstance(f.item(), float) and float(f) == 2.5
    with pytest.raises(ValueError, match="6 elements"):
        t.item()


def test_size_of_a_0d_tensor_names_no_dimension():
    # torch raises IndexError for any dim of a 0-d tensor; reading one used to return 0 (past the empty shape)
    s = gdcore.tensor(3.0)
    assert s.size() == () and s.shape == ()
    for d in (0, -1):
        with pytest.raises(IndexError, match="0-d tensor has no dimensions"):
            s.size(d)


def test_to_float_double():
    t = gdcore.tensor([1.7, -1.2])
    assert t.double().dtype == gdcore.float64 and t.float().dtype == gdcore.float32
    assert t.to(gdcore.float64).dtype == gdcore.float64
    assert t.to(gdcore.float32) is t  # no copy when the dtype already matches
    np.testing.assert_array_equal(t.to(gdcore.int64).numpy(), [1, -1])  # truncation, as torch
    np.testing.assert_allclose(t.double().numpy(), np.array([1.7, -1.2], dtype=np.float32).astype(np.float64))


def test_integer_arithmetic_dtypes():
    i = gdcore.tensor([1, 2])
    assert (i + 1).dtype == gdcore.int64 and (i * 3).dtype == gdcore.int64
    assert (i / 2).dtype == gdcore.float32 and (i * 1.5).dtype == gdcore.float32
    np.testing.assert_array_equal((i / 2).numpy(), [0.5, 1.0])
    assert (i + gdcore.tensor([0.5], dtype=gdcore.float64)).dtype == gdcore.float64


def test_zero_dim_tensors_promote_like_torch():
    f32, f64 = gdcore.tensor([1.0, 2.0]), gdcore.tensor([1.0, 2.0], dtype=gdcore.float64)
    half64, two = gdcore.tensor(0.5, dtype=gdcore.float64), gdcore.tensor(2)
    assert (f32 * half64).dtype == gdcore.float32      # a 0-d tensor does not widen a float tensor
    assert (half64 * f32).dtype == gdcore.float32
    assert (f64 * gdcore.tensor(0.5)).dtype == gdcore.float64
    assert (gdcore.tensor([1, 2]) * half64).dtype == gdcore.float64  # but it does make ints float
    assert (f32 * two).dtype == gdcore.float32 and (gdcore.tensor([1, 2]) * two).dtype == gdcore.int64
    assert (half64 * gdcore.tensor(1.0)).dtype == gdcore.float64     # two 0-d tensors: ordinary promotion
    x = gdcore.tensor([1.0, 2.0], requires_grad=True)
    w = gdcore.tensor(3.0, dtype=gdcore.float64, requires_grad=True)
    (x * w).sum().backward()
    assert x.grad.dtype == gdcore.float32 and w.grad.dtype == gdcore.float64
    assert w.grad.item() == 3.0


def test_matmul_propagates_nan_and_inf():
    a = gdcore.tensor([[0.0, 1.0]])
    b = gdcore.tensor([[float("inf")], [1.0]])
    assert np.isnan((a @ b).item())  # 0 * inf is NaN, as in numpy
    assert np.isnan((a @ gdcore.tensor([[float("nan")], [1.0]])).item())


def test_reduction_dims_accept_numpy_ints():
    t = gdcore.ones(2, 3)
    np.testing.assert_array_equal(t.sum(np.int64(1)).numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(t.mean([0, 1]).numpy(), 1.0)
    with pytest.raises(TypeError, match="dim"):
        t.sum("a")


def test_strides_and_contiguity():
    t = gdcore.zeros(2, 3, 4)
    assert t.stride() == (12, 4, 1) and t.is_contiguous()
    tt = t.transpose(0, 2)
    assert tt.stride() == (1, 4, 12) and not tt.is_contiguous()
    assert tt.contiguous().is_contiguous() and tt.contiguous().stride() == (6, 2, 1)
    assert t[:, :, ::2].stride() == (12, 4, 2)
    assert t.expand(5, 2, 3, 4).stride() == (0, 12, 4, 1)


# ---- shape ops vs numpy ---------------------------------------------------------------

def test_shape_ops_match_numpy():
    a = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    t = gdcore.tensor(a)
    cases = [
        (t.reshape(4, 6), a.reshape(4, 6)), (t.reshape(-1, 2), a.reshape(-1, 2)), (t.view(6, 4), a.reshape(6, 4)),
        (t.flatten(), a.reshape(-1)), (t.flatten(0, 1), a.reshape(6, 4)), (t.unsqueeze(0), a[None]),
        (t.unsqueeze(-1), a[..., None]), (t[:, :1].squeeze(), a[:, :1].squeeze()), (t.squeeze(0), a),
        (t.transpose(0, 1), a.transpose(1, 0, 2)), (t.permute(2, 0, 1), a.transpose(2, 0, 1)), (t.T, a.T),
        (t[0].t(), a[0].T), (t[0].T, a[0].T), (t[0, 0].t(), a[0, 0]),
        (t.transpose(1, 2).reshape(2, 12), a.transpose(0, 2, 1).reshape(2, 12)),
    ]
    for got, expected in cases:
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got.numpy(), expected)


def test_views_share_memory_and_reshape_copies_when_needed():
    t = gdcore.zeros(2, 3)
    v = t.view(3, 2)
    v[0, 0] = 1.0
    assert t[0, 0].item() == 1.0
    t.t()[2, 1] = 7.0
    assert t[1, 2].item() == 7.0
    r = t.t().reshape(6)  # not expressible as a view: a copy
    r[0] = 100.0
    assert t[0, 0].item() == 1.0
    with pytest.raises(ValueError, match="not contiguous"):
        t.t().view(6)


# ---- indexing vs numpy --------------------------------------------------------------------

def _positive_steps(index):
    def fix(item):
        return slice(item.start, item.stop, -item.step) if isinstance(item, slice) and (item.step or 1) < 0 else item
    return tuple(fix(i) for i in index) if isinstance(index, tuple) else fix(index)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5), data=st.data())
def test_basic_indexing_matches_numpy(shape, data):
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    index = _positive_steps(data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True)))
    got = gdcore.from_numpy(a)[index]
    expected = a[index]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.numpy(), expected)
    if expected.size:
        assert np.shares_memory(got.numpy(), a)  # basic indexing gives views


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), data=st.data())
def test_index_tensor_gathers_like_numpy(shape, data):
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    rows = data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=0, max_size=7))
    got = gdcore.from_numpy(a)[gdcore.tensor(rows, dtype=gdcore.int64)]
    np.testing.assert_array_equal(got.numpy(), a[np.array(rows, dtype=np.int64)])
    np.testing.assert_array_equal(gdcore.from_numpy(a)[rows].numpy(), a[rows])


def test_mixed_indexing_matches_numpy():
    a = np.arange(120.0).reshape(4, 5, 6)
    t = gdcore.from_numpy(a)
    idx = np.array([[0, 3], [2, 2]])
    for key, expected in [((slice(None), gdcore.tensor([4, 0])), a[:, [4, 0]]),
                          # torch (unlike numpy) applies the int first, so the gathered dims stay in place
                          ((1, slice(None), gdcore.tensor(idx)), a[1][:, idx]),
                          ((Ellipsis, gdcore.tensor([5])), a[..., [5]]),
                          ((None, slice(1, 3), 2), a[None, 1:3, 2]),
                          (gdcore.tensor(2), a[2]), (np.int64(3), a[3])]:
        np.testing.assert_array_equal(t[key].numpy(), expected)


@pytest.mark.parametrize("key,value", [
    ((0,), 5.0),
    ((slice(None), 1), [1.0, 2.0, 3.0]),                      # a column from a list
    ((slice(1, None, 2),), 7.0),
    ((Ellipsis, slice(0, 2)), [[9.0, 8.0]]),                  # broadcast value
    (([2, 0],), -1.0),                                         # index list
    ((slice(None), [0, 2]), [[1.0, 2.0]]),
    ((1, 1), 42.0),
])
def test_setitem_matches_numpy(key, value):
    a = np.arange(12.0).reshape(3, 4)
    t = gdcore.tensor(a.copy())
    v = gdcore.tensor(value, dtype=gdcore.float64) if isinstance(value, list) else value
    t[key if len(key) > 1 else key[0]] = v
    a[key if len(key) > 1 else key[0]] = np.asarray(value)
    np.testing.assert_array_equal(t.numpy(), a)


def test_setitem_with_index_tensor():
    t = gdcore.zeros(5)
    t[gdcore.tensor([1, 3])] = gdcore.tensor([10.0, 30.0])
    np.testing.assert_array_equal(t.numpy(), [0.0, 10.0, 0.0, 30.0, 0.0])


def test_iteration_yields_rows():
    a = np.arange(6).reshape(3, 2)
    rows = [r.tolist() for r in gdcore.tensor(a)]
    assert rows == a.tolist()


# ---- cat and stack ------------------------------------------------------------------------

@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), n=st.integers(1, 4), data=st.data())
def test_cat_and_stack_match_numpy(shape, n, data):
    rng = np.random.default_rng(0)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    arrays = []
    for _ in range(n):
        s = list(shape)
        s[dim] = data.draw(st.integers(0, 3))
        arrays.append(rng.standard_normal(s).astype(np.float32))
    got = gdcore.cat([gdcore.tensor(a) for a in arrays], dim=dim)
    np.testing.assert_array_equal(got.numpy(), np.concatenate(arrays, axis=dim))
    same = [rng.standard_normal(shape).astype(np.float32) for _ in range(n)]
    sdim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    np.testing.assert_array_equal(gdcore.stack([gdcore.tensor(a) for a in same], sdim).numpy(),
                                  np.stack(same, axis=sdim))


def test_cat_promotes_dtypes():
    t = gdcore.cat([gdcore.tensor([1, 2]), gdcore.tensor([0.5], dtype=gdcore.float64)])
    assert t.dtype == gdcore.float64
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0, 0.5])


# ---- repr ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make,text", [
    (lambda: gdcore.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (lambda: gdcore.tensor([1.0, 2.0], requires_grad=True) * 2, "tensor([2., 4.], grad_fn=<MulBackward>)"),
    (lambda: gdcore.tensor([1.0, 2.0], dtype=gdcore.float64), "tensor([1., 2.], dtype=gdcore.float64)"),
    (lambda: gdcore.tensor([1, 2]), "tensor([1, 2])"),
    (lambda: gdcore.tensor(3.5), "tensor(3.5000)"),
    (lambda: gdcore.tensor([0.25, -1.5]), "tensor([ 0.2500, -1.5000])"),
    (lambda: gdcore.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: gdcore.zeros(0, 3), "tensor([], size=(0, 3))"),
    (lambda: gdcore.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
    (lambda: gdcore.tensor([1.0], dtype=gdcore.float64, requires_grad=True).sum(),
     "tensor(1., dtype=gdcore.float64, grad_fn=<SumBackward>)"),
])
def test_repr_like_torch(make, text):
    t = make()
    assert repr(t) == text
    assert str(t) == text


def test_repr_summarises_long_tensors():
    text = repr(gdcore.arange(5000))
    assert text.startswith("tensor([   0,    1,    2, ...,") and text.endswith("4997, 4998, 4999])")


# ---- empty tensors --------------------------------------------------------------------------

@pytest.mark.parametrize("a_shape,b_shape", [
    ((1, 1, 0), (0, 1)), ((2, 0, 3), (3, 4)), ((0, 2, 3), (3, 4)), ((2, 3, 0), (2, 0, 4)), ((0,), (0,)),
    ((2, 0), (0, 3)), ((0, 3), (3,)), ((2, 1, 3, 0), (4, 0, 2)), ((3,), (2, 3, 0)),
])
def test_matmul_with_empty_dims_matches_numpy(a_shape, b_shape):
    a, b = np.ones(a_shape), np.ones(b_shape)
    x = gdcore.tensor(a, dtype=gdcore.float64, requires_grad=True)
    y = gdcore.tensor(b, dtype=gdcore.float64, requires_grad=True)
    out = x @ y
    np.testing.assert_array_equal(out.detach().numpy(), a @ b)  # empty inner dims sum to 0
    out.sum().backward()
    assert x.grad.shape == a_shape and y.grad.shape == b_shape


def test_reductions_of_empty_tensors():
    e = gdcore.zeros(2, 0, 3)
    np.testing.assert_array_equal(e.sum(1).numpy(), np.zeros((2, 3)))
    assert e.amax(0).shape == (0, 3) and e.amin((0, 2)).shape == (0,)  # nothing to reduce into
    assert np.isnan(e.mean().item())
    with pytest.raises(ValueError, match="empty dimension"):
        e.amax(1)
