// The release state machine on its own (no I/O): what releases, what quarantines, and when.
#include "app/release_machine.hpp"

#include <gtest/gtest.h>

namespace kith::app {
namespace {

using Next = ReleaseMachine::Next;
using safety::Outcome;

safety::Decision verdict(Outcome outcome, std::uint64_t bytes = 10, std::string reason = {}) {
  safety::Decision d;
  d.outcome = outcome;
  d.bytes_scanned = bytes;
  d.reason = std::move(reason);
  return d;
}

std::vector<WantedFile> two_files() { return {{0, "a.txt", 10, false}, {1, "b.txt", 20, false}}; }

TEST(ReleaseMachine, ReleasesOnlyAfterEveryFileScannedCleanAndVerified) {
  ReleaseMachine m;
  m.set_files(two_files());
  EXPECT_TRUE(m.take_scans(2, false).empty()) << "nothing is complete yet";
  m.file_complete(0);
  auto jobs = m.take_scans(2, false);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].file.index, 0);
  m.scan_done(0, verdict(Outcome::clean, 10));
  EXPECT_EQ(m.next(), Next::wait) << "one file is still downloading";
  m.file_complete(1);
  m.all_downloaded();
  EXPECT_EQ(m.phase(), ReleasePhase::verifying);
  EXPECT_EQ(m.next(), Next::wait) << "not released before the hashes are checked";
  m.verified();
  EXPECT_EQ(m.phase(), ReleasePhase::scanning);
  EXPECT_EQ(m.next(), Next::wait) << "b.txt has no verdict";
  jobs = m.take_scans(2, false);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].file.index, 1);
  m.scan_done(1, verdict(Outcome::clean, 20));
  EXPECT_EQ(m.next(), Next::release);
  EXPECT_EQ(m.scan_progress(), std::make_pair(std::uint64_t{30}, std::uint64_t{30}));
  m.moving(false);
  EXPECT_EQ(m.phase(), ReleasePhase::releasing);
  m.moved();
  EXPECT_EQ(m.phase(), ReleasePhase::released);
}

TEST(ReleaseMachine, FirstBadVerdictQuarantinesEvenMidDownload) {
  ReleaseMachine m;
  m.set_files(two_files());
  m.file_complete(1);
  ASSERT_EQ(m.take_scans(2, false).size(), 1u);
  m.scan_done(1, verdict(Outcome::infected, 20, "infected: Eicar"));
  EXPECT_EQ(m.phase(), ReleasePhase::staging);
  EXPECT_EQ(m.next(), Next::quarantine);
  EXPECT_EQ(m.decision().outcome, Outcome::infected);
  m.moving(true);
  EXPECT_EQ(m.phase(), ReleasePhase::quarantining);
  m.moved();
  EXPECT_EQ(m.phase(), ReleasePhase::quarantined);
  // The user releases it from quarantine.
  m.moving(false);
  EXPECT_EQ(m.phase(), ReleasePhase::releasing);
}

TEST(ReleaseMachine, AStreamScanThatGivesUpIsNoVerdict) {
  ReleaseMachine m;
  m.set_files(two_files());
  auto jobs = m.take_scans(2, /*stream=*/true);
  ASSERT_EQ(jobs.size(), 1u) << "one stream scan at a time";
  EXPECT_TRUE(jobs[0].stream);
  EXPECT_EQ(jobs[0].file.index, 0);
  EXPECT_TRUE(m.take_scans(2, true).empty()) << "no second stream scan while one runs";
  m.scan_gave_up(0);
  // The same file is not streamed again (a paused download would start and give up in a loop); the
  // next incomplete one may be.
  jobs = m.take_scans(2, true);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].file.index, 1);
  m.scan_gave_up(1);
  EXPECT_TRUE(m.take_scans(2, true).empty());
  m.all_downloaded();
  m.verified();
  EXPECT_EQ(m.next(), Next::wait) << "a scan that gave up releases nothing";
  jobs = m.take_scans(2, false);
  EXPECT_EQ(jobs.size(), 2u) << "both files are scanned again, now complete";
  for (const auto& j : jobs) EXPECT_FALSE(j.stream);
}

