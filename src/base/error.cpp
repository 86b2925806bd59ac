#include "base/error.hpp"

namespace kith {
namespace base {

NamedCategory::NamedCategory(const char* name, const char* prefix, const char* const* names, int count)
    : m_name(name), m_prefix(prefix), m_names(names), m_count(count) {}

const std::error_category& category() {
  static const char* const NAMES[] = {"",          "io_error",    "not_found", "invalid_argument",
                                      "bad_input", "unavailable", "internal"};
  static const NamedCategory instance("kith.base", "base", NAMES);
  return instance;
}

}  // namespace base

std::string Error::code_name() const {
  if (const auto* named = dynamic_cast<const base::NamedCategory*>(&code.category());
      named && named->knows(code.value())) {
    return std::string(named->prefix()) + "." + named->enumerator(code.value());
  }
  if (code.category() == std::system_category() || code.category() == std::generic_category()) {
    return "system." + std::to_string(code.value());
  }
  return std::string(code.category().name()) + "." + std::to_string(code.value());
}

}  // namespace kith
