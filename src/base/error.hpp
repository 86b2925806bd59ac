#pragma once
// Result and error types shared by every module.
//
// Result<T> is tl::expected<T, Error>. Error carries a std::error_code (machine-readable: each module
// has its own enum and category) and a human message with the context a user needs ("cannot read
// /x/y.torrent: No such file"). The code alone could not say which file or which peer.
#include <string>
#include <system_error>
#include <tl/expected.hpp>
#include <utility>

namespace kith {

struct Error {
  std::error_code code;
  std::string message;  // one line, says what failed and, where it can, what to do

  // A stable, lower_snake machine name for APIs: "<category>.<enumerator>", e.g. "swarm.bad_link".
  std::string code_name() const;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> fail(std::error_code code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

namespace base {

// Errors of the base layer itself (file system helpers, encoding).
enum class errc {
  io_error = 1,      // a file system call failed; message has the path and errno text
  not_found,         // a file or record does not exist
  invalid_argument,  // a caller passed a value outside the contract (e.g. odd-length hex)
  bad_input,         // outside input (file, network, user) could not be parsed
  unavailable,       // a service needed for the call is not running or not reachable
  internal,          // a bug or an unexpected library failure
};

const std::error_category& category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

// Names of a category's enumerators, for Error::code_name(). Each module registers its table once.
struct CategoryNames {
  const std::error_category* category;
  const char* prefix;                // e.g. "swarm"
  const char* const* names;          // indexed by enumerator value
  int count;
};
void register_category_names(const CategoryNames& names);

}  // namespace base
}  // namespace kith

template <>
struct std::is_error_code_enum<kith::base::errc> : std::true_type {};
