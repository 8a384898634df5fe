#!/usr/bin/python3
"""PING throughput: tierkv-server vs redis-server under the same redis-benchmark, in one run.

Both servers listen on 127.0.0.1 (free ports), are pinned to the same core (--server-core,
default 1) and the client to another (--client-core, default 0). For each server it runs
`redis-benchmark -t ping -n N -c 50` with -P 1 and -P 16 and prints one Markdown table with
PING_INLINE and PING_MBULK ops/s and p50/p99 side by side.

usage: tools/bench_ping.py build/tools/tierkv-server [--requests 200000] [--threads 1]
"""
import argparse
import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not answer PING")


def bench(port, core, requests, pipeline):
    cmd = ["taskset", "-c", str(core), "redis-benchmark", "-h", "127.0.0.1", "-p", str(port),
           "-t", "ping", "-n", str(requests), "-c", "50", "-P", str(pipeline), "--csv"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True).stdout
    rows = {}
    for row in csv.DictReader(io.StringIO(out)):
        rows[row["test"]] = row
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tierkv")
    parser.add_argument("--requests", type=int, default=200000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--server-core", default="1")
    parser.add_argument("--client-core", default="0")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="tierkv-bench-")
    servers = {}
    procs = []
    try:
        port = free_port()
        procs.append(subprocess.Popen(
            ["taskset", "-c", args.server_core, "redis-server", "--port", str(port), "--bind",
             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        servers["redis-server"] = port
        port = free_port()
        os.makedirs(os.path.join(tmp, "tierkv"), exist_ok=True)
        procs.append(subprocess.Popen(
            ["taskset", "-c", args.server_core, args.tierkv, "--port", str(port), "--bind",
             "127.0.0.1", "--threads", str(args.threads), "--dir", os.path.join(tmp, "tierkv"),
             "--loglevel", "warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        servers["tierkv-server"] = port
        for port in servers.values():
            wait_for(port)

        results = {}
        for pipeline in (1, 16):
            for name, port in servers.items():
                results[(name, pipeline)] = bench(port, args.client_core, args.requests, pipeline)

        print(f"redis-benchmark -t ping -n {args.requests} -c 50; servers pinned to core "
              f"{args.server_core} (tierkv --threads {args.threads}), client to core {args.client_core}")
        print()
        print("| test | -P | redis-server ops/s | tierkv ops/s | tierkv/redis | redis p50/p99 ms | tierkv p50/p99 ms |")
        print("|---|---|---|---|---|---|---|")
        for pipeline in (1, 16):
            for test in ("PING_INLINE", "PING_MBULK"):
                r = results[("redis-server", pipeline)][test]
                t = results[("tierkv-server", pipeline)][test]
                ratio = float(t["rps"]) / float(r["rps"])
                print(f"| {test} | {pipeline} | {float(r['rps']):.0f} | {float(t['rps']):.0f} | "
                      f"{ratio:.2f} | {r['p50_latency_ms']}/{r['p99_latency_ms']} | "
                      f"{t['p50_latency_ms']}/{t['p99_latency_ms']} |")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
