// Every differentiable op's backward rule against central finite differences in double,
// including broadcasting, reductions over dims, all matmul cases, views, indexing and joins.
#include <gtest/gtest.h>

#include "check_grad.hpp"

namespace gdcore {
namespace {

using testing::expect_backward_matches_finite_differences;
using testing::uniform;
using V = std::vector<Tensor>;

// ---- unary --------------------------------------------------------------------------------

struct UnaryCase {
  const char* name;
  Tensor (*fn)(const Tensor&);
  double low, high;
};

Tensor relu_fn(const Tensor& x) { return relu(x); }
Tensor abs_fn(const Tensor& x) { return abs(x); }
Tensor clamp_fn(const Tensor& x) { return clamp(x, -0.5, 0.5); }

class UnaryBackward : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryBackward, MatchesFiniteDifferences) {
  const UnaryCase& c = GetParam();
  Tensor x = uniform({3, 4}, c.low, c.high, 7);
  // Keep clear of kinks (0 for abs/relu, +-0.5 for clamp): finite differences are invalid there.
  for (int64_t k = 0; k < x.numel(); ++k) {
    double& v = x.data<double>()[k];
    for (double kink : {0.0, 0.5, -0.5})
      if (std::abs(v - kink) < 0.05) v += 0.1;
  }
  expect_backward_matches_finite_differences([&](const V& in) { return c.fn(in[0]); }, {x});
}

INSTANTIATE_TEST_SUITE_P(
    Ops, UnaryBackward,
    ::testing::Values(UnaryCase{"neg", &neg, -2, 2}, UnaryCase{"abs", &abs_fn, -2, 2}, UnaryCase{"exp", &exp, -2, 2},
                      UnaryCase{"log", &log, 0.3, 3}, UnaryCase{"sqrt", &sqrt, 0.3, 3}, UnaryCase{"sin", &sin, -3, 3},
                      UnaryCase{"cos", &cos, -3, 3}, UnaryCase{"tan", &tan, -1.2, 1.2},
                      UnaryCase{"tanh", &tanh, -2, 2}, UnaryCase{"sinh", &sinh, -2, 2},
                      UnaryCase{"cosh", &cosh, -2, 2}, UnaryCase{"sigmoid", &sigmoid, -3, 3},
                      UnaryCase{"relu", &relu_fn, -2, 2}, UnaryCase{"clamp", &clamp_fn, -2, 2}),
    [](const ::testing::TestParamInfo<UnaryCase>& info) { return std::string(info.param.name); });

TEST(PowBackward, ScalarExponents) {
  for (double p : {2.0, 3.0, 0.5, -1.5, 1.0, 0.0}) {
    SCOPED_TRACE("exponent " + std::to_string(p));
    Tensor x = uniform({2, 3}, 0.4, 2.0, 3);
    expect_backward_matches_finite_differences([&](const V& in) { return pow(in[0], p); }, {x});
  }
}

// ---- binary with broadcasting ----------------------------------------------------------

struct BinaryShapes {
  Shape a, b;
};

class BinaryBackward : public ::testing::TestWithParam<BinaryShapes> {};

TEST_P(BinaryBackward, AllOpsMatchFiniteDifferences) {
  const BinaryShapes& s = GetParam();
  Tensor a = uniform(s.a, 0.5, 2.0, 11), b = uniform(s.b, 0.5, 2.0, 12);
  for (auto [name, fn] : std::initializer_list<std::pair<const char*, Tensor (*)(const Tensor&, const Tensor&)>>{
           {"add", static_cast<Tensor (*)(const Tensor&, const Tensor&)>(&add)},
           {"sub", &sub},
           {"mul", static_cast<Tensor (*)(const Tensor&, const Tensor&)>(&mul)},
           {"div", &div},
           {"pow", static_cast<Tensor (*)(const Tensor&, const Tensor&)>(&pow)}}) {
    SCOPED_TRACE(name);
    expect_backward_matches_finite_differences([&](const V& in) { return fn(in[0], in[1]); }, {a, b});
  }
  Tensor far = uniform(s.b, 2.5, 3.5, 13);   // always above a
  Tensor near = uniform(s.b, 0.5, 2.0, 14);  // mixed: a wins some elements, b others (ties: probability ~0)
  expect_backward_matches_finite_differences([](const V& in) { return maximum(in[0], in[1]); }, {a, far});
  expect_backward_matches_finite_differences([](const V& in) { return minimum(in[0], in[1]); }, {a, far});
  expect_backward_matches_finite_differences([](const V& in) { return mul(maximum(in[0], in[1]), in[1]); }, {a, near});
}

INSTANTIATE_TEST_SUITE_P(Broadcasting, BinaryBackward,
                         ::testing::Values(BinaryShapes{{2, 3}, {2, 3}}, BinaryShapes{{2, 3}, {3}},
                                           BinaryShapes{{2, 1}, {1, 3}}, BinaryShapes{{4, 2, 3}, {2, 1}},
                                           BinaryShapes{{}, {2, 3}}, BinaryShapes{{3}, {}},
                                           BinaryShapes{{1}, {2, 2, 1}}),
                         [](const ::testing::TestParamInfo<BinaryShapes>& info) {
                           return "case" + std::to_string(info.index);
                         });

TEST(ScalarBackward, PythonNumberOperands) {
  Tensor x = uniform({2, 3}, 0.5, 2.0, 5);
  expect_backward_matches_finite_differences([](const V& in) { return add(in[0], 2.5); }, {x});
  expect_backward_matches_finite_differences([](const V& in) { return mul(in[0], -1.5); }, {x});
  expect_backward_matches_finite_differences(
      [](const V& in) { return pow(scalar_tensor(2.0, DType::Float64), in[0]); }, {x});
  expect_backward_matches_finite_differences(
      [](const V& in) { return div(scalar_tensor(3.0, DType::Float64), in[0]); }, {x});
}

TEST(PowBackward, LimitsAtZeroAsTorch) {
  Tensor a = testing::make({3}, {0, 2, 0}, true), b = testing::make({3}, {2, 0, 0}, true);
  run_backward({sum(pow(a, b))}, {Tensor()}, false, false, {}, false);
  EXPECT_EQ(testing::values(a.grad()), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(testing::values(b.grad()), (std::vector<double>{0, std::log(2.0), 0}));
}

// ---- reductions -----------------------------------------------------------------------

TEST(ReductionBackward, SumMeanOverAllAndDims) {
  Tensor x = uniform({2, 3, 4}, -1, 1, 9);
  for (bool keep : {false, true})
    for (std::vector<int64_t> dims : std::vector<std::vector<int64_t>>{{}, {0}, {1}, {-1}, {0, 2}, {0, 1, 2}}) {
      SCOPED_TRACE("keepdim " + std::to_string(keep) + ", " + std::to_string(dims.size()) + " dims");
      expect_backward_matches_finite_differences([&](const V& in) { return sum(in[0], dims, keep); }, {x});
      expect_backward_matches_finite_differences([&](const V& in) { return mean(in[0], dims, keep); }, {x});
    }
}

TEST(ReductionBackward, AmaxAminWithoutTies) {
  // Distinct values (a shuffled ramp) so that every extreme is unique.
  Generator gen(4);
  Tensor perm = randperm(24, DType::Float64, &gen);
  Tensor x = reshape(mul(perm, 0.25), {2, 3, 4}).clone_data();
  x.set_requires_grad(true);
  for (bool keep : {false, true})
    for (std::vector<int64_t> dims : std::vector<std::vector<int64_t>>{{}, {0}, {2}, {1, 2}}) {
      expect_backward_matches_finite_differences([&](const V& in) { return amax(in[0], dims, keep); }, {x});
      expect_backward_matches_finite_differences([&](const V& in) { return amin(in[0], dims, keep); }, {x});
    }
}

// ---- matrix products ------------------------------------------------------------------

TEST(MatmulBackward, AllCases) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3}, {3}},          {{2, 3}, {3, 4}},       {{3}, {3, 4}},    {{2, 3}, {3}},
      {{5, 2, 3}, {5, 3, 4}}, {{5, 2, 3}, {1, 3, 4}}, {{2, 1, 2, 3}, {4, 3, 2}}, {{5, 2, 3}, {3, 4}},
      {{2, 5, 2, 3}, {3}}, {{3}, {2, 3, 4}},      {{2, 3}, {5, 3, 4}}};
  uint64_t seed = 20;
  for (const auto& [sa, sb] : cases) {
    SCOPED_TRACE(shape_str(sa) + " @ " + shape_str(sb));
    Tensor a = uniform(sa, -1, 1, seed++), b = uniform(sb, -1, 1, seed++);
    expect_backward_matches_finite_differences([](const V& in) { return matmul(in[0], in[1]); }, {a, b});
  }
}

