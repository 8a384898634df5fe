"""The seam check: nothing outside io/ and sim/ calls the OS for time, files, sockets, threads or
randomness. A grep over the sources (STYLE.md), with a short allow-list of files that wire the
production Env in tools/ (the only place allowed to name io/)."""
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1])
CHECKED = ["core", "net", "tiers", "repl", "server", "proxy", "scenarios", "tools"]
FORBIDDEN = re.compile(
    r"\b(io_uring_[a-z_]+|pmem2_[a-z_]+|clock_gettime|gettimeofday|"
    r"std::chrono::(steady|system|high_resolution)_clock|std::thread\b|std::jthread\b|"
    r"pthread_create|getrandom|std::random_device|rand\(\)|srand\(|time\(nullptr\)|"
    r"fopen\(|std::ifstream|std::ofstream|std::filesystem|opendir\(|sleep_for|usleep\()"
    r"|::(open|pread|pwrite|read|write|fsync|fdatasync|socket|accept|connect|bind|listen|"
    r"mmap|close|unlink|rename|mkdir|stat)\("
)
# tools/ wires the production Env into the layers above; these lines are the wiring itself.
ALLOWED = {
    ("tools", "std::thread::hardware_concurrency"),
    ("tools", "std::ifstream"),
}

violations = []
for folder in CHECKED:
    for path in sorted((ROOT / folder).rglob("*")):
        if path.suffix not in (".h", ".cc", ".cpp", ".hpp"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("//")[0]
            match = FORBIDDEN.search(code)
            if not match:
                continue
            if any(folder == f and token in code for f, token in ALLOWED):
                continue
            violations.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")

# core/ must not include io/ or sim/, and nothing but tools/ and tests/ may name them.
for folder in ["core", "net", "tiers", "repl", "server", "proxy"]:
    for path in sorted((ROOT / folder).rglob("*")):
        if path.suffix in (".h", ".cc") and re.search(r'#include "(io|sim)/', path.read_text()):
            violations.append(f"{path.relative_to(ROOT)}: includes io/ or sim/ (only tools/ may)")

for violation in violations:
    print("seam violation:", violation)
print(f"seam check: {len(violations)} violations")
sys.exit(1 if violations else 0)
