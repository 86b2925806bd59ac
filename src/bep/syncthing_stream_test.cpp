// What a real Syncthing sent: the bytes Debian's syncthing 1.19.2 wrote to a kith-made peer on a TLS
// connection (Hello, ClusterConfig, an LZ4-compressed Index), captured once and stored as a seed of
// the framing fuzzer (fuzz/corpus/bep_frame/syncthing-1.19.2.bin, after its one control byte).
// The peer's device ID, formatted by to_string from its certificate, was accepted by that Syncthing
// as the configured device, and it took kith's Hello and ClusterConfig (docs/protocol/bep.md).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "bep/device_id.hpp"
#include "bep/frame.hpp"

using namespace kith;
using namespace kith::bep;

namespace {

std::string stream_from_syncthing() {
  std::ifstream in(KITH_BEP_SYNCTHING_STREAM, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes.empty() ? bytes : bytes.substr(1);  // the fuzzer's control byte
}

}  // namespace

TEST(SyncthingStream, HelloClusterConfigAndCompressedIndexParse) {
  std::string buffer = stream_from_syncthing();
  ASSERT_EQ(buffer.size(), 1399u) << KITH_BEP_SYNCTHING_STREAM;

  auto hello = take_hello(buffer);
  ASSERT_TRUE(hello && *hello);
  EXPECT_EQ((*hello)->device_name(), "vm");
  EXPECT_EQ((*hello)->client_name(), "syncthing");
  EXPECT_EQ((*hello)->client_version(), "v1.19.2-ds1");

  // Its ClusterConfig has type 0 and no compression: a zero-length header.
  EXPECT_EQ(buffer.substr(0, 2), std::string(2, '\0'));
  auto msg = take_message(buffer);
  ASSERT_TRUE(msg && *msg);
  ASSERT_EQ((*msg)->type, pb::MESSAGE_TYPE_CLUSTER_CONFIG);
  auto cc = parse_body<pb::ClusterConfig>(**msg);
  ASSERT_TRUE(cc) << cc.error().message;
  ASSERT_EQ(cc->folders_size(), 1);
  const auto& folder = cc->folders(0);
  EXPECT_EQ(folder.id(), "probe");
  EXPECT_EQ(folder.type(), pb::FOLDER_TYPE_SEND_RECEIVE);
  ASSERT_EQ(folder.devices_size(), 2);
  auto peer = device_id_from_bytes(folder.devices(0).id());
  ASSERT_TRUE(peer);
  EXPECT_EQ(to_string(*peer), "HTIEUQC-THOPEP3-K5D5432-QO5KXYV-4DTX73Q-FCBHZ5R-4R27WXK-ALOGHA6");
  auto self = device_id_from_bytes(folder.devices(1).id());
  ASSERT_TRUE(self);
  EXPECT_EQ(to_string(*self), "YCQX7RL-5VORMJ2-Q5TOGMB-YMIP4FN-EF3TXIN-6JGO4E7-DUBADVV-C2Q5BQC");
  EXPECT_EQ(folder.devices(1).name(), "vm");
  EXPECT_EQ(folder.devices(1).max_sequence(), 7);

  // The Index came LZ4-compressed: Header {type: INDEX, compression: LZ4}.
  EXPECT_EQ(buffer.substr(0, 6), std::string("\x00\x04\x08\x01\x10\x01", 6));
  msg = take_message(buffer);
  ASSERT_TRUE(msg && *msg) << (msg ? "" : msg.error().message);
  ASSERT_EQ((*msg)->type, pb::MESSAGE_TYPE_INDEX);
  auto index = parse_body<pb::Index>(**msg);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(index->folder(), "probe");
  ASSERT_EQ(index->files_size(), 7);
  std::int64_t total = 0;
  for (const auto& file : index->files()) {
    EXPECT_EQ(file.modified_by(), short_id(*self)) << file.name();
    ASSERT_EQ(file.version().counters_size(), 1);
    EXPECT_EQ(file.version().counters(0).id(), short_id(*self));
    std::int64_t blocks = 0;
    for (const auto& block : file.blocks()) {
      EXPECT_EQ(block.hash().size(), 32u);
      blocks += block.size();
    }
    EXPECT_EQ(blocks, file.size()) << file.name();
    total += file.size();
  }
  EXPECT_EQ(total, 6 + 70000 * (1 + 2 + 3 + 4 + 5 + 6));
  EXPECT_TRUE(buffer.empty());
}
