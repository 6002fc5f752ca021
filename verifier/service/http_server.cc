#include "verifier/service/http_server.h"

#include <httplib.h>
#include <openssl/crypto.h>

#include <optional>
#include <thread>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "verifier/service/metrics.h"

namespace fdattest {
namespace {

using Clock = std::chrono::steady_clock;

// What the HTTP layer knows about the request its worker is serving, from the
// first check of its headers to its log line. cpp-httplib runs the checks,
// the handler and the logger of one request on one thread, in that order.
struct RequestState {
  bool active = false;  // the headers were checked
  Clock::time_point start;
  size_t route = SIZE_MAX;  // index into the router's routes; SIZE_MAX: none
  std::map<std::string, std::string> params;
  ClientIdentity client;
  bool holds_slot = false;  // counted in in_flight
  bool body_read = false;   // the handler ran, so the body was read
  bool close_after = false;
  // A refusal answered after the body was read (so the connection stays
  // usable): the handler's place takes it instead.
  std::optional<ApiResponse> deferred;
  std::vector<std::pair<std::string, std::string>> log;
};
thread_local RequestState t_request;

// The methods cpp-httplib parses; only these are logged by name.
bool IsKnownMethod(const std::string& method) {
  static const std::set<std::string> kMethods = {"GET",     "HEAD",  "POST",    "PUT", "DELETE",
                                                 "CONNECT", "OPTIONS", "TRACE", "PATCH", "PRI"};
  return kMethods.count(method) > 0;
}

void Apply(const ApiResponse& api, httplib::Response& res) {
  res.status = api.status;
  res.set_content(api.body, api.content_type);
  for (const auto& [name, value] : api.headers) res.set_header(name, value);
}

ApiResponse WithRetryAfter(ApiResponse response, int seconds) {
  response.headers.emplace_back("Retry-After", absl::StrCat(seconds));
  return response;
}

// The problem for an error cpp-httplib answered itself (a request it could
// not parse, a URI too long), which comes without a body.
ApiResponse LibraryProblem(int status) {
  switch (status) {
    case 400:
      return Problem(400, "bad-request", "Bad request",
                     "the request is not well-formed HTTP/1.1 (or a header line exceeds 8 KiB)");
    case 413:
      return Problem(413, "payload-too-large", "Payload too large", "the body is too large");
    case 414:
      return Problem(414, "uri-too-long", "URI too long", "the request target is too long");
    case 416:
      return Problem(416, "range-not-satisfiable", "Range not satisfiable", "ranges are not served");
    default:
      return Problem(status, "http-error", "HTTP error", "the request could not be served");
  }
}

std::string MediaType(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  Router router;
  ServiceContext* context;
  AccessLog* log;
  std::atomic<int64_t> in_flight{0};
  std::unique_ptr<ConnectionPool> pool;
  std::unique_ptr<httplib::SSLServer> server;
  std::atomic<bool> stop_requested{false};

  Impl(const HttpServerOptions& o, Router r, ServiceContext* c, AccessLog* l)
      : options(o), router(std::move(r)), context(c), log(l) {}

  // The checks made on a request's headers, before its body is read;
  // fills `state`. Nothing when the request may go on.
  std::optional<ApiResponse> Check(const httplib::Request& req, RequestState& state) {
    size_t header_bytes = 0;
    for (const auto& [name, value] : req.headers) header_bytes += name.size() + value.size() + 4;
    // cpp-httplib adds the peer's address as two headers of its own.
    const size_t own = req.remote_addr.size() + absl::StrCat(req.remote_port).size() +
                       2 * (sizeof("REMOTE_ADDR") - 1 + 4);
    header_bytes = header_bytes > own ? header_bytes - own : 0;
    if (header_bytes > options.max_header_bytes) {
      return Problem(431, "headers-too-large", "Request header fields too large",
                     absl::StrCat("the request's headers exceed ", options.max_header_bytes,
                                  " bytes"));
    }
    const RouteMatch match = router.Find(req.method, req.path);
    if (match.kind == RouteMatch::Kind::kNotFound) return NotFoundProblem(req.path);
    if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
      return MethodNotAllowedProblem(req.method, match.allow);
    }
    state.route = match.index;
    state.params = match.params;
    const Route& route = router.routes()[match.index];
    state.client = IdentifyClient(req.ssl);
    if (std::optional<ApiResponse> p =
            CheckRole(route, state.client.role, state.client.has_certificate)) {
      return p;
    }
    // Bodies only with a Content-Length: a chunked or unframed body could
    // not be bounded before it is read.
    if (req.has_header("Transfer-Encoding")) {
      return Problem(411, "length-required", "Length required",
                     "send the body with Content-Length, not Transfer-Encoding");
    }
    uint64_t length = 0;
    const size_t lengths = req.get_header_value_count("Content-Length");
    if (lengths > 1 ||
        (lengths == 1 && !absl::SimpleAtoi(req.get_header_value("Content-Length"), &length))) {
      return Problem(400, "bad-request", "Bad request", "Content-Length is not one number");
    }
    if (lengths == 0 && (req.method == "POST" || req.method == "PUT")) {
      return Problem(411, "length-required", "Length required", "Content-Length is required");
    }
    if (length > options.max_body_bytes) {
      return Problem(413, "payload-too-large", "Payload too large",
                     absl::StrCat("the body exceeds ", options.max_body_bytes, " bytes"));
    }
    return CheckBody(route, MediaType(req), static_cast<size_t>(length));
  }

