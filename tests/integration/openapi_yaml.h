// docs/openapi.yaml as a Json value, for the contract test: a YAML stream
// read with libyaml's event parser (a real YAML parser, so the document
// stays ordinary YAML) and built into nlohmann::json. Plain scalars are
// resolved as YAML 1.2's core schema does (null, true/false, integers,
// decimals, else strings); quoted and block scalars are strings. Anchors and
// aliases are refused (the document uses none). Test-only; stateless.
#ifndef FDATTEST_TESTS_INTEGRATION_OPENAPI_YAML_H_
#define FDATTEST_TESTS_INTEGRATION_OPENAPI_YAML_H_

#include <yaml.h>

#include <cstdio>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/status.h"

namespace fdattest::testing {

inline Json ResolvePlainScalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null") return nullptr;
  if (text == "true") return true;
  if (text == "false") return false;
  static const std::regex kInteger("-?[0-9]+");
  static const std::regex kDecimal("-?[0-9]+\\.[0-9]+");
  if (std::regex_match(text, kInteger)) return std::stoll(text);
  if (std::regex_match(text, kDecimal)) return std::stod(text);
  return text;
}

inline absl::StatusOr<Json> LoadYamlFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(fopen(path.c_str(), "rb"), fclose);
  if (file == nullptr) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) != 1) return absl::InternalError("yaml_parser_initialize");
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> parser_guard(&parser,
                                                                         yaml_parser_delete);
  yaml_parser_set_input_file(&parser, file.get());

  Json root;
  bool have_root = false;
  // The open containers, innermost last; for a mapping, the key whose value
  // comes next (empty optional: the next scalar is a key).
  struct Open {
    Json value;
    bool is_map;
    std::optional<std::string> key;
  };
  std::vector<Open> stack;
  auto put = [&](Json value) -> absl::Status {
    if (stack.empty()) {
      if (have_root) return absl::InvalidArgumentError("more than one document");
      root = std::move(value);
      have_root = true;
      return absl::OkStatus();
    }
    Open& top = stack.back();
    if (!top.is_map) {
      top.value.push_back(std::move(value));
      return absl::OkStatus();
    }
    if (!top.key) {
      if (!value.is_string()) return absl::InvalidArgumentError("a mapping key is not a scalar");
      top.key = value.get<std::string>();
      return absl::OkStatus();
    }
    if (top.value.contains(*top.key)) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate key ", *top.key));
    }
    top.value[*top.key] = std::move(value);
    top.key.reset();
    return absl::OkStatus();
  };

  for (bool done = false; !done;) {
    yaml_event_t event;
    if (yaml_parser_parse(&parser, &event) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", parser.problem_mark.line + 1, ": ",
                       parser.problem != nullptr ? parser.problem : "YAML error"));
    }
    std::unique_ptr<yaml_event_t, void (*)(yaml_event_t*)> guard(&event, yaml_event_delete);
    absl::Status status;
    switch (event.type) {
      case YAML_STREAM_END_EVENT:
        done = true;
        break;
      case YAML_ALIAS_EVENT:
        return absl::InvalidArgumentError("aliases are not used in the document");
      case YAML_SCALAR_EVENT: {
        const std::string text(reinterpret_cast<const char*>(event.data.scalar.value),
                               event.data.scalar.length);
        const bool is_key = !stack.empty() && stack.back().is_map && !stack.back().key;
        const bool plain = event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        status = put(is_key || !plain ? Json(text) : ResolvePlainScalar(text));
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
        stack.push_back({Json::array(), false, std::nullopt});
        break;
      case YAML_MAPPING_START_EVENT:
        stack.push_back({Json::object(), true, std::nullopt});
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        Json value = std::move(stack.back().value);
        stack.pop_back();
        status = put(std::move(value));
        break;
      }
      default:  // stream and document starts, document ends
        break;
    }
    if (!status.ok()) return status;
  }
  if (!have_root) return absl::InvalidArgumentError("no document");
  return root;
}

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_INTEGRATION_OPENAPI_YAML_H_
