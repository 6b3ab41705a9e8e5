"""The dtypes bool, int32, uint8, int8 and int16 beside float32, float64 and int64: creation,
conversion, numpy interop, save/load, repr, gdcore.Size, and torch's type promotion for every
binary op over every pair of dtypes. The expected dtypes are torch's promotion table, written
out here by hand (not read from gdcore); expected values come from numpy."""
import io
import itertools
import pickle

import numpy as np
import pytest

import gdcore

DTYPES = ["float32", "float64", "int64", "bool", "int32", "uint8", "int8", "int16"]
NP = {name: np.dtype(name) for name in DTYPES}

# torch.promote_types(a, b) for every pair, as torch 2.x documents it (row a, column b).
_COLS = "f32 f64 i64 b i32 u8 i8 i16".split()
_TABLE = """
f32: f32 f64 f32 f32 f32 f32 f32 f32
f64: f64 f64 f64 f64 f64 f64 f64 f64
i64: f32 f64 i64 i64 i64 i64 i64 i64
b:   f32 f64 i64 b   i32 u8  i8  i16
i32: f32 f64 i64 i32 i32 i32 i32 i32
u8:  f32 f64 i64 u8  i32 u8  i16 i16
i8:  f32 f64 i64 i8  i32 i16 i8  i16
i16: f32 f64 i64 i16 i32 i16 i16 i16
"""
_SHORT = dict(zip(_COLS, DTYPES))
TORCH_PROMOTION = {}
for line in _TABLE.strip().splitlines():
    row, cells = line.split(":")
    for col, cell in zip(_COLS, cells.split()):
        TORCH_PROMOTION[_SHORT[row], _SHORT[col]] = _SHORT[cell]


def dt(name):
    return getattr(gdcore, name)


def sample(name, shape=(2, 3), seed=0):
    """Small values every dtype holds exactly (nonzero, so that division is defined)."""
    rng = np.random.default_rng(seed)
    if name == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    v = rng.integers(1, 6, size=shape)
    return v.astype(NP[name])


def test_names_and_properties():
    assert gdcore.bool.itemsize == 1 and gdcore.int32.itemsize == 4 and gdcore.int16.itemsize == 2
    assert gdcore.int is gdcore.int32 and gdcore.short is gdcore.int16 and gdcore.long is gdcore.int64
    assert [dt(n).is_floating_point for n in DTYPES] == [True, True] + [False] * 6
    assert repr(gdcore.uint8) == "gdcore.uint8" and str(gdcore.bool) == "gdcore.bool"


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_promotion_of_every_pair_is_torchs(a, b):
    x, y = gdcore.tensor(sample(a)), gdcore.tensor(sample(b, seed=1))
    want = TORCH_PROMOTION[a, b]
    fx, fy = sample(a).astype(np.float64), sample(b, seed=1).astype(np.float64)
    ops = {"add": (gdcore.add, np.add), "mul": (gdcore.mul, np.multiply), "maximum": (gdcore.maximum, np.maximum),
           "minimum": (gdcore.minimum, np.minimum)}
    if not (a == "bool" and b == "bool"):
        ops["sub"] = (gdcore.sub, np.subtract)
    for name, (op, np_op) in ops.items():
        out = op(x, y)
        assert out.dtype == dt(want), (name, a, b, out.dtype)
        expected = np_op(fx, fy)
        if want == "bool":
            expected = expected != 0
        np.testing.assert_array_equal(out.numpy(), expected.astype(NP[want]), err_msg=name)
    # True division always gives floats: float32 unless a float64 is involved.
    q = x / y
    assert q.dtype == (gdcore.float64 if "float64" in (a, b) else gdcore.float32)
    with np.errstate(divide="ignore", invalid="ignore"):  # bool samples hold zeros
        np.testing.assert_allclose(q.numpy(), fx / fy, rtol=1e-6)
    for cmp, np_cmp in [(gdcore.eq, np.equal), (gdcore.lt, np.less), (gdcore.ge, np.greater_equal)]:
        r = cmp(x, y)
        assert r.dtype == gdcore.bool
        np.testing.assert_array_equal(r.numpy(), np_cmp(fx, fy))


def test_bool_minus_bool_and_negation_refused_as_torch():
    m = gdcore.tensor([True, False])
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool tensors"):
        m - m
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
        -m


@pytest.mark.parametrize("name", [n for n in DTYPES if n != "bool"])
def test_python_scalars_keep_the_tensors_dtype_within_its_category(name):
    x = gdcore.tensor(sample(name))
    assert (x + 1).dtype == dt(name) and (2 * x).dtype == dt(name) and (x - True).dtype == dt(name)
    want_float = dt(name) if dt(name).is_floating_point else gdcore.float32
    assert (x + 0.5).dtype == want_float and (x * 2.0).dtype == want_float
    assert (x / 2).dtype == want_float
    np.testing.assert_array_equal((x + 1).numpy(), sample(name) + NP[name].type(1))


