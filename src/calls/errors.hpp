#pragma once
#include <system_error>

#include "base/error.hpp"

namespace kith::calls {

enum class errc {
  unknown_call = 1,  // no call has this id
  busy,              // we are in another call (place), or the callee is (the call's end reason)
  wrong_state,       // the call is not in a state that allows this (answer a call that is not ringing)
  not_reachable,     // the contact has no open channel now
};
const std::error_category& category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

}  // namespace kith::calls

template <>
struct std::is_error_code_enum<kith::calls::errc> : std::true_type {};
