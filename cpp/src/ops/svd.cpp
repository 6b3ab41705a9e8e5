// linalg.svd and linalg.svdvals. The forward runs LAPACK's gesdd per matrix (kernels/svd.cpp);
// the three outputs belong to one node, a CustomFunction implemented here in C++ (the same
// several-output node kind that carries Python's autograd.Function), whose backward is torch's
// svd_backward written with differentiable ops, so second derivatives follow. gdcore.compile
// records an SVD as one entry that runs it again at each replay (op by op, never lowered:
// LAPACK's loops are not traced).
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gdcore/capture.hpp"
#include "gdcore/custom_function.hpp"
#include "gdcore/grad_mode.hpp"
#include "gdcore/kernel_trace.hpp"
#include "gdcore/linalg.hpp"
#include "kernels/svd.hpp"

namespace gdcore {

namespace {

Tensor mT(const Tensor& x) { return transpose(x, -2, -1); }

// x[..., :k] (last_dim) or x[..., :k, :] (the one before).
Tensor narrow_to(const Tensor& x, int64_t k, bool last_dim) {
  std::vector<IndexItem> items(1);
  items[0].kind = IndexItem::Ellipsis;
  IndexItem cut;
  cut.kind = IndexItem::Slice;
  cut.start = 0;
  cut.stop = k;
  items.push_back(cut);
  if (!last_dim) {
    IndexItem all;
    all.kind = IndexItem::Slice;
    items.push_back(all);
  }
  return index(x, items);
}

// torch's svd_backward for real matrices (U, S, Vh reduced to k = min(m, n) columns / rows).
// Off the diagonal, the gradient of A's factors is (U^T gU - gU^T U) S + S (Vh gVh^T - gVh Vh^T)
// divided by E_ij = s_j^2 - s_i^2; gS fills the diagonal; for m != n, the part of gU (gVh)
// outside U's (Vh's) span adds (I - U U^T) gU S^-1 (and its transpose counterpart).
Tensor svd_backward(const Tensor& gU, const Tensor& gS, const Tensor& gVh, const Tensor& U, const Tensor& S,
                    const Tensor& Vh) {
  const int64_t m = U.shape()[U.dim() - 2], n = Vh.shape()[Vh.dim() - 1], k = S.shape()[S.dim() - 1];
  if (!gU.defined() && !gVh.defined()) {
    if (!gS.defined()) return Tensor();
    return m >= n ? matmul(U, mul(unsqueeze(gS, -1), Vh)) : matmul(mul(U, unsqueeze(gS, -2)), Vh);
  }
  auto skew = [](const Tensor& X) { return sub(X, mT(X)); };
  const Tensor S2 = mul(S, S);
  const Tensor I = eye(k, k, S.dtype());
  // E_ij = s_j^2 - s_i^2 off the diagonal; 1 on it (where the numerators below are 0).
  const Tensor E = add(sub(unsqueeze(S2, -2), unsqueeze(S2, -1)), I);
  Tensor inner;
  if (gU.defined() && gVh.defined())
    inner = div(add(mul(skew(matmul(mT(U), gU)), unsqueeze(S, -2)), mul(unsqueeze(S, -1), skew(matmul(Vh, mT(gVh))))), E);
  else if (gU.defined())
    inner = div(mul(skew(matmul(mT(U), gU)), unsqueeze(S, -2)), E);
  else
    inner = div(mul(unsqueeze(S, -1), skew(matmul(Vh, mT(gVh)))), E);
  if (gS.defined()) inner = add(inner, mul(unsqueeze(gS, -1), I));
  if (m > n && gU.defined()) {
    Tensor gA = matmul(U, inner);
    const Tensor gUSinv = div(gU, unsqueeze(S, -2));
    gA = sub(add(gA, gUSinv), matmul(U, matmul(mT(U), gUSinv)));
    return matmul(gA, Vh);
  }
  if (m < n && gVh.defined()) {
    Tensor gA = matmul(inner, Vh);
    const Tensor SinvgVh = div(gVh, unsqueeze(S, -1));
    gA = sub(add(gA, SinvgVh), matmul(matmul(SinvgVh, mT(Vh)), Vh));
    return matmul(U, gA);
  }
  return m >= n ? matmul(U, matmul(inner, Vh)) : matmul(matmul(U, inner), Vh);
}

// The node of one SVD: saves its outputs (U, S, Vh) on the node, so that a recorded backward
// (create_graph) differentiates through them again and backward frees them as for any node.
class SvdFunction final : public CustomFunction {
 public:
  explicit SvdFunction(bool full_matrices) : CustomFunction("LinalgSvdBackward"), full_(full_matrices) {}

  std::vector<Tensor> backward(const std::shared_ptr<Node>& node, std::vector<Tensor> g, bool) override {
    std::vector<Tensor> out(3);
    for (size_t i = 0; i < 3; ++i) {
      out[i] = node->saved_tensor(i);
      out[i].impl()->output_nr = static_cast<uint32_t>(i);  // (re-attached as output i, not 0)
    }
    const int64_t k = out[1].shape()[out[1].dim() - 1];
    g.resize(3);
    Tensor U = out[0], Vh = out[2], gU = g[0], gVh = g[2];
    if (full_) {  // only the first k columns of U (rows of Vh) are determined by A; the rest is ignored
      U = narrow_to(U, k, true);
      Vh = narrow_to(Vh, k, false);
      if (gU.defined()) gU = narrow_to(gU, k, true);
      if (gVh.defined()) gVh = narrow_to(gVh, k, false);
    }
    return {svd_backward(gU, g[1], gVh, U, out[1], Vh)};
  }

