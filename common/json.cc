#include "common/json.h"

#include <algorithm>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace fdattest {

namespace {

// Builds the document from nlohmann's SAX events, refusing a duplicate key
// where it occurs and nesting beyond the limit. (nlohmann's own callback
// parser rescans the enclosing array after every object it builds, which is
// quadratic in the number of elements: hostile input must cost linear time.)
// Pointers into the document stay valid: an open container does not grow
// while a child is being built, and object values live in a std::map.
class StrictDomBuilder {
 public:
  explicit StrictDomBuilder(const JsonLimits& limits)
      : max_depth_(limits.max_depth), max_values_(limits.max_values) {}

  bool null() { return Value(nullptr); }
  bool boolean(bool v) { return Value(v); }
  bool number_integer(Json::number_integer_t v) { return Value(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return Value(v); }
  bool number_float(Json::number_float_t v, const Json::string_t&) { return Value(v); }
  bool string(Json::string_t& v) { return Value(std::move(v)); }
  bool binary(Json::binary_t&) { return Fail("binary values are not JSON"); }
  bool start_object(std::size_t) { return Open(Json::object()); }
  bool start_array(std::size_t) { return Open(Json::array()); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(Json::string_t& k) {
    Json& object = *stack_.back();
    if (object.contains(k)) return Fail(absl::StrCat("duplicate JSON key \"", k, "\""));
    slot_ = &object[k];
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // `position` counts the bytes read, through the offending one (the last
    // byte of the offending token, or the end of the input).
    error_offset_ = position > 0 ? position - 1 : 0;
    has_syntax_error_ = true;
    return Fail(std::string(e.what()));
  }

  Json& root() { return root_; }
  const std::string& error() const { return error_; }
  // Where the syntax error is, when there is one.
  bool has_syntax_error() const { return has_syntax_error_; }
  size_t error_offset() const { return error_offset_; }

 private:
  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  Json* Place(Json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    *slot_ = std::move(v);
    return slot_;
  }
  template <typename T>
  bool Value(T&& v) {
    if (!Count()) return false;
    Place(Json(std::forward<T>(v)));
    return true;
  }
  bool Count() {
    if (values_++ < max_values_) return true;
    return Fail(absl::StrCat("JSON document holds more than ", max_values_, " values"));
  }
  bool Open(Json&& container) {
    if (!Count()) return false;
    if (static_cast<int>(stack_.size()) >= max_depth_) {
      return Fail(absl::StrCat("JSON nesting deeper than ", max_depth_));
    }
    stack_.push_back(Place(std::move(container)));
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }

  int max_depth_;
  size_t max_values_;
  size_t values_ = 0;
  Json root_;
  std::vector<Json*> stack_;
  Json* slot_ = nullptr;
  std::string error_;
  bool has_syntax_error_ = false;
  size_t error_offset_ = 0;
};

// nlohmann's message without its "[json.exception.parse_error.101] parse
// error at line 1, column 2: " preamble: the position is given our way.
std::string SyntaxErrorDetail(const std::string& what) {
  const size_t pe = what.find("parse error");
  if (pe == std::string::npos) return what;
  const size_t colon = what.find(": ", pe);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

// Optimal string alignment distance (insertions, deletions, substitutions,
// adjacent transpositions), ignoring ASCII case: how far a misspelt key is
// from a known one.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  const auto lower = [](char c) { return absl::ascii_tolower(static_cast<unsigned char>(c)); };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The error for an unknown key, with the closest key that was asked for and
// is absent (a misspelling of it), when one is close enough.
absl::Status UnknownKey(const std::string& where, absl::string_view key,
                        const std::vector<absl::string_view>& absent) {
  absl::string_view best;
  size_t best_distance = 3;  // at most 2 edits
  if (key.size() <= 64) {
    for (absl::string_view candidate : absent) {
      const size_t d = EditDistance(key, candidate);
      if (d < best_distance && d < candidate.size()) {
        best = candidate;
        best_distance = d;
      }
    }
  }
  std::string message =
      absl::StrCat(where, ": unknown key \"", absl::CHexEscape(key.substr(0, 64)), "\"");
  if (!best.empty()) absl::StrAppend(&message, " (did you mean \"", best, "\"?)");
  return absl::InvalidArgumentError(message);
}

}  // namespace

std::string JsonTextPosition(absl::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xc0) != 0x80) {  // one column per UTF-8 character
      ++column;
    }
  }
  return absl::StrCat("line ", line, ", column ", column, " (byte ", offset, ")");
}

