// Always-on assertions (also in release builds), TigerBeetle style: a failed assertion is a
// programmer error, prints where and why, and aborts. Use Status for what the world does to us.
#pragma once

namespace tierkv::detail {
[[noreturn]] void AssertFail(const char* expr, const char* file, int line, const char* message);
}  // namespace tierkv::detail

#define TK_ASSERT(cond)                                                          \
  do {                                                                           \
    if (!(cond)) [[unlikely]]                                                    \
      ::tierkv::detail::AssertFail(#cond, __FILE__, __LINE__, nullptr);          \
  } while (0)

#define TK_ASSERT_MSG(cond, msg)                                                 \
  do {                                                                           \
    if (!(cond)) [[unlikely]]                                                    \
      ::tierkv::detail::AssertFail(#cond, __FILE__, __LINE__, (msg));            \
  } while (0)

#define TK_UNREACHABLE() ::tierkv::detail::AssertFail("unreachable", __FILE__, __LINE__, nullptr)
