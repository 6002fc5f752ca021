#include "launcher/attestor_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/frame.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status AttestorError(absl::StatusCode code, absl::string_view message) {
  return absl::Status(code, absl::StrCat("attestor: ", message));
}

absl::Status Malformed(absl::string_view op, absl::string_view why) {
  return AttestorError(absl::StatusCode::kInternal,
                       absl::StrCat("malformed response to ", op, ": ", why));
}

// Milliseconds left before `deadline` for poll(2); 0 when it has passed.
int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

// Waits until `fd` is ready for `events`; DeadlineExceeded after `deadline`.
absl::Status WaitFor(int fd, short events, Clock::time_point deadline, absl::string_view what) {
  for (;;) {
    const int ms = MillisLeft(deadline);
    if (ms == 0) {
      return AttestorError(absl::StatusCode::kDeadlineExceeded,
                           absl::StrCat("no answer in time (", what, ")"));
    }
    pollfd p{.fd = fd, .events = events, .revents = 0};
    int r = poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return AttestorError(absl::StatusCode::kInternal, strerror(errno));
    if (r > 0) return absl::OkStatus();  // readiness, HUP and ERR all show in the read/write
  }
}

absl::Status SendAll(int fd, absl::string_view data, Clock::time_point deadline) {
  size_t off = 0;
  while (off < data.size()) {
    // MSG_NOSIGNAL: a daemon that hung up must give an error, not SIGPIPE.
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline, "sending a request"));
      continue;
    }
    return AttestorError(absl::StatusCode::kUnavailable,
                         absl::StrCat("sending a request: ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status RecvExactly(int fd, char* out, size_t len, Clock::time_point deadline) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = recv(fd, out + off, len - off, 0);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      const bool before_any = off == 0 && len == kFrameHeaderBytes;
      return AttestorError(absl::StatusCode::kUnavailable,
                           before_any ? "closed the connection without an answer"
                                      : "closed the connection in the middle of an answer");
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      RETURN_IF_ERROR(WaitFor(fd, POLLIN, deadline, "waiting for an answer"));
      continue;
    }
    return AttestorError(absl::StatusCode::kUnavailable,
                         absl::StrCat("reading an answer: ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DecodeBase64Field(const std::optional<std::string>& text,
                                              absl::string_view what) {
  if (!text) return absl::InvalidArgumentError(absl::StrCat(what, " is missing"));
  auto bytes = Base64Decode(*text);
  if (!bytes.ok()) return absl::InvalidArgumentError(absl::StrCat(what, " is not base64"));
  if (bytes->empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  return *bytes;
}

absl::Status CheckLaunchId(absl::string_view launch_id) {
  if (launch_id.size() != 32 || !IsLowerHex(launch_id)) {
    return absl::InvalidArgumentError("attestor: launch id must be 32 lowercase hex digits");
  }
  return absl::OkStatus();
}

// {"kind":"nv","nv_index":N} or {"bank":"sha256","kind":"pcr","pcr":N};
// "bank":"sha256" is also accepted beside an NV index (the only bank either way).
absl::Status CheckRegisterDescription(const Json& reg) {
  JsonFields f(reg, "register");
  std::optional<std::string> kind = f.String("kind", true);
  std::optional<std::string> bank = f.String("bank", kind == "pcr");
  if (bank && *bank != "sha256") return absl::InvalidArgumentError("register: bank must be sha256");
  if (kind == "nv") {
    f.Int("nv_index", true, 0x01000000, 0x01ffffff);
  } else if (kind == "pcr") {
    f.Int("pcr", true, 0, 23);
  } else if (kind) {
    return absl::InvalidArgumentError("register: kind must be \"nv\" or \"pcr\"");
  }
  return f.Finish();
}

}  // namespace

absl::StatusOr<std::string> DecodeLowerHex(absl::string_view hex, size_t bytes,
                                           absl::string_view what) {
  const bool length_ok = bytes == 0 ? !hex.empty() && hex.size() % 2 == 0 : hex.size() == 2 * bytes;
  if (!length_ok || !IsLowerHex(hex)) {
    return absl::InvalidArgumentError(
        bytes == 0 ? absl::StrCat(what, " must be lowercase hex")
                   : absl::StrCat(what, " must be ", 2 * bytes, " lowercase hex digits"));
  }
  return HexDecode(hex);
}

absl::Status CheckServedRecord(const Json& record, absl::string_view where) {
  if (!record.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": not an object"));
  Json scalars = record;
  scalars.erase("content");
  JsonFields f(scalars, std::string(where));
  f.Int("recnum", true, 0, INT64_MAX);
  const bool nv = f.Has("nv_index"), pcr = f.Has("pcr");
  if (nv == pcr) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": needs exactly one of nv_index, pcr"));
  }
  if (nv) f.Int("nv_index", true, 0x01000000, 0x01ffffff);
  if (pcr) f.Int("pcr", true, 0, 23);
  std::optional<std::string> content_type = f.String("content_type", true);
  const Json* digests = f.Array("digests", true);
  std::optional<bool> redacted = f.Bool("redacted", false);
  RETURN_IF_ERROR(f.Finish());
  if (*content_type != "fdattest") {
    return absl::InvalidArgumentError(absl::StrCat(where, ": content_type must be \"fdattest\""));
  }
  if (digests->size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": needs exactly one digest"));
  }
  JsonFields d((*digests)[0], absl::StrCat(where, ".digests[0]"));
  std::optional<std::string> hash_alg = d.String("hashAlg", true);
  std::optional<std::string> digest = d.String("digest", true);
  RETURN_IF_ERROR(d.Finish());
  if (*hash_alg != "sha256") {
    return absl::InvalidArgumentError(absl::StrCat(where, ": hashAlg must be \"sha256\""));
  }
  RETURN_IF_ERROR(DecodeLowerHex(*digest, 32, absl::StrCat(where, ".digest")).status());

  const bool has_content = record.contains("content");
  if (has_content == (redacted == std::optional<bool>(true))) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": a record has content, or is \"redacted\": true"));
  }
  if (redacted == std::optional<bool>(false)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": \"redacted\" may only be true"));
  }
  if (has_content) {
    const Json& content = record["content"];
    if (!content.is_object() || !content.contains("data") || !content["data"].is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".content: needs a data object"));
    }
    Json rest = content;
    rest.erase("data");
    JsonFields c(rest, absl::StrCat(where, ".content"));
    c.String("type", true);
    RETURN_IF_ERROR(c.Finish());
  }
  return absl::OkStatus();
}

