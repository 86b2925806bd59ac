// Fuzzes sync::check_name (every file name in a peer's index passes it before this node creates,
// writes or deletes anything by that name).
// Invariants, checked against a slow, obvious reading of the rules: an accepted name is non-empty,
// relative, has no NUL, no empty, "." or ".." component, is not under .stfolder, .stignore or
// .stversions, and its last component is not a temporary name; so it stays inside the folder. And
// the names this node makes from an accepted name are what they claim: its temporary name is a
// temporary name (refused as a peer's name), its conflict copy's name is accepted and is a conflict name.
// fold_case (case_check.hpp; names compared on case-insensitive file systems) takes any bytes, and of
// an accepted name gives valid UTF-8 that folds to itself.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sync/case_check.hpp"
#include "sync/names.hpp"

namespace {

std::vector<std::string_view> components(std::string_view name) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto slash = name.find('/', start);
    out.push_back(
        name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

bool stays_inside(std::string_view name) {
  if (name.empty() || name.find('\0') != std::string_view::npos) return false;
  const auto parts = components(name);
  for (auto part : parts)
    if (part.empty() || part == "." || part == "..") return false;
  for (std::string_view internal : {".stfolder", ".stignore", ".stversions"})
    if (parts.front() == internal) return false;
  const auto last = parts.back();
  return last.substr(0, 11) != ".syncthing." && last.substr(0, 11) != "~syncthing~";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sync = kith::sync;
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  const auto folded = sync::fold_case(name);
  const bool accepted = static_cast<bool>(sync::check_name(name));
  if (!accepted) return 0;
  if (!stays_inside(name) || !sync::valid_utf8(name)) std::abort();
  if (!sync::valid_utf8(folded) || sync::fold_case(folded) != folded) std::abort();

  const auto temp = sync::temp_name(name);
  if (!sync::is_temp_name(temp) || sync::check_name(temp)) std::abort();
  // The temporary file sits next to the file: same directory part.
  const auto dir = name.substr(0, name.rfind('/') == std::string_view::npos ? 0 : name.rfind('/') + 1);
  if (std::string_view(temp).substr(0, dir.size()) != dir) std::abort();

  const auto conflict = sync::conflict_name(name, 1'700'000'000, "ABCDEFG-HIJKLMN");
  if (!sync::check_name(conflict) || !sync::is_conflict_name(conflict)) std::abort();
  return 0;
}
