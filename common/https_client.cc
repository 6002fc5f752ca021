#include "common/https_client.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/httperr.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <ctime>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace fdattest {
namespace {

struct TlsSetup {
  SSL_CTX* ctx;
  const std::string* host;
};

bool IsIpAddress(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// OSSL_HTTP_transfer's hook: wraps the connected socket BIO in TLS (and
// unwraps it again when the exchange ends), as OpenSSL's own apps do.
BIO* TlsBioCallback(BIO* bio, void* arg, int connect, int /*detail*/) {
  auto* setup = static_cast<TlsSetup*>(arg);
  if (connect) {
    BIO* sbio = BIO_new(BIO_f_ssl());
    SSL* ssl = sbio == nullptr ? nullptr : SSL_new(setup->ctx);
    if (ssl == nullptr) {
      BIO_free(sbio);
      return nullptr;
    }
    const std::string& host = *setup->host;
    bool named = IsIpAddress(host)
                     ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1
                     : SSL_set1_host(ssl, host.c_str()) == 1 &&
                           SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
    if (!named) {
      SSL_free(ssl);
      BIO_free(sbio);
      return nullptr;
    }
    SSL_set_connect_state(ssl);
    BIO_set_ssl(sbio, ssl, BIO_CLOSE);
    return BIO_push(sbio, bio);
  }
  ERR_set_mark();
  BIO_ssl_shutdown(bio);
  BIO* inner = BIO_pop(bio);
  BIO_free(bio);
  ERR_pop_to_mark();
  return inner;
}

// The reason for the failed exchange from OpenSSL's error queue: an HTTP
// status the server answered, or the first TLS/connection error.
absl::Status ExchangeError(absl::string_view what) {
  std::string reasons;
  unsigned long code;
  const char* data = nullptr;
  int flags = 0;
  while ((code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    const bool has_data = (flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0';
    if (ERR_GET_LIB(code) == ERR_LIB_HTTP && ERR_GET_REASON(code) == HTTP_R_RECEIVED_ERROR &&
        has_data) {
      // "code=409,reason=Conflict"
      int status = 0;
      std::string reason;
      for (absl::string_view part : absl::StrSplit(data, ',')) {
        if (absl::ConsumePrefix(&part, "code=")) (void)absl::SimpleAtoi(part, &status);
        if (absl::ConsumePrefix(&part, "reason=")) reason = std::string(part);
      }
      ERR_clear_error();
      std::string message = absl::StrCat(what, ": the verifier answered HTTP ", status, " ", reason);
      if (status >= 500) return absl::UnavailableError(message);
      return absl::FailedPreconditionError(message);
    }
    if (!reasons.empty()) reasons += "; ";
    const char* reason = ERR_reason_error_string(code);
    absl::StrAppend(&reasons, reason != nullptr ? reason : "unknown error");
    if (has_data) absl::StrAppend(&reasons, " (", data, ")");
  }
  if (reasons.empty()) reasons = "connection failed";
  return absl::UnavailableError(absl::StrCat(what, ": ", reasons));
}

}  // namespace

absl::StatusOr<HttpsClient> HttpsClient::New(absl::string_view base_url, const std::string& ca_file,
                                             Options options) {
  const std::string url(base_url);
  int use_ssl = 0;
  char *user = nullptr, *host = nullptr, *port = nullptr, *path = nullptr, *query = nullptr,
       *frag = nullptr;
  ERR_set_mark();
  const int parsed =
      OSSL_HTTP_parse_url(url.c_str(), &use_ssl, &user, &host, &port, nullptr, &path, &query, &frag);
  ERR_pop_to_mark();
  std::string host_s = host != nullptr ? host : "", port_s = port != nullptr ? port : "";
  auto empty = [](const char* s) { return s == nullptr || *s == '\0'; };
  const bool bare = empty(user) && empty(query) && empty(frag) &&
                    (empty(path) || std::string(path) == "/") &&
                    url.find_first_of("?#@") == std::string::npos;
  OPENSSL_free(user);
  OPENSSL_free(host);
  OPENSSL_free(port);
  OPENSSL_free(path);
  OPENSSL_free(query);
  OPENSSL_free(frag);
  if (parsed != 1 || !use_ssl || !absl::StartsWith(url, "https://") || !bare || host_s.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier URL \"", url, "\": expected https://HOST[:PORT]"));
  }

  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (ctx == nullptr || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
    return absl::InternalError("cannot make a TLS context");
  }
  if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("CA file ", ca_file, ": unreadable or not PEM certificates"));
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return HttpsClient(std::move(ctx), std::move(host_s), std::move(port_s), options);
}

