// Ignore patterns (ignore.hpp, glob.hpp): Syncthing's documented examples, its expansion rules, the
// errors and the limits.
#include "sync/ignore.hpp"

#include <gtest/gtest.h>

#include <map>

#include "sync/errors.hpp"

using namespace kith::sync;

namespace {

Ignores parsed(std::string_view text, std::map<std::string, std::string> files = {}) {
  auto r = parse_ignores(text, [files](const std::string& name) -> kith::Result<std::string> {
    auto it = files.find(name);
    if (it == files.end()) return kith::fail(kith::base::make_error_code(kith::base::errc::not_found), name);
    return it->second;
  });
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? std::move(*r) : Ignores{};
}

std::string error_of(std::string_view text, std::map<std::string, std::string> files = {}) {
  auto r = parse_ignores(text, [files](const std::string& name) -> kith::Result<std::string> {
    auto it = files.find(name);
    if (it == files.end()) return kith::fail(kith::base::make_error_code(kith::base::errc::not_found), name);
    return it->second;
  });
  if (r) return "";
  EXPECT_EQ(r.error().code, make_error_code(errc::bad_ignores));
  return r.error().message;
}

struct Case {
  const char* pattern;
  const char* name;
  bool ignored;
};

}  // namespace

// docs.syncthing.net/users/ignoring.html § Patterns, and the expansion in lib/ignore/ignore.go.
TEST(Ignore, SyncthingsDocumentedPatterns) {
  const Case cases[] = {
      {"foo", "foo", true},
      {"foo", "subdir/foo", true},
      {"foo", "foo/inside", true},  // a matched directory: everything below it
      {"foo", "foofoo", false},
      {"te*st", "test", true},
      {"te*st", "subdir/telerest", true},
      {"te*st", "tele/rest", false},
      {"te**st", "test", true},
      {"te**st", "subdir/telerest", true},
      {"te**st", "tele/sub/dir/rest", true},
      {"te??st", "tebest", true},
      {"te??st", "teb/st", false},
      {"te??st", "test", false},
      {"[a-z]oo", "foo", true},
      {"[a-z]oo", "Foo", false},
      {"[!a-z]oo", "Foo", true},
      {"[!a-z]oo", "foo", false},
      {"{banana,pineapple}", "banana", true},
      {"{banana,pineapple}", "pineapple", true},
      {"{banana,pineapple}", "apple", false},
      {"*.{jp{e,}g,png}", "a/b.jpeg", true},
      {"*.{jp{e,}g,png}", "b.jpg", true},
      {"*.{jp{e,}g,png}", "b.gif", false},
      {"/foo", "foo", true},
      {"/foo", "foo/bar", true},
      {"/foo", "subdir/foo", false},
      {"foo/", "foo", false},  // only what is inside
      {"foo/", "foo/bar", true},
      {"foo/", "x/foo/bar", true},
      {"foo/**", "foo/bar/baz", true},
      {"foo/**", "foo", false},
      {"**/foo", "foo", true},
      {"**/foo", "a/b/foo", true},
      {"a/b", "a/b", true},
      {"a/b", "x/a/b", true},
      {"a/b", "a/x/b", false},
      {"(?i)my pictures", "My Pictures", true},
      {"(?i)My Pictures", "x/MY PICTURES/img.png", true},
      {"My Pictures", "my pictures", false},
      {"\\*", "*", true},
      {"\\*", "x", false},
      {"a\\[b", "a[b", true},
      {"*", "anything/at/all", true},
      {"ünï*", "dir/ünïcode", true},
      {"?", "é", true},        // one character, not one byte
      {"#foo", "#foo", true},  // '#' starts a pattern unless it is #include
  };
  for (const auto& c : cases) {
    auto ig = parsed(c.pattern);
    EXPECT_EQ(ig.ignored(c.name), c.ignored) << "pattern " << c.pattern << " name " << c.name;
  }
}

TEST(Ignore, TheFirstMatchingPatternDecides) {
  // The docs' example: (?d).DS_Store, !frobble, !quuz, foo, *2, qu*, (?i)my pictures.
  auto ig = parsed("// a comment\n\n(?d).DS_Store\n!frobble\n!quuz\nfoo\n*2\nqu*\n(?i)my pictures\n");
  EXPECT_TRUE(ig.ignored(".DS_Store"));
  EXPECT_TRUE(ig.match(".DS_Store").deletable);
  EXPECT_TRUE(ig.ignored("foo"));
  EXPECT_FALSE(ig.ignored("foofoo"));
  EXPECT_FALSE(ig.ignored("bar/baz"));
  EXPECT_TRUE(ig.ignored("bar/quux"));
  EXPECT_FALSE(ig.ignored("bar/quuz"));
  EXPECT_TRUE(ig.ignored("bar2"));
  EXPECT_FALSE(ig.ignored("bar2/frobble"));  // !frobble comes first; the scan looks inside bar2
  EXPECT_FALSE(ig.skip_ignored_dirs());
  EXPECT_TRUE(ig.ignored("My Pictures/Img15.PNG"));
  EXPECT_FALSE(ig.match("foo").deletable);
  // A keep before the catch-all keeps; after it, it is too late.
  auto keep = parsed("!keep\n*\n");
  EXPECT_FALSE(keep.ignored("keep"));
  EXPECT_TRUE(keep.ignored("other"));
  auto late = parsed("*\n!keep\n");
  EXPECT_TRUE(late.ignored("keep"));
}

