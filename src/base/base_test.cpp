#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "base/error.hpp"
#include "base/fs.hpp"
#include "base/hex.hpp"
#include "base/terminal.hpp"

using namespace kith;

TEST(Hex, RoundTrip) {
  std::string bytes("\x00\x01\xab\xff", 4);
  EXPECT_EQ(base::to_hex(bytes), "0001abff");
  EXPECT_EQ(base::from_hex("0001ABff"), bytes);
}

TEST(Hex, RejectsOddLengthAndBadDigits) {
  EXPECT_FALSE(base::from_hex("abc"));
  EXPECT_FALSE(base::from_hex("zz"));
}

TEST(Fs, AtomicWriteReplacesAndReads) {
  auto dir = std::filesystem::temp_directory_path() / ("kith_base_test_" + std::to_string(::getpid()));
  ASSERT_TRUE(base::ensure_dir(dir));
  auto file = dir / "x.bin";
  ASSERT_TRUE(base::atomic_write_file(file, "first"));
  ASSERT_TRUE(base::atomic_write_file(file, "second", 0600));
  auto data = base::read_file(file);
  ASSERT_TRUE(data);
  EXPECT_EQ(*data, "second");
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // No temporary files are left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  std::filesystem::remove_all(dir);
}

TEST(Fs, ReadMissingIsNotFound) {
  auto r = base::read_file("/nonexistent/kith/file");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, base::make_error_code(base::errc::not_found));
  EXPECT_EQ(r.error().code_name(), "base.not_found");
}

TEST(Fs, ReadRefusesOversizedFile) {
  auto file = std::filesystem::temp_directory_path() / ("kith_big_" + std::to_string(::getpid()));
  ASSERT_TRUE(base::atomic_write_file(file, std::string(100, 'x')));
  auto r = base::read_file(file, 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, base::make_error_code(base::errc::bad_input));
  std::filesystem::remove(file);
}

#include "base/base64.hpp"

TEST(Base64, RoundTripsAllLengths) {
  EXPECT_EQ(base::base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base::base64_encode("fo"), "Zm8=");
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar",
                                                std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(base::base64_decode(base::base64_encode(s)), s);
  }
}

TEST(Base64, RejectsBadInput) {
  EXPECT_FALSE(base::base64_decode("Zm9"));
  EXPECT_FALSE(base::base64_decode("Zm9*"));
  EXPECT_FALSE(base::base64_decode("Z=9v"));
}

TEST(TerminalSafe, KeepsPrintableTextOfEveryScript) {
  for (std::string_view s : {"", "plain name.iso", "tab-free \\ backslash", "Ünïcødé",
                             "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d",  // Hebrew (right-to-left letters are fine)
                             "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80"}) {  // CJK, an emoji
    EXPECT_EQ(base::terminal_safe(s), s);
  }
}

TEST(TerminalSafe, EscapesC0ControlsAndDel) {
  EXPECT_EQ(base::terminal_safe("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");        // sets the window title
  EXPECT_EQ(base::terminal_safe("a\x1b[2J\x1b[31mred"), "a\\x1b[2J\\x1b[31mred");  // clears, recolours
  EXPECT_EQ(base::terminal_safe("x\nkith: forged"), "x\\nkith: forged");
  EXPECT_EQ(base::terminal_safe("\r\t"), "\\r\\t");
  EXPECT_EQ(base::terminal_safe(std::string_view("\x00\x7f\x08", 3)), "\\x00\\x7f\\x08");
}

TEST(TerminalSafe, EscapesC1ControlsAndBidiOverrides) {
  EXPECT_EQ(base::terminal_safe("\xc2\x9b"
                                "31m"),
            "\\u009b31m");  // U+009B: CSI in one character
  EXPECT_EQ(base::terminal_safe("\xc2\x80\xc2\x9f\xc2\xa0"), "\\u0080\\u009f\xc2\xa0");  // NBSP stays
  // "evil\u202egpj.exe" would read as "evilexe.jpg".
  EXPECT_EQ(base::terminal_safe("evil\xe2\x80\xae"
                                "gpj.exe"),
            "evil\\u202egpj.exe");
  EXPECT_EQ(base::terminal_safe("\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\xa8\xe2\x80\xa9"),
            "\\u202a\\u2066\\u2069\\u2028\\u2029");
  EXPECT_EQ(base::terminal_safe("\xe2\x80\x8f"), "\xe2\x80\x8f");  // a right-to-left mark only marks
}

TEST(TerminalSafe, EscapesInvalidUtf8ByteByByte) {
  EXPECT_EQ(base::terminal_safe("\x80"), "\\x80");                             // stray continuation byte
  EXPECT_EQ(base::terminal_safe("\xc0\xaf"), "\\xc0\\xaf");                    // overlong "/"
  EXPECT_EQ(base::terminal_safe("\xe0\x80\x9b"), "\\xe0\\x80\\x9b");           // overlong C1
  EXPECT_EQ(base::terminal_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
  EXPECT_EQ(base::terminal_safe("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // over U+10FFFF
  EXPECT_EQ(base::terminal_safe("ok\xe2\x80"), "ok\\xe2\\x80");                // truncated at the end
  EXPECT_EQ(base::terminal_safe("\xe2(x"), "\\xe2(x");                         // resynchronises on ASCII
  EXPECT_EQ(base::terminal_safe("\xff\xfe"), "\\xff\\xfe");
}

TEST(TerminalSafe, IsIdempotent) {
  for (std::string_view s : {"\x1b[1m\xc2\x9b\xe2\x80\xae\xff", "a\\x1b", "\n\n"}) {
    auto once = base::terminal_safe(s);
    EXPECT_EQ(base::terminal_safe(once), once);
  }
}
