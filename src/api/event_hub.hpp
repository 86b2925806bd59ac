#pragma once
// Fan-out of app events to Server-Sent-Events connections.
//
// Any thread may publish. Each event is numbered (monotonically, from 1), formatted once as an SSE
// frame and queued to every live subscriber. A subscriber that falls more than MAX_BACKLOG events
// behind is dropped (its connection ends) instead of letting one slow client grow memory without bound.
// The hub keeps no history: a client that reconnects sees only events published after it subscribed.
// clang-format off
#include "api/detail/asio_compat.hpp"  // before any Boost.Asio header; see there
// clang-format on
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kith::api {

class EventHub {
 public:
  static constexpr std::size_t MAX_BACKLOG = 1000;
  static constexpr std::chrono::seconds KEEPALIVE{15};

  // One subscriber's queue. The hub pushes from any thread; the owning connection takes and waits on
  // the subscription's executor, which must be a strand or a single-threaded io_context.
  class Subscription : public std::enable_shared_from_this<Subscription> {
   public:
    enum class Wake {
      events,     // frames may be queued (take() them; the queue can also be empty after a race)
      keepalive,  // the keepalive interval passed with nothing to send
      closed,     // dropped for lagging, or close() was called: end the stream
    };

    explicit Subscription(boost::asio::any_io_executor executor);

    // Moves out every queued SSE frame, oldest first. Call on the executor.
    std::vector<std::shared_ptr<const std::string>> take();
    // Suspends until frames are queued, the subscription closes, or `keepalive` passes. Call on the
    // executor, one waiter at a time.
    boost::asio::awaitable<Wake> async_wait(std::chrono::steady_clock::duration keepalive);

    bool closed() const;
    bool dropped() const;  // closed because it fell more than MAX_BACKLOG events behind
    // Any thread: ends the subscription and wakes the waiter (used by HttpServer::stop).
    void close();

   private:
    friend class EventHub;
    // Hub side, any thread. Returns false once the subscription is closed (the hub then forgets it).
    bool push(const std::shared_ptr<const std::string>& frame);
    // Posts a timer cancel to the executor; the timer is only ever touched there.
    void wake_locked();

    boost::asio::any_io_executor m_executor;
    boost::asio::steady_timer m_timer;  // executor only: the waiter's sleep, cancelled to wake it
    mutable std::mutex m_mutex;         // guards everything below
    std::deque<std::shared_ptr<const std::string>> m_queue;
    bool m_closed = false;
    bool m_dropped = false;
    bool m_wake_pending = false;  // a cancel is already posted; avoids one post per event
  };

  // Thread-safe. `type` should be a short lower_snake name ("transfer_progress"); CR and LF in it
  // are replaced so a frame cannot be split. `data` is sent as one line of JSON.
  void publish(std::string type, nlohmann::json data);

  // Registers a subscriber whose waits run on `executor`. The hub holds it weakly: dropping the last
  // shared_ptr unsubscribes.
  std::shared_ptr<Subscription> subscribe(boost::asio::any_io_executor executor);

  std::size_t subscriber_count() const;
  std::uint64_t last_id() const;  // id of the newest published event, 0 if none

  // "id: N\nevent: TYPE\ndata: JSON\n\n". Invalid UTF-8 in `data` is replaced, never thrown on.
  static std::string format_event(std::uint64_t id, std::string_view type, const nlohmann::json& data);

 private:
  mutable std::mutex m_mutex;  // guards the fields below and orders publishes, so ids arrive in order
  std::uint64_t m_last_id = 0;
  std::vector<std::weak_ptr<Subscription>> m_subscribers;
};

}  // namespace kith::api
