#pragma once
// A folder's ignore patterns: FOLDER/.stignore and the files it #includes, read as Syncthing 1.19 reads
// them (lib/ignore/ignore.go), so that a kith node and a Syncthing device leave out the same files.
//
// The file: one pattern per line, surrounding white space trimmed; blank lines and lines starting with
// `//` are skipped; `#include NAME` reads NAME (relative to the including file's directory) in place;
// a line seen before (in any of the files) is skipped. A pattern may start with `!` (the names it
// matches are not ignored), `(?i)` (case is ignored) and `(?d)` (may be deleted when a directory that
// holds it is deleted by a peer), in any order, each once. The rest is a glob (glob.hpp), expanded as
// Syncthing does: `/NAME` matches at the top of the folder only, anything else at any depth; `NAME`
// also matches everything below a directory it matches (`NAME/**`), `NAME/` only what is below. The
// first pattern that matches a name decides; no match: not ignored.
//
// Differences from Syncthing: `#include` never reads outside the folder nor through a symlink (a
// peer can sync the included files); `(?i)` folds ASCII letters only; the limits below.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "sync/glob.hpp"

namespace kith::sync {

inline constexpr std::string_view IGNORE_FILE = ".stignore";

struct IgnoreLimits {
  static constexpr std::size_t FILE_BYTES = 1 << 20;  // each file read
  static constexpr std::size_t LINE_BYTES = 1000;     // a pattern line (comments may be longer)
  static constexpr std::size_t PATTERNS = 5000;       // pattern lines in all the files together
  static constexpr int INCLUDE_DEPTH = 8;
  static constexpr int INCLUDES = 64;  // files included, in all
};

struct IgnoreMatch {
  bool ignored = false;
  bool deletable = false;  // ignored by a (?d) pattern
};

class Ignores {
 public:
  struct Pattern {
    std::string text;  // as Syncthing lists it: (?d)(?i)!PATTERN, rooted ones with their '/'
    Glob glob;
    bool ignore = true, fold_case = false, deletable = false;
  };

  IgnoreMatch match(std::string_view name) const;  // name: relative, '/'-separated
  bool ignored(std::string_view name) const { return match(name).ignored; }
  // False when a `!` pattern could match something inside an ignored directory: the scan must then
  // look inside ignored directories (Syncthing's SkipIgnoredDirs).
  bool skip_ignored_dirs() const { return m_skip_dirs; }
  bool empty() const { return m_patterns.empty(); }
  const std::vector<std::string>& lines() const { return m_lines; }  // .stignore's, trimmed
  std::vector<std::string> patterns() const;                         // expanded, in order

 private:
  friend class IgnoreParser;
  std::vector<std::string> m_lines;
  std::vector<Pattern> m_patterns;
  bool m_skip_dirs = true;
  bool m_any_fold = false;
};

// Reads an included file by its name relative to the folder; a missing file is base::errc::not_found.
using ReadIgnoreFile = std::function<Result<std::string>(const std::string& name)>;

// Parses the text of .stignore. Errors (sync.bad_ignores) name the file and line and say what is
// wrong; the pattern is quoted escaped and shortened, safe to print.
Result<Ignores> parse_ignores(std::string_view text, const ReadIgnoreFile& read_include);

// ROOT/.stignore and what it includes (none: no patterns). Blocking. Included files are opened
// beneath the folder without following symlinks; .stignore itself may be a symlink (peers cannot sync
// one: check_name refuses the name). Errors: sync.bad_ignores, or the I/O error reading .stignore.
Result<Ignores> load_ignores(const std::filesystem::path& root);

}  // namespace kith::sync
