#include "common/json.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace fdattest {

absl::StatusOr<Json> ParseJsonStrict(absl::string_view text, JsonLimits limits) {
  if (text.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON document is ", text.size(), " bytes; the limit is ", limits.max_bytes));
  }
  // One set of seen keys per open object; the parser callback sees keys in
  // document order, so a duplicate is detected where it occurs.
  std::vector<std::set<std::string>> seen;
  std::string error;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) -> bool {
    if (!error.empty()) return false;
    switch (event) {
      case Json::parse_event_t::object_start:
        seen.emplace_back();
        [[fallthrough]];
      case Json::parse_event_t::array_start:
        if (depth >= limits.max_depth) {
          error = absl::StrCat("JSON nesting deeper than ", limits.max_depth);
          return false;
        }
        break;
      case Json::parse_event_t::object_end:
        if (!seen.empty()) seen.pop_back();
        break;
      case Json::parse_event_t::key: {
        const std::string& key = parsed.get_ref<const std::string&>();
        if (seen.empty() || !seen.back().insert(key).second) {
          error = absl::StrCat("duplicate JSON key \"", key, "\"");
          return false;
        }
        break;
      }
      default:
        break;
    }
    return true;
  };
  Json result;
  try {
    result = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true,
                         /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    if (!error.empty()) return absl::InvalidArgumentError(error);
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", e.what()));
  }
  if (!error.empty()) return absl::InvalidArgumentError(error);
  if (result.is_discarded()) return absl::InvalidArgumentError("malformed JSON");
  return result;
}

namespace {
absl::Status CheckNoFloats(const Json& v) {
  if (v.is_number_float()) return absl::InvalidArgumentError("floating-point number in canonical JSON");
  if (v.is_structured()) {
    for (const auto& item : v) RETURN_IF_ERROR(CheckNoFloats(item));
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<std::string> CanonicalJson(const Json& value) {
  RETURN_IF_ERROR(CheckNoFloats(value));
  // nlohmann::json keeps objects in a std::map, so keys come out sorted by
  // bytewise comparison; indent -1 emits no whitespace; strict UTF-8.
  try {
    return value.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot serialise JSON: ", e.what()));
  }
}

JsonFields::JsonFields(const Json& object, std::string where)
    : object_(object), where_(std::move(where)) {
  if (!object_.is_object()) Fail("must be a JSON object");
}

void JsonFields::Fail(std::string message) {
  if (first_error_.ok()) {
    first_error_ = absl::InvalidArgumentError(absl::StrCat(where_, ": ", message));
  }
}

bool JsonFields::Has(absl::string_view key) const {
  return object_.is_object() && object_.contains(key);
}

const Json* JsonFields::Find(absl::string_view key, bool required) {
  known_.emplace(key);
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(key);
  if (it == object_.end()) {
    if (required) Fail(absl::StrCat("missing required key \"", key, "\""));
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> JsonFields::String(absl::string_view key, bool required) {
  const Json* v = Find(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Fail(absl::StrCat("\"", key, "\" must be a string"));
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<int64_t> JsonFields::Int(absl::string_view key, bool required, int64_t min,
                                       int64_t max) {
  const Json* v = Find(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) {
    Fail(absl::StrCat("\"", key, "\" must be an integer"));
    return std::nullopt;
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) {
    Fail(absl::StrCat("\"", key, "\" must be between ", min, " and ", max));
    return std::nullopt;
  }
  int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
    Fail(absl::StrCat("\"", key, "\" must be between ", min, " and ", max));
    return std::nullopt;
  }
  return n;
}

std::optional<uint64_t> JsonFields::Uint(absl::string_view key, bool required, uint64_t max) {
  const Json* v = Find(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer() || (!v->is_number_unsigned() && v->get<int64_t>() < 0)) {
    Fail(absl::StrCat("\"", key, "\" must be a non-negative integer"));
    return std::nullopt;
  }
  uint64_t n = v->get<uint64_t>();
  if (n > max) {
    Fail(absl::StrCat("\"", key, "\" must be at most ", max));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> JsonFields::Bool(absl::string_view key, bool required) {
  const Json* v = Find(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    Fail(absl::StrCat("\"", key, "\" must be true or false"));
    return std::nullopt;
  }
  return v->get<bool>();
}

const Json* JsonFields::Array(absl::string_view key, bool required) {
  const Json* v = Find(key, required);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) {
    Fail(absl::StrCat("\"", key, "\" must be an array"));
    return nullptr;
  }
  return v;
}

const Json* JsonFields::Object(absl::string_view key, bool required) {
  const Json* v = Find(key, required);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    Fail(absl::StrCat("\"", key, "\" must be an object"));
    return nullptr;
  }
  return v;
}

absl::Status JsonFields::Finish() {
  if (!first_error_.ok()) return first_error_;
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (!known_.contains(it.key())) {
      return absl::InvalidArgumentError(absl::StrCat(where_, ": unknown key \"", it.key(), "\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace fdattest
