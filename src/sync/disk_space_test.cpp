// A full disk (docs/sync.md § A full disk): does a file fit, what the error says, and a write that hits
// ENOSPC comes back as sync::errc::disk_full.
#include "sync/disk_space.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "crypto/hash.hpp"
#include "sync/errors.hpp"
#include "sync/file_ops.hpp"

using namespace kith;
using sync::DiskSpace;

namespace {
constexpr std::uint64_t MiB = 1024 * 1024;
}

TEST(DiskSpace, OnePercentOfTheFileSystemStaysFree) {
  EXPECT_EQ(sync::min_disk_free(100 * MiB), MiB);
  EXPECT_EQ(sync::min_disk_free(0), 0u);
  const DiskSpace space{10 * MiB, 100 * MiB, 0, 0};  // 10 MiB free, 1 MiB of it kept
  EXPECT_TRUE(sync::fits(space, 9 * MiB));
  EXPECT_FALSE(sync::fits(space, 9 * MiB + 1));
  EXPECT_TRUE(sync::fits(space, 0));
  EXPECT_FALSE(sync::fits(DiskSpace{MiB - 1, 100 * MiB, 0, 0}, 0));  // below the margin already
}

TEST(DiskSpace, TheMarginIsASetting) {
  EXPECT_EQ(sync::min_disk_free(100 * MiB, 5), 5 * MiB);
  EXPECT_EQ(sync::min_disk_free(100 * MiB, 0), 0u);
  EXPECT_EQ(sync::min_disk_free(100 * MiB, 250), 100 * MiB);  // clamped
  const DiskSpace none{10 * MiB, 100 * MiB, 0, 0, 0};         // 0 %: all 10 MiB usable
  EXPECT_TRUE(sync::fits(none, 10 * MiB));
  const DiskSpace five{10 * MiB, 100 * MiB, 0, 0, 5};  // 5 MiB of it kept
  EXPECT_TRUE(sync::fits(five, 5 * MiB));
  EXPECT_FALSE(sync::fits(five, 5 * MiB + 1));
  const auto m = sync::disk_full_message("/srv/team", "big.bin", five, 24 * MiB);
  EXPECT_NE(m.find("with 5 % of the file system, 5.0 MiB, kept free"), std::string::npos) << m;
}

TEST(DiskSpace, WhatFilesBeingPulledStillWriteIsNotFree) {
  const DiskSpace space{10 * MiB, 100 * MiB, 0, 0};
  EXPECT_TRUE(sync::fits(space, 4 * MiB, 5 * MiB));
  EXPECT_FALSE(sync::fits(space, 4 * MiB + 1, 5 * MiB));
  EXPECT_FALSE(sync::fits(space, 0, 11 * MiB));  // more reserved than free: no underflow
  EXPECT_FALSE(sync::fits(space, UINT64_MAX));   // no overflow either
}

TEST(DiskSpace, NoFreeInodesFitsNothing) {
  EXPECT_FALSE(sync::fits(DiskSpace{10 * MiB, 100 * MiB, 0, 1000}, 1));
  EXPECT_TRUE(sync::fits(DiskSpace{10 * MiB, 100 * MiB, 1, 1000}, 1));
  EXPECT_TRUE(sync::fits(DiskSpace{10 * MiB, 100 * MiB, 0, 0}, 1));  // inodes not counted (btrfs)
}

TEST(DiskSpace, ATemporaryFileFromAnEarlierTryCountsAsWritten) {
  EXPECT_EQ(sync::still_to_write(24 * MiB, 0), 24 * MiB);
  EXPECT_EQ(sync::still_to_write(24 * MiB, 8 * MiB), 16 * MiB);
  EXPECT_EQ(sync::still_to_write(24 * MiB, 25 * MiB), 0u);
}

TEST(DiskSpace, TheErrorSaysHowMuchAndWhatToDo) {
  const auto m =
      sync::disk_full_message("/srv/team", "big.bin", DiskSpace{7 * MiB, 8 * MiB, 10, 100}, 24 * MiB);
  EXPECT_EQ(m.rfind("disk full: /srv/team has 7.0 MiB free, needs 24.1 MiB for big.bin", 0), 0u) << m;
  EXPECT_NE(m.find("kith retries by itself"), std::string::npos) << m;
  const auto w = sync::disk_full_message("/srv/team", "big.bin", DiskSpace{0, 8 * MiB, 10, 100}, MiB, 2 * MiB,
                                         "big.bin: cannot write a block: No space left on device");
  EXPECT_EQ(
      w.rfind("disk full: big.bin: cannot write a block: No space left on device; /srv/team has 0.0 MiB "
              "free (2.0 MiB of it for files being pulled now)",
              0),
      0u)
      << w;
  const auto i = sync::disk_full_message("/srv/team", "a", DiskSpace{7 * MiB, 8 * MiB, 0, 100}, 1);
  EXPECT_NE(i.find("no free inodes"), std::string::npos) << i;
}

TEST(DiskSpace, StatvfsOfARealDirectory) {
  auto space = sync::disk_space("/");
  ASSERT_TRUE(space) << space.error().message;
  EXPECT_GT(space->total, 0u);
  EXPECT_LE(space->free, space->total);
  EXPECT_FALSE(sync::disk_space("/no/such/directory/here"));
}

TEST(DiskSpace, AWriteOnAFullDiskIsDiskFull) {
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "no /dev/full";
  const std::string data(4096, 'x');
  store::SyncBlock block;
  block.offset = 0;
  block.size = static_cast<std::int32_t>(data.size());
  block.hash = crypto::sha256(data);
  auto ok = sync::write_block(fd, block, data);
  ::close(fd);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().code, sync::make_error_code(sync::errc::disk_full)) << ok.error().message;
  EXPECT_EQ(ok.error().code_name(), "sync.disk_full");
  EXPECT_EQ(sync::io_code(EDQUOT), sync::make_error_code(sync::errc::disk_full));
  EXPECT_EQ(sync::io_code(EACCES), base::make_error_code(base::errc::io_error));
}
