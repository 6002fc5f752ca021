#include "verifier/service/metrics.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace fdattest {
namespace {

constexpr std::array<absl::string_view, 4> kVerdictNames = {"affirming", "warning",
                                                            "contraindicated", "broken_evidence"};

// A label value as the text format wants it: backslash, quote and newline
// escaped.
std::string LabelValue(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

Metrics::Metrics(std::vector<std::string> routes)
    : routes_(std::move(routes)),
      requests_(new std::atomic<uint64_t>[(routes_.size() + 1) * kCodeSlots]) {
  for (size_t i = 0; i < (routes_.size() + 1) * kCodeSlots; ++i) requests_[i] = 0;
}

void Metrics::RecordRequest(size_t route, int code, double seconds) {
  if (route > routes_.size()) route = routes_.size();
  size_t slot = kCodes.size();
  for (size_t i = 0; i < kCodes.size(); ++i) {
    if (kCodes[i] == code) slot = i;
  }
  requests_[route * kCodeSlots + slot].fetch_add(1, std::memory_order_relaxed);
  if (seconds < 0) seconds = 0;
  size_t bucket = kBuckets.size();
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      bucket = i;
      break;
    }
  }
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Metrics::RecordVerdict(absl::string_view verdict) {
  for (size_t i = 0; i < kVerdictNames.size(); ++i) {
    if (kVerdictNames[i] == verdict) verdicts_[i].fetch_add(1, std::memory_order_relaxed);
  }
}

std::string Metrics::Render(const Gauges& gauges) const {
  std::string out;
  absl::StrAppend(&out,
                  "# HELP fdverifierd_requests_total HTTP requests answered, by route and status.\n"
                  "# TYPE fdverifierd_requests_total counter\n");
  for (size_t r = 0; r <= routes_.size(); ++r) {
    const std::string route = LabelValue(r < routes_.size() ? routes_[r] : kUnmatched);
    for (size_t c = 0; c < kCodeSlots; ++c) {
      const uint64_t n = requests_[r * kCodeSlots + c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      absl::StrAppend(&out, "fdverifierd_requests_total{route=\"", route, "\",code=\"",
                      c < kCodes.size() ? absl::StrCat(kCodes[c]) : "other", "\"} ", n, "\n");
    }
  }
  absl::StrAppend(&out,
                  "# HELP fdverifierd_verdicts_total Attestation results, by verdict.\n"
                  "# TYPE fdverifierd_verdicts_total counter\n");
  for (size_t i = 0; i < kVerdictNames.size(); ++i) {
    absl::StrAppend(&out, "fdverifierd_verdicts_total{verdict=\"", kVerdictNames[i], "\"} ",
                    verdicts_[i].load(std::memory_order_relaxed), "\n");
  }
  absl::StrAppend(&out,
                  "# HELP fdverifierd_request_seconds Time from a request's headers to its "
                  "response.\n"
                  "# TYPE fdverifierd_request_seconds histogram\n");
  // Read the buckets once; count is their sum, so the exposition is
  // consistent even while requests are recorded.
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBuckets.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    const std::string le = i < kBuckets.size() ? absl::StrFormat("%g", kBuckets[i]) : "+Inf";
    absl::StrAppend(&out, "fdverifierd_request_seconds_bucket{le=\"", le, "\"} ", cumulative, "\n");
  }
  absl::StrAppend(&out, "fdverifierd_request_seconds_sum ",
                  absl::StrFormat("%.6f", sum_micros_.load(std::memory_order_relaxed) / 1e6), "\n",
                  "fdverifierd_request_seconds_count ", cumulative, "\n");
  absl::StrAppend(&out,
                  "# HELP fdverifierd_nonces_outstanding Issued nonces neither used nor expired.\n"
                  "# TYPE fdverifierd_nonces_outstanding gauge\n"
                  "fdverifierd_nonces_outstanding ",
                  gauges.nonces_outstanding, "\n",
                  "# HELP fdverifierd_requests_in_flight Requests between their headers and their "
                  "response.\n"
                  "# TYPE fdverifierd_requests_in_flight gauge\n"
                  "fdverifierd_requests_in_flight ",
                  gauges.requests_in_flight, "\n");
  return out;
}

}  // namespace fdattest
