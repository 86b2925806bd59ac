#pragma once
// Result and error types shared by every module.
//
// Result<T> is tl::expected<T, Error>, marked [[nodiscard]]: a result nobody looks at is how an
// error on the fail-closed path gets lost, so dropping one is a compile error (-Werror in the
// presets); where dropping is right, say why in a comment and log it instead. Error carries a std::error_code
// (machine-readable: each module has its own enum and category) and a human message with the context a user
// needs ("cannot read /x/y.torrent: No such file"). The code alone could not say which file or which peer.
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
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using Expected = tl::expected<T, Error>;
  using Expected::Expected;
  Result() = default;
  // From tl::expected's own monadic helpers (map, and_then, ...), which return the base type.
  Result(Expected e) : Expected(std::move(e)) {}
};
using Status = Result<void>;

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

// An error category whose enumerator names come from a table (index = enumerator value, slot 0
// unused), so that Error::code_name() can say "<prefix>.<name>". Each module defines one, as a
// function-local static, for its own `errc`.
class NamedCategory final : public std::error_category {
 public:
  template <std::size_t N>
  NamedCategory(const char* name, const char* prefix, const char* const (&names)[N])
      : NamedCategory(name, prefix, names, static_cast<int>(N)) {}
  NamedCategory(const char* name, const char* prefix, const char* const* names, int count);
  const char* name() const noexcept override { return m_name; }
  std::string message(int ev) const override { return enumerator(ev); }
  const char* prefix() const { return m_prefix; }
  // The enumerator's name, or "unknown" outside the table.
  const char* enumerator(int ev) const { return ev > 0 && ev < m_count ? m_names[ev] : "unknown"; }
  bool knows(int ev) const { return ev > 0 && ev < m_count; }

 private:
  const char* m_name;
  const char* m_prefix;
  const char* const* m_names;
  int m_count;
};

}  // namespace base
}  // namespace kith

template <>
struct std::is_error_code_enum<kith::base::errc> : std::true_type {};
