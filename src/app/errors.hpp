#pragma once
#include <system_error>

#include "base/error.hpp"

namespace kith::app {

enum class errc {
  bad_setting = 1,  // unknown setting name or a value of the wrong type
  bad_config,       // config.toml could not be parsed
  home_locked,      // another kith process uses this home
  bad_path,         // a path given by the user does not exist or cannot be used
};
const std::error_category& category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

}  // namespace kith::app

template <>
struct std::is_error_code_enum<kith::app::errc> : std::true_type {};

namespace kith::app {

// True when an error is the fault of what the user (or an API caller) asked for — a bad link, a
// missing path, an unknown id — rather than of the node: the CLI exits 2 for these (1 otherwise) and
// the API answers 4xx (5xx otherwise).
bool is_user_error(const Error& e);

}  // namespace kith::app
