// The one-pass JsonDocument reader of common/json.h: validates, builds the
// read-only values and notes whether the text is canonical, without nlohmann
// (the hot path of evidence and manifest parsing). Thread-safe: documents are
// immutable once built.
#include "common/json.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <locale.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace fdattest {

// ---------------------------------------------------------------------------
// JsonDocument

struct JsonDocument::Storage {
  std::string owned_text;  // empty when the caller's text is borrowed
  absl::string_view text;
  std::vector<JsonValue> values;             // in document order; values[0] is the root
  std::vector<const JsonValue*> items;       // each container's entries, contiguous
  std::vector<absl::string_view> keys;       // parallel to items (empty for arrays)
  std::deque<std::string> unescaped;         // strings that had escapes
  bool canonical = true;
};

const JsonValue& JsonDocument::root() const { return storage_->values.front(); }
bool JsonDocument::canonical() const { return storage_->canonical; }

template <>
std::string JsonValue::get<std::string>() const {
  return std::string(str());
}
template <>
int64_t JsonValue::get<int64_t>() const {
  return int64();
}
template <>
uint64_t JsonValue::get<uint64_t>() const {
  return uint64();
}
template <>
bool JsonValue::get<bool>() const {
  return boolean();
}

ptrdiff_t JsonValue::IndexOf(absl::string_view key) const {
  if (type_ != Type::kObject) return -1;
  if (length_ <= 16) {
    // Small objects (nearly all): equal lengths first, then the bytes.
    for (size_t i = 0; i < length_; ++i) {
      const absl::string_view k = keys_[i];
      if (k.size() == key.size() && (k.empty() || k[0] == key[0]) && k == key) {
        return static_cast<ptrdiff_t>(i);
      }
    }
    return -1;
  }
  const absl::string_view* end = keys_ + length_;
  const absl::string_view* it = std::lower_bound(keys_, end, key);
  if (it == end || *it != key) return -1;
  return it - keys_;
}

const JsonValue* JsonValue::find(absl::string_view key) const {
  const ptrdiff_t i = IndexOf(key);
  return i < 0 ? nullptr : items_[i];
}

// Bytes a string holds as themselves without further checks.
struct PlainTable {
  bool plain[256];
  constexpr PlainTable() : plain() {
    for (int c = 0; c < 256; ++c) plain[c] = c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
  }
};
constexpr PlainTable kPlain;

// One pass over the text: validates, builds the values, and notes whether the
// text is canonical. Containers collect their entries on a pending stack and
// move them into one contiguous run when they close; an object whose keys
// arrived out of order is sorted then (and is not canonical).
class JsonDocumentBuilder {
 public:
  JsonDocumentBuilder(JsonDocument::Storage& st, JsonLimits limits)
      : st_(st), limits_(limits) {}

  void Reserve(size_t values) {
    item_index_.reserve(values);
    st_.keys.reserve(values);
    pending_.reserve(64);
    pending_keys_.reserve(64);
  }

  absl::Status Run() {
    p_ = st_.text.data();  // never null for an empty text: see Parse
    begin_ = p_;
    end_ = p_ + st_.text.size();
    uint32_t root = 0;
    if (!Value(0, &root)) return absl::InvalidArgumentError(error_);
    SkipSpace();
    if (p_ != end_) {
      Malformed("characters after the JSON value");
      return absl::InvalidArgumentError(error_);
    }
    st_.canonical = canonical_;
    // Entries are now where they stay: point each container at its run.
    st_.items.resize(item_index_.size());
    for (size_t k = 0; k < item_index_.size(); ++k) st_.items[k] = &st_.values[item_index_[k]];
    for (JsonValue& v : st_.values) {
      if (v.type_ == JsonValue::Type::kArray || v.type_ == JsonValue::Type::kObject) {
        v.items_ = st_.items.data() + v.number_;
        v.keys_ = st_.keys.data() + v.number_;
        v.number_ = 0;
      }
    }
    return absl::OkStatus();
  }

