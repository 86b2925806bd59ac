#pragma once
// Version vectors as Syncthing's lib/protocol/vector.go has them: one counter per device that
// changed the file, sorted by the device's short ID. A counter's value is the larger of "one more"
// and the current unix time, so a device that forgot its index (reinstalled) still moves forward.
#include <cstdint>
#include <vector>

#include "store/sync_store.hpp"

namespace kith::sync {

using Vector = std::vector<store::SyncCounter>;

// a's relation to b. There is no such thing as "concurrent greater" in version vectors, only
// "concurrent"; Syncthing gives the two halves so that concurrent versions still sort stably.
enum class Ordering { equal, greater, lesser, concurrent_greater, concurrent_lesser };

Ordering compare(const Vector& a, const Vector& b);
inline bool concurrent(Ordering o) {
  return o == Ordering::concurrent_greater || o == Ordering::concurrent_lesser;
}
inline bool greater_equal(const Vector& a, const Vector& b) {
  const auto o = compare(a, b);
  return o == Ordering::greater || o == Ordering::equal;
}
inline bool lesser_equal(const Vector& a, const Vector& b) {
  const auto o = compare(a, b);
  return o == Ordering::lesser || o == Ordering::equal;
}

// This device changed the file: its counter becomes max(value + 1, now) (inserted, in order, at
// max(1, now) if it had none). The first form reads the clock.
void update(Vector& v, std::uint64_t short_id);
void update(Vector& v, std::uint64_t short_id, std::uint64_t now_s);
// Every counter becomes the larger of the two (counters only in `other` are added, in order).
void merge(Vector& into, const Vector& other);
// The device's counter, 0 when it has none.
std::uint64_t counter(const Vector& v, std::uint64_t short_id);
// Keeps only the device's counter (empty if it has none): Syncthing's DropOthers, for a local change
// made without knowing the others' versions, which should then conflict rather than win.
void drop_others(Vector& v, std::uint64_t short_id);
// Counters strictly ascending by id: what every operation here assumes of a vector from a peer.
bool well_formed(const Vector& v);

}  // namespace kith::sync
