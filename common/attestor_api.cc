#include "common/attestor_api.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

int MillisLeft(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return 0;
  return left.count() > 60000 ? 60000 : static_cast<int>(left.count());
}

// Waits until `fd` is ready for `events` or the deadline passes.
absl::Status WaitFor(int fd, short events, Deadline deadline) {
  for (;;) {
    int ms = MillisLeft(deadline);
    if (ms == 0) return absl::DeadlineExceededError("timed out waiting for the attestor socket");
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("poll", errno);
    }
    if (n > 0) return absl::OkStatus();
  }
}

absl::Status ReadExactly(int fd, char* out, size_t size, Deadline deadline, bool* got_any) {
  size_t off = 0;
  while (off < size) {
    RETURN_IF_ERROR(WaitFor(fd, POLLIN, deadline));
    ssize_t n = read(fd, out + off, size - off);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return absl::FailedPreconditionError("connection closed (reset)");
      return ErrnoStatus("read from the attestor socket", errno);
    }
    if (n == 0) return absl::FailedPreconditionError("connection closed");
    off += static_cast<size_t>(n);
    *got_any = true;
  }
  return absl::OkStatus();
}

absl::StatusOr<Sha256Digest> DigestFromHex(absl::string_view hex, absl::string_view key) {
  if (hex.size() != 64 || !IsLowerHex(hex)) {
    return absl::InvalidArgumentError(
        absl::StrCat("request: \"", key, "\" must be 64 lowercase hex digits"));
  }
  ASSIGN_OR_RETURN(std::string bytes, HexDecode(hex));
  Sha256Digest d;
  std::memcpy(d.data(), bytes.data(), d.size());
  return d;
}

absl::Status CheckLaunchIdField(absl::string_view id) {
  if (id.size() != 32 || !IsLowerHex(id)) {
    return absl::InvalidArgumentError(
        "request: \"launch_id\" must be 32 lowercase hex digits");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFrame(int fd, absl::string_view payload, Deadline deadline) {
  ASSIGN_OR_RETURN(std::string frame, EncodeFrame(payload));
  size_t off = 0;
  while (off < frame.size()) {
    RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline));
    ssize_t n = send(fd, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == EPIPE || errno == ECONNRESET) {
        return absl::FailedPreconditionError("connection closed");
      }
      return ErrnoStatus("write to the attestor socket", errno);
    }
    off += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFrame(int fd, Deadline deadline) {
  char header[kFrameHeaderBytes];
  bool got_any = false;
  RETURN_IF_ERROR(ReadExactly(fd, header, sizeof(header), deadline, &got_any));
  const uint32_t n = DeclaredFrameLength(absl::string_view(header, sizeof(header)));
  RETURN_IF_ERROR(CheckFrameLength(n));
  std::string payload(n, '\0');
  RETURN_IF_ERROR(ReadExactly(fd, payload.data(), n, deadline, &got_any));
  return payload;
}

absl::string_view OpName(Request::Op op) {
  switch (op) {
    case Request::Op::kInfo:
      return "info";
    case Request::Op::kMeasure:
      return "measure";
    case Request::Op::kCertify:
      return "certify";
    case Request::Op::kLog:
      return "log";
  }
  return "?";
}

absl::StatusOr<Request> ParseRequest(absl::string_view payload) {
  absl::StatusOr<Json> json =
      ParseJsonStrict(payload, {.max_bytes = kMaxFrameBytes, .max_depth = 4});
  if (!json.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request is not valid JSON: ", json.status().message()));
  }
  if (!json->is_object()) return absl::InvalidArgumentError("request must be a JSON object");
  JsonFields fields(*json, "request");
  std::optional<std::string> op = fields.String("op", /*required=*/true);
  if (!op.has_value()) return fields.Finish();

  Request request;
  if (*op == "info") {
    request.op = Request::Op::kInfo;
    RETURN_IF_ERROR(fields.Finish());
  } else if (*op == "measure") {
    request.op = Request::Op::kMeasure;
    std::optional<std::string> type = fields.String("type", true);
    std::optional<std::string> launch_id = fields.String("launch_id", true);
    std::optional<std::string> manifest_sha256;
    if (type.has_value() && *type == "launch_manifest") {
      manifest_sha256 = fields.String("manifest_sha256", true);
    }
    RETURN_IF_ERROR(fields.Finish());
    RETURN_IF_ERROR(CheckLaunchIdField(*launch_id));
    if (*type == "launch_manifest") {
      ASSIGN_OR_RETURN(Sha256Digest digest, DigestFromHex(*manifest_sha256, "manifest_sha256"));
      ASSIGN_OR_RETURN(CelContent content, CelContent::LaunchManifestDigest(*launch_id, digest));
      request.content = std::move(content);
    } else if (*type == "launch_separator") {
      ASSIGN_OR_RETURN(CelContent content, CelContent::LaunchSeparator(*launch_id));
      request.content = std::move(content);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "request: unknown measure type \"", *type,
          "\" (launch_manifest or launch_separator)"));
    }
  } else if (*op == "certify") {
    request.op = Request::Op::kCertify;
    std::optional<std::string> hex = fields.String("qualifying_data", true);
    RETURN_IF_ERROR(fields.Finish());
    absl::StatusOr<std::string> bytes = HexDecode(*hex);
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("request: \"qualifying_data\" is not hex: ", bytes.status().message()));
    }
    if (bytes->empty() || bytes->size() > kMaxQualifyingDataBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("request: \"qualifying_data\" must be 1 to ", kMaxQualifyingDataBytes,
                       " bytes; got ", bytes->size()));
    }
    request.qualifying_data = *std::move(bytes);
  } else if (*op == "log") {
    request.op = Request::Op::kLog;
    std::optional<std::string> launch_id = fields.String("launch_id", true);
    RETURN_IF_ERROR(fields.Finish());
    RETURN_IF_ERROR(CheckLaunchIdField(*launch_id));
    request.launch_id = *launch_id;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("request: unknown op \"", *op, "\" (info, measure, certify or log)"));
  }
  return request;
}

absl::string_view ErrorCodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case absl::StatusCode::kPermissionDenied:
      return "PermissionDenied";
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return "FailedPrecondition";
    case absl::StatusCode::kDataLoss:
      return "DataLoss";
    default:
      return "Internal";
  }
}

Json ErrorResponse(const absl::Status& status) {
  Json error = Json::object();
  error["code"] = std::string(ErrorCodeName(status.code()));
  error["message"] = std::string(status.message());
  Json response = Json::object();
  response["ok"] = false;
  response["error"] = std::move(error);
  return response;
}

std::string SerializeResponse(const Json& response) {
  absl::StatusOr<std::string> text = CanonicalJson(response);
  if (!text.ok()) {
    text = CanonicalJson(ErrorResponse(absl::InternalError(
        absl::StrCat("cannot encode the response: ", text.status().message()))));
  }
  if (text.ok() && text->size() > kMaxFrameBytes) {
    text = CanonicalJson(ErrorResponse(absl::FailedPreconditionError(
        absl::StrCat("the response (", text->size(), " bytes) exceeds the frame limit of ",
                     kMaxFrameBytes, " bytes"))));
  }
  if (!text.ok()) {
    return R"({"error":{"code":"Internal","message":"cannot encode the response"},"ok":false})";
  }
  return *std::move(text);
}

}  // namespace fdattest