absl::StatusOr<AttestorClient> AttestorClient::Connect(const std::string& socket_path,
                                                       std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    return AttestorError(absl::StatusCode::kInvalidArgument,
                         absl::StrCat("socket path must be 1..", sizeof(addr.sun_path) - 1,
                                      " bytes: ", socket_path));
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    return AttestorError(absl::StatusCode::kInternal, absl::StrCat("socket: ", strerror(errno)));
  }
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) break;
    const int err = errno;
    if (err == EINTR) continue;
    // A full listen backlog: the attestor is busy; try again until the deadline.
    if (err == EAGAIN && MillisLeft(deadline) > 0) {
      poll(nullptr, 0, std::min(10, MillisLeft(deadline)));
      continue;
    }
    return AttestorError(absl::StatusCode::kUnavailable,
                         absl::StrCat("cannot connect to ", socket_path, ": ", strerror(err)));
  }
  return AttestorClient(std::move(fd), timeout);
}

absl::StatusOr<Json> AttestorClient::Call(const Json& request) {
  const std::string op = request.value("op", std::string("request"));
  if (!fd_) return AttestorError(absl::StatusCode::kFailedPrecondition, "not connected");
  ASSIGN_OR_RETURN(std::string body, CanonicalJson(request));
  absl::StatusOr<std::string> frame = EncodeFrame(body);
  if (!frame.ok()) return AttestorError(absl::StatusCode::kInvalidArgument, "request too large");

  const auto deadline = Clock::now() + timeout_;
  const absl::Status sent = SendAll(fd_.get(), *frame, deadline);
  // A daemon that refuses a peer answers and hangs up at once, so sending can
  // fail (EPIPE) while its answer is already waiting: read it either way, and
  // report the send failure only when there is no answer.
  char header[kFrameHeaderBytes];
  absl::Status io = RecvExactly(fd_.get(), header, sizeof(header), deadline);
  if (!io.ok() && !sent.ok()) io = sent;
  std::string payload;
  if (io.ok()) {
    const uint32_t len = DeclaredFrameLength(absl::string_view(header, sizeof(header)));
    if (!CheckFrameLength(len).ok()) {
      io = Malformed(op, absl::StrCat("frame length ", len));
    } else {
      payload.resize(len);
      io = RecvExactly(fd_.get(), payload.data(), len, deadline);
    }
  }
  if (!io.ok()) {
    fd_.reset();  // the stream's framing is lost: no further calls on it
    return absl::Status(io.code(), absl::StrCat(io.message(), " (", op, ")"));
  }

  auto parsed = ParseJsonStrict(payload);
  if (!parsed.ok()) return Malformed(op, parsed.status().message());
  Json response = *std::move(parsed);
  if (!response.is_object() || !response.contains("ok") || !response["ok"].is_boolean()) {
    return Malformed(op, "no \"ok\" true/false");
  }
  if (!response["ok"].get<bool>()) {
    Json rest = response;
    rest.erase("ok");
    const Json* error = rest.contains("error") ? &rest["error"] : nullptr;
    if (rest.size() != 1 || error == nullptr) return Malformed(op, "an error needs exactly \"error\"");
    JsonFields e(*error, "error");
    std::optional<std::string> code = e.String("code", true);
    std::optional<std::string> message = e.String("message", true);
    if (absl::Status s = e.Finish(); !s.ok()) return Malformed(op, s.message());
    static const std::pair<const char*, absl::StatusCode> kCodes[] = {
        {"InvalidArgument", absl::StatusCode::kInvalidArgument},
        {"PermissionDenied", absl::StatusCode::kPermissionDenied},
        {"FailedPrecondition", absl::StatusCode::kFailedPrecondition},
        {"DataLoss", absl::StatusCode::kDataLoss},
        {"Internal", absl::StatusCode::kInternal}};
    for (const auto& [name, status_code] : kCodes) {
      if (*code == name) {
        return AttestorError(status_code, absl::StrCat(op, " refused: ", *code, ": ", *message));
      }
    }
    return Malformed(op, absl::StrCat("unknown error code \"", *code, "\""));
  }
  response.erase("ok");
  return response;
}

