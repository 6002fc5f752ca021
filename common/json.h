// The JSON adapter: the only place fdattest parses JSON text. Parsing is strict
// (duplicate keys, excessive depth and oversized input are errors, never
// "last one wins"), and serialisation is canonical (see docs/formats/canonical-json.md):
// object keys sorted bytewise, no insignificant whitespace, integers only.
//
// Two readers:
//  - ParseJsonStrict gives an nlohmann::json: for files people write (profiles,
//    policies) and small protocol frames.
//  - ParseJsonDocument gives a read-only JsonDocument built in one pass over
//    the text, which also tells whether the text is exactly the canonical
//    serialisation of its value: for what fdattest hashes and signs (evidence
//    bundles, manifests, event-log records), read at the verifier's rate.
// Both enforce JsonLimits.
// BasicJsonFields reads one object of either kind field by field, keeps the
// first error, and at Finish() rejects keys nobody asked for.
// Stateless functions; thread-safe.
#ifndef FDATTEST_COMMON_JSON_H_
#define FDATTEST_COMMON_JSON_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"

#include "common/status.h"
#include "nlohmann/json.hpp"

namespace fdattest {

using Json = nlohmann::json;

struct JsonLimits {
  size_t max_bytes = 1 << 20;
  int max_depth = 32;
  size_t max_values = 1 << 18;  // scalars and containers together
};

// Syntax errors of both readers say where: "malformed JSON: <what> at line L,
// column C (byte B)", lines and columns counted from 1, columns in UTF-8
// characters. The place is the offending byte: ParseJsonDocument's is the
// first of the offending token, ParseJsonStrict's (nlohmann's) the last.
absl::StatusOr<Json> ParseJsonStrict(absl::string_view text, JsonLimits limits = {});

// "line L, column C (byte B)" of byte `offset` of `text` (clamped to its end).
std::string JsonTextPosition(absl::string_view text, size_t offset);

// One value of a JsonDocument. Objects keep their members sorted by key
// (bytewise), so lookups are binary searches. Floating-point numbers and
// integers outside 64 bits are kept as kFloat, without a value: nothing in
// fdattest reads one, and they have no canonical form.
class JsonValue {
 public:
  enum class Type : uint8_t { kNull, kBool, kInt, kUint, kFloat, kString, kArray, kObject };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_boolean() const { return type_ == Type::kBool; }
  // Like nlohmann::json: non-negative integers are unsigned, negative ones signed.
  bool is_number_integer() const { return type_ == Type::kInt || type_ == Type::kUint; }
  bool is_number_unsigned() const { return type_ == Type::kUint; }
  bool is_number_float() const { return type_ == Type::kFloat; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // Typed reads; the caller has checked the type.
  bool boolean() const { return number_ != 0; }
  int64_t int64() const { return static_cast<int64_t>(number_); }
  uint64_t uint64() const { return number_; }
  absl::string_view str() const {
    return type_ == Type::kString ? absl::string_view(data_, length_) : absl::string_view();
  }
  template <typename T>
  T get() const;

  // Elements of an array, members of an object (0 for scalars).
  size_t size() const { return type_ == Type::kArray || type_ == Type::kObject ? length_ : 0; }
  bool empty() const { return size() == 0; }
  const JsonValue& operator[](size_t i) const { return *items_[i]; }
  absl::string_view key(size_t i) const { return keys_[i]; }
  // The index of an object member, or -1 (also for non-objects).
  ptrdiff_t IndexOf(absl::string_view key) const;
  const JsonValue* find(absl::string_view key) const;
  bool contains(absl::string_view key) const { return IndexOf(key) >= 0; }

  class Iterator {
   public:
    explicit Iterator(const JsonValue* const* p) : p_(p) {}
    const JsonValue& operator*() const { return **p_; }
    Iterator& operator++() {
      ++p_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return p_ != o.p_; }

   private:
    const JsonValue* const* p_;
  };
  // Array elements or object member values, in order.
  Iterator begin() const { return Iterator(items_); }
  Iterator end() const { return Iterator(items_ + size()); }

 private:
  friend class JsonDocumentBuilder;
  Type type_ = Type::kNull;
  uint64_t number_ = 0;          // kBool, kInt (two's complement), kUint
  const char* data_ = nullptr;   // kString: the unescaped UTF-8
  size_t length_ = 0;            // kString: bytes; containers: entries
  const JsonValue* const* items_ = nullptr;
  const absl::string_view* keys_ = nullptr;  // objects only
};

template <>
std::string JsonValue::get<std::string>() const;
template <>
int64_t JsonValue::get<int64_t>() const;
template <>
uint64_t JsonValue::get<uint64_t>() const;
template <>
bool JsonValue::get<bool>() const;

// A parsed document. Movable; the values stay where they are.
class JsonDocument {
 public:
  const JsonValue& root() const;
  // True when the text is exactly CanonicalJson() of its value: no
  // whitespace, keys in order, escapes and numbers as CanonicalJson writes them.
  bool canonical() const;

