#pragma once
// The /api/v1 routes of a node, bound onto a Router. Every route is documented in docs/api.md.
#include <cstdint>

#include "api/router.hpp"
#include "app/node.hpp"

namespace kith::api {

class Uploads;

struct RouteContext {
  app::Node& node;
  std::uint16_t api_port = 0;  // reported by /status
  Uploads* uploads = nullptr;  // the web UI's uploads (null: the /uploads routes answer 404)
};

void add_routes(Router& router, RouteContext context);
// The quarantine and report routes (routes_safety.cpp); add_routes() calls it.
void add_safety_routes(Router& router, RouteContext context);
// Identity, contacts, messages and groups (routes_messaging.cpp); add_routes() calls it.
void add_messaging_routes(Router& router, RouteContext context);
// Calls' signalling for local media endpoints (routes_calls.cpp); add_routes() calls it.
void add_call_routes(Router& router, RouteContext context);
// Folder sync: folders, devices, offered folders (routes_sync.cpp); add_routes() calls it.
void add_sync_routes(Router& router, RouteContext context);
// GET /api/v1/id's folder-sync fields (routes_sync.cpp): `device_id` and `sync_port` while the node runs
// folder sync; nothing otherwise.
void add_sync_identity(app::Node& node, nlohmann::json& id);

}  // namespace kith::api