absl::StatusOr<AttestorInfo> AttestorClient::Info() {
  ASSIGN_OR_RETURN(Json r, Call({{"op", "info"}}));
  if (!r.contains("register")) return Malformed("info", "missing \"register\"");
  AttestorInfo info;
  info.register_description = r["register"];
  if (absl::Status s = CheckRegisterDescription(info.register_description); !s.ok()) {
    return Malformed("info", s.message());
  }
  r.erase("register");
  JsonFields f(r, "info");
  std::optional<std::string> ak_public = f.String("ak_public", true);
  std::optional<std::string> ak_name = f.String("ak_name", true);
  std::optional<std::string> ak_qn = f.String("ak_qualified_name", true);
  std::optional<std::string> ek_public = f.String("ek_public", true);
  std::optional<std::string> ek_cert = f.String("ek_certificate", true);
  std::optional<int64_t> reset = f.Int("reset_count", true, 0, UINT32_MAX);
  std::optional<int64_t> restart = f.Int("restart_count", true, 0, UINT32_MAX);
  if (absl::Status s = f.Finish(); !s.ok()) return Malformed("info", s.message());
  absl::Status bad;
  auto take = [&](absl::StatusOr<std::string> v, std::string& out) {
    if (!v.ok() && bad.ok()) bad = v.status();
    if (v.ok()) out = *std::move(v);
  };
  take(DecodeBase64Field(ak_public, "ak_public"), info.ak_public);
  take(DecodeLowerHex(*ak_name, 0, "ak_name"), info.ak_name);
  take(DecodeLowerHex(*ak_qn, 0, "ak_qualified_name"), info.ak_qualified_name);
  take(DecodeBase64Field(ek_public, "ek_public"), info.ek_public);
  take(DecodeBase64Field(ek_cert, "ek_certificate"), info.ek_certificate);
  if (!bad.ok()) return Malformed("info", bad.message());
  info.reset_count = static_cast<uint32_t>(*reset);
  info.restart_count = static_cast<uint32_t>(*restart);
  return info;
}

