#include "sync/ignore.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "base/terminal.hpp"
#include "sync/errors.hpp"
#include "sync/folder_fs.hpp"

namespace kith::sync {
namespace {

constexpr std::string_view SPACE = " \t\r\n\v\f";

std::string_view trimmed(std::string_view s) {
  const auto b = s.find_first_not_of(SPACE);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(SPACE) - b + 1);
}

bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Text from the file, for an error message: escaped, and cut (at a character boundary) when long.
std::string as_shown(std::string_view text) {
  constexpr std::size_t MAX = 60;
  std::string_view cut = text;
  bool shortened = false;
  if (cut.size() > MAX) {
    std::size_t n = MAX;
    while (n > 0 && (static_cast<unsigned char>(cut[n]) & 0xC0) == 0x80) --n;
    cut = cut.substr(0, n);
    shortened = true;
  }
  return "\"" + base::terminal_safe(cut) + (shortened ? "..." : "") + "\"";
}

Error io_error(int err, const std::string& what) {
  return Error{std::error_code(err, std::generic_category()), what + ": " + std::strerror(err)};
}

Error bad_ignores(std::string what) { return Error{make_error_code(errc::bad_ignores), std::move(what)}; }

Result<std::string> read_all(int fd, const std::string& shown) {
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return tl::unexpected(io_error(errno, "cannot read " + shown));
    }
    if (n == 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > IgnoreLimits::FILE_BYTES)
      return tl::unexpected(bad_ignores(shown + " is larger than " +
                                        std::to_string(IgnoreLimits::FILE_BYTES >> 20) +
                                        " MiB: that is not an ignore file (shorten it)"));
  }
}

}  // namespace

class IgnoreParser {
 public:
  IgnoreParser(Ignores& out, const ReadIgnoreFile& read) : m_out(out), m_read(read) {}

  // One file's text; `file` is its name relative to the folder (for includes and messages).
  Status parse(std::string_view text, const std::string& file, int depth) {
    std::size_t number = 0;
    for (std::size_t at = 0; at < text.size();) {
      auto end = text.find('\n', at);
      if (end == std::string_view::npos) end = text.size();
      const std::string line(trimmed(text.substr(at, end - at)));
      at = end + 1;
      ++number;
      if (depth == 0) m_out.m_lines.push_back(line);
      if (!m_seen_lines.insert(line).second) continue;  // Syncthing skips a line seen before
      if (line.empty() || starts(line, "//")) continue;
      const auto where =
          base::terminal_safe(file) + " line " + std::to_string(number) + " (" + as_shown(line) + "): ";
      if (line.size() > IgnoreLimits::LINE_BYTES)
        return tl::unexpected(bad_ignores(where + "longer than " + std::to_string(IgnoreLimits::LINE_BYTES) +
                                          " bytes (shorten the pattern)"));
      if (starts(line, "#include")) {
        if (auto ok = include(line, file, depth, where); !ok) return ok;
        continue;
      }
      if (++m_lines_used > IgnoreLimits::PATTERNS)
        return tl::unexpected(bad_ignores(where + "more than " + std::to_string(IgnoreLimits::PATTERNS) +
                                          " patterns in all (use fewer, broader ones)"));
      Status ok;
      if (ends(line, "/**")) {
        ok = add(line);
      } else if (ends(line, "/")) {
        ok = add(line + "**");
      } else {
        ok = add(line);
        if (ok) ok = add(line + "/**");
      }
      if (!ok) return tl::unexpected(bad_ignores(where + ok.error().message));
    }
    return {};
  }

  void finish() {
    // Syncthing's rule: directories an ignore pattern matches may be skipped unless some `!` pattern
    // could match below one (a rooted name with no '/' and no `**` but at its end cannot). Patterns
    // added as NAME/** beside NAME are judged with NAME.
    m_out.m_skip_dirs = true;
    std::string previous;
    for (const auto& p : m_out.m_patterns) {
      if (p.text.size() > 3 && !previous.empty() && p.text.substr(0, p.text.size() - 3) == previous) continue;
      if (!p.ignore) {
        const std::string_view body = p.text.substr(p.text.find('!') + 1);
        std::string_view stem = body;
        if (ends(stem, "**")) stem.remove_suffix(2);
        if (body.empty() || body[0] != '/' || body.substr(1).find('/') != std::string_view::npos ||
            stem.find("**") != std::string_view::npos) {
          m_out.m_skip_dirs = false;
          break;
        }
      }
      previous = p.text;
    }
  }

 private:
  Status include(const std::string& line, const std::string& file, int depth, const std::string& where) {
    const auto space = line.find(' ');
    const auto rel =
        space == std::string::npos ? std::string_view{} : trimmed(std::string_view(line).substr(space));
    if (rel.empty())
      return tl::unexpected(bad_ignores(where + "#include names no file (write #include NAME)"));
    if (depth + 1 > IgnoreLimits::INCLUDE_DEPTH)
      return tl::unexpected(bad_ignores(where + "#include nested more than " +
                                        std::to_string(IgnoreLimits::INCLUDE_DEPTH) + " deep"));
    if (++m_includes > IgnoreLimits::INCLUDES)
      return tl::unexpected(
          bad_ignores(where + "more than " + std::to_string(IgnoreLimits::INCLUDES) + " files included"));
    // Relative to the including file's directory; a leading '/' is the folder's top (as in Syncthing,
    // where the path is joined to the folder's). Never outside the folder.
    auto joined =
        (std::filesystem::path(file).parent_path() / std::filesystem::path(std::string(rel)).relative_path())
            .lexically_normal()
            .generic_string();
    if (std::string_view(rel).front() == '/')
      joined = std::filesystem::path(std::string(rel)).relative_path().lexically_normal().generic_string();
    if (joined.empty() || joined == "." || starts(joined, "..") || ends(joined, "/"))
      return tl::unexpected(bad_ignores(where + "kith includes only files inside the folder"));
    if (!m_included.insert(joined).second)
      return tl::unexpected(
          bad_ignores(where + as_shown(joined) + " is included twice (Syncthing refuses that too)"));
    auto text = m_read(joined);
    if (!text) {
      if (text.error().code == base::make_error_code(base::errc::not_found))
        return tl::unexpected(
            bad_ignores(where + "the included file " + as_shown(joined) + " does not exist"));
      if (text.error().code == make_error_code(errc::bad_ignores)) return tl::unexpected(text.error());
      return tl::unexpected(bad_ignores(where + "cannot read the included file " + as_shown(joined) + ": " +
                                        text.error().message));
    }
    return parse(*text, joined, depth + 1);
  }

