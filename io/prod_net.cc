// Production TCP: io_uring accept/connect/recv/send on non-blocking-agnostic sockets. Address
// resolution is numeric (or "localhost"): tierkv binds and connects to configured addresses and
// never blocks a shard thread on DNS.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "core/assert.h"
#include "io/prod_env.h"

namespace tierkv::io {
namespace {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
};

Result<SockAddr> Resolve(const NetAddress& address) {
  SockAddr out;
  std::string host = address.host == "localhost" || address.host.empty() ? "127.0.0.1" : address.host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    out.length = sizeof(sockaddr_in);
    return out;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    out.length = sizeof(sockaddr_in6);
    return out;
  }
  return Err(StatusCode::kInvalidArgument, "not a numeric address: " + address.host);
}

std::string FormatAddress(const sockaddr_storage& storage) {
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);
  inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
  return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
}

class ProdSocket final : public Socket {
 public:
  ProdSocket(ProdEnv& env, int fd, std::string peer) : env_(env), fd_(fd), peer_(std::move(peer)) {
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~ProdSocket() override { Close(); }

  Result<size_t> Read(std::span<std::byte> buf, Deadline deadline) override {
    if (closed_) return Err(StatusCode::kClosed, "read on closed socket");
    auto result = env_.CurrentLoop().RunOp(
        [&](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd_, buf.data(), buf.size(), 0); },
        deadline);
    if (!result) return Err(result.error());
    if (*result < 0) return Err(ErrnoStatus(*result, "read from " + peer_));
    return static_cast<size_t>(*result);
  }

  Status Write(std::span<const std::byte> data, Deadline deadline) override {
    if (closed_) return Status(StatusCode::kClosed, "write on closed socket");
    // Fast path: a reply almost always fits in the socket buffer, and a non-blocking send then
    // costs one syscall instead of a ring round trip and two fiber switches. io_uring takes over
    // only when the buffer is full.
    size_t done = 0;
    // Device reads this turn prepared go to the kernel first: a send costs microseconds (the
    // receiver's side of loopback TCP runs inside it), and a turn's replies go out back to back.
    env_.CurrentLoop().StartPending();
    ssize_t sent = send(fd_, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent > 0) {
      done = static_cast<size_t>(sent);
    } else if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return ErrnoStatus(errno, "write to " + peer_);
    }
    while (done < data.size()) {
      if (closed_) return Status(StatusCode::kClosed, "write on closed socket");
      auto result = env_.CurrentLoop().RunOp(
          [&](io_uring_sqe* sqe) {
            io_uring_prep_send(sqe, fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
          },
          deadline);
      if (!result) return result.error();
      if (*result < 0) return ErrnoStatus(*result, "write to " + peer_);
      done += static_cast<size_t>(*result);
    }
    return Status::Ok();
  }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    shutdown(fd_, SHUT_RDWR);  // wakes a reader of this socket in another fiber with EOF
    close(fd_);
  }

  void Reset() override {
    if (closed_) return;
    linger abortive{1, 0};  // close with linger 0 sends RST
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive));
    closed_ = true;
    close(fd_);
  }

  std::string PeerAddress() const override { return peer_; }

 private:
  ProdEnv& env_;
  int fd_;
  std::string peer_;
  bool closed_ = false;
};

}  // namespace

class ProdListener final : public Listener {
 public:
  ProdListener(ProdEnv& env, int fd, NetAddress local, bool reuse_port)
      : env_(env), fd_(fd), local_(local), reuse_port_(reuse_port) {}
  ~ProdListener() override {
    Close();
    close(fd_);
    if (reuse_port_) env_.ReleaseReusePort(local_.ToString());
  }

