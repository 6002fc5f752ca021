#include "verifier/service/metrics.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, RendersCountersHistogramAndGauges) {
  Metrics metrics({"/healthz", "/v1/attest"});
  metrics.RecordRequest(0, 200, 0.0005);
  metrics.RecordRequest(1, 200, 0.02);
  metrics.RecordRequest(1, 400, 3);
  metrics.RecordRequest(2, 404, 0.001);  // unmatched
  metrics.RecordRequest(1, 418, 0.001);  // a code without a label of its own
  metrics.RecordVerdict("affirming");
  metrics.RecordVerdict("nonsense");
  const std::string text = metrics.Render({7, 2});
  EXPECT_THAT(text, HasSubstr("fdverifierd_requests_total{route=\"/healthz\",code=\"200\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_requests_total{route=\"/v1/attest\",code=\"400\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_requests_total{route=\"none\",code=\"404\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_requests_total{route=\"/v1/attest\",code=\"other\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_verdicts_total{verdict=\"affirming\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_verdicts_total{verdict=\"warning\"} 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("nonsense")));
  // Cumulative buckets: 0.0005 and two 0.001 are <= 0.001; 0.02 <= 0.025; 3 <= 5.
  EXPECT_THAT(text, HasSubstr("fdverifierd_request_seconds_bucket{le=\"0.001\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_request_seconds_bucket{le=\"0.025\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_request_seconds_bucket{le=\"2.5\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_request_seconds_bucket{le=\"5\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_request_seconds_bucket{le=\"+Inf\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_request_seconds_count 5\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_request_seconds_sum 3.0225"));
  EXPECT_THAT(text, HasSubstr("# TYPE fdverifierd_request_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_nonces_outstanding 7\n"));
  EXPECT_THAT(text, HasSubstr("fdverifierd_requests_in_flight 2\n"));
}

TEST(MetricsTest, ConcurrentRecordingLosesNothing) {
  Metrics metrics({"/a"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) metrics.RecordRequest(0, 200, 0.003);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(metrics.Render({}),
              HasSubstr("fdverifierd_requests_total{route=\"/a\",code=\"200\"} 80000\n"));
}

}  // namespace
}  // namespace fdattest