def test_python_scalars_with_bool_tensors():
    m = gdcore.tensor([True, False])
    assert (m + 1).dtype == gdcore.int64 and (m + 1).tolist() == [2, 1]
    assert (m * 1.5).dtype == gdcore.float32 and (m * 1.5).tolist() == [1.5, 0.0]
    assert (m + True).dtype == gdcore.bool and (m * True).tolist() == [True, False]


def test_zero_dim_tensors_do_not_widen_but_a_higher_category_counts():
    i8 = gdcore.tensor([1, 2], dtype=gdcore.int8)
    assert (i8 + gdcore.tensor(5)).dtype == gdcore.int8            # 0-d int64 with int8: int8
    assert (i8 + gdcore.tensor(0.5)).dtype == gdcore.float32       # 0-d float: floats
    assert (i8 + gdcore.tensor(0.5, dtype=gdcore.float64)).dtype == gdcore.float64
    assert (gdcore.tensor([True]) + gdcore.tensor(3, dtype=gdcore.uint8)).dtype == gdcore.uint8
    assert (gdcore.tensor(1, dtype=gdcore.int8) + gdcore.tensor(1, dtype=gdcore.int16)).dtype == gdcore.int16


def test_integer_overflow_wraps_as_torch():
    u = gdcore.tensor([250], dtype=gdcore.uint8)
    assert (u + 10).tolist() == [4]                  # 260 mod 256
    assert (u + 300).dtype == gdcore.uint8 and (u + 300).tolist() == [(250 + 300) % 256]
    assert (gdcore.tensor([127], dtype=gdcore.int8) + 1).tolist() == [-128]


@pytest.mark.parametrize("name", DTYPES)
def test_creation_functions_take_every_dtype(name):
    d = dt(name)
    z = gdcore.zeros(2, 3, dtype=d)
    assert z.dtype == d and z.shape == (2, 3) and not z.numpy().any()
    o = gdcore.ones(4, dtype=d)
    np.testing.assert_array_equal(o.numpy(), np.ones(4, dtype=NP[name]))
    assert gdcore.full((2,), 1, dtype=d).dtype == d
    assert gdcore.zeros_like(o).dtype == d and gdcore.empty(3, dtype=d).dtype == d
    if name != "bool":
        np.testing.assert_array_equal(gdcore.arange(5, dtype=d).numpy(), np.arange(5, dtype=NP[name]))
        np.testing.assert_array_equal(gdcore.eye(3, dtype=d).numpy(), np.eye(3, dtype=NP[name]))


def test_inferred_dtypes():
    assert gdcore.tensor([True, False]).dtype == gdcore.bool
    assert gdcore.tensor(True).dtype == gdcore.bool
    assert gdcore.tensor([True, 2]).dtype == gdcore.int64
    assert gdcore.full((2,), True).dtype == gdcore.bool
    assert gdcore.tensor([1, 2], dtype=gdcore.uint8).dtype == gdcore.uint8
    assert gdcore.tensor(np.array([1, 2], dtype=np.int8)).dtype == gdcore.int8


def test_fill_values_out_of_range_are_refused():
    with pytest.raises(RuntimeError, match="cannot be converted to type uint8 without overflow"):
        gdcore.full((2,), 256, dtype=gdcore.uint8)
    with pytest.raises(RuntimeError, match="int8"):
        gdcore.ones(2, dtype=gdcore.int8).fill_(-129)


@pytest.mark.parametrize("name", DTYPES)
def test_numpy_round_trip_shares_memory(name):
    a = sample(name, shape=(3, 4))
    t = gdcore.from_numpy(a)
    assert t.dtype == dt(name)
    back = t.numpy()
    assert back.dtype == NP[name] and np.shares_memory(a, back)
    a[0, 0] = not a[0, 0] if name == "bool" else 7
    assert t[0, 0].item() == a[0, 0]
    # Strided views keep their strides through numpy.
    v = gdcore.from_numpy(a[:, ::2])
    np.testing.assert_array_equal(v.numpy(), a[:, ::2])
    assert np.asarray(t).dtype == NP[name]


@pytest.mark.parametrize("src,dst", list(itertools.product(DTYPES, DTYPES)))
def test_casts_between_every_pair_match_numpy(src, dst):
    values = np.array([0, 1, 2, 5, 100], dtype=np.int64)
    if src == "bool":
        values = values.astype(bool)
    a = values.astype(NP[src])
    out = gdcore.tensor(a).to(dt(dst))
    assert out.dtype == dt(dst)
    np.testing.assert_array_equal(out.numpy(), a.astype(NP[dst]))


