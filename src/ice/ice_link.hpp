#pragma once
// A reliable byte stream over a UDP path that ICE (RFC 8445) finds between two hosts, for the cases
// where TCP cannot get through: routers that refuse a TCP simultaneous open still let a UDP hole punch
// through. libnice (Debian's ICE library, the one GStreamer's webrtcbin uses for calls) gathers the
// candidates, runs the connectivity checks and carries the bytes with its pseudo-TCP. We add only the
// glue: one GLib thread for every agent (IceEngine), and a local socket pair so that the stream looks
// like any connected stream socket to Asio, TLS and net::Channel.
//
// Use: both ends create an IceLink (one controlling, one not), gather() their candidates, swap them
// over a channel they already have (the signalling is the caller's: credentials and RFC 8839
// "a=candidate:" lines, as WebRTC's trickle ICE carries them), then connect() with the other's. On
// success the caller gets one end of a connected stream socket; whatever it writes arrives at the
// other end's socket, in order and complete. Closing that socket ends the link.
//
// Threading: the engine's GLib thread owns every agent; gather() and connect() may be called from any
// thread and post there. Their completions are called on the GLib thread: post them onwards, do not
// block in them. Outside input (the peer's credentials and candidates) is checked before libnice sees it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace kith::ice {

// One side's ICE parameters: what the other side needs to reach it.
struct Candidates {
  std::string ufrag, pwd;
  std::vector<std::string> lines;  // "a=candidate:..." (RFC 8839 § 5.1)
};

// The peer's parameters are outside input: at most this many candidates, each at most this long.
inline constexpr std::size_t MAX_CANDIDATES = 16;
inline constexpr std::size_t MAX_CANDIDATE_LENGTH = 256;
// Empty when `c` is acceptable; otherwise why not (for the log).
std::string check_candidates(const Candidates& c);

struct Options {
  bool controlling = false;            // exactly one end controls (RFC 8445 § 6.1.1)
  std::string stun_host;               // a STUN server (IP literal) for server-reflexive candidates
  std::uint16_t stun_port = 0;         //   (0: none; host candidates only)
  std::vector<std::string> addresses;  // local IPs to gather on; empty: every interface (tests: loopback)
  std::chrono::milliseconds timeout{20'000};  // for connect() to reach a working pair
};

// The connected stream: `fd` is ours to own (close it when done); `remote`/`local` are the selected
// candidate pair's transport addresses ("ip:port"), for status and logs.
struct Stream {
  int fd = -1;
  std::string remote, local;
};

class Engine;

class Link {
 public:
  virtual ~Link() = default;
  // Gathers host and (with a STUN server) server-reflexive candidates; once.
  virtual void gather(std::function<void(Result<Candidates>)> done) = 0;
  // After gather() completed: checks pairs with the peer's candidates until one works or the timeout.
  virtual void connect(Candidates remote, std::function<void(Result<Stream>)> done) = 0;
  // Gives up: a pending gather/connect completes with an error; an established stream is not affected.
  virtual void cancel() = 0;
};

// Owns the GLib main loop thread that runs every agent. Destroy it after the links' users are done;
// streams already handed out keep working until closed only while it exists.
class Engine {
 public:
  Engine();
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  std::shared_ptr<Link> create(Options options);

  struct Impl;

 private:
  std::shared_ptr<Impl> m_impl;  // links share it: their cleanup runs on its context
};

}  // namespace kith::ice