  // The start of every request: its state, then the checks: the refusal,
  // if any.
  std::optional<ApiResponse> Begin(const httplib::Request& req) {
    RequestState& state = t_request;
    state = RequestState();
    state.active = true;
    state.start = Clock::now();
    if (ConnectionPool::OnOverflowThread()) {
      return WithRetryAfter(Problem(503, "overloaded", "Service unavailable",
                                    "every worker is busy; retry later"),
                            options.retry_after_seconds);
    }
    return Check(req, state);
  }

  httplib::Server::HandlerResponse PreRoute(const httplib::Request& req, httplib::Response& res) {
    if (std::optional<ApiResponse> problem = Begin(req)) {
      // A refused request with a body it may send (framed, within the limit)
      // is answered once the body is read, so the next request on the
      // connection is found where it starts; any other is answered now and
      // its connection closed after the answer.
      const bool dispatched = req.method == "GET" || req.method == "POST" ||
                              req.method == "PUT" || req.method == "DELETE";
      const bool bounded_body = problem->status != 411 && problem->status != 413 &&
                                problem->status != 503 && !req.has_header("Transfer-Encoding") &&
                                req.has_header("Content-Length");
      if (dispatched && bounded_body) {
        t_request.deferred = std::move(problem);
        return httplib::Server::HandlerResponse::Unhandled;
      }
      Apply(*problem, res);
      return httplib::Server::HandlerResponse::Handled;
    }
    // A place among the requests in flight, or 503 now.
    int64_t current = in_flight.load();
    do {
      if (current >= static_cast<int64_t>(options.max_in_flight)) {
        Apply(WithRetryAfter(Problem(503, "busy", "Service unavailable",
                                     "too many requests in flight; retry later"),
                             options.retry_after_seconds),
              res);
        return httplib::Server::HandlerResponse::Handled;
      }
    } while (!in_flight.compare_exchange_weak(current, current + 1));
    t_request.holds_slot = true;
    return httplib::Server::HandlerResponse::Unhandled;
  }

  // "Expect: 100-continue": the checks answer before the client sends a
  // body that would be refused.
  int ExpectContinue(const httplib::Request& req, httplib::Response& res) {
    std::optional<ApiResponse> problem = Begin(req);
    if (!problem) return 100;
    Apply(*problem, res);
    return res.status;
  }

  void Dispatch(const httplib::Request& req, httplib::Response& res) {
    RequestState& state = t_request;
    if (state.active && state.deferred) {
      state.body_read = true;
      Apply(*state.deferred, res);
      return;
    }
    if (!state.active || state.route >= router.routes().size()) {
      Apply(Problem(500, "internal", "Internal error", "the request was not routed"), res);
      return;
    }
    state.body_read = true;
    const Route& route = router.routes()[state.route];
    ApiRequest api;
    api.method = req.method;
    api.path = req.path;
    api.path_params = state.params;
    for (const auto& [key, value] : req.params) api.query[key] = value;
    api.content_type = MediaType(req);
    // The body is moved, not copied: cpp-httplib reads it no more, and it is
    // never logged.
    api.body = std::move(const_cast<std::string&>(req.body));
    api.role = state.client.role;
    api.client_subject = state.client.subject;
    ApiResponse response;
    {
      struct InHandler {
        InHandler() { ConnectionPool::EnterHandler(); }
        ~InHandler() { ConnectionPool::LeaveHandler(); }
      } in_handler;
      response = route.handler(*context, api);
    }
    // Secrets pass through request bodies: none stays in freed memory.
    if (!api.body.empty()) OPENSSL_cleanse(api.body.data(), api.body.size());
    Apply(response, res);
    state.log = std::move(response.log);
  }

  httplib::Server::HandlerResponse Error(const httplib::Request& /*req*/,
                                         httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    Apply(LibraryProblem(res.status), res);
    return httplib::Server::HandlerResponse::Handled;
  }

  void Exception(httplib::Response& res) {
    Apply(Problem(500, "internal", "Internal error", "the verifier failed; see its log"), res);
    log->Write("handler_exception");
  }