absl::StatusOr<Json> ParseJsonStrict(absl::string_view text, JsonLimits limits) {
  if (text.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON document is ", text.size(), " bytes; the limit is ", limits.max_bytes));
  }
  // A raw NUL is valid nowhere in JSON, and nlohmann's lexer takes it for the
  // end of input (it would ignore whatever follows).
  if (const size_t nul = text.find('\0'); nul != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed JSON: NUL byte at ", JsonTextPosition(text, nul)));
  }
  StrictDomBuilder builder(limits);
  bool ok = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &builder, nlohmann::detail::input_format_t::json,
                         /*strict=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", e.what()));
  }
  if (builder.has_syntax_error()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed JSON: ", SyntaxErrorDetail(builder.error()), " at ",
                     JsonTextPosition(text, builder.error_offset())));
  }
  if (!builder.error().empty()) return absl::InvalidArgumentError(builder.error());
  if (!ok) return absl::InvalidArgumentError("malformed JSON");
  return std::move(builder.root());
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

// ---------------------------------------------------------------------------
// BasicJsonFields

template <typename Value>
BasicJsonFields<Value>::BasicJsonFields(const Value& object, std::string where)
    : object_(object), where_(std::move(where)), is_object_(object.is_object()) {
  if (!is_object_) {
    Fail("must be a JSON object");
  } else if constexpr (std::is_same_v<Value, JsonValue>) {
    if (object_.size() > 64) seen_.assign(object_.size(), false);
  }
}

template <typename Value>
void BasicJsonFields<Value>::Fail(std::string message) {
  if (first_error_.ok()) {
    first_error_ = absl::InvalidArgumentError(absl::StrCat(where_, ": ", message));
  }
}

template <typename Value>
bool BasicJsonFields<Value>::Has(absl::string_view key) const {
  return is_object_ && object_.contains(key);
}

template <typename Value>
const Value* BasicJsonFields<Value>::Find(absl::string_view key, bool required) {
  const Value* found = nullptr;
  if constexpr (std::is_same_v<Value, JsonValue>) {
    const ptrdiff_t i = is_object_ ? object_.IndexOf(key) : -1;
    if (i >= 0) {
      const size_t index = static_cast<size_t>(i);
      if (seen_.empty()) {
        seen_bits_ |= uint64_t{1} << index;
      } else {
        seen_[index] = true;
      }
      found = &object_[index];
    }
  } else {
    known_.emplace(key);
    if (is_object_) {
      auto it = object_.find(key);
      if (it != object_.end()) found = &*it;
    }
  }
  if (found == nullptr && is_object_) {
    if constexpr (std::is_same_v<Value, JsonValue>) absent_.emplace_back(key);
    if (required) Fail(absl::StrCat("missing required key \"", key, "\""));
  }
  return found;
}

template <typename Value>
std::optional<std::string> BasicJsonFields<Value>::String(absl::string_view key, bool required) {
  const Value* v = Find(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Fail(absl::StrCat("\"", key, "\" must be a string"));
    return std::nullopt;
  }
  return v->template get<std::string>();
}

template <typename Value>
std::optional<absl::string_view> BasicJsonFields<Value>::StringView(absl::string_view key,
                                                                  bool required) {
  const Value* v = Find(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Fail(absl::StrCat("\"", key, "\" must be a string"));
    return std::nullopt;
  }
  if constexpr (std::is_same_v<Value, JsonValue>) {
    return v->str();
  } else {
    return absl::string_view(v->template get_ref<const std::string&>());
  }
}

template <typename Value>
std::optional<int64_t> BasicJsonFields<Value>::Int(absl::string_view key, bool required,
                                                   int64_t min, int64_t max) {
  const Value* v = Find(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) {
    Fail(absl::StrCat("\"", key, "\" must be an integer"));
    return std::nullopt;
  }
  if (v->is_number_unsigned() && v->template get<uint64_t>() > static_cast<uint64_t>(max)) {
    Fail(absl::StrCat("\"", key, "\" must be between ", min, " and ", max));
    return std::nullopt;
  }
  int64_t n = v->template get<int64_t>();
  if (n < min || n > max) {
    Fail(absl::StrCat("\"", key, "\" must be between ", min, " and ", max));
    return std::nullopt;
  }
  return n;
}

template <typename Value>
std::optional<uint64_t> BasicJsonFields<Value>::Uint(absl::string_view key, bool required,
                                                     uint64_t max) {
  const Value* v = Find(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer() ||
      (!v->is_number_unsigned() && v->template get<int64_t>() < 0)) {
    Fail(absl::StrCat("\"", key, "\" must be a non-negative integer"));
    return std::nullopt;
  }
  uint64_t n = v->template get<uint64_t>();
  if (n > max) {
    Fail(absl::StrCat("\"", key, "\" must be at most ", max));
    return std::nullopt;
  }
  return n;
}

template <typename Value>
std::optional<bool> BasicJsonFields<Value>::Bool(absl::string_view key, bool required) {
  const Value* v = Find(key, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    Fail(absl::StrCat("\"", key, "\" must be true or false"));
    return std::nullopt;
  }
  return v->template get<bool>();
}

template <typename Value>
const Value* BasicJsonFields<Value>::Array(absl::string_view key, bool required) {
  const Value* v = Find(key, required);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) {
    Fail(absl::StrCat("\"", key, "\" must be an array"));
    return nullptr;
  }
  return v;
}

template <typename Value>
const Value* BasicJsonFields<Value>::Object(absl::string_view key, bool required) {
  const Value* v = Find(key, required);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    Fail(absl::StrCat("\"", key, "\" must be an object"));
    return nullptr;
  }
  return v;
}

template <typename Value>
absl::Status BasicJsonFields<Value>::Finish() {
  // Unknown keys first: a misspelt required key is reported as the unknown
  // key it is (with the key it resembles), not as the key it failed to be.
  if (is_object_) {
    if constexpr (std::is_same_v<Value, JsonValue>) {
      for (size_t i = 0; i < object_.size(); ++i) {
        if (seen_.empty() ? (seen_bits_ >> i & 1) == 0 : !seen_[i]) {
          std::vector<absl::string_view> absent(absent_.begin(), absent_.end());
          return UnknownKey(where_, object_.key(i), absent);
        }
      }
    } else {
      for (auto it = object_.begin(); it != object_.end(); ++it) {
        if (!known_.contains(it.key())) {
          std::vector<absl::string_view> absent;
          for (const std::string& k : known_) {
            if (!object_.contains(k)) absent.push_back(k);
          }
          return UnknownKey(where_, it.key(), absent);
        }
      }
    }
  }
  return first_error_;
}

template class BasicJsonFields<Json>;
template class BasicJsonFields<JsonValue>;

}  // namespace fdattest
