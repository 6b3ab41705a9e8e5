// Chooses the SIMD path once: GDCORE_SIMD when set (avx512 | avx2 | scalar | auto),
// else the best one the CPU supports (cpuid through __builtin_cpu_supports, which also
// checks that the OS saves the wider registers). See dispatch.hpp for the rules.
#include "kernels/simd/dispatch.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace gdcore::kernels::simd {

namespace {

std::atomic<const KernelTable*> g_active{nullptr};
std::once_flag g_init;

const KernelTable& table_of(SimdPath p) {
  switch (p) {
    case SimdPath::Avx512: return avx512_table();
    case SimdPath::Avx2: return avx2_table();
    case SimdPath::Scalar: break;
  }
  return scalar_table();
}

std::string supported_list() {
  std::string out;
  for (SimdPath p : supported_paths()) out += (out.empty() ? "" : ", ") + std::string(path_name(p));
  return out;
}

// The path for `name` (lower-cased already); "auto" is the best supported one.
SimdPath resolve(const std::string& name, const char* who) {
  if (name == "auto") return supported_paths().back();
  for (SimdPath p : {SimdPath::Scalar, SimdPath::Avx2, SimdPath::Avx512}) {
    if (name != path_name(p)) continue;
    if (!cpu_supports(p))
      throw std::invalid_argument(std::string(who) + "'" + name + "' but this CPU cannot run that path; it supports: " +
                                  supported_list() + ". Choose one of those (or auto)");
    return p;
  }
  throw std::invalid_argument(std::string(who) + "'" + name +
                              "' is not a SIMD path; use one of: avx512, avx2, scalar, auto (this CPU supports: " +
                              supported_list() + ")");
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void init_from_env() {
  const char* env = std::getenv("GDCORE_SIMD");
  const std::string name = env && *env ? lower(env) : "auto";
  g_active.store(&table_of(resolve(name, "GDCORE_SIMD=")), std::memory_order_release);
}

}  // namespace

const char* path_name(SimdPath p) {
  switch (p) {
    case SimdPath::Avx512: return "avx512";
    case SimdPath::Avx2: return "avx2";
    case SimdPath::Scalar: break;
  }
  return "scalar";
}

bool cpu_supports(SimdPath p) {
  switch (p) {
    case SimdPath::Avx512: return __builtin_cpu_supports("avx512f");
    case SimdPath::Avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SimdPath::Scalar: break;
  }
  return true;
}

std::vector<SimdPath> supported_paths() {
  std::vector<SimdPath> out;
  for (SimdPath p : {SimdPath::Scalar, SimdPath::Avx2, SimdPath::Avx512})
    if (cpu_supports(p)) out.push_back(p);
  return out;
}

const KernelTable& active_table() {
  const KernelTable* t = g_active.load(std::memory_order_acquire);
  if (t) return *t;
  std::call_once(g_init, init_from_env);  // an exception leaves the flag unset: the next call retries
  return *g_active.load(std::memory_order_acquire);
}

SimdPath active_path() { return active_table().path; }

void set_active_path(const std::string& name) {
  const KernelTable& chosen = table_of(resolve(lower(name), "simd path "));
  std::call_once(g_init, [] {});  // an explicit choice wins over GDCORE_SIMD, even before the first kernel
  g_active.store(&chosen, std::memory_order_release);
}

}  // namespace gdcore::kernels::simd
