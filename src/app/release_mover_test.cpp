// Moving wanted files out of staging: only those files, never over a user's file, all or nothing.
#include "app/release_mover.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace kith::app {
namespace {

namespace fs = std::filesystem;

class ReleaseMover : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("kith-mover-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    fs::create_directories(root / "staging");
    fs::create_directories(root / "dest");
  }
  void TearDown() override { fs::remove_all(root); }
  void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  std::string read(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  fs::path root;
};

TEST_F(ReleaseMover, MovesOnlyTheListedFiles) {
  write(root / "staging/t/a.txt", "A");
  write(root / "staging/t/sub/b.txt", "B");
  write(root / "staging/t/.parts", "bytes of unwanted files");
  write(root / "staging/t/unwanted.bin", "U");
  ASSERT_TRUE(move_files(root / "staging", root / "dest", {"t/a.txt", "t/sub/b.txt"}));
  EXPECT_EQ(read(root / "dest/t/a.txt"), "A");
  EXPECT_EQ(read(root / "dest/t/sub/b.txt"), "B");
  EXPECT_FALSE(fs::exists(root / "dest/t/.parts"));
  EXPECT_FALSE(fs::exists(root / "dest/t/unwanted.bin"));
  EXPECT_TRUE(fs::exists(root / "staging/t/.parts")) << "left behind, to be deleted with staging";
}

TEST_F(ReleaseMover, NeverReplacesAUsersFileAndUndoesWhatItMoved) {
  write(root / "staging/t/a.txt", "A");
  write(root / "staging/t/b.txt", "B");
  write(root / "dest/t/b.txt", "the user's");
  auto r = move_files(root / "staging", root / "dest", {"t/a.txt", "t/b.txt"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("b.txt"), std::string::npos) << r.error().message;
  EXPECT_EQ(read(root / "dest/t/b.txt"), "the user's");
  EXPECT_FALSE(fs::exists(root / "dest/t/a.txt")) << "all or nothing";
  EXPECT_EQ(read(root / "staging/t/a.txt"), "A") << "moved back";
  EXPECT_EQ(read(root / "staging/t/b.txt"), "B");
}

TEST_F(ReleaseMover, AMissingFileIsAnError) {
  write(root / "staging/t/a.txt", "A");
  EXPECT_FALSE(move_files(root / "staging", root / "dest", {"t/a.txt", "t/missing.txt"}));
  EXPECT_EQ(read(root / "staging/t/a.txt"), "A");
  EXPECT_FALSE(fs::exists(root / "dest/t/a.txt"));
}

}  // namespace
}  // namespace kith::app