  void Log(const httplib::Request& req, const httplib::Response& res) {
    RequestState& state = t_request;
    const double seconds =
        state.active ? std::chrono::duration<double>(Clock::now() - state.start).count() : 0;
    if (state.holds_slot) in_flight.fetch_sub(1);
    const bool had_body = req.has_header("Transfer-Encoding") ||
                          (req.has_header("Content-Length") &&
                           req.get_header_value("Content-Length") != "0");
    // A body left unread would be taken for the next request.
    if (state.close_after || (had_body && !state.body_read) || res.status == 503) {
      ConnectionPool::CloseAfterResponse();
    }
    const size_t routes = router.routes().size();
    const size_t route = state.route < routes ? state.route : routes;
    if (context->metrics != nullptr) context->metrics->RecordRequest(route, res.status, seconds);
    Json line = {
        {"route", route < routes ? router.routes()[route].pattern : std::string(Metrics::kUnmatched)},
        {"method", IsKnownMethod(req.method) ? req.method : std::string("?")},
        {"status", res.status},
        {"duration_ms", static_cast<double>(static_cast<int64_t>(seconds * 1e4)) / 10},
        {"client", state.client.subject},
        {"remote", req.remote_addr}};
    for (const auto& [key, value] : state.log) line[key] = value;
    log->Write("request", line);
    state = RequestState();
  }
};

namespace {

// cpp-httplib's task queue interface over the server's ConnectionPool (the
// library deletes the queue object it asked for; the pool lives on).
class PoolQueue : public httplib::TaskQueue {
 public:
  explicit PoolQueue(ConnectionPool* pool) : pool_(pool) {}
  void enqueue(std::function<void()> fn) override { pool_->Enqueue(std::move(fn)); }
  void shutdown() override { pool_->Drain(); }

 private:
  ConnectionPool* pool_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::New(const HttpServerOptions& options,
                                                             Router router,
                                                             ServiceContext* context,
                                                             AccessLog* log) {
  if (context == nullptr || log == nullptr) {
    return absl::InvalidArgumentError("HttpServer needs a context and a log");
  }
  if (options.threads == 0 || options.max_in_flight == 0) {
    return absl::InvalidArgumentError("threads and max in-flight requests must be positive");
  }
  auto impl = std::make_unique<Impl>(options, std::move(router), context, log);
  absl::Status tls = absl::OkStatus();
  impl->server = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    tls = ConfigureServerTls(&ctx, options.tls);
    return tls.ok();
  });
  RETURN_IF_ERROR(tls);
  if (!impl->server->is_valid()) return absl::InternalError("the TLS server could not be set up");

  ConnectionPool::Options pool;
  pool.workers = options.threads;
  pool.queue = options.queue;
  pool.overflow_queue = options.queue;
  pool.deadline = options.request_timeout;
  Impl* raw = impl.get();
  impl->pool = std::make_unique<ConnectionPool>(
      pool, [log] { log->Write("connection_timeout", {{"reason", "request not complete in time"}}); });
  context->in_flight = &impl->in_flight;

  httplib::SSLServer& s = *impl->server;
  s.new_task_queue = [raw] { return new PoolQueue(raw->pool.get()); };
  s.set_payload_max_length(options.max_body_bytes);
  s.set_read_timeout(options.read_timeout.count(), 0);
  s.set_write_timeout(options.write_timeout.count(), 0);
  s.set_keep_alive_timeout(options.keep_alive.count());
  s.set_keep_alive_max_count(1000);
  s.set_tcp_nodelay(true);
  s.set_default_headers({{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}});
  s.set_pre_routing_handler(
      [raw](const httplib::Request& req, httplib::Response& res) { return raw->PreRoute(req, res); });
  s.set_expect_100_continue_handler(
      [raw](const httplib::Request& req, httplib::Response& res) {
        return raw->ExpectContinue(req, res);
      });
  const auto dispatch = [raw](const httplib::Request& req, httplib::Response& res) {
    raw->Dispatch(req, res);
  };
  s.Get(".*", dispatch);
  s.Post(".*", dispatch);
  s.Put(".*", dispatch);
  s.Delete(".*", dispatch);
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [raw](const httplib::Request& req, httplib::Response& res) { return raw->Error(req, res); }));
  s.set_exception_handler([raw](const httplib::Request&, httplib::Response& res,
                                std::exception_ptr) { raw->Exception(res); });
  s.set_logger(
      [raw](const httplib::Request& req, const httplib::Response& res) { raw->Log(req, res); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  if (impl_->pool) impl_->pool->Stop();
}

absl::StatusOr<int> HttpServer::Bind() {
  if (impl_->options.port == 0) {
    const int port = impl_->server->bind_to_any_port(impl_->options.host);
    if (port <= 0) return absl::UnavailableError(absl::StrCat("cannot bind ", impl_->options.host));
    return port;
  }
  if (!impl_->server->bind_to_port(impl_->options.host, impl_->options.port)) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind ", impl_->options.host, ":", impl_->options.port));
  }
  return impl_->options.port;
}

absl::Status HttpServer::Serve() {
  if (impl_->stop_requested) return absl::OkStatus();
  if (!impl_->server->listen_after_bind()) {
    return absl::UnavailableError("the listening socket failed");
  }
  return absl::OkStatus();
}

void HttpServer::Stop() {
  impl_->stop_requested = true;
  // A Serve() that has not started listening yet sees stop_requested; one
  // that just started is waited for (cpp-httplib's stop() acts only on a
  // running server).
  for (int i = 0; i < 100 && !impl_->server->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  impl_->server->stop();
  impl_->pool->CloseIdleConnections();
}

}  // namespace fdattest
