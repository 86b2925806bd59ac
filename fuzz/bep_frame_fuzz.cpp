// Fuzzes what a BEP connection parses from a peer (src/bep/frame.hpp): the Hello, then messages, fed
// in arbitrary pieces; each body is parsed as its type and re-encoded. Invariants: nothing is consumed
// while take_* waits for more; no body exceeds the cap; a body that parses re-encodes (with or
// without LZ4) to bytes that take_message hands back as the same message.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "bep/frame.hpp"

namespace {

using namespace kith::bep;

constexpr std::size_t CAP = 1 << 20;  // below MAX_MESSAGE: an announced 64 MiB would only slow the fuzzer

std::unique_ptr<google::protobuf::MessageLite> body_of(pb::MessageType type) {
  switch (type) {
    case pb::MESSAGE_TYPE_CLUSTER_CONFIG:
      return std::make_unique<pb::ClusterConfig>();
    case pb::MESSAGE_TYPE_INDEX:
      return std::make_unique<pb::Index>();
    case pb::MESSAGE_TYPE_INDEX_UPDATE:
      return std::make_unique<pb::IndexUpdate>();
    case pb::MESSAGE_TYPE_REQUEST:
      return std::make_unique<pb::Request>();
    case pb::MESSAGE_TYPE_RESPONSE:
      return std::make_unique<pb::Response>();
    case pb::MESSAGE_TYPE_DOWNLOAD_PROGRESS:
      return std::make_unique<pb::DownloadProgress>();
    case pb::MESSAGE_TYPE_PING:
      return std::make_unique<pb::Ping>();
    case pb::MESSAGE_TYPE_CLOSE:
      return std::make_unique<pb::Close>();
    default:
      return nullptr;  // unknown types are skipped, as Syncthing skips them
  }
}

void check_reencodes(const Message& m, bool compress) {
  auto body = body_of(m.type);
  if (!body || !parse_body_into(m, *body)) return;
  const std::string canonical = body->SerializeAsString();
  std::string again = encode_message(m.type, *body, compress);
  auto back = take_message(again);  // a re-encoding may be longer (packed fields come out unpacked)
  if (!back || !*back || !again.empty() || (*back)->type != m.type) std::abort();
  auto reparsed = body_of(m.type);
  if (!parse_body_into(**back, *reparsed) || reparsed->SerializeAsString() != canonical) std::abort();
}

void check_hello(const pb::Hello& hello) {
  if (hello.ByteSizeLong() > MAX_HELLO) return;
  std::string again = encode_hello(hello);
  auto back = take_hello(again);
  if (!back || !*back || !again.empty()) std::abort();
  if ((*back)->SerializeAsString() != hello.SerializeAsString()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // First byte: bits 0-5 the piece size (messages split across reads), bit 6 whether re-encoding may
  // compress, bit 7 whether the stream starts after the Hello. The rest is the stream.
  const std::size_t step = 1 + (data[0] & 63);
  const bool compress = data[0] & 64;
  bool hello_done = data[0] & 128;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string buffer;
  for (std::size_t at = 0; at < input.size(); at += step) {
    buffer.append(input.substr(at, step));
    for (;;) {
      const std::size_t before = buffer.size();
      if (!hello_done) {
        auto hello = take_hello(buffer);
        if (!hello) return 0;  // the connection closes here
        if (!*hello) {
          if (buffer.size() != before) std::abort();
          break;
        }
        check_hello(**hello);
        hello_done = true;
        continue;
      }
      auto msg = take_message(buffer, CAP);
      if (!msg) return 0;
      if (!*msg) {
        if (buffer.size() != before) std::abort();
        break;
      }
      if ((*msg)->body.size() > CAP) std::abort();
      check_reencodes(**msg, compress);
    }
  }
  return 0;
}
