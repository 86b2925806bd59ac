#include "app/errors.hpp"

namespace kith::app {

const std::error_category& category() {
  static const char* const NAMES[] = {"", "bad_setting", "bad_config", "home_locked", "bad_path"};
  static const base::NamedCategory instance("kith.app", "app", NAMES);
  return instance;
}

}  // namespace kith::app

#include "safety/errors.hpp"
#include "swarm/types.hpp"

namespace kith::app {

bool is_user_error(const Error& e) {
  const auto& c = e.code;
  return c == make_error_code(errc::bad_setting) || c == make_error_code(errc::bad_config) ||
         c == make_error_code(errc::bad_path) || c == swarm::make_error_code(swarm::errc::bad_link) ||
         c == swarm::make_error_code(swarm::errc::bad_torrent) ||
         c == swarm::make_error_code(swarm::errc::nothing_selected) ||
         c == swarm::make_error_code(swarm::errc::unknown_transfer) ||
         c == safety::make_error_code(safety::errc::unknown_item) ||
         c == safety::make_error_code(safety::errc::quarantined) ||
         c == swarm::make_error_code(swarm::errc::ambiguous_id) ||
         c == swarm::make_error_code(swarm::errc::create_failed) ||
         c == safety::make_error_code(safety::errc::bad_list) ||
         c == safety::make_error_code(safety::errc::blocked) ||
         c == base::make_error_code(base::errc::bad_input) ||
         c == base::make_error_code(base::errc::not_found) ||
         c == base::make_error_code(base::errc::invalid_argument);
}

}  // namespace kith::app
