// Runtime SIMD dispatch for the bandwidth-bound kernels (optimizer updates, the MSE
// loss). One build holds three versions of every kernel: scalar (baseline x86-64, runs
// anywhere), AVX2+FMA and AVX-512F, each compiled in its own file with its own target
// flags (see CMakeLists.txt). The best path the CPU supports is chosen once, at the
// first use (gdcore's import triggers it), unless the environment variable GDCORE_SIMD
// names one: avx512, avx2, scalar, or auto. A name that is unknown, or a path this CPU
// cannot run, is an error (std::invalid_argument), never a silent fallback: someone who
// asked for a path wants to know they did not get it.
//
// A KernelTable holds plain range kernels: pointers and a length in, work on [0, n).
// Splitting the work over threads is the callers' job (kernels/simd/parallel.hpp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/simd/kernel_table.hpp"

namespace gdcore::kernels::simd {

const char* path_name(SimdPath p);
bool cpu_supports(SimdPath p);
// The paths this CPU can run, best last (scalar is always first).
std::vector<SimdPath> supported_paths();

// The table in use: on the first call, the path named by GDCORE_SIMD, else the best
// supported one. Throws std::invalid_argument for a bad GDCORE_SIMD.
const KernelTable& active_table();
SimdPath active_path();
// Switches every later kernel call to `name` (for tests and benchmarks). Throws
// std::invalid_argument for an unknown name or a path this CPU cannot run.
void set_active_path(const std::string& name);

template <typename T>
const Kernels<T>& kernels_for();
template <>
inline const Kernels<float>& kernels_for<float>() { return active_table().f32; }
template <>
inline const Kernels<double>& kernels_for<double>() { return active_table().f64; }

}  // namespace gdcore::kernels::simd
