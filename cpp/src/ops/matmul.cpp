// mm and bmm are the primitive products (with their backward rules); matmul maps
// numpy's matmul semantics (vectors, matrices, broadcast batches) onto them.
#include "gdcore/small_mm.hpp"
#include "kernels/gemm.hpp"
#include "kernels/tiny_products.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

void check_same_float(const Tensor& a, const Tensor& b, const char* name) {
  if (a.dtype() != b.dtype())
    throw std::invalid_argument(std::string(name) + ": dtypes " + dtype_name(a.dtype()) + " and " +
                                dtype_name(b.dtype()) + " differ; convert one with .to(dtype) (or .float()/.double())");
  if (!is_floating(a.dtype()))
    throw std::invalid_argument(std::string(name) + ": expected float32 or float64 tensors, got int64; convert with .float()");
}

void check_inner(const Tensor& a, const Tensor& b, int64_t ka, int64_t kb, const char* name) {
  if (ka != kb)
    throw std::invalid_argument(std::string(name) + ": shapes " + shape_str(a.shape()) + " and " +
                                shape_str(b.shape()) + " do not align: " + std::to_string(ka) + " != " + std::to_string(kb));
}

// C[b] = A[b] @ B[b] for each of `batch` matrices laid out by the given strides. The
// kernel reads A and B through their strides (transposed views need no copy).
template <typename T>
void batched_gemm(const Tensor& a, const Tensor& b, Tensor& out, int64_t batch) {
  const int nd = static_cast<int>(a.dim());
  const int64_t m = a.shape()[nd - 2], k = a.shape()[nd - 1], n = b.shape()[nd - 1];
  const int64_t a_batch = nd == 3 ? a.strides()[0] : 0, b_batch = nd == 3 ? b.strides()[0] : 0;
  const kernels::MatrixRef<T> ra{a.data<T>(), a.strides()[nd - 2], a.strides()[nd - 1]};
  const kernels::MatrixRef<T> rb{b.data<T>(), b.strides()[nd - 2], b.strides()[nd - 1]};
  T* c = out.data<T>();
  const kernels::GemmPath path = kernels::gemm_path(m, n, k, rb.col_stride);  // (decided once for a lowered step)
  if (batch == 1 && path == kernels::GemmPath::Small) {
    trace::launch([=] { kernels::gemm_small<T>(m, n, k, ra, rb, c, n); });
    return;
  }
  if (batch == 1 && path == kernels::GemmPath::Plain) {
    // A dot product or a column times a number of at most 32 elements: the same body as
    // gemm_plain's with the size fixed (kernels/tiny_products.hpp), for per-sample steps.
    if (const kernels::TinyProduct<T> tiny = kernels::tiny_product<T>(m, n, k, ra, rb, n)) {
      trace::launch_direct([tiny, a = ra.data, b = rb.data, c] { tiny(a, b, c); });
      return;
    }
    trace::launch([=] { kernels::gemm_plain<T>(m, n, k, ra, rb, c, n); });
    return;
  }
  trace::launch([=] {
    for (int64_t i = 0; i < batch; ++i)
      kernels::gemm<T>(m, n, k, {ra.data + i * a_batch, ra.row_stride, ra.col_stride},
                       {rb.data + i * b_batch, rb.row_stride, rb.col_stride}, c + i * m * n, n);
  });
}

// b is the transpose of a contiguous matrix (x @ w.t(), a Linear layer's weight).
bool transposed_contiguous(const Tensor& b) {
  return b.dim() == 2 && b.shape()[0] > 1 && b.shape()[1] > 1 && b.strides()[0] == 1 &&
         b.strides()[1] == b.shape()[0];
}

std::vector<Tensor> mm_backward(Node& n, const Tensor& g) {
  const Tensor& a = n.saved_tensor(0);
  const Tensor& b = n.saved_tensor(1);
  // For b = w.t(), b's gradient a^T @ g comes as (g^T @ a)^T, as in torch: the same sums, and the
  // transpose back to w's layout is then contiguous, so w.grad takes it without a strided copy.
  // (On the small-product kernel the bits are the same too: each entry is one chain over a's rows.)
  return {GD_GRAD_IF(n, 0, mm(g, transpose(b, 0, 1))),
          GD_GRAD_IF(n, 1, transposed_contiguous(b) ? transpose(mm(transpose(g, 0, 1), a), 0, 1)
                                                    : mm(transpose(a, 0, 1), g))};
}
const OpDef kMm{"MmBackward", mm_backward};

std::vector<Tensor> bmm_backward(Node& n, const Tensor& g) {
  return {GD_GRAD_IF(n, 0, bmm(g, transpose(n.saved_tensor(1), 1, 2))),
          GD_GRAD_IF(n, 1, bmm(transpose(n.saved_tensor(0), 1, 2), g))};
}
const OpDef kBmm{"BmmBackward", bmm_backward};

}  // namespace

Tensor mm(const Tensor& a, const Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2)
    throw std::invalid_argument("mm: expected two 2-d tensors, got shapes " + shape_str(a.shape()) + " and " +
                                shape_str(b.shape()) + "; use matmul for vectors and batches");
  check_same_float(a, b, "mm");
  check_inner(a, b, a.shape()[1], b.shape()[0], "mm");
  Tensor out = Tensor::empty({a.shape()[0], b.shape()[1]}, a.dtype());
  GD_DISPATCH_FLOAT(a.dtype(), "mm", [&] { batched_gemm<scalar_t>(a, b, out, 1); });
  if (auto node = record(kMm, {a, b}, out)) {
    save(*node, a);
    save(*node, b);
  }
  return out;
}

