// BEP framing: Hello and messages round trip, LZ4 on and off, partial input waits, every refusal.
// Device IDs are in device_id_test.cpp.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bep/frame.hpp"
#include "bep/lz4.hpp"

using namespace kith;
using namespace kith::bep;

namespace {

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

pb::Hello sample_hello() {
  pb::Hello h;
  h.set_device_name("laptop");
  h.set_client_name("kith");
  h.set_client_version("v0.1.0");
  h.set_num_connections(1);
  h.set_timestamp(1700000000123456789);
  return h;
}

pb::FileInfo sample_file(int i) {
  pb::FileInfo f;
  f.set_name("music/take-" + std::to_string(i) + ".wav");
  f.set_type(pb::FILE_INFO_TYPE_FILE);
  f.set_size(3 * 131072 + i);
  f.set_permissions(0644);
  f.set_modified_s(1700000000 + i);
  f.set_modified_ns(500);
  f.set_modified_by(0x1122334455667788u);
  f.set_sequence(i + 1);
  f.set_block_size(131072);
  auto* c = f.mutable_version()->add_counters();
  c->set_id(0x1122334455667788u);
  c->set_value(i + 1);
  for (int b = 0; b < 4; ++b) {
    auto* block = f.add_blocks();
    block->set_offset(std::int64_t{b} * 131072);
    block->set_size(b == 3 ? i : 131072);
    block->set_hash(std::string(32, static_cast<char>('a' + b)));
  }
  f.set_blocks_hash(std::string(32, 'h'));
  return f;
}

pb::ClusterConfig sample_cluster_config() {
  pb::ClusterConfig cc;
  auto* folder = cc.add_folders();
  folder->set_id("abcd-1234");
  folder->set_label("Band");
  folder->set_type(pb::FOLDER_TYPE_RECEIVE_ONLY);
  folder->set_stop_reason(pb::FOLDER_STOP_REASON_PAUSED);
  auto* d = folder->add_devices();
  d->set_id(std::string(32, '\x07'));
  d->set_name("studio");
  d->add_addresses("tcp://192.0.2.1:22000");
  d->add_addresses("dynamic");
  d->set_compression(pb::COMPRESSION_ALWAYS);
  d->set_max_sequence(42);
  d->set_introducer(true);
  d->set_index_id(0xdeadbeefcafef00du);
  d->set_skip_introduction_removals(true);
  return cc;
}

pb::Index sample_index(int files) {
  pb::Index idx;
  idx.set_folder("abcd-1234");
  for (int i = 0; i < files; ++i) *idx.add_files() = sample_file(i);
  idx.set_last_sequence(files);
  return idx;
}

// One message of every kind, each with its type.
std::vector<std::pair<pb::MessageType, std::string>> every_kind() {
  std::vector<std::pair<pb::MessageType, std::string>> out;
  out.emplace_back(pb::MESSAGE_TYPE_CLUSTER_CONFIG, sample_cluster_config().SerializeAsString());
  out.emplace_back(pb::MESSAGE_TYPE_INDEX, sample_index(20).SerializeAsString());
  pb::IndexUpdate up;
  up.set_folder("abcd-1234");
  *up.add_files() = sample_file(7);
  up.mutable_files(0)->set_deleted(true);
  up.set_last_sequence(8);
  up.set_prev_sequence(7);
  out.emplace_back(pb::MESSAGE_TYPE_INDEX_UPDATE, up.SerializeAsString());
  pb::Request req;
  req.set_id(12);
  req.set_folder("abcd-1234");
  req.set_name("music/take-1.wav");
  req.set_offset(131072);
  req.set_size(131072);
  req.set_hash(std::string(32, 'b'));
  req.set_from_temporary(true);
  req.set_block_no(1);
  out.emplace_back(pb::MESSAGE_TYPE_REQUEST, req.SerializeAsString());
  pb::Response resp;
  resp.set_id(12);
  resp.set_data(std::string(4096, 'z'));
  resp.set_code(pb::ERROR_CODE_NO_ERROR);
  out.emplace_back(pb::MESSAGE_TYPE_RESPONSE, resp.SerializeAsString());
  pb::DownloadProgress dp;
  dp.set_folder("abcd-1234");
  auto* u = dp.add_updates();
  u->set_update_type(pb::FILE_DOWNLOAD_PROGRESS_UPDATE_TYPE_APPEND);
  u->set_name("music/take-2.wav");
  u->mutable_version()->add_counters()->set_value(3);
  u->add_block_indexes(0);
  u->add_block_indexes(2);
  u->set_block_size(131072);
  out.emplace_back(pb::MESSAGE_TYPE_DOWNLOAD_PROGRESS, dp.SerializeAsString());
  out.emplace_back(pb::MESSAGE_TYPE_PING, pb::Ping{}.SerializeAsString());
  pb::Close close;
  close.set_reason("going away");
  out.emplace_back(pb::MESSAGE_TYPE_CLOSE, close.SerializeAsString());
  return out;
}

// The protobuf of a given type, for encode_message.
std::unique_ptr<google::protobuf::MessageLite> parsed(pb::MessageType type, const std::string& bytes) {
  std::unique_ptr<google::protobuf::MessageLite> m;
  switch (type) {
    case pb::MESSAGE_TYPE_CLUSTER_CONFIG:
      m = std::make_unique<pb::ClusterConfig>();
      break;
    case pb::MESSAGE_TYPE_INDEX:
      m = std::make_unique<pb::Index>();
      break;
    case pb::MESSAGE_TYPE_INDEX_UPDATE:
      m = std::make_unique<pb::IndexUpdate>();
      break;
    case pb::MESSAGE_TYPE_REQUEST:
      m = std::make_unique<pb::Request>();
      break;
    case pb::MESSAGE_TYPE_RESPONSE:
      m = std::make_unique<pb::Response>();
      break;
    case pb::MESSAGE_TYPE_DOWNLOAD_PROGRESS:
      m = std::make_unique<pb::DownloadProgress>();
      break;
    case pb::MESSAGE_TYPE_PING:
      m = std::make_unique<pb::Ping>();
      break;
    case pb::MESSAGE_TYPE_CLOSE:
      m = std::make_unique<pb::Close>();
      break;
    default:
      throw std::logic_error("no such type");
  }
  if (!m->ParseFromString(bytes)) throw std::logic_error("sample does not parse");
  return m;
}

// The Header's compression, read back from encoded bytes.
pb::MessageCompression compression_of(const std::string& wire) {
  pb::Header h;
  const std::size_t n = (static_cast<unsigned char>(wire[0]) << 8) | static_cast<unsigned char>(wire[1]);
  EXPECT_TRUE(h.ParseFromArray(wire.data() + 2, static_cast<int>(n)));
  return h.compression();
}

std::string error_of(const Result<std::optional<Message>>& r) { return r ? "" : r.error().message; }

}  // namespace