TEST(MatmulBackward, MmBmmAndTransposedOperands) {
  Tensor a = uniform({3, 4}, -1, 1, 1), b = uniform({4, 2}, -1, 1, 2);
  expect_backward_matches_finite_differences([](const V& in) { return mm(in[0], in[1]); }, {a, b});
  Tensor c = uniform({2, 3, 4}, -1, 1, 3), d = uniform({2, 4, 5}, -1, 1, 4);
  expect_backward_matches_finite_differences([](const V& in) { return bmm(in[0], in[1]); }, {c, d});
  Tensor e = uniform({4, 3}, -1, 1, 5), f = uniform({2, 4}, -1, 1, 6);
  expect_backward_matches_finite_differences(
      [](const V& in) { return mm(transpose(in[0], 0, 1), transpose(in[1], 0, 1)); }, {e, f});
}

// ---- mse_loss -------------------------------------------------------------------------

TEST(MseLossBackward, AllReductionsBothArguments) {
  Tensor x = uniform({3, 2}, -1, 1, 31), y = uniform({3, 2}, -1, 1, 32);
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    expect_backward_matches_finite_differences([r](const V& in) { return mse_loss(in[0], in[1], r); }, {x, y});
}

// ---- views and copies -------------------------------------------------------------------

TEST(ViewBackward, ShapeOps) {
  Tensor x = uniform({2, 3, 4}, -1, 1, 41);
  const std::vector<std::pair<const char*, testing::Fn>> ops = {
      {"reshape", [](const V& in) { return reshape(in[0], {4, -1}); }},
      {"view", [](const V& in) { return view(in[0], {6, 4}); }},
      {"reshape_copy", [](const V& in) { return reshape(transpose(in[0], 0, 2), {-1}); }},
      {"flatten", [](const V& in) { return flatten(in[0], 1, 2); }},
      {"transpose", [](const V& in) { return transpose(in[0], 0, 2); }},
      {"permute", [](const V& in) { return permute(in[0], {2, 0, 1}); }},
      {"expand", [](const V& in) { return expand(unsqueeze(in[0], 0), {3, 2, 3, 4}); }},
      {"expand_size1", [](const V& in) { return expand(index(in[0], {IndexItem{}}), {5, 3, 4}); }},
      {"squeeze", [](const V& in) { return squeeze(unsqueeze(in[0], 1), 1); }},
      {"unsqueeze", [](const V& in) { return unsqueeze(in[0], -1); }},
      {"contiguous", [](const V& in) { return contiguous(transpose(in[0], 1, 2)); }},
      {"clone", [](const V& in) { return mul(clone(in[0]), in[0]); }},
      {"to_dtype", [](const V& in) { return to_dtype(to_dtype(in[0], DType::Float64), DType::Float64); }},
  };
  for (const auto& [name, fn] : ops) {
    SCOPED_TRACE(name);
    expect_backward_matches_finite_differences(fn, {x});
  }
}

