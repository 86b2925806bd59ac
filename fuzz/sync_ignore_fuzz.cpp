// Fuzzes sync::parse_ignores and Ignores::match (.stignore and the files it includes: an included file
// can come from a peer). The input is split at the first NUL: before it the .stignore text (which may
// #include "inc", the text after the NUL), after it the included file, also used as names to match.
// Invariants: no crash, no hang (matching is linear: glob.hpp); an error is sync.bad_ignores with a
// message free of raw control bytes (it is shown on terminals); a successful parse lists each
// pattern it uses, and a name matched by no pattern is not ignored.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sync/errors.hpp"
#include "sync/ignore.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sync = kith::sync;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nul = input.find('\0');
  const std::string_view text = input.substr(0, nul);
  const std::string included(nul == std::string_view::npos ? std::string_view{} : input.substr(nul + 1));
  auto r = sync::parse_ignores(text, [&](const std::string& name) -> kith::Result<std::string> {
    if (name == "inc") return included;
    return kith::fail(kith::base::make_error_code(kith::base::errc::not_found), name);
  });
  if (!r) {
    if (r.error().code != sync::make_error_code(sync::errc::bad_ignores)) std::abort();
    for (unsigned char c : r.error().message)
      if (c < 0x20 || c == 0x7f) std::abort();
    return 0;
  }
  if (r->patterns().empty() != r->empty()) std::abort();
  // Names: the included text's lines (capped so a single input stays fast), and a few fixed ones.
  std::size_t start = 0;
  for (int n = 0; n < 16 && start <= included.size(); ++n) {
    auto end = included.find('\n', start);
    if (end == std::string::npos) end = included.size();
    const auto name = std::string_view(included).substr(start, std::min<std::size_t>(end - start, 512));
    const auto m = r->match(name);
    if (m.deletable && !m.ignored) std::abort();
    start = end + 1;
  }
  for (const char* name : {"a", "a/b/c", ".DS_Store", "dir/file.txt", "ünïcode/é"}) (void)r->match(name);
  if (r->empty() && r->ignored("anything")) std::abort();
  return 0;
}
