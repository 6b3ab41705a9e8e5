"""x[key] and x[key] = value with several index tensors, lists and ranges at once, mixed with ints,
slices, None and ..., as torch does it. The expected values come from numpy, with torch's one
difference applied by hand (`torch_reference`): torch takes ints as basic indices before the
advanced ones, so `x[0, :, idx]` keeps the gathered dim where it was (numpy moves it first).
Gradients are checked against finite differences."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import gdcore
from gdcore.autograd import gradcheck

SETTINGS = settings(max_examples=40, deadline=None)


def torch_reference(a, key):
    """numpy's a[key] under torch's rule: ints and slices first (a view), then the index arrays on it."""
    key = key if isinstance(key, tuple) else (key,)
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    basic, advanced = [], []
    for k in key:
        if k is Ellipsis:
            basic.append(Ellipsis)
            advanced.extend([slice(None)] * (a.ndim - consumed))
        elif isinstance(k, (int, np.integer)):
            basic.append(k)
        elif isinstance(k, slice) or k is None:
            basic.append(k)
            advanced.append(slice(None))
        else:  # an index array (list, range, ndarray)
            basic.append(slice(None))
            advanced.append(np.asarray(k))
    view = a[tuple(basic)]
    return view, tuple(advanced)


def as_gdcore_key(key, kind):
    """The numpy key with its index arrays as gdcore tensors, lists or ranges."""
    def convert(k):
        if not isinstance(k, np.ndarray):
            return k
        if kind == "list":
            return k.tolist()
        if kind == "range" and k.ndim == 1 and len(k) > 1 and np.all(np.diff(k) == 1) and k[0] >= 0:
            return range(int(k[0]), int(k[-1]) + 1)
        return gdcore.tensor(k)
    return tuple(convert(k) for k in key)


@st.composite
def keys(draw, max_dims=4, max_side=4):
    """(shape, key): ints, positive-step slices, None, an optional ..., and 1-3 index arrays that broadcast."""
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=1, max_size=max_dims)))
    b = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    n_arrays = draw(st.integers(1, min(3, len(shape))))
    array_dims = sorted(draw(st.permutations(range(len(shape))))[:n_arrays])
    ellipsis_at = draw(st.one_of(st.none(), st.integers(0, len(shape))))
    items = []
    for d, size in enumerate(shape):
        if d in array_dims:
            # a shape that broadcasts to b: a suffix of b with some sizes turned into 1
            tail = b[draw(st.integers(0, len(b))):]
            ashape = tuple(s if draw(st.booleans()) else 1 for s in tail) or (1,)  # (0-d index tensors act as ints)
            items.append(np.array(draw(st.lists(st.integers(-size, size - 1), min_size=int(np.prod(ashape)),
                                                max_size=int(np.prod(ashape))))).reshape(ashape).astype(np.int64))
        else:
            kind = draw(st.sampled_from(["int", "slice", "full"]))
            if kind == "int":
                items.append(draw(st.integers(-size, size - 1)))
            elif kind == "slice":
                items.append(slice(draw(st.integers(-size, size)), draw(st.integers(-size, size)), draw(st.integers(1, 3))))
            else:
                items.append(slice(None))
        if draw(st.integers(0, 5)) == 0:
            items.append(None)
    if ellipsis_at is not None:  # `...` stands for the full slices it replaces
        start = min(ellipsis_at, len(items))
        stop = start
        while stop < len(items) and isinstance(items[stop], slice) and items[stop] == slice(None):
            stop += 1
        items[start:stop] = [Ellipsis]
    return shape, tuple(items)


@SETTINGS
@given(case=keys(), kind=st.sampled_from(["tensor", "list", "range"]))
def test_getitem_matches_numpy_with_torch_int_rule(case, kind):
    shape, key = case
    a = np.arange(float(np.prod(shape))).reshape(shape)
    view, adv = torch_reference(a, key)
    expected = view[adv]
    got = gdcore.from_numpy(a)[as_gdcore_key(key, kind)]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.numpy(), expected)


def unique_positions(view, adv):
    """Whether the index arrays (broadcast together) name each position of `view` at most once."""
    arrays = [(i, k) for i, k in enumerate(adv) if isinstance(k, np.ndarray)]
    wrapped = [np.where(k < 0, k + view.shape[i], k) for i, k in arrays]
    rows = np.stack([x.ravel() for x in np.broadcast_arrays(*wrapped)], 1)
    return len({tuple(r) for r in rows}) == len(rows)


@SETTINGS
@given(case=keys(), data=st.data())
def test_setitem_matches_numpy_with_torch_int_rule(case, data):
    """Assigning a value broadcast to the indexed shape; duplicate positions are left out (unspecified in torch)."""
    shape, key = case
    a = np.arange(float(np.prod(shape))).reshape(shape)
    view, adv = torch_reference(a, key)
    assume(unique_positions(view, adv))
    target = view[adv].shape
    vshape = tuple(s if data.draw(st.booleans()) else 1 for s in target[data.draw(st.integers(0, len(target))):])
    value = -1.0 - np.arange(float(np.prod(vshape))).reshape(vshape)
    t = gdcore.tensor(a)
    t[as_gdcore_key(key, "tensor")] = gdcore.tensor(value, dtype=gdcore.float64)
    expected = a.copy()
    eview, eadv = torch_reference(expected, key)
    eview[eadv] = value  # eview is a numpy view of `expected`
    np.testing.assert_array_equal(t.numpy(), expected)


@settings(max_examples=25, deadline=None)
@given(case=keys(max_dims=3, max_side=3), seed=st.integers(0, 2**16))
def test_getitem_and_setitem_gradients(case, seed):
    """d x[key] / dx scatters back (duplicates add up); setitem's gradient reaches the value and the
    untouched part of x only (index_put semantics)."""
    shape, key = case
    rng = np.random.default_rng(seed)
    x = gdcore.tensor(rng.standard_normal(shape), dtype=gdcore.float64, requires_grad=True)
    gkey = as_gdcore_key(key, "tensor")
    assert gradcheck(lambda x: x[gkey], [x])
    view, adv = torch_reference(np.zeros(shape), key)
    if not unique_positions(view, adv):
        return
    v = gdcore.tensor(rng.standard_normal(view[adv].shape), dtype=gdcore.float64, requires_grad=True)

    def assign(x, v):
        y = x * 1.0
        y[gkey] = v
        return y
    assert gradcheck(assign, [x, v])


def test_advanced_dims_go_first_when_separated():
    """Index tensors separated by a slice or None put the broadcast dims first (numpy's and torch's rule)."""
    t = gdcore.zeros(5, 6, 7, 8)
    i = gdcore.tensor([0, 1, 2])
    assert t[:, i, :, i].shape == (3, 5, 7)
    assert t[i, :, i].shape == (3, 6, 8)
    assert t[:, i, i].shape == (5, 3, 8)
    assert t[i, None, i].shape == (3, 1, 7, 8)
    # ints are basic indices in torch: they neither separate nor join the advanced ones
    assert t[:, [0], :, 0].shape == (5, 1, 7)
    assert t[0, :, [1, 2]].shape == (6, 2, 8)
    assert t[i, 0, i].shape == (3, 8)


def test_nll_by_range_and_target():
    """The hand-written nll of the tutorials: -log_probs[range(n), target].mean(), with its gradient."""
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((6, 4))
    target = np.array([0, 3, 1, 1, 2, 0])
    x = gdcore.tensor(logits, dtype=gdcore.float64, requires_grad=True)
    loss = -x[range(6), gdcore.tensor(target)].mean()
    loss.backward()
    assert loss.item() == pytest.approx(-logits[np.arange(6), target].mean())
    expected = np.zeros((6, 4))
    expected[np.arange(6), target] = -1 / 6
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_duplicate_indices_add_up_in_the_gradient_and_with_accumulate():
    x = gdcore.tensor([1.0, 2.0, 3.0], dtype=gdcore.float64, requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])
    t = gdcore.zeros(3)
    t.index_put_((gdcore.tensor([0, 0, 2]),), gdcore.tensor([1.0, 2.0, 5.0]), accumulate=True)
    np.testing.assert_array_equal(t.numpy(), [3.0, 0.0, 5.0])
    out = gdcore.index_put(gdcore.ones(2, 2), (gdcore.tensor([1, 1]), gdcore.tensor([0, 0])), gdcore.tensor(4.0),
                           accumulate=True)
    np.testing.assert_array_equal(out.numpy(), [[1.0, 1.0], [9.0, 1.0]])


def test_index_put_gradients():
    rng = np.random.default_rng(2)
    x = gdcore.tensor(rng.standard_normal((4, 3)), dtype=gdcore.float64, requires_grad=True)
    v = gdcore.tensor(rng.standard_normal((2, 1)), dtype=gdcore.float64, requires_grad=True)
    rows, cols = gdcore.tensor([[0], [3]]), gdcore.tensor([1, 2])  # broadcast to (2, 2); v broadcasts to it
    for accumulate in (False, True):
        assert gradcheck(lambda x, v: gdcore.index_put(x, (rows, cols), v, accumulate=accumulate), [x, v])
    dup = (gdcore.tensor([1, 1, 2]),)
    assert gradcheck(lambda x, v: x.index_put(dup, v[:1].expand(3, 3), accumulate=True), [x, v])


def test_setitem_on_a_graph_tensor_rebases_its_history():
    """y[idx] = v on a non-leaf: y's new history sends the gradient to v and to the untouched part of y."""
    x = gdcore.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    v = gdcore.tensor([10.0, 20.0], requires_grad=True)
    y = x * 2
    y[[3, 0]] = v * 3
    assert y.grad_fn is not None
    (y * gdcore.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [60.0, 4.0, 6.0, 30.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 4.0, 6.0, 0.0])
    np.testing.assert_array_equal(v.grad.numpy(), [12.0, 3.0])


