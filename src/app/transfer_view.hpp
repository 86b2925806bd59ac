#pragma once
// How a transfer looks to people: kith's state and error from libtorrent's status, the stored record
// and where the release pipeline has it (docs/api.md § Transfer object).
#include <optional>
#include <string>

#include "app/model.hpp"

namespace kith::app {

Transfer make_transfer(const swarm::TransferStatus& status, const store::TransferRecord& record,
                       const std::optional<ReleaseView>& release, const std::string& user_id);

// The verified publisher signature of a link ("&x.kith.pk=..&x.kith.sig=.."), as a Publisher.
Publisher publisher_of(const std::string& link_signature, const std::string& user_id);

}  // namespace kith::app
