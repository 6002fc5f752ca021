// fdverifierd's HTTPS front: cpp-httplib's SSLServer adapted to the plain
// handler values of verifier/service/api.h. Every request is checked before
// its body is read: headers at most max_header_bytes in all (431), a route
// for its path and method (404, 405), the caller's role from the verified
// client certificate (401, 403), a Content-Length for every body and none of
// Transfer-Encoding (411), at most max_body_bytes (413), the media type its
// route takes (415), then a place among max_in_flight requests (503 with
// Retry-After when none is free). Connections are served by a bounded
// ConnectionPool (verifier/service/connection_pool.h) whose watchdog ends
// slow clients. Every response is logged as one JSON line (AccessLog) and
// counted in Metrics; error responses are problem+json (RFC 9457).
// Thread-safety: Serve() blocks in one thread; Stop() may be called from any
// other (not from a signal handler).
#ifndef FDATTEST_VERIFIER_SERVICE_HTTP_SERVER_H_
#define FDATTEST_VERIFIER_SERVICE_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "verifier/service/access_log.h"
#include "verifier/service/api.h"
#include "verifier/service/connection_pool.h"
#include "verifier/service/router.h"
#include "verifier/service/tls.h"

namespace httplib {
class SSLServer;
}

namespace fdattest {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8443;  // 0: any free port (Bind() says which)
  TlsFiles tls;
  size_t threads = 32;        // connection workers
  size_t queue = 64;          // connections waiting for a worker
  size_t max_in_flight = 32;  // requests between their headers and their response
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 8 << 10;
  std::chrono::seconds read_timeout{5};     // per read of a request
  std::chrono::seconds write_timeout{5};    // per write of a response
  std::chrono::seconds keep_alive{5};       // idle time between requests
  std::chrono::seconds request_timeout{10};  // the watchdog's deadline
  int retry_after_seconds = 1;
};

class HttpServer {
 public:
  // `context` and `log` must outlive the server; `context.metrics`, when set,
  // must count the router's routes in order. Sets context.in_flight.
  static absl::StatusOr<std::unique_ptr<HttpServer>> New(const HttpServerOptions& options,
                                                         Router router, ServiceContext* context,
                                                         AccessLog* log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; returns the port.
  absl::StatusOr<int> Bind();
  // Serves until Stop(). Returns an error if the listening socket failed.
  absl::Status Serve();
  // Stops accepting, closes idle connections, lets handlers finish; Serve()
  // then returns.
  void Stop();

  struct Impl;  // http_server.cc

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_HTTP_SERVER_H_