// ---- indexing and joining -----------------------------------------------------------

IndexItem slice(std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step = 1) {
  IndexItem it;
  it.kind = IndexItem::Slice;
  it.start = start;
  it.stop = stop;
  it.step = step;
  return it;
}
IndexItem at(int64_t i) {
  IndexItem it;
  it.index = i;
  return it;
}
IndexItem kind(IndexItem::Kind k) {
  IndexItem it;
  it.kind = k;
  return it;
}

TEST(IndexBackward, BasicAndTensorIndices) {
  Tensor x = uniform({4, 5, 3}, -1, 1, 51);
  IndexItem gather = kind(IndexItem::Tensor_);
  gather.tensor = Tensor::empty({4}, DType::Int64);
  for (int64_t k = 0; k < 4; ++k) gather.tensor.data<int64_t>()[k] = std::vector<int64_t>{3, 0, 3, -1}[k];
  const std::vector<std::vector<IndexItem>> keys = {
      {at(1)},
      {at(-1), slice(1, std::nullopt, 2)},
      {slice(std::nullopt, std::nullopt, 3), kind(IndexItem::NewAxis), at(2)},
      {kind(IndexItem::Ellipsis), at(0)},
      {gather},
      {slice(1, 3), gather},
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE("key " + std::to_string(i));
    expect_backward_matches_finite_differences([&](const V& in) { return index(in[0], keys[i]); }, {x});
  }
  expect_backward_matches_finite_differences([&](const V& in) { return index_select(in[0], 1, gather.tensor); },
                                             {x});
}

