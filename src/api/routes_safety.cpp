// /api/v1/quarantine and /api/v1/reports (docs/api.md).
#include "api/detail/route_helpers.hpp"
#include "api/routes.hpp"

namespace kith::api {

void add_safety_routes(Router& router, RouteContext ctx) {
  app::Node& node = ctx.node;
  using detail::bad;
  using detail::from;

  router.add("GET", "/api/v1/quarantine", sync([&node](const Request& req) {
               auto it = req.query.find("all");
               bool all = it != req.query.end() && (it->second == "true" || it->second == "1");
               return Response{200, node.quarantine_list(all), {}};
             }));
  router.add("GET", "/api/v1/quarantine/{id}",
             sync([&node](const Request& req) { return from(node.quarantine_show(req.params.at("id"))); }));
  router.add("POST", "/api/v1/quarantine/{id}/release", sync([&node](const Request& req) {
               return from(node.quarantine_release(req.params.at("id")));
             }));
  router.add("DELETE", "/api/v1/quarantine/{id}",
             sync([&node](const Request& req) { return from(node.quarantine_delete(req.params.at("id"))); }));

  router.add("GET", "/api/v1/reports", sync([&node](const Request&) {
               return Response{200, node.reports(), {}};
             }));
  router.add("POST", "/api/v1/reports", sync([&node](const Request& req) {
               auto body = req.json_body();
               if (!body) return bad(body.error());
               if (!body->is_object())
                 return Response::error(400, "bad_request", "body must be a JSON object");
               auto id = detail::field<std::string>(*body, "id", "");
               auto reason = detail::field<std::string>(*body, "reason", "");
               if (!id) return bad(id.error());
               if (!reason) return bad(reason.error());
               if (id->empty() || reason->empty()) {
                 return Response::error(400, "bad_request",
                                        "'id' (quarantine item or transfer) and 'reason' are required");
               }
               return from(node.report(*id, *reason), 201);
             }));
}

}  // namespace kith::api
