// The checks behind kernel traces (gdcore/kernel_trace.hpp): which ops a trace may contain.
// An op is listed here only when every loop of its forward and of its backward rule goes
// through launch() and it decides nothing from tensor values; anything else abandons the trace.
#include "gdcore/kernel_trace.hpp"

#include <cstring>
#include <string_view>

#include "gdcore/autograd.hpp"

namespace gdcore::trace {

void unsupported(const char* what) {
  if (KernelTrace* t = active(); t && !t->failure) t->failure = what;
}

void on_op(const OpDef& op) {
  static constexpr std::string_view kLowerable[] = {
      "AddBackward",     "SubBackward",       "MulBackward",       "DivBackward",     "PowBackward0",   "PowBackward1",
      "NegBackward",     "MaximumBackward",   "MinimumBackward",   "AbsBackward",     "ExpBackward",
      "LogBackward",     "SqrtBackward",      "SinBackward",       "CosBackward",     "TanBackward",
      "TanhBackward",    "SinhBackward",      "CoshBackward",      "SigmoidBackward", "ReluBackward",
      "ClampBackward",   "SumBackward",       "MeanBackward",    "AmaxBackward",    "AminBackward",      "MmBackward",      "BmmBackward",
      "MseLossBackward", "ReshapeBackward",   "ViewBackward",      "SqueezeBackward", "UnsqueezeBackward",
      "PermuteBackward", "TransposeBackward", "ExpandBackward",    "CloneBackward",   "ToCopyBackward",
      "Conv2dBackward",  "Conv2dInputGradBackward", "Conv2dWeightGradBackward", "MaxPool2dBackward",
      "Pool2dGatherBackward", "Pool2dScatterAddBackward", "WhereBackward",
      // indexing (their index tensors are op inputs and are checked inside the loops)
      "IndexBackward",   "IndexScatterBackward", "IndexSelectBackward", "CopySlicesBackward",
      "IndexTensorsBackward", "IndexPutBackward", "GatherBackward", "ScatterBackward",
      "ScatterAddBackward", "IndexAddBackward", "SortIndices",
      // Ops without a gradient (recorded by record_value): each loop goes through launch.
      "Gt", "Ge", "Lt", "Le", "Eq", "Ne", "Sign", "IsNan", "IsInf", "IsFinite", "LogicalAnd", "LogicalOr",
      "LogicalXor", "LogicalNot", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot", "Any", "All", "CountNonzero",
      // ops_math.hpp (prod's backward and the rounding ops' zero gradients are not listed)
      "SoftmaxBackward", "LogSoftmaxBackward", "LogsumexpBackward", "NormBackward", "CumsumBackward",
      "ErfBackward", "ErfinvBackward", "Log1pBackward", "Expm1Backward", "Log2Backward", "Log10Backward",
      "RsqrtBackward", "ReciprocalBackward", "CrossEntropyLossBackward", "NllLossBackward",
      "BinaryCrossEntropyBackward",
      "AvgPool2dBackward", "AvgPool2dAdjointBackward",
  };
  if (!active()) return;
  const std::string_view name(op.name);
  for (std::string_view ok : kLowerable)
    if (ok == name) return;
  unsupported(op.name);
}

}  // namespace gdcore::trace