TEST(ReleaseMachine, AFileCompleteWhileTheDownloadRunsIsReadOnlyFromWrittenPieces) {
  // "Complete" while the download runs means every piece passed its hash check, which libtorrent 2.0
  // reports before the last blocks are written: a plain read then found the file missing (a CI run
  // quarantined a clean download: "Can't open file") or could find holes of zeros where the bytes still
  // to be written are. Such a scan reads through the swarm's reader, which waits for written pieces.
  ReleaseMachine m;
  m.set_files({{0, "a.bin", 5, true}, {1, "b/c.txt", 5, false}});
  auto jobs = m.take_scans(2, /*downloading=*/true);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].file.index, 0);
  EXPECT_FALSE(jobs[0].stream) << "complete: it does not count as the download's one stream scan";
  EXPECT_TRUE(jobs[0].through_reader);
  EXPECT_TRUE(jobs[1].stream);
  EXPECT_TRUE(jobs[1].through_reader);
  // A reader that gives up (the transfer was paused) leaves the file for the end of the download, and
  // it is not taken again while the download runs (no loop of start and give up).
  m.scan_gave_up(0);
  EXPECT_TRUE(m.take_scans(2, true).empty());
  m.scan_gave_up(1);
  m.all_downloaded();
  m.verified();
  jobs = m.take_scans(2, /*downloading=*/false);
  ASSERT_EQ(jobs.size(), 2u);
  for (const auto& j : jobs) EXPECT_FALSE(j.through_reader) << "finished: every piece is written";
}

TEST(ReleaseMachine, NotFullyScannedQuarantines) {
  ReleaseMachine m;
  m.set_files({{0, "x.zip", 5, true}});
  m.all_downloaded();
  m.verified();
  ASSERT_EQ(m.take_scans(1, false).size(), 1u);
  m.scan_done(0, verdict(Outcome::incomplete, 5, "encrypted archive"));
  EXPECT_EQ(m.next(), Next::quarantine);
}

TEST(ReleaseMachine, AFailedMoveHoldsAndARetryChecksAgain) {
  ReleaseMachine m;
  m.set_files({{0, "a", 1, true}});
  m.all_downloaded();
  m.verified();
  ASSERT_EQ(m.take_scans(1, false).size(), 1u);
  m.scan_done(0, verdict(Outcome::clean, 1));
  ASSERT_EQ(m.next(), Next::release);
  m.moving(false);
  m.move_failed();
  EXPECT_EQ(m.phase(), ReleasePhase::held);
  EXPECT_EQ(m.next(), Next::wait);
  m.retry();
  EXPECT_EQ(m.phase(), ReleasePhase::verifying);
}

TEST(ReleaseMachine, ADeselectedFileNeedsNoVerdict) {
  ReleaseMachine m;
  m.set_files(two_files());
  m.set_files({{0, "a.txt", 10, true}});
  m.all_downloaded();
  m.verified();
  ASSERT_EQ(m.take_scans(2, false).size(), 1u);
  m.scan_done(0, verdict(Outcome::clean, 10));
  EXPECT_EQ(m.next(), Next::release);
}

TEST(ReleaseMachine, NothingReleasesWithoutFiles) {
  ReleaseMachine m;
  m.all_downloaded();
  m.verified();
  EXPECT_NE(m.next(), Next::release);
}

TEST(CombineVerdicts, WorstOutcomeWins) {
  auto d = combine({verdict(Outcome::clean), verdict(Outcome::held_runnable, 10, "runs"),
                    verdict(Outcome::infected, 10, "infected: X"), verdict(Outcome::incomplete, 10, "zip")});
  EXPECT_EQ(d.outcome, Outcome::infected);
  EXPECT_EQ(d.reason, "infected: X");
  EXPECT_EQ(d.bytes_scanned, 40u);
  EXPECT_EQ(combine({verdict(Outcome::clean), verdict(Outcome::incomplete)}).outcome, Outcome::incomplete);
  EXPECT_EQ(combine({verdict(Outcome::clean), verdict(Outcome::clean)}).outcome, Outcome::clean);
}

// A file deselected while its scan runs (a user's new selection, or a glob applied just after the
// metadata arrived) must not be waited for: the download would sit in "scanning" until the scan's
// time limit.
TEST(ReleaseMachine, DeselectingAFileWhoseScanRunsStopsWaitingForIt) {
  ReleaseMachine m;
  m.set_files({{0, "a.txt", 10, false}, {1, "b.bin", 20, false}});
  auto jobs = m.take_scans(2, /*stream=*/true);
  ASSERT_EQ(jobs.size(), 1u);
  ASSERT_EQ(jobs[0].file.index, 0);
  EXPECT_EQ(m.set_files({{1, "b.bin", 20, false}}), std::vector<int>{0}) << "the caller cancels it";
  EXPECT_EQ(m.running_scans(), 0);
  m.all_downloaded();
  m.verified();
  jobs = m.take_scans(2, false);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].file.index, 1);
  m.scan_done(1, verdict(Outcome::clean, 20));
  m.scan_done(0, verdict(Outcome::clean, 10));  // the cancelled scan answering late changes nothing
  EXPECT_EQ(m.next(), Next::release);
  EXPECT_EQ(m.decision().bytes_scanned, 20u);
  EXPECT_TRUE(m.set_files({{1, "b.bin", 20, true}}).empty());
}

}  // namespace
}  // namespace kith::app
