#include "common/status.h"

#include <openssl/err.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace fdattest {

absl::Status ErrnoStatus(absl::string_view what, int err) {
  std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case EACCES:
    case EPERM:
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG:
    case EBADF:
    case ECONNREFUSED:
    case ENOTSOCK:
    case EROFS:
    case ENXIO:
    case ETXTBSY:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::Status OpenSslStatus(absl::string_view what) {
  std::string detail;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!detail.empty()) detail += "; ";
    detail += buf;
  }
  if (detail.empty()) detail = "unknown OpenSSL error";
  return absl::InternalError(absl::StrCat(what, ": ", detail));
}

}  // namespace fdattest