namespace {
absl::StatusOr<uint64_t> ParseRecnum(Json r, absl::string_view op) {
  JsonFields f(r, std::string(op));
  std::optional<int64_t> recnum = f.Int("recnum", true, 0, INT64_MAX);
  if (absl::Status s = f.Finish(); !s.ok()) return Malformed(op, s.message());
  return static_cast<uint64_t>(*recnum);
}
}  // namespace

absl::StatusOr<uint64_t> AttestorClient::MeasureManifest(absl::string_view launch_id,
                                                         const Sha256Digest& manifest_sha256) {
  RETURN_IF_ERROR(CheckLaunchId(launch_id));
  ASSIGN_OR_RETURN(Json r, Call({{"op", "measure"},
                                 {"type", "launch_manifest"},
                                 {"launch_id", std::string(launch_id)},
                                 {"manifest_sha256", HexEncode(manifest_sha256)}}));
  return ParseRecnum(std::move(r), "measure launch_manifest");
}

absl::StatusOr<uint64_t> AttestorClient::MeasureSeparator(absl::string_view launch_id) {
  RETURN_IF_ERROR(CheckLaunchId(launch_id));
  ASSIGN_OR_RETURN(Json r, Call({{"op", "measure"},
                                 {"type", "launch_separator"},
                                 {"launch_id", std::string(launch_id)}}));
  return ParseRecnum(std::move(r), "measure launch_separator");
}

absl::StatusOr<AttestorCertification> AttestorClient::Certify(absl::string_view qualifying_data) {
  if (qualifying_data.empty() || qualifying_data.size() > 64) {
    return AttestorError(absl::StatusCode::kInvalidArgument, "qualifying data must be 1..64 bytes");
  }
  ASSIGN_OR_RETURN(Json r, Call({{"op", "certify"}, {"qualifying_data", HexEncode(qualifying_data)}}));
  JsonFields f(r, "certify");
  std::optional<std::string> attest = f.String("attest", true);
  std::optional<std::string> signature = f.String("signature", true);
  std::optional<std::string> value = f.String("register_value", true);
  if (absl::Status s = f.Finish(); !s.ok()) return Malformed("certify", s.message());
  AttestorCertification cert;
  auto a = DecodeBase64Field(attest, "attest");
  if (!a.ok()) return Malformed("certify", a.status().message());
  cert.attest = *std::move(a);
  auto sig = DecodeBase64Field(signature, "signature");
  if (!sig.ok()) return Malformed("certify", sig.status().message());
  cert.signature = *std::move(sig);
  auto v = DecodeLowerHex(*value, 32, "register_value");
  if (!v.ok()) return Malformed("certify", v.status().message());
  std::copy(v->begin(), v->end(), cert.register_value.begin());
  return cert;
}

absl::StatusOr<Json> AttestorClient::Log(absl::string_view launch_id) {
  RETURN_IF_ERROR(CheckLaunchId(launch_id));
  ASSIGN_OR_RETURN(Json r, Call({{"op", "log"}, {"launch_id", std::string(launch_id)}}));
  JsonFields f(r, "log");
  const Json* records = f.Array("records", true);
  if (absl::Status s = f.Finish(); !s.ok()) return Malformed("log", s.message());
  for (size_t i = 0; i < records->size(); ++i) {
    if (absl::Status s = CheckServedRecord((*records)[i], absl::StrCat("records[", i, "]"));
        !s.ok()) {
      return Malformed("log", s.message());
    }
  }
  return *records;
}

}  // namespace fdattest
