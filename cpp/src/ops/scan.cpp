// cumsum and prod along a dim. cumsum's adjoint is the same scan run from the other end, so
// its backward is cumsum(g, reverse) and every derivative order follows. prod's gradient is
// the product of the other elements: out / a where no element is zero, and where one is, the
// exclusive products themselves (written with prod again when a graph of the backward is
// being recorded, so second derivatives stay exact at zeros too).
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "gdcore/grad_mode.hpp"
#include "gdcore/ops_math.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

// `a` as a contiguous tensor of dtype `dt` seen as (outer, len, inner) around dim `d`.
struct Lanes {
  Tensor x;
  int64_t outer = 1, len = 1, inner = 1;
};
Lanes lanes(const Tensor& a, int64_t d, DType dt) {
  Lanes r;
  r.x = cast_data(a, dt).contiguous();
  for (int64_t k = 0; k < a.dim(); ++k) {
    if (k < d) r.outer *= a.shape()[k];
    else if (k > d) r.inner *= a.shape()[k];
    else r.len = a.shape()[k];
  }
  return r;
}

std::vector<Tensor> cumsum_backward(Node& n, const Tensor& g) {
  return {cumsum(g, n.attrs.ints[0], n.attrs.ints[1] == 0)};
}
const OpDef kCumsum{"CumsumBackward", cumsum_backward};

// a * b, spelled as `and` for bool (the product of bools; `*` on bool is a compiler warning).
template <typename T>
T times(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) return a && b;
  else return a * b;
}

// The products of all elements but one along the middle axis (no division: exact with zeros).
template <typename T>
void exclusive_products(const T* x, T* o, int64_t outer, int64_t len, int64_t inner) {
  for (int64_t b = 0; b < outer; ++b)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = b * len * inner + i;
      T left = 1;
      for (int64_t k = 0; k < len; ++k) {
        o[base + k * inner] = left;
        left = times(left, x[base + k * inner]);
      }
      T right = 1;
      for (int64_t k = len - 1; k >= 0; --k) {
        o[base + k * inner] = times(o[base + k * inner], right);
        right = times(right, x[base + k * inner]);
      }
    }
}

std::vector<Tensor> prod_backward(Node& n, const Tensor& g) {
  Tensor a = n.saved_tensor(0), out = n.saved_tensor(1);
  const int64_t d = n.attrs.ints[0];
  const Shape& keep = n.attrs.shape;
  Tensor gk = expand(reshape(g, keep), a.shape());
  // Which formula applies depends on the values (a replay could not repeat that choice).
  trace::unsupported("prod's backward (it checks the input for zeros)");
  Tensor x = a.detach();
  const bool has_zero = sum(compare(x, scalar_tensor(0.0, x.dtype()), CompareOp::Eq)).item() > 0;
  if (!has_zero) return {mul(gk, div(expand(reshape(out, keep), a.shape()), a))};
  if (GradMode::is_enabled()) {
    // create_graph: row j of an (.., len, len, ..) stack holds a with its j-th element replaced
    // by 1; its product along the new axis is the exclusive product, differentiable by prod.
    const int64_t len = a.shape()[d];
    Tensor e = eye(len, len, a.dtype());
    Shape eshape(a.dim() + 1, 1);
    eshape[d] = len;
    eshape[d + 1] = len;
    Tensor em = reshape(e, eshape);
    Tensor stackd = unsqueeze(a, d);  // (.., 1, len, ..): broadcast over the new axis d
    Tensor replaced = add(mul(stackd, sub(scalar_tensor(1.0, a.dtype()), em)), em);
    return {mul(gk, prod(replaced, d + 1, false))};
  }
  Lanes l = lanes(x, d, x.dtype());
  Tensor ex = Tensor::empty(a.shape(), a.dtype());
  GD_DISPATCH_ALL(a.dtype(), "prod", [&] {
    exclusive_products(l.x.data<scalar_t>(), ex.data<scalar_t>(), l.outer, l.len, l.inner);
  });
  return {mul(gk, ex)};
}
const OpDef kProd{"ProdBackward", prod_backward};

}  // namespace

Tensor cumsum(const Tensor& a, int64_t dim, bool reverse) {
  if (!a.defined()) throw std::invalid_argument("cumsum: got an undefined tensor");
  const int64_t d = wrap_dim(dim, a.dim(), "cumsum");
  if (a.dim() == 0) {
    Tensor out = a.clone_data();
    if (auto node = record(kCumsum, {a}, out)) node->attrs.ints = {0, reverse};
    return out;
  }
  Lanes l = lanes(a, d, a.dtype());
  Tensor out = Tensor::empty(a.shape(), a.dtype());
  GD_DISPATCH_ALL(a.dtype(), "cumsum", [&] {
    using A = std::conditional_t<std::is_floating_point_v<scalar_t>, double, int64_t>;
    const scalar_t* x = l.x.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    trace::launch([x, o, outer = l.outer, len = l.len, inner = l.inner, reverse,
                   acc = std::vector<A>(static_cast<size_t>(l.inner))]() mutable {
      for (int64_t b = 0; b < outer; ++b) {
        std::fill(acc.begin(), acc.end(), A(0));
        for (int64_t s = 0; s < len; ++s) {
          const int64_t k = reverse ? len - 1 - s : s;
          const int64_t base = (b * len + k) * inner;
          for (int64_t i = 0; i < inner; ++i) {
            acc[i] += static_cast<A>(x[base + i]);
            o[base + i] = static_cast<scalar_t>(acc[i]);
          }
        }
      }
    });
  });
  if (auto node = record(kCumsum, {a}, out)) node->attrs.ints = {d, reverse};
  return out;
}

Tensor prod(const Tensor& a, std::optional<int64_t> dim, bool keepdim) {
  if (!a.defined()) throw std::invalid_argument("prod: got an undefined tensor");
  if (!dim) {
    // Over all elements: the product along dim 0 of the flattened tensor, a 0-d result.
    Tensor flat = reshape(a, {-1});
    Tensor p = prod(flat, 0, false);
    return keepdim ? reshape(p, Shape(a.dim(), 1)) : p;
  }
  const int64_t d = wrap_dim(*dim, a.dim(), "prod");
  if (a.dim() == 0) return prod(reshape(a, {1}), 0, false);  // a 0-d tensor: its one element
  Lanes l = lanes(a, d, a.dtype());
  Shape keep = a.shape();
  keep[d] = 1;
  Shape out_shape = keep;
  if (!keepdim) out_shape.erase(out_shape.begin() + d);
  Tensor out = Tensor::empty(out_shape, a.dtype());
  GD_DISPATCH_ALL(a.dtype(), "prod", [&] {
    using A = std::conditional_t<std::is_floating_point_v<scalar_t>, double, int64_t>;
    const scalar_t* x = l.x.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    trace::launch([x, o, outer = l.outer, len = l.len, inner = l.inner,
                   acc = std::vector<A>(static_cast<size_t>(l.inner))]() mutable {
      for (int64_t b = 0; b < outer; ++b) {
        std::fill(acc.begin(), acc.end(), A(1));
        for (int64_t k = 0; k < len; ++k)
          for (int64_t i = 0; i < inner; ++i) acc[i] *= static_cast<A>(x[(b * len + k) * inner + i]);
        for (int64_t i = 0; i < inner; ++i) o[b * inner + i] = static_cast<scalar_t>(acc[i]);
      }
    });
  });
  if (auto node = record(kProd, {a}, out)) {
    node->attrs.ints = {d};
    node->attrs.shape = keep;
    save(*node, a);
    save(*node, out, /*is_output=*/true);
  }
  return out;
}

}  // namespace gdcore