  Result<std::unique_ptr<Socket>> Accept(Deadline deadline) override {
    if (closed_) return Err(StatusCode::kClosed, "listener closed");
    sockaddr_storage peer{};
    socklen_t length = sizeof(peer);
    auto result = env_.CurrentLoop().RunOp(
        [&](io_uring_sqe* sqe) {
          io_uring_prep_accept(sqe, fd_, reinterpret_cast<sockaddr*>(&peer), &length,
                               SOCK_CLOEXEC);
        },
        deadline);
    if (!result) return Err(result.error());
    if (closed_) {
      if (*result >= 0) close(*result);
      return Err(StatusCode::kClosed, "listener closed");
    }
    if (*result < 0) return Err(ErrnoStatus(*result, "accept on " + local_.ToString()));
    return std::make_unique<ProdSocket>(env_, *result, FormatAddress(peer));
  }

  NetAddress LocalAddress() const override { return local_; }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    shutdown(fd_, SHUT_RDWR);  // a pending accept completes with an error
  }

 private:
  ProdEnv& env_;
  int fd_;
  NetAddress local_;
  bool reuse_port_;
  bool closed_ = false;
};

Status ProdEnv::ClaimReusePort(const NetAddress& address, int family) {
  std::lock_guard<std::mutex> lock(ports_mutex_);
  std::string key = address.ToString();
  if (reuse_ports_[key]++ > 0 || address.port == 0) return Status::Ok();
  // First listener of this node on the port: bind once without SO_REUSEPORT to find out whether
  // another process holds it.
  auto resolved = Resolve(address);
  if (!resolved) return resolved.error();
  int probe = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int rc = bind(probe, reinterpret_cast<sockaddr*>(&resolved->storage), resolved->length);
  int error = errno;
  close(probe);
  if (rc != 0) {
    reuse_ports_[key]--;
    return ErrnoStatus(error, "listen on " + key);
  }
  return Status::Ok();
}

void ProdEnv::ReleaseReusePort(const std::string& key) {
  std::lock_guard<std::mutex> lock(ports_mutex_);
  if (--reuse_ports_[key] <= 0) reuse_ports_.erase(key);
}

Result<std::unique_ptr<Listener>> ProdEnv::Listen(const NetAddress& address,
                                                  const ListenOptions& options) {
  auto resolved = Resolve(address);
  if (!resolved) return Err(resolved.error());
  if (options.reuse_port) TK_RETURN_IF_ERROR_R(ClaimReusePort(address, resolved->family()));
  int fd = socket(resolved->family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err(ErrnoStatus(errno, "socket"));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (options.reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&resolved->storage), resolved->length) != 0 ||
      listen(fd, options.backlog) != 0) {
    Status status = ErrnoStatus(errno, "listen on " + address.ToString());
    close(fd);
    if (options.reuse_port) ReleaseReusePort(address.ToString());
    return Err(status);
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  NetAddress local = address;
  local.port = ntohs(bound.ss_family == AF_INET
                         ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                         : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  if (options.reuse_port && address.port == 0) {
    // The kernel picked the port: count this listener under the real one.
    ReleaseReusePort(address.ToString());
    std::lock_guard<std::mutex> lock(ports_mutex_);
    reuse_ports_[local.ToString()]++;
  }
  return std::make_unique<ProdListener>(*this, fd, local, options.reuse_port);
}

Result<std::unique_ptr<Socket>> ProdEnv::Connect(const NetAddress& address, Deadline deadline) {
  auto resolved = Resolve(address);
  if (!resolved) return Err(resolved.error());
  int fd = socket(resolved->family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err(ErrnoStatus(errno, "socket"));
  auto result = CurrentLoop().RunOp(
      [&](io_uring_sqe* sqe) {
        io_uring_prep_connect(sqe, fd, reinterpret_cast<sockaddr*>(&resolved->storage),
                              resolved->length);
      },
      deadline);
  if (!result || *result < 0) {
    close(fd);
    if (!result) return Err(result.error());
    return Err(ErrnoStatus(*result, "connect to " + address.ToString()));
  }
  return std::make_unique<ProdSocket>(*this, fd, FormatAddress(resolved->storage));
}

}  // namespace tierkv::io