def test_setitem_into_a_plain_tensor_with_a_value_that_requires_grad():
    v = gdcore.tensor([5.0], requires_grad=True)
    buf = gdcore.zeros(2, 3)
    buf[:, 1] = v
    assert buf.grad_fn is not None and not buf.is_leaf
    (buf * gdcore.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [7.0])


def test_negative_step_raises_as_torch():
    with pytest.raises(ValueError, match="step must be greater than zero"):
        gdcore.zeros(4)[::-1]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        gdcore.zeros(4)[::-2] = 1.0


def test_int_and_0d_index_tensors_and_empty_indices():
    t = gdcore.tensor(np.arange(12.0).reshape(3, 4))
    assert t[gdcore.tensor(2), gdcore.tensor([0, 3])].tolist() == [8.0, 11.0]
    assert t[gdcore.tensor([], dtype=gdcore.int64)].shape == (0, 4)
    assert t[[[0, 1], [2, 2]], 1:3].shape == (2, 2, 2)
    assert t[(0, 2), ].tolist() == [[0.0, 1.0, 2.0, 3.0], [8.0, 9.0, 10.0, 11.0]]  # a tuple inside the key


@pytest.mark.parametrize("key, words", [
    ((slice(None), [4]), "index 4 is out of bounds for dimension 1 with size 4"),
    (([0, -4],), "index -4 is out of bounds for dimension 0 with size 3"),
    (([0, 1], [0, 1, 2]), "shape mismatch: indexing tensors could not be broadcast together with shapes (2,), (3,)"),
])
def test_index_errors(key, words):
    t = gdcore.zeros(3, 4)
    with pytest.raises(IndexError) as info:
        t[key]
    assert words in str(info.value)
    with pytest.raises(IndexError) as info:
        t[key] = 1.0
    assert words in str(info.value)
    assert t.abs().sum().item() == 0.0  # nothing was written


