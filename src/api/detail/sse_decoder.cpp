#include "api/detail/sse_decoder.hpp"

namespace kith::api::detail {

SseDecoder::Status SseDecoder::feed(std::string_view chunk, const Callback& on_event) {
  while (!chunk.empty()) {
    auto newline = chunk.find('\n');
    if (newline == std::string_view::npos) {
      m_partial.append(chunk);
      break;
    }
    m_partial.append(chunk.substr(0, newline));
    chunk.remove_prefix(newline + 1);
    std::string text = std::move(m_partial);
    m_partial.clear();
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (!line(text, on_event)) return Status::stopped;
  }
  if (m_partial.size() + m_data.size() > MAX_EVENT_BYTES) return Status::too_large;
  return Status::more;
}

bool SseDecoder::line(std::string_view text, const Callback& on_event) {
  if (text.empty()) {  // a blank line ends the event
    bool keep_going = true;
    if (m_has_data) keep_going = on_event(m_type.empty() ? "message" : m_type, m_data);
    m_type.clear();
    m_data.clear();
    m_has_data = false;
    return keep_going;
  }
  if (text.front() == ':') return true;  // comment, e.g. the server's keepalive
  auto colon = text.find(':');
  std::string_view field = text.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "event") {
    m_type = value;
  } else if (field == "data") {
    if (m_has_data) m_data.push_back('\n');
    m_data.append(value);
    m_has_data = true;
  } else if (field == "id") {
    m_last_id = value;
  }
  return true;  // unknown fields ("retry") are ignored, as the format requires
}

}  // namespace kith::api::detail