absl::StatusOr<std::string> HttpsClient::PostJson(absl::string_view path,
                                                  absl::string_view body) const {
  return Exchange(path, &body);
}

absl::StatusOr<std::string> HttpsClient::GetJson(absl::string_view path) const {
  return Exchange(path, nullptr);
}

absl::StatusOr<std::string> HttpsClient::Exchange(absl::string_view path,
                                                  const absl::string_view* body) const {
  if (!absl::StartsWith(path, "/")) return absl::InvalidArgumentError("path must start with '/'");
  const std::string path_s(path);
  const std::string what = absl::StrCat(body != nullptr ? "POST " : "GET ", path_s);
  ERR_clear_error();
  std::unique_ptr<BIO, decltype(&BIO_free)> request(nullptr, BIO_free);
  if (body != nullptr) {
    request.reset(BIO_new_mem_buf(body->data(), static_cast<int>(body->size())));
    if (request == nullptr) return absl::InternalError("out of memory");
  }
  TlsSetup setup{ctx_.get(), &host_};
  const int timeout = static_cast<int>(options_.timeout.count());
  // proxy "": never a proxy from the environment (https_proxy).
  OSSL_HTTP_REQ_CTX* rctx =
      OSSL_HTTP_open(host_.c_str(), port_.c_str(), /*proxy=*/"", /*no_proxy=*/nullptr,
                     /*use_ssl=*/1, nullptr, nullptr, TlsBioCallback, &setup, /*buf_size=*/0,
                     timeout);
  if (rctx == nullptr) return ExchangeError(what);
  // A response that is not ASN.1 is streamed from the connection, which must
  // stay open until it has been read: closed (and the TLS layer unwound) last.
  std::unique_ptr<OSSL_HTTP_REQ_CTX, void (*)(OSSL_HTTP_REQ_CTX*)> owned(
      rctx, [](OSSL_HTTP_REQ_CTX* r) { OSSL_HTTP_close(r, 1); });
  if (OSSL_HTTP_set1_request(rctx, path_s.c_str(), /*headers=*/nullptr,
                             body != nullptr ? "application/json" : nullptr, request.get(),
                             "application/json", /*expect_asn1=*/0, options_.max_response_bytes,
                             timeout, /*keep_alive=*/0) != 1) {
    return ExchangeError(what);
  }
  BIO* response = OSSL_HTTP_exchange(rctx, nullptr);
  if (response == nullptr) return ExchangeError(what);
  std::string out;
  char buf[4096];
  // The connection is non-blocking: a body that has not arrived yet reads
  // as "retry", not as its end. Wait for it until the exchange's deadline.
  const time_t deadline = time(nullptr) + timeout;
  for (;;) {
    const int n = BIO_read(response, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      if (out.size() > options_.max_response_bytes) {
        BIO_free(response);
        return absl::FailedPreconditionError(
            absl::StrCat(what, ": the answer exceeds ", options_.max_response_bytes, " bytes"));
      }
      continue;
    }
    if (!BIO_should_retry(response)) break;  // the end of the answer
    if (BIO_wait(response, deadline, 10) != 1) {
      BIO_free(response);
      return absl::UnavailableError(absl::StrCat(what, ": the answer did not arrive in time"));
    }
  }
  BIO_free(response);  // OSSL_HTTP_exchange's reference
  ERR_clear_error();
  return out;
}

}  // namespace fdattest