 private:
  bool full_;
};

[[noreturn]] void fail(const char* op, const std::string& why) { throw std::invalid_argument(std::string(op) + ": " + why); }

// The factors of every matrix of A (U and Vh undefined for SvdVectors::None).
SvdResult svd_forward(const Tensor& A, kernels::SvdVectors vectors, const char* op) {
  if (!A.defined()) fail(op, "got an undefined tensor");
  if (A.dim() < 2) fail(op, "the input tensor A must have at least 2 dimensions, got shape " + shape_str(A.shape()));
  if (!is_floating(A.dtype()))
    fail(op, std::string("expected a floating point tensor as input, got ") + dtype_name(A.dtype()) +
                 "; convert it with .double() or .float()");
  capture::PauseGuard no_capture;  // the copies below are the op's own business
  const Tensor x = contiguous(A.detach());
  const Shape& shape = x.shape();
  const int64_t m = shape[shape.size() - 2], n = shape[shape.size() - 1], k = std::min(m, n);
  const Shape batch(shape.begin(), shape.end() - 2);
  int64_t count = 1;
  for (int64_t b : batch) count *= b;
  const bool full = vectors == kernels::SvdVectors::Full, uv = vectors != kernels::SvdVectors::None;
  auto with = [&batch](std::initializer_list<int64_t> tail) {
    Shape s = batch;
    s.insert(s.end(), tail);
    return s;
  };
  SvdResult r;
  r.S = Tensor::empty(with({k}), A.dtype());
  if (uv) {
    r.U = Tensor::empty(with({m, full ? m : k}), A.dtype(), /*zero=*/true);
    r.Vh = Tensor::empty(with({full ? n : k, n}), A.dtype(), /*zero=*/true);
  }
  GD_DISPATCH_FLOAT(A.dtype(), op, [&] {
    const scalar_t* src = x.data<scalar_t>();
    for (int64_t j = 0; j < m * n * count; ++j)
      if (!std::isfinite(src[j]))
        throw std::runtime_error(std::string(op) + ": the algorithm failed to converge because the input matrix "
                                 "contained non-finite values");
    std::vector<scalar_t> work(static_cast<size_t>(m * n));
    const int64_t usize = uv ? m * r.U.shape().back() : 0, vsize = uv ? r.Vh.shape()[r.Vh.dim() - 2] * n : 0;
    for (int64_t b = 0; b < count; ++b) {
      scalar_t* u = uv ? r.U.data<scalar_t>() + b * usize : nullptr;
      scalar_t* vt = uv ? r.Vh.data<scalar_t>() + b * vsize : nullptr;
      if (k == 0) {  // LAPACK returns at once for an empty matrix; torch's full factors are identities
        if (full) {
          for (int64_t i = 0; i < m; ++i) u[i * m + i] = 1;
          for (int64_t i = 0; i < n; ++i) vt[i * n + i] = 1;
        }
        continue;
      }
      std::copy(src + b * m * n, src + (b + 1) * m * n, work.begin());
      const int64_t info = kernels::svd<scalar_t>(m, n, work.data(), r.S.data<scalar_t>() + b * k, u, vt, vectors);
      if (info > 0)
        throw std::runtime_error(std::string(op) + ": the algorithm failed to converge because the input matrix is "
                                 "ill-conditioned or has too many repeated singular values (error code: " +
                                 std::to_string(info) + ")");
      if (info < 0)
        throw std::logic_error(std::string("internal error: gesdd rejected argument ") + std::to_string(-info));
    }
  });
  return r;
}

constexpr const char* kNotLowered = "LAPACK's gesdd, whose loops gdcore.compile does not trace; it runs again at every replay";

std::vector<Tensor> as_list(const SvdResult& r) { return {r.U, r.S, r.Vh}; }

}  // namespace

SvdResult linalg_svd(const Tensor& A, bool full_matrices) {
  SvdResult r = svd_forward(A, full_matrices ? kernels::SvdVectors::Full : kernels::SvdVectors::Reduced, "linalg.svd");
  if (trace::active()) trace::unsupported("linalg.svd (LAPACK's loops are not traced)");
  auto fn = std::make_shared<SvdFunction>(full_matrices);
  auto again = [full_matrices](const std::vector<Tensor>& in) { return as_list(linalg_svd(in[0], full_matrices)); };
  std::shared_ptr<Node> node;
  {
    capture::PauseGuard as_one_entry;  // recorded below, with the reason it is not lowered
    node = record_function(fn, {A}, as_list(r), {true, true, true}, again);
  }
  capture::on_function("LinalgSvd", {A}, as_list(r), again, kNotLowered);
  if (node) {
    save(*node, r.U, true);
    save(*node, r.S, true);
    save(*node, r.Vh, true);
  }
  return r;
}

Tensor svdvals(const Tensor& A) {
  // With a gradient to come, the vectors are needed anyway (the backward is U diag(g) Vh): the
  // SVD's node, of which the caller sees S only.
  if (GradMode::is_enabled() && A.defined() && A.requires_grad()) return linalg_svd(A, false).S;
  SvdResult r = svd_forward(A, kernels::SvdVectors::None, "linalg.svdvals");
  if (trace::active()) trace::unsupported("linalg.svdvals (LAPACK's loops are not traced)");
  capture::on_function("LinalgSvdvals", {A}, {r.S},
                       [](const std::vector<Tensor>& in) { return std::vector<Tensor>{svdvals(in[0])}; }, kNotLowered);
  return r.S;
}

}  // namespace gdcore