TEST(Hello, RoundTripLeavesWhatFollows) {
  std::string buffer = encode_hello(sample_hello()) + "next";
  EXPECT_EQ(buffer.substr(0, 4), be32(HELLO_MAGIC));
  auto got = take_hello(buffer);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->SerializeAsString(), sample_hello().SerializeAsString());
  EXPECT_EQ(buffer, "next");
}

TEST(Hello, EveryPrefixWaitsAndConsumesNothing) {
  const std::string whole = encode_hello(sample_hello());
  for (std::size_t n = 0; n < whole.size(); ++n) {
    std::string buffer = whole.substr(0, n);
    auto got = take_hello(buffer);
    ASSERT_TRUE(got) << n << ": " << got.error().message;
    EXPECT_FALSE(*got) << n;
    EXPECT_EQ(buffer.size(), n);
  }
}

TEST(Hello, EmptyHelloIsFine) {
  std::string buffer = encode_hello(pb::Hello{});
  EXPECT_EQ(buffer, be32(HELLO_MAGIC) + std::string(2, '\0'));
  auto got = take_hello(buffer);
  ASSERT_TRUE(got && *got);
  EXPECT_TRUE(buffer.empty());
}

TEST(Hello, RefusesWrongMagicOldBepOversizeAndGarbage) {
  std::string tls = "\x16\x03\x01\x02\x00\x01";  // a TLS ClientHello where BEP was expected
  auto r = take_hello(tls);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, base::make_error_code(base::errc::bad_input));
  EXPECT_EQ(r.error().message, "not a BEP Hello: magic 0x16030102, expected 0x2EA7D90B");

  std::string old = be32(0x9F79BC40);
  r = take_hello(old);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("older"), std::string::npos) << r.error().message;

  std::string big = be32(HELLO_MAGIC) + std::string("\x80\x00", 2);
  r = take_hello(big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "BEP Hello of 32768 bytes exceeds the 32767-byte limit");

  std::string garbage = be32(HELLO_MAGIC) + std::string("\x00\x03\xff\xff\xff", 5);
  r = take_hello(garbage);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "BEP Hello of 3 bytes does not parse");
}

