#include <gtest/gtest.h>

#include "wire/frame.hpp"
#include "wire/message.hpp"

using namespace kith;
using namespace kith::wire;

namespace {

pb::MessageBody direct_body(const crypto::SigningKey& author, const crypto::PublicKey& to) {
  pb::MessageBody b;
  b.set_id(std::string(16, 'i'));
  b.set_author(to_bytes(author.public_key()));
  b.set_recipient(to_bytes(to));
  b.set_sent_at_ms(1700000000000);
  b.set_seq(1);
  b.set_text("hello");
  return b;
}

}  // namespace

TEST(Frame, RoundTripInPiecesAndSeveralAtOnce) {
  pb::Frame a, b;
  a.mutable_ping()->set_nonce(7);
  b.mutable_hello()->set_name("zoë");
  const std::string bytes = encode_frame(a) + encode_frame(b);
  FrameDecoder d;
  std::vector<pb::Frame> got;
  for (char c : bytes) {  // one byte at a time: TCP may cut anywhere
    d.feed(std::string_view(&c, 1));
    for (;;) {
      auto f = d.next();
      ASSERT_TRUE(f) << f.error().message;
      if (!*f) break;
      got.push_back(**f);
    }
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].ping().nonce(), 7u);
  EXPECT_EQ(got[1].hello().name(), "zoë");
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(Frame, RefusesOversizedGarbageWrongVersionEmpty) {
  FrameDecoder big;
  big.feed(std::string("\x00\x01\x00\x01", 4));  // 65537 bytes announced
  EXPECT_FALSE(big.next());

  FrameDecoder garbage;
  garbage.feed(std::string("\x00\x00\x00\x03\xff\xff\xff", 7));
  EXPECT_FALSE(garbage.next());

  pb::Frame f;
  f.mutable_ping();
  std::string bytes = encode_frame(f);
  pb::Frame v2 = f;
  v2.set_version(2);
  std::string body = v2.SerializeAsString();
  FrameDecoder version;
  version.feed(std::string("\x00\x00\x00", 3) + static_cast<char>(body.size()) + body);
  EXPECT_FALSE(version.next());

  pb::Frame none;
  none.set_version(VERSION);
  body = none.SerializeAsString();
  FrameDecoder empty;
  empty.feed(std::string("\x00\x00\x00", 3) + static_cast<char>(body.size()) + body);
  EXPECT_FALSE(empty.next());
}

TEST(Message, SignOpenAndEveryTamper) {
  auto alice = crypto::SigningKey::generate();
  auto bob = crypto::SigningKey::generate();
  ASSERT_TRUE(alice && bob);
  auto signed_msg = sign_message(direct_body(*alice, bob->public_key()), *alice);
  auto opened = open_message(signed_msg);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->text(), "hello");

  auto tampered = signed_msg;
  tampered.mutable_body()->back() ^= 1;
  EXPECT_FALSE(open_message(tampered));

  // Bob cannot pass off a message as Alice's: signed by Bob, author Alice.
  auto forged = sign_message(direct_body(*alice, bob->public_key()), *bob);
  EXPECT_FALSE(open_message(forged));

  auto short_id = direct_body(*alice, bob->public_key());
  short_id.set_id("x");
  EXPECT_FALSE(open_message(sign_message(short_id, *alice)));
  auto huge = direct_body(*alice, bob->public_key());
  huge.set_text(std::string(MAX_TEXT + 1, 'a'));
  EXPECT_FALSE(open_message(sign_message(huge, *alice)));
  auto no_recipient = direct_body(*alice, bob->public_key());
  no_recipient.clear_recipient();
  EXPECT_FALSE(open_message(sign_message(no_recipient, *alice)));
}

TEST(Message, GroupMembershipRules) {
  auto alice = crypto::SigningKey::generate();
  auto bob = crypto::SigningKey::generate();
  auto carol = crypto::SigningKey::generate();
  ASSERT_TRUE(alice && bob && carol);
  pb::MessageBody b = direct_body(*bob, alice->public_key());
  b.clear_recipient();
  auto* g = b.mutable_group();
  g->set_id(std::string(16, 'g'));
  g->set_name("band");
  g->set_creator(to_bytes(alice->public_key()));
  for (auto* k : {&*alice, &*bob}) g->add_members()->set_key(to_bytes(k->public_key()));
  EXPECT_TRUE(open_message(sign_message(b, *bob)));
  // Carol is not a member: her message to the group is refused.
  b.set_author(to_bytes(carol->public_key()));
  EXPECT_FALSE(open_message(sign_message(b, *carol)));
}
