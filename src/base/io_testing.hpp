#pragma once
// For tests: runs a test's io_context on the calling thread until a condition holds.
#include <boost/asio/io_context.hpp>
#include <chrono>

namespace kith::base::testing {

// Runs `io` in 5 ms slices until `pred()` holds or `limit` passed; returns pred(): false when what a
// test waits for never happens, so that it fails instead of hanging.
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred pred,
               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// Runs `io` for `how_long`.
inline void idle(boost::asio::io_context& io, std::chrono::milliseconds how_long) {
  run_until(
      io, [] { return false; }, how_long);
}

}  // namespace kith::base::testing
