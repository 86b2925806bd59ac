#include "sync/version.hpp"

#include <algorithm>
#include <ctime>

namespace kith::sync {

Ordering compare(const Vector& a, const Vector& b) {
  // A walk over both sorted vectors; an id missing on one side counts as 0 there. Once one side was
  // ahead somewhere, the other being ahead elsewhere makes them concurrent (the half says who was
  // ahead first, as Syncthing's Compare does).
  Ordering result = Ordering::equal;
  std::size_t ai = 0, bi = 0;
  auto a_ahead = [&]() -> bool {
    if (result == Ordering::lesser) {
      result = Ordering::concurrent_lesser;
      return true;
    }
    result = Ordering::greater;
    return false;
  };
  auto b_ahead = [&]() -> bool {
    if (result == Ordering::greater) {
      result = Ordering::concurrent_greater;
      return true;
    }
    result = Ordering::lesser;
    return false;
  };
  while (ai < a.size() || bi < b.size()) {
    const bool a_missing = ai == a.size(), b_missing = bi == b.size();
    if (!a_missing && !b_missing && a[ai].id == b[bi].id) {
      if (a[ai].value > b[bi].value && a_ahead()) return result;
      if (a[ai].value < b[bi].value && b_ahead()) return result;
      ++ai;
      ++bi;
    } else if (b_missing || (!a_missing && a[ai].id < b[bi].id)) {
      if (a[ai].value > 0 && a_ahead()) return result;
      ++ai;
    } else {
      if (b[bi].value > 0 && b_ahead()) return result;
      ++bi;
    }
  }
  return result;
}

void update(Vector& v, std::uint64_t short_id) {
  update(v, short_id, static_cast<std::uint64_t>(std::time(nullptr)));
}

void update(Vector& v, std::uint64_t short_id, std::uint64_t now_s) {
  auto it = std::lower_bound(v.begin(), v.end(), short_id,
                             [](const store::SyncCounter& c, std::uint64_t id) { return c.id < id; });
  if (it != v.end() && it->id == short_id) {
    it->value = std::max(it->value + 1, now_s);
    return;
  }
  v.insert(it, store::SyncCounter{short_id, std::max<std::uint64_t>(1, now_s)});
}

void merge(Vector& into, const Vector& other) {
  Vector out;
  out.reserve(into.size() + other.size());
  std::size_t i = 0, j = 0;
  while (i < into.size() || j < other.size()) {
    if (j == other.size() || (i < into.size() && into[i].id < other[j].id)) {
      out.push_back(into[i++]);
    } else if (i == into.size() || other[j].id < into[i].id) {
      out.push_back(other[j++]);
    } else {
      out.push_back({into[i].id, std::max(into[i].value, other[j].value)});
      ++i;
      ++j;
    }
  }
  into = std::move(out);
}

std::uint64_t counter(const Vector& v, std::uint64_t short_id) {
  for (const auto& c : v)
    if (c.id == short_id) return c.value;
  return 0;
}

void drop_others(Vector& v, std::uint64_t short_id) {
  for (const auto& c : v) {
    if (c.id == short_id) {
      v = Vector{c};
      return;
    }
  }
  v.clear();
}

bool well_formed(const Vector& v) {
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i - 1].id >= v[i].id) return false;
  return true;
}

}  // namespace kith::sync
