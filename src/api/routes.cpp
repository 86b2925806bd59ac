#include "api/routes.hpp"

#include "api/detail/await.hpp"
#include "api/detail/route_helpers.hpp"
#include "api/json_node.hpp"
#include "api/qr_svg.hpp"
#include "api/uploads.hpp"
#include "base/base64.hpp"
#include "safety/errors.hpp"
#include "swarm/types.hpp"

namespace kith::api {
using boost::asio::awaitable;
using detail::await;
using detail::bad;
using detail::field;
using detail::from;
using detail::status_for;

namespace {

// The answer to a share (from a path or an upload): the share in state "hashing"; it becomes a
// transfer when hashing ends (GET /transfers/{job id} follows it).
awaitable<Response> share(app::Node& node, app::ShareRequest request) {
  auto start = [&](auto done) { node.transfers().share(std::move(request), std::move(done)); };
  auto r = co_await await<Result<app::Transfer>>(std::move(start));
  co_return from(
      r, [](const app::Transfer& t) { return to_json(t); }, 202);
}

// Builds a ShareRequest from a JSON body's optional fields.
Result<app::ShareRequest> share_request(const nlohmann::json& body, std::string path) {
  auto format = field<std::string>(body, "format", "hybrid");
  auto comment = field<std::string>(body, "comment", "");
  auto sign = field<bool>(body, "sign", false);
  auto trackers = field<std::vector<std::string>>(body, "trackers", {});
  if (!format) return tl::unexpected(format.error());
  if (!comment) return tl::unexpected(comment.error());
  if (!sign) return tl::unexpected(sign.error());
  if (!trackers) return tl::unexpected(trackers.error());
  bool ok = false;
  app::ShareRequest share{.path = std::move(path),
                          .format = swarm::parse_format(*format, &ok),
                          .trackers = *trackers,
                          .comment = *comment,
                          .sign = *sign};
  if (!ok) return fail(base::make_error_code(base::errc::bad_input), "'format' must be v1, v2 or hybrid");
  return share;
}

}  // namespace

void add_routes(Router& router, RouteContext ctx) {
  app::Node& node = ctx.node;

  router.add("GET", "/api/v1/status", [&node, port = ctx.api_port](Request) -> awaitable<Response> {
    auto start = [&](auto done) { node.status(std::move(done)); };
    auto s = co_await await<app::NodeStatus>(std::move(start));
    auto j = to_json(s);
    j["api_port"] = port;
    co_return Response{200, j, {}};
  });

  router.add("GET", "/api/v1/settings", sync([&node](const Request&) {
               return Response{200, node.settings().to_json(), {}};
             }));

  router.add("PUT", "/api/v1/settings/{name}", [&node](Request req) -> awaitable<Response> {
    auto body = req.json_body();
    if (!body) co_return bad(body.error());
    if (!body->is_object() || !body->contains("value"))
      co_return Response::error(400, "bad_request", "body must be {\"value\": VALUE}");
    auto start = [&](auto done) {
      node.set_setting(req.params.at("name"), (*body)["value"], std::move(done));
    };
    auto r = co_await await<Result<app::SettingChange>>(std::move(start));
    co_return from(r, [](const app::SettingChange& c) { return to_json(c); });
  });

  router.add("GET", "/api/v1/transfers", [&node](Request) -> awaitable<Response> {
    auto start = [&](auto done) { node.transfers().list(std::move(done)); };
    auto list = co_await await<std::vector<app::Transfer>>(std::move(start));
    co_return Response{200, to_json(list), {}};
  });

  router.add("POST", "/api/v1/transfers", [&node](Request req) -> awaitable<Response> {
    auto body = req.json_body();
    if (!body) co_return bad(body.error());
    if (!body->is_object()) co_return Response::error(400, "bad_request", "body must be a JSON object");
    app::GetRequest get;
    auto link = field<std::string>(*body, "link", "");
    auto torrent = field<std::string>(*body, "torrent", "");
    auto to = field<std::string>(*body, "to", "");
    auto only = field<std::string>(*body, "only", "");
    auto sequential = field<bool>(*body, "sequential", false);
    auto peers = field<std::vector<std::string>>(*body, "peers", {});
    if (!peers) co_return bad(peers.error());
    get.peers = *peers;
    for (const auto* r : {&link, &torrent, &to, &only})
      if (!*r) co_return bad(r->error());
    if (!sequential) co_return bad(sequential.error());
    if (link->empty() == torrent->empty())
      co_return Response::error(400, "bad_request",
                                "give exactly one of 'link' (magnet) or 'torrent' (base64)");
    if (!torrent->empty()) {
      auto bytes = base::base64_decode(*torrent);
      if (!bytes) co_return Response::error(400, "bad_request", "'torrent' is not valid base64");
      get.torrent_bytes = std::move(*bytes);
    } else if (link->rfind("magnet:", 0) != 0) {
      co_return Response::error(400, "swarm.bad_link",
                                "'link' must be a magnet link; send .torrent files as 'torrent'");
    }
    get.link = *link;
    get.to = *to;
    get.only_glob = *only;
    get.sequential = *sequential;
    auto start = [&](auto done) { node.transfers().get(std::move(get), std::move(done)); };
    auto added = co_await await<Result<app::Added>>(std::move(start));
    if (!added) co_return Response::error(status_for(added.error()), added.error());
    auto j = to_json(added->transfer);
    // Asking again for a transfer the node has is not an error; it says so.
    j["existing"] = added->existing;
    co_return Response{added->existing ? 200 : 201, j, {}};
  });

  router.add("POST", "/api/v1/shares", [&node](Request req) -> awaitable<Response> {
    auto body = req.json_body();
    if (!body) co_return bad(body.error());
    if (!body->is_object()) co_return Response::error(400, "bad_request", "body must be a JSON object");
    auto path = field<std::string>(*body, "path", "");
    if (!path) co_return bad(path.error());
    if (path->empty()) co_return Response::error(400, "bad_request", "'path' is required");
    auto request = share_request(*body, *path);
    if (!request) co_return bad(request.error());
    co_return co_await share(node, std::move(*request));
  });

  router.add("GET", "/api/v1/transfers/{id}", [&node](Request req) -> awaitable<Response> {
    auto start = [&](auto done) { node.transfers().show(req.params.at("id"), std::move(done)); };
    auto t = co_await await<Result<app::Transfer>>(std::move(start));
    co_return from(t, [](const app::Transfer& t) { return to_json(t); });
  });

  router.add("GET", "/api/v1/transfers/{id}/torrent", [&node](Request req) -> awaitable<Response> {
    auto start = [&](auto done) { node.transfers().torrent_file(req.params.at("id"), std::move(done)); };
    auto bytes = co_await await<Result<std::string>>(std::move(start));
    if (!bytes) {
      // session_error here means the metadata of a magnet has not arrived yet: try again later.
      bool not_yet = bytes.error().code == swarm::make_error_code(swarm::errc::session_error);
      co_return Response::error(not_yet ? 409 : status_for(bytes.error()), bytes.error());
    }
    co_return Response{200, {{"torrent", base::base64_encode(*bytes)}}, {}};
  });

  router.add("GET", "/api/v1/transfers/{id}/peers", [&node](Request req) -> awaitable<Response> {
    auto start = [&](auto done) { node.transfers().peers(req.params.at("id"), std::move(done)); };
    auto peers = co_await await<Result<std::vector<swarm::PeerStatus>>>(std::move(start));
    co_return from(peers, [](const auto& p) { return to_json(p); });
  });

  router.add("PUT", "/api/v1/transfers/{id}/files", [&node](Request req) -> awaitable<Response> {
    auto body = req.json_body();
    if (!body) co_return bad(body.error());
    if (!body->is_object()) co_return Response::error(400, "bad_request", "body must be a JSON object");
    auto wanted = field<std::vector<int>>(*body, "wanted", {});
    if (!wanted) co_return bad(wanted.error());
    if (!body->contains("wanted"))
      co_return Response::error(400, "bad_request", "'wanted' (file indices) is required");
    auto start = [&](auto done) {
      node.transfers().select_files(req.params.at("id"), *wanted, std::move(done));
    };
    auto r = co_await await<Status>(std::move(start));
    // session_error here means a magnet whose file list has not arrived yet: try again later.
    if (!r && r.error().code == swarm::make_error_code(swarm::errc::session_error))
      co_return Response::error(409, r.error());
    co_return from(r);
  });

  router.add("GET", "/api/v1/transfers/{id}/qr.svg", [&node](Request req) -> awaitable<Response> {
    auto start = [&](auto done) { node.transfers().show(req.params.at("id"), std::move(done)); };
    auto shown = co_await await<Result<app::Transfer>>(std::move(start));
    if (!shown) co_return Response::error(status_for(shown.error()), shown.error());
    if (shown->magnet.empty())
      co_return Response::error(409, "conflict",
                                "the transfer has no magnet link yet (it is still being hashed)");
    auto svg = qr_svg(shown->magnet);
    if (!svg) co_return Response::error(500, svg.error());
    Response r;
    r.content_type = "image/svg+xml";
    r.raw_body = std::move(*svg);
    co_return r;
  });

  router.add("POST", "/api/v1/uploads", sync([uploads = ctx.uploads](const Request&) {
               if (!uploads) return Response::error(404, "not_found", "uploads are not enabled");
               auto id = uploads->create();
               if (!id) return Response::error(500, id.error());
               return Response{201, {{"id", *id}}, {}};
             }));

  router.add("POST", "/api/v1/uploads/{id}/share",
             [&node, uploads = ctx.uploads](Request req) -> awaitable<Response> {
               if (!uploads) co_return Response::error(404, "not_found", "uploads are not enabled");
               nlohmann::json body = nlohmann::json::object();
               if (!req.body.empty()) {
                 auto parsed = req.json_body();
                 if (!parsed) co_return bad(parsed.error());
                 if (parsed->is_object()) body = *parsed;
               }
               // The folder several loose files are shared in (uploads.hpp); "" for one dropped file or
               // folder.
               auto name = field<std::string>(body, "name", "");
               if (!name) co_return bad(name.error());
               auto path = uploads->share_path(req.params.at("id"), *name);
               if (!path)
                 co_return Response::error(path.error().code == base::errc::not_found ? 404 : 400,
                                           path.error());
               auto request = share_request(body, path->string());
               if (!request) co_return bad(request.error());
               co_return co_await share(node, std::move(*request));
             });

  router.add("POST", "/api/v1/transfers/{id}/pause", [&node](Request req) -> awaitable<Response> {
    auto start = [&](auto done) { node.transfers().pause(req.params.at("id"), std::move(done)); };
    co_return from(co_await await<Status>(std::move(start)));
  });
  router.add("POST", "/api/v1/transfers/{id}/resume", [&node](Request req) -> awaitable<Response> {
    auto start = [&](auto done) { node.transfers().resume(req.params.at("id"), std::move(done)); };
    co_return from(co_await await<Status>(std::move(start)));
  });

  router.add("GET", "/api/v1/blocklist", [&node](Request) -> awaitable<Response> {
    auto start = [&](auto done) { node.blocks().list(std::move(done)); };
    auto list = co_await await<app::BlockList>(std::move(start));
    co_return Response{200, to_json(list), {}};
  });

  router.add("POST", "/api/v1/blocklist", [&node](Request req) -> awaitable<Response> {
    auto body = req.json_body();
    if (!body) co_return bad(body.error());
    if (!body->is_object()) co_return Response::error(400, "bad_request", "body must be a JSON object");
    auto kind = field<std::string>(*body, "kind", "");
    auto value = field<std::string>(*body, "value", "");
    auto reason = field<std::string>(*body, "reason", "");
    for (const auto* r : {&kind, &value, &reason})
      if (!*r) co_return bad(r->error());
    auto start = [&](auto done) { node.blocks().add(*kind, *value, *reason, std::move(done)); };
    auto added = co_await await<Result<app::event::BlockAdded>>(std::move(start));
    co_return from(
        added,
        [](const app::event::BlockAdded& a) {
          auto j = to_json(a.entry);
          j["removed"] = a.removed;
          return j;
        },
        201);
  });

  router.add("POST", "/api/v1/blocklist/reload", [&node](Request) -> awaitable<Response> {
    auto start = [&](auto done) { node.blocks().reload_ip_filter(std::move(done)); };
    auto r = co_await await<Result<app::IpFilterSummary>>(std::move(start));
    co_return from(r, [](const app::IpFilterSummary& s) { return to_json(s); });
  });

  router.add("DELETE", "/api/v1/blocklist/{kind}/{value}", [&node](Request req) -> awaitable<Response> {
    auto start = [&](auto done) {
      node.blocks().remove(req.params.at("kind"), req.params.at("value"), std::move(done));
    };
    auto r = co_await await<Status>(std::move(start));
    if (!r && r.error().code == base::make_error_code(base::errc::not_found))
      co_return Response::error(404, r.error());
    co_return from(r);
  });

  router.add("DELETE", "/api/v1/transfers/{id}", [&node](Request req) -> awaitable<Response> {
    auto it = req.query.find("delete_data");
    bool delete_data = it != req.query.end() && (it->second == "true" || it->second == "1");
    auto start = [&](auto done) {
      node.transfers().remove(req.params.at("id"), delete_data, std::move(done));
    };
    co_return from(co_await await<Status>(std::move(start)));
  });

  add_safety_routes(router, ctx);
  add_messaging_routes(router, ctx);
  add_call_routes(router, ctx);
  add_sync_routes(router, ctx);
}

}  // namespace kith::api