def test_value_of_the_wrong_shape_raises():
    t = gdcore.zeros(3, 4)
    with pytest.raises(ValueError, match=r"value tensor of shape \(3,\) cannot be broadcast to indexing result of shape \(2, 4\)"):
        t[[0, 1]] = gdcore.zeros(3)


# ---- boolean masks ------------------------------------------------------------------------

@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple), data=st.data())
def test_mask_over_k_dims_matches_numpy(shape, data):
    """A bool mask covering dims start..start+k-1 (after ints and slices before it), get and set."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    a = rng.standard_normal(shape)
    start = data.draw(st.integers(0, len(shape) - 1))
    k = data.draw(st.integers(1, len(shape) - start))
    mask = rng.random(shape[start:start + k]) < 0.5
    lead = tuple(data.draw(st.sampled_from([slice(None), slice(1, None)])) for _ in range(start))
    key = lead + (mask,)
    got = gdcore.from_numpy(a)[lead + (gdcore.tensor(mask),)]
    np.testing.assert_array_equal(got.numpy(), a[key])
    t = gdcore.tensor(a)
    t[lead + (gdcore.tensor(mask),)] = 0.0
    expected = a.copy()
    expected[key] = 0.0
    np.testing.assert_array_equal(t.numpy(), expected)
    x = gdcore.tensor(a, dtype=gdcore.float64, requires_grad=True)
    assert gradcheck(lambda x: x[lead + (gdcore.tensor(mask),)], [x])


def test_mask_from_a_comparison_get_set_and_gradients():
    a = np.array([[-1.0, 2.0, 0.5], [3.0, -4.0, 0.7]])  # (no value near 0: finite differences keep the mask)
    x = gdcore.tensor(a, dtype=gdcore.float64)
    np.testing.assert_array_equal(x[x > 0].numpy(), a[a > 0])
    y = x.clone()
    y[y < 0] = gdcore.tensor([10.0, 20.0], dtype=gdcore.float64)  # a tensor with one value per True
    expected = a.copy()
    expected[a < 0] = [10.0, 20.0]
    np.testing.assert_array_equal(y.numpy(), expected)
    np.testing.assert_array_equal(gdcore.masked_select(x, x > 1).numpy(), [2.0, 3.0])
    np.testing.assert_array_equal(x.masked_select(gdcore.tensor([True, False, True])).numpy(), a[:, [0, 2]].ravel())
    xg = gdcore.tensor(a, dtype=gdcore.float64, requires_grad=True)
    mask = xg.detach() > 0
    assert gradcheck(lambda x: x.masked_select(mask), [xg])
    v = gdcore.tensor([1.5], dtype=gdcore.float64, requires_grad=True)

    def relu_by_mask(x, v):
        y = x * 1.0
        y[y < 0] = v  # index_put semantics: gradient to v and to x where it was kept
        return y
    assert gradcheck(relu_by_mask, [xg, v])


def test_mask_mixed_with_index_tensors_lists_and_python_bools():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = gdcore.tensor(a)
    m = np.array([True, False, False, True])  # a mask is its nonzero() positions, broadcast with the others
    np.testing.assert_array_equal(t[:, [0, 2], gdcore.tensor(m)].numpy(), a[:, [0, 2], [0, 3]])
    np.testing.assert_array_equal(t[[True, False]].numpy(), a[[True, False]])  # a list of bools is a mask
    assert t[True].shape == (1, 2, 3, 4) and t[False].shape == (0, 2, 3, 4)
    assert t[0, [True, False, True]].shape == (2, 4)


def test_mask_of_the_wrong_shape_names_both_shapes():
    with pytest.raises(IndexError) as info:
        gdcore.zeros(3, 4)[gdcore.tensor([True, False])]
    assert "(2,)" in str(info.value) and "(3, 4)" in str(info.value)
    with pytest.raises(IndexError, match=r"mask \(2, 2\) at index 1 does not match .* \(2, 3\) at index 1"):
        gdcore.zeros(2, 3)[gdcore.ones(2, 2, dtype=gdcore.bool)] = 1.0
    with pytest.raises(RuntimeError, match="masked_select: expected a bool mask, got float32"):
        gdcore.zeros(3).masked_select(gdcore.ones(3))


def test_int32_index_tensors_work_as_int64():
    a = np.arange(12.0).reshape(3, 4)
    t = gdcore.tensor(a)
    i = gdcore.tensor([2, 0], dtype=gdcore.int32)
    np.testing.assert_array_equal(t[i, i].numpy(), a[[2, 0], [2, 0]])
    np.testing.assert_array_equal(t.gather(1, gdcore.tensor([[1], [0], [3]], dtype=gdcore.int32)).numpy(), [[1.0], [4.0], [11.0]])