def test_conversion_methods():
    x = gdcore.tensor([-1.7, 0.0, 2.5])
    assert x.bool().tolist() == [True, False, True]
    assert x.int().dtype == gdcore.int32 and x.int().tolist() == [-1, 0, 2]   # truncation, as torch
    assert x.long().dtype == gdcore.int64 and x.short().dtype == gdcore.int16
    assert x.char().dtype == gdcore.int8 and x.byte().dtype == gdcore.uint8
    assert gdcore.tensor([True]).float().dtype == gdcore.float32 and gdcore.tensor([1]).double().dtype == gdcore.float64
    assert x.type(gdcore.int16).dtype == gdcore.int16 and x.to(gdcore.uint8).dtype == gdcore.uint8
    assert x.to(dtype=gdcore.bool).dtype == gdcore.bool
    assert x.type() == "gdcore.FloatTensor" and x.bool().type() == "gdcore.BoolTensor"
    assert x.byte().type() == "gdcore.ByteTensor" and x.type("torch.IntTensor").dtype == gdcore.int32
    assert gdcore.tensor(np.float64(float("nan"))).bool().item() is True


def test_item_and_tolist_give_python_types():
    assert gdcore.tensor(True).item() is True
    assert type(gdcore.tensor(3, dtype=gdcore.int8).item()) is int
    assert gdcore.tensor(2**62 + 1).item() == 2**62 + 1   # exact beyond 2**53
    assert gdcore.tensor([True, False]).tolist() == [True, False]


@pytest.mark.parametrize("name", [n for n in DTYPES if not dt(n).is_floating_point])
def test_integer_and_bool_tensors_cannot_require_grad(name):
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients"):
        gdcore.zeros(2, dtype=dt(name), requires_grad=True)
    with pytest.raises(RuntimeError, match=name):
        gdcore.zeros(2, dtype=dt(name)).requires_grad_()


def test_inplace_casting_rules_as_torch():
    i = gdcore.tensor([1, 2], dtype=gdcore.int8)
    i += 300                                        # wraps into int8, as torch
    assert i.tolist() == [(1 + 300 + 128) % 256 - 128, (2 + 300 + 128) % 256 - 128]
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to the desired output type int8"):
        i += 0.5
    m = gdcore.tensor([True, False])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type bool"):
        m += 1
    f = gdcore.zeros(2)
    f.copy_(gdcore.tensor([True, False]))           # copy_ converts anything, as torch's
    assert f.tolist() == [1.0, 0.0]


def test_integer_index_tensors():
    x = gdcore.arange(10) * 10
    for d in (gdcore.int32, gdcore.int16, gdcore.int8, gdcore.int64):
        assert x[gdcore.tensor([1, 3], dtype=d)].tolist() == [10, 30]
    assert x[gdcore.tensor(2, dtype=gdcore.int32)].item() == 20
    with pytest.raises(IndexError, match="got float32"):
        x[gdcore.tensor([1.0])]


def test_reductions_of_integers_and_bools():
    m = gdcore.tensor([[True, False, True], [True, True, True]])
    assert m.sum().dtype == gdcore.int64 and m.sum().item() == 5
    assert m.sum(1).tolist() == [2, 3]
    u = gdcore.tensor([200, 100], dtype=gdcore.uint8)
    assert u.sum().item() == 300                    # no wrap: sums go in int64, as torch
    assert u.amax().dtype == gdcore.uint8 and u.amax().item() == 200
    assert m.amin(1).tolist() == [False, True] and m.amin().dtype == gdcore.bool
    assert gdcore.tensor([3, -7, 5], dtype=gdcore.int16).argmin().item() == 1
    assert gdcore.tensor([-3, 4], dtype=gdcore.int8).abs().tolist() == [3, 4]
    with pytest.raises(ValueError, match="mean: expected a float32 or float64 tensor, got int32"):
        gdcore.tensor([1, 2], dtype=gdcore.int32).mean()


def test_repr_as_torch():
    assert repr(gdcore.tensor([True, False])) == "tensor([ True, False])"
    assert repr(gdcore.tensor([1, 2], dtype=gdcore.int32)) == "tensor([1, 2], dtype=gdcore.int32)"
    assert repr(gdcore.tensor([255], dtype=gdcore.uint8)) == "tensor([255], dtype=gdcore.uint8)"
    assert repr(gdcore.zeros(0, dtype=gdcore.bool)) == "tensor([], dtype=gdcore.bool)"


def test_save_and_load_every_dtype(tmp_path):
    tensors = {name: gdcore.tensor(sample(name)) for name in DTYPES}
    path = tmp_path / "all.gd"
    gdcore.save(tensors, path)
    back = gdcore.load(path)
    for name in DTYPES:
        assert back[name].dtype == dt(name)
        np.testing.assert_array_equal(back[name].numpy(), sample(name))


