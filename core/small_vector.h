// boost::container::small_vector (header-only): a vector whose first N elements live inline, for
// the per-command lists that almost always hold one or two items (key positions, lock ids,
// per-shard durability). GCC 12 warns falsely inside Boost's element moves at -O2
// (-Wstringop-overread on a memmove whose length it cannot bound); the warning is silenced for
// Boost's lines only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overread"
#include <boost/container/small_vector.hpp>
#pragma GCC diagnostic pop
