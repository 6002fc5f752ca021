// A differential oracle for JsonDocument (common/json.h): nlohmann's parser,
// through ParseJsonStrict, must accept the same texts and give the same
// values, and CanonicalJson() of those values must be the text exactly when
// the document says it is canonical. Header-only; for
// json_test and the evidence fuzzer.
#ifndef FDATTEST_TESTS_SUPPORT_JSON_ORACLE_H_
#define FDATTEST_TESTS_SUPPORT_JSON_ORACLE_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/json.h"

namespace fdattest {

// The value as nlohmann::json; false when it holds a float (a JsonDocument
// keeps no value for those).
inline bool JsonValueToNlohmann(const JsonValue& v, Json* out) {
  switch (v.type()) {
    case JsonValue::Type::kNull: *out = nullptr; return true;
    case JsonValue::Type::kBool: *out = v.boolean(); return true;
    case JsonValue::Type::kInt: *out = v.int64(); return true;
    case JsonValue::Type::kUint: *out = v.uint64(); return true;
    case JsonValue::Type::kFloat: return false;
    case JsonValue::Type::kString: *out = std::string(v.str()); return true;
    case JsonValue::Type::kArray: {
      *out = Json::array();
      for (const JsonValue& item : v) {
        Json j;
        if (!JsonValueToNlohmann(item, &j)) return false;
        out->push_back(std::move(j));
      }
      return true;
    }
    case JsonValue::Type::kObject: {
      *out = Json::object();
      for (size_t i = 0; i < v.size(); ++i) {
        Json j;
        if (!JsonValueToNlohmann(v[i], &j)) return false;
        (*out)[std::string(v.key(i))] = std::move(j);
      }
      return true;
    }
  }
  return false;
}

// Empty when ParseJsonDocument and the oracle agree on `text`.
inline std::string CompareJsonDocumentWithOracle(absl::string_view text) {
  const JsonLimits limits{.max_bytes = text.size() + 1, .max_depth = 32, .max_values = SIZE_MAX};
  absl::StatusOr<JsonDocument> doc = ParseJsonDocument(text, limits);
  if (text.substr(0, 3) == "\xef\xbb\xbf") {
    // nlohmann skips a byte-order mark; the document reader refuses it.
    return doc.ok() ? "accepted a byte-order mark" : "";
  }
  absl::StatusOr<Json> strict = ParseJsonStrict(text, limits);
  if (doc.ok() != strict.ok()) {
    return absl::StrCat("acceptance differs: document ", doc.status().ToString(), "; oracle ",
                        strict.status().ToString());
  }
  if (!doc.ok()) return "";
  Json mine;
  if (JsonValueToNlohmann(doc->root(), &mine) && mine != *strict) {
    return absl::StrCat("values differ: ", mine.dump(), " vs ", strict->dump());
  }
  absl::StatusOr<std::string> canonical = CanonicalJson(*strict);
  const bool is_canonical = canonical.ok() && *canonical == text;
  if (is_canonical != doc->canonical()) {
    return absl::StrCat("document says canonical=", doc->canonical());
  }
  return "";
}

}  // namespace fdattest

#endif  // FDATTEST_TESTS_SUPPORT_JSON_ORACLE_H_
