// How a captured op is recomputed at replay: a table from the op's name (OpDef::name) to
// a call of its public function with the captured attributes. The ops fill their node's
// attributes for backward; the entries here read the same attributes (plus the output's
// shape and dtype, fixed for a captured signature). An op missing from this table makes
// gdcore.compile refuse the step with a clear message instead of replaying it wrongly.
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "gdcore/autograd.hpp"
#include "gdcore/ops.hpp"
#include "gdcore/ops_math.hpp"
#include "gdcore/ops_pointwise.hpp"

namespace gdcore::capture {

using ForwardFn = Tensor (*)(const std::vector<Tensor>& inputs, const OpAttrs& attrs, const Shape& out_shape,
                             DType out_dtype);

namespace {

using In = std::vector<Tensor>;
#define GD_FORWARD(body) [](const In& x, const OpAttrs& a, const Shape& shape, DType dtype) -> Tensor { \
    (void)x; (void)a; (void)shape; (void)dtype; body; }

// Reductions record their reduced dims (ints) and the keepdim shape (shape).
Tensor reduce(Tensor (*fn)(const Tensor&, const std::vector<int64_t>&, bool), const In& x, const OpAttrs& a,
              const Shape& shape) {
  return fn(x[0], a.ints, /*keepdim=*/shape == a.shape && shape.size() == x[0].shape().size());
}

std::optional<double> bound(const OpAttrs& a, size_t k) {
  return a.ints[k] ? std::optional<double>(a.reals[k]) : std::nullopt;
}

// Basic indexing records its items normalised, four ints each: {0, index}, {1, start, length, step}
// or {2} (new axis); the same items applied to an input of the same shape give the same view.
Tensor basic_index(const Tensor& x, const std::vector<int64_t>& enc) {
  std::vector<IndexItem> items;
  for (size_t i = 0; i + 3 < enc.size(); i += 4) {
    IndexItem it;
    if (enc[i] == 0) {
      it.kind = IndexItem::Int;
      it.index = enc[i + 1];
    } else if (enc[i] == 1) {
      it.kind = IndexItem::Slice;
      it.start = enc[i + 1];
      it.stop = enc[i + 2] == 0 ? enc[i + 1] : enc[i + 1] + (enc[i + 2] - 1) * enc[i + 3] + 1;
      it.step = enc[i + 3];
    } else {
      it.kind = IndexItem::NewAxis;
    }
    items.push_back(std::move(it));
  }
  return index(x, items);
}

const std::unordered_map<std::string, ForwardFn>& table() {
  static const std::unordered_map<std::string, ForwardFn> t = {
      // arithmetic.cpp
      {"AddBackward", GD_FORWARD(return add(x[0], x[1]))},
      {"SubBackward", GD_FORWARD(return sub(x[0], x[1]))},
      {"MulBackward", GD_FORWARD(return mul(x[0], x[1]))},
      {"DivBackward", GD_FORWARD(return div(x[0], x[1]))},
      {"PowBackward0", GD_FORWARD(return pow(x[0], a.reals[0]))},
      {"PowBackward1", GD_FORWARD(return pow(x[0], x[1]))},
      {"NegBackward", GD_FORWARD(return neg(x[0]))},
      {"MaximumBackward", GD_FORWARD(return maximum(x[0], x[1]))},
      {"MinimumBackward", GD_FORWARD(return minimum(x[0], x[1]))},
      // unary.cpp
      {"AbsBackward", GD_FORWARD(return abs(x[0]))},
      {"ExpBackward", GD_FORWARD(return exp(x[0]))},
      {"LogBackward", GD_FORWARD(return log(x[0]))},
      {"SqrtBackward", GD_FORWARD(return sqrt(x[0]))},
      {"SinBackward", GD_FORWARD(return sin(x[0]))},
      {"CosBackward", GD_FORWARD(return cos(x[0]))},
      {"TanBackward", GD_FORWARD(return tan(x[0]))},
      {"TanhBackward", GD_FORWARD(return tanh(x[0]))},
      {"SinhBackward", GD_FORWARD(return sinh(x[0]))},
      {"CoshBackward", GD_FORWARD(return cosh(x[0]))},
      {"SigmoidBackward", GD_FORWARD(return sigmoid(x[0]))},
      {"ReluBackward", GD_FORWARD(return relu(x[0]))},
      {"ClampBackward", GD_FORWARD(return clamp(x[0], bound(a, 0), bound(a, 1)))},
      // reduction.cpp
      {"SumBackward", GD_FORWARD(return reduce(&sum, x, a, shape))},
      {"MeanBackward", GD_FORWARD(return reduce(&mean, x, a, shape))},
      {"AmaxBackward", GD_FORWARD(return reduce(&amax, x, a, shape))},
      {"AminBackward", GD_FORWARD(return reduce(&amin, x, a, shape))},
      // matmul.cpp, loss.cpp, conv.cpp, pool.cpp
      {"MmBackward", GD_FORWARD(return mm(x[0], x[1]))},
      {"BmmBackward", GD_FORWARD(return bmm(x[0], x[1]))},
      {"MseLossBackward", GD_FORWARD(return mse_loss(x[0], x[1], static_cast<Reduction>(a.ints[0])))},
      {"Conv2dBackward",
       GD_FORWARD(return conv2d(x[0], x[1], x[2], {a.ints[0], a.ints[1]}, {a.ints[2], a.ints[3]}))},
      // max_pool2d records (kernel, stride, padding) as six ints; older builds recorded none.
      {"MaxPool2dBackward", GD_FORWARD(if (a.ints.size() != 6) throw std::logic_error("max_pool2d: no geometry");
                                       return max_pool2d(x[0], {a.ints[0], a.ints[1]}, {a.ints[2], a.ints[3]},
                                                         {a.ints[4], a.ints[5]}).values)},
      // avg_pool.cpp: (kernel, stride, padding, count_include_pad) and the input shape
      {"AvgPool2dBackward", GD_FORWARD(return avg_pool2d(x[0], {a.ints[0], a.ints[1]}, {a.ints[2], a.ints[3]},
                                                         {a.ints[4], a.ints[5]}, a.ints[6] != 0))},
      {"AvgPool2dAdjointBackward",
       GD_FORWARD(return avg_pool2d_backward(x[0], a.shape, {a.ints[0], a.ints[1]}, {a.ints[2], a.ints[3]},
                                             {a.ints[4], a.ints[5]}, a.ints[6] != 0))},
      // views.cpp: the output shape (fixed for a signature) says everything a view needs.
      {"ReshapeBackward", GD_FORWARD(return reshape(x[0], shape))},
      {"ViewBackward", GD_FORWARD(return view(x[0], shape))},
      {"SqueezeBackward", GD_FORWARD(return view(x[0], shape))},
      {"UnsqueezeBackward", GD_FORWARD(return view(x[0], shape))},
      {"PermuteBackward", GD_FORWARD(return permute(x[0], a.ints))},
      {"TransposeBackward", GD_FORWARD(return transpose(x[0], a.ints[0], a.ints[1]))},
      {"ExpandBackward", GD_FORWARD(return expand(x[0], shape))},
      {"CloneBackward", GD_FORWARD(return clone(x[0]))},
      {"ToCopyBackward", GD_FORWARD(return to_dtype(x[0], dtype))},
      // indexing.cpp, advanced_index.cpp, gather_scatter.cpp, sort.cpp: index tensors are inputs
      {"IndexBackward", GD_FORWARD(return basic_index(x[0], a.ints))},
      {"IndexSelectBackward", GD_FORWARD(return index_select(x[0], a.ints[0], x[1]))},
      {"CopySlicesBackward", GD_FORWARD(return copy_slices(x[0], a.ints, x[1]))},
      {"IndexTensorsBackward", GD_FORWARD(return index_tensors(x[0], In(x.begin() + 1, x.end())))},
      {"IndexPutBackward", GD_FORWARD(return index_put(x[0], In(x.begin() + 2, x.end()), x[1], a.ints[0] != 0))},
      {"GatherBackward", GD_FORWARD(return gather(x[0], a.ints[0], x[1]))},
      {"ScatterBackward", GD_FORWARD(return scatter(x[0], a.ints[0], x[1], x[2],
                                                    a.ints[1] == 2 ? ScatterReduce::Multiply : ScatterReduce::None))},
      {"ScatterAddBackward", GD_FORWARD(return scatter_add(x[0], a.ints[0], x[1], x[2]))},
      {"IndexAddBackward", GD_FORWARD(return index_add(x[0], a.ints[0], x[2], x[1], 1.0, a.ints[1] != 0))},
      {"SortIndices", GD_FORWARD(return sort_indices(x[0], a.ints[0], a.ints[1] != 0, a.ints[2]))},
      {"Argmax", GD_FORWARD(return argmax(x[0], a.ints[0], a.ints[1] != 0))},
      {"Argmin", GD_FORWARD(return argmin(x[0], a.ints[0], a.ints[1] != 0))},
      // join.cpp
      {"CatBackward", GD_FORWARD(return cat(x, a.ints[0]))},
      // compare.cpp, logical.cpp, where.cpp: bool results (recorded without a graph node)
      {"Gt", GD_FORWARD(return gt(x[0], x[1]))},
      {"Ge", GD_FORWARD(return ge(x[0], x[1]))},
      {"Lt", GD_FORWARD(return lt(x[0], x[1]))},
      {"Le", GD_FORWARD(return le(x[0], x[1]))},
      {"Eq", GD_FORWARD(return eq(x[0], x[1]))},
      {"Ne", GD_FORWARD(return ne(x[0], x[1]))},
      {"Sign", GD_FORWARD(return sign(x[0]))},
      {"IsNan", GD_FORWARD(return isnan(x[0]))},
      {"IsInf", GD_FORWARD(return isinf(x[0]))},
      {"IsFinite", GD_FORWARD(return isfinite(x[0]))},
      {"LogicalAnd", GD_FORWARD(return logical_and(x[0], x[1]))},
      {"LogicalOr", GD_FORWARD(return logical_or(x[0], x[1]))},
      {"LogicalXor", GD_FORWARD(return logical_xor(x[0], x[1]))},
      {"LogicalNot", GD_FORWARD(return logical_not(x[0]))},
      {"BitwiseAnd", GD_FORWARD(return bitwise_and(x[0], x[1]))},
      {"BitwiseOr", GD_FORWARD(return bitwise_or(x[0], x[1]))},
      {"BitwiseXor", GD_FORWARD(return bitwise_xor(x[0], x[1]))},
      {"BitwiseNot", GD_FORWARD(return bitwise_not(x[0]))},
      {"Any", GD_FORWARD(return any(x[0], a.ints, a.reals[0] != 0.0))},
      {"All", GD_FORWARD(return all(x[0], a.ints, a.reals[0] != 0.0))},
      {"CountNonzero", GD_FORWARD(return count_nonzero(x[0], a.ints))},
      {"WhereBackward", GD_FORWARD(return where(x[2], x[0], x[1]))},
      // ops_math.hpp: softmax.cpp, norms.cpp, scan.cpp, rounding.cpp, special.cpp, cross_entropy.cpp
      // (a reduction kept its dims when the output has the input's rank and the keepdim shape)
      {"SoftmaxBackward", GD_FORWARD(return softmax(x[0], a.ints[0]))},
      {"LogSoftmaxBackward", GD_FORWARD(return log_softmax(x[0], a.ints[0]))},
      {"LogsumexpBackward", GD_FORWARD(return logsumexp(x[0], a.ints, shape == a.shape && shape.size() == x[0].shape().size()))},
      {"NormBackward", GD_FORWARD(return vector_norm(x[0], a.reals[0], a.ints, shape == a.shape && shape.size() == x[0].shape().size()))},
      {"CumsumBackward", GD_FORWARD(return cumsum(x[0], a.ints[0], a.ints[1] != 0))},
      {"ProdBackward", GD_FORWARD(return prod(x[0], a.ints[0], shape.size() == x[0].shape().size()))},
      {"FloorBackward", GD_FORWARD(return floor(x[0]))},
      {"CeilBackward", GD_FORWARD(return ceil(x[0]))},
      {"RoundBackward", GD_FORWARD(return round(x[0]))},
      {"TruncBackward", GD_FORWARD(return trunc(x[0]))},
      {"ErfBackward", GD_FORWARD(return erf(x[0]))},
      {"ErfinvBackward", GD_FORWARD(return erfinv(x[0]))},
      {"Log1pBackward", GD_FORWARD(return log1p(x[0]))},
      {"Expm1Backward", GD_FORWARD(return expm1(x[0]))},
      {"Log2Backward", GD_FORWARD(return log2(x[0]))},
      {"Log10Backward", GD_FORWARD(return log10(x[0]))},
      {"RsqrtBackward", GD_FORWARD(return rsqrt(x[0]))},
      {"ReciprocalBackward", GD_FORWARD(return reciprocal(x[0]))},
      {"CrossEntropyLossBackward", GD_FORWARD(return cross_entropy(x[0], x[1], x.size() > 2 ? x[2] : Tensor(), a.ints[1],
                                                                  a.reals[0], static_cast<Reduction>(a.ints[0])))},
      {"NllLossBackward", GD_FORWARD(return nll_loss(x[0], x[1], x.size() > 2 ? x[2] : Tensor(), a.ints[1],
                                                     static_cast<Reduction>(a.ints[0])))},
      {"BinaryCrossEntropyBackward", GD_FORWARD(return binary_cross_entropy(x[0], x[1], x.size() > 2 ? x[2] : Tensor(),
                                                                            static_cast<Reduction>(a.ints[0])))},
      // ops_pointwise.hpp: remainder.cpp, inverse_trig.cpp
      {"RemainderBackward", GD_FORWARD(return remainder(x[0], x[1]))},
      {"FmodBackward", GD_FORWARD(return fmod(x[0], x[1]))},
      {"FloorDivideBackward", GD_FORWARD(return floor_divide(x[0], x[1]))},
      {"AsinBackward", GD_FORWARD(return asin(x[0]))},
      {"AcosBackward", GD_FORWARD(return acos(x[0]))},
      {"AtanBackward", GD_FORWARD(return atan(x[0]))},
      {"AsinhBackward", GD_FORWARD(return asinh(x[0]))},
      {"AcoshBackward", GD_FORWARD(return acosh(x[0]))},
      {"AtanhBackward", GD_FORWARD(return atanh(x[0]))},
      {"Exp2Backward", GD_FORWARD(return exp2(x[0]))},
      {"Atan2Backward", GD_FORWARD(return atan2(x[0], x[1]))},
      {"HypotBackward", GD_FORWARD(return hypot(x[0], x[1]))},
      {"SearchSorted", GD_FORWARD(return searchsorted(x[0], x[1], a.ints[0] != 0, a.ints[1] != 0))},
  };
  return t;
}

// Ops whose entry above recomputes everything from the replayed inputs (never from the captured
// output shape or a captured index normalised against the input's size), so they may read a tensor
// whose size depends on the values (x[mask], nonzero, ...; see capture.hpp). Reductions qualify:
// their keepdim test compares two captured shapes with each other, not with the input's.
// Not here: reshape, view, squeeze, unsqueeze, expand (the captured shape), basic indexing and
// copy_slices (items normalised against the captured size), avg_pool2d's adjoint (the input shape).
const std::unordered_set<std::string>& any_size() {
  static const std::unordered_set<std::string> s = {
      "AddBackward", "SubBackward", "MulBackward", "DivBackward", "PowBackward0", "PowBackward1", "NegBackward",
      "MaximumBackward", "MinimumBackward", "AbsBackward", "ExpBackward", "LogBackward", "SqrtBackward",
      "SinBackward", "CosBackward", "TanBackward", "TanhBackward", "SinhBackward", "CoshBackward",
      "SigmoidBackward", "ReluBackward", "ClampBackward", "SumBackward", "MeanBackward", "AmaxBackward",
      "AminBackward", "MmBackward", "BmmBackward", "MseLossBackward", "Conv2dBackward", "MaxPool2dBackward",
      "AvgPool2dBackward", "PermuteBackward", "TransposeBackward", "CloneBackward", "ToCopyBackward",
      "IndexSelectBackward", "IndexTensorsBackward", "IndexPutBackward", "GatherBackward", "ScatterBackward",
      "ScatterAddBackward", "IndexAddBackward", "SortIndices", "Argmax", "Argmin", "CatBackward", "Gt", "Ge", "Lt",
      "Le", "Eq", "Ne", "Sign", "IsNan", "IsInf", "IsFinite", "LogicalAnd", "LogicalOr", "LogicalXor", "LogicalNot",
      "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot", "Any", "All", "CountNonzero", "WhereBackward",
      "SoftmaxBackward", "LogSoftmaxBackward", "LogsumexpBackward", "NormBackward", "CumsumBackward", "ProdBackward",
      "FloorBackward", "CeilBackward", "RoundBackward", "TruncBackward", "ErfBackward", "ErfinvBackward",
      "Log1pBackward", "Expm1Backward", "Log2Backward", "Log10Backward", "RsqrtBackward", "ReciprocalBackward",
      "CrossEntropyLossBackward", "NllLossBackward", "BinaryCrossEntropyBackward"};
  return s;
}

}  // namespace

ForwardFn find_forward(const char* op_name) {
  auto it = table().find(op_name);
  return it == table().end() ? nullptr : it->second;
}

bool replays_at_any_size(const char* op_name) { return any_size().count(op_name) != 0; }

// (index_put writes into a copy of its first input: x.index_put((rows,), v) has x's shape for any rows.)
bool keeps_first_input_shape(const char* op_name) {
  const std::string n = op_name;
  return n == "IndexPutBackward" || n == "ScatterBackward" || n == "ScatterAddBackward" || n == "IndexAddBackward";
}

}  // namespace gdcore::capture
