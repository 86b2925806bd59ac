#include "app/errors.hpp"

namespace kith::app {
namespace {

const char* const NAMES[] = {"", "bad_setting", "bad_config", "home_locked", "bad_path", "not_ready"};

class Category final : public std::error_category {
 public:
  Category() { base::register_category_names({this, "app", NAMES, static_cast<int>(std::size(NAMES))}); }
  const char* name() const noexcept override { return "kith.app"; }
  std::string message(int ev) const override {
    return ev > 0 && ev < static_cast<int>(std::size(NAMES)) ? NAMES[ev] : "unknown";
  }
};

}  // namespace

const std::error_category& category() {
  static const Category instance;
  return instance;
}

}  // namespace kith::app