TEST(Hello, EncodingAnOversizeHelloThrows) {
  pb::Hello h;
  h.set_device_name(std::string(MAX_HELLO, 'x'));
  EXPECT_THROW((void)encode_hello(h), std::length_error);
}

TEST(Message, PingIsTheDocumentedBytes) {
  // Header {type: PING} = 08 06; an empty Ping body.
  EXPECT_EQ(encode_message(pb::MESSAGE_TYPE_PING, pb::Ping{}, true),
            std::string("\x00\x02\x08\x06\x00\x00\x00\x00", 8));
  // CLUSTER_CONFIG is type 0: its header is empty, which is fine.
  std::string cc = encode_message(pb::MESSAGE_TYPE_CLUSTER_CONFIG, pb::ClusterConfig{}, false);
  EXPECT_EQ(cc, std::string(6, '\0'));
  auto got = take_message(cc);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->type, pb::MESSAGE_TYPE_CLUSTER_CONFIG);
  EXPECT_TRUE((*got)->body.empty());
}

TEST(Message, EveryKindRoundTripsWithAndWithoutLz4) {
  for (bool allow : {false, true}) {
    for (const auto& [type, bytes] : every_kind()) {
      std::string buffer = encode_message(type, *parsed(type, bytes), allow);
      if (!allow) {
        EXPECT_EQ(compression_of(buffer), pb::MESSAGE_COMPRESSION_NONE);
      }
      auto got = take_message(buffer);
      ASSERT_TRUE(got) << got.error().message;
      ASSERT_TRUE(*got);
      EXPECT_EQ((*got)->type, type);
      EXPECT_EQ((*got)->body, bytes) << type_name(type);
      EXPECT_TRUE(buffer.empty());
    }
  }
  // Typed parsing of one of them.
  std::string buffer = encode_message(pb::MESSAGE_TYPE_CLUSTER_CONFIG, sample_cluster_config(), true);
  auto m = take_message(buffer);
  ASSERT_TRUE(m && *m);
  auto cc = parse_body<pb::ClusterConfig>(**m);
  ASSERT_TRUE(cc) << cc.error().message;
  EXPECT_EQ(cc->folders(0).devices(0).addresses(1), "dynamic");
  EXPECT_EQ(cc->folders(0).stop_reason(), pb::FOLDER_STOP_REASON_PAUSED);
}

