#pragma once
// The vocabulary of kith's concurrency model (docs/architecture.md § Concurrency model):
//   - each service owns its state on one strand; its public methods post onto it;
//   - an asynchronous call answers through a Done<T> completion, called exactly once, on the
//     service's strand (callers that own state elsewhere post it back: see post_to());
//   - slow work (hashing, scanning, disk, big parses) runs on a worker pool and posts its result to
//     the owning strand;
//   - no callback and no event is called while a lock is held.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <cassert>
#include <functional>
#include <utility>

namespace kith::base {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

// A completion: called exactly once with the outcome (typically Result<T> or Status).
template <class T>
using Done = std::function<void(T)>;

// A completion that runs `f` on `executor` (posted), whichever thread calls it: how a service hands
// another service's answer back to its own strand.
template <class Executor, class T>
Done<T> post_to(Executor executor, Done<T> f) {
  return [executor, f = std::move(f)](T value) mutable {
    boost::asio::post(executor,
                      [f = std::move(f), value = std::move(value)]() mutable { f(std::move(value)); });
  };
}

}  // namespace kith::base

// Debug builds check that a method that relies on its service's strand runs there.
#define KITH_ASSERT_ON(strand) assert((strand).running_in_this_thread())
