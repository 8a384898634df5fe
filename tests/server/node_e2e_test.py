"""End-to-end test of tierkv-server: starts the real binary on a free loopback port with two
executors and talks to it over raw sockets, redis-py and redis-cli, the way clients will.

Usage: node_e2e_test.py PATH/TO/tierkv-server

Every wait is bounded (socket timeouts, process timeouts, bounded loops); the server only ever
listens on 127.0.0.1 and is killed if the test ends early. Exit status 0 when every check passed.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis

HOST = "127.0.0.1"
TIMEOUT_S = 5.0
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0

failures = []


def check(condition, what, detail=""):
    if condition:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what} {detail}")
        failures.append(what)


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def connect(port):
    sock = socket.create_connection((HOST, port), timeout=TIMEOUT_S)
    sock.settimeout(TIMEOUT_S)
    return sock


def recv_exact(sock, count):
    data = b""
    while len(data) < count:  # bounded: each recv returns >= 1 byte or raises on timeout
        chunk = sock.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data


def recv_until_close(sock, limit=1 << 20):
    """Everything the server sends until it closes; None if it keeps the connection open."""
    data = b""
    try:
        while len(data) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
    except socket.timeout:
        return None
    return None


def request(port, payload, expected_len):
    with connect(port) as sock:
        sock.sendall(payload)
        return recv_exact(sock, expected_len)


def expect_reply(port, payload, expected, what):
    got = request(port, payload, len(expected))
    check(got == expected, what, f"got {got!r}, expected {expected!r}")


def expect_protocol_error(port, payload, error_text, what):
    with connect(port) as sock:
        sock.sendall(payload)
        got = recv_until_close(sock)
    expected = b"-ERR Protocol error: " + error_text + b"\r\n"
    check(got == expected, what + " (error, then close)", f"got {got!r}, expected {expected!r}")


def wait_until_serving(port, server):
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:  # bounded by the deadline
        if server.poll() is not None:
            return False
        try:
            with connect(port) as sock:
                sock.sendall(b"PING\r\n")
                if recv_exact(sock, 7) == b"+PONG\r\n":
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def test_raw_protocol(port):
    expect_reply(port, b"PING\r\n", b"+PONG\r\n", "inline PING")
    expect_reply(port, b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n", "multibulk PING")
    expect_reply(port, b"*2\r\n$4\r\nPING\r\n$5\r\nhello\r\n", b"$5\r\nhello\r\n", "PING with arg")
    expect_reply(port, b"PING a b\r\n", b"-ERR wrong number of arguments for 'ping' command\r\n",
                 "PING arity")
    expect_reply(port, b"*2\r\n$4\r\nECHO\r\n$6\r\na\r\nb\x00c\r\n", b"$6\r\na\r\nb\x00c\r\n",
                 "binary ECHO")
    expect_reply(port, b"ECHO \"x\\x41y\" 'q'\r\n",
                 b"-ERR wrong number of arguments for 'echo' command\r\n", "ECHO arity")
    expect_reply(port, b"ECHO \"x\\x41\\n\"\r\n", b"$3\r\nxA\n\r\n", "quoted inline ECHO")
    expect_reply(port, b"foo a b\r\n",
                 b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n",
                 "unknown command text")
    expect_reply(port, b"SET e2e:k v\r\nGET e2e:k\r\n", b"+OK\r\n$1\r\nv\r\n", "SET then GET")
    expect_reply(port, b"*0\r\n*-1\r\n\r\nPING\r\n", b"+PONG\r\n", "empty commands are skipped")
    # proto-max-bulk-len is a runtime setting: a bulk above it is refused at once.
    expect_reply(port, b"CONFIG SET proto-max-bulk-len 1mb\r\n", b"+OK\r\n", "lower the bulk limit")
    expect_protocol_error(port, b"*2\r\n$4\r\nECHO\r\n$2000000\r\n",
                          b"invalid bulk length", "bulk over the setting")
    expect_reply(port, b"CONFIG SET proto-max-bulk-len 512mb\r\n", b"+OK\r\n", "restore it")

    with connect(port) as sock:
        sock.sendall(b"QUIT\r\nPING\r\n")
        got = recv_until_close(sock)
    check(got == b"+OK\r\n", "QUIT replies +OK and closes", f"got {got!r}")

    with connect(port) as sock:
        sock.sendall(b"PING\r\n" * 1000)
        got = recv_exact(sock, 7 * 1000)
    check(got == b"+PONG\r\n" * 1000, "1000 pipelined inline PINGs", f"got {len(got)} bytes")

    with connect(port) as sock:
        payload = b"*1\r\n$4\r\nPING\r\n" * 1000
        for start in range(0, len(payload), 997):  # odd-sized pieces split commands anywhere
            sock.sendall(payload[start:start + 997])
        got = recv_exact(sock, 7 * 1000)
    check(got == b"+PONG\r\n" * 1000, "1000 pipelined multibulk PINGs in pieces",
          f"got {len(got)} bytes")

    big = os.urandom(3 << 20)
    with connect(port) as sock:
        sock.sendall(b"*2\r\n$4\r\nECHO\r\n$%d\r\n" % len(big) + big + b"\r\n")
        header = b"$%d\r\n" % len(big)
        got = recv_exact(sock, len(header) + len(big) + 2)
    check(got == header + big + b"\r\n", "3 MiB ECHO round trip")


def test_protocol_errors(port):
    expect_protocol_error(port, b"*1\r\nfoo\r\n", b"expected '$', got 'f'", "garbage bulk header")
    expect_protocol_error(port, b"*abc\r\n", b"invalid multibulk length", "garbage count")
    expect_protocol_error(port, b"*2147483648\r\n", b"invalid multibulk length", "huge count")
    expect_protocol_error(port, b"*1\r\n$-1\r\n", b"invalid bulk length", "negative bulk length")
    expect_protocol_error(port, b"*1\r\n$536870913\r\n", b"invalid bulk length",
                          "huge bulk length")
    expect_protocol_error(port, b"ECHO \"abc\r\n", b"unbalanced quotes in request",
                          "unbalanced quotes")
    expect_protocol_error(port, b"x" * (64 * 1024 + 1), b"too big inline request",
                          "too big inline request")
    with connect(port) as sock:  # replies before the error are still sent
        sock.sendall(b"PING\r\n*1\r\n$-5\r\nPING\r\n")
        got = recv_until_close(sock)
    check(got == b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n",
          "replies before a protocol error are sent", f"got {got!r}")
    expect_reply(port, b"PING\r\n", b"+PONG\r\n", "server alive after protocol errors")


def test_many_connections(port):
    socks = [connect(port) for _ in range(32)]
    try:
        for i, sock in enumerate(socks):
            sock.sendall(b"*2\r\n$4\r\nECHO\r\n$%d\r\n%d\r\n" % (len(str(i)), i))
        replies = [recv_exact(sock, len(b"$%d\r\n%d\r\n" % (len(str(i)), i)))
                   for i, sock in enumerate(socks)]
        check(all(reply == b"$%d\r\n%d\r\n" % (len(str(i)), i) for i, reply in enumerate(replies)),
              "32 concurrent connections")
    finally:
        for sock in socks:
            sock.close()


def test_redis_py(port):
    client = redis.Redis(host=HOST, port=port, socket_timeout=TIMEOUT_S,
                         socket_connect_timeout=TIMEOUT_S)
    try:
        check(client.ping() is True, "redis-py ping")
        check(client.echo("hello") == b"hello", "redis-py echo")
        # redis-py turns PING's reply into a bool; read the raw reply instead.
        client.set_response_callback("PING", lambda response, **options: response)
        check(client.execute_command("PING", "x") == b"x", "redis-py PING with arg")
        client.set_response_callback("PING", lambda response, **options: response == b"PONG")
        try:
            client.execute_command("FOO", "a")
            check(False, "redis-py unknown command raises")
        except redis.exceptions.ResponseError as error:
            check(str(error) == "unknown command 'FOO', with args beginning with: 'a' ",
                  "redis-py unknown command text", repr(str(error)))
        pipe = client.pipeline(transaction=False)
        for _ in range(1000):
            pipe.ping()
        check(pipe.execute() == [True] * 1000, "redis-py pipeline of 1000 PINGs")
    finally:
        client.close()


def test_redis_cli(port):
    done = subprocess.run(["redis-cli", "-h", HOST, "-p", str(port), "ping"],
                          capture_output=True, timeout=TIMEOUT_S)
    check(done.returncode == 0 and done.stdout.strip() == b"PONG", "redis-cli ping",
          f"rc={done.returncode} out={done.stdout!r} err={done.stderr!r}")
    done = subprocess.run(["redis-cli", "-h", HOST, "-p", str(port), "echo", "a b"],
                          capture_output=True, timeout=TIMEOUT_S)
    check(done.stdout.strip() == b"a b", "redis-cli echo", f"out={done.stdout!r}")


def wait_for(condition, timeout_s=TIMEOUT_S):
    """Polls `condition` until true or the timeout (bounded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_pubsub(port):
    publisher = redis.Redis(host=HOST, port=port, socket_timeout=TIMEOUT_S)
    subscriber = redis.Redis(host=HOST, port=port, socket_timeout=TIMEOUT_S)
    pubsub = subscriber.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe("e2e:news")
        pubsub.psubscribe("__keyspace@0__:e2e:*")
        got = []

        def receive():
            message = pubsub.get_message(timeout=0.1)
            if message is not None:
                got.append((message["type"], message["channel"], message["data"]))
            return len(got) >= 3

        # redis-py does not wait for the confirmations: wait until the server has them.
        check(wait_for(lambda: publisher.pubsub_numsub("e2e:news")[0][1] == 1 and
                       publisher.pubsub_numpat() == 1), "subscriptions registered")
        check(publisher.publish("e2e:news", "hello") == 1, "PUBLISH counts the subscriber")
        publisher.config_set("notify-keyspace-events", "K$")
        publisher.set("e2e:watched", "1")
        publisher.set("other", "1")  # not matching the pattern
        publisher.publish("e2e:news", "again")
        check(wait_for(receive), "redis-py subscriber receives", repr(got))
        check(got[:3] == [("message", b"e2e:news", b"hello"),
                          ("pmessage", b"__keyspace@0__:e2e:watched", b"set"),
                          ("message", b"e2e:news", b"again")], "messages in order", repr(got))
        publisher.config_set("notify-keyspace-events", "")
    finally:
        pubsub.close()
        publisher.close()
        subscriber.close()


def test_monitor(port):
    with connect(port) as monitor:
        monitor.sendall(b"MONITOR\r\n")
        check(recv_exact(monitor, 5) == b"+OK\r\n", "MONITOR answers OK")
        expect_reply(port, b"SET e2e:mon v\r\n", b"+OK\r\n", "a command while monitored")
        line = b""
        while b"e2e:mon" not in line and len(line) < 4096:  # bounded by size and timeout
            line += monitor.recv(4096)
        check(b'"SET" "e2e:mon" "v"' in line, "MONITOR shows the command", repr(line))


def test_client_kill_and_limits(port):
    admin = redis.Redis(host=HOST, port=port, socket_timeout=TIMEOUT_S)
    try:
        with connect(port) as victim:
            victim.sendall(b"CLIENT ID\r\n")
            reply = victim.recv(64)
            victim_id = int(reply[1:].strip())
            check(admin.execute_command("CLIENT", "KILL", "ID", victim_id) == 1, "CLIENT KILL ID")
            check(recv_until_close(victim) == b"", "a killed client's connection closes")
        # timeout: an idle connection is closed after `timeout` seconds.
        admin.config_set("timeout", "1")
        with connect(port) as idle:
            idle.settimeout(4.0)
            start = time.monotonic()
            check(recv_until_close(idle) == b"" and time.monotonic() - start < 3.5,
                  "timeout 1 closes an idle connection")
        admin.config_set("timeout", "0")
        # maxclients: the connection past the limit gets Redis's error and is closed.
        connected = int(admin.info("clients")["connected_clients"])
        admin.config_set("maxclients", str(connected + 1))
        extra = connect(port)
        extra.sendall(b"PING\r\n")
        check(recv_exact(extra, 7) == b"+PONG\r\n", "a client within maxclients is served")
        with connect(port) as refused:
            check(recv_until_close(refused) == b"-ERR max number of clients reached\r\n",
                  "maxclients: Redis's error, then close")
        extra.close()
        admin.config_set("maxclients", "10000")
        # A subscriber that stops reading is disconnected at its output buffer limit.
        admin.config_set("client-output-buffer-limit", "pubsub 1mb 0 0")
        slow = connect(port)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(b"SUBSCRIBE e2e:flood\r\n")
        check(wait_for(lambda: admin.pubsub_numsub("e2e:flood")[0][1] == 1), "slow subscriber in")
        payload = b"x" * 100_000
        receivers = [admin.publish("e2e:flood", payload) for _ in range(200)]  # 20 MB, bounded
        check(wait_for(lambda: admin.pubsub_numsub("e2e:flood")[0][1] == 0),
              "a subscriber past its output buffer limit is disconnected",
              f"receivers={receivers[:3]}...{receivers[-3:]}")
        slow.close()
        admin.config_set("client-output-buffer-limit", "pubsub 32mb 8mb 60")
    finally:
        admin.close()


def test_crash_restart(server_path, scratch):
    """appendfsync always: every acknowledged write survives a SIGKILL, of every type."""
    data_dir = os.path.join(scratch, "crash-data")
    port = free_port()
    argv = [server_path, "--port", str(port), "--threads", "2", "--dir", data_dir,
            "--appendfsync", "always"]
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        check(wait_until_serving(port, server), "crash test: server starts")
        client = redis.Redis(host=HOST, port=port, socket_timeout=TIMEOUT_S)
        pipe = client.pipeline(transaction=False)
        for i in range(500):
            pipe.set(f"s:{i}", f"v{i}")
            pipe.rpush(f"l:{i % 7}", i)
            pipe.hset(f"h:{i % 5}", f"f{i}", i)
            pipe.sadd(f"set:{i % 3}", i)
        pipe.execute()
        client.close()
        server.kill()  # SIGKILL: no shutdown, no final checkpoint
        server.wait(timeout=STOP_TIMEOUT_S)
        # Another port: the kernel tears a dead process's io_uring down asynchronously, and its
        # listening socket can hold the old port for a moment after the process is gone.
        port = free_port()
        argv[2] = str(port)
        server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        check(wait_until_serving(port, server), "crash test: server restarts on the same data")
        client = redis.Redis(host=HOST, port=port, socket_timeout=TIMEOUT_S)
        check(all(client.get(f"s:{i}") == f"v{i}".encode() for i in range(500)),
              "crash test: every acknowledged SET survives SIGKILL")
        check(sum(client.llen(f"l:{k}") for k in range(7)) == 500 and
              sum(client.hlen(f"h:{k}") for k in range(5)) == 500 and
              sum(client.scard(f"set:{k}") for k in range(3)) == 500,
              "crash test: lists, hashes and sets survive SIGKILL")
        check(client.dbsize() == 500 + 7 + 5 + 3, "crash test: DBSIZE after recovery")
        client.close()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=STOP_TIMEOUT_S)


