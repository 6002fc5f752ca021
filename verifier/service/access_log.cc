#include "verifier/service/access_log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>

#include "absl/strings/str_format.h"

namespace fdattest {
namespace {

std::string Now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const time_t seconds = static_cast<time_t>(ms / 1000);
  struct tm utc;
  gmtime_r(&seconds, &utc);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                         utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                         static_cast<int>(ms % 1000));
}

}  // namespace

void AccessLog::Write(absl::string_view event, const Json& fields) {
  // Built by hand so "event" and "time" lead the line, before the fields.
  Json head = {{"time", Now()}, {"event", std::string(event)}};
  std::string line = head.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (fields.is_object() && !fields.empty()) {
    const std::string rest = fields.dump(-1, ' ', false, Json::error_handler_t::replace);
    line.pop_back();  // '}'
    line += ",";
    line.append(rest, 1, std::string::npos);
  }
  line += "\n";
  std::lock_guard<std::mutex> lock(mu_);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a log that cannot be written never stops the service
    done += static_cast<size_t>(n);
  }
}

}  // namespace fdattest
