// Status and Result<T>: how tierkv reports everything the world can do to us.
//
// A Status is a small code plus a human-readable message. Result<T> is std::expected<T, Status>.
// Both are [[nodiscard]] so an ignored error is a compile warning (an error with -Werror).
// Programmer errors are not Statuses: they are assertions (core/assert.h).
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace tierkv {

enum class StatusCode : int {
  kOk = 0,
  kNotFound,         // file, key or peer does not exist
  kAlreadyExists,    // create of something that exists
  kInvalidArgument,  // the caller asked for something malformed (e.g. misaligned direct I/O)
  kIoError,          // the device or OS failed the operation
  kNoSpace,          // device full
  kCorruption,       // a checksum or format check failed
  kTimedOut,         // a deadline passed before the operation completed
  kCancelled,        // the fiber was cancelled while waiting
  kConnectionReset,  // the peer reset the connection
  kConnectionRefused,
  kUnreachable,      // no route (simulated partition) or host down
  kClosed,           // the object was closed (channel, socket, listener)
  kProtocolError,    // a peer sent bytes that do not parse
  kNotSupported,
  kBusy,  // resource temporarily unavailable (e.g. address in use)
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "IoError: read /data/x: Input/output error"
  std::string ToString() const;

  bool operator==(StatusCode code) const { return code_ == code; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename T>
using Result = std::expected<T, Status>;

// Shorthand to return an error from a function returning Result<T>.
inline std::unexpected<Status> Err(StatusCode code, std::string message) {
  return std::unexpected<Status>(Status(code, std::move(message)));
}
inline std::unexpected<Status> Err(Status status) {
  return std::unexpected<Status>(std::move(status));
}

}  // namespace tierkv

// Propagates a failed Status from an expression returning Status.
#define TK_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::tierkv::Status tk_status_ = (expr);         \
    if (!tk_status_.ok()) return tk_status_;      \
  } while (0)

// The same for functions returning Result<T>.
#define TK_RETURN_IF_ERROR_R(expr)                         \
  do {                                                     \
    ::tierkv::Status tk_status_ = (expr);                  \
    if (!tk_status_.ok()) return ::tierkv::Err(tk_status_); \
  } while (0)
