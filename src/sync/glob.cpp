#include "sync/glob.hpp"

#include <memory>

namespace kith::sync {
namespace {

Error bad(std::string what) { return Error{base::make_error_code(base::errc::bad_input), std::move(what)}; }

}  // namespace

char32_t next_code_point(std::string_view text, std::size_t& at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char b0 = byte(at);
  int extra = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    ++at;
    return b0;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    extra = 1, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    extra = 2, cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    extra = 3, cp = b0 & 0x07;
  } else {
    ++at;
    return 0xDC00 + b0;
  }
  if (at + static_cast<std::size_t>(extra) >= text.size()) {  // cut short
    ++at;
    return 0xDC00 + b0;
  }
  for (int i = 1; i <= extra; ++i) {
    const unsigned char b = byte(at + i);
    if ((b & 0xC0) != 0x80) {
      ++at;
      return 0xDC00 + b0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms and surrogates are not valid UTF-8: byte by byte, like any other bad byte.
  if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
    ++at;
    return 0xDC00 + b0;
  }
  at += static_cast<std::size_t>(extra) + 1;
  return cp;
}

bool Glob::Class::contains(char32_t c) const {
  bool in = false;
  for (const auto& [lo, hi] : ranges)
    if (c >= lo && c <= hi) in = true;
  return in != negated;
}

// Parses a pattern into a tree, then compiles the tree right to left, each piece given the state that
// follows it (so no patching of dangling arrows is needed).
class GlobCompiler {
 public:
  explicit GlobCompiler(std::string_view p) : m_p(p) {}

  Result<Glob> run() {
    if (m_p.size() > Glob::MAX_BYTES)
      return tl::unexpected(bad("the pattern is longer than " + std::to_string(Glob::MAX_BYTES) + " bytes"));
    auto seq = sequence(0);
    if (!seq) return tl::unexpected(seq.error());
    Glob g;
    m_glob = &g;
    const int done = add({Glob::Kind::done, 0, -1, -1});
    g.m_start = compile(*seq, done);
    return g;
  }

 private:
  struct Node;
  using Seq = std::vector<Node>;
  struct Node {
    Glob::Kind kind = Glob::Kind::literal;  // literal, any, in_class; split = alternatives; any_sep = `**`
    bool star = false;                      // `*` (any) or `**` (any_sep): a loop
    char32_t c = 0;
    std::vector<Seq> alternatives;
  };

  // Until the end, or (inside braces) an unescaped ',' or '}', which is left for the caller.
  Result<Seq> sequence(int depth) {
    Seq out;
    while (m_at < m_p.size()) {
      const char ch = m_p[m_at];
      if (depth > 0 && (ch == ',' || ch == '}')) return out;
      Node n;
      if (ch == '*') {
        ++m_at;
        n.star = true;
        n.kind = Glob::Kind::any;
        if (m_at < m_p.size() && m_p[m_at] == '*') {
          ++m_at;
          n.kind = Glob::Kind::any_sep;
        }
      } else if (ch == '?') {
        ++m_at;
        n.kind = Glob::Kind::any;
      } else if (ch == '[') {
        auto cls = char_class();
        if (!cls) return tl::unexpected(cls.error());
        n.kind = Glob::Kind::in_class;
        n.c = static_cast<char32_t>(*cls);
      } else if (ch == '{') {
        if (depth + 1 > Glob::MAX_NESTING)
          return tl::unexpected(bad("'{' nested more than " + std::to_string(Glob::MAX_NESTING) + " deep"));
        ++m_at;
        n.kind = Glob::Kind::split;
        for (;;) {
          auto alt = sequence(depth + 1);
          if (!alt) return tl::unexpected(alt.error());
          n.alternatives.push_back(std::move(*alt));
          if (m_at >= m_p.size())
            return tl::unexpected(bad("a '{' is not closed (add '}' or escape it as '\\{')"));
          if (m_p[m_at++] == '}') break;  // else ',': the next alternative
        }
      } else {
        auto c = escaped_char();
        if (!c) return tl::unexpected(c.error());
        n.c = *c;
      }
      out.push_back(std::move(n));
    }
    return out;
  }

  Result<char32_t> escaped_char() {
    if (m_p[m_at] == '\\') {
      ++m_at;
      if (m_at >= m_p.size()) return tl::unexpected(bad("a '\\' at the end escapes nothing (write '\\\\')"));
    }
    return next_code_point(m_p, m_at);
  }