 private:
  bool Fail(std::string message) {
    error_ = std::move(message);
    return false;
  }
  bool Malformed(absl::string_view what) {
    return Fail(absl::StrCat("malformed JSON: ", what, " at ",
                             JsonTextPosition(st_.text, static_cast<size_t>(p_ - begin_))));
  }
  void NotCanonical() { canonical_ = false; }

  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
      NotCanonical();
    }
  }

  bool Value(int depth, uint32_t* out) {
    SkipSpace();
    if (p_ == end_) return Malformed("unexpected end of input");
    if (st_.values.size() >= limits_.max_values) {
      return Fail(absl::StrCat("JSON document holds more than ", limits_.max_values, " values"));
    }
    const uint32_t idx = static_cast<uint32_t>(st_.values.size());
    st_.values.emplace_back();
    bool ok = false;
    switch (*p_) {
      case '{':
        ok = Container(depth, idx, /*object=*/true);
        break;
      case '[':
        ok = Container(depth, idx, /*object=*/false);
        break;
      case '"': {
        absl::string_view s;
        ok = String(&s);
        JsonValue& v = st_.values[idx];
        v.type_ = JsonValue::Type::kString;
        v.data_ = s.data();
        v.length_ = s.size();
        break;
      }
      case 't':
        ok = Literal("true", JsonValue::Type::kBool, 1, idx);
        break;
      case 'f':
        ok = Literal("false", JsonValue::Type::kBool, 0, idx);
        break;
      case 'n':
        ok = Literal("null", JsonValue::Type::kNull, 0, idx);
        break;
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) {
          ok = Number(idx);
        } else {
          ok = Malformed("unexpected character");
        }
    }
    if (!ok) return false;
    *out = idx;
    return true;
  }

  bool Literal(absl::string_view word, JsonValue::Type type, uint64_t number, uint32_t idx) {
    if (absl::string_view(p_, static_cast<size_t>(end_ - p_)).substr(0, word.size()) != word) {
      return Malformed("invalid literal");
    }
    p_ += word.size();
    st_.values[idx].type_ = type;
    st_.values[idx].number_ = number;
    return true;
  }

  static bool Digit(char c) { return c >= '0' && c <= '9'; }

  bool Number(uint32_t idx) {
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    const char* digits = p_;
    if (p_ == end_ || !Digit(*p_)) return Malformed("invalid number");
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ != end_ && Digit(*p_)) ++p_;
    }
    const char* digits_end = p_;
    bool is_float = false;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !Digit(*p_)) return Malformed("invalid number");
      while (p_ != end_ && Digit(*p_)) ++p_;
      is_float = true;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !Digit(*p_)) return Malformed("invalid number");
      while (p_ != end_ && Digit(*p_)) ++p_;
      is_float = true;
    }
    JsonValue& v = st_.values[idx];
    uint64_t magnitude = 0;
    for (const char* d = digits; !is_float && d != digits_end; ++d) {
      const uint64_t digit = static_cast<uint64_t>(*d - '0');
      if (magnitude > (UINT64_MAX - digit) / 10) {
        is_float = true;  // beyond 64 bits: nlohmann makes it a float too
      } else {
        magnitude = magnitude * 10 + digit;
      }
    }
    if (!is_float && negative && magnitude > (uint64_t{1} << 63)) is_float = true;
    if (is_float) {
      // Like nlohmann::json (and so ParseJsonStrict): a number too large for
      // a double is an error, not infinity.
      static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", nullptr);
      const std::string token(digits - (negative ? 1 : 0), p_);
      if (c_locale == nullptr || std::isinf(strtod_l(token.c_str(), nullptr, c_locale))) {
        return Malformed("number out of range");
      }
      v.type_ = JsonValue::Type::kFloat;
      NotCanonical();
      return true;
    }
    if (negative) {
      v.type_ = JsonValue::Type::kInt;
      v.number_ = uint64_t{0} - magnitude;
      if (magnitude == 0) NotCanonical();  // "-0" is written "0"
    } else {
      v.type_ = JsonValue::Type::kUint;
      v.number_ = magnitude;
    }
    return true;
  }

  // Length of the UTF-8 sequence at p_ (1-4), or 0 when it is not valid
  // UTF-8 (overlong forms, surrogates and values beyond U+10FFFF included).
  size_t Utf8Length() const {
    const auto at = [&](size_t i) -> unsigned {
      return p_ + i < end_ ? static_cast<unsigned char>(p_[i]) : 0x100;
    };
    const auto cont = [&](size_t i, unsigned lo, unsigned hi) { return at(i) >= lo && at(i) <= hi; };
    const unsigned c = at(0);
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return cont(1, 0x80, 0xbf) ? 2 : 0;
    if (c == 0xe0) return cont(1, 0xa0, 0xbf) && cont(2, 0x80, 0xbf) ? 3 : 0;
    if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
      return cont(1, 0x80, 0xbf) && cont(2, 0x80, 0xbf) ? 3 : 0;
    }
    if (c == 0xed) return cont(1, 0x80, 0x9f) && cont(2, 0x80, 0xbf) ? 3 : 0;
    if (c == 0xf0) return cont(1, 0x90, 0xbf) && cont(2, 0x80, 0xbf) && cont(3, 0x80, 0xbf) ? 4 : 0;
    if (c >= 0xf1 && c <= 0xf3) {
      return cont(1, 0x80, 0xbf) && cont(2, 0x80, 0xbf) && cont(3, 0x80, 0xbf) ? 4 : 0;
    }
    if (c == 0xf4) return cont(1, 0x80, 0x8f) && cont(2, 0x80, 0xbf) && cont(3, 0x80, 0xbf) ? 4 : 0;
    return 0;
  }

  // Four hex digits after "\u"; notes upper-case digits (not canonical).
  bool Hex4(uint32_t* out) {
    if (end_ - p_ < 4) return Malformed("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
        NotCanonical();
      } else {
        return Malformed("invalid \\u escape");
      }
      v = v * 16 + d;
    }
    *out = v;
    return true;
  }

  static void AppendUtf8(std::string* s, uint32_t cp) {
    if (cp < 0x80) {
      s->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      s->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      s->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  // The escape after a backslash (p_ is past it), appended to *s.
  bool Escape(std::string* s) {
    if (p_ == end_) return Malformed("unterminated string");
    const char e = *p_++;
    switch (e) {
      case '"': s->push_back('"'); return true;
      case '\\': s->push_back('\\'); return true;
      case '/': s->push_back('/'); NotCanonical(); return true;
      case 'b': s->push_back('\b'); return true;
      case 'f': s->push_back('\f'); return true;
      case 'n': s->push_back('\n'); return true;
      case 'r': s->push_back('\r'); return true;
      case 't': s->push_back('\t'); return true;
      case 'u': break;
      default: return Malformed("invalid escape in string");
    }
    uint32_t cp = 0;
    if (!Hex4(&cp)) return false;
    if (cp >= 0xdc00 && cp <= 0xdfff) return Malformed("unpaired surrogate in \\u escape");
    if (cp >= 0xd800 && cp <= 0xdbff) {
      uint32_t low = 0;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
        return Malformed("unpaired surrogate in \\u escape");
      }
      p_ += 2;
      if (!Hex4(&low)) return false;
      if (low < 0xdc00 || low > 0xdfff) return Malformed("unpaired surrogate in \\u escape");
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    // CanonicalJson writes \u00XX only for control characters without a
    // short escape; everything else as itself.
    const bool short_form = cp == '\b' || cp == '\f' || cp == '\n' || cp == '\r' || cp == '\t';
    if (cp >= 0x20 || short_form) NotCanonical();
    AppendUtf8(s, cp);
    return true;
  }

  // Advances p_ over plain string bytes (kPlain): 16 at a time where SSE2 is
  // there (a signed compare below 0x20 catches control bytes and bytes from
  // 0x80 at once), then byte by byte.
  void SkipPlain() {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end_ - p_ >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      const __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                        _mm_cmplt_epi8(v, space));
      const int mask = _mm_movemask_epi8(stop);
      if (mask != 0) {
        p_ += __builtin_ctz(static_cast<unsigned>(mask));
        return;
      }
      p_ += 16;
    }
#endif
    while (p_ != end_ && kPlain.plain[static_cast<unsigned char>(*p_)]) ++p_;
  }

  // A string starting at the opening quote; *out views the unescaped text
  // (in the document's copy of the text when there was nothing to unescape).
  bool String(absl::string_view* out) {
    ++p_;
    const char* start = p_;
    std::string* copy = nullptr;
    for (;;) {
      // The common case: a run of printable ASCII other than '"' and '\\'.
      const char* run = p_;
      SkipPlain();
      if (copy != nullptr) copy->append(run, static_cast<size_t>(p_ - run));
      if (p_ == end_) return Malformed("unterminated string");
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') break;
      if (c < 0x20) return Malformed("control character in string");
      if (c == '\\') {
        if (copy == nullptr) copy = &st_.unescaped.emplace_back(start, static_cast<size_t>(p_ - start));
        ++p_;
        if (!Escape(copy)) return false;
        continue;
      }
      const size_t n = Utf8Length();
      if (n == 0) return Malformed("invalid UTF-8 in string");
      if (copy != nullptr) copy->append(p_, n);
      p_ += n;
    }
    *out = copy != nullptr ? absl::string_view(*copy)
                           : absl::string_view(start, static_cast<size_t>(p_ - start));
    ++p_;  // the closing quote
    return true;
  }

  bool Container(int depth, uint32_t idx, bool object) {
    if (depth >= limits_.max_depth) {
      return Fail(absl::StrCat("JSON nesting deeper than ", limits_.max_depth));
    }
    const char close = object ? '}' : ']';
    ++p_;
    const size_t base = pending_.size();
    bool sorted = true;
    SkipSpace();
    if (p_ != end_ && *p_ == close) {
      ++p_;
    } else {
      for (;;) {
        absl::string_view key;
        if (object) {
          SkipSpace();
          if (p_ == end_ || *p_ != '"') return Malformed("expected an object key");
          if (!String(&key)) return false;
          SkipSpace();
          if (p_ == end_ || *p_ != ':') return Malformed("expected ':'");
          ++p_;
        }
        uint32_t child = 0;
        if (!Value(depth + 1, &child)) return false;
        if (object && sorted && pending_.size() > base) {
          const int order = CompareKeys(key, pending_keys_.back());
          if (order == 0) return DuplicateKey(key);
          if (order < 0) sorted = false;
        }
        pending_.push_back(child);
        pending_keys_.push_back(key);
        SkipSpace();
        if (p_ == end_) return Malformed("unexpected end of input");
        if (*p_ == ',') {
          ++p_;
          continue;
        }
        if (*p_ == close) {
          ++p_;
          break;
        }
        return Malformed(object ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
    const size_t count = pending_.size() - base;
    if (!sorted) {
      NotCanonical();
      std::vector<std::pair<absl::string_view, uint32_t>> members;
      members.reserve(count);
      for (size_t i = base; i < pending_.size(); ++i) members.emplace_back(pending_keys_[i], pending_[i]);
      std::sort(members.begin(), members.end());
      for (size_t i = 0; i < count; ++i) {
        if (i > 0 && members[i].first == members[i - 1].first) return DuplicateKey(members[i].first);
        pending_keys_[base + i] = members[i].first;
        pending_[base + i] = members[i].second;
      }
    }
    JsonValue& v = st_.values[idx];
    v.type_ = object ? JsonValue::Type::kObject : JsonValue::Type::kArray;
    v.length_ = count;
    v.number_ = item_index_.size();  // where its run starts; resolved in Run()
    item_index_.insert(item_index_.end(), pending_.begin() + static_cast<ptrdiff_t>(base), pending_.end());
    st_.keys.insert(st_.keys.end(), pending_keys_.begin() + static_cast<ptrdiff_t>(base),
                    pending_keys_.end());
    pending_.resize(base);
    pending_keys_.resize(base);
    return true;
  }

  // Bytewise order; most neighbouring keys differ in their first byte.
  static int CompareKeys(absl::string_view a, absl::string_view b) {
    if (!a.empty() && !b.empty() && a[0] != b[0]) {
      return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]) ? -1 : 1;
    }
    return a.compare(b);
  }

  bool DuplicateKey(absl::string_view key) {
    return Fail(absl::StrCat("duplicate JSON key \"", absl::CHexEscape(key.substr(0, 64)), "\""));
  }

  JsonDocument::Storage& st_;
  JsonLimits limits_;
  const char* begin_ = nullptr;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  std::vector<uint32_t> item_index_;  // parallel to st_.keys
  std::vector<uint32_t> pending_;     // entries of the open containers
  std::vector<absl::string_view> pending_keys_;
  bool canonical_ = true;  // no departure from the canonical form seen so far
  std::string error_;

 public:
  static absl::StatusOr<JsonDocument> Parse(absl::string_view text, JsonLimits limits,
                                            bool borrow) {
    if (text.size() > limits.max_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("JSON document is ", text.size(),
                                                     " bytes; the limit is ", limits.max_bytes));
    }
    auto storage = std::make_shared<JsonDocument::Storage>();
    if (borrow && text.data() != nullptr) {
      storage->text = text;
    } else {
      storage->owned_text = std::string(text);
      storage->text = storage->owned_text;
    }
    // Documents here are mostly long strings (base64, hex): a modest guess,
    // grown as needed.
    storage->values.reserve(std::min(limits.max_values, text.size() / 32 + 32));
    JsonDocumentBuilder builder(*storage, limits);
    builder.Reserve(storage->values.capacity());
    RETURN_IF_ERROR(builder.Run());
    JsonDocument doc;
    doc.storage_ = std::move(storage);
    return doc;
  }
};

absl::StatusOr<JsonDocument> ParseJsonDocument(absl::string_view text, JsonLimits limits) {
  return JsonDocumentBuilder::Parse(text, limits, /*borrow=*/false);
}

absl::StatusOr<JsonDocument> ParseJsonDocumentBorrowing(absl::string_view text,
                                                        JsonLimits limits) {
  return JsonDocumentBuilder::Parse(text, limits, /*borrow=*/true);
}

absl::StatusOr<JsonDocument> DocumentOf(const Json& value) {
  ASSIGN_OR_RETURN(std::string text, CanonicalJson(value));
  return ParseJsonDocument(text, JsonLimits{.max_bytes = text.size(), .max_values = SIZE_MAX});
}

}  // namespace fdattest