TEST(Ignore, PrefixesInAnyOrderAndTheExpandedList) {
  auto ig = parsed("!(?i)(?d)Keep\n/Root\nsub/\na/**\n**/deep\n(?d)(?i)x");
  EXPECT_EQ(ig.patterns(),
            (std::vector<std::string>{"(?d)(?i)!keep", "(?d)(?i)!**/keep", "(?d)(?i)!keep/**",
                                      "(?d)(?i)!**/keep/**", "/Root", "/Root/**", "sub/**", "**/sub/**",
                                      "a/**", "**/a/**", "**/deep", "deep", "**/deep/**", "deep/**",
                                      "(?d)(?i)x", "(?d)(?i)**/x", "(?d)(?i)x/**", "(?d)(?i)**/x/**"}));
  EXPECT_FALSE(ig.ignored("KEEP"));
  EXPECT_FALSE(ig.match("KEEP").deletable);  // a `!` pattern ignores nothing, so deletes nothing
  EXPECT_TRUE(ig.match("y/X").deletable);
  EXPECT_EQ(ig.lines().size(), 6u);
  // Only rooted, single-component keeps let the scan skip ignored directories.
  EXPECT_TRUE(parsed("!/keep\n*\n").skip_ignored_dirs());
  EXPECT_FALSE(parsed("!/a/keep\n*\n").skip_ignored_dirs());
  EXPECT_TRUE(parsed("foo\n*.tmp\n").skip_ignored_dirs());
}

TEST(Ignore, IncludesAreReadRelativeToTheIncludingFile) {
  auto ig =
      parsed("#include lists/one\nlocal\n",
             {{"lists/one", "one\n#include two\n"}, {"lists/two", "two\n#include /top\n"}, {"top", "three"}});
  EXPECT_TRUE(ig.ignored("one"));
  EXPECT_TRUE(ig.ignored("two"));
  EXPECT_TRUE(ig.ignored("three"));
  EXPECT_TRUE(ig.ignored("local"));
  EXPECT_FALSE(ig.ignored("lists/other"));
}

TEST(Ignore, ErrorsSayWhereAndWhat) {
  EXPECT_NE(error_of("ok\nfoo[\n").find(".stignore line 2"), std::string::npos);
  EXPECT_NE(error_of("foo[").find("'[' is not closed"), std::string::npos);
  EXPECT_NE(error_of("{a,b").find("'{' is not closed"), std::string::npos);
  EXPECT_NE(error_of("[]").find("no characters"), std::string::npos);
  EXPECT_NE(error_of("[z-a]").find("backwards"), std::string::npos);
  EXPECT_NE(error_of("ab\\").find("escapes nothing"), std::string::npos);
  EXPECT_NE(error_of("!").find("no pattern"), std::string::npos);
  EXPECT_NE(error_of("(?i)(?d)").find("no pattern"), std::string::npos);
  EXPECT_NE(error_of("#include").find("names no file"), std::string::npos);
  EXPECT_NE(error_of("#include missing").find("does not exist"), std::string::npos);
  EXPECT_NE(error_of("#include ../outside").find("inside the folder"), std::string::npos);
  EXPECT_NE(error_of("#include .stignore").find("included twice"), std::string::npos);
  // A loop is a file included twice (the same #include line again is skipped as a seen line).
  EXPECT_NE(error_of("#include a", {{"a", "#include b"}, {"b", "#include ./a"}}).find("included twice"),
            std::string::npos);
  EXPECT_EQ(error_of("#include a", {{"a", "#include b"}, {"b", "#include a"}}), "");
  // The error of an included file names it.
  EXPECT_NE(error_of("#include a", {{"a", "\nbad[\n"}}).find("a line 2"), std::string::npos);
  // Control characters in the file are escaped in the message.
  const auto msg = error_of("\x1b[31m[");
  EXPECT_EQ(msg.find('\x1b'), std::string::npos);
  EXPECT_NE(msg.find("\\x1b"), std::string::npos);
}

TEST(Ignore, Limits) {
  EXPECT_NE(error_of(std::string(IgnoreLimits::LINE_BYTES + 1, 'a')).find("longer than"), std::string::npos);
  std::string many;
  for (std::size_t i = 0; i <= IgnoreLimits::PATTERNS; ++i) many += "p" + std::to_string(i) + "\n";
  EXPECT_NE(error_of(many).find("patterns in all"), std::string::npos);
  std::map<std::string, std::string> chain;
  for (int i = 0; i < IgnoreLimits::INCLUDE_DEPTH + 2; ++i)
    chain["f" + std::to_string(i)] = "#include f" + std::to_string(i + 1) + "\n";
  EXPECT_NE(error_of("#include f0", chain).find("nested more than"), std::string::npos);
  std::string braces(Glob::MAX_NESTING + 1, '{');
  EXPECT_NE(error_of(braces + std::string(Glob::MAX_NESTING + 1, '}')).find("nested"), std::string::npos);
}

TEST(Ignore, MatchingIsLinearNotBacktracking) {
  // A pattern that makes a backtracking matcher take exponential time on a near miss.
  auto ig = parsed("**a**a**a**a**a**a**a**a**a**a**a**a**b");
  const std::string name(4000, 'a');
  EXPECT_FALSE(ig.ignored(name));
  EXPECT_TRUE(ig.ignored(name + "b"));
}

TEST(Ignore, DuplicateLinesAreSkippedAsInSyncthing) {
  auto ig = parsed("foo\nfoo\n");
  EXPECT_EQ(ig.patterns().size(), 4u);
}
