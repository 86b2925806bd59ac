// DownloadProgress (docs/sync.md § Download progress): what each device is told while files are pulled,
// and what a peer's messages may make this node keep.
#include "sync/progress.hpp"

#include <gtest/gtest.h>

using namespace kith;
using sync::ProgressUpdate;
using sync::PullingFile;
using sync::SentProgress;

namespace {
const std::vector<store::SyncCounter> V1{{42, 1}}, V2{{42, 2}};

PullingFile pulling(std::string name, std::vector<std::int32_t> available,
                    std::vector<store::SyncCounter> v = V1, std::uint64_t serial = 1) {
  return PullingFile{std::move(name), std::move(v), 128 << 10, serial, std::move(available)};
}
ProgressUpdate append(std::string name, std::vector<std::int32_t> indexes,
                      std::vector<store::SyncCounter> v = V1) {
  return ProgressUpdate{false, std::move(name), std::move(v), 128 << 10, std::move(indexes)};
}
ProgressUpdate forget(std::string name, std::vector<store::SyncCounter> v = V1) {
  return ProgressUpdate{true, std::move(name), std::move(v), 0, {}};
}
}  // namespace

TEST(SentProgress, OnlyWhatIsNewThenForget) {
  SentProgress s;
  EXPECT_TRUE(s.update({pulling("a", {})}).empty());  // nothing in its temporary file yet: not announced
  EXPECT_EQ(s.update({pulling("a", {3, 0})}), (std::vector{append("a", {3, 0})}));
  EXPECT_TRUE(s.update({pulling("a", {3, 0})}).empty());  // nothing new: nothing sent
  EXPECT_EQ(s.update({pulling("a", {3, 0, 1, 7}), pulling("b", {5})}),
            (std::vector{append("a", {1, 7}), append("b", {5})}));
  EXPECT_EQ(s.update({pulling("b", {5})}), (std::vector{forget("a")}));  // a is done
  EXPECT_EQ(s.forget_all(), (std::vector{forget("b")}));
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.update({}).empty());
}

TEST(SentProgress, ANewVersionOrANewTryIsAnnouncedAfresh) {
  SentProgress s;
  (void)s.update({pulling("a", {0, 1})});
  // Another version: forget the old one (by its version), then all of the new.
  EXPECT_EQ(s.update({pulling("a", {4}, V2)}), (std::vector{forget("a"), append("a", {4}, V2)}));
  // The same version pulled again (the first try failed): its temporary file was read again, in
  // another order, so everything is said again.
  EXPECT_EQ(s.update({pulling("a", {0, 4, 5}, V2, 2)}),
            (std::vector{forget("a", V2), append("a", {0, 4, 5}, V2)}));
  // A new try that has nothing yet: only forgotten.
  EXPECT_EQ(s.update({pulling("a", {}, V2, 3)}), (std::vector{forget("a", V2)}));
  EXPECT_TRUE(s.empty());
}

TEST(SentProgress, ToWire) {
  auto w = sync::to_wire("f", {append("a", {1, 2}), forget("b")});
  ASSERT_EQ(w.updates_size(), 2);
  EXPECT_EQ(w.folder(), "f");
  EXPECT_EQ(w.updates(0).update_type(), bep::pb::FILE_DOWNLOAD_PROGRESS_UPDATE_TYPE_APPEND);
  EXPECT_EQ(w.updates(0).block_size(), 128 << 10);
  EXPECT_EQ(w.updates(0).block_indexes_size(), 2);
  EXPECT_EQ(w.updates(0).version().counters(0).id(), 42u);
  EXPECT_EQ(w.updates(1).update_type(), bep::pb::FILE_DOWNLOAD_PROGRESS_UPDATE_TYPE_FORGET);
  EXPECT_EQ(w.updates(1).block_indexes_size(), 0);
  auto back = sync::to_updates(w);
  EXPECT_EQ(back.refused, 0u);
  EXPECT_EQ(back.updates, (std::vector{append("a", {1, 2}), forget("b")}));
}

TEST(ReceivedProgress, BadUpdatesAreRefused) {
  std::vector<ProgressUpdate> in{append("ok", {0}), append("../x", {0}), append("/abs", {0}),
                                 append("neg", {-1}), append(".syncthing.a.tmp", {0})};
  auto bad_size = append("size", {0});
  bad_size.block_size = 1000;
  in.push_back(bad_size);
  auto w = sync::to_wire("f", in);
  w.mutable_updates(0)->set_update_type(static_cast<bep::pb::FileDownloadProgressUpdateType>(7));
  auto r = sync::to_updates(w);
  EXPECT_EQ(r.refused, in.size());
  EXPECT_NE(r.problem.find("unknown update type"), std::string::npos) << r.problem;
  w.mutable_updates(0)->set_update_type(bep::pb::FILE_DOWNLOAD_PROGRESS_UPDATE_TYPE_APPEND);
  r = sync::to_updates(w);
  EXPECT_EQ(r.refused, in.size() - 1);
  EXPECT_EQ(r.updates, (std::vector{append("ok", {0})}));

  sync::ReceivedLimits small;
  small.updates_per_message = 3;
  r = sync::to_updates(w, small);
  EXPECT_TRUE(r.updates.empty());
  EXPECT_NE(r.problem.find("too many updates"), std::string::npos) << r.problem;
}

TEST(ReceivedProgress, KeptWithinLimits) {
  sync::ReceivedLimits limits;
  limits.files = 2;
  limits.indexes = 5;
  sync::ReceivedProgress p(limits);
  EXPECT_EQ(p.apply("f", {append("a", {2, 0, 2}), append("b", {1})}), 0u);
  ASSERT_NE(p.blocks("f", "a", V1), nullptr);
  EXPECT_EQ(*p.blocks("f", "a", V1), (std::vector<std::int32_t>{0, 2}));
  EXPECT_EQ(p.blocks("f", "a", V2), nullptr);
  EXPECT_EQ(p.apply("f", {append("c", {0})}), 1u);        // a third file does not fit
  EXPECT_EQ(p.apply("f", {append("a", {1, 3, 4})}), 1u);  // 3 more indexes do not fit (2 + 1 + 3 > 5)
  EXPECT_EQ(p.apply("f", {append("a", {1, 0})}), 0u);
  EXPECT_EQ(p.indexes(), 4u);
  // Another version replaces the old; FORGET drops it.
  EXPECT_EQ(p.apply("f", {append("a", {9}, V2)}), 0u);
  EXPECT_EQ(p.blocks("f", "a", V1), nullptr);
  EXPECT_EQ(*p.blocks("f", "a", V2), (std::vector<std::int32_t>{9}));
  EXPECT_EQ(p.indexes(), 2u);
  EXPECT_EQ(p.apply("f", {forget("a", V2)}), 0u);
  EXPECT_EQ(p.files(), 1u);
  p.forget_folder("f");
  EXPECT_EQ(p.files(), 0u);
  EXPECT_EQ(p.indexes(), 0u);
}