Tensor small_mm_for_tests(const Tensor& a, const Tensor& b, const Tensor* out) {
  if (a.dim() != 2 || b.dim() != 2)
    throw std::invalid_argument("_small_mm: expected two 2-d tensors, got shapes " + shape_str(a.shape()) + " and " +
                                shape_str(b.shape()));
  check_same_float(a, b, "_small_mm");
  check_inner(a, b, a.shape()[1], b.shape()[0], "_small_mm");
  const Shape shape{a.shape()[0], b.shape()[1]};
  if (out && (out->shape() != shape || out->dtype() != a.dtype() || !out->is_contiguous()))
    throw std::invalid_argument("_small_mm: out must be a contiguous " + std::string(dtype_name(a.dtype())) +
                                " tensor of shape " + shape_str(shape) + ", got " + shape_str(out->shape()));
  Tensor c = out ? *out : Tensor::empty(shape, a.dtype());
  GD_DISPATCH_FLOAT(a.dtype(), "_small_mm", [&] {
    kernels::gemm_small<scalar_t>(shape[0], shape[1], a.shape()[1], {a.data<scalar_t>(), a.strides()[0], a.strides()[1]},
                                  {b.data<scalar_t>(), b.strides()[0], b.strides()[1]}, c.data<scalar_t>(), shape[1],
                                  out != nullptr);
  });
  return c;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  if (a.dim() != 3 || b.dim() != 3)
    throw std::invalid_argument("bmm: expected two 3-d tensors, got shapes " + shape_str(a.shape()) + " and " +
                                shape_str(b.shape()));
  check_same_float(a, b, "bmm");
  if (a.shape()[0] != b.shape()[0])
    throw std::invalid_argument("bmm: batch sizes differ: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()));
  check_inner(a, b, a.shape()[2], b.shape()[1], "bmm");
  Tensor out = Tensor::empty({a.shape()[0], a.shape()[1], b.shape()[2]}, a.dtype());
  GD_DISPATCH_FLOAT(a.dtype(), "bmm", [&] { batched_gemm<scalar_t>(a, b, out, a.shape()[0]); });
  if (auto node = record(kBmm, {a, b}, out)) {
    save(*node, a);
    save(*node, b);
  }
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.dim() == 0 || b.dim() == 0)
    throw std::invalid_argument("matmul: both arguments need at least 1 dimension, got shapes " + shape_str(a.shape()) +
                                " and " + shape_str(b.shape()) + "; use * for a scalar product");
  check_same_float(a, b, "matmul");
  const int64_t ka = a.shape().back();
  const int64_t kb = b.dim() == 1 ? b.shape()[0] : b.shape()[b.dim() - 2];
  check_inner(a, b, ka, kb, "matmul");
  if (a.dim() == 1 && b.dim() == 1) return reshape(mm(unsqueeze(a, 0), unsqueeze(b, 1)), {});
  if (a.dim() == 2 && b.dim() == 2) return mm(a, b);
  if (a.dim() == 1 && b.dim() == 2) return squeeze(mm(unsqueeze(a, 0), b), 0);
  if (a.dim() == 2 && b.dim() == 1) return squeeze(mm(a, unsqueeze(b, 1)), 1);
  if (b.dim() <= 2) {
    // (..., n, k) @ (k, m) or (k,): fold the batch into the rows of one mm.
    // (Sizes spelled out rather than -1, which reshape cannot infer when a dim is 0.)
    Shape lead(a.shape().begin(), a.shape().end() - 1);
    Tensor rows = reshape(a, {shape_numel(lead), ka});
    Tensor bm = b.dim() == 1 ? unsqueeze(b, 1) : b;
    Tensor prod = mm(rows, bm);
    if (b.dim() == 2) lead.push_back(b.shape()[1]);
    return reshape(prod, lead);
  }
  // General batched case: promote vectors, broadcast the batch dims, run bmm, drop promoted dims.
  Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
  Tensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
  Shape batch_a(a2.shape().begin(), a2.shape().end() - 2), batch_b(b2.shape().begin(), b2.shape().end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(batch_a, batch_b, "matmul");
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("matmul: the batch dimensions of shapes " + shape_str(a.shape()) + " and " +
                                shape_str(b.shape()) + " cannot be broadcast together: " + shape_str(batch_a) +
                                " vs " + shape_str(batch_b));
  }
  const int64_t n = a2.shape()[a2.dim() - 2], m = b2.shape()[b2.dim() - 1];
  Shape ea = batch, eb = batch;
  ea.insert(ea.end(), {n, ka});
  eb.insert(eb.end(), {ka, m});
  const int64_t nbatch = shape_numel(batch);
  Tensor prod = bmm(reshape(expand(a2, ea), {nbatch, n, ka}), reshape(expand(b2, eb), {nbatch, ka, m}));
  Shape out = batch;
  if (a.dim() > 1) out.push_back(n);
  if (b.dim() > 1) out.push_back(m);
  return reshape(prod, out);
}

}  // namespace gdcore
