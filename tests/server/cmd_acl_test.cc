// ACL commands and permission checks through the command harness.
#include <doctest/doctest.h>

#include "tests/server/command_harness.h"
