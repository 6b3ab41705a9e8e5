// The epoch loop of a lowered step (gdcore.compile's run_epoch, see lowered_step.hpp): for each
// batch, the rows named by the epoch's order are copied straight into the traced input buffers
// and the steps run. A per-sample epoch spends a few hundred instructions a row, so everything
// that does not depend on the row is done once per epoch here: the row indices are checked
// before the first step runs (an error never leaves the parameters half trained), each row
// copy is a function fixed to the row's size, and the loss is read from its traced buffer.
//
// Shuffled rows are scattered over the data, one cache miss (or two) per row: the loop asks
// the CPU for the row `ahead` positions further on in the order before it copies the current
// one, so that by the time a row is copied it has been on its way for many rows' work.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "autograd/lowered_step.hpp"

namespace gdcore::capture {

namespace {

// How far ahead rows are requested: about this many bytes of rows in flight, at most this
// many rows, and at least one batch (a batch's work hides the next batch's loads).
constexpr size_t kPrefetchBytes = 4096;
constexpr int64_t kPrefetchRowsMax = 16;

// A row copy of N bytes, unrolled by the compiler (the per-sample rows: 8 and 128 bytes).
template <size_t N>
void copy_fixed(char* dst, const char* src, size_t) {
  std::memcpy(dst, src, N);
}
void copy_any(char* dst, const char* src, size_t bytes) { std::memcpy(dst, src, bytes); }

template <size_t... I>
constexpr auto fixed_copies(std::index_sequence<I...>) {
  return std::array<void (*)(char*, const char*, size_t), sizeof...(I)>{&copy_fixed<8 * (I + 1)>...};
}
constexpr size_t kFixedCopyMax = 256;  // rows of up to this many bytes (a multiple of 8) get a fixed copy

}  // namespace

bool LoweredStep::prepare_rows(const std::vector<Tensor>& data, int64_t batch_size) {
  static constexpr auto copies = fixed_copies(std::make_index_sequence<kFixedCopyMax / 8>{});
  row_copies_.clear();
  if (data.empty() || data.size() != input_buffers_.size()) return false;
  size_t bytes_per_row = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    const Tensor& d = data[i];
    const Tensor& buf = input_buffers_[i];
    if (!d.is_contiguous() || d.dtype() != buf.dtype() || d.dim() != buf.dim() || d.dim() == 0 ||
        buf.shape()[0] != batch_size ||
        !std::equal(d.shape().begin() + 1, d.shape().end(), buf.shape().begin() + 1))
      return false;
    const size_t row_bytes =
        static_cast<size_t>(buf.numel() / std::max<int64_t>(batch_size, 1)) * itemsize(d.dtype());
    RowCopy c{static_cast<const char*>(d.raw_data()), static_cast<char*>(buf.raw_data()), d.shape()[0], row_bytes,
              &copy_any};
    if (row_bytes > 0 && row_bytes <= kFixedCopyMax && row_bytes % 8 == 0) c.copy = copies[row_bytes / 8 - 1];
    row_copies_.push_back(c);
    bytes_per_row += row_bytes;
  }
  rows_ahead_ = std::clamp<int64_t>(static_cast<int64_t>(kPrefetchBytes / std::max<size_t>(bytes_per_row, 1)), 1,
                                    kPrefetchRowsMax);
  rows_ahead_ = std::max(rows_ahead_, batch_size);
  return true;
}

void LoweredStep::check_rows(const int64_t* order, int64_t count) const {
  uint64_t limit = UINT64_MAX;
  for (const RowCopy& c : row_copies_) limit = std::min(limit, static_cast<uint64_t>(c.rows));
  bool bad = false;
  for (int64_t k = 0; k < count; ++k) bad |= static_cast<uint64_t>(order[k]) >= limit;  // (one vector pass)
  if (!bad) return;
  for (int64_t k = 0; k < count; ++k)
    if (static_cast<uint64_t>(order[k]) >= limit)
      throw std::out_of_range("gdcore.compile: run_epoch: row index " + std::to_string(order[k]) +
                              " is out of range for a dataset of " + std::to_string(limit) + " rows");
}

namespace {
// Asks the CPU to start loading row `row` of `c`'s data (a free function here, so that the loop
// below inlines it).
inline void prefetch_row(const LoweredStep::RowCopy& c, int64_t row) {
  const char* p = c.src + row * static_cast<int64_t>(c.row_bytes);
  __builtin_prefetch(p);
  __builtin_prefetch(p + c.row_bytes - 1);  // (a row that starts late in a line spills into the next)
  for (size_t offset = 64; offset + 64 < c.row_bytes; offset += 64) __builtin_prefetch(p + offset);
}
}  // namespace

template <typename L>
void LoweredStep::run_rows(const int64_t* order, int64_t batches, int64_t batch_size, const L* loss, L* losses) {
  const std::vector<RowCopy>& copies = row_copies_;
  const int64_t total = batches * batch_size;
  if (total <= 0) return;
  const int64_t ahead = std::min(rows_ahead_, total);
  for (int64_t k = 0; k < ahead; ++k)
    for (const RowCopy& c : copies) prefetch_row(c, order[k]);
  // The version bumps of all batches at once when the epoch ends (or a live step throws): a
  // step that calls out (Python, a collective) could look at versions, so it keeps them per batch.
  const bool per_batch_versions = trace_.calls_out;
  const bool direct = direct_path_ok();
  struct Bumps {
    const LoweredStep& step;
    uint64_t batches = 0;
    ~Bumps() { step.bump_versions(batches); }
  } bumps{*this};
  if (batch_size == 1 && copies.size() == 2 && direct && !per_batch_versions) {
    // The per-sample epoch of a (rows, target) dataset: the same work as the loop below, with the
    // two row copies held in locals and no loop over the batch's rows or over the copies.
    const RowCopy x = copies[0], y = copies[1];
    for (int64_t b = 0; b < batches; ++b) {
      const int64_t row = order[b];
      const int64_t later = order[std::min(b + ahead, total - 1)];
      prefetch_row(x, later);
      prefetch_row(y, later);
      x.copy(x.dst, x.src + row * static_cast<int64_t>(x.row_bytes), x.row_bytes);
      y.copy(y.dst, y.src + row * static_cast<int64_t>(y.row_bytes), y.row_bytes);
      ++replay_;
      run_program(b == 0 ? program_ : steady_);
      ++bumps.batches;
      losses[b] = *loss;
    }
    return;
  }
  int64_t pos = 0;
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t r = 0; r < batch_size; ++r, ++pos) {
      const int64_t row = order[pos];
      // (near the end this asks for the last row again: cheaper than a branch)
      const int64_t later = order[std::min(pos + ahead, total - 1)];
      for (const RowCopy& c : copies) {
        prefetch_row(c, later);
        c.copy(c.dst + r * static_cast<int64_t>(c.row_bytes), c.src + row * static_cast<int64_t>(c.row_bytes),
               c.row_bytes);
      }
    }
    ++replay_;
    // (run_steps, inlined: the first batch runs every step, the later ones the steady program)
    if (!direct) {
      for (auto& step : trace_.steps) step();
    } else {
      run_program(b == 0 ? program_ : steady_);
    }
    if (per_batch_versions) bump_versions(1);
    else ++bumps.batches;
    losses[b] = *loss;
  }
}

template void LoweredStep::run_rows<float>(const int64_t*, int64_t, int64_t, const float*, float*);
template void LoweredStep::run_rows<double>(const int64_t*, int64_t, int64_t, const double*, double*);

}  // namespace gdcore::capture
