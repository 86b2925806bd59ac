// detail::await: a coroutine waits for a service's completion, called on the service's strand (another
// thread here), and resumes on its own executor. Also: what it captures is destroyed exactly once
// (GCC 12 destroyed a temporary initiation twice across the suspension, freeing the connection's
// executor under its feet).
// clang-format off
#include "api/detail/asio_compat.hpp"  // before any Boost.Asio header; see there
// clang-format on
#include "api/detail/await.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <thread>

using namespace kith;
namespace asio = boost::asio;

namespace {

// Counts live copies of itself.
struct Counted {
  explicit Counted(std::atomic<int>& n) : live(&n) { ++*live; }
  Counted(const Counted& o) : live(o.live) { ++*live; }
  Counted(Counted&& o) noexcept : live(o.live) { ++*live; }
  ~Counted() { --*live; }
  std::atomic<int>* live;
};

// A service on its own strand, answering later.
struct Service {
  explicit Service(asio::io_context& io) : strand(asio::make_strand(io)) {}
  void ask(int x, base::Done<int> done) {
    asio::post(strand, [this, x, done = std::move(done)] {
      EXPECT_TRUE(strand.running_in_this_thread());
      done(x * 2);
    });
  }
  base::Strand strand;
};

}  // namespace

TEST(Await, ResumesOnTheCallersExecutorWithTheAnswer) {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back([&] { io.run(); });
  Service service(io);
  std::atomic<int> live{0};
  std::vector<std::future<int>> answers;
  for (int i = 0; i < 20; ++i) {
    auto caller = asio::make_strand(io);
    answers.push_back(asio::co_spawn(
        caller,
        [&service, &live, caller, i]() -> asio::awaitable<int> {
          Counted held(live);
          auto start = [&service, i, held](base::Done<int> done) { service.ask(i, std::move(done)); };
          const int doubled = co_await api::detail::await<int>(std::move(start));
          EXPECT_TRUE(caller.running_in_this_thread());  // back on the caller's strand
          co_return doubled;
        },
        asio::use_future));
  }
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(answers[static_cast<std::size_t>(i)].wait_for(std::chrono::seconds(20)),
              std::future_status::ready);
    EXPECT_EQ(answers[static_cast<std::size_t>(i)].get(), i * 2);
  }
  guard.reset();
  for (auto& t : threads) t.join();
  EXPECT_EQ(live, 0);  // every copy of what the coroutines held was destroyed once
}
