#include "api/routes.hpp"

#include "api/detail/route_helpers.hpp"
#include "api/qr_svg.hpp"
#include "api/uploads.hpp"
#include "base/base64.hpp"
#include "safety/errors.hpp"
#include "swarm/types.hpp"

namespace kith::api {
using detail::bad;
using detail::field;
using detail::from;
using detail::status_for;

void add_routes(Router& router, RouteContext ctx) {
  app::Node& node = ctx.node;

  router.add("GET", "/api/v1/status", sync([&node, port = ctx.api_port](const Request&) {
               auto s = node.status();
               s["api_port"] = port;
               return Response{200, s, {}};
             }));

  router.add("GET", "/api/v1/settings", sync([&node](const Request&) {
               return Response{200, node.settings_json(), {}};
             }));

  router.add("PUT", "/api/v1/settings/{name}", sync([&node](const Request& req) {
               auto body = req.json_body();
               if (!body) return bad(body.error());
               if (!body->is_object() || !body->contains("value")) {
                 return Response::error(400, "bad_request", "body must be {\"value\": VALUE}");
               }
               return from(node.set_setting(req.params.at("name"), (*body)["value"]));
             }));

  router.add("GET", "/api/v1/transfers", sync([&node](const Request&) {
               return Response{200, node.list(), {}};
             }));

  router.add("POST", "/api/v1/transfers", sync([&node](const Request& req) {
               auto body = req.json_body();
               if (!body) return bad(body.error());
               if (!body->is_object())
                 return Response::error(400, "bad_request", "body must be a JSON object");
               app::GetRequest get;
               auto link = field<std::string>(*body, "link", "");
               auto torrent = field<std::string>(*body, "torrent", "");
               auto to = field<std::string>(*body, "to", "");
               auto only = field<std::string>(*body, "only", "");
               auto sequential = field<bool>(*body, "sequential", false);
               auto peers = field<std::vector<std::string>>(*body, "peers", {});
               if (!peers) return bad(peers.error());
               get.peers = *peers;
               for (const auto* r : {&link, &torrent, &to, &only}) {
                 if (!*r) return bad(r->error());
               }
               if (!sequential) return bad(sequential.error());
               if (link->empty() == torrent->empty()) {
                 return Response::error(400, "bad_request",
                                        "give exactly one of 'link' (magnet) or 'torrent' (base64)");
               }
               if (!torrent->empty()) {
                 auto bytes = base::base64_decode(*torrent);
                 if (!bytes) return Response::error(400, "bad_request", "'torrent' is not valid base64");
                 get.torrent_bytes = std::move(*bytes);
               } else if (link->rfind("magnet:", 0) != 0) {
                 return Response::error(400, "swarm.bad_link",
                                        "'link' must be a magnet link; send .torrent files as 'torrent'");
               }
               get.link = *link;
               get.to = *to;
               get.only_glob = *only;
               get.sequential = *sequential;
               // A transfer the node already has: 200 with "existing": true;
               // a new one: 201, "existing": false.
               auto added = node.get(get);
               if (!added) return from(added);
               const bool existing = added->value("existing", false);
               (*added)["existing"] = existing;
               return from(added, existing ? 200 : 201);
             }));

  router.add("POST", "/api/v1/shares", sync([&node](const Request& req) {
               auto body = req.json_body();
               if (!body) return bad(body.error());
               if (!body->is_object())
                 return Response::error(400, "bad_request", "body must be a JSON object");
               auto path = field<std::string>(*body, "path", "");
               auto format = field<std::string>(*body, "format", "hybrid");
               auto comment = field<std::string>(*body, "comment", "");
               auto sign = field<bool>(*body, "sign", false);
               if (!sign) return bad(sign.error());
               auto trackers = field<std::vector<std::string>>(*body, "trackers", {});
               for (const auto* r : {&path, &format, &comment}) {
                 if (!*r) return bad(r->error());
               }
               if (!trackers) return bad(trackers.error());
               if (path->empty()) return Response::error(400, "bad_request", "'path' is required");
               bool ok = false;
               app::ShareRequest share{*path, swarm::parse_format(*format, &ok), *trackers, *comment, *sign};
               if (!ok) return Response::error(400, "bad_request", "'format' must be v1, v2 or hybrid");
               return from(node.share(share), 201);
             }));

  router.add("GET", "/api/v1/transfers/{id}",
             sync([&node](const Request& req) { return from(node.show(req.params.at("id"))); }));

  router.add("GET", "/api/v1/transfers/{id}/torrent", sync([&node](const Request& req) {
               auto bytes = node.torrent_file(req.params.at("id"));
               if (!bytes) {
                 // session_error here means the metadata of a magnet has not arrived yet: try again later.
                 bool not_yet = bytes.error().code == swarm::make_error_code(swarm::errc::session_error);
                 return Response::error(not_yet ? 409 : status_for(bytes.error()), bytes.error());
               }
               return Response{200, {{"torrent", base::base64_encode(*bytes)}}, {}};
             }));

  router.add("GET", "/api/v1/transfers/{id}/peers",
             sync([&node](const Request& req) { return from(node.peers(req.params.at("id"))); }));

  router.add("PUT", "/api/v1/transfers/{id}/files", sync([&node](const Request& req) {
               auto body = req.json_body();
               if (!body) return bad(body.error());
               if (!body->is_object())
                 return Response::error(400, "bad_request", "body must be a JSON object");
               auto wanted = field<std::vector<int>>(*body, "wanted", {});
               if (!wanted) return bad(wanted.error());
               if (!body->contains("wanted"))
                 return Response::error(400, "bad_request", "'wanted' (file indices) is required");
               auto r = node.select_files(req.params.at("id"), *wanted);
               // session_error here means a magnet whose file list has not arrived yet: try again later.
               if (!r && r.error().code == swarm::make_error_code(swarm::errc::session_error))
                 return Response::error(409, r.error());
               return from(r);
             }));

  router.add("GET", "/api/v1/transfers/{id}/qr.svg", sync([&node](const Request& req) {
               auto shown = node.show(req.params.at("id"));
               if (!shown) return Response::error(status_for(shown.error()), shown.error());
               auto svg = qr_svg((*shown)["magnet"].get<std::string>());
               if (!svg) return Response::error(500, svg.error());
               Response r;
               r.content_type = "image/svg+xml";
               r.raw_body = std::move(*svg);
               return r;
             }));

  router.add("POST", "/api/v1/uploads", sync([uploads = ctx.uploads](const Request&) {
               if (!uploads) return Response::error(404, "not_found", "uploads are not enabled");
               auto id = uploads->create();
               if (!id) return Response::error(500, id.error());
               return Response{201, {{"id", *id}}, {}};
             }));

  router.add("POST", "/api/v1/uploads/{id}/share", sync([&node, uploads = ctx.uploads](const Request& req) {
               if (!uploads) return Response::error(404, "not_found", "uploads are not enabled");
               auto format = std::string("hybrid");
               auto name = std::string();  // the folder several loose files are shared in (uploads.hpp)
               if (!req.body.empty()) {
                 auto body = req.json_body();
                 if (!body) return bad(body.error());
                 auto f = body->is_object() ? field<std::string>(*body, "format", "hybrid")
                                            : Result<std::string>("hybrid");
                 if (!f) return bad(f.error());
                 format = *f;
                 auto n = body->is_object() ? field<std::string>(*body, "name", "") : Result<std::string>("");
                 if (!n) return bad(n.error());
                 name = *n;
               }
               auto path = uploads->share_path(req.params.at("id"), name);
               if (!path)
                 return Response::error(path.error().code == base::errc::not_found ? 404 : 400, path.error());
               bool ok = false;
               app::ShareRequest share{path->string(), swarm::parse_format(format, &ok), {}, {}};
               if (!ok) return Response::error(400, "bad_request", "'format' must be v1, v2 or hybrid");
               return from(node.share(share), 201);
             }));

  router.add("POST", "/api/v1/transfers/{id}/pause",
             sync([&node](const Request& req) { return from(node.pause(req.params.at("id"))); }));
  router.add("POST", "/api/v1/transfers/{id}/resume",
             sync([&node](const Request& req) { return from(node.resume(req.params.at("id"))); }));

  router.add("GET", "/api/v1/blocklist", sync([&node](const Request&) {
               return Response{200, node.blocklist(), {}};
             }));

  router.add("POST", "/api/v1/blocklist", sync([&node](const Request& req) {
               auto body = req.json_body();
               if (!body) return bad(body.error());
               if (!body->is_object())
                 return Response::error(400, "bad_request", "body must be a JSON object");
               auto kind = field<std::string>(*body, "kind", "");
               auto value = field<std::string>(*body, "value", "");
               auto reason = field<std::string>(*body, "reason", "");
               for (const auto* r : {&kind, &value, &reason}) {
                 if (!*r) return bad(r->error());
               }
               return from(node.block(*kind, *value, *reason), 201);
             }));

  router.add("POST", "/api/v1/blocklist/reload",
             sync([&node](const Request&) { return from(node.reload_ip_filter()); }));

  router.add("DELETE", "/api/v1/blocklist/{kind}/{value}", sync([&node](const Request& req) {
               auto r = node.unblock(req.params.at("kind"), req.params.at("value"));
               if (!r && r.error().code == base::make_error_code(base::errc::not_found))
                 return Response::error(404, r.error());
               return from(r);
             }));

  router.add("DELETE", "/api/v1/transfers/{id}", sync([&node](const Request& req) {
               auto it = req.query.find("delete_data");
               bool delete_data = it != req.query.end() && (it->second == "true" || it->second == "1");
               return from(node.remove(req.params.at("id"), delete_data));
             }));

  add_safety_routes(router, ctx);
  add_messaging_routes(router, ctx);
}

}  // namespace kith::api