  // One expanded line (Syncthing's parseLine): prefixes, then one or two globs.
  Status add(std::string_view line) {
    Ignores::Pattern p;
    bool seen[3] = {false, false, false};
    for (;;) {
      if (starts(line, "!") && !seen[0]) {
        seen[0] = true;
        p.ignore = false;
        line.remove_prefix(1);
      } else if (starts(line, "(?i)") && !seen[1]) {
        seen[1] = true;
        p.fold_case = true;
        line.remove_prefix(4);
      } else if (starts(line, "(?d)") && !seen[2]) {
        seen[2] = true;
        p.deletable = true;
        line.remove_prefix(4);
      } else {
        break;
      }
    }
    if (line.empty())
      return fail(base::make_error_code(base::errc::bad_input), "no pattern after the prefixes");
    const std::string body = p.fold_case ? ascii_lower(line) : std::string(line);
    const std::string prefix =
        std::string(p.deletable ? "(?d)" : "") + (p.fold_case ? "(?i)" : "") + (p.ignore ? "" : "!");
    auto push = [&](const std::string& text, std::string_view glob) -> Status {
      auto g = Glob::compile(glob);
      if (!g) return tl::unexpected(g.error());
      auto q = p;
      q.text = prefix + text;
      q.glob = std::move(*g);
      m_out.m_any_fold = m_out.m_any_fold || q.fold_case;
      m_out.m_patterns.push_back(std::move(q));
      return {};
    };
    if (starts(body, "/")) return push(body, std::string_view(body).substr(1));
    if (starts(body, "**/")) {
      if (auto ok = push(body, body); !ok) return ok;
      return push(body.substr(3), std::string_view(body).substr(3));
    }
    if (auto ok = push(body, body); !ok) return ok;
    return push("**/" + body, "**/" + body);
  }

  Ignores& m_out;
  const ReadIgnoreFile& m_read;
  std::set<std::string> m_seen_lines, m_included{std::string(IGNORE_FILE)};
  std::size_t m_lines_used = 0;
  int m_includes = 0;
};

IgnoreMatch Ignores::match(std::string_view name) const {
  if (m_patterns.empty() || name.empty() || name == ".") return {};
  const std::string lower = m_any_fold ? ascii_lower(name) : std::string();
  for (const auto& p : m_patterns)
    if (p.glob.match(p.fold_case ? std::string_view(lower) : name))
      return {p.ignore, p.ignore && p.deletable};
  return {};
}

std::vector<std::string> Ignores::patterns() const {
  std::vector<std::string> out;
  out.reserve(m_patterns.size());
  for (const auto& p : m_patterns) out.push_back(p.text);
  return out;
}

Result<Ignores> parse_ignores(std::string_view text, const ReadIgnoreFile& read_include) {
  Ignores out;
  IgnoreParser parser(out, read_include);
  if (text.size() > IgnoreLimits::FILE_BYTES)
    return tl::unexpected(bad_ignores(std::string(IGNORE_FILE) + " is larger than 1 MiB: shorten it"));
  if (auto ok = parser.parse(text, std::string(IGNORE_FILE), 0); !ok) return tl::unexpected(ok.error());
  parser.finish();
  return out;
}

Result<Ignores> load_ignores(const std::filesystem::path& root) {
  auto root_fd = open_root(root);
  if (!root_fd) return tl::unexpected(root_fd.error());
  const std::string name(IGNORE_FILE);
  const int fd = ::openat(root_fd->get(), name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Ignores{};
    return tl::unexpected(io_error(errno, "cannot read " + (root / name).string()));
  }
  UniqueFd owned(fd);
  auto text = read_all(fd, name);
  if (!text) return tl::unexpected(text.error());
  const int dir = root_fd->get();
  return parse_ignores(*text, [dir](const std::string& rel) -> Result<std::string> {
    auto f = open_beneath(dir, rel, O_RDONLY);
    if (!f) {
      if (f.error().code == std::error_code(ENOENT, std::generic_category()))
        return fail(base::make_error_code(base::errc::not_found), rel + " does not exist");
      if (f.error().code == std::error_code(ELOOP, std::generic_category()) ||
          f.error().code == std::error_code(ENOTDIR, std::generic_category()))
        return fail(f.error().code, "it is (or is below) a symlink, which kith does not follow");
      return tl::unexpected(f.error());
    }
    struct stat st {};
    if (::fstat(f->get(), &st) != 0 || !S_ISREG(st.st_mode))
      return fail(base::make_error_code(base::errc::bad_input), "it is not a regular file");
    return read_all(f->get(), rel);
  });
}

}  // namespace kith::sync
