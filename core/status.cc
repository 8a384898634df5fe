#include "core/status.h"

namespace tierkv {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "Ok";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kIoError: return "IoError";
    case StatusCode::kNoSpace: return "NoSpace";
    case StatusCode::kCorruption: return "Corruption";
    case StatusCode::kTimedOut: return "TimedOut";
    case StatusCode::kCancelled: return "Cancelled";
    case StatusCode::kConnectionReset: return "ConnectionReset";
    case StatusCode::kConnectionRefused: return "ConnectionRefused";
    case StatusCode::kUnreachable: return "Unreachable";
    case StatusCode::kClosed: return "Closed";
    case StatusCode::kProtocolError: return "ProtocolError";
    case StatusCode::kNotSupported: return "NotSupported";
    case StatusCode::kBusy: return "Busy";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "Ok";
  std::string out(StatusCodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace tierkv