def test_size_is_a_tuple_subclass_as_torch():
    x = gdcore.zeros(2, 3)
    s = x.shape
    assert type(s) is gdcore.Size and isinstance(s, tuple) and type(x.size()) is gdcore.Size
    assert repr(s) == "gdcore.Size([2, 3])" and s == (2, 3) and s == gdcore.Size([2, 3])
    assert type(s[1:]) is gdcore.Size and s[1] == 3 and s.numel() == 6
    assert type(s + (4,)) is gdcore.Size and s + (4,) == (2, 3, 4)
    assert x.size(1) == 3 and gdcore.zeros(()).shape == gdcore.Size([])
    assert pickle.loads(pickle.dumps(s)) == s and type(pickle.loads(pickle.dumps(s))) is gdcore.Size
    assert gdcore.zeros(gdcore.Size([4, 1])).shape == (4, 1)
    with pytest.raises(TypeError, match="iterable of 'int'"):
        gdcore.Size([1.5])
    buf = io.StringIO()
    print(s, file=buf)
    assert buf.getvalue() == "gdcore.Size([2, 3])\n"


def test_integer_powers_stay_integers_as_torch():
    i = gdcore.tensor([2, 3, -2], dtype=gdcore.int8)
    assert (i ** 2).dtype == gdcore.int8 and (i ** 2).tolist() == [4, 9, 4]
    assert (i ** 7).tolist() == list(np.array([2, 3, -2], dtype=np.int8) ** np.int8(7))   # wraps as int8
    assert (i ** 2.5).dtype == gdcore.float32
    assert (gdcore.tensor([True, False]) ** 2).dtype == gdcore.int64
    assert (2 ** i).dtype == gdcore.int8 and (2 ** gdcore.tensor([3, 4])).tolist() == [8, 16]
    a, b = np.array([3, -2, 5, 1, -1]), np.array([3, 3, 0, -2, -3])
    got = gdcore.tensor(a) ** gdcore.tensor(b)
    assert got.dtype == gdcore.int64
    assert got.tolist() == [27, -8, 1, 1, -1]           # negative exponents: 1, -1 or 0, as torch
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        gdcore.tensor([2]) ** -1
    big = gdcore.tensor([3], dtype=gdcore.int16) ** 200
    assert big.tolist() == [int(pow(3, 200, 2**16)) - (2**16 if pow(3, 200, 2**16) >= 2**15 else 0)]


def test_clamp_of_integers_keeps_the_dtype():
    i = gdcore.tensor([-3, 0, 5], dtype=gdcore.int16)
    assert i.clamp(0, 2).dtype == gdcore.int16 and i.clamp(0, 2).tolist() == [0, 0, 2]
    assert gdcore.clamp(i, max=1).tolist() == [-3, 0, 1]
    assert i.clamp(min=0.5).dtype == gdcore.float32          # a fractional bound gives floats, as torch


def test_a_zero_dim_operand_takes_the_narrow_dtype_before_the_op():
    i8 = gdcore.tensor([1, 2], dtype=gdcore.int8)
    big = gdcore.tensor(1000)                      # 0-d int64: converted to int8 (-24) first, as torch
    assert gdcore.maximum(i8, big).tolist() == [1, 2]
    assert (i8 < big).tolist() == [False, False]
    assert (i8 + big).tolist() == [-23, -22]


@pytest.mark.parametrize("name", ["int8", "uint8", "int16", "int32"])
def test_wrapping_arithmetic_over_the_whole_range_matches_numpy(name):
    info = np.iinfo(name)
    rng = np.random.default_rng(11)
    a = rng.integers(info.min, info.max, size=200, endpoint=True).astype(name)
    b = rng.integers(info.min, info.max, size=200, endpoint=True).astype(name)
    x, y = gdcore.tensor(a), gdcore.tensor(b)
    with np.errstate(over="ignore"):
        for op, np_op in [(gdcore.add, np.add), (gdcore.sub, np.subtract), (gdcore.mul, np.multiply),
                          (gdcore.maximum, np.maximum), (gdcore.lt, np.less), (gdcore.bitwise_xor, np.bitwise_xor)]:
            out = op(x, y)
            np.testing.assert_array_equal(out.numpy(), np_op(a, b))
            assert out.numpy().dtype == np_op(a, b).dtype


def test_int64_values_beyond_2_to_53_read_back_exactly():
    big = 2**60 + 1  # not representable as a double: a path through float64 would give 2**60
    t = gdcore.tensor([big])
    assert t.item() == big and int(t) == big and t.tolist() == [big]
    assert int(gdcore.tensor([[0, big]])[0, 1]) == big  # a view at an offset