def test_port_in_use(server_path, data_dir):
    with socket.socket() as holder:  # an ordinary listener (no SO_REUSEPORT) holds the port
        holder.bind((HOST, 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        done = subprocess.run([server_path, "--port", str(port), "--bind", HOST, "--threads", "2",
                               "--dir", data_dir], capture_output=True, timeout=STOP_TIMEOUT_S)
    check(done.returncode == 1, "port in use: exit 1", f"rc={done.returncode}")
    check(b"Address already in use" in done.stderr, "port in use: clear message",
          f"stderr={done.stderr!r}")


def test_second_server_refused(server_path, port, data_dir):
    # A second tierkv-server on a port a running one holds must fail, not share it through
    # SO_REUSEPORT.
    done = subprocess.run([server_path, "--port", str(port), "--bind", HOST, "--threads", "2",
                           "--dir", data_dir], capture_output=True, timeout=STOP_TIMEOUT_S)
    check(done.returncode == 1, "second server on a held port: exit 1", f"rc={done.returncode}")
    check(b"Address already in use" in done.stderr, "second server: clear message",
          f"stderr={done.stderr[-300:]!r}")


def test_same_directory_refused(server_path, data_dir):
    # Another port, the same data directory: the engines' directory locks refuse it.
    done = subprocess.run([server_path, "--port", str(free_port()), "--bind", HOST, "--threads",
                           "2", "--dir", data_dir], capture_output=True, timeout=STOP_TIMEOUT_S)
    check(done.returncode == 1, "second server on the same directory: exit 1",
          f"rc={done.returncode}")
    check(b"is in use" in done.stderr, "second server on the same directory: clear message",
          f"stderr={done.stderr[-300:]!r}")


def test_corrupt_data(server_path, data_dir):
    """Both superblocks of a shard's engine damaged: the server refuses to start, saying why."""
    path = os.path.join(data_dir, "shard-0", "data")
    with open(path, "r+b") as data:
        data.write(b"\xee" * 8192)
    done = subprocess.run([server_path, "--port", str(free_port()), "--bind", HOST, "--threads",
                           "2", "--dir", data_dir], capture_output=True, timeout=STOP_TIMEOUT_S)
    check(done.returncode == 1, "corrupt data: exit 1", f"rc={done.returncode}")
    check(b"cannot open the data in" in done.stderr and b"superblock" in done.stderr,
          "corrupt data: clear message", f"stderr={done.stderr[-400:]!r}")


def test_config_file(server_path, scratch):
    """`tierkv-server tierkv.conf --port N`: the repository's example file, options overriding
    it; a bad setting stops the server with the line and the reason."""
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tierkv.conf")
    port = free_port()
    data_dir = os.path.join(scratch, "conf-data")
    server = subprocess.Popen([server_path, example, "--port", str(port), "--threads", "1",
                               "--dir", data_dir], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        serving = wait_until_serving(port, server)
        check(serving, "tierkv.conf --port N: serves on N")
        check(os.path.isdir(data_dir), "tierkv.conf --dir: data directory from the option")
        done = subprocess.run(["redis-cli", "-h", HOST, "-p", str(port), "shutdown"],
                              capture_output=True, timeout=TIMEOUT_S)
        check(server.wait(timeout=STOP_TIMEOUT_S) == 0, "SHUTDOWN: exit 0",
              f"cli out={done.stdout!r} err={done.stderr!r}")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=STOP_TIMEOUT_S)
    bad = os.path.join(scratch, "bad.conf")
    with open(bad, "w") as conf:
        conf.write("# comment\nport 6379\nmaxmemory 12zz\n")
    done = subprocess.run([server_path, bad], capture_output=True, timeout=STOP_TIMEOUT_S)
    check(done.returncode == 1, "bad config file: exit 1", f"rc={done.returncode}")
    check(b":3: >>> 'maxmemory 12zz': argument must be a memory value" in done.stderr,
          "bad config file: line and reason", f"stderr={done.stderr!r}")


def main():
    server_path = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="tierkv-e2e-") as scratch:
        data_dir = os.path.join(scratch, "data")  # missing: the server must create it
        port = free_port()
        log_path = os.path.join(scratch, "server.log")
        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                [server_path, "--port", str(port), "--bind", HOST, "--threads", "2", "--dir",
                 data_dir, "--loglevel", "notice"], stdout=log, stderr=subprocess.STDOUT)
        try:
            serving = wait_until_serving(port, server)
            check(serving, "server starts and answers")
            if serving:
                check(os.path.isdir(data_dir), "data directory created")
                test_raw_protocol(port)
                test_protocol_errors(port)
                test_many_connections(port)
                test_redis_py(port)
                test_redis_cli(port)
                test_pubsub(port)
                test_monitor(port)
                test_client_kill_and_limits(port)
                test_second_server_refused(server_path, port, data_dir)
                test_same_directory_refused(server_path, data_dir)
                idle = connect(port)  # an open connection must not hold up the shutdown
                idle.sendall(b"PING\r\n")
                recv_exact(idle, 7)
            server.send_signal(signal.SIGTERM)
            try:
                code = server.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                code = None
            check(code == 0, "SIGTERM: exit 0", f"code={code}")
            for shard in range(2):  # --threads 2: one engine per shard thread
                check(os.path.isfile(os.path.join(data_dir, f"shard-{shard}", "data")),
                      f"shard {shard}'s engine file in the data directory")
            if serving:
                check(recv_until_close(idle) == b"", "SIGTERM closes open connections")
                idle.close()
        finally:
            if server.poll() is None:
                server.kill()
                server.wait(timeout=STOP_TIMEOUT_S)
            if failures:
                with open(log_path, "rb") as log:
                    print("--- server log ---")
                    print(log.read().decode(errors="replace")[-4000:])
        test_port_in_use(server_path, data_dir)
        test_corrupt_data(server_path, data_dir)
        test_config_file(server_path, scratch)
        test_crash_restart(server_path, scratch)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
