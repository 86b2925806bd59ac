// Which device a block is requested from (sync/source_pick.hpp): full holders and other devices'
// temporary files, the least busy first.
#include "sync/source_pick.hpp"

#include <gtest/gtest.h>

using namespace kith::sync;

namespace {
const std::vector<std::int32_t> SOME{0, 1, 2, 5}, NONE{};
}  // namespace

TEST(PickSource, NobodyHasIt) {
  EXPECT_EQ(pick_source(0, {}, {}), std::nullopt);
  EXPECT_EQ(pick_source(3, {{"b", 0, &SOME}}, {}), std::nullopt);  // not in its temporary file
  EXPECT_EQ(pick_source(0, {{"b", 0, &NONE}}, {}), std::nullopt);
}

TEST(PickSource, IdleFullHolderFirst) {
  const std::vector<Holder> h{{"b", 0, &SOME}, {"a", 0, nullptr}};
  EXPECT_EQ(pick_source(1, h, {}), (BlockSource{"a", false}));
  EXPECT_EQ(pick_source(7, h, {}), (BlockSource{"a", false}));
}

TEST(PickSource, LeastBusyWins) {
  // The full holder has requests in flight and the temporary holder fewer: the load is shared.
  EXPECT_EQ(pick_source(1, {{"a", 1, nullptr}, {"b", 0, &SOME}}, {}), (BlockSource{"b", true}));
  EXPECT_EQ(pick_source(1, {{"a", 3, nullptr}, {"b", 3, &SOME}}, {}), (BlockSource{"a", false}));
  EXPECT_EQ(pick_source(1, {{"a", 4, nullptr}, {"b", 2, &SOME}, {"c", 1, &SOME}}, {}),
            (BlockSource{"c", true}));
  // The busy temporary holder does not have block 3: only the full holder is asked, however busy.
  EXPECT_EQ(pick_source(3, {{"a", 9, nullptr}, {"b", 0, &SOME}}, {}), (BlockSource{"a", false}));
}

TEST(PickSource, EqualDevicesTakeTurnsByBlock) {
  const std::vector<Holder> h{{"a", 0, nullptr}, {"b", 0, nullptr}, {"c", 2, nullptr}};
  EXPECT_EQ(pick_source(0, h, {})->device, "a");
  EXPECT_EQ(pick_source(1, h, {})->device, "b");
  EXPECT_EQ(pick_source(2, h, {})->device, "a");
  const std::vector<Holder> t{{"x", 0, &SOME}, {"y", 0, &SOME}};
  EXPECT_EQ(pick_source(0, t, {}), (BlockSource{"x", true}));
  EXPECT_EQ(pick_source(1, t, {}), (BlockSource{"y", true}));
}

TEST(PickSource, RefusedTemporaryHolderIsNotAskedAgain) {
  const std::vector<Holder> h{{"a", 5, nullptr}, {"b", 0, &SOME}};
  EXPECT_EQ(pick_source(0, h, {"b"}), (BlockSource{"a", false}));
  EXPECT_EQ(pick_source(0, {{"b", 0, &SOME}}, {"b"}), std::nullopt);
  // Refusing a temporary file does not refuse the device's complete copy.
  EXPECT_EQ(pick_source(0, {{"a", 0, nullptr}}, {"a"}), (BlockSource{"a", false}));
}

TEST(PickSource, FullHolderAlsoListedAsTemporaryIsAskedForTheFile) {
  EXPECT_EQ(pick_source(0, {{"a", 0, &SOME}, {"a", 0, nullptr}}, {}), (BlockSource{"a", false}));
}
