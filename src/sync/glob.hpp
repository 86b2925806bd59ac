#pragma once
// One glob of an ignore pattern, in the syntax Syncthing uses (github.com/gobwas/glob with '/' as the
// separator): `*` any run of characters but '/', `**` any run including '/', `?` one character but
// '/', `[abc]`, `[a-z]`, `[!a-z]` one character (of the class, or not), `{a,b,c}` one of the
// alternatives (each a glob itself; nested), `\x` the character x as it is. Characters are UTF-8 code
// points. Anything else stands for itself.
//
// Matching never backtracks: the glob is compiled to a Thompson NFA and run over the name once, so a
// match costs at most (length of the name) x (size of the glob), whatever the input. The patterns come
// from .stignore and the files it includes, which a peer can write (an included file may be synced).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace kith::sync {

class Glob {
 public:
  static constexpr std::size_t MAX_BYTES = 1024;  // longer patterns are refused
  static constexpr int MAX_NESTING = 8;           // {..{..}..} levels

  // Errors: base::errc::bad_input, saying what is wrong in words (an unclosed '[' or '{', a class
  // with nothing in it, a '\' with nothing after it, too long, too deeply nested).
  static Result<Glob> compile(std::string_view pattern);
  bool match(std::string_view name) const;
  std::size_t size() const { return m_states.size(); }

 private:
  enum class Kind : unsigned char { literal, any, any_sep, in_class, split, done };
  struct State {
    Kind kind = Kind::done;
    char32_t c = 0;  // literal: the character; in_class: index into m_classes
    int out = -1, out1 = -1;
  };
  struct Class {
    std::vector<std::pair<char32_t, char32_t>> ranges;
    bool negated = false;
    bool contains(char32_t c) const;
  };
  friend class GlobCompiler;
  std::vector<State> m_states;
  std::vector<Class> m_classes;
  int m_start = -1;
};

// The next code point of `text` at `at` (advanced past it). A byte that does not start valid UTF-8
// stands for itself as U+DC80..U+DCFF (as Python's surrogateescape), so any name can be matched.
char32_t next_code_point(std::string_view text, std::size_t& at);

}  // namespace kith::sync
