#include "base/error.hpp"

#include <mutex>
#include <vector>

namespace kith {
namespace base {
namespace {

const char* const BASE_NAMES[] = {"", "io_error", "not_found", "invalid_argument", "bad_input",
                                  "unavailable", "internal"};

class BaseCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kith.base"; }
  std::string message(int ev) const override {
    if (ev > 0 && ev < static_cast<int>(std::size(BASE_NAMES))) return BASE_NAMES[ev];
    return "unknown";
  }
};

std::mutex g_names_mutex;
std::vector<CategoryNames>& names_table() {
  static std::vector<CategoryNames> table{
      {&category(), "base", BASE_NAMES, static_cast<int>(std::size(BASE_NAMES))}};
  return table;
}

}  // namespace

const std::error_category& category() {
  static const BaseCategory instance;
  return instance;
}

void register_category_names(const CategoryNames& names) {
  std::lock_guard lock(g_names_mutex);
  names_table().push_back(names);
}

}  // namespace base

std::string Error::code_name() const {
  std::lock_guard lock(base::g_names_mutex);
  for (const auto& entry : base::names_table()) {
    if (entry.category == &code.category() && code.value() > 0 && code.value() < entry.count) {
      return std::string(entry.prefix) + "." + entry.names[code.value()];
    }
  }
  if (code.category() == std::system_category() || code.category() == std::generic_category()) {
    return "system." + std::to_string(code.value());
  }
  return std::string(code.category().name()) + "." + std::to_string(code.value());
}

}  // namespace kith