  // `[` ... `]`: its index among the glob's classes.
  Result<std::size_t> char_class() {
    ++m_at;  // '['
    Glob::Class cls;
    if (m_at < m_p.size() && m_p[m_at] == '!') {
      cls.negated = true;
      ++m_at;
    }
    for (;;) {
      if (m_at >= m_p.size())
        return tl::unexpected(bad("a '[' is not closed (add ']' or escape it as '\\[')"));
      if (m_p[m_at] == ']') {
        ++m_at;
        break;
      }
      auto lo = escaped_char();
      if (!lo) return tl::unexpected(lo.error());
      char32_t hi = *lo;
      if (m_at + 1 < m_p.size() && m_p[m_at] == '-' && m_p[m_at + 1] != ']') {
        ++m_at;
        auto h = escaped_char();
        if (!h) return tl::unexpected(h.error());
        hi = *h;
        if (hi < *lo) return tl::unexpected(bad("a range in '[...]' goes backwards (write it low-high)"));
      }
      cls.ranges.emplace_back(*lo, hi);
    }
    if (cls.ranges.empty()) return tl::unexpected(bad("'[]' has no characters in it"));
    m_classes.push_back(std::move(cls));
    return m_classes.size() - 1;
  }

  int add(Glob::State s) {
    m_glob->m_states.push_back(s);
    return static_cast<int>(m_glob->m_states.size()) - 1;
  }

  int compile(const Seq& seq, int next) {
    for (auto it = seq.rbegin(); it != seq.rend(); ++it) next = compile(*it, next);
    return next;
  }

  int compile(const Node& n, int next) {
    if (n.kind == Glob::Kind::split) {
      std::vector<int> starts;
      for (const auto& alt : n.alternatives) starts.push_back(compile(alt, next));
      int chain = starts.back();
      for (auto i = starts.size() - 1; i-- > 0;) chain = add({Glob::Kind::split, 0, starts[i], chain});
      return chain;
    }
    if (n.star) {  // split -> (one character -> back to split) | next
      const int loop = add({Glob::Kind::split, 0, -1, next});
      const int one = add({n.kind, 0, loop, -1});
      m_glob->m_states[static_cast<std::size_t>(loop)].out = one;
      return loop;
    }
    if (n.kind == Glob::Kind::in_class) {
      const auto index = m_glob->m_classes.size();
      m_glob->m_classes.push_back(m_classes[n.c]);
      return add({Glob::Kind::in_class, static_cast<char32_t>(index), next, -1});
    }
    return add({n.kind, n.c, next, -1});
  }

  std::string_view m_p;
  std::size_t m_at = 0;
  std::vector<Glob::Class> m_classes;
  Glob* m_glob = nullptr;
};

Result<Glob> Glob::compile(std::string_view pattern) { return GlobCompiler(pattern).run(); }

bool Glob::match(std::string_view name) const {
  if (m_start < 0) return false;
  std::vector<int> current, next, stack;
  std::vector<unsigned> mark(m_states.size(), 0);
  unsigned generation = 1;
  // Follows split states (no input consumed) from `s` and adds every state reached that reads input.
  auto add = [&](std::vector<int>& list, int s) {
    stack.push_back(s);
    while (!stack.empty()) {
      const int x = stack.back();
      stack.pop_back();
      if (x < 0 || mark[static_cast<std::size_t>(x)] == generation) continue;
      mark[static_cast<std::size_t>(x)] = generation;
      const State& st = m_states[static_cast<std::size_t>(x)];
      if (st.kind == Kind::split) {
        stack.push_back(st.out1);
        stack.push_back(st.out);
      } else {
        list.push_back(x);
      }
    }
  };
  add(current, m_start);
  for (std::size_t at = 0; at < name.size();) {
    const char32_t c = next_code_point(name, at);
    ++generation;
    next.clear();
    for (const int s : current) {
      const State& st = m_states[static_cast<std::size_t>(s)];
      bool takes = false;
      switch (st.kind) {
        case Kind::literal:
          takes = st.c == c;
          break;
        case Kind::any:
          takes = c != U'/';
          break;
        case Kind::any_sep:
          takes = true;
          break;
        case Kind::in_class:
          takes = m_classes[st.c].contains(c);
          break;
        default:
          break;
      }
      if (takes) add(next, st.out);
    }
    current.swap(next);
    if (current.empty()) return false;
  }
  for (const int s : current)
    if (m_states[static_cast<std::size_t>(s)].kind == Kind::done) return true;
  return false;
}

}  // namespace kith::sync