TEST(Message, Lz4OnlyWhenAllowedLargeEnoughAndSmaller) {
  const pb::Index index = sample_index(50);  // repetitive: compresses well
  const std::string plain = encode_message(pb::MESSAGE_TYPE_INDEX, index, false);
  const std::string packed = encode_message(pb::MESSAGE_TYPE_INDEX, index, true);
  EXPECT_EQ(compression_of(packed), pb::MESSAGE_COMPRESSION_LZ4);
  EXPECT_LT(packed.size(), plain.size() / 2);

  pb::Close small;  // under 128 bytes: never compressed
  small.set_reason(std::string(100, 'a'));
  EXPECT_EQ(compression_of(encode_message(pb::MESSAGE_TYPE_CLOSE, small, true)),
            pb::MESSAGE_COMPRESSION_NONE);
  small.set_reason(std::string(200, 'a'));
  EXPECT_EQ(compression_of(encode_message(pb::MESSAGE_TYPE_CLOSE, small, true)), pb::MESSAGE_COMPRESSION_LZ4);

  pb::Response noise;  // random bytes do not compress: sent as they are
  std::mt19937 rng(7);
  std::string data(8192, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  noise.set_data(data);
  const std::string wire = encode_message(pb::MESSAGE_TYPE_RESPONSE, noise, true);
  EXPECT_EQ(compression_of(wire), pb::MESSAGE_COMPRESSION_NONE);
  EXPECT_EQ(wire.size(), 2 + 2 + 4 + noise.ByteSizeLong());
}

TEST(Message, Lz4BodyIsLengthThenBlock) {
  // Syncthing's layout: BE32 uncompressed length, then the block.
  const std::string plain = sample_index(10).SerializeAsString();
  auto body = lz4_compress(plain);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->substr(0, 4), be32(static_cast<std::uint32_t>(plain.size())));
  auto back = lz4_decompress(*body, MAX_MESSAGE);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, plain);
}

TEST(Message, EveryPrefixWaitsAndConsumesNothing) {
  for (bool allow : {false, true}) {
    const std::string whole = encode_message(pb::MESSAGE_TYPE_INDEX, sample_index(5), allow);
    for (std::size_t n = 0; n < whole.size(); ++n) {
      std::string buffer = whole.substr(0, n);
      auto got = take_message(buffer);
      ASSERT_TRUE(got) << n << ": " << got.error().message;
      EXPECT_FALSE(*got) << n;
      EXPECT_EQ(buffer.size(), n);
    }
  }
}

TEST(Message, SeveralInOneBufferComeOutInOrder) {
  std::string buffer = encode_message(pb::MESSAGE_TYPE_PING, pb::Ping{}, true) +
                       encode_message(pb::MESSAGE_TYPE_INDEX, sample_index(30), true) +
                       encode_message(pb::MESSAGE_TYPE_PING, pb::Ping{}, true).substr(0, 3);
  std::vector<pb::MessageType> types;
  for (;;) {
    auto got = take_message(buffer);
    ASSERT_TRUE(got) << got.error().message;
    if (!*got) break;
    types.push_back((*got)->type);
  }
  EXPECT_EQ(types, (std::vector<pb::MessageType>{pb::MESSAGE_TYPE_PING, pb::MESSAGE_TYPE_INDEX}));
  EXPECT_EQ(buffer.size(), 3u);
}

TEST(Message, UnknownTypesAreHandedOutForTheCallerToSkip) {
  pb::Close body;
  body.set_reason("from the future");
  std::string buffer = encode_message(static_cast<pb::MessageType>(42), body, false);
  auto got = take_message(buffer);
  ASSERT_TRUE(got && *got) << error_of(got);
  EXPECT_EQ(static_cast<int>((*got)->type), 42);
  EXPECT_EQ(type_name((*got)->type), "type 42");
  EXPECT_EQ(type_name(pb::MESSAGE_TYPE_INDEX_UPDATE), "INDEX_UPDATE");
}

TEST(Message, OversizeIsRefusedBeforeTheBodyArrives) {
  // Header {type: INDEX}, then a length of 80,000,000 and no body at all.
  std::string buffer = std::string("\x00\x02\x08\x01", 4) + be32(80000000);
  auto got = take_message(buffer);
  EXPECT_EQ(error_of(got), "BEP INDEX message of 80000000 bytes exceeds the 64 MiB limit");
  // The same with the caller's own cap.
  std::string index = encode_message(pb::MESSAGE_TYPE_INDEX, sample_index(5), false);
  EXPECT_NE(error_of(take_message(index, 100)).find("exceeds the 100 bytes limit"), std::string::npos);
}

