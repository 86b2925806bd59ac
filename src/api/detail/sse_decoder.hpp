#pragma once
// Incremental decoder for a text/event-stream body (the WHATWG "event stream" format), used by
// Client::follow_events. Bytes arrive in arbitrary chunks; complete events are handed out in order.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace kith::api::detail {

class SseDecoder {
 public:
  // type: the "event:" field ("message" if absent); data: the "data:" lines joined by '\n'.
  using Callback = std::function<bool(const std::string& type, const std::string& data)>;

  // A line or event larger than this is an error, so a broken server cannot exhaust memory.
  static constexpr std::size_t MAX_EVENT_BYTES = 16u << 20;

  enum class Status { more, stopped, too_large };

  // Feeds bytes; calls `on_event` for each completed event. Returns stopped as soon as the callback
  // returns false (later bytes in `chunk` are left unread), too_large on an oversized event.
  Status feed(std::string_view chunk, const Callback& on_event);

  const std::string& last_id() const { return m_last_id; }

 private:
  bool line(std::string_view text, const Callback& on_event);  // false: the callback said stop

  std::string m_partial;  // bytes of an unfinished line
  std::string m_type;
  std::string m_data;
  bool m_has_data = false;
  std::string m_last_id;
};

}  // namespace kith::api::detail
