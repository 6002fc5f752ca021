// An HTTPS client for the verifier's JSON API on OpenSSL alone (its
// OSSL_HTTP_* client over an SSL BIO), so that the statically linked fdlaunch
// can reach the verifier: Debian ships cpp-httplib and libjose as shared
// libraries only. The server must present a certificate that chains to the
// given CA file and names the URL's host (checked by OpenSSL); TLS 1.2 at
// least. One request per connection. Immutable after New(); thread-safe.
#ifndef FDATTEST_COMMON_HTTPS_CLIENT_H_
#define FDATTEST_COMMON_HTTPS_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace fdattest {

class HttpsClient {
 public:
  struct Options {
    std::chrono::seconds timeout{30};  // the whole exchange, connect included
    size_t max_response_bytes = 4 << 20;
  };

  // `base_url` is https://HOST[:PORT] (no path, query or user); `ca_file` a
  // PEM file of the CAs the server's certificate must chain to.
  // InvalidArgument for a URL that is not of that form or an unreadable CA file.
  static absl::StatusOr<HttpsClient> New(absl::string_view base_url, const std::string& ca_file,
                                         Options options);
  static absl::StatusOr<HttpsClient> New(absl::string_view base_url, const std::string& ca_file) {
    return New(base_url, ca_file, Options());
  }

  // POSTs `body` (application/json) to `path` (starting with '/', may carry a
  // query) and returns the body of a 200 application/json answer.
  // Any other status is FailedPrecondition (4xx) or Unavailable (5xx) naming
  // the status and reason; a TLS or connection failure is Unavailable with
  // OpenSSL's reason (e.g. "certificate verify failed").
  absl::StatusOr<std::string> PostJson(absl::string_view path, absl::string_view body) const;
  absl::StatusOr<std::string> GetJson(absl::string_view path) const;

  const std::string& host() const { return host_; }
  const std::string& port() const { return port_; }

 private:
  HttpsClient(std::shared_ptr<SSL_CTX> ctx, std::string host, std::string port, Options options)
      : ctx_(std::move(ctx)), host_(std::move(host)), port_(std::move(port)), options_(options) {}
  absl::StatusOr<std::string> Exchange(absl::string_view path, const absl::string_view* body) const;

  std::shared_ptr<SSL_CTX> ctx_;
  std::string host_;
  std::string port_;
  Options options_;
};

}  // namespace fdattest

#endif  // FDATTEST_COMMON_HTTPS_CLIENT_H_