TEST(Message, Lz4AnnouncingTooMuchIsRefusedBeforeAllocating) {
  // LZ4 header, a 5-byte body announcing 0xFFFFFFF0 bytes: refused from the 4 length bytes alone.
  std::string buffer = std::string("\x00\x04\x08\x01\x10\x01", 6) + be32(5) + be32(0xFFFFFFF0) + "x";
  EXPECT_EQ(error_of(take_message(buffer)),
            "BEP INDEX message: LZ4 body announces 4294967280 bytes uncompressed, over the 64 MiB limit");
  // Within a small cap the compressed body fits but its uncompressed size does not.
  const std::string plain = sample_index(40).SerializeAsString();
  std::string packed = encode_message(pb::MESSAGE_TYPE_INDEX, sample_index(40), true);
  ASSERT_EQ(compression_of(packed), pb::MESSAGE_COMPRESSION_LZ4);
  EXPECT_NE(error_of(take_message(packed, plain.size() - 1)).find("LZ4 body announces"), std::string::npos);
}

TEST(Message, CorruptLz4IsAnError) {
  const std::string good = encode_message(pb::MESSAGE_TYPE_INDEX, sample_index(30), true);
  ASSERT_EQ(compression_of(good), pb::MESSAGE_COMPRESSION_LZ4);
  const std::size_t body_at = 2 + 4 + 4;  // header length, 4-byte header, body length
  const std::uint32_t announced = static_cast<std::uint32_t>(sample_index(30).ByteSizeLong());

  // The block cut short (lengths adjusted so the framing itself is whole).
  std::string cut = good.substr(0, 6) + be32(static_cast<std::uint32_t>(good.size() - body_at - 10)) +
                    good.substr(body_at, good.size() - body_at - 10);
  // (corrupt, or whole sequences short of the announced length: either way refused)
  EXPECT_NE(error_of(take_message(cut)).find("BEP INDEX message: LZ4 body "), std::string::npos);

  // Announcing more than the block holds: it decompresses to fewer bytes than announced.
  std::string more = good;
  more.replace(body_at, 4, be32(announced + 100));
  EXPECT_EQ(error_of(take_message(more)), "BEP INDEX message: LZ4 body decompresses to " +
                                              std::to_string(announced) + " bytes, not the announced " +
                                              std::to_string(announced + 100));

  // Announcing less: the block overruns the room given.
  std::string less = good;
  less.replace(body_at, 4, be32(announced - 1));
  EXPECT_EQ(error_of(take_message(less)),
            "BEP INDEX message: LZ4 body is corrupt (or longer than its announced " +
                std::to_string(announced - 1) + " bytes)");

  // Too short to hold the length.
  std::string tiny = std::string("\x00\x04\x08\x01\x10\x01", 6) + be32(3) + "abc";
  EXPECT_EQ(error_of(take_message(tiny)),
            "BEP INDEX message: LZ4 body of 3 bytes is too short for its 4-byte length");

  // Garbage in the block (every byte of it flipped in turn must never crash; most are refused).
  int refused = 0;
  for (std::size_t at = body_at + 4; at < good.size(); ++at) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0xA5);
    if (!take_message(bad)) ++refused;
  }
  EXPECT_GT(refused, 0);
}

TEST(Message, RefusesBadHeaders) {
  std::string big("\x80\x00", 2);
  EXPECT_EQ(error_of(take_message(big)), "BEP header of 32768 bytes exceeds the 32767-byte limit");

  std::string garbage = std::string("\x00\x02\xff\xff", 4) + be32(0);
  EXPECT_EQ(error_of(take_message(garbage)), "BEP header of 2 bytes does not parse");

  std::string zstd = std::string("\x00\x04\x08\x01\x10\x02", 6) + be32(0);  // compression 2
  EXPECT_EQ(error_of(take_message(zstd)), "BEP INDEX message uses unknown compression 2");
}

TEST(Message, ParseBodyNamesTheTypeOnFailure) {
  Message m{pb::MESSAGE_TYPE_REQUEST, std::string("\xff\xff\xff", 3)};
  auto r = parse_body<pb::Request>(m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, base::make_error_code(base::errc::bad_input));
  EXPECT_EQ(r.error().message, "BEP REQUEST message of 3 bytes does not parse as kith.bep.pb.Request");
}
