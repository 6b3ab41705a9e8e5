// Node memory for the scalar tape (gdcore/scalar_tape.hpp): per-thread free lists fed from
// chunks that are never returned to the OS, so taking or giving back a node is a pointer
// swap. Internal to the core.
#pragma once

#include "gdcore/scalar_tape.hpp"

namespace gdcore::scalar::detail {

ScalarNode* take_node();        // uninitialised memory for one node; throws std::bad_alloc
void give_node(ScalarNode* n);  // n may come from any thread's pool

}  // namespace gdcore::scalar::detail
