// fdverifierd's metrics, served at GET /metrics in the Prometheus text format
// (version 0.0.4): fdverifierd_requests_total{route,code} (counter),
// fdverifierd_verdicts_total{verdict} (counter), fdverifierd_request_seconds
// (histogram), and the gauges fdverifierd_nonces_outstanding and
// fdverifierd_requests_in_flight, whose values the caller passes to Render().
// Every counter is a relaxed atomic in a table fixed at construction: the
// recording calls take no lock and allocate nothing. Thread-safe.
#ifndef FDATTEST_VERIFIER_SERVICE_METRICS_H_
#define FDATTEST_VERIFIER_SERVICE_METRICS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace fdattest {

class Metrics {
 public:
  // The status codes counted by their own label; any other is counted as
  // code "other".
  static constexpr std::array<int, 17> kCodes = {200, 400, 401, 403, 404, 405, 409, 411, 413,
                                                 414, 415, 416, 429, 431, 500, 501, 503};
  // Upper bounds of the latency histogram's buckets, in seconds (+Inf added).
  static constexpr std::array<double, 13> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,  0.1,    0.25,  0.5,  1,
                                                      2.5,   5,      10};
  // Label of requests that matched no route.
  static constexpr absl::string_view kUnmatched = "none";

  // `routes` are the route labels (patterns such as "/v1/policies/{id}");
  // RecordRequest's `route` indexes them, and routes.size() means unmatched.
  explicit Metrics(std::vector<std::string> routes);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void RecordRequest(size_t route, int code, double seconds);
  // `verdict` is a VerdictName (verifier/verify.h); anything else is ignored.
  void RecordVerdict(absl::string_view verdict);

  struct Gauges {
    int64_t nonces_outstanding = 0;
    int64_t requests_in_flight = 0;
  };
  std::string Render(const Gauges& gauges) const;

 private:
  static constexpr size_t kCodeSlots = kCodes.size() + 1;  // + "other"
  static constexpr size_t kVerdicts = 4;
  std::vector<std::string> routes_;
  std::unique_ptr<std::atomic<uint64_t>[]> requests_;  // (routes + 1) x kCodeSlots
  std::array<std::atomic<uint64_t>, kVerdicts> verdicts_{};
  std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets_{};  // not cumulative
  std::atomic<uint64_t> sum_micros_{0};
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_METRICS_H_
