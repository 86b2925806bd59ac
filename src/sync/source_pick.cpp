#include "sync/source_pick.hpp"

#include <algorithm>

namespace kith::sync {

std::optional<BlockSource> pick_source(std::int32_t index, const std::vector<Holder>& holders,
                                       const std::set<std::string>& temp_refused) {
  std::vector<const Holder*> able;
  for (const auto& h : holders) {
    if (h.temp_blocks) {
      if (temp_refused.count(h.device)) continue;
      if (!std::binary_search(h.temp_blocks->begin(), h.temp_blocks->end(), index)) continue;
      // Listed as a full holder too: asked as one.
      if (std::any_of(holders.begin(), holders.end(),
                      [&](const Holder& o) { return !o.temp_blocks && o.device == h.device; }))
        continue;
    }
    able.push_back(&h);
  }
  if (able.empty()) return std::nullopt;
  // Least busy, then full holders, then taking turns by block index.
  auto rank = [](const Holder* h) { return std::make_pair(h->in_flight, h->temp_blocks != nullptr); };
  const auto best = rank(*std::min_element(
      able.begin(), able.end(), [&](const Holder* a, const Holder* b) { return rank(a) < rank(b); }));
  std::erase_if(able, [&](const Holder* h) { return rank(h) != best; });
  const Holder* h = able[static_cast<std::size_t>(std::max(index, 0)) % able.size()];
  return BlockSource{h->device, h->temp_blocks != nullptr};
}

}  // namespace kith::sync
