#pragma once
// A map with a size cap that evicts the least recently used entry, so that state kept per source IP
// or per device key stays bounded however many (possibly spoofed) senders a LAN has.
#include <cstddef>
#include <list>
#include <map>
#include <utility>

namespace kith::lan::detail {

template <class Key, class Value>
class Lru {
 public:
  explicit Lru(std::size_t capacity) : m_capacity(capacity < 1 ? 1 : capacity) {}

  // The entry for key, marked most recently used; nullptr if absent.
  Value* find(const Key& key) {
    auto it = m_index.find(key);
    if (it == m_index.end()) return nullptr;
    m_order.splice(m_order.begin(), m_order, it->second);
    return &it->second->second;
  }

  // Inserts (or replaces) key's entry as most recently used, evicting the oldest entry if full.
  Value& put(const Key& key, Value value) {
    if (Value* v = find(key)) return *v = std::move(value);
    if (m_index.size() >= m_capacity) {
      m_index.erase(m_order.back().first);
      m_order.pop_back();
    }
    m_order.emplace_front(key, std::move(value));
    m_index.emplace(key, m_order.begin());
    return m_order.front().second;
  }

  std::size_t size() const { return m_index.size(); }

 private:
  using Entry = std::pair<Key, Value>;
  std::size_t m_capacity;
  std::list<Entry> m_order;  // most recently used first
  std::map<Key, typename std::list<Entry>::iterator> m_index;
};

}  // namespace kith::lan::detail
