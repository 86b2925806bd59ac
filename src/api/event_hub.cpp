#include "api/event_hub.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kith::api {

EventHub::Subscription::Subscription(boost::asio::any_io_executor executor)
    : m_executor(executor), m_timer(executor) {}

std::vector<std::shared_ptr<const std::string>> EventHub::Subscription::take() {
  std::lock_guard lock(m_mutex);
  std::vector<std::shared_ptr<const std::string>> out(std::make_move_iterator(m_queue.begin()),
                                                      std::make_move_iterator(m_queue.end()));
  m_queue.clear();
  return out;
}

boost::asio::awaitable<EventHub::Subscription::Wake> EventHub::Subscription::async_wait(
    std::chrono::steady_clock::duration keepalive) {
  {
    std::lock_guard lock(m_mutex);
    if (m_closed) co_return Wake::closed;
    if (!m_queue.empty()) co_return Wake::events;
  }
  // No lost wake-up: a push after the check above posts its cancel to this same executor, so the
  // cancel runs only after this wait has been started.
  m_timer.expires_after(keepalive);
  boost::system::error_code ec;
  co_await m_timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  std::lock_guard lock(m_mutex);
  if (m_closed) co_return Wake::closed;
  if (!m_queue.empty() || ec) co_return Wake::events;  // ec: cancelled by a wake
  co_return Wake::keepalive;
}

bool EventHub::Subscription::closed() const {
  std::lock_guard lock(m_mutex);
  return m_closed;
}

bool EventHub::Subscription::dropped() const {
  std::lock_guard lock(m_mutex);
  return m_dropped;
}

void EventHub::Subscription::close() {
  std::lock_guard lock(m_mutex);
  m_closed = true;
  m_queue.clear();
  wake_locked();
}

bool EventHub::Subscription::push(const std::shared_ptr<const std::string>& frame) {
  std::lock_guard lock(m_mutex);
  if (m_closed) return false;
  if (m_queue.size() >= MAX_BACKLOG) {
    m_closed = m_dropped = true;
    m_queue.clear();
    wake_locked();
    return false;
  }
  m_queue.push_back(frame);
  wake_locked();
  return true;
}

void EventHub::Subscription::wake_locked() {
  if (m_wake_pending) return;
  m_wake_pending = true;
  // post() never runs the handler inline, so calling it under m_mutex cannot deadlock.
  boost::asio::post(m_executor, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    {
      std::lock_guard lock(self->m_mutex);
      self->m_wake_pending = false;
    }
    self->m_timer.cancel();
  });
}

void EventHub::publish(std::string type, nlohmann::json data) {
  std::replace(type.begin(), type.end(), '\r', '_');
  std::replace(type.begin(), type.end(), '\n', '_');
  std::lock_guard lock(m_mutex);
  auto frame = std::make_shared<const std::string>(format_event(++m_last_id, type, data));
  // Push to each live subscriber and forget the closed or destroyed ones in the same pass.
  std::erase_if(m_subscribers, [&](const std::weak_ptr<Subscription>& weak) {
    auto sub = weak.lock();
    return !sub || !sub->push(frame);
  });
}

std::shared_ptr<EventHub::Subscription> EventHub::subscribe(boost::asio::any_io_executor executor) {
  auto sub = std::make_shared<Subscription>(std::move(executor));
  std::lock_guard lock(m_mutex);
  m_subscribers.push_back(sub);
  return sub;
}

std::size_t EventHub::subscriber_count() const {
  std::lock_guard lock(m_mutex);
  return static_cast<std::size_t>(
      std::count_if(m_subscribers.begin(), m_subscribers.end(), [](const auto& weak) {
        auto sub = weak.lock();
        return sub && !sub->closed();
      }));
}

std::uint64_t EventHub::last_id() const {
  std::lock_guard lock(m_mutex);
  return m_last_id;
}

std::string EventHub::format_event(std::uint64_t id, std::string_view type, const nlohmann::json& data) {
  std::string frame = "id: " + std::to_string(id) + "\nevent: ";
  frame.append(type);
  frame += "\ndata: ";
  // dump() without indentation never emits a raw newline (they are escaped inside strings), so the
  // data stays on one SSE line.
  frame += data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  frame += "\n\n";
  return frame;
}

}  // namespace kith::api
