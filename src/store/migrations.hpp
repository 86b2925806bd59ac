#pragma once
// The schema of HOME/state.sqlite as numbered migrations. Never edit a released migration: append one.
#include <string>
#include <vector>

namespace kith::store {

const std::vector<std::string>& state_migrations();

}  // namespace kith::store