TEST(JoinBackward, CatAndStack) {
  Tensor a = uniform({2, 3}, -1, 1, 61), b = uniform({2, 1}, -1, 1, 62), c = uniform({2, 3}, -1, 1, 63);
  expect_backward_matches_finite_differences([](const V& in) { return cat({in[0], in[1], in[2]}, 1); }, {a, b, c});
  expect_backward_matches_finite_differences([](const V& in) { return cat({in[0], in[2]}, 0); }, {a, b, c});
  for (int64_t d : {0, 1, 2, -1})
    expect_backward_matches_finite_differences([d](const V& in) { return stack({in[0], in[1]}, d); }, {a, c});
}

// ---- a composite, and second order --------------------------------------------------------

TEST(CompositeBackward, SmallNetwork) {
  Tensor x = uniform({5, 3}, -1, 1, 71, false), w = uniform({3, 4}, -1, 1, 72), b = uniform({4}, -1, 1, 73);
  Tensor y = uniform({5, 4}, -1, 1, 74, false);
  expect_backward_matches_finite_differences(
      [&](const V& in) { return mse_loss(tanh(add(matmul(x, in[0]), in[1])), y); }, {w, b});
}

TEST(SecondOrder, GradOfGradMatchesClosedForm) {
  // f = sum(x^3 * sin(x)): f' = 3x^2 sin x + x^3 cos x; f'' = 6x sin x + 6x^2 cos x - x^3 sin x.
  Tensor x = testing::make({3}, {0.3, -1.2, 2.0}, true);
  Tensor f = sum(mul(pow(x, 3.0), sin(x)));
  std::vector<Tensor> g = run_backward({f}, {Tensor()}, true, true, {x}, false);
  ASSERT_TRUE(g[0].requires_grad());
  std::vector<Tensor> h = run_backward({sum(g[0])}, {Tensor()}, false, false, {x}, false);
  std::vector<double> got = testing::values(h[0]);
  for (size_t k = 0; k < 3; ++k) {
    const double v = testing::values(x)[k];
    EXPECT_NEAR(got[k], 6 * v * std::sin(v) + 6 * v * v * std::cos(v) - v * v * v * std::sin(v), 1e-12);
  }
}

}  // namespace
}  // namespace gdcore
