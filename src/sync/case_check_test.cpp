// What can be checked of case_check.hpp without a case-insensitive file system (the exFAT one is in
// tests/integration/test_sync_case_insensitive.py): the folding, and that a case-sensitive folder is
// taken as one and lets every name through.
#include "sync/case_check.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace kith {
namespace {
namespace fs = std::filesystem;

struct TempDir {
  explicit TempDir(const std::string& tag)
      : root(fs::temp_directory_path() / ("kith_case_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~TempDir() { fs::remove_all(root); }
  const fs::path& path() const { return root; }
  fs::path root;
};

TEST(CaseCheck, FoldsUnicodeLettersOneToOne) {
  EXPECT_EQ(sync::fold_case("Docs/Report.TXT"), "docs/report.txt");
  EXPECT_EQ(sync::fold_case("\xC3\x84rger \xC3\x89T\xC3\x89"),
            "\xC3\xA4rger \xC3\xA9t\xC3\xA9");                                         // Ärger ÉTÉ
  EXPECT_EQ(sync::fold_case("\xD0\x9C\xD0\xB8\xD1\x80"), "\xD0\xBC\xD0\xB8\xD1\x80");  // Мир
  EXPECT_EQ(sync::fold_case("\xF0\x9F\x98\x80.txt"), "\xF0\x9F\x98\x80.txt");          // an emoji
  // Not UTF-8: the bytes stay as they are, nothing is dropped or read past the end.
  EXPECT_EQ(sync::fold_case("A\xFF\xC3"), "a\xFF\xC3");
}

TEST(CaseCheck, ACaseSensitiveFolderLetsEveryNameThrough) {
  TempDir dir("sensitive");
  fs::create_directories(dir.path() / ".stfolder");
  fs::create_directories(dir.path() / "Docs");
  std::ofstream(dir.path() / "Docs" / "Report.txt") << "x";
  EXPECT_FALSE(sync::case_insensitive(dir.path()));
  EXPECT_TRUE(sync::check_case(dir.path(), "Docs/Report.txt"));
  EXPECT_TRUE(sync::check_case(dir.path(), "docs/report.txt"));  // not there at all: nothing to mistake
  EXPECT_TRUE(sync::check_case(dir.path(), "Docs/new/deeper.txt"));
}

TEST(CaseCheck, AFolderWithoutItsMarkerIsNotTakenForCaseInsensitive) {
  TempDir dir("nomarker");
  EXPECT_FALSE(sync::case_insensitive(dir.path()));
  EXPECT_FALSE(sync::case_insensitive(dir.path() / "missing"));
}

}  // namespace
}  // namespace kith
