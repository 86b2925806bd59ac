#include "swarm/types.hpp"

namespace kith::swarm {
namespace {

const char* const NAMES[] = {"",          "bad_link",      "bad_torrent",  "unknown_transfer", "ambiguous_id",
                             "duplicate", "create_failed", "session_error"};

class Category final : public std::error_category {
 public:
  Category() { base::register_category_names({this, "swarm", NAMES, static_cast<int>(std::size(NAMES))}); }
  const char* name() const noexcept override { return "kith.swarm"; }
  std::string message(int ev) const override {
    return ev > 0 && ev < static_cast<int>(std::size(NAMES)) ? NAMES[ev] : "unknown";
  }
};

}  // namespace

const std::error_category& category() {
  static const Category instance;
  return instance;
}

}  // namespace kith::swarm