 private:
  friend class JsonDocumentBuilder;
  struct Storage;
  std::shared_ptr<const Storage> storage_;
};

// Strict like ParseJsonStrict (duplicate keys, the limits, valid UTF-8, one
// value and nothing after it). Errors carry the same words as
// ParseJsonStrict's ("malformed JSON", "duplicate JSON key", "JSON nesting
// deeper than").
absl::StatusOr<JsonDocument> ParseJsonDocument(absl::string_view text, JsonLimits limits = {});
// As ParseJsonDocument without copying `text`: the document's strings point
// into it, so it must outlive the document (for a document that stays within
// the parsing function).
absl::StatusOr<JsonDocument> ParseJsonDocumentBorrowing(absl::string_view text,
                                                        JsonLimits limits = {});
// The document of a value built in memory (its canonical serialisation).
absl::StatusOr<JsonDocument> DocumentOf(const Json& value);

// Canonical serialisation. Fails (InvalidArgument) for floating-point numbers,
// which have no canonical text form here.
absl::StatusOr<std::string> CanonicalJson(const Json& value);

// Reads the fields of one JSON object (Value is Json or JsonValue). Every
// accessor records the key as known; the first error (wrong type, out of
// range, missing) is kept and reported by Finish(), which first rejects keys
// that no accessor asked for (naming the absent key one resembles: `"acess"`
// is an unknown key, "did you mean "access"?", before it is a missing
// `access`). `where` names the object in messages, e.g. "profile.fds[2]".
template <typename Value>
class BasicJsonFields {
 public:
  BasicJsonFields(const Value& object, std::string where);

  std::optional<std::string> String(absl::string_view key, bool required);
  // As String, without a copy: valid while the document lives.
  std::optional<absl::string_view> StringView(absl::string_view key, bool required);
  std::optional<int64_t> Int(absl::string_view key, bool required, int64_t min, int64_t max);
  // Unsigned 64-bit values (inode numbers, rlimits) that Int cannot hold.
  std::optional<uint64_t> Uint(absl::string_view key, bool required, uint64_t max);
  std::optional<bool> Bool(absl::string_view key, bool required);
  // The array or object value itself (type-checked), for nested readers.
  const Value* Array(absl::string_view key, bool required);
  const Value* Object(absl::string_view key, bool required);

  bool Has(absl::string_view key) const;
  const std::string& where() const { return where_; }
  absl::Status Finish();

 private:
  const Value* Find(absl::string_view key, bool required);
  void Fail(std::string message);

  const Value& object_;
  std::string where_;
  bool is_object_;  // when false, object_ is never read again
  // Json: the keys asked for. JsonValue: which members were asked for, as
  // bits for objects of up to 64 members, else in seen_.
  std::set<std::string, std::less<>> known_;
  uint64_t seen_bits_ = 0;
  std::vector<bool> seen_;
  // JsonValue: the keys asked for and absent, for "did you mean" hints.
  absl::InlinedVector<std::string, 4> absent_;
  absl::Status first_error_;
};

using JsonFields = BasicJsonFields<Json>;
using JsonValueFields = BasicJsonFields<JsonValue>;

extern template class BasicJsonFields<Json>;
extern template class BasicJsonFields<JsonValue>;

}  // namespace fdattest

#endif  // FDATTEST_COMMON_JSON_H_
