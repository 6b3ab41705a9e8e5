"""gdcore.get_rng_state() / Generator.get_state() as torch's: a 1-D uint8 tensor that set_rng_state /
set_state take back. The bytes are gdcore's own versioned layout (cpp/src/tensor/rng_state.cpp), read
here field by field with struct to check it independently; a tensor that is not such a state raises.
"""
import struct

import numpy as np
import pytest

import gdcore


def _fields(state):
    raw = bytes(state.numpy())
    return struct.unpack("<4sBQQQ?d", raw)  # magic, version, hi, lo, seed, has_spare, spare


def test_the_state_is_a_versioned_uint8_tensor():
    g = gdcore.Generator(1234)
    state = g.get_state()
    assert isinstance(state, gdcore.Tensor) and state.dtype == gdcore.uint8 and tuple(state.shape) == (38,)
    magic, version, _, _, seed, has_spare, _ = _fields(state)
    assert (magic, version, seed, has_spare) == (b"gdRS", 1, 1234, False)
    gdcore.randn(1, generator=g)   # Box-Muller keeps the second normal for the next draw
    assert _fields(g.get_state())[5] is True
    assert gdcore.get_rng_state().dtype == gdcore.uint8


def test_round_trips_replay_the_same_numbers_including_a_cached_normal(tmp_path):
    g = gdcore.Generator(7)
    gdcore.randn(3, generator=g)   # odd count: a normal is cached in the state
    state = g.get_state()
    a = gdcore.randn(5, generator=g).numpy()
    g.set_state(state)
    np.testing.assert_array_equal(gdcore.randn(5, generator=g).numpy(), a)
    other = gdcore.Generator(99)
    other.set_state(state)         # a state moves between generators
    np.testing.assert_array_equal(gdcore.randn(5, generator=other).numpy(), a)
    assert other.initial_seed() == 7
    # The state survives gdcore.save / load (checkpoints store it so).
    gdcore.manual_seed(3)
    gdcore.save({"rng": gdcore.get_rng_state()}, tmp_path / "state.gdc")
    b = gdcore.rand(4).numpy()
    gdcore.set_rng_state(gdcore.load(tmp_path / "state.gdc")["rng"])
    np.testing.assert_array_equal(gdcore.rand(4).numpy(), b)


def test_old_five_tuples_still_load():
    # What get_state() returned before it returned bytes: (hi, lo, seed, has_spare, spare).
    g = gdcore.Generator(11)
    _, _, hi, lo, seed, has_spare, spare = _fields(g.get_state())
    a = gdcore.rand(3, generator=g).numpy()
    h = gdcore.Generator(0)
    h.set_state((hi, lo, seed, has_spare, spare))
    np.testing.assert_array_equal(gdcore.rand(3, generator=h).numpy(), a)


@pytest.mark.parametrize("edit, message", [
    (lambda raw: raw[:37], r"got one of shape \(37,\)"),
    (lambda raw: b"gdRT" + raw[4:], 'do not start with "gdRS"'),
    (lambda raw: raw[:4] + bytes([2]) + raw[5:], "format version 2, this gdcore reads version 1"),
    (lambda raw: raw[:29] + bytes([7]) + raw[30:], r"byte 29 \(has_spare\) is 7, not 0 or 1"),
])
def test_a_wrong_or_corrupt_state_raises_and_leaves_the_generator_alone(edit, message):
    g = gdcore.Generator(5)
    raw = bytes(g.get_state().numpy())
    before = g.get_state().tolist()
    bad = gdcore.from_numpy(np.frombuffer(edit(raw), dtype=np.uint8).copy())
    with pytest.raises(RuntimeError, match=message):
        g.set_state(bad)
    assert g.get_state().tolist() == before


def test_a_strided_state_is_read_correctly():
    g = gdcore.Generator(21)
    state = g.get_state()
    a = gdcore.rand(2, generator=g).numpy()
    spread = gdcore.zeros(76, dtype=gdcore.uint8)
    spread[::2] = state
    h = gdcore.Generator(0)
    h.set_state(spread[::2])
    np.testing.assert_array_equal(gdcore.rand(2, generator=h).numpy(), a)


def test_a_checkpoint_written_with_tuple_states_still_resumes():
    # gdcore.save stores the old tuples as JSON lists; checkpoint._set_states turns them back into tuples.
    from gdcore.checkpoint import _set_states
    g = gdcore.Generator(8)
    _, _, hi, lo, seed, has_spare, spare = _fields(g.get_state())
    a = gdcore.rand(3, generator=g).numpy()
    h = gdcore.Generator(0)
    _set_states({"loader": h}, {"loader": [hi, lo, seed, has_spare, spare]})
    np.testing.assert_array_equal(gdcore.rand(3, generator=h).numpy(), a)
    _set_states({"loader": h}, {"loader": g.get_state()})   # and today's tensors as they are
    np.testing.assert_array_equal(gdcore.rand(3, generator=h).numpy(), gdcore.rand(3, generator=g).numpy())
