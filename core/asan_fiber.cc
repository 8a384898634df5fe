// Only in sanitizer builds (meson -Dsanitize=true). Boost.Context's ucontext backend, needed for
// ASan, declares fiber_activation_record::current() but the header-only use leaves it undefined
// (it lives in libboost_context's compiled part for the fcontext-less configuration). This is the
// per-thread "which context runs now" record Boost requires: one top-level record per thread,
// created on first use. It is Boost's bookkeeping, not a tierkv global.
#include <boost/context/fiber.hpp>

namespace boost::context::detail {
namespace {

thread_local fiber_activation_record* current_record = nullptr;

struct TopLevelRecord {
  fiber_activation_record* record = nullptr;
  TopLevelRecord() {
    if (current_record == nullptr) current_record = record = new fiber_activation_record();
  }
  ~TopLevelRecord() { delete record; }
};

}  // namespace

fiber_activation_record*& fiber_activation_record::current() noexcept {
  thread_local TopLevelRecord top_level;
  return current_record;
}

}  // namespace boost::context::detail
