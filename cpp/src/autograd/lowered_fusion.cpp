// Fusing a lowered step's chains of elementwise loops (see lowered_step.hpp). A run of
// consecutive ElementLoop steps over the same number of elements becomes one step that runs
// them chunk by chunk: for each chunk of kChunk elements, every loop of the run in order.
// Element k of every loop still gets exactly the same arithmetic as in the eager step (each
// loop is its own code, called on sub-ranges), so results stay bit-identical; what goes is
// one closure call and loop set-up per op (the per-sample step's chains are of one element)
// and, for large tensors, the round trip of each intermediate through memory.
//
// Running loop B's chunk c before loop A's chunk c + 1 (A before B in the step) is only the
// same as running A whole and then B when no element one of them writes is read or written
// by the other at a different position. So a loop joins the run only if every pair of ranges
// where one side is written is either disjoint or the very same elements (same start, same
// element size, both read elementwise); a one-element input read for every k ("scalar") must
// not be written anywhere in the run. With a single element the order is the same either way.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "autograd/lowered_step.hpp"

namespace gdcore::capture {

namespace {

constexpr int64_t kChunk = 1024;  // elements per chunk: the run's intermediates stay in L1
// One-element loops per threaded chain: where the compiler keeps the tail calls as calls (-O0,
// -O1 builds) a chain is that deep a call stack, so a long run is cut into chains of this many.
constexpr size_t kChainMax = 256;

// GDCORE_COMPILE_FUSE=0 keeps every loop a step of its own (for comparisons and tests).
bool fusion_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("GDCORE_COMPILE_FUSE");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  return enabled;
}

struct Range {
  const char* begin;
  const char* end;
  size_t item;
  bool scalar;
};

Range out_range(const trace::ElementLoop& l) {
  const char* p = static_cast<const char*>(l.out);
  return {p, p + static_cast<size_t>(l.n) * l.out_item, l.out_item, false};
}

Range in_range(const trace::ElementLoop& l, int j) {
  const char* p = static_cast<const char*>(l.in[j]);
  const size_t len = l.scalar[j] ? l.in_item[j] : static_cast<size_t>(l.n) * l.in_item[j];
  return {p, p + len, l.in_item[j], l.scalar[j]};
}

bool disjoint(const Range& a, const Range& b) { return a.end <= b.begin || b.end <= a.begin; }

// A written range `w` against another range `r` of the run (read or written).
bool compatible(const Range& w, const Range& r) {
  if (disjoint(w, r)) return true;
  return !r.scalar && w.begin == r.begin && w.end == r.end && w.item == r.item;
}

// True when `next` may join `run` (all loops over the same number of elements).
bool may_join(const std::vector<trace::ElementLoop>& run, const trace::ElementLoop& next) {
  if (next.n != run.front().n) return false;
  if (next.n <= 1) return true;
  const Range next_out = out_range(next);
  for (const trace::ElementLoop& l : run) {
    const Range l_out = out_range(l);
    if (!compatible(next_out, l_out)) return false;
    for (int j = 0; j < l.inputs; ++j)
      if (!compatible(next_out, in_range(l, j))) return false;
    for (int j = 0; j < next.inputs; ++j)
      if (!compatible(l_out, in_range(next, j))) return false;
  }
  for (int j = 0; j < next.inputs; ++j)  // (its own output against its own scalar input)
    if (next.scalar[j] && !disjoint(next_out, in_range(next, j))) return false;
  return true;
}

// A chain of one-element loops run as threaded code from its first loop (direct step form).
void run_chain(const trace::DirectStep& s) {
  const trace::ElementLoop* code;
  std::memcpy(&code, s.payload, sizeof code);
  code->one(code);
}

// `direct` is set to the step's direct form when it has one (a chain: its array, shared with the
// std::function so that it stays where it is whatever becomes of the std::function).
std::function<void()> fused_step(std::vector<trace::ElementLoop> run, trace::DirectStep& direct) {
  const int64_t n = run.front().n;
  if (n == 1) {  // (the per-sample step's chains: each loop's one element as threaded code, no loop)
    trace::ElementLoop stop;
    stop.one = &trace::element_detail::chain_stop;
    if (run.size() <= kChainMax) {
      run.push_back(stop);
      auto code = std::make_shared<const std::vector<trace::ElementLoop>>(std::move(run));
      const trace::ElementLoop* first = code->data();
      direct.fn = &run_chain;
      std::memcpy(direct.payload, &first, sizeof first);
      return [code = std::move(code)] { code->front().one(code->data()); };
    }
    std::vector<trace::ElementLoop> code;
    std::vector<size_t> starts;
    for (size_t i = 0; i < run.size(); ++i) {
      if (i % kChainMax == 0) {
        if (i > 0) code.push_back(stop);
        starts.push_back(code.size());
      }
      code.push_back(run[i]);
    }
    code.push_back(stop);
    return [code = std::move(code), starts = std::move(starts)] {
      for (size_t s : starts) code[s].one(&code[s]);
    };
  }
  if (n <= kChunk)
    return [run = std::move(run), n] {
      for (const trace::ElementLoop& l : run) l.run(l, 0, n);
    };
  return [run = std::move(run), n] {
    for (int64_t b = 0; b < n; b += kChunk) {
      const int64_t e = std::min(n, b + kChunk);
      for (const trace::ElementLoop& l : run) l.run(l, b, e);
    }
  };
}

}  // namespace

size_t fuse_element_loops(std::vector<std::function<void()>>& steps, std::vector<StepInfo>& info,
                          const std::vector<std::pair<size_t, trace::ElementLoop>>& loops) {
  if (!fusion_enabled() || loops.size() < 2) return 0;
  std::vector<std::function<void()>> out;
  std::vector<StepInfo> out_info;
  out.reserve(steps.size());
  size_t fused = 0, next_loop = 0;
  std::vector<trace::ElementLoop> run;
  size_t run_first = 0;  // index in `steps` of the run's first loop
  auto flush = [&] {
    if (run.size() == 1) {
      out.push_back(std::move(steps[run_first]));
      out_info.push_back(info[run_first]);
    } else if (run.size() > 1) {
      fused += run.size();
      StepInfo fused_info;  // (a kernel)
      out.push_back(fused_step(std::move(run), fused_info.direct));
      out_info.push_back(fused_info);
    }
    run.clear();
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    while (next_loop < loops.size() && loops[next_loop].first < i) ++next_loop;
    const bool is_loop = next_loop < loops.size() && loops[next_loop].first == i;
    if (!is_loop) {
      flush();
      out.push_back(std::move(steps[i]));
      out_info.push_back(info[i]);
      continue;
    }
    const trace::ElementLoop& l = loops[next_loop].second;
    if (!run.empty() && !may_join(run, l)) flush();
    if (run.empty()) run_first = i;
    run.push_back(l);
  }
  flush();
  steps = std::move(out);
  info = std::move(out_info);
  return fused;
}

}  // namespace gdcore::capture
