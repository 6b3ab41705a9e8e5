// Grad mode is per thread, so two threads can train (or not) independently.
#include "gdcore/grad_mode.hpp"

namespace gdcore {

namespace {
thread_local bool grad_enabled = true;
}

bool GradMode::is_enabled() { return grad_enabled; }
void GradMode::set_enabled(bool enabled) { grad_enabled = enabled; }

}  // namespace gdcore
