// /api/v1/sync (docs/api.md § Folder sync): this node's synced folders, the devices it syncs them with
// and the folders devices offer. The handlers check the request (sync_requests.hpp), co_await the sync
// service (which answers on its strand) and turn its answer into JSON (json_sync.hpp).
#include <optional>

#include "api/detail/await.hpp"
#include "api/detail/route_helpers.hpp"
#include "api/json_sync.hpp"
#include "api/routes.hpp"
#include "api/sync_requests.hpp"
#include "sync/errors.hpp"
#include "sync/sync_service.hpp"

namespace kith::api {
namespace {

using detail::bad;
using detail::object_body;
using sync::SyncService;

int sync_status(const Error& e) {
  if (e.code == sync::make_error_code(sync::errc::unknown_folder) ||
      e.code == sync::make_error_code(sync::errc::unknown_device) ||
      e.code == sync::make_error_code(sync::errc::not_offered))
    return 404;
  if (e.code == sync::make_error_code(sync::errc::folder_exists)) return 409;
  return detail::status_for(e);  // bad_input, invalid_argument: 400; unavailable: 503; the rest: 500
}

Response answer_of(const Status& s) {
  if (!s) return Response::error(sync_status(s.error()), s.error());
  return Response{200, nlohmann::json{{"ok", true}}, {}};
}

template <class T, class ToJson>
Response answer_of(const Result<T>& r, ToJson to_json, int ok = 200) {
  if (!r) return Response::error(sync_status(r.error()), r.error());
  return Response{ok, to_json(*r), {}};
}

boost::asio::awaitable<Response> ready(Response r) { co_return r; }

// Runs `start(service, done)` on the sync service and answers with `respond(answer)`; 503 when this node
// runs no folder sync (a transient CLI node). A coroutine with its arguments in its frame (not a
// capturing lambda, whose closure could go first).
template <class T, class Start, class Respond>
boost::asio::awaitable<Response> ask(app::Node& node, Start start, Respond respond) {
  auto service = node.require_sync();
  if (!service) co_return Response::error(503, service.error());
  auto begin = [s = *service, start = std::move(start)](base::Done<T> done) mutable {
    start(*s, std::move(done));
  };
  auto answer = co_await detail::await<T>(std::move(begin));  // named: see detail/await.hpp
  co_return respond(answer);
}

// A request's path parameter, checked as the body's fields are: a malformed one is the caller's
// mistake (400), not a folder or device that happens to be missing.
Result<std::string> folder_param(const Request& req, const char* name) {
  const auto& id = req.params.at(name);
  if (auto r = check_folder_id(id); !r) return tl::unexpected(r.error());
  return id;
}
Result<std::string> device_param(const Request& req, const char* name) {
  const auto& id = req.params.at(name);
  if (auto r = check_device_id(id); !r) return tl::unexpected(r.error());
  return id;
}

}  // namespace

void add_sync_identity(app::Node& node, nlohmann::json& id) {
  auto service = node.require_sync();
  if (!service) return;  // no folder sync in this node: the fields stay absent
  id["device_id"] = (*service)->device_id();
  id["sync_port"] = (*service)->port();
}

void add_sync_routes(Router& router, RouteContext ctx) {
  app::Node& node = ctx.node;
  auto ok_answer = [](const Status& s) { return answer_of(s); };
  auto folder_answer = [](int status) {
    return [status](const Result<sync::FolderView>& r) { return answer_of(r, folder_json, status); };
  };
  // Folder routes that act on one folder and answer {"ok": true}.
  auto folder_action = [&node, ok_answer](auto start) {
    return [&node, ok_answer, start](Request req) {
      auto id = folder_param(req, "id");
      if (!id) return ready(bad(id.error()));
      return ask<Status>(
          node, [id = *id, start](SyncService& s, auto done) { start(s, id, std::move(done)); }, ok_answer);
    };
  };

  router.add("GET", "/api/v1/sync/folders", [&node](Request) {
    return ask<Result<std::vector<sync::FolderView>>>(
        node, [](SyncService& s, auto done) { s.folders(std::move(done)); },
        [](const Result<std::vector<sync::FolderView>>& r) { return answer_of(r, folders_json); });
  });
  router.add("POST", "/api/v1/sync/folders", [&node, folder_answer](Request req) {
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto spec = parse_folder_spec(*body);
    if (!spec) return ready(bad(spec.error()));
    return ask<Result<sync::FolderView>>(
        node,
        [spec = std::move(*spec)](SyncService& s, auto done) mutable {
          s.add_folder(std::move(spec), std::move(done));
        },
        folder_answer(201));
  });
  router.add("GET", "/api/v1/sync/folders/{id}", [&node, folder_answer](Request req) {
    auto id = folder_param(req, "id");
    if (!id) return ready(bad(id.error()));
    return ask<Result<sync::FolderView>>(
        node, [id = *id](SyncService& s, auto done) { s.folder(id, std::move(done)); }, folder_answer(200));
  });
  // Its .stignore as it reads now: lines, expanded patterns, and why it cannot be used, if so.
  router.add("GET", "/api/v1/sync/folders/{id}/ignores", [&node](Request req) {
    auto id = folder_param(req, "id");
    if (!id) return ready(bad(id.error()));
    return ask<Result<sync::IgnoresView>>(
        node, [id = *id](SyncService& s, auto done) { s.ignores(id, std::move(done)); },
        [](const Result<sync::IgnoresView>& r) { return answer_of(r, ignores_json); });
  });
  // The folder's index goes; its files stay on disk.
  router.add("DELETE", "/api/v1/sync/folders/{id}",
             folder_action([](SyncService& s, std::string id, auto done) {
               s.remove_folder(std::move(id), std::move(done));
             }));
  router.add("GET", "/api/v1/sync/folders/{id}/conflicts", [&node](Request req) {
    auto id = folder_param(req, "id");
    if (!id) return ready(bad(id.error()));
    return ask<Result<std::vector<sync::ConflictView>>>(
        node, [id = *id](SyncService& s, auto done) { s.conflicts(id, std::move(done)); },
        [](const Result<std::vector<sync::ConflictView>>& r) { return answer_of(r, conflicts_json); });
  });
  router.add("GET", "/api/v1/sync/folders/{id}/changes", [&node](Request req) {
    auto id = folder_param(req, "id");
    if (!id) return ready(bad(id.error()));
    return ask<Result<std::vector<sync::ChangeView>>>(
        node, [id = *id](SyncService& s, auto done) { s.changes(id, std::move(done)); },
        [](const Result<std::vector<sync::ChangeView>>& r) { return answer_of(r, changes_json); });
  });
  router.add("POST", "/api/v1/sync/folders/{id}/rescan",
             folder_action([](SyncService& s, std::string id, auto done) {
               s.rescan(std::move(id), std::move(done));
             }));
  router.add("POST", "/api/v1/sync/folders/{id}/pause",
             folder_action([](SyncService& s, std::string id, auto done) {
               s.pause(std::move(id), true, std::move(done));
             }));
  router.add("POST", "/api/v1/sync/folders/{id}/resume",
             folder_action([](SyncService& s, std::string id, auto done) {
               s.pause(std::move(id), false, std::move(done));
             }));
  // File versioning (docs/api.md § Versioning): the policy changed, versions listed, one restored.
  router.add("PUT", "/api/v1/sync/folders/{id}/versioning", [&node, folder_answer](Request req) {
    auto id = folder_param(req, "id");
    if (!id) return ready(bad(id.error()));
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto versioning = parse_versioning(*body);
    if (!versioning) return ready(bad(versioning.error()));
    return ask<Result<sync::FolderView>>(
        node,
        [id = *id, v = std::move(*versioning)](SyncService& s, auto done) mutable {
          s.set_versioning(id, std::move(v), std::move(done));
        },
        folder_answer(200));
  });
  router.add("GET", "/api/v1/sync/folders/{id}/versions", [&node](Request req) {
    auto id = folder_param(req, "id");
    if (!id) return ready(bad(id.error()));
    std::optional<std::string> name;
    if (auto p = req.query.find("path"); p != req.query.end()) {
      if (auto ok = check_file_name(p->second); !ok) return ready(bad(ok.error()));
      name = p->second;
    }
    return ask<Result<std::vector<sync::KeptVersion>>>(
        node, [id = *id, name](SyncService& s, auto done) { s.versions(id, name, std::move(done)); },
        [](const Result<std::vector<sync::KeptVersion>>& r) { return answer_of(r, kept_versions_json); });
  });
  router.add("POST", "/api/v1/sync/folders/{id}/restore", [&node](Request req) {
    auto id = folder_param(req, "id");
    if (!id) return ready(bad(id.error()));
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto restore = parse_restore_request(*body);
    if (!restore) return ready(bad(restore.error()));
    return ask<Result<sync::KeptVersion>>(
        node,
        [id = *id, r = std::move(*restore)](SyncService& s, auto done) mutable {
          s.restore(id, std::move(r.path), std::move(r.version), std::move(done));
        },
        [](const Result<sync::KeptVersion>& r) {
          return answer_of(r, [](const sync::KeptVersion& k) {
            return nlohmann::json{{"restored", kept_version_json(k)}};
          });
        });
  });
  // Shares the folder with a device that was added (POST /sync/devices).
  router.add("POST", "/api/v1/sync/folders/{id}/devices", [&node, ok_answer](Request req) {
    auto id = folder_param(req, "id");
    if (!id) return ready(bad(id.error()));
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto device = parse_share_request(*body);
    if (!device) return ready(bad(device.error()));
    return ask<Status>(
        node,
        [id = *id, device = *device](SyncService& s, auto done) { s.share(id, device, std::move(done)); },
        ok_answer);
  });
  router.add("DELETE", "/api/v1/sync/folders/{id}/devices/{device}", [&node, ok_answer](Request req) {
    auto id = folder_param(req, "id");
    if (!id) return ready(bad(id.error()));
    auto device = device_param(req, "device");
    if (!device) return ready(bad(device.error()));
    return ask<Status>(
        node,
        [id = *id, device = *device](SyncService& s, auto done) { s.unshare(id, device, std::move(done)); },
        ok_answer);
  });

  router.add("GET", "/api/v1/sync/devices", [&node](Request) {
    // device_id() may be read from any thread; without a service ask() answers 503 anyway.
    auto service = node.require_sync();
    std::string self = service ? (*service)->device_id() : std::string();
    return ask<Result<std::vector<sync::DeviceView>>>(
        node, [](SyncService& s, auto done) { s.devices(std::move(done)); },
        [self](const Result<std::vector<sync::DeviceView>>& r) {
          return answer_of(r, [&self](const std::vector<sync::DeviceView>& list) {
            auto devices = nlohmann::json::array();
            for (const auto& d : list) devices.push_back(device_json(d));
            return nlohmann::json{{"devices", devices}, {"device_id", self}};
          });
        });
  });
  router.add("POST", "/api/v1/sync/devices", [&node](Request req) {
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto device = parse_device_request(*body);
    if (!device) return ready(bad(device.error()));
    return ask<Result<sync::DeviceView>>(
        node,
        [d = std::move(*device)](SyncService& s, auto done) mutable {
          s.add_device(std::move(d.id), std::move(d.addresses), std::move(d.name), std::move(done));
        },
        [](const Result<sync::DeviceView>& r) { return answer_of(r, device_json, 201); });
  });
  router.add("DELETE", "/api/v1/sync/devices/{id}", [&node, ok_answer](Request req) {
    auto id = device_param(req, "id");
    if (!id) return ready(bad(id.error()));
    return ask<Status>(
        node, [id = *id](SyncService& s, auto done) { s.remove_device(id, std::move(done)); }, ok_answer);
  });

  router.add("GET", "/api/v1/sync/pending", [&node](Request) {
    return ask<std::vector<sync::PendingFolder>>(
        node, [](SyncService& s, auto done) { s.pending(std::move(done)); },
        [](const std::vector<sync::PendingFolder>& list) {
          return Response{200, pendings_json(list), {}};
        });
  });
  // Takes an offered folder into {path} (created if missing), shared back with the device(s) offering it.
  router.add("POST", "/api/v1/sync/pending/{folder}/accept", [&node, folder_answer](Request req) {
    auto id = folder_param(req, "folder");
    if (!id) return ready(bad(id.error()));
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto path = parse_accept_request(*body);
    if (!path) return ready(bad(path.error()));
    return ask<Result<sync::FolderView>>(
        node, [id = *id, path = *path](SyncService& s, auto done) { s.accept(id, path, std::move(done)); },
        folder_answer(201));
  });
}

}  // namespace kith::api
