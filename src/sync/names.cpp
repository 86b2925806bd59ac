#include "sync/names.hpp"

#include <ctime>

#include "base/terminal.hpp"
#include "crypto/hash.hpp"
#include "sync/errors.hpp"

namespace kith::sync {
namespace {

constexpr std::string_view INTERNAL[] = {".stfolder", ".stignore", ".stversions"};

// Real file systems take 255 bytes; encfs and friends less, so Syncthing hashes long names early.
constexpr std::size_t MAX_TEMP_BASE = 160 - TEMP_PREFIX.size() - std::string_view(".tmp").size();

std::string_view last_component(std::string_view name) {
  const auto slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

Status bad(std::string_view name, const char* why) {
  return fail(make_error_code(errc::bad_name),
              "file name \"" + base::terminal_safe(name) + "\" is not acceptable: " + why);
}

}  // namespace

Status check_name(std::string_view name) {
  if (name.empty()) return bad(name, "it is empty");
  if (name.find('\0') != std::string_view::npos) return bad(name, "it holds a NUL byte");
  if (!valid_utf8(name)) return bad(name, "it is not valid UTF-8");
  if (name.front() == '/') return bad(name, "it is absolute");
  for (std::size_t start = 0;;) {
    const auto end = name.find('/', start);
    const auto part =
        name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part.empty()) return bad(name, "it has an empty component (\"//\" or a trailing \"/\")");
    if (part == "." || part == "..") return bad(name, "it has a \".\" or \"..\" component");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (is_internal(name)) return bad(name, "it is Syncthing's own (.stfolder, .stignore, .stversions)");
  if (is_temp_name(name)) return bad(name, "it is a temporary file's name");
  return {};
}

bool is_internal(std::string_view name) {
  for (auto internal : INTERNAL) {
    if (name == internal) return true;
    if (name.size() > internal.size() && name.starts_with(internal) && name[internal.size()] == '/')
      return true;
  }
  return false;
}

std::string temp_name(std::string_view name) {
  const auto base = last_component(name);
  const auto dir = name.substr(0, name.size() - base.size());  // "" or ending in '/'
  std::string temp(dir);
  temp += TEMP_PREFIX;
  temp += base.size() > MAX_TEMP_BASE ? crypto::sha256_hex(base) : std::string(base);
  temp += ".tmp";
  return temp;
}

bool is_temp_name(std::string_view name) {
  const auto base = last_component(name);
  return base.starts_with(TEMP_PREFIX) || base.starts_with(WINDOWS_TEMP_PREFIX);
}

std::string conflict_name(std::string_view name, std::int64_t unix_time, std::string_view device_id_text) {
  const auto base = last_component(name);
  const auto dot = base.rfind('.');
  const auto ext = dot == std::string_view::npos ? std::string_view{} : base.substr(dot);
  const std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm local{};
  ::localtime_r(&t, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
  std::string out(name.substr(0, name.size() - ext.size()));
  out += CONFLICT_MARK;
  out += stamp;
  out += '-';
  out += device_id_text.substr(0, 7);
  out += ext;
  return out;
}

bool is_conflict_name(std::string_view name) {
  return last_component(name).find(CONFLICT_MARK) != std::string_view::npos;
}

std::optional<ConflictCopy> parse_conflict_name(std::string_view name) {
  const auto base_at = name.size() - last_component(name).size();
  const auto mark = name.find(CONFLICT_MARK, base_at);
  if (mark == std::string_view::npos) return std::nullopt;
  // "YYYYMMDD-HHMMSS-" then 7 characters of a device ID (base32: A-Z, 2-7).
  constexpr std::size_t STAMP = 15, DEVICE = 7;
  const auto rest = name.substr(mark + CONFLICT_MARK.size());
  if (rest.size() < STAMP + 1 + DEVICE || rest[8] != '-' || rest[STAMP] != '-') return std::nullopt;
  for (std::size_t i = 0; i < STAMP; ++i)
    if (i != 8 && (rest[i] < '0' || rest[i] > '9')) return std::nullopt;
  for (std::size_t i = STAMP + 1; i < STAMP + 1 + DEVICE; ++i)
    if (!((rest[i] >= 'A' && rest[i] <= 'Z') || (rest[i] >= '2' && rest[i] <= '7'))) return std::nullopt;
  const auto ext = rest.substr(STAMP + 1 + DEVICE);
  ConflictCopy out;
  out.original = std::string(name.substr(0, mark)) + std::string(ext);
  out.stamp = std::string(rest.substr(0, STAMP));
  out.device = std::string(rest.substr(STAMP + 1, DEVICE));
  return out;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if ((b & 0xe0) == 0xc0) {
      len = 2;
      cp = b & 0x1fu;
    } else if ((b & 0xf0) == 0xe0) {
      len = 3;
      cp = b & 0x0fu;
    } else if ((b & 0xf8) == 0xf0) {
      len = 4;
      cp = b & 0x07u;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3fu);
    }
    static constexpr std::uint32_t MIN[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < MIN[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

}  // namespace kith::sync
