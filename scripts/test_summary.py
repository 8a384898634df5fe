"""Summarises a meson testlog.json: doctest binaries count their test cases, other tests count
as one each. Prints the failing tests, then 'N passed, M failed' as the last line. Exit 1 on any
failure."""
import json
import re
import sys

DOCTEST = re.compile(r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")

passed = failed = 0
failures = []
with open(sys.argv[1]) as log:
    for line in log:
        test = json.loads(line)
        ok = test["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
        counts = DOCTEST.findall(test.get("stdout", "") or "")
        if counts:
            _, p, f = counts[-1]
            passed += int(p)
            failed += int(f)
            if not ok and int(f) == 0:
                failed += 1  # crashed or timed out after its cases
        else:
            passed += ok
            failed += not ok
        if not ok:
            failures.append(f'{test["name"]}: {test["result"]}')
for failure in failures:
    print("FAILED", failure)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
